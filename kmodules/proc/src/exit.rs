//! The end of a process: its thread frees what the process holds, then
//! leaves a zombie for the parent. When init ends, the machine powers off.

use alloc::sync::Arc;

use crate::process::{INIT_PID, Life, Process};

/// Frees what an exiting process holds and leaves the zombie; called by
/// its thread's goroutine once it left the process's address space (or by
/// `fork` for a child whose goroutine could not start).
pub fn finish(process: &Arc<Process>) {
    let files = process.files.lock().take_all();
    drop(files);
    let vm = process.vm.lock().take();
    drop(vm);
    process.become_zombie();
    if process.pid == INIT_PID {
        init_ended(process);
    }
}

/// Reports how init ended (xtask's `--init` reads this line) and powers
/// the machine off.
fn init_ended(process: &Process) -> ! {
    match process.life() {
        Life::Zombie(status) if status & 0x7f == 0 => {
            shim::println!("hardtack: init exited with status {}", (status >> 8) & 0xff)
        }
        Life::Zombie(status) => shim::println!("hardtack: init killed by signal {}", status & 0x7f),
        other => shim::println!("hardtack: init ended in state {other:?}"),
    }
    shim::power::power_off()
}
