//! Timer-interrupt latency: how long after the deadline the local APIC
//! timer was programmed for its handler starts, in ns of the shim's clock.
//!
//! [`apic::set_oneshot_ns`](crate::apic::set_oneshot_ns) notes each CPU's
//! deadline; the timer handler, first thing, takes the difference. While a
//! measurement runs ([`start`] … [`stop`]) the differences go to a fixed
//! sample buffer, so recording never allocates and is safe in the handler.
//! A sample can be slightly negative: the deadline is computed from the
//! calibrated APIC rate, which is off by a few parts per million.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use crate::percpu::{self, MAX_CPUS};

/// Most samples one measurement keeps; later ones are counted, not kept.
pub(crate) const CAPACITY: usize = 1 << 15;

/// Each CPU's deadline of the next timer interrupt (ns since boot; 0 when
/// none).
static DEADLINES: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// A deadline armed while the previous one-shot's interrupt was already
/// pending: it becomes the CPU's deadline once that interrupt is taken.
static QUEUED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static RECORDING: AtomicBool = AtomicBool::new(false);
/// Samples taken in the current measurement (may exceed [`CAPACITY`]).
static TAKEN: AtomicUsize = AtomicUsize::new(0);
static SAMPLES: [AtomicI32; CAPACITY] = [const { AtomicI32::new(0) }; CAPACITY];

/// Notes that this CPU's timer will fire at `deadline_ns` (with interrupts
/// masked). If the previous one-shot had already expired and its interrupt
/// is pending (`stale_pending`), that interrupt comes first and is measured
/// against its own deadline; the new one waits its turn. (Measured against
/// the new deadline, it would look early.)
pub(crate) fn armed(deadline_ns: u64, stale_pending: bool) {
    let cpu = percpu::index();
    if stale_pending {
        QUEUED[cpu].store(deadline_ns, Ordering::Relaxed);
    } else {
        DEADLINES[cpu].store(deadline_ns, Ordering::Relaxed);
        QUEUED[cpu].store(0, Ordering::Relaxed);
    }
}

/// Notes that this CPU's timer was stopped.
pub(crate) fn disarmed() {
    let cpu = percpu::index();
    DEADLINES[cpu].store(0, Ordering::Relaxed);
    QUEUED[cpu].store(0, Ordering::Relaxed);
}

/// Called at the start of the timer handler: records the latency if a
/// measurement runs.
pub(crate) fn fired() {
    let now = crate::time::now_ns();
    let cpu = percpu::index();
    let deadline = DEADLINES[cpu].swap(QUEUED[cpu].swap(0, Ordering::Relaxed), Ordering::Relaxed);
    if deadline == 0 || !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    let late = (now as i64 - deadline as i64).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    let slot = TAKEN.fetch_add(1, Ordering::Relaxed);
    if let Some(sample) = SAMPLES.get(slot) {
        sample.store(late, Ordering::Relaxed);
    }
}

/// Starts a measurement, discarding the previous one's samples.
pub fn start() {
    RECORDING.store(false, Ordering::SeqCst);
    TAKEN.store(0, Ordering::SeqCst);
    RECORDING.store(true, Ordering::SeqCst);
}

/// Ends the measurement; returns how many timer interrupts it saw (only
/// the first [`CAPACITY`] are kept).
pub fn stop() -> usize {
    RECORDING.store(false, Ordering::SeqCst);
    TAKEN.load(Ordering::SeqCst)
}

/// The kept samples of the last measurement, in ns (call after [`stop`]).
pub fn samples() -> impl Iterator<Item = i32> {
    let kept = TAKEN.load(Ordering::SeqCst).min(CAPACITY);
    SAMPLES[..kept].iter().map(|sample| sample.load(Ordering::Relaxed))
}

#[cfg(feature = "ktest")]
mod ktests {
    use crate::ktest;

    ktest! {
        fn timer_interrupts_are_recorded_after_their_deadline() {
            super::start();
            for _ in 0..5 {
                // Wait for the interrupt itself: under a loaded host, QEMU
                // can deliver it much later than the deadline.
                let ticks = crate::apic::ticks();
                let give_up = crate::time::now_ns() + 2_000_000_000;
                crate::apic::set_oneshot_ns(200_000);
                while crate::apic::ticks() == ticks && crate::time::now_ns() < give_up {
                    core::hint::spin_loop();
                }
            }
            let taken = super::stop();
            assert!(taken >= 5, "saw {taken} timer interrupts");
            assert!(super::samples().all(|late| late > -10_000), "a timer interrupt came early");
        }
    }
}
