//! The open-file interface: what a file descriptor refers to.
//!
//! An [`File`] is an *open file description* (POSIX's term): the object
//! `open` creates and `dup`/`fork` share, so it holds the file offset and
//! the status flags. Every kind of file — tmpfs files and directories,
//! devices, pipes, the TTY — implements it. The syscall layer copies user
//! buffers to and from kernel buffers, so implementations see only kernel
//! memory (a TTY `ioctl` is the exception: it copies its argument itself).

use abi::errno;
use abi::flags::open::O_ACCMODE;
use abi::types::Stat;

pub use abi::errno::KResult;

/// The calling process's memory, for the user pointers of an `ioctl`: the
/// caller makes pages present as any system call's copy does, and checks
/// that the process may access them.
pub trait UserMemory {
    /// Copies `buf.len()` bytes from user address `addr`; `EFAULT` if they
    /// cannot be read.
    fn read(&self, addr: u64, buf: &mut [u8]) -> KResult<()>;
    /// Copies `bytes` to user address `addr`; `EFAULT` if they cannot be
    /// written.
    fn write(&self, addr: u64, bytes: &[u8]) -> KResult<()>;
}

/// An open file description.
pub trait File: Send + Sync {
    /// Reads up to `buf.len()` bytes at the current offset (advancing it);
    /// `Ok(0)` is end of file. May block (pipes, TTY); a blocking read that
    /// a signal interrupts returns `EINTR`.
    fn read(&self, buf: &mut [u8]) -> KResult<usize>;

    /// Writes `buf` at the current offset (or the end with `O_APPEND`);
    /// returns the bytes written.
    fn write(&self, buf: &[u8]) -> KResult<usize>;

    /// Moves the offset (`SEEK_SET`/`SEEK_CUR`/`SEEK_END`); returns the new
    /// offset. Pipes and TTYs: `ESPIPE`.
    fn seek(&self, _offset: i64, _whence: u32) -> KResult<u64> {
        Err(errno::ESPIPE)
    }

    /// `fstat`.
    fn stat(&self) -> KResult<Stat>;

    /// `ftruncate`: sets the length of a regular file open for writing.
    /// Anything else: `EINVAL`.
    fn truncate(&self, _len: u64) -> KResult<()> {
        Err(errno::EINVAL)
    }

    /// Fills `buf` with `linux_dirent64` records from the current position
    /// (advancing it); `Ok(0)` at the end. Not a directory: `ENOTDIR`.
    fn getdents64(&self, _buf: &mut [u8]) -> KResult<usize> {
        Err(errno::ENOTDIR)
    }

    /// A device-specific request; `arg` is the raw user argument (often a
    /// user pointer, copied through `user`). Not a TTY: `ENOTTY`.
    fn ioctl(&self, _request: u32, _arg: u64, _user: &dyn UserMemory) -> KResult<u64> {
        Err(errno::ENOTTY)
    }

    /// The status flags (`O_ACCMODE` bits, `O_APPEND`, `O_NONBLOCK`) for
    /// `fcntl(F_GETFL)`.
    fn status_flags(&self) -> u32;

    /// The access mode (`O_RDONLY`, `O_WRONLY` or `O_RDWR`), fixed at
    /// open.
    fn access_mode(&self) -> u32 {
        self.status_flags() & O_ACCMODE
    }

    /// Replaces the changeable status flags (`O_APPEND`, `O_NONBLOCK`):
    /// `fcntl(F_SETFL)`.
    fn set_status_flags(&self, flags: u32);

    /// The directory this file is, for `openat`/`fchdir` relative lookups;
    /// `None` if it is not one.
    fn as_dir(&self) -> Option<crate::NodeRef> {
        None
    }

    /// Whether data can be read now without blocking (for `poll`).
    fn readable_now(&self) -> bool {
        true
    }

    /// Whether a write would not block now (`POLLOUT`).
    fn writable_now(&self) -> bool {
        true
    }

    /// Whether the other side is gone (`POLLHUP`: a pipe's read end with no
    /// writers; `POLLERR`: a write end with no readers).
    fn hung_up(&self) -> bool {
        false
    }
}
