//! The Linux x86_64 system call table: decode the registers, call the
//! handler, put the result (or `-errno`) in `rax`.
//!
//! Handlers live by subject: files, paths, memory, processes, signals,
//! identity, and the rest (time, system); each subject declares one table line
//! per call (see `table`). A number with no line returns `ENOSYS`, logged
//! once per number with its Linux name.

mod admission;
mod attributes;
mod files;
mod identity;
mod memory;
mod misc;
mod paths;
mod processes;
mod signals;
mod table;

pub use signals::group;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::errno::{EINTR, ENOSYS};
use abi::nr;
use fs::KResult;
use shim::user::UserRegs;

use crate::process::Process;
use crate::thread::Thread;
use table::Handler;

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
    let result = admission::admit(number).and_then(|()| dispatch(&mut ctx, number));
    regs.rax = match result {
        Ok(value) => value,
        Err(errno) => errno.to_return(),
    };
    (result == Err(EINTR)).then_some(number)
}

/// Every subject's handlers, indexed by number.
static TABLE: [Option<Handler>; table::SIZE] = table::gather(&[
    files::TABLE,
    paths::TABLE,
    memory::TABLE,
    processes::TABLE,
    signals::TABLE,
    identity::TABLE,
    attributes::TABLE,
    misc::TABLE,
]);

fn dispatch(ctx: &mut Ctx<'_>, number: u64) -> KResult<u64> {
    match usize::try_from(number).ok().and_then(|n| TABLE.get(n)).copied().flatten() {
        Some(handler) => handler(ctx),
        None => unknown(number),
    }
}

/// Numbers already reported as unknown: one bit each below
/// `table::SIZE`, and one last bit for all the numbers above (so a program
/// cannot flood the log).
static REPORTED: [AtomicU64; table::SIZE / 64 + 1] = [const { AtomicU64::new(0) }; table::SIZE / 64 + 1];

fn unknown(number: u64) -> KResult<u64> {
    let bit = number.min(table::SIZE as u64);
    let mask = 1 << (bit % 64);
    let first = REPORTED[bit as usize / 64].fetch_or(mask, Ordering::Relaxed) & mask == 0;
    if first {
        log::warn!("unsupported system call {number} ({}): ENOSYS", nr::name(number).unwrap_or("not a Linux call"));
    }
    Err(ENOSYS)
}
