//! Signal system calls: actions, the blocked mask, sending, returning
//! from a handler, and waiting for a signal.

use alloc::sync::Arc;

use abi::errno::{EINTR, EINVAL, EPERM, ESRCH};
use abi::flags::signal::{SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGKILL, SIGSTOP};
use fs::KResult;

use super::Ctx;
use super::table::syscalls;
use crate::creds::Creds;
use crate::process::{self, Process};
use crate::signal::{self, NSIG};
use crate::sigstate::{Action, SigSet};
use crate::thread::Thread;
use crate::uaccess;

syscalls! {
    RT_SIGACTION => sigaction,
    RT_SIGPROCMASK => sigprocmask,
    RT_SIGRETURN => |c| {
        if signal::sigreturn(c.thread, c.regs).is_err() {
            signal::force(c.thread, abi::flags::signal::SIGSEGV);
        }
        Ok(c.regs.rax)
    },
    KILL => |c| kill(c.process, c.int(0), c.arg(1) as u32),
    TKILL => |c| tkill(c.process, None, c.int(0), c.arg(1) as u32),
    TGKILL => |c| tkill(c.process, Some(c.int(0)), c.int(1), c.arg(2) as u32),
    SIGALTSTACK => sigaltstack,
    RT_SIGSUSPEND => |c| {
        let mask: SigSet = uaccess::read_value(c.process, c.arg(0))?;
        c.thread.signals.suspend_with(mask);
        wait_for_signal(c.thread);
        Err(EINTR)
    },
    RT_SIGPENDING => sigpending,
    RT_SIGTIMEDWAIT => sigtimedwait,
    PAUSE => |c| {
        wait_for_signal(c.thread);
        Err(EINTR)
    },
}

fn sigprocmask(ctx: &mut Ctx<'_>) -> KResult<u64> {
    if ctx.arg(3) != 8 {
        return Err(EINVAL);
    }
    let signals = &ctx.thread.signals;
    let old = signals.mask();
    if ctx.arg(1) != 0 {
        let set: SigSet = uaccess::read_value(ctx.process, ctx.arg(1))?;
        let new = match ctx.arg(0) as u32 {
            SIG_BLOCK => old | set,
            SIG_UNBLOCK => old & !set,
            SIG_SETMASK => set,
            _ => return Err(EINVAL),
        };
        signals.set_mask(new);
    }
    if ctx.arg(2) != 0 {
        uaccess::write_value(ctx.process, ctx.arg(2), &old)?;
    }
    Ok(0)
}

fn sigaltstack(ctx: &mut Ctx<'_>) -> KResult<u64> {
    if ctx.arg(1) != 0 {
        // "Not on an alternate stack; none set": ss_flags = SS_DISABLE.
        let disabled: [u64; 3] = [0, 2, 0];
        for (i, word) in disabled.iter().enumerate() {
            uaccess::write_value(ctx.process, ctx.arg(1) + 8 * i as u64, word)?;
        }
    }
    Ok(0)
}

fn sigpending(ctx: &mut Ctx<'_>) -> KResult<u64> {
    if ctx.arg(1) != 8 {
        return Err(EINVAL);
    }
    let signals = &ctx.thread.signals;
    let pending = signals.pending() & signals.mask();
    uaccess::write_value(ctx.process, ctx.arg(0), &pending).map(|()| 0)
}

fn sigtimedwait(ctx: &mut Ctx<'_>) -> KResult<u64> {
    if ctx.arg(3) != 8 {
        return Err(EINVAL);
    }
    let set: SigSet = uaccess::read_value(ctx.process, ctx.arg(0))?;
    let deadline = uaccess::read_deadline(ctx.process, ctx.arg(2))?;
    let sig = signal::wait_for(ctx.thread, set, deadline)?;
    if ctx.arg(1) != 0 {
        let mut info = [0u8; 128];
        info[0..4].copy_from_slice(&sig.to_le_bytes());
        uaccess::write(ctx.process, ctx.arg(1), &info)?;
    }
    Ok(sig as u64)
}

fn wait_for_signal(thread: &Thread) {
    while !thread.signals.deliverable() && !thread.exiting() {
        if runtime::sched::sleep_until_interruptible(u64::MAX).is_err() {
            runtime::sched::clear_interrupt();
        }
    }
}

fn sigaction(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let me = ctx.process;
    let (sig, new, old, size) = (ctx.arg(0) as u32, ctx.arg(1), ctx.arg(2), ctx.arg(3));
    if size != 8 || sig == 0 || sig > NSIG {
        return Err(EINVAL);
    }
    if new != 0 && (sig == SIGKILL || sig == SIGSTOP) {
        return Err(EINVAL);
    }
    let previous = me.action(sig);
    if new != 0 {
        let mut read = [0u64; 4];
        for (i, word) in read.iter_mut().enumerate() {
            *word = uaccess::read_value(me, new + 8 * i as u64)?;
        }
        signal::set_action(ctx.thread, sig, Action::from_words(read));
    }
    if old != 0 {
        for (i, word) in previous.to_words().iter().enumerate() {
            uaccess::write_value(me, old + 8 * i as u64, word)?;
        }
    }
    Ok(0)
}

/// Whether `me` (with credentials `creds`) may signal `target`: its own
/// process always, another as `Creds::may_signal` says.
fn may_signal(me: &Process, creds: &Creds, target: &Process, sig: u32) -> bool {
    target.pid == me.pid || creds.may_signal(&target.creds(), sig, target.sid() == me.sid())
}

/// `kill`: to a process (`pid > 0`), the caller's group (0), every
/// process but init (-1), or a group (`< -1`). Signal 0 only checks.
/// Only the targets the caller may signal get it: `EPERM` if there are
/// none (except for -1, which succeeds, as on Linux).
fn kill(me: &Arc<Process>, pid: i32, sig: u32) -> KResult<u64> {
    if sig > NSIG {
        return Err(EINVAL);
    }
    let targets: alloc::vec::Vec<Arc<Process>> = match pid {
        p if p > 0 => process::lookup(p).into_iter().collect(),
        0 => group(me.pgid()),
        -1 => process::all().into_iter().filter(|p| p.pid != process::INIT_PID && p.pid != me.pid).collect(),
        // -INT_MIN names no group (and must not overflow).
        p => p.checked_neg().map(group).unwrap_or_default(),
    };
    if targets.is_empty() {
        return Err(ESRCH);
    }
    let creds = me.creds();
    let targets: alloc::vec::Vec<Arc<Process>> =
        targets.into_iter().filter(|target| may_signal(me, &creds, target, sig)).collect();
    if targets.is_empty() && pid != -1 {
        return Err(EPERM);
    }
    if sig != 0 {
        // Zombies exist (for kill's purposes) but take no signals.
        for target in targets.iter().filter(|p| !matches!(p.life(), process::Life::Zombie(_))) {
            if target.pid == process::INIT_PID && sig == SIGKILL && me.pid != process::INIT_PID {
                return Err(EPERM);
            }
            signal::send_from(target, sig, me.pid);
        }
    }
    Ok(0)
}

/// `tkill`/`tgkill`: a signal to one thread (of process `tgid`, if given).
fn tkill(me: &Arc<Process>, tgid: Option<i32>, tid: i32, sig: u32) -> KResult<u64> {
    if sig > NSIG || tid <= 0 || tgid.is_some_and(|t| t <= 0) {
        return Err(EINVAL);
    }
    let thread = process::thread(tid).filter(|t| tgid.is_none_or(|g| t.process.pid == g)).ok_or(ESRCH)?;
    if !may_signal(me, &me.creds(), &thread.process, sig) {
        return Err(EPERM);
    }
    if sig != 0 {
        signal::send_to_thread(&thread, sig, me.pid);
    }
    Ok(0)
}

/// The live members of process group `pgid`.
pub fn group(pgid: i32) -> alloc::vec::Vec<Arc<Process>> {
    process::group(pgid)
}
