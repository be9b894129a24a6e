//! System calls that name files by path: open, stat, directory and link
//! operations, the working directory. Relative paths start at the working
//! directory or, for the `*at` calls, at a directory descriptor.

use abi::errno::{EACCES, EINVAL, ENOENT, ENOTDIR, ERANGE};
use abi::flags::at::{AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW};
use abi::flags::open::{O_CLOEXEC, O_CREAT};
use abi::nr;
use fs::{KResult, NodeRef};

use super::Ctx;
use crate::fdtable::Fd;
use crate::uaccess;

pub(super) fn dispatch(ctx: &mut Ctx<'_>, number: u64) -> KResult<u64> {
    let cwd = AT_FDCWD as u64;
    match number {
        nr::OPEN => open(ctx, cwd, 0, ctx.arg(1) as u32, ctx.arg(2) as u32),
        nr::OPENAT => open(ctx, ctx.arg(0), 1, ctx.arg(2) as u32, ctx.arg(3) as u32),
        nr::STAT => stat(ctx, cwd, 0, 1, 0),
        nr::LSTAT => stat(ctx, cwd, 0, 1, AT_SYMLINK_NOFOLLOW),
        nr::NEWFSTATAT => stat(ctx, ctx.arg(0), 1, 2, ctx.arg(3) as u32),
        nr::ACCESS => access(ctx, cwd, 0),
        nr::FACCESSAT | nr::FACCESSAT2 => access(ctx, ctx.arg(0), 1),
        nr::MKDIR => with_path(ctx, cwd, 0, |base, path| fs::mkdir(base, path, ctx.arg(1) as u32 & !umask(ctx))),
        nr::MKDIRAT => {
            with_path(ctx, ctx.arg(0), 1, |base, path| fs::mkdir(base, path, ctx.arg(2) as u32 & !umask(ctx)))
        }
        nr::UNLINK => with_path(ctx, cwd, 0, fs::unlink),
        nr::RMDIR => with_path(ctx, cwd, 0, fs::rmdir),
        nr::UNLINKAT => match ctx.arg(2) as u32 {
            0 => with_path(ctx, ctx.arg(0), 1, fs::unlink),
            AT_REMOVEDIR => with_path(ctx, ctx.arg(0), 1, fs::rmdir),
            _ => Err(EINVAL),
        },
        nr::RENAME => two_paths(ctx, [(cwd, 0), (cwd, 1)], fs::rename),
        nr::RENAMEAT => two_paths(ctx, [(ctx.arg(0), 1), (ctx.arg(2), 3)], fs::rename),
        nr::RENAMEAT2 if ctx.arg(4) == 0 => two_paths(ctx, [(ctx.arg(0), 1), (ctx.arg(2), 3)], fs::rename),
        nr::RENAMEAT2 => Err(EINVAL),
        nr::LINK => two_paths(ctx, [(cwd, 0), (cwd, 1)], fs::link),
        nr::LINKAT => two_paths(ctx, [(ctx.arg(0), 1), (ctx.arg(2), 3)], fs::link),
        nr::SYMLINK => symlink(ctx, cwd, 1),
        nr::SYMLINKAT => symlink(ctx, ctx.arg(1), 2),
        nr::READLINK => readlink(ctx, cwd, 0),
        nr::READLINKAT => readlink(ctx, ctx.arg(0), 1),
        nr::CHDIR => {
            let dir = with_base(ctx, cwd, 0, |base, path| fs::lookup(base, path, true))?;
            if !dir.is_dir() {
                return Err(ENOTDIR);
            }
            ctx.process.set_cwd(dir);
            Ok(0)
        }
        nr::GETCWD => {
            let mut path = ctx.process.cwd().path();
            path.push(0);
            if path.len() > ctx.arg(1) as usize {
                return Err(ERANGE);
            }
            uaccess::write(ctx.process, ctx.arg(0), &path)?;
            Ok(path.len() as u64)
        }
        nr::CHMOD => with_path(ctx, cwd, 0, |base, path| fs::chmod(base, path, ctx.arg(1) as u32)),
        nr::FCHMODAT => with_path(ctx, ctx.arg(0), 1, |base, path| fs::chmod(base, path, ctx.arg(2) as u32)),
        nr::TRUNCATE => with_path(ctx, cwd, 0, |base, path| fs::truncate(base, path, ctx.arg(1))),
        // Times and owners are not kept beyond what tmpfs records itself:
        // the calls succeed on an existing file.
        nr::UTIMENSAT if ctx.arg(1) == 0 => super::files::file(ctx, 0).map(|_| 0),
        nr::UTIMENSAT | nr::FCHOWNAT => exists(ctx, ctx.arg(0), 1),
        nr::CHOWN | nr::LCHOWN => exists(ctx, cwd, 0),
        nr::FCHOWN => super::files::file(ctx, 0).map(|_| 0),
        nr::MOUNT | nr::UMOUNT2 => exists(ctx, cwd, if number == nr::MOUNT { 1 } else { 0 }),
        _ => unreachable!("routed here by the table"),
    }
}

/// The directory a `*at` call's relative paths start from.
fn base(ctx: &Ctx<'_>, dirfd: u64) -> KResult<NodeRef> {
    if dirfd as i32 == AT_FDCWD {
        return Ok(ctx.process.cwd());
    }
    let file = ctx.process.file(dirfd as i32)?;
    file.as_dir().ok_or(ENOTDIR)
}

/// Reads path argument `path_arg` and calls `f` with its base directory.
fn with_base<T>(
    ctx: &Ctx<'_>,
    dirfd: u64,
    path_arg: usize,
    f: impl FnOnce(&NodeRef, &[u8]) -> KResult<T>,
) -> KResult<T> {
    uaccess::with_path(ctx.process, ctx.arg(path_arg), |path| on_base(ctx, dirfd, path, f))
}

/// Calls `f` with `path` and its base directory (`dirfd`'s, or the current
/// one); an empty path is `ENOENT`.
fn on_base<T>(ctx: &Ctx<'_>, dirfd: u64, path: &[u8], f: impl FnOnce(&NodeRef, &[u8]) -> KResult<T>) -> KResult<T> {
    let base = match path.first() {
        None => return Err(ENOENT),
        Some(b'/') => ctx.process.cwd(),
        Some(_) => base(ctx, dirfd)?,
    };
    f(&base, path)
}

fn with_path(
    ctx: &Ctx<'_>,
    dirfd: u64,
    path_arg: usize,
    f: impl FnOnce(&NodeRef, &[u8]) -> KResult<()>,
) -> KResult<u64> {
    with_base(ctx, dirfd, path_arg, f).map(|()| 0)
}

fn exists(ctx: &Ctx<'_>, dirfd: u64, path_arg: usize) -> KResult<u64> {
    with_base(ctx, dirfd, path_arg, |base, path| fs::lookup(base, path, true)).map(|_| 0)
}

type TwoPathOp = fn(&NodeRef, &[u8], &NodeRef, &[u8]) -> KResult<()>;

fn two_paths(ctx: &Ctx<'_>, args: [(u64, usize); 2], op: TwoPathOp) -> KResult<u64> {
    let [(old_dir, old_arg), (new_dir, new_arg)] = args;
    uaccess::with_path(ctx.process, ctx.arg(old_arg), |old| {
        uaccess::with_path(ctx.process, ctx.arg(new_arg), |new| {
            if old.is_empty() || new.is_empty() {
                return Err(ENOENT);
            }
            op(&base(ctx, old_dir)?, old, &base(ctx, new_dir)?, new).map(|()| 0)
        })
    })
}

fn umask(ctx: &Ctx<'_>) -> u32 {
    ctx.process.umask.load(core::sync::atomic::Ordering::Relaxed)
}

fn open(ctx: &Ctx<'_>, dirfd: u64, path_arg: usize, flags: u32, mode: u32) -> KResult<u64> {
    let mode = if flags & O_CREAT != 0 { mode & !umask(ctx) } else { mode };
    let file = with_base(ctx, dirfd, path_arg, |base, path| fs::open(base, path, flags, mode))?;
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
        _ => on_base(ctx, dirfd, path, |base, path| fs::stat(base, path, flags & AT_SYMLINK_NOFOLLOW == 0)),
    })?;
    uaccess::write_value(ctx.process, ctx.arg(buf_arg), &stat)?;
    Ok(0)
}

/// `access`: everything is permitted to root, except executing a file
/// with no execute bit.
fn access(ctx: &Ctx<'_>, dirfd: u64, path_arg: usize) -> KResult<u64> {
    let mode = ctx.arg(path_arg + 1) as u32;
    if mode & !7 != 0 {
        return Err(EINVAL);
    }
    let stat = with_base(ctx, dirfd, path_arg, |base, path| fs::stat(base, path, true))?;
    if mode & 1 != 0
        && stat.st_mode & 0o111 == 0
        && stat.st_mode & abi::flags::mode::S_IFMT != abi::flags::mode::S_IFDIR
    {
        return Err(EACCES);
    }
    Ok(0)
}

fn symlink(ctx: &Ctx<'_>, dirfd: u64, link_arg: usize) -> KResult<u64> {
    uaccess::with_path(ctx.process, ctx.arg(0), |target| {
        if target.is_empty() {
            return Err(ENOENT);
        }
        with_path(ctx, dirfd, link_arg, |base, path| fs::symlink(target, base, path))
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
