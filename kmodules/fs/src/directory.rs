//! Open directories: `getdents64` with `.` and `..` first, then the
//! entries in name order.

use alloc::vec::Vec;
use core::ops::Bound;

use crate::lock::PositionLock;
use abi::errno::{EBADF, EINVAL, EISDIR};
use abi::flags::seek::{SEEK_CUR, SEEK_SET};
use abi::types::Stat;

use crate::dirent::{self, DT_CHR, DT_DIR, DT_LNK, DT_REG};
use crate::node::{Kind, NodeRef, Place, TmpfsRef, heap};
use crate::regular::CHUNK;
use crate::status::StatusFlags;
use crate::{File, KResult};

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

/// An open directory.
pub(crate) struct DirFile {
    node: TmpfsRef,
    cursor: PositionLock<Cursor>,
    flags: StatusFlags,
}

impl DirFile {
    pub fn new(node: TmpfsRef, flags: u32) -> Self {
        Self { node, cursor: PositionLock::new(Cursor::default()), flags: StatusFlags::new(flags) }
    }
}

impl File for DirFile {
    fn read(&self, _buf: &mut [u8]) -> KResult<usize> {
        Err(EISDIR)
    }

    fn write(&self, _buf: &[u8]) -> KResult<usize> {
        Err(EBADF)
    }

    fn seek(&self, offset: i64, whence: u32) -> KResult<u64> {
        self.cursor.lock().seek(offset, whence)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(self.node.stat())
    }

    fn getdents64(&self, buf: &mut [u8]) -> KResult<usize> {
        let mut cursor = self.cursor.lock();
        let len = buf.len().min(CHUNK);
        let buf = &mut buf[..len];
        let (written, full) = heap().mutate(|s| {
            let node = self.node.get(s);
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
        });
        // Not even one record fitted.
        if written == 0 && full {
            return Err(EINVAL);
        }
        Ok(written)
    }

    fn status_flags(&self) -> u32 {
        self.flags.get()
    }

    fn set_status_flags(&self, flags: u32) {
        self.flags.set(flags);
    }

    fn as_dir(&self) -> Option<NodeRef> {
        Some(NodeRef(Place::Tmpfs(self.node.clone())))
    }
}
