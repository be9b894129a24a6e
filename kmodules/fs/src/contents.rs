//! A regular tmpfs file's contents: its length and a sparse map of
//! page-sized blocks. A hole (never written, or grown by `ftruncate`)
//! costs nothing and reads as zeros.
//!
//! Every block is charged to the file system's size limit: what the
//! initramfs unpacked to plus half of the RAM still free after it (Linux's
//! tmpfs takes half of RAM), or `tmpfs.size_mib=N` on the kernel command
//! line. A write that would pass it, or that the kernel heap cannot
//! satisfy, fails with `ENOSPC`; a block's charge is returned when it is
//! dropped (truncated away, or its file collected).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::errno::{EFBIG, EINVAL, ENOSPC};

use crate::KResult;

/// Bytes per block.
pub(crate) const BLOCK: usize = 4096;
/// Largest file: what an `off_t` holds, as on Linux.
const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// The blocks a file system may use and those in use.
pub(crate) struct Budget {
    used: AtomicU64,
    limit: AtomicU64,
}

impl Budget {
    /// No blocks in use; no limit until [`Budget::set_limit`].
    pub const fn new() -> Budget {
        Budget { used: AtomicU64::new(0), limit: AtomicU64::new(u64::MAX) }
    }

    /// Sets the limit to `bytes` (rounded down to blocks).
    pub fn set_limit(&self, bytes: u64) {
        self.limit.store(bytes / BLOCK as u64, Ordering::Relaxed);
    }

    /// The limit and the bytes in use.
    pub fn usage(&self) -> (u64, u64) {
        let blocks = |n: &AtomicU64| n.load(Ordering::Relaxed).saturating_mul(BLOCK as u64);
        (blocks(&self.limit), blocks(&self.used))
    }
}

/// tmpfs's budget.
pub(crate) static TMPFS: Budget = Budget::new();

/// A block of zeros, what holes read as.
static ZEROS: [u8; BLOCK] = [0; BLOCK];

/// Sets the limit at boot, once the initramfs is in: `tmpfs.size_mib`, or
/// what is in use plus half of the free RAM.
pub(crate) fn set_boot_limit() {
    let bytes = match shim::cmdline::get_u64("tmpfs.size_mib") {
        Some(mib) => mib.saturating_mul(1 << 20),
        None => TMPFS.usage().1.saturating_add(free_ram() / 2),
    };
    TMPFS.set_limit(bytes);
}

/// Free RAM in bytes.
#[cfg(target_os = "none")]
fn free_ram() -> u64 {
    shim::mem::frame::free_count() as u64 * 4096
}

/// Host tests have no RAM to measure: no limit.
#[cfg(not(target_os = "none"))]
fn free_ram() -> u64 {
    u64::MAX
}

/// One block: exactly [`BLOCK`] bytes, charged to its budget.
struct Block {
    bytes: Vec<u8>,
    budget: &'static Budget,
}

impl Block {
    /// A zeroed block charged to `budget`; `ENOSPC` past its limit or when
    /// the heap is out of memory.
    fn new(budget: &'static Budget) -> KResult<Block> {
        let charged = budget.used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
            (used < budget.limit.load(Ordering::Relaxed)).then_some(used + 1)
        });
        charged.map_err(|_| ENOSPC)?;
        let mut bytes = Vec::new();
        if bytes.try_reserve_exact(BLOCK).is_err() {
            budget.used.fetch_sub(1, Ordering::Relaxed);
            return Err(ENOSPC);
        }
        bytes.resize(BLOCK, 0);
        Ok(Block { bytes, budget })
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A regular file's bytes.
pub(crate) struct Contents {
    len: u64,
    /// Block index to block; absent blocks are holes.
    blocks: BTreeMap<u64, Block>,
    budget: &'static Budget,
}

impl Contents {
    /// An empty file whose blocks are charged to `budget`.
    pub fn new(budget: &'static Budget) -> Contents {
        Contents { len: 0, blocks: BTreeMap::new(), budget }
    }

    /// The file's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Blocks holding data (for `st_blocks`).
    pub fn blocks(&self) -> u64 {
        self.blocks.len() as u64
    }

    /// The bytes from `offset` to the end of its block or of the file,
    /// whichever is first (empty at or past the end).
    pub fn bytes_at(&self, offset: u64) -> &[u8] {
        if offset >= self.len {
            return &[];
        }
        let (index, within) = (offset / BLOCK as u64, (offset % BLOCK as u64) as usize);
        let count = (BLOCK - within).min((self.len - offset).min(BLOCK as u64) as usize);
        let block = self.blocks.get(&index).map_or(&ZEROS[..], |b| &b.bytes[..]);
        &block[within..within + count]
    }

    /// Hands the bytes of `[offset, offset + len)` that the file holds to
    /// `f(position in the range, bytes)`, a block (or less) at a time;
    /// returns how many it handed, or `f`'s first error.
    pub fn each_piece(
        &self,
        offset: u64,
        len: usize,
        mut f: impl FnMut(usize, &[u8]) -> KResult<()>,
    ) -> KResult<usize> {
        let mut done = 0;
        while done < len {
            let piece = self.bytes_at(offset.saturating_add(done as u64));
            if piece.is_empty() {
                break;
            }
            let count = piece.len().min(len - done);
            f(done, &piece[..count])?;
            done += count;
        }
        Ok(done)
    }

    /// Writes `data` at `offset`, growing the file; returns how many bytes
    /// it wrote: fewer than asked when the limit is reached part way,
    /// `ENOSPC` when not one fitted.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> KResult<usize> {
        let end = offset.checked_add(data.len() as u64).filter(|&e| e <= MAX_FILE_SIZE).ok_or(EFBIG)?;
        let mut at = offset;
        while at < end {
            let (index, within) = (at / BLOCK as u64, (at % BLOCK as u64) as usize);
            let count = (BLOCK - within).min((end - at) as usize);
            let block = match self.blocks.get_mut(&index) {
                Some(block) => block,
                None => match Block::new(self.budget) {
                    Ok(block) => self.blocks.entry(index).or_insert(block),
                    Err(error) if at == offset => return Err(error),
                    Err(_) => break,
                },
            };
            let from = (at - offset) as usize;
            block.bytes[within..within + count].copy_from_slice(&data[from..from + count]);
            at += count as u64;
        }
        self.len = self.len.max(at);
        Ok((at - offset) as usize)
    }

    /// Sets the length: growth is a hole, shrinking drops whole blocks past
    /// the end and zeroes the rest of the last one. A length past `off_t`
    /// (a negative one, to the caller) is `EINVAL`.
    pub fn set_len(&mut self, len: u64) -> KResult<()> {
        if len > MAX_FILE_SIZE {
            return Err(EINVAL);
        }
        if len < self.len {
            let first_gone = len.div_ceil(BLOCK as u64);
            drop(self.blocks.split_off(&first_gone));
            let within = (len % BLOCK as u64) as usize;
            if within != 0
                && let Some(last) = self.blocks.get_mut(&(len / BLOCK as u64))
            {
                last.bytes[within..].fill(0);
            }
        }
        self.len = len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(contents: &Contents) -> Vec<u8> {
        let mut out = Vec::new();
        while (out.len() as u64) < contents.len() {
            out.extend_from_slice(contents.bytes_at(out.len() as u64));
        }
        out
    }

    #[test]
    fn sparse_writes_truncates_and_the_limit() {
        static BUDGET: Budget = Budget::new();
        BUDGET.set_limit(4 * BLOCK as u64);
        let mut file = Contents::new(&BUDGET);
        assert_eq!(file.write(5000, b"hello"), Ok(5));
        assert_eq!((file.len(), file.blocks()), (5005, 1));
        let bytes = read_all(&file);
        assert!(bytes[..5000].iter().all(|&b| b == 0));
        assert_eq!(&bytes[5000..], b"hello");
        // Growth is a hole; a huge length costs nothing.
        file.set_len(1 << 40).unwrap();
        assert_eq!(file.blocks(), 1);
        assert_eq!(file.bytes_at((1 << 40) - 1), &[0]);
        assert_eq!(file.set_len(u64::MAX), Err(EINVAL));
        assert_eq!(file.write(u64::MAX - 2, b"abc"), Err(EFBIG));
        // Shrinking zeroes the tail of the last block.
        file.set_len(5002).unwrap();
        file.set_len(5005).unwrap();
        assert_eq!(&read_all(&file)[5000..], b"he\0\0\0");
        // Past the limit: what fits is written, then ENOSPC.
        let mut big = Contents::new(&BUDGET);
        assert_eq!(big.write(0, &[7; 4 * BLOCK]), Ok(3 * BLOCK));
        assert_eq!(big.len(), 3 * BLOCK as u64);
        assert_eq!(big.write(3 * BLOCK as u64, &[7; BLOCK]), Err(ENOSPC));
        drop(file);
        assert_eq!(big.write(3 * BLOCK as u64, &[7; BLOCK]), Ok(BLOCK));
        drop(big);
        assert_eq!(BUDGET.usage(), (4 * BLOCK as u64, 0));
    }
}
