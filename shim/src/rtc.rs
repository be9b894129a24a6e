//! The wall clock: the CMOS real-time clock, read once at boot. The
//! realtime clock is that reading plus the monotonic clock since.

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::instructions::port::Port;

/// Unix time (s) at kernel entry.
static BOOT_UNIX_SECONDS: AtomicU64 = AtomicU64::new(0);

fn cmos(register: u8) -> u8 {
    // SAFETY: ports 0x70/0x71 are the CMOS index/data pair on every PC
    // (QEMU q35 and pc); selecting an RTC register and reading it has no
    // other effect. NMIs stay enabled (bit 7 clear).
    unsafe {
        Port::<u8>::new(0x70).write(register);
        Port::<u8>::new(0x71).read()
    }
}

/// Seconds, minutes, hours, day, month, year (two digits) and century.
fn snapshot() -> [u8; 7] {
    while cmos(0x0a) & 0x80 != 0 {
        core::hint::spin_loop();
    }
    [cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07), cmos(0x08), cmos(0x09), cmos(0x32)]
}

/// Days from 1970-01-01 to `year`-`month`-`day` (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Reads the RTC (twice, until two readings agree, as the update may tick
/// in between). Called once by `shim::init`.
pub(crate) fn init() {
    let mut reading = snapshot();
    loop {
        let again = snapshot();
        if again == reading {
            break;
        }
        reading = again;
    }
    let status_b = cmos(0x0b);
    let bcd = |v: u8| if status_b & 0x04 == 0 { (v & 0x0f) + (v >> 4) * 10 } else { v };
    let [second, minute, hour_raw, day, month, year, century] = reading;
    let pm = status_b & 0x02 == 0 && hour_raw & 0x80 != 0;
    let hour = (bcd(hour_raw & 0x7f) % 12) as u64 + if pm { 12 } else { 0 };
    let hour = if status_b & 0x02 != 0 { bcd(hour_raw) as u64 } else { hour };
    let century = match bcd(century) {
        c @ 19..=21 => c as i64,
        _ => 20,
    };
    let days = days_from_civil(century * 100 + bcd(year) as i64, bcd(month) as i64, bcd(day) as i64);
    let seconds = days as u64 * 86_400 + hour * 3600 + bcd(minute) as u64 * 60 + bcd(second) as u64;
    let since_boot = crate::time::now_ns() / 1_000_000_000;
    BOOT_UNIX_SECONDS.store(seconds.saturating_sub(since_boot), Ordering::Relaxed);
}

/// Nanoseconds since the Unix epoch.
pub fn realtime_ns() -> u64 {
    BOOT_UNIX_SECONDS.load(Ordering::Relaxed) * 1_000_000_000 + crate::time::now_ns()
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates_become_unix_days() {
        assert_eq!(super::days_from_civil(1970, 1, 1), 0);
        assert_eq!(super::days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(super::days_from_civil(2026, 1, 1), 20_454);
    }
}
