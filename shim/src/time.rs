//! Time: the TSC, calibrated once against the PIT, as a nanosecond monotonic
//! clock since boot.
//!
//! Calibration gates PIT channel 2 for [`CALIBRATION_MS`] and counts TSC
//! ticks meanwhile. Under QEMU TCG the TSC and PIT both follow QEMU's virtual
//! clock (with `-icount`, guest instructions), so the clock is consistent
//! within a run; across runs only `-icount` makes it deterministic.

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::instructions::port::Port;

/// PIT input clock, Hz.
const PIT_HZ: u64 = 1_193_182;
/// Length of the calibration window.
const CALIBRATION_MS: u64 = 50;

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// ns = ticks * MULT >> 32.
static NS_MULT: AtomicU64 = AtomicU64::new(0);

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC only reads a counter (CR4.TSD is clear in the kernel).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Calibrates the TSC against the PIT. The clock's zero is the start of
/// this call, i.e. (almost) kernel entry; it reads 0 until calibration ends.
pub(crate) fn init() {
    let start = rdtsc();
    let hz = measure_tsc_hz();
    TSC_HZ.store(hz, Ordering::Relaxed);
    NS_MULT.store(((1_000_000_000u128 << 32) / hz as u128) as u64, Ordering::Relaxed);
    TSC_AT_BOOT.store(start, Ordering::Relaxed);
}

/// Calibrated TSC frequency (0 before [`init`]).
pub(crate) fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Converts TSC ticks to nanoseconds.
pub(crate) fn ticks_to_ns(ticks: u64) -> u64 {
    ((ticks as u128 * NS_MULT.load(Ordering::Relaxed) as u128) >> 32) as u64
}

/// Nanoseconds since kernel entry (0 until [`init`] has calibrated the clock).
pub fn now_ns() -> u64 {
    let boot = TSC_AT_BOOT.load(Ordering::Relaxed);
    if boot == 0 {
        return 0;
    }
    ticks_to_ns(rdtsc().saturating_sub(boot))
}

/// Busy-waits for at least `ns` nanoseconds.
pub(crate) fn spin_for_ns(ns: u64) {
    let end = now_ns().saturating_add(ns);
    while now_ns() < end {
        core::hint::spin_loop();
    }
}

/// Counts TSC ticks over a PIT channel 2 one-shot of `CALIBRATION_MS`.
fn measure_tsc_hz() -> u64 {
    let count = PIT_HZ * CALIBRATION_MS / 1000;
    let mut gate = Port::<u8>::new(0x61);
    let mut command = Port::<u8>::new(0x43);
    let mut channel2 = Port::<u8>::new(0x42);
    // SAFETY: ports 0x42/0x43/0x61 are the PIT and the PC speaker gate; we use
    // channel 2 with the speaker output disabled, which nothing else uses.
    unsafe {
        let saved = gate.read();
        gate.write((saved & !0x02) | 0x01); // gate on, speaker off
        command.write(0b1011_0000); // channel 2, lobyte/hibyte, mode 0, binary
        channel2.write(count as u8);
        channel2.write((count >> 8) as u8);
        // Restart the count: drop and raise the gate.
        let level = gate.read();
        gate.write(level & !0x01);
        gate.write(level | 0x01);
        let start = rdtsc();
        while gate.read() & 0x20 == 0 {
            core::hint::spin_loop();
        }
        let end = rdtsc();
        gate.write(saved);
        (end - start) * 1000 / CALIBRATION_MS
    }
}
