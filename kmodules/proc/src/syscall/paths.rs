//! System calls that name files by path: open, stat, access, directory
//! and link operations, the working directory. Relative paths start at the
//! working directory or, for the `*at` calls, at a directory descriptor;
//! each is checked against the caller's file-system credentials.

use abi::errno::{EINVAL, ENOENT, ENOTDIR, EPERM, ERANGE};
use abi::flags::at::{AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW};
use abi::flags::open::{O_CLOEXEC, O_CREAT};
use fs::{Cred, KResult, NodeRef};

use super::Ctx;
use super::table::syscalls;
use crate::fdtable::Fd;
use crate::uaccess;

/// The working directory's `dirfd`, for the calls without one.
pub(super) const CWD: u64 = AT_FDCWD as u64;

syscalls! {
    OPEN => |c| open(c, CWD, 0, c.arg(1) as u32, c.arg(2) as u32),
    OPENAT => |c| open(c, c.arg(0), 1, c.arg(2) as u32, c.arg(3) as u32),
    STAT => |c| stat(c, CWD, 0, 1, 0),
    LSTAT => |c| stat(c, CWD, 0, 1, AT_SYMLINK_NOFOLLOW),
    NEWFSTATAT => |c| stat(c, c.arg(0), 1, 2, c.arg(3) as u32),
    ACCESS => |c| access(c, CWD, 0, 0),
    FACCESSAT => |c| access(c, c.arg(0), 1, 0),
    FACCESSAT2 => |c| access(c, c.arg(0), 1, c.arg(3) as u32),
    MKDIR => |c| mkdir(c, CWD, 0),
    MKDIRAT => |c| mkdir(c, c.arg(0), 1),
    UNLINK => |c| with_path(c, CWD, 0, fs::unlink),
    RMDIR => |c| with_path(c, CWD, 0, fs::rmdir),
    UNLINKAT => unlinkat,
    RENAME => |c| two_paths(c, [(CWD, 0), (CWD, 1)], fs::rename),
    RENAMEAT => |c| two_paths(c, [(c.arg(0), 1), (c.arg(2), 3)], fs::rename),
    RENAMEAT2 => |c| match c.arg(4) {
        0 => two_paths(c, [(c.arg(0), 1), (c.arg(2), 3)], fs::rename),
        _ => Err(EINVAL),
    },
    LINK => |c| two_paths(c, [(CWD, 0), (CWD, 1)], fs::link),
    LINKAT => |c| two_paths(c, [(c.arg(0), 1), (c.arg(2), 3)], fs::link),
    SYMLINK => |c| symlink(c, CWD, 1),
    SYMLINKAT => |c| symlink(c, c.arg(1), 2),
    READLINK => |c| readlink(c, CWD, 0),
    READLINKAT => |c| readlink(c, c.arg(0), 1),
    CHDIR => chdir,
    GETCWD => getcwd,
    TRUNCATE => |c| {
        super::files::fsize_check(c, c.arg(1))?;
        with_path(c, CWD, 0, |cred, base, path| fs::truncate(cred, base, path, c.arg(1)))
    },
    // Nothing is mounted (/proc always is); only root may ask.
    MOUNT => |c| privileged(c).and_then(|()| exists(c, CWD, 1)),
    UMOUNT2 => |c| privileged(c).and_then(|()| exists(c, CWD, 0)),
}

/// `EPERM` unless the caller is privileged (effective uid 0).
fn privileged(ctx: &Ctx<'_>) -> KResult<()> {
    if ctx.process.creds().privileged() { Ok(()) } else { Err(EPERM) }
}

fn mkdir(ctx: &mut Ctx<'_>, dirfd: u64, path_arg: usize) -> KResult<u64> {
    let mode = ctx.arg(path_arg + 1) as u32 & !umask(ctx);
    with_path(ctx, dirfd, path_arg, |cred, base, path| fs::mkdir(cred, base, path, mode))
}

fn unlinkat(ctx: &mut Ctx<'_>) -> KResult<u64> {
    match ctx.arg(2) as u32 {
        0 => with_path(ctx, ctx.arg(0), 1, fs::unlink),
        AT_REMOVEDIR => with_path(ctx, ctx.arg(0), 1, fs::rmdir),
        _ => Err(EINVAL),
    }
}

fn chdir(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let dir = with_base(ctx, CWD, 0, |cred, base, path| {
        let dir = fs::lookup(cred, base, path, true)?;
        may_enter(cred, &dir).map(|()| dir)
    })?;
    ctx.process.set_cwd(dir);
    Ok(0)
}

/// `ENOTDIR` unless `dir` is a directory, `EACCES` unless `cred` may
/// search it (to make it the working directory).
pub(super) fn may_enter(cred: &Cred, dir: &NodeRef) -> KResult<()> {
    if !dir.is_dir() {
        return Err(ENOTDIR);
    }
    let stat = dir.stat();
    cred.check(stat.st_mode, stat.st_uid, stat.st_gid, fs::MAY_EXEC)
}

fn getcwd(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let mut path = ctx.process.cwd().path();
    path.push(0);
    if path.len() > ctx.arg(1) as usize {
        return Err(ERANGE);
    }
    uaccess::write(ctx.process, ctx.arg(0), &path)?;
    Ok(path.len() as u64)
}

/// The directory a `*at` call's relative paths start from.
fn base(ctx: &Ctx<'_>, dirfd: u64) -> KResult<NodeRef> {
    if dirfd as i32 == AT_FDCWD {
        return Ok(ctx.process.cwd());
    }
    let file = ctx.process.file(dirfd as i32)?;
    file.as_dir().ok_or(ENOTDIR)
}

/// Reads path argument `path_arg` and calls `f` with the caller's
/// file-system credentials and the path's base directory.
pub(super) fn with_base<T>(
    ctx: &Ctx<'_>,
    dirfd: u64,
    path_arg: usize,
    f: impl FnOnce(&Cred, &NodeRef, &[u8]) -> KResult<T>,
) -> KResult<T> {
    uaccess::with_path(ctx.process, ctx.arg(path_arg), |path| on_base(ctx, dirfd, path, &ctx.process.creds().fs(), f))
}

/// Calls `f` with `cred`, `path` and its base directory (`dirfd`'s, or
/// the current one); an empty path is `ENOENT`.
fn on_base<T>(
    ctx: &Ctx<'_>,
    dirfd: u64,
    path: &[u8],
    cred: &Cred,
    f: impl FnOnce(&Cred, &NodeRef, &[u8]) -> KResult<T>,
) -> KResult<T> {
    let base = match path.first() {
        None => return Err(ENOENT),
        Some(b'/') => ctx.process.cwd(),
        Some(_) => base(ctx, dirfd)?,
    };
    f(cred, &base, path)
}

pub(super) fn with_path(
    ctx: &Ctx<'_>,
    dirfd: u64,
    path_arg: usize,
    f: impl FnOnce(&Cred, &NodeRef, &[u8]) -> KResult<()>,
) -> KResult<u64> {
    with_base(ctx, dirfd, path_arg, f).map(|()| 0)
}

fn exists(ctx: &Ctx<'_>, dirfd: u64, path_arg: usize) -> KResult<u64> {
    with_base(ctx, dirfd, path_arg, |cred, base, path| fs::lookup(cred, base, path, true)).map(|_| 0)
}

type TwoPathOp = fn(&Cred, &NodeRef, &[u8], &NodeRef, &[u8]) -> KResult<()>;

fn two_paths(ctx: &Ctx<'_>, args: [(u64, usize); 2], op: TwoPathOp) -> KResult<u64> {
    let [(old_dir, old_arg), (new_dir, new_arg)] = args;
    let creds = ctx.process.creds();
    uaccess::with_path(ctx.process, ctx.arg(old_arg), |old| {
        uaccess::with_path(ctx.process, ctx.arg(new_arg), |new| {
            if old.is_empty() || new.is_empty() {
                return Err(ENOENT);
            }
            op(&creds.fs(), &base(ctx, old_dir)?, old, &base(ctx, new_dir)?, new).map(|()| 0)
        })
    })
}

fn umask(ctx: &Ctx<'_>) -> u32 {
    ctx.process.umask.load(core::sync::atomic::Ordering::Relaxed)
}

fn open(ctx: &Ctx<'_>, dirfd: u64, path_arg: usize, flags: u32, mode: u32) -> KResult<u64> {
    let mode = if flags & O_CREAT != 0 { mode & !umask(ctx) } else { mode };
    let file = with_base(ctx, dirfd, path_arg, |cred, base, path| fs::open(cred, base, path, flags, mode))?;
    let fd = Fd { file, cloexec: flags & O_CLOEXEC != 0 };
    Ok(ctx.process.private(|p| p.files.insert(&fd))? as u64)
}

fn stat(ctx: &Ctx<'_>, dirfd: u64, path_arg: usize, buf_arg: usize, flags: u32) -> KResult<u64> {
    let stat = uaccess::with_path(ctx.process, ctx.arg(path_arg), |path| match path.is_empty() {
        true if flags & AT_EMPTY_PATH != 0 => {
            if dirfd as i32 == AT_FDCWD {
                Ok(ctx.process.cwd().stat())
            } else {
                ctx.process.file(dirfd as i32)?.stat()
            }
        }
        _ => on_base(ctx, dirfd, path, &ctx.process.creds().fs(), |cred, base, path| {
            fs::stat(cred, base, path, flags & AT_SYMLINK_NOFOLLOW == 0)
        }),
    })?;
    uaccess::write_value(ctx.process, ctx.arg(buf_arg), &stat)?;
    Ok(0)
}

/// `access`/`faccessat2`: whether the caller's real ids (with
/// `AT_EACCESS`, its effective ones) may read, write or execute (`mode`'s
/// `R_OK`, `W_OK`, `X_OK`, which are `fs::MAY_*`) the file, whose path is
/// resolved with the same ids.
fn access(ctx: &Ctx<'_>, dirfd: u64, path_arg: usize, flags: u32) -> KResult<u64> {
    let mode = ctx.arg(path_arg + 1) as u32;
    if mode & !7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    let creds = ctx.process.creds();
    let cred = if flags & AT_EACCESS != 0 { creds.fs() } else { creds.real() };
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    let stat = uaccess::with_path(ctx.process, ctx.arg(path_arg), |path| {
        on_base(ctx, dirfd, path, &cred, |cred, base, path| fs::stat(cred, base, path, follow))
    })?;
    cred.check(stat.st_mode, stat.st_uid, stat.st_gid, mode).map(|()| 0)
}

fn symlink(ctx: &Ctx<'_>, dirfd: u64, link_arg: usize) -> KResult<u64> {
    uaccess::with_path(ctx.process, ctx.arg(0), |target| {
        if target.is_empty() {
            return Err(ENOENT);
        }
        with_path(ctx, dirfd, link_arg, |cred, base, path| fs::symlink(cred, target, base, path))
    })
}

fn readlink(ctx: &Ctx<'_>, dirfd: u64, path_arg: usize) -> KResult<u64> {
    let (buf, size) = (ctx.arg(path_arg + 1), ctx.arg(path_arg + 2) as usize);
    if (size as isize) <= 0 {
        return Err(EINVAL);
    }
    let target = with_base(ctx, dirfd, path_arg, fs::readlink)?;
    let n = target.len().min(size);
    uaccess::write(ctx.process, buf, &target[..n])?;
    Ok(n as u64)
}
