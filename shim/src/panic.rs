//! The kernel's panic handler and the common stop path for fatal faults:
//! the other CPUs are stopped (an NMI each, which they answer by halting
//! for good), one report is printed (message, CPU, symbolizable
//! backtrace), then the machine stops with a failure status.

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::trap::TrapFrame;

static PANICKING: AtomicBool = AtomicBool::new(false);
/// CPUs that answered the stop request.
static STOPPED: AtomicUsize = AtomicUsize::new(0);
/// How long the panicking CPU waits for the others to stop.
const STOP_WAIT_NS: u64 = 5_000_000_000;

/// Prepares the one report that may still be printed: masks interrupts,
/// makes sure only the first failing path reports, and stops the other
/// CPUs.
pub(crate) fn begin_report() {
    x86_64::instructions::interrupts::disable();
    if PANICKING.swap(true, Ordering::SeqCst) {
        // A second failure while reporting the first: stop quietly.
        stop_this_cpu();
    }
    crate::smp::stop_others();
    let others = crate::smp::online_count() - 1;
    let start = crate::time::now_ns();
    while STOPPED.load(Ordering::SeqCst) < others && crate::time::now_ns() - start < STOP_WAIT_NS {
        core::hint::spin_loop();
    }
    crate::console::break_lock_for_panic();
}

/// Whether a CPU is reporting a panic or fatal fault.
pub(crate) fn in_progress() -> bool {
    PANICKING.load(Ordering::SeqCst)
}

/// Halts this CPU for good, counted as stopped (the NMI handler's answer
/// to the panicking CPU's stop request).
pub(crate) fn stop_this_cpu() -> ! {
    STOPPED.fetch_add(1, Ordering::SeqCst);
    crate::power::halt_forever()
}

/// Ends a fatal path: says which CPUs were stopped, records a running
/// kernel test as failed, then exits QEMU with the failure status.
fn finish() -> ! {
    let others = crate::smp::online_count() - 1;
    if others > 0 {
        println!("    other CPUs stopped: {} of {others}", STOPPED.load(Ordering::SeqCst));
    }
    crate::ktest::report_current_failed();
    crate::power::exit_qemu(crate::power::EXIT_FAILURE)
}

/// Stops the machine after a fatal exception whose report was printed
/// (after [`begin_report`]).
pub(crate) fn stop_after_report(frame: &TrapFrame) -> ! {
    crate::backtrace::print_from(frame.rip, frame.rbp);
    finish()
}

#[cfg(all(target_os = "none", not(test)))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    begin_report();
    match crate::task::current_tag() {
        Some(task) => {
            println!("!!! KERNEL PANIC on CPU {} in task {task}: {}", crate::percpu::index(), info.message())
        }
        None => println!("!!! KERNEL PANIC on CPU {}: {}", crate::percpu::index(), info.message()),
    }
    if let Some(location) = info.location() {
        println!("    at {}:{}:{}", location.file(), location.line(), location.column());
    }
    crate::backtrace::print_here();
    finish()
}
