//! System calls that change a file's attributes: permission bits, owner
//! and group, times — by path or by descriptor, with the rules of
//! `fs::Attr` applied to the caller's file-system credentials.

use abi::errno::{EFAULT, EINVAL};
use abi::flags::at::{AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW};
use abi::flags::utime::{UTIME_NOW, UTIME_OMIT};
use abi::types::Timespec;
use fs::{Attr, KResult, Time};

use super::Ctx;
use super::paths::{CWD, with_path};
use super::table::syscalls;
use crate::uaccess;

syscalls! {
    CHMOD => |c| by_path(c, CWD, 0, 0, Attr::Mode(c.arg(1) as u32)),
    FCHMODAT => |c| by_path(c, c.arg(0), 1, 0, Attr::Mode(c.arg(2) as u32)),
    FCHMOD => |c| by_fd(c, c.int(0), Attr::Mode(c.arg(1) as u32)),
    CHOWN => |c| by_path(c, CWD, 0, 0, owner(c.arg(1), c.arg(2))),
    LCHOWN => |c| by_path(c, CWD, 0, AT_SYMLINK_NOFOLLOW, owner(c.arg(1), c.arg(2))),
    FCHOWNAT => |c| by_path(c, c.arg(0), 1, c.arg(4) as u32, owner(c.arg(2), c.arg(3))),
    FCHOWN => |c| by_fd(c, c.int(0), owner(c.arg(1), c.arg(2))),
    UTIMENSAT => utimensat,
}

/// `chown`'s new owner and group (-1: unchanged).
fn owner(uid: u64, gid: u64) -> Attr {
    let id = |id: u64| (id as u32 != u32::MAX).then_some(id as u32);
    Attr::Owner { uid: id(uid), gid: id(gid) }
}

/// Changes the attributes of the file path argument `path_arg` names
/// (`flags`: `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH` for `dirfd` itself).
fn by_path(ctx: &Ctx<'_>, dirfd: u64, path_arg: usize, flags: u32, attr: Attr) -> KResult<u64> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    if flags & AT_EMPTY_PATH != 0 && uaccess::with_path(ctx.process, ctx.arg(path_arg), |path| Ok(path.is_empty()))? {
        return by_fd(ctx, dirfd as i32, attr);
    }
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    with_path(ctx, dirfd, path_arg, |cred, base, path| fs::set_attr(cred, base, path, follow, attr))
}

/// Changes the attributes of descriptor `fd`'s file.
fn by_fd(ctx: &Ctx<'_>, fd: i32, attr: Attr) -> KResult<u64> {
    let file = ctx.process.file(fd)?;
    file.set_attr(&ctx.process.creds().fs(), attr).map(|()| 0)
}

/// `utimensat(dirfd, path, times, flags)`: a null path changes `dirfd`'s
/// file; null `times` means both now; both `UTIME_OMIT` does nothing,
/// without even looking the path up (as Linux).
fn utimensat(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let (atime, mtime) = match ctx.arg(2) {
        0 => (Time::Now, Time::Now),
        times => {
            let atime: Timespec = uaccess::read_value(ctx.process, times)?;
            let mtime: Timespec = uaccess::read_value(ctx.process, times.checked_add(16).ok_or(EFAULT)?)?;
            (time(atime)?, time(mtime)?)
        }
    };
    if (atime, mtime) == (Time::Omit, Time::Omit) {
        return Ok(0);
    }
    let attr = Attr::Times { atime, mtime };
    match ctx.arg(1) {
        0 => by_fd(ctx, ctx.int(0), attr),
        _ => by_path(ctx, ctx.arg(0), 1, ctx.arg(3) as u32, attr),
    }
}

/// One `utimensat` time: `UTIME_NOW`, `UTIME_OMIT`, or a time (`EINVAL`
/// for nanoseconds out of range; times before 1970 count as 1970).
fn time(ts: Timespec) -> KResult<Time> {
    Ok(match ts.tv_nsec {
        UTIME_NOW => Time::Now,
        UTIME_OMIT => Time::Omit,
        0..1_000_000_000 => {
            let seconds = u64::try_from(ts.tv_sec).unwrap_or(0);
            Time::At(seconds.saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64))
        }
        _ => return Err(EINVAL),
    })
}
