//! Synthetic file systems: trees whose nodes and contents another module
//! computes on demand (procfs), mounted on a tmpfs directory.
//!
//! A mount marks its tmpfs directory (`Dir::mount`, an index of the mount
//! table): a lookup that reaches it continues in the synthetic tree (see
//! walk.rs). The [`Synthetic`] implementation is only ever called outside
//! heap scopes, so it may take its own locks, sleep, or call back into
//! this crate. A synthetic node is a [`SynthRef`]: its mount, its path
//! relative to the mount point (no leading slash, `""` for the mount root)
//! and what it was when looked up. Everything in it is read-only: files
//! open read-only with a snapshot of their contents taken at open,
//! directories list `.`, `..` and then what [`Synthetic::list`] gives.

use alloc::sync::Arc;
use alloc::vec::Vec;

use abi::errno::{EACCES, EBADF, EBUSY, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR};
use abi::flags::mode::{S_IFDIR, S_IFLNK, S_IFREG};
use abi::flags::open::{O_ACCMODE, O_CREAT, O_DIRECTORY, O_RDONLY};
use abi::types::Stat;

use runtime::sync::SpinLock;

use crate::directory::Cursor;
use crate::dirent::{self, DT_DIR, DT_LNK, DT_REG};
use crate::lock::PositionLock;
use crate::node::{NodeRef, Place, TmpfsRef, heap, now, scoped};
use crate::regular::seek_target;
use crate::status::StatusFlags;
use crate::walk::{CROSSED, resolve};
use crate::{File, KResult, path};

/// What a synthetic node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SynthKind {
    /// A directory (listed by [`Synthetic::list`]).
    Dir,
    /// A regular file (contents from [`Synthetic::read`]).
    File,
    /// A symbolic link to this target (relative targets start at the
    /// directory holding the link; absolute ones at the real root).
    Symlink(Vec<u8>),
}

/// A file system whose tree and contents are computed on demand (procfs).
/// Paths are relative to the mount point, without leading slash; b"" is the mount root.
///
/// The methods are called outside the file system's heap scopes (they may
/// lock, sleep and use this crate), with paths whose components are never
/// empty, `.` or `..`: `b"12"`, `b"12/stat"`, `b"self"`.
pub trait Synthetic: Send + Sync {
    /// What `path` is, or None if it does not exist.
    fn kind(&self, path: &[u8]) -> Option<SynthKind>;
    /// The entries (name, kind) of directory `path` (not "." / ".."); None if not a directory.
    fn list(&self, path: &[u8]) -> Option<Vec<(Vec<u8>, SynthKind)>>;
    /// The contents of file `path`, generated when it is opened; None if it vanished.
    fn read(&self, path: &[u8]) -> Option<Vec<u8>>;
    /// The owner and group `stat` reports for `path` (root's unless told).
    fn owner(&self, _path: &[u8]) -> (u32, u32) {
        (0, 0)
    }
}

/// What refuses every change inside a synthetic file system (Linux's procfs
/// gives `EACCES` for most of them, its mode bits having no write bit).
pub(crate) const READ_ONLY: abi::errno::Errno = EACCES;

/// Reported as `st_dev` of mount `id`'s nodes (tmpfs has 1).
fn dev(id: u32) -> u64 {
    2 + u64::from(id)
}

/// A mounted synthetic file system.
pub(crate) struct Mount {
    /// Its index in [`MOUNTS`].
    pub id: u32,
    pub fs: Arc<dyn Synthetic>,
    /// The tmpfs directory it is mounted on.
    pub point: TmpfsRef,
}

/// The mount table. Never taken inside a heap scope.
static MOUNTS: SpinLock<Vec<Arc<Mount>>> = SpinLock::new(Vec::new());

/// Mount `id` (an index a tmpfs directory carries).
pub(crate) fn mount(id: u32) -> Arc<Mount> {
    Arc::clone(&MOUNTS.lock()[id as usize])
}

/// Mounts `fs` on the existing directory `at` (absolute path): lookups that reach `at` continue in `fs`.
///
/// `EINVAL` for a relative path, `ENOTDIR` if `at` is not a directory,
/// `EBUSY` for the root or a directory something is already mounted on
/// (or one inside a synthetic file system).
pub fn mount_synthetic(at: &[u8], fs: Arc<dyn Synthetic>) -> KResult<()> {
    if !path::is_absolute(at) {
        return Err(EINVAL);
    }
    let crossed = |error| if error == CROSSED { EBUSY } else { error };
    let point: TmpfsRef = scoped(|s| {
        let node = resolve(s, &crate::Cred::ROOT, &crate::root(), at, true)?;
        let n = node.borrow();
        if n.dir()?.parent.is_none() {
            return Err(EBUSY);
        }
        drop(n);
        Ok(TmpfsRef::new(s, node))
    })
    .map_err(crossed)?;
    // Entered in the table before the directory points at it.
    let mount = {
        let mut mounts = MOUNTS.lock();
        let id = u32::try_from(mounts.len()).map_err(|_| EBUSY)?;
        let mount = Arc::new(Mount { id, fs, point });
        mounts.push(Arc::clone(&mount));
        mount
    };
    scoped(|s| {
        let node = mount.point.get(s);
        let mut n = node.borrow_mut(s.mc());
        if n.meta.nlink == 0 {
            return Err(ENOENT);
        }
        let dir = n.dir_mut()?;
        if dir.mount.is_some() {
            return Err(EBUSY);
        }
        dir.mount = Some(mount.id);
        Ok(())
    })
}

/// A node of a synthetic file system.
#[derive(Clone)]
pub(crate) struct SynthRef {
    pub mount: Arc<Mount>,
    /// Relative to the mount point: no leading slash, `""` for its root.
    pub path: Vec<u8>,
    /// What it was when looked up.
    pub kind: SynthKind,
}

impl SynthRef {
    /// The root of mount `id`.
    pub fn root(id: u32) -> Self {
        Self { mount: mount(id), path: Vec::new(), kind: SynthKind::Dir }
    }

    /// The path of entry `name` of this directory.
    fn child_path(&self, name: &[u8]) -> Vec<u8> {
        if self.path.is_empty() { name.to_vec() } else { [&self.path[..], b"/", name].concat() }
    }

    /// The entry `name` (not `.` or `..`) of this directory: `ENOTDIR` if
    /// this is not one, `ENOENT` if there is no such entry.
    pub fn child(&self, name: &[u8]) -> KResult<SynthRef> {
        if self.kind != SynthKind::Dir {
            return Err(ENOTDIR);
        }
        let path = self.child_path(name);
        let kind = self.mount.fs.kind(&path).ok_or(ENOENT)?;
        Ok(Self { mount: Arc::clone(&self.mount), path, kind })
    }

    /// Whether this directory has an entry `name` (`.` and `..` always).
    pub fn has(&self, name: &[u8]) -> bool {
        path::is_special(name) || self.child(name).is_ok()
    }

    /// The parent directory; `None` for the mount root (whose parent is the
    /// mount point's, in tmpfs).
    pub fn parent(&self) -> Option<SynthRef> {
        if self.path.is_empty() {
            return None;
        }
        let end = self.path.iter().rposition(|&b| b == b'/').unwrap_or(0);
        Some(Self { mount: Arc::clone(&self.mount), path: self.path[..end].to_vec(), kind: SynthKind::Dir })
    }

    /// The absolute path, e.g. `/proc/12`.
    pub fn full_path(&self) -> Vec<u8> {
        let mut full = self.mount.point.path();
        if !self.path.is_empty() {
            full.push(b'/');
            full.extend_from_slice(&self.path);
        }
        full
    }

    /// The inode number: a hash of the mount and the path, so the same
    /// path always has the same one, in a range tmpfs never reaches.
    pub fn ino(&self) -> u64 {
        ino_of(self.mount.id, &self.path)
    }

    /// `stat`: directories `0555` (links: 2 + subdirectories), files `0444`
    /// (size 0, as on Linux: the contents exist only once opened), symbolic
    /// links `0777`; owner and group as [`Synthetic::owner`] says; times
    /// are now.
    pub fn stat(&self) -> Stat {
        let (mode, nlink, size) = match &self.kind {
            SynthKind::Dir => {
                let subdirs = self
                    .mount
                    .fs
                    .list(&self.path)
                    .map_or(0, |entries| entries.iter().filter(|(_, kind)| *kind == SynthKind::Dir).count() as u64);
                (S_IFDIR | 0o555, 2 + subdirs, 0)
            }
            SynthKind::File => (S_IFREG | 0o444, 1, 0),
            SynthKind::Symlink(target) => (S_IFLNK | 0o777, 1, target.len() as i64),
        };
        let t = now();
        let (sec, nsec) = ((t / 1_000_000_000) as i64, (t % 1_000_000_000) as i64);
        let (uid, gid) = self.mount.fs.owner(&self.path);
        Stat {
            st_dev: dev(self.mount.id),
            st_ino: self.ino(),
            st_nlink: nlink,
            st_mode: mode,
            st_uid: uid,
            st_gid: gid,
            st_size: size,
            st_blksize: 4096,
            st_atime: sec,
            st_atime_nsec: nsec,
            st_mtime: sec,
            st_mtime_nsec: nsec,
            st_ctime: sec,
            st_ctime_nsec: nsec,
            ..Stat::default()
        }
    }

    /// The inode number of `..`.
    fn parent_ino(&self) -> u64 {
        match self.parent() {
            Some(parent) => parent.ino(),
            None => heap().mutate(|s| {
                let point = self.mount.point.get(s);
                let n = point.borrow();
                n.dir().ok().and_then(|dir| dir.parent).map_or(n.ino, |parent| parent.borrow().ino)
            }),
        }
    }
}

impl From<SynthRef> for NodeRef {
    fn from(node: SynthRef) -> Self {
        Self(Place::Synth(node))
    }
}

/// The inode number of `path` in mount `id` (FNV-1a, 48 bits, above every
/// tmpfs number).
fn ino_of(id: u32, path: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in id.to_le_bytes().iter().chain(path) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME);
    }
    (1 << 48) | (hash & ((1 << 48) - 1))
}

/// Opens a synthetic node (already resolved, a final link followed or not
/// as asked): a directory read-only, a file read-only with a snapshot of
/// its contents.
pub(crate) fn open(node: SynthRef, flags: u32) -> KResult<Arc<dyn File>> {
    let read_only = flags & O_ACCMODE == O_RDONLY;
    match node.kind {
        SynthKind::Symlink(_) => Err(ELOOP),
        SynthKind::Dir if !read_only || flags & O_CREAT != 0 => Err(EISDIR),
        SynthKind::Dir => Ok(Arc::new(SynthDir {
            node,
            cursor: PositionLock::new(Cursor::default()),
            flags: StatusFlags::new(flags),
        })),
        SynthKind::File if flags & O_DIRECTORY != 0 => Err(ENOTDIR),
        SynthKind::File if !read_only => Err(READ_ONLY),
        SynthKind::File => {
            let data = node.mount.fs.read(&node.path).ok_or(ENOENT)?;
            Ok(Arc::new(SynthFile { node, data, offset: PositionLock::new(0), flags: StatusFlags::new(flags) }))
        }
    }
}

/// An open synthetic file: the contents as they were at open.
struct SynthFile {
    node: SynthRef,
    data: Vec<u8>,
    offset: PositionLock<u64>,
    flags: StatusFlags,
}

impl File for SynthFile {
    fn read(&self, buf: &mut [u8]) -> KResult<usize> {
        let mut offset = self.offset.lock();
        let available = usize::try_from(*offset).ok().and_then(|o| self.data.get(o..)).unwrap_or_default();
        let count = buf.len().min(available.len());
        buf[..count].copy_from_slice(&available[..count]);
        *offset += count as u64;
        Ok(count)
    }

    fn write(&self, _buf: &[u8]) -> KResult<usize> {
        Err(EBADF)
    }

    fn seek(&self, offset: i64, whence: u32) -> KResult<u64> {
        let mut current = self.offset.lock();
        *current = seek_target(*current, self.data.len() as u64, offset, whence)?;
        Ok(*current)
    }

    fn stat(&self) -> KResult<Stat> {
        let mut stat = self.node.stat();
        stat.st_size = self.data.len() as i64;
        Ok(stat)
    }

    fn status_flags(&self) -> u32 {
        self.flags.get()
    }

    fn set_status_flags(&self, flags: u32) {
        self.flags.set(flags);
    }
}

/// An open synthetic directory.
struct SynthDir {
    node: SynthRef,
    cursor: PositionLock<Cursor>,
    flags: StatusFlags,
}

impl File for SynthDir {
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

    /// `.`, `..`, then the entries in [`Synthetic::list`]'s order, listed
    /// afresh at each call.
    fn getdents64(&self, buf: &mut [u8]) -> KResult<usize> {
        let mut cursor = self.cursor.lock();
        let Some(entries) = self.node.mount.fs.list(&self.node.path) else { return Ok(0) };
        let mut written = 0;
        let mut full = false;
        while cursor.position < 2 && !full {
            let (ino, name): (u64, &[u8]) = match cursor.position {
                0 => (self.node.ino(), b"."),
                _ => (self.node.parent_ino(), b".."),
            };
            match dirent::encode(&mut buf[written..], ino, cursor.position + 1, DT_DIR, name) {
                Some(record) => {
                    written += record;
                    cursor.position += 1;
                }
                None => full = true,
            }
        }
        let resume = cursor.after.as_ref().and_then(|after| entries.iter().position(|(name, _)| name == after));
        let start = match resume {
            Some(index) => index + 1,
            None => usize::try_from(cursor.position.saturating_sub(2)).unwrap_or(usize::MAX),
        };
        for (name, kind) in entries.iter().skip(start) {
            if full {
                break;
            }
            let d_type = match kind {
                SynthKind::Dir => DT_DIR,
                SynthKind::File => DT_REG,
                SynthKind::Symlink(_) => DT_LNK,
            };
            let ino = ino_of(self.node.mount.id, &self.node.child_path(name));
            match dirent::encode(&mut buf[written..], ino, cursor.position + 1, d_type, name) {
                Some(record) => {
                    written += record;
                    cursor.position += 1;
                    cursor.after = Some(name.clone());
                }
                None => full = true,
            }
        }
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
        Some(self.node.clone().into())
    }
}
