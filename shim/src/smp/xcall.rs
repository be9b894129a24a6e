//! Cross-CPU calls: run a function on every online CPU and wait until each
//! has run it (Linux's `on_each_cpu`). TLB shootdowns are built on this.
//!
//! One call is in flight at a time. The initiator publishes the function
//! and a bit per target CPU, sends each an IPI on [`CALL_VECTOR`], runs the
//! function itself, and spins until every target has cleared its bit.
//! A target runs the function in its interrupt handler — or earlier, if it
//! is itself spinning to start a call of its own: waiting CPUs serve the
//! pending call, so two CPUs calling at once cannot wait for each other.
//!
//! The one way to deadlock would be a target spinning, interrupts masked,
//! on a lock the initiator holds. So a call refuses to start while the
//! calling CPU holds any [`crate::irq::IrqMutex`] (every lock spun on with
//! interrupts masked is one); the caller drops its locks first.
//!
//! [`CALL_VECTOR`]: crate::trap::CALL_VECTOR

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::irq::IrqGuard;
use crate::percpu;

/// A function run on every CPU, with two arguments.
pub type CallFn = fn(u64, u64);

static BUSY: AtomicBool = AtomicBool::new(false);
static FUNCTION: AtomicUsize = AtomicUsize::new(0);
static ARGS: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];
/// CPUs that have not yet run the current call (bit = CPU index).
static PENDING: AtomicU64 = AtomicU64::new(0);

/// Runs `f(a, b)` on every online CPU — this one included, in the caller's
/// context, the others in an interrupt handler — and returns when all have.
/// `f` runs with interrupts masked and must not block or allocate.
///
/// # Panics
/// If the caller holds an [`crate::irq::IrqMutex`] (see the module doc).
pub fn on_each_cpu(f: CallFn, a: u64, b: u64) {
    assert!(
        percpu::irq_locks_held() == 0,
        "cross-CPU call while holding {} interrupt-masking lock(s)",
        percpu::irq_locks_held()
    );
    let _irq = IrqGuard::new();
    while BUSY.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        serve();
        core::hint::spin_loop();
    }
    FUNCTION.store(f as usize, Ordering::Relaxed);
    ARGS[0].store(a, Ordering::Relaxed);
    ARGS[1].store(b, Ordering::Relaxed);
    let targets = super::online_mask() & !(1 << percpu::index());
    PENDING.store(targets, Ordering::SeqCst);
    let mut rest = targets;
    while rest != 0 {
        let cpu = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        crate::apic::send_ipi(cpu, crate::trap::CALL_VECTOR);
    }
    f(a, b);
    while PENDING.load(Ordering::Acquire) != 0 {
        core::hint::spin_loop();
    }
    BUSY.store(false, Ordering::Release);
}

/// Runs the pending call on this CPU if it is one of the targets (from the
/// IPI handler, and from CPUs waiting to start a call).
pub(crate) fn serve() {
    let bit = 1u64 << percpu::index();
    if PENDING.load(Ordering::Acquire) & bit == 0 {
        return;
    }
    let function = FUNCTION.load(Ordering::Relaxed);
    // SAFETY: `on_each_cpu` stored a `CallFn` before setting our bit, and
    // changes it only after every bit is clear (the Acquire load above
    // orders this read after that store).
    let function = unsafe { core::mem::transmute::<usize, CallFn>(function) };
    function(ARGS[0].load(Ordering::Relaxed), ARGS[1].load(Ordering::Relaxed));
    PENDING.fetch_and(!bit, Ordering::Release);
}

#[cfg(feature = "ktest")]
mod ktests {
    use core::sync::atomic::{AtomicU64, Ordering};

    use crate::ktest;

    static RAN_ON: AtomicU64 = AtomicU64::new(0);

    fn mark(value: u64, _: u64) {
        assert!(!crate::irq::enabled(), "cross-CPU calls run with interrupts masked");
        RAN_ON.fetch_or(1 << crate::percpu::index(), Ordering::SeqCst);
        core::hint::black_box(value);
    }

    ktest! {
        fn cross_cpu_call_runs_on_every_online_cpu() {
            for _ in 0..50 {
                RAN_ON.store(0, Ordering::SeqCst);
                super::on_each_cpu(mark, 7, 0);
                assert_eq!(RAN_ON.load(Ordering::SeqCst), super::super::online_mask());
            }
        }
    }
}
