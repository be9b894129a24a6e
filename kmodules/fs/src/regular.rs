//! Regular tmpfs files: reads, writes and lengths of their contents
//! (`contents`).
//!
//! Reads and writes copy at most [`CHUNK`] bytes per heap scope, so a big
//! transfer holds the heap lock only briefly at a time.

use abi::errno::{EINVAL, EISDIR};
use abi::flags::seek::{SEEK_CUR, SEEK_END, SEEK_SET};
use runtime::heap::Scope;

use crate::KResult;
use crate::node::{Kind, NodePtr, TmpfsRef, heap};

/// Bytes copied per heap scope.
pub(crate) const CHUNK: usize = 64 << 10;
/// Sets a regular file's length (growth is a hole: it costs nothing).
pub(crate) fn set_len<'gc>(s: &Scope<'_, 'gc>, node: NodePtr<'gc>, len: u64) -> KResult<()> {
    let mut n = node.borrow_mut(s.mc());
    match &mut n.kind {
        Kind::File(contents) => contents.set_len(len)?,
        Kind::Dir(_) => return Err(EISDIR),
        _ => return Err(EINVAL),
    }
    n.touch();
    Ok(())
}

/// Copies file bytes from `offset` into `buf`; returns how many (fewer at
/// the end of the file).
pub(crate) fn read_at(node: &TmpfsRef, offset: u64, buf: &mut [u8]) -> usize {
    copy_out(node, offset, buf.len(), |done, bytes| {
        buf[done..done + bytes.len()].copy_from_slice(bytes);
        Ok(())
    })
    .unwrap_or(0)
}

/// Hands up to `len` file bytes from `offset` to `sink(done, bytes)`, at
/// most [`CHUNK`] at a time, each inside a scope of the file system's heap
/// (so `sink` must not block or open a scope); returns how many bytes it
/// handed (fewer at the end of the file), or `sink`'s first error.
pub(crate) fn copy_out(
    node: &TmpfsRef,
    offset: u64,
    len: usize,
    mut sink: impl FnMut(usize, &[u8]) -> KResult<()>,
) -> KResult<usize> {
    let mut done = 0;
    while done < len {
        let start = offset.saturating_add(done as u64);
        let copied = heap().mutate(|s| {
            let node = node.get(s);
            let n = node.borrow();
            let Kind::File(contents) = &n.kind else { return Ok(0) };
            contents.each_piece(start, (len - done).min(CHUNK), |at, bytes| sink(done + at, bytes))
        })?;
        if copied == 0 {
            break;
        }
        done += copied;
    }
    Ok(done)
}

/// Writes `chunk` into file `node` at `at` (`None`: at its end); returns
/// the offset after what it wrote and how many bytes that was (short of the
/// whole chunk when tmpfs fills up part way).
pub(crate) fn write_chunk<'gc>(
    s: &Scope<'_, 'gc>,
    node: NodePtr<'gc>,
    at: Option<u64>,
    chunk: &[u8],
) -> KResult<(u64, usize)> {
    let mut n = node.borrow_mut(s.mc());
    let Kind::File(contents) = &mut n.kind else { return Err(EINVAL) };
    let start = at.unwrap_or(contents.len());
    let written = contents.write(start, chunk)?;
    n.touch();
    Ok((start + written as u64, written))
}

/// New offset of an `lseek`, or `EINVAL` if it is negative or overflows.
pub(crate) fn seek_target(current: u64, end: u64, offset: i64, whence: u32) -> KResult<u64> {
    let base = match whence {
        SEEK_SET => 0,
        SEEK_CUR => current,
        SEEK_END => end,
        _ => return Err(EINVAL),
    };
    base.checked_add_signed(offset).filter(|&target| target <= i64::MAX as u64).ok_or(EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seek_targets() {
        assert_eq!(seek_target(5, 100, 3, SEEK_SET), Ok(3));
        assert_eq!(seek_target(5, 100, -2, SEEK_CUR), Ok(3));
        assert_eq!(seek_target(5, 100, 10, SEEK_END), Ok(110));
        assert_eq!(seek_target(5, 100, -6, SEEK_CUR), Err(EINVAL));
        assert_eq!(seek_target(5, 100, 0, 7), Err(EINVAL));
        assert_eq!(seek_target(u64::MAX / 2, 0, i64::MAX, SEEK_CUR), Err(EINVAL));
    }
}
