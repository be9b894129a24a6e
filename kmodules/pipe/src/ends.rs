//! The two ends of a pipe as open file descriptions.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, Ordering};

use abi::errno::{EBADF, EINTR};
use abi::flags::open::{O_ACCMODE, O_APPEND, O_NONBLOCK, O_RDONLY, O_WRONLY};
use abi::types::Stat;
use fs::{File, KResult};

use crate::shared::Pipe;

/// The status flags `fcntl(F_SETFL)` may change.
const CHANGEABLE: u32 = O_APPEND | O_NONBLOCK;

/// The read end.
pub(crate) struct ReadEnd {
    pub(crate) pipe: Arc<Pipe>,
    flags: AtomicU32,
}

/// The write end.
pub(crate) struct WriteEnd {
    pub(crate) pipe: Arc<Pipe>,
    flags: AtomicU32,
}

/// A new pipe's two ends; `O_NONBLOCK` in `flags` applies to both.
pub(crate) fn open(flags: u32) -> KResult<(ReadEnd, WriteEnd)> {
    let pipe = Arc::new(Pipe::new()?);
    let nonblock = flags & O_NONBLOCK;
    let read = ReadEnd { pipe: Arc::clone(&pipe), flags: AtomicU32::new(O_RDONLY | nonblock) };
    let write = WriteEnd { pipe, flags: AtomicU32::new(O_WRONLY | nonblock) };
    Ok((read, write))
}

/// Whether `flags` has `O_NONBLOCK`.
fn nonblocking(flags: &AtomicU32) -> bool {
    flags.load(Ordering::Relaxed) & O_NONBLOCK != 0
}

/// `F_SETFL`: keeps the access mode, replaces the changeable flags.
fn set_changeable(flags: &AtomicU32, new: u32) {
    let access = flags.load(Ordering::Relaxed) & O_ACCMODE;
    flags.store(access | (new & CHANGEABLE), Ordering::Relaxed);
}

impl File for ReadEnd {
    fn read(&self, buf: &mut [u8]) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let nonblock = nonblocking(&self.flags);
        let pipe = &*self.pipe;
        let taken = pipe.readers_wait.wait_interruptible(|| pipe.with(|s| s.try_read(buf, nonblock)));
        let n = taken.unwrap_or(Err(EINTR))?;
        if n > 0 {
            pipe.writers_wait.wake_all();
        }
        Ok(n)
    }

    fn write(&self, _buf: &[u8]) -> KResult<usize> {
        Err(EBADF)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(self.pipe.stat())
    }

    fn status_flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    fn set_status_flags(&self, flags: u32) {
        set_changeable(&self.flags, flags);
    }

    /// Data is buffered, or no write end is left (a read returns 0).
    fn readable_now(&self) -> bool {
        self.pipe.with(|s| s.readable())
    }

    fn writable_now(&self) -> bool {
        false
    }

    fn hung_up(&self) -> bool {
        self.pipe.with(|s| s.writers == 0)
    }
}

impl Drop for ReadEnd {
    fn drop(&mut self) {
        self.pipe.with(|s| s.readers -= 1);
        // Blocked writers now fail with EPIPE.
        self.pipe.writers_wait.wake_all();
    }
}

impl File for WriteEnd {
    fn read(&self, _buf: &mut [u8]) -> KResult<usize> {
        Err(EBADF)
    }

    fn write(&self, buf: &[u8]) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let nonblock = nonblocking(&self.flags);
        let pipe = &*self.pipe;
        let mut done = 0;
        while done < buf.len() {
            let step = pipe.writers_wait.wait_interruptible(|| pipe.with(|s| s.try_write(buf, done, nonblock)));
            match step.unwrap_or(Err(EINTR)) {
                Ok(n) => {
                    done += n;
                    pipe.readers_wait.wake_all();
                }
                Err(error) if done == 0 => return Err(error),
                // Part went in: report it; the next write sees the error.
                Err(_) => break,
            }
        }
        Ok(done)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(self.pipe.stat())
    }

    fn status_flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    fn set_status_flags(&self, flags: u32) {
        set_changeable(&self.flags, flags);
    }

    /// A write end is never readable.
    fn readable_now(&self) -> bool {
        false
    }

    fn writable_now(&self) -> bool {
        self.pipe.with(|s| s.writable())
    }

    fn hung_up(&self) -> bool {
        self.pipe.with(|s| s.readers == 0)
    }
}

impl Drop for WriteEnd {
    fn drop(&mut self) {
        self.pipe.with(|s| s.writers -= 1);
        // Blocked readers now see end of file.
        self.pipe.readers_wait.wake_all();
    }
}

#[cfg(test)]
mod tests {
    use abi::flags::open::{O_CLOEXEC, O_RDWR};

    use super::*;

    #[test]
    fn fcntl_changes_only_append_and_nonblock() {
        let flags = AtomicU32::new(O_WRONLY | O_NONBLOCK);
        set_changeable(&flags, O_RDWR | O_CLOEXEC);
        assert_eq!(flags.load(Ordering::Relaxed), O_WRONLY);
        set_changeable(&flags, O_NONBLOCK | O_APPEND);
        assert_eq!(flags.load(Ordering::Relaxed), O_WRONLY | O_NONBLOCK | O_APPEND);
        assert!(nonblocking(&flags));
    }
}
