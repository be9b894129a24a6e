//! A user thread's goroutine (Biscuit's shape): it runs the thread in user
//! mode until it traps, handles the trap — a system call, a fault, an
//! interrupt — acts on pending signals, and goes back, until the thread or
//! its process exits. The last thread out ends the process.

use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use abi::errno::ENOMEM;
use abi::flags::signal::{SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
use runtime::sched::{self, Builder};
use shim::user::{self, Exit};
use vm::Access;

use crate::process;
use crate::signal;
use crate::syscall;
use crate::thread::Thread;

/// Starts the goroutine running `thread` from the registers its state
/// holds.
pub fn spawn(thread: Arc<Thread>) -> fs::KResult<()> {
    let name = format!("pid {}", thread.tid);
    let started = Arc::clone(&thread);
    if Builder::new().name(name).spawn(move || run(started)).is_err() {
        process::forget_thread(thread.tid);
        thread.process.thread_ended.wake_all();
        return Err(abi::errno::EAGAIN);
    }
    Ok(())
}

fn run(thread: Arc<Thread>) {
    thread.interrupter.call_once(sched::interrupter);
    let mut regs = thread.state.with(|kept| kept.start.take()).unwrap_or_default();
    let process = Arc::clone(&thread.process);
    process::enter(&process);
    if let Some(vm) = process.vm.lock().as_ref() {
        shim::task::set_address_space(Some(vm.space()));
    }
    while !thread.exiting() {
        let exit = {
            let _pin = sched::pin();
            user::run(&mut regs)
        };
        let interrupted = match exit {
            Exit::Syscall => syscall::handle(&thread, &mut regs),
            Exit::Exception { vector, error_code, address } => {
                fault(&thread, vector, error_code, address);
                None
            }
            Exit::Interrupt => None,
        };
        sched::clear_interrupt();
        if !thread.exiting() {
            signal::deliver(&thread, &mut regs, interrupted);
        }
    }
    end(&thread);
}

/// The thread is done: it leaves the process (waking a joiner through
/// `clear_child_tid`); the last one out ends the process.
fn end(thread: &Arc<Thread>) {
    let process = &thread.process;
    let clear = *thread.clear_child_tid.lock();
    if clear != 0 && !process.exiting() {
        // Best effort, as on Linux: a bad address is ignored.
        let _ = crate::uaccess::write_value(process, clear, &0u32);
        crate::futex::wake(process, clear, 1);
    }
    shim::task::set_address_space(None);
    let last = process::forget_thread(thread.tid) == 0;
    process.thread_ended.wake_all();
    process::leave();
    if last {
        // A process whose last thread called plain `exit` exits with it.
        process.request_exit(thread.exit_status.load(Ordering::Relaxed));
        crate::exit::finish(process);
    }
}

/// A CPU exception in user mode: a page fault the VM can satisfy is
/// retried; anything else is a signal the thread caused.
fn fault(thread: &Thread, vector: u8, error_code: u64, address: u64) {
    const PAGE_FAULT: u8 = 14;
    let process = &thread.process;
    let signal = match vector {
        PAGE_FAULT => {
            let access = match error_code {
                e if e & 0x10 != 0 => Access::Exec,
                e if e & 0x2 != 0 => Access::Write,
                _ => Access::Read,
            };
            let result = process.vm.lock().as_mut().map(|vm| vm.fault(address, access));
            match result {
                Some(Ok(())) => return,
                Some(Err(ENOMEM)) => {
                    // No frame for user memory: free some, then the access
                    // is retried (or this thread dies, if it was chosen).
                    crate::oom::reclaim(thread);
                    return;
                }
                _ => SIGSEGV,
            }
        }
        0 | 16 | 19 => SIGFPE,
        1 | 3 => SIGTRAP,
        6 => SIGILL,
        17 => SIGBUS,
        _ => SIGSEGV,
    };
    log::debug!("pid {}: exception {vector} (error {error_code:#x}) at {address:#x}: signal {signal}", thread.tid);
    signal::force(thread, signal);
}
