//! Listing directories: `getdents64` with `.` and `..` first, then the
//! entries in name order.

use alloc::vec::Vec;
use core::ops::Bound;

use abi::errno::EINVAL;
use abi::flags::seek::{SEEK_CUR, SEEK_SET};

use crate::KResult;
use crate::dirent::{self, DT_CHR, DT_DIR, DT_LNK, DT_REG};
use crate::node::{Kind, NodePtr};

/// Where the next `getdents64` of a directory (tmpfs or synthetic)
/// continues.
#[derive(Default)]
pub(crate) struct Cursor {
    /// Records returned so far (`.` and `..` count): the `d_off` cookie
    /// and what `lseek` sets.
    pub(crate) position: u64,
    /// The last entry returned, so that entries added or removed meanwhile
    /// do not make the listing skip or repeat others. `None` after a seek:
    /// skip `position - 2` entries instead.
    pub(crate) after: Option<Vec<u8>>,
}

impl Cursor {
    /// `lseek` on a directory: only absolute positions (a `d_off` cookie,
    /// 0 to rewind) and asking for the current one.
    pub(crate) fn seek(&mut self, offset: i64, whence: u32) -> KResult<u64> {
        match (whence, u64::try_from(offset)) {
            (SEEK_SET, Ok(position)) => *self = Cursor { position, after: None },
            (SEEK_CUR, Ok(0)) => {}
            _ => return Err(EINVAL),
        }
        Ok(self.position)
    }
}

/// Fills `buf` with the `linux_dirent64` records of directory `node` from
/// `cursor` on (advancing it); returns the bytes written and whether the
/// next record did not fit. A removed directory (or not one) lists nothing.
pub(crate) fn list(node: NodePtr<'_>, cursor: &mut Cursor, buf: &mut [u8]) -> (usize, bool) {
    let n = node.borrow();
    let Ok(dir) = n.dir() else { return (0, false) };
    if n.meta.nlink == 0 {
        return (0, false);
    }
    let mut written = 0;
    while cursor.position < 2 {
        let (ino, name): (u64, &[u8]) = match cursor.position {
            0 => (n.ino, b"."),
            _ => (dir.parent.map_or(n.ino, |p| p.borrow().ino), b".."),
        };
        match dirent::encode(&mut buf[written..], ino, cursor.position + 1, DT_DIR, name) {
            Some(record) => written += record,
            None => return (written, true),
        }
        cursor.position += 1;
    }
    let (start, skip) = match &cursor.after {
        Some(name) => (Bound::Excluded(&name[..]), 0),
        None => (Bound::Unbounded, (cursor.position - 2) as usize),
    };
    let mut last = None;
    let mut full = false;
    for (name, child) in dir.entries.range::<[u8], _>((start, Bound::Unbounded)).skip(skip) {
        let child = child.borrow();
        let d_type = match child.kind {
            Kind::File(_) => DT_REG,
            Kind::Dir(_) => DT_DIR,
            Kind::Symlink(_) => DT_LNK,
            Kind::CharDev(_) => DT_CHR,
        };
        match dirent::encode(&mut buf[written..], child.ino, cursor.position + 1, d_type, name) {
            Some(record) => written += record,
            None => {
                full = true;
                break;
            }
        }
        cursor.position += 1;
        last = Some(name);
    }
    if let Some(name) = last {
        cursor.after = Some(name.clone());
    }
    (written, full)
}
