//! The goroutine of a user thread (Biscuit's shape): it runs the thread in
//! user mode until it traps, handles the trap — a system call, a fault, an
//! interrupt — acts on pending signals, and goes back, until the process
//! exits.

use alloc::format;
use alloc::sync::Arc;

use abi::flags::signal::{SIGBUS, SIGFPE, SIGILL, SIGSEGV};

/// `SIGTRAP` (breakpoints and single steps).
const SIGTRAP: u32 = 5;
use runtime::sched::{self, Builder};
use shim::user::{self, Exit, UserRegs};
use vm::Access;

use crate::process::Process;
use crate::signal;
use crate::syscall;

/// Starts the goroutine running `process`'s thread from `regs`.
pub fn spawn(process: Arc<Process>, regs: UserRegs) -> fs::KResult<()> {
    let name = format!("pid {}", process.pid);
    Builder::new().name(name).spawn(move || run(process, regs)).map_err(|_| abi::errno::EAGAIN)?;
    Ok(())
}

fn run(process: Arc<Process>, mut regs: UserRegs) {
    process.set_interrupter(sched::interrupter());
    crate::process::enter(&process);
    if let Some(vm) = process.vm.lock().as_ref() {
        shim::task::set_address_space(Some(vm.space()));
    }
    while !process.exiting() {
        let exit = {
            let _pin = sched::pin();
            user::run(&mut regs)
        };
        let interrupted = match exit {
            Exit::Syscall => syscall::handle(&process, &mut regs),
            Exit::Exception { vector, error_code, address } => {
                fault(&process, vector, error_code, address);
                None
            }
            Exit::Interrupt => None,
        };
        sched::clear_interrupt();
        if !process.exiting() {
            signal::deliver(&process, &mut regs, interrupted);
        }
    }
    shim::task::set_address_space(None);
    crate::process::leave();
    crate::exit::finish(&process);
}

/// A CPU exception in user mode: a page fault the VM can satisfy is
/// retried; anything else is a signal the process caused.
fn fault(process: &Process, vector: u8, error_code: u64, address: u64) {
    const PAGE_FAULT: u8 = 14;
    let signal = match vector {
        PAGE_FAULT => {
            let access = match error_code {
                e if e & 0x10 != 0 => Access::Exec,
                e if e & 0x2 != 0 => Access::Write,
                _ => Access::Read,
            };
            let handled = process.vm.lock().as_mut().is_some_and(|vm| vm.fault(address, access).is_ok());
            if handled {
                return;
            }
            SIGSEGV
        }
        0 | 16 | 19 => SIGFPE,
        1 | 3 => SIGTRAP,
        6 => SIGILL,
        17 => SIGBUS,
        _ => SIGSEGV,
    };
    log::debug!("pid {}: exception {vector} (error {error_code:#x}) at {address:#x}: signal {signal}", process.pid);
    signal::force(process, signal);
}
