//! Processes on the Linux x86_64 ABI: one goroutine per user thread
//! (Biscuit's shape), ELF loading with the System V initial stack,
//! `fork`/`execve`/`exit`/`wait4`, signals, and the system call table
//! that ties the file system, pipes, the TTY and memory together.
//!
//! See docs/userspace.md for the supported calls.
#![cfg_attr(target_os = "none", no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

/// `log::warn!` the first time this line runs, and never again: a user
/// program that keeps asking for something unsupported cannot flood the
/// console.
macro_rules! warn_once {
    ($($arg:tt)*) => {{
        static SAID: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
        if !SAID.swap(true, core::sync::atomic::Ordering::Relaxed) {
            log::warn!($($arg)*);
        }
    }};
}

mod bounce;
mod creds;
mod elf;
mod exec;
mod exec_args;
mod exit;
mod family;
mod fdtable;
mod futex;
mod oom;
mod private;
mod process;
mod procfs;
mod random;
mod rlimit;
mod run;
mod signal;
mod sigstate;
mod stack;
mod syscall;
mod thread;
mod thread_state;
mod uaccess;

use alloc::sync::Arc;

use abi::flags::open::O_RDWR;
use fs::KResult;

use exec_args::ExecArgs;
use fdtable::{Fd, FdTable};
use private::{Private, PrivateState};
use process::Process;

pub use exit::before_power_off;
pub use process::INIT_PID;

/// Mounts `/proc` (process and system information, read by `ps` & co.).
pub fn mount_proc() -> KResult<()> {
    fs::mount_synthetic(b"/proc", Arc::new(procfs::ProcFs))
}

/// Starts init (pid 1): `path` with `argv` and a default environment,
/// with the console as descriptors 0, 1 and 2 and as its terminal. The
/// machine powers off when init ends (see [`before_power_off`]).
pub fn start_init(path: &[u8], argv: &[&[u8]]) -> KResult<()> {
    tty::set_signal_hook(signal_group);
    bounce::prime();
    let console = fs::open(&fs::Cred::ROOT, &fs::root(), b"/dev/console", O_RDWR, 0)?;
    let limits = rlimit::Limits::initial(family::max_tasks() as u64);
    let mut files = FdTable::new(limits.cur(abi::flags::rlimit::RLIMIT_NOFILE));
    let console = Fd { file: console, cloexec: false };
    for _ in 0..3 {
        files.insert(&console)?;
    }
    let envp: [&[u8]; 3] = [b"HOME=/", b"TERM=vt100", b"PATH=/bin:/sbin:/usr/bin:/usr/sbin"];
    let stack = limits.cur(abi::flags::rlimit::RLIMIT_STACK);
    let private = PrivateState::new(Private::new(files, fs::root(), argv.join(&0u8), limits))?;
    let args = ExecArgs::from_kernel(&private.heap(), argv, &envp)?;
    let image = exec::load(&private.heap(), &fs::root(), &creds::Creds::root(), path, &args, stack)?;
    let (init, thread) = Process::new(None, image.vm, private, sigstate::Signals::new(0), image.regs)?;
    tty::set_foreground(init.pgid());
    run::spawn(thread)
}

/// The TTY's hook: a signal for the foreground process group.
fn signal_group(pgrp: i32, sig: u32) {
    for process in syscall::group(pgrp) {
        signal::send(&process, sig);
    }
}
