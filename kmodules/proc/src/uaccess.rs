//! The calling process's user memory, as system calls see it: every
//! access first makes the range present through the process's [`Vm`]
//! (demand paging happens here for kernel copies), then copies with the
//! shim's fault-tolerant copy. A bad pointer is `EFAULT`, never a kernel
//! fault.
//!
//! [`Vm`]: vm::Vm

use alloc::vec::Vec;

use abi::errno::{EFAULT, EINVAL, ENAMETOOLONG};
use abi::types::Timespec;
use fs::KResult;
use shim::mem::bytes::{self, Plain};
use shim::mem::usercopy::{copy_from_user, copy_to_user};

use crate::process::Process;

/// Longest path accepted (Linux's `PATH_MAX`, including the NUL).
pub use abi::flags::limits::PATH_MAX;

fn prefault(process: &Process, addr: u64, len: usize, write: bool) -> KResult<()> {
    process.vm.lock().as_mut().ok_or(EFAULT)?.prefault(addr, len, write)
}

/// Checks that `[addr, addr + len)` could be written (making it present).
pub fn check_writable(process: &Process, addr: u64, len: usize) -> KResult<()> {
    prefault(process, addr, len, true)
}

/// Copies `buf.len()` bytes from user address `addr`.
pub fn read(process: &Process, addr: u64, buf: &mut [u8]) -> KResult<()> {
    prefault(process, addr, buf.len(), false)?;
    copy_from_user(buf, addr).map_err(|_| EFAULT)
}

/// Copies `bytes` to user address `addr`.
pub fn write(process: &Process, addr: u64, bytes: &[u8]) -> KResult<()> {
    prefault(process, addr, bytes.len(), true)?;
    copy_to_user(addr, bytes).map_err(|_| EFAULT)
}

/// The deadline (kernel clock, ns) of an absolute timeout at `addr` on
/// the monotonic clock, or the realtime one if `realtime`: never for a
/// null pointer.
pub fn read_absolute_deadline(process: &Process, addr: u64, realtime: bool) -> KResult<u64> {
    if addr == 0 {
        return Ok(u64::MAX);
    }
    let at = read_duration(process, addr)?;
    Ok(match realtime {
        // The realtime clock runs at the kernel clock's rate, ahead of it.
        true => at.saturating_sub(shim::rtc::realtime_ns().saturating_sub(shim::time::now_ns())),
        false => at,
    })
}

/// A process's memory for a file's `ioctl` (see `fs::UserMemory`).
pub struct Caller<'a>(pub &'a Process);

impl fs::UserMemory for Caller<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> KResult<()> {
        read(self.0, addr, buf)
    }

    fn write(&self, addr: u64, bytes: &[u8]) -> KResult<()> {
        write(self.0, addr, bytes)
    }
}

/// Reads a plain-data value (an integer or ABI struct).
pub fn read_value<T: Plain + Default>(process: &Process, addr: u64) -> KResult<T> {
    let mut value = T::default();
    read(process, addr, bytes::of_mut(&mut value))?;
    Ok(value)
}

/// Reads a `struct timespec` duration at `addr` as nanoseconds (saturating);
/// a negative or unnormalized one is `EINVAL`.
pub fn read_duration(process: &Process, addr: u64) -> KResult<u64> {
    let ts: Timespec = read_value(process, addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(EINVAL);
    }
    Ok((ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64))
}

/// The deadline (kernel clock, ns) of a relative timeout at `addr`: never
/// for a null pointer.
pub fn read_deadline(process: &Process, addr: u64) -> KResult<u64> {
    match addr {
        0 => Ok(u64::MAX),
        addr => Ok(shim::time::now_ns().saturating_add(read_duration(process, addr)?)),
    }
}

/// Writes a plain-data value.
pub fn write_value<T: Plain>(process: &Process, addr: u64, value: &T) -> KResult<()> {
    write(process, addr, bytes::of(value))
}

/// Paths up to this long (NUL included) are read onto the stack, longer
/// ones into the kernel heap.
const SHORT_PATH: usize = 256;

/// Reads the NUL-terminated string at `addr` into `buf`; returns its
/// length (NUL excluded), or `ENAMETOOLONG` if it does not fit with its
/// NUL. Reads never cross into a page the string does not reach, so a
/// string that ends just before an unmapped page is fine.
fn read_cstring_into(process: &Process, addr: u64, buf: &mut [u8]) -> KResult<usize> {
    let mut len = 0;
    while len < buf.len() {
        let at = addr.checked_add(len as u64).ok_or(EFAULT)?;
        let chunk = (4096 - (at % 4096) as usize).min(buf.len() - len);
        let piece = &mut buf[len..len + chunk];
        read(process, at, piece)?;
        if let Some(end) = piece.iter().position(|&b| b == 0) {
            return Ok(len + end);
        }
        len += chunk;
    }
    Err(ENAMETOOLONG)
}

/// Reads the NUL-terminated string at `addr` a piece of at most
/// [`SHORT_PATH`] bytes at a time, handing each piece (without the NUL) to
/// `sink`; returns its length, or `ENAMETOOLONG` if it is longer than
/// `max` bytes with its NUL.
pub fn read_cstring_pieces(
    process: &Process,
    addr: u64,
    max: usize,
    mut sink: impl FnMut(&[u8]) -> KResult<()>,
) -> KResult<usize> {
    let mut piece = [0u8; SHORT_PATH];
    let mut done = 0;
    loop {
        let at = addr.checked_add(done as u64).ok_or(EFAULT)?;
        let room = piece.len().min(max - done);
        match read_cstring_into(process, at, &mut piece[..room]) {
            Ok(len) => {
                sink(&piece[..len])?;
                return Ok(done + len);
            }
            Err(ENAMETOOLONG) if done + room < max => {
                sink(&piece[..room])?;
                done += room;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Runs `f` with the path argument at `addr` (without its NUL), read onto
/// the stack when it is short; `ENAMETOOLONG` past [`PATH_MAX`].
pub fn with_path<T>(process: &Process, addr: u64, f: impl FnOnce(&[u8]) -> KResult<T>) -> KResult<T> {
    let mut short = [0u8; SHORT_PATH];
    match read_cstring_into(process, addr, &mut short) {
        Ok(len) => f(&short[..len]),
        Err(ENAMETOOLONG) => {
            let mut long = Vec::new();
            read_cstring_pieces(process, addr, PATH_MAX, |piece| {
                long.extend_from_slice(piece);
                Ok(())
            })?;
            f(&long)
        }
        Err(error) => Err(error),
    }
}
