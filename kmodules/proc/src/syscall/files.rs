//! System calls on file descriptors: I/O, descriptor management, pipes,
//! polling.

use alloc::vec::Vec;

use abi::errno::{EBADF, EFBIG, EINVAL, ENOTDIR, EPIPE};
use abi::flags::fcntl::*;
use abi::flags::ioctl::TIOCSCTTY;
use abi::flags::limits::IOV_MAX;
use abi::flags::open::{O_APPEND, O_CLOEXEC, O_NONBLOCK, O_WRONLY};
use abi::flags::rlimit::{RLIM_INFINITY, RLIMIT_FSIZE};
use abi::flags::seek::SEEK_CUR;
use abi::flags::signal::SIGXFSZ;
use abi::types::Iovec;
use fs::{File, KResult, OpenFile};

use super::Ctx;
use super::table::syscalls;
use crate::fdtable::Fd;
use crate::{bounce, signal, uaccess};

/// Largest piece of a read or write moved through a kernel buffer at once.
const CHUNK: usize = bounce::LARGEST;

syscalls! {
    READ => |c| read(c, c.int(0), c.arg(1), c.arg(2) as usize),
    WRITE => |c| write(c, c.int(0), c.arg(1), c.arg(2) as usize),
    READV => |c| vectored(c, false),
    WRITEV => |c| vectored(c, true),
    PREAD64 => |c| positioned(c, false),
    PWRITE64 => |c| positioned(c, true),
    CLOSE => close,
    LSEEK => |c| file(c, 0)?.seek(c.arg(1) as i64, c.arg(2) as u32),
    FSTAT => fstat,
    IOCTL => ioctl,
    FCNTL => fcntl,
    DUP => dup,
    DUP2 => dup2,
    DUP3 => dup3,
    PIPE => |c| make_pipe(c, 0),
    PIPE2 => |c| make_pipe(c, c.arg(1) as u32),
    GETDENTS64 => getdents64,
    POLL => |c| {
        let deadline = match c.arg(2) as i32 {
            ms if ms < 0 => u64::MAX,
            ms => shim::time::now_ns().saturating_add(ms as u64 * 1_000_000),
        };
        super::misc::poll(c, deadline)
    },
    PPOLL => ppoll,
    FTRUNCATE => |c| {
        let file = file(c, 0)?;
        if matches!(file, OpenFile::Tmpfs(_)) {
            fsize_check(c, c.arg(1))?;
        }
        file.truncate(c.arg(1)).map(|()| 0)
    },
    FSYNC => |c| file(c, 0).map(|_| 0),
    FDATASYNC => |c| file(c, 0).map(|_| 0),
    FCHDIR => fchdir,
    SENDFILE => sendfile,
}

fn close(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let fd = ctx.process.private(|p| p.files.remove(ctx.int(0)))?;
    drop(fd);
    Ok(0)
}

fn fstat(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let stat = file(ctx, 0)?.stat()?;
    uaccess::write_value(ctx.process, ctx.arg(1), &stat)?;
    Ok(0)
}

fn ioctl(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let result = file(ctx, 0)?.ioctl(ctx.arg(1) as u32, ctx.arg(2), &uaccess::Caller(ctx.process))?;
    if u64::from(ctx.arg(1) as u32) == TIOCSCTTY {
        // The terminal becomes the caller's controlling terminal: its
        // session's group is now the foreground group.
        tty::set_foreground(ctx.process.pgid());
    }
    Ok(result)
}

fn dup(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let fd = Fd { file: file(ctx, 0)?, cloexec: false };
    Ok(ctx.process.private(|p| p.files.insert(&fd))? as u64)
}

fn dup2(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let (old, new) = (ctx.int(0), ctx.int(1));
    let file = file(ctx, 0)?;
    if old == new {
        return Ok(new as u64);
    }
    dup_to(ctx, file, new, false)
}

fn dup3(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let (old, new, flags) = (ctx.int(0), ctx.int(1), ctx.arg(2) as u32);
    if old == new || flags & !O_CLOEXEC != 0 {
        return Err(EINVAL);
    }
    let file = file(ctx, 0)?;
    dup_to(ctx, file, new, flags & O_CLOEXEC != 0)
}

fn getdents64(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let file = file(ctx, 0)?;
    bounce::with((ctx.arg(2) as usize).min(CHUNK), |buf| {
        let n = file.getdents64(buf)?;
        uaccess::write(ctx.process, ctx.arg(1), &buf[..n])?;
        Ok(n as u64)
    })
}

fn ppoll(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let deadline = uaccess::read_deadline(ctx.process, ctx.arg(2))?;
    super::misc::poll(ctx, deadline)
}

fn fchdir(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let dir = file(ctx, 0)?.as_dir().ok_or(ENOTDIR)?;
    super::paths::may_enter(&ctx.process.creds().fs(), &dir)?;
    ctx.process.set_cwd(dir);
    Ok(0)
}

/// The file of descriptor argument `i`.
pub(super) fn file(ctx: &Ctx<'_>, i: usize) -> KResult<OpenFile> {
    ctx.process.file(ctx.int(i))
}

fn dup_to(ctx: &Ctx<'_>, file: OpenFile, new: i32, cloexec: bool) -> KResult<u64> {
    let fd = Fd { file, cloexec };
    let old = ctx.process.private(|p| p.files.replace(new, &fd))?;
    drop(old);
    Ok(new as u64)
}

fn read(ctx: &Ctx<'_>, fd: i32, buf: u64, len: usize) -> KResult<u64> {
    let file = ctx.process.file(fd)?;
    read_into(ctx, &*file, buf, len)
}

fn read_into(ctx: &Ctx<'_>, file: &dyn File, buf: u64, len: usize) -> KResult<u64> {
    if file.access_mode() == O_WRONLY {
        return Err(EBADF);
    }
    bounce::with(len.min(CHUNK), |kernel| {
        // Check the buffer first, so a bad pointer does not consume input.
        uaccess::check_writable(ctx.process, buf, kernel.len())?;
        let n = file.read(kernel)?;
        uaccess::write(ctx.process, buf, &kernel[..n])?;
        Ok(n as u64)
    })
}

fn write(ctx: &Ctx<'_>, fd: i32, buf: u64, len: usize) -> KResult<u64> {
    let file = ctx.process.file(fd)?;
    write_from(ctx, &file, buf, len)
}

/// How many of `len` bytes a write to `file` at its offset may move under
/// `RLIMIT_FSIZE`: all of them but for a regular file the limit cuts
/// short; none is SIGXFSZ and `EFBIG`, as on Linux.
fn fsize_room(ctx: &Ctx<'_>, file: &OpenFile, len: usize) -> KResult<usize> {
    if !matches!(file, OpenFile::Tmpfs(_)) {
        return Ok(len);
    }
    let limit = ctx.process.limit(RLIMIT_FSIZE);
    if limit == RLIM_INFINITY {
        return Ok(len);
    }
    let at = match file.status_flags() & O_APPEND {
        0 => file.seek(0, SEEK_CUR)?,
        _ => file.stat()?.st_size as u64,
    };
    fsize_check(ctx, at.saturating_add(1))?;
    Ok(len.min((limit - at) as usize))
}

/// `EFBIG` and SIGXFSZ if a regular file of `len` bytes passes
/// `RLIMIT_FSIZE`.
pub(super) fn fsize_check(ctx: &Ctx<'_>, len: u64) -> KResult<()> {
    if len > ctx.process.limit(RLIMIT_FSIZE) {
        signal::send(ctx.process, SIGXFSZ);
        return Err(EFBIG);
    }
    Ok(())
}

fn write_from(ctx: &Ctx<'_>, file: &OpenFile, buf: u64, len: usize) -> KResult<u64> {
    let len = fsize_room(ctx, file, len)?;
    bounce::with(len.min(CHUNK), |buffer| {
        let mut done = 0;
        while done < len {
            // A long write (megabytes to the terminal, say) stops for a
            // fatal signal with what it wrote.
            if done > 0 && (ctx.thread.exiting() || ctx.thread.signals.fatal_pending()) {
                break;
            }
            let kernel = &mut buffer[..(len - done).min(CHUNK)];
            uaccess::read(ctx.process, buf + done as u64, kernel)?;
            match file.write(kernel) {
                Ok(n) => {
                    done += n;
                    if n < kernel.len() {
                        break;
                    }
                }
                Err(EPIPE) => {
                    signal::send(ctx.process, abi::flags::signal::SIGPIPE);
                    return Err(EPIPE);
                }
                Err(error) if done == 0 => return Err(error),
                Err(_) => break,
            }
        }
        Ok(done as u64)
    })
}

fn vectored(ctx: &Ctx<'_>, writing: bool) -> KResult<u64> {
    let file = file(ctx, 0)?;
    let (iov, count) = (ctx.arg(1), ctx.arg(2));
    if count > IOV_MAX as u64 {
        return Err(EINVAL);
    }
    let mut vectors = Vec::new();
    for i in 0..count {
        let v: Iovec = uaccess::read_value(ctx.process, iov + i * size_of::<Iovec>() as u64)?;
        vectors.push(v);
    }
    let mut total = 0;
    for v in vectors.iter().filter(|v| v.iov_len > 0) {
        let len = v.iov_len as usize;
        let result = match writing {
            true => write_from(ctx, &file, v.iov_base, len),
            false => read_into(ctx, &*file, v.iov_base, len),
        };
        match result {
            Ok(n) => {
                total += n;
                if (n as usize) < len {
                    break;
                }
            }
            Err(error) if total == 0 => return Err(error),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// `pread64`/`pwrite64`: I/O at an offset, leaving the file offset as it
/// was (saved and restored around the transfer: concurrent users of the
/// same description may see it move; see docs/userspace.md).
fn positioned(ctx: &Ctx<'_>, writing: bool) -> KResult<u64> {
    let file = file(ctx, 0)?;
    let offset = ctx.arg(3) as i64;
    if offset < 0 {
        return Err(EINVAL);
    }
    let saved = file.seek(0, abi::flags::seek::SEEK_CUR)?;
    file.seek(offset, abi::flags::seek::SEEK_SET)?;
    let result = match writing {
        true => write_from(ctx, &file, ctx.arg(1), ctx.arg(2) as usize),
        false => read_into(ctx, &*file, ctx.arg(1), ctx.arg(2) as usize),
    };
    file.seek(saved as i64, abi::flags::seek::SEEK_SET)?;
    result
}

fn fcntl(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let (fd, command, arg) = (ctx.int(0), ctx.arg(1) as u32, ctx.arg(2));
    let entry = ctx.process.private(|p| p.files.get(fd).cloned())?;
    match command {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let fd = Fd { file: entry.file, cloexec: command == F_DUPFD_CLOEXEC };
            let inserted = ctx.process.private(|p| match usize::try_from(arg as i32) {
                // As Linux: a negative or too high minimum is EINVAL.
                Ok(min) if min < p.files.limit() => p.files.insert_from(min, &fd),
                _ => Err(EINVAL),
            });
            Ok(inserted? as u64)
        }
        F_GETFD => Ok(entry.cloexec as u64 * FD_CLOEXEC as u64),
        F_SETFD => ctx.process.private(|p| p.files.set_cloexec(fd, arg as u32 & FD_CLOEXEC != 0)).map(|_| 0),
        F_GETFL => Ok(entry.file.status_flags() as u64),
        F_SETFL => {
            entry.file.set_status_flags(arg as u32 & (O_APPEND | O_NONBLOCK));
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

fn make_pipe(ctx: &Ctx<'_>, flags: u32) -> KResult<u64> {
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(EINVAL);
    }
    let (reader, writer) = pipe::pipe(flags & O_NONBLOCK)?;
    let cloexec = flags & O_CLOEXEC != 0;
    let (reader, writer) = (Fd { file: reader, cloexec }, Fd { file: writer, cloexec });
    // The table holds copies: the ends close here, outside the scope, if
    // anything fails.
    let (read_fd, write_fd) = ctx
        .process
        .private(|p| {
            let read_fd = p.files.insert(&reader).map_err(|error| (error, None))?;
            match p.files.insert(&writer) {
                Ok(write_fd) => Ok((read_fd, write_fd)),
                Err(error) => Err((error, p.files.remove(read_fd).ok())),
            }
        })
        .map_err(|(error, _removed)| error)?;
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&read_fd.to_le_bytes());
    bytes[4..].copy_from_slice(&write_fd.to_le_bytes());
    if let Err(error) = uaccess::write(ctx.process, ctx.arg(0), &bytes) {
        let removed = ctx.process.private(|p| (p.files.remove(read_fd), p.files.remove(write_fd)));
        drop(removed);
        return Err(error);
    }
    Ok(0)
}

/// `sendfile`: copies from one descriptor to another through a kernel
/// buffer (from the input's offset, or from `*offset` which is updated).
fn sendfile(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let (output, input) = (file(ctx, 0)?, file(ctx, 1)?);
    let (offset_addr, count) = (ctx.arg(2), ctx.arg(3) as usize);
    let count = fsize_room(ctx, &output, count)?;
    let saved = match offset_addr {
        0 => None,
        addr => {
            let offset: i64 = uaccess::read_value(ctx.process, addr)?;
            let saved = input.seek(0, abi::flags::seek::SEEK_CUR)?;
            input.seek(offset, abi::flags::seek::SEEK_SET)?;
            Some(saved)
        }
    };
    let copied = bounce::with(count.min(CHUNK), |buf| {
        let mut done = 0;
        while done < count {
            // A long copy (from /dev/zero, say) stops for a signal or an
            // exit, with what it copied so far.
            if done > 0 && (ctx.thread.signals.deliverable() || ctx.thread.exiting()) {
                break;
            }
            let want = (count - done).min(buf.len());
            let n = match input.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(error) if done == 0 => return Err(error),
                Err(_) => break,
            };
            match output.write(&buf[..n]) {
                Ok(written) => done += written,
                Err(EPIPE) => {
                    signal::send(ctx.process, abi::flags::signal::SIGPIPE);
                    return Err(EPIPE);
                }
                Err(error) if done == 0 => return Err(error),
                Err(_) => break,
            }
            if n < want {
                break;
            }
        }
        Ok(done)
    });
    let done = copied?;
    if let Some(saved) = saved {
        let end = input.seek(0, abi::flags::seek::SEEK_CUR)?;
        input.seek(saved as i64, abi::flags::seek::SEEK_SET)?;
        uaccess::write_value(ctx.process, offset_addr, &(end as i64))?;
    }
    Ok(done as u64)
}
