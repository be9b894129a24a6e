//! The kernel's panic handler and the common stop path for fatal faults:
//! one report (message, CPU, symbolizable backtrace), then the machine stops
//! with a failure status. Stopping the other CPUs (an NMI broadcast) arrives
//! with SMP; until then only the bootstrap CPU runs.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::trap::TrapFrame;

static PANICKING: AtomicBool = AtomicBool::new(false);

/// Prepares the one report that may still be printed: masks interrupts and
/// makes sure only the first failing path reports.
pub(crate) fn begin_report() {
    x86_64::instructions::interrupts::disable();
    if PANICKING.swap(true, Ordering::SeqCst) {
        // A second failure while reporting the first: stop quietly.
        crate::power::halt_forever();
    }
    crate::console::break_lock_for_panic();
}

/// Ends a fatal path: records a running kernel test as failed, then exits
/// QEMU with the failure status.
fn finish() -> ! {
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
            println!("!!! KERNEL PANIC on CPU {} in task {task}: {}", crate::apic::current_id(), info.message())
        }
        None => println!("!!! KERNEL PANIC on CPU {}: {}", crate::apic::current_id(), info.message()),
    }
    if let Some(location) = info.location() {
        println!("    at {}:{}:{}", location.file(), location.line(), location.column());
    }
    crate::backtrace::print_here();
    finish()
}
