//! The remaining system calls: time and sleep, the file creation mask,
//! limits, system information, randomness, `poll`, `reboot`.

use alloc::sync::Arc;
use alloc::vec;
use core::sync::atomic::Ordering;

use abi::errno::{EFAULT, EINTR, EINVAL, ENOSYS, EPERM, ESRCH};
use abi::flags::open::O_RDONLY;
use abi::flags::poll::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};
use abi::flags::reboot::*;
use abi::flags::rlimit::RLIMIT_NOFILE;
use abi::types::{Timespec, Utsname};
use fs::KResult;
use shim::time::now_ns;

use super::Ctx;
use super::table::syscalls;
use crate::rlimit::Limit;
use crate::{bounce, random, uaccess};

/// Clock ticks per second reported by `times` and `AT_CLKTCK`.
const CLK_TCK: u64 = 100;

syscalls! {
    UNAME => uname,
    CLOCK_GETTIME => |c| clock_gettime(c.int(0)).and_then(|ts| write_timespec(c, c.arg(1), ts)),
    GETTIMEOFDAY => gettimeofday,
    TIME => time,
    NANOSLEEP => |c| sleep(c, c.arg(0), false, c.arg(1)),
    CLOCK_NANOSLEEP => |c| sleep(c, c.arg(2), c.arg(1) & 1 != 0, c.arg(3)),
    GETRANDOM => getrandom,
    UMASK => |c| Ok(c.process.umask.swap(c.arg(0) as u32 & 0o777, Ordering::Relaxed) as u64),
    SCHED_YIELD => |_| {
        runtime::sched::yield_now();
        Ok(0)
    },
    SCHED_GETAFFINITY => sched_getaffinity,
    PRLIMIT64 => |c| prlimit(c, c.int(0), c.arg(1) as u32, c.arg(2), c.arg(3)),
    GETRLIMIT => |c| prlimit(c, 0, c.arg(0) as u32, 0, c.arg(1)),
    SETRLIMIT => |c| prlimit(c, 0, c.arg(0) as u32, c.arg(1), 0),
    SYSINFO => sysinfo,
    TIMES => times,
    GETRUSAGE => |c| uaccess::write(c.process, c.arg(1), &[0u8; 144]).map(|()| 0),
    SET_ROBUST_LIST => |_| Ok(0),
    SYNC => |_| Ok(0),
    GETPRIORITY => |_| Ok(20),
    SETPRIORITY => |_| Ok(0),
    PRCTL => |_| Err(EINVAL),
    SETHOSTNAME => |_| Err(EPERM),
    REBOOT => reboot,
    // C libraries probe these and fall back: ENOSYS without a log line.
    RSEQ => |_| Err(ENOSYS),
    STATX => |_| Err(ENOSYS),
}

fn gettimeofday(ctx: &mut Ctx<'_>) -> KResult<u64> {
    match ctx.arg(0) {
        0 => Ok(0),
        tv => {
            let ts = realtime();
            let mut timeval = [0u8; 16];
            timeval[..8].copy_from_slice(&ts.tv_sec.to_le_bytes());
            timeval[8..].copy_from_slice(&(ts.tv_nsec / 1000).to_le_bytes());
            uaccess::write(ctx.process, tv, &timeval).map(|()| 0)
        }
    }
}

fn time(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let seconds = realtime().tv_sec;
    if ctx.arg(0) != 0 {
        uaccess::write_value(ctx.process, ctx.arg(0), &seconds)?;
    }
    Ok(seconds as u64)
}

fn getrandom(ctx: &mut Ctx<'_>) -> KResult<u64> {
    if ctx.arg(2) & !7 != 0 {
        return Err(EINVAL);
    }
    bounce::with((ctx.arg(1) as usize).min(bounce::LARGEST), |bytes| {
        random::fill(bytes);
        uaccess::write(ctx.process, ctx.arg(0), bytes).map(|()| bytes.len() as u64)
    })
}

fn sched_getaffinity(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let cpus = runtime::sched::cpus().len().min(64);
    let mask: u64 = if cpus == 64 { u64::MAX } else { (1 << cpus) - 1 };
    if (ctx.arg(1) as usize) < 8 {
        return Err(EINVAL);
    }
    uaccess::write_value(ctx.process, ctx.arg(2), &mask).map(|()| 8)
}

fn times(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let ticks = now_ns() / (1_000_000_000 / CLK_TCK);
    if ctx.arg(0) != 0 {
        uaccess::write(ctx.process, ctx.arg(0), &[0u8; 32])?;
    }
    Ok(ticks)
}

fn write_timespec(ctx: &Ctx<'_>, addr: u64, ts: Timespec) -> KResult<u64> {
    uaccess::write_value(ctx.process, addr, &ts).map(|()| 0)
}

fn timespec(ns: u64) -> Timespec {
    Timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 }
}

fn realtime() -> Timespec {
    timespec(shim::rtc::realtime_ns())
}

fn clock_gettime(clock: i32) -> KResult<Timespec> {
    match clock {
        // REALTIME, REALTIME_COARSE, TAI.
        0 | 5 | 11 => Ok(realtime()),
        // MONOTONIC, PROCESS/THREAD_CPUTIME (approximated), MONOTONIC_RAW,
        // MONOTONIC_COARSE, BOOTTIME.
        1..=4 | 6 | 7 => Ok(timespec(now_ns())),
        _ => Err(EINVAL),
    }
}

fn sleep(ctx: &Ctx<'_>, request: u64, absolute: bool, remaining: u64) -> KResult<u64> {
    let ns = uaccess::read_duration(ctx.process, request)?;
    let deadline = if absolute { ns } else { now_ns().saturating_add(ns) };
    match runtime::sched::sleep_until_interruptible(deadline) {
        Ok(()) => Ok(0),
        Err(_) => {
            if remaining != 0 && !absolute {
                write_timespec(ctx, remaining, timespec(deadline.saturating_sub(now_ns())))?;
            }
            Err(EINTR)
        }
    }
}

fn uname(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let mut name = Utsname::default();
    let fields: [(&mut [u8; 65], &[u8]); 5] = [
        (&mut name.sysname, b"Linux"),
        (&mut name.nodename, b"hardtack"),
        (&mut name.release, b"6.1.0-hardtack"),
        (&mut name.version, concat!("Hardtack ", env!("CARGO_PKG_VERSION")).as_bytes()),
        (&mut name.machine, b"x86_64"),
    ];
    for (field, value) in fields {
        field[..value.len()].copy_from_slice(value);
    }
    uaccess::write_value(ctx.process, ctx.arg(0), &name).map(|()| 0)
}

/// Resource limits: reported as Linux's defaults, not enforced (except
/// the descriptor count, which the table enforces).
/// `prlimit64(pid, resource, new, old)` and, on the caller, `getrlimit`
/// and `setrlimit`: reads the old limits, then sets the new ones (see
/// `rlimit`; raising a hard limit takes privilege). Another process's
/// limits are open to root and to a caller whose real ids are all of the
/// target's ids (Linux's rule); `EPERM` otherwise.
fn prlimit(ctx: &Ctx<'_>, pid: i32, resource: u32, new: u64, old: u64) -> KResult<u64> {
    let target = match pid {
        0 => ctx.process.clone(),
        pid if pid > 0 => crate::process::lookup(pid).ok_or(ESRCH)?,
        _ => return Err(EINVAL),
    };
    let caller = ctx.process.creds();
    if !Arc::ptr_eq(&target, ctx.process) && !caller.privileged() {
        let theirs = target.creds();
        let all = |ids: &crate::creds::Ids, id: u32| ids.real == id && ids.effective == id && ids.saved == id;
        if !all(&theirs.uid, caller.uid.real) || !all(&theirs.gid, caller.gid.real) {
            return Err(EPERM);
        }
    }
    let privileged = caller.privileged();
    let new = match new {
        0 => None,
        addr => {
            let [cur, max]: [u64; 2] =
                [uaccess::read_value(ctx.process, addr)?, uaccess::read_value(ctx.process, addr + 8)?];
            Some(Limit { cur, max })
        }
    };
    let previous = target.private(|p| {
        let previous = p.limits.get(resource)?;
        if let Some(new) = new {
            p.limits.set(resource, new, privileged)?;
            if resource == RLIMIT_NOFILE {
                p.files.set_limit(new.cur);
            }
        }
        Ok(previous)
    })?;
    if old != 0 {
        uaccess::write_value(ctx.process, old, &previous.cur)?;
        uaccess::write_value(ctx.process, old + 8, &previous.max)?;
    }
    Ok(0)
}

fn sysinfo(ctx: &mut Ctx<'_>) -> KResult<u64> {
    // struct sysinfo: uptime, loads[3], totalram, freeram, sharedram,
    // bufferram, totalswap, freeswap (longs), procs (u16), pad, totalhigh,
    // freehigh, mem_unit (u32) ...: 112 bytes.
    let mut info = [0u8; 112];
    let free = shim::mem::frame::free_count() as u64 * 4096;
    let total = shim::mem::frame::total_count() as u64 * 4096;
    let words = [(0, now_ns() / 1_000_000_000), (32, total), (40, free)];
    for (offset, value) in words {
        info[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
    }
    info[80..82].copy_from_slice(&(crate::process::all().len() as u16).to_le_bytes());
    info[104..108].copy_from_slice(&1u32.to_le_bytes());
    uaccess::write(ctx.process, ctx.arg(0), &info).map(|()| 0)
}

/// `reboot`: power-off and halt end the machine (QEMU exits with
/// success), restart resets it.
fn reboot(ctx: &mut Ctx<'_>) -> KResult<u64> {
    if ctx.arg(0) as u32 != LINUX_REBOOT_MAGIC1 {
        return Err(EINVAL);
    }
    match ctx.arg(2) as u32 {
        LINUX_REBOOT_CMD_POWER_OFF | LINUX_REBOOT_CMD_HALT => crate::exit::power_off(),
        LINUX_REBOOT_CMD_RESTART => shim::power::reset(),
        LINUX_REBOOT_CMD_CAD_ON | LINUX_REBOOT_CMD_CAD_OFF => Ok(0),
        _ => Err(EINVAL),
    }
}

/// `poll`/`ppoll` until `deadline` (kernel clock, ns). Readiness is
/// re-checked every few milliseconds (files have no wake-up hook for
/// poll yet; see docs/userspace.md).
pub(super) fn poll(ctx: &Ctx<'_>, deadline: u64) -> KResult<u64> {
    const RECHECK_NS: u64 = 5_000_000;
    let (fds, count) = (ctx.arg(0), ctx.arg(1));
    if count > ctx.process.private(|p| p.files.limit()) as u64 {
        return Err(EINVAL);
    }
    let mut entries = vec![0u8; count as usize * 8];
    uaccess::read(ctx.process, fds, &mut entries)?;
    loop {
        let mut ready = 0;
        for entry in entries.chunks_mut(8) {
            let fd = i32::from_le_bytes(entry[0..4].try_into().map_err(|_| EFAULT)?);
            let events = u16::from_le_bytes([entry[4], entry[5]]);
            let revents = match fd {
                fd if fd < 0 => 0,
                fd => match ctx.process.file(fd) {
                    Err(_) => POLLNVAL,
                    Ok(file) => {
                        let mut revents = 0;
                        if file.readable_now() {
                            revents |= events & POLLIN;
                        }
                        if file.writable_now() {
                            revents |= events & POLLOUT;
                        }
                        if file.hung_up() {
                            // A read end reports POLLHUP, a write end POLLERR.
                            revents |= if file.access_mode() == O_RDONLY { POLLHUP } else { POLLERR };
                        }
                        revents
                    }
                },
            };
            entry[6..8].copy_from_slice(&revents.to_le_bytes());
            ready += (revents != 0) as u64;
        }
        if ready > 0 || now_ns() >= deadline {
            uaccess::write(ctx.process, fds, &entries)?;
            return Ok(ready);
        }
        if runtime::sched::sleep_until_interruptible(deadline.min(now_ns() + RECHECK_NS)).is_err() {
            return Err(EINTR);
        }
    }
}
