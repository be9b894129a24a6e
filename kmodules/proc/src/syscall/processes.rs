//! Process and thread system calls: creation (`fork`, `clone` of a
//! process or a thread), `execve`, exit and wait, ids and groups, the
//! thread pointer, futexes.

use abi::errno::{EAGAIN, ECHILD, EINVAL, ENOMEM, ENOSYS, EPERM, ESRCH};
use abi::flags::arch_prctl::{ARCH_GET_FS, ARCH_SET_FS};
use abi::flags::clone::*;
use abi::flags::futex::{
    FUTEX_CLOCK_REALTIME, FUTEX_CMP_REQUEUE, FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_WAIT, FUTEX_WAIT_BITSET,
    FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP,
};
use abi::flags::rlimit::{RLIMIT_NPROC, RLIMIT_STACK};
use abi::flags::wait::WNOHANG;
use fs::KResult;
use shim::mem::aspace::USER_END;

use super::Ctx;
use super::table::syscalls;
use crate::exec_args::ExecArgs;
use crate::process::{self, Process};
use crate::{exec, run, uaccess};

syscalls! {
    FORK => |c| fork(c, 0, 0, 0, 0),
    VFORK => |c| fork(c, 0, 0, 0, 0),
    CLONE => clone,
    EXECVE => execve,
    EXIT => |c| {
        c.thread.request_exit((c.int(0) & 0xff) << 8);
        Ok(0)
    },
    EXIT_GROUP => |c| {
        c.process.request_exit((c.int(0) & 0xff) << 8);
        Ok(0)
    },
    WAIT4 => wait4,
    GETPID => |c| Ok(c.process.pid as u64),
    GETTID => |c| Ok(c.thread.tid as u64),
    GETPPID => |c| Ok(c.process.ppid() as u64),
    SET_TID_ADDRESS => |c| {
        *c.thread.clear_child_tid.lock() = c.arg(0);
        Ok(c.thread.tid as u64)
    },
    FUTEX => futex,
    SETPGID => |c| setpgid(c.process, c.int(0), c.int(1)),
    GETPGID => |c| Ok(target(c.process, c.int(0))?.pgid() as u64),
    GETPGRP => |c| Ok(c.process.pgid() as u64),
    GETSID => |c| Ok(target(c.process, c.int(0))?.sid() as u64),
    SETSID => |c| c.process.new_session().map(|()| c.process.pid as u64),
    ARCH_PRCTL => arch_prctl,
}

fn arch_prctl(ctx: &mut Ctx<'_>) -> KResult<u64> {
    match ctx.arg(0) {
        ARCH_SET_FS if ctx.arg(1) < USER_END => {
            ctx.regs.fs_base = ctx.arg(1);
            Ok(0)
        }
        ARCH_SET_FS => Err(EPERM),
        ARCH_GET_FS => uaccess::write_value(ctx.process, ctx.arg(1), &ctx.regs.fs_base).map(|()| 0),
        _ => Err(EINVAL),
    }
}

fn target(me: &alloc::sync::Arc<Process>, pid: i32) -> KResult<alloc::sync::Arc<Process>> {
    match pid {
        0 => Ok(alloc::sync::Arc::clone(me)),
        pid if pid > 0 => process::lookup(pid).ok_or(ESRCH),
        _ => Err(EINVAL),
    }
}

fn setpgid(me: &alloc::sync::Arc<Process>, pid: i32, pgid: i32) -> KResult<u64> {
    if pgid < 0 {
        return Err(EINVAL);
    }
    let who = target(me, pid)?;
    if who.pid != me.pid && who.ppid() != me.pid {
        return Err(ESRCH);
    }
    who.set_pgid(if pgid == 0 { who.pid } else { pgid });
    Ok(0)
}

fn clone(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let flags = ctx.arg(0);
    let (stack, parent_tid, child_tid, tls) = (ctx.arg(1), ctx.arg(2), ctx.arg(3), ctx.arg(4));
    let known = CSIGNAL
        | CLONE_VM
        | CLONE_FS
        | CLONE_FILES
        | CLONE_SIGHAND
        | CLONE_SYSVSEM
        | CLONE_DETACHED
        | CLONE_VFORK
        | CLONE_THREAD
        | CLONE_SETTLS
        | CLONE_PARENT_SETTID
        | CLONE_CHILD_CLEARTID
        | CLONE_CHILD_SETTID;
    if flags & !known != 0 {
        return Err(EINVAL);
    }
    let thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
    let new = if flags & CLONE_THREAD != 0 {
        // Threads share everything or nothing: other mixes (a process
        // sharing memory without being a thread) are not supported.
        if flags & thread_flags != thread_flags {
            return Err(EINVAL);
        }
        spawn_thread(ctx, flags, stack, tls, child_tid)?
    } else {
        if flags & (CLONE_FS | CLONE_FILES | CLONE_SIGHAND) != 0 || (flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0)
        {
            warn_once!(
                "pid {}: clone flags {flags:#x}: shared resources without a thread are not supported (said once)",
                ctx.process.pid
            );
            return Err(EINVAL);
        }
        fork(ctx, stack, if flags & CLONE_SETTLS != 0 { tls } else { 0 }, flags, child_tid)?
    };
    if flags & CLONE_PARENT_SETTID != 0 {
        uaccess::write_value(ctx.process, parent_tid, &(new as i32))?;
    }
    Ok(new)
}

/// A new thread of the caller's process, starting on `stack` with FS base
/// `tls` (if `CLONE_SETTLS`).
/// `RLIMIT_NPROC`: `EAGAIN` if the caller's real user already has as many
/// threads (across its processes) as the limit allows. Root is exempt, as
/// on Linux (it has `CAP_SYS_RESOURCE`).
fn check_nproc(ctx: &Ctx<'_>) -> KResult<()> {
    let creds = ctx.process.creds();
    if creds.privileged() {
        return Ok(());
    }
    let limit = ctx.process.limit(RLIMIT_NPROC);
    let user = creds.uid.real;
    let mut count = 0u64;
    for process in process::all() {
        if process.creds().uid.real == user {
            count += process.thread_count() as u64;
            if count >= limit {
                return Err(EAGAIN);
            }
        }
    }
    Ok(())
}

fn spawn_thread(ctx: &mut Ctx<'_>, flags: u64, stack: u64, tls: u64, child_tid: u64) -> KResult<u64> {
    check_nproc(ctx)?;
    let mut regs = ctx.regs.clone();
    regs.rax = 0;
    regs.rsp = stack;
    if flags & CLONE_SETTLS != 0 {
        regs.fs_base = tls;
    }
    let thread = ctx.process.new_thread(ctx.thread.signals.inherit(), regs)?;
    if flags & CLONE_CHILD_SETTID != 0
        && let Err(error) = uaccess::write_value(ctx.process, child_tid, &thread.tid)
    {
        process::forget_thread(thread.tid);
        return Err(error);
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        *thread.clear_child_tid.lock() = child_tid;
    }
    let tid = thread.tid;
    run::spawn(thread)?;
    Ok(tid as u64)
}

/// Creates a child with a copy of the caller's memory and descriptors;
/// it returns 0 from the call on `stack` (if not 0) with FS base `tls`
/// (if not 0).
fn fork(ctx: &mut Ctx<'_>, stack: u64, tls: u64, flags: u64, child_tid: u64) -> KResult<u64> {
    check_nproc(ctx)?;
    let me = ctx.process;
    let private = me.private_state().fork()?;
    let vm = me.vm.lock().as_mut().ok_or(ENOMEM)?.fork(&private.heap())?;
    let mut regs = ctx.regs.clone();
    regs.rax = 0;
    if stack != 0 {
        regs.rsp = stack;
    }
    if tls != 0 {
        regs.fs_base = tls;
    }
    let (child, child_thread) = process::Process::new(Some(me), vm, private, ctx.thread.signals.inherit(), regs)?;
    if flags & CLONE_CHILD_CLEARTID != 0 {
        *child_thread.clear_child_tid.lock() = child_tid;
    }
    let settid = || {
        let mut vm = child.vm.lock();
        let vm = vm.as_mut().ok_or(ENOMEM)?;
        vm.prefault(child_tid, 4, true)?;
        vm.write(child_tid, &child.pid.to_le_bytes())
    };
    let started = match flags & CLONE_CHILD_SETTID {
        0 => Ok(()),
        _ => settid(),
    };
    if let Err(error) = started.and_then(|()| run::spawn(child_thread)) {
        crate::exit::abandon(&child);
        return Err(error);
    }
    Ok(child.pid as u64)
}

fn execve(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let me = ctx.process;
    let heap = me.private_state().heap();
    let args = ExecArgs::read(&heap, me, ctx.arg(1), ctx.arg(2))?;
    let image = uaccess::with_path(me, ctx.arg(0), |path| {
        if path.is_empty() {
            return Err(abi::errno::ENOENT);
        }
        exec::load(&heap, &me.cwd(), &me.creds(), path, &args, me.limit(RLIMIT_STACK))
    })?;
    exec::end_other_threads(ctx.thread)?;
    exec::commit(ctx.thread, image, ctx.regs, &args);
    exec::done_replacing(ctx.thread);
    Ok(0)
}

fn wait4(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let me = ctx.process;
    let (target, status_addr, options, rusage) = (ctx.int(0), ctx.arg(1), ctx.arg(2) as u32, ctx.arg(3));
    if options & !(WNOHANG | abi::flags::wait::WUNTRACED | 0x8 | 0x4000_0000 | 0x8000_0000) != 0 {
        return Err(EINVAL);
    }
    let reaped = me.child_events.wait_interruptible(|| match me.reap(target) {
        Err(()) => Some(Err(ECHILD)),
        Ok(Some(found)) => Some(Ok(Some(found))),
        Ok(None) if options & WNOHANG != 0 => Some(Ok(None)),
        Ok(None) => None,
    });
    let Some((pid, status)) = reaped.map_err(|_| abi::errno::EINTR)?? else { return Ok(0) };
    if status_addr != 0 {
        uaccess::write_value(me, status_addr, &status)?;
    }
    if rusage != 0 {
        uaccess::write(me, rusage, &[0u8; 144])?;
    }
    Ok(pid as u64)
}

/// `futex`: `FUTEX_WAIT` (with an optional relative timeout),
/// `FUTEX_WAKE`, `FUTEX_REQUEUE` and `FUTEX_CMP_REQUEUE`, private or not
/// (all futexes are per process here).
fn futex(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let realtime = ctx.arg(1) as u32 & FUTEX_CLOCK_REALTIME != 0;
    let (addr, op, val) = (ctx.arg(0), ctx.arg(1) as u32 & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME), ctx.arg(2));
    if addr % 4 != 0 {
        return Err(EINVAL);
    }
    // Waiters do not keep their bitsets: a bitset wake wakes every waiter
    // of the word, which re-checks it (a spurious wake-up, which futex
    // users expect); only a zero bitset is refused, as on Linux.
    let bitset_ok = || if ctx.arg(5) as u32 == 0 { Err(EINVAL) } else { Ok(()) };
    match op {
        FUTEX_WAIT => {
            let deadline = uaccess::read_deadline(ctx.process, ctx.arg(3))?;
            crate::futex::wait(ctx.process, addr, val as u32, deadline)
        }
        FUTEX_WAIT_BITSET => {
            bitset_ok()?;
            let deadline = uaccess::read_absolute_deadline(ctx.process, ctx.arg(3), realtime)?;
            crate::futex::wait(ctx.process, addr, val as u32, deadline)
        }
        FUTEX_WAKE => Ok(crate::futex::wake(ctx.process, addr, val as u32)),
        FUTEX_WAKE_BITSET => bitset_ok().map(|()| crate::futex::wake(ctx.process, addr, val as u32)),
        FUTEX_WAKE_OP => {
            let (count2, addr2) = (ctx.arg(3) as u32, ctx.arg(4));
            if addr2 % 4 != 0 {
                return Err(EINVAL);
            }
            let op = crate::futex::WakeOp::decode(ctx.arg(5) as u32)?;
            crate::futex::wake_op(ctx.process, addr, val as u32, addr2, count2, op)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            let (requeue, target) = (ctx.arg(3) as u32, ctx.arg(4));
            if target % 4 != 0 || (val as i32) < 0 || (requeue as i32) < 0 {
                return Err(EINVAL);
            }
            let expected = (op == FUTEX_CMP_REQUEUE).then_some(ctx.arg(5) as u32);
            crate::futex::requeue(ctx.process, addr, val as u32, requeue, expected)
        }
        _ => Err(ENOSYS),
    }
}
