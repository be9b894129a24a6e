//! The end of a process: its thread frees what the process holds, then
//! leaves a zombie for the parent. When init ends, the machine powers off
//! (after the hook set with [`before_power_off`], if any).

use alloc::sync::Arc;

use crate::process::{INIT_PID, Life, Process};

/// Frees what an exiting process holds and leaves the zombie; called by
/// its thread's goroutine once it left the process's address space.
pub fn finish(process: &Arc<Process>) {
    release(process);
    let (parent, adopter) = process.become_zombie();
    if let Some(init) = adopter {
        init.child_events.wake_all();
    }
    if let Some(parent) = parent {
        crate::signal::send(&parent, abi::flags::signal::SIGCHLD);
        parent.child_events.wake_all();
    }
    if process.pid == INIT_PID {
        init_ended(process);
    }
}

/// Undoes a `fork` whose child could not start: frees what the child
/// holds and takes it out of the process tree, leaving no zombie.
pub fn abandon(child: &Process) {
    release(child);
    crate::process::forget_thread(child.pid);
    drop(child.leave_tree());
}

/// Closes a process's files and frees its memory.
fn release(process: &Process) {
    let files = process.private_state().take_files();
    drop(files);
    let vm = process.vm.lock().take();
    drop(vm);
    crate::oom::released();
}

/// What runs before the power-off.
static POWER_OFF_HOOK: spin::Once<fn()> = spin::Once::new();

/// Sets what the kernel does before it powers off, when init ends or
/// calls `reboot(RB_POWER_OFF)` (the in-kernel benchmarks); only the
/// first call counts.
pub fn before_power_off(hook: fn()) {
    POWER_OFF_HOOK.call_once(|| hook);
}

/// Runs the power-off hook, then powers the machine off.
pub(crate) fn power_off() -> ! {
    if let Some(hook) = POWER_OFF_HOOK.get() {
        hook();
    }
    shim::power::power_off()
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
    power_off()
}
