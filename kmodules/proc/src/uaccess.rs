//! The calling process's user memory, as system calls see it: every
//! access first makes the range present through the process's [`Vm`]
//! (demand paging happens here for kernel copies), then copies with the
//! shim's fault-tolerant copy. A bad pointer is `EFAULT`, never a kernel
//! fault.
//!
//! [`Vm`]: vm::Vm

use alloc::vec::Vec;

use abi::errno::{E2BIG, EFAULT, ENAMETOOLONG};
use fs::KResult;
use shim::mem::bytes::{self, Plain};
use shim::mem::usercopy::{copy_from_user, copy_to_user};

use crate::process::Process;

/// Longest path accepted (Linux's `PATH_MAX`, including the NUL).
pub use abi::flags::limits::PATH_MAX;
/// Most bytes of arguments and environment for `execve`.
pub const ARG_MAX: usize = 128 << 10;

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

/// Reads a plain-data value (an integer or ABI struct).
pub fn read_value<T: Plain + Default>(process: &Process, addr: u64) -> KResult<T> {
    let mut value = T::default();
    read(process, addr, bytes::of_mut(&mut value))?;
    Ok(value)
}

/// Writes a plain-data value.
pub fn write_value<T: Plain>(process: &Process, addr: u64, value: &T) -> KResult<()> {
    write(process, addr, bytes::of(value))
}

/// Bytes of a string read from user memory at a time (on the stack).
const CSTRING_CHUNK: usize = 128;

/// Reads a NUL-terminated string of at most `max` bytes (NUL included);
/// `ENAMETOOLONG` beyond.
pub fn read_cstring(process: &Process, addr: u64, max: usize) -> KResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = addr;
    let mut buf = [0u8; CSTRING_CHUNK];
    loop {
        // Never past the end of the page, so a string that ends just
        // before an unmapped page is fine.
        let chunk = (4096 - (at % 4096) as usize).min(max + 1 - out.len()).min(CSTRING_CHUNK);
        let buf = &mut buf[..chunk];
        read(process, at, buf)?;
        if let Some(end) = buf.iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..end]);
            return Ok(out);
        }
        out.extend_from_slice(buf);
        if out.len() >= max {
            return Err(ENAMETOOLONG);
        }
        at += chunk as u64;
    }
}

/// Reads a path argument.
pub fn read_path(process: &Process, addr: u64) -> KResult<Vec<u8>> {
    read_cstring(process, addr, PATH_MAX - 1)
}

/// Reads a NULL-terminated array of string pointers (argv, envp); `E2BIG`
/// past [`ARG_MAX`] bytes in total. A null array is empty.
pub fn read_string_array(process: &Process, addr: u64) -> KResult<Vec<Vec<u8>>> {
    let mut strings = Vec::new();
    if addr == 0 {
        return Ok(strings);
    }
    let mut total = 0;
    for index in 0.. {
        let pointer: u64 = read_value(process, addr + 8 * index)?;
        if pointer == 0 {
            break;
        }
        let string = read_cstring(process, pointer, ARG_MAX).map_err(|e| if e == ENAMETOOLONG { E2BIG } else { e })?;
        total += string.len() + 1 + 8;
        if total > ARG_MAX {
            return Err(E2BIG);
        }
        strings.push(string);
    }
    Ok(strings)
}
