//! The Linux x86_64 system call table: decode the registers, call the
//! handler, put the result (or `-errno`) in `rax`.
//!
//! Handlers live by subject: files, paths, memory, processes, signals, and
//! the rest (time, identity, system). A number with no handler returns
//! `ENOSYS`, logged once per number.

mod files;
mod memory;
mod misc;
mod paths;
mod processes;
mod signals;

pub use signals::group;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::errno::{EINTR, ENOSYS};
use abi::nr;
use fs::KResult;
use shim::user::UserRegs;

use crate::process::Process;
use crate::thread::Thread;

/// What a handler sees: the calling thread, its process and registers.
pub struct Ctx<'a> {
    /// The calling thread.
    pub thread: &'a Arc<Thread>,
    /// Its process.
    pub process: &'a Arc<Process>,
    /// Its registers (`execve` and `rt_sigreturn` replace them).
    pub regs: &'a mut UserRegs,
}

impl Ctx<'_> {
    /// Argument `i` (0-based: rdi, rsi, rdx, r10, r8, r9).
    pub fn arg(&self, i: usize) -> u64 {
        let r = &self.regs;
        [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9][i]
    }

    /// Argument `i` as a C `int`.
    pub fn int(&self, i: usize) -> i32 {
        self.arg(i) as i32
    }
}

/// Handles the system call in `regs`; returns its number if it was
/// interrupted by a signal (`EINTR`), for a restart decision.
pub fn handle(thread: &Arc<Thread>, regs: &mut UserRegs) -> Option<u64> {
    let number = regs.rax;
    let mut ctx = Ctx { thread, process: &thread.process, regs };
    let result = dispatch(&mut ctx, number);
    regs.rax = match result {
        Ok(value) => value,
        Err(errno) => errno.to_return(),
    };
    (result == Err(EINTR)).then_some(number)
}

#[rustfmt::skip] // one line per subject reads better than one per number
fn dispatch(ctx: &mut Ctx<'_>, number: u64) -> KResult<u64> {
    use nr::*;
    match number {
        READ | WRITE | READV | WRITEV | PREAD64 | PWRITE64 | CLOSE | LSEEK | FSTAT | IOCTL | FCNTL | DUP | DUP2
        | DUP3 | PIPE | PIPE2 | GETDENTS64 | POLL | PPOLL | FTRUNCATE | FSYNC | FDATASYNC | FCHDIR | FCHMOD
        | SENDFILE => files::dispatch(ctx, number),
        OPEN | OPENAT | STAT | LSTAT | NEWFSTATAT | ACCESS | FACCESSAT | FACCESSAT2 | MKDIR | MKDIRAT | UNLINK
        | UNLINKAT | RMDIR | RENAME | RENAMEAT | RENAMEAT2 | READLINK | READLINKAT | SYMLINK | SYMLINKAT | LINK
        | LINKAT | CHDIR | GETCWD | CHMOD | FCHMODAT | TRUNCATE | UTIMENSAT | CHOWN | LCHOWN | FCHOWN | FCHOWNAT
        | MOUNT | UMOUNT2 => paths::dispatch(ctx, number),
        BRK | MMAP | MUNMAP | MPROTECT | MADVISE => memory::dispatch(ctx, number),
        FORK | VFORK | CLONE | EXECVE | EXIT | EXIT_GROUP | WAIT4 | GETPID | GETPPID | GETTID | SET_TID_ADDRESS
        | SETPGID | GETPGID | GETPGRP | SETSID | GETSID | ARCH_PRCTL | FUTEX => processes::dispatch(ctx, number),
        RT_SIGACTION | RT_SIGPROCMASK | RT_SIGRETURN | RT_SIGPENDING | RT_SIGTIMEDWAIT | RT_SIGSUSPEND | KILL
        | TKILL | TGKILL | SIGALTSTACK | PAUSE => signals::dispatch(ctx, number),
        _ => misc::dispatch(ctx, number).unwrap_or_else(|| unknown(number)),
    }
}

/// Numbers already reported as unknown (one bit each, for numbers < 512).
static REPORTED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

fn unknown(number: u64) -> KResult<u64> {
    let first = match REPORTED.get(number as usize / 64) {
        Some(word) => word.fetch_or(1 << (number % 64), Ordering::Relaxed) & (1 << (number % 64)) == 0,
        None => true,
    };
    if first {
        log::warn!("unsupported system call {number} ({}): ENOSYS", nr::name(number).unwrap_or("unknown"));
    }
    Err(ENOSYS)
}
