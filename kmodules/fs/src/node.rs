//! tmpfs nodes in the file system's GC heap, and [`NodeRef`], the counted
//! reference that code outside a heap scope holds.
//!
//! A node is one `GcRefLock<Node>`: its metadata and its contents — a
//! file's bytes, a directory's entry map and parent link, a symbolic
//! link's target, a device's number. Directories point at their children
//! and back at their parent; the cycles are the collector's business. A
//! node lives as long as a directory entry or a [`NodeRef`] (an open file,
//! a current directory) reaches it: an unlinked open file keeps working.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::errno::{ENOENT, ENOMEM, ENOTDIR};
use abi::flags::mode::{S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG};
use abi::types::Stat;
use gc_arena::Collect;
use runtime::heap::{GcRefLock, Handle, Heap, RefLock, Rootable, Scope};

use crate::KResult;
use crate::contents::{BLOCK, Contents};
use crate::cred::{Cred, Owner};
use crate::synth::{SynthKind, SynthRef};

/// A node in a scope.
pub(crate) type NodePtr<'gc> = GcRefLock<'gc, Node<'gc>>;
/// The rootable form of a node, for handles.
pub(crate) type NodeRoot = Rootable![RefLock<Node<'_>>];

/// Reported as every node's `st_dev`.
const DEV: u64 = 1;
/// `st_size` a directory reports per entry (as Linux's tmpfs does).
const DIRENT_SIZE: u64 = 20;
/// Bytes a directory entry costs beyond its name, for the heap's limit.
pub(crate) const ENTRY_OVERHEAD: u64 = 64;

/// The file system's heap.
static HEAP: spin::Once<Heap> = spin::Once::new();
/// The next inode number.
static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// The heap tmpfs nodes live in.
pub(crate) fn heap() -> &'static Heap {
    HEAP.call_once(|| runtime::heap::layout::subsystem("fs"))
}

/// Runs `f` in a scope of the file system's heap. An `ENOMEM` (a refused
/// allocation, after which the heap collected) runs `f` once more, so `f`
/// must allocate before it links anything in.
pub(crate) fn scoped<T>(mut f: impl for<'gc> FnMut(&Scope<'static, 'gc>) -> KResult<T>) -> KResult<T> {
    match heap().mutate(&mut f) {
        Err(ENOMEM) => heap().mutate(f),
        result => result,
    }
}

/// Nanoseconds since the Unix epoch (the RTC at boot plus the monotonic
/// clock): the file system's clock.
pub(crate) fn now() -> u64 {
    shim::rtc::realtime_ns()
}

/// Metadata every node has.
#[derive(Clone, Copy, Collect)]
#[collect(require_static)]
pub(crate) struct Meta {
    /// Permission bits (`0o7777`); the type comes from the node's kind.
    pub perm: u32,
    /// Hard links (directories: 2 + subdirectories; 0 once removed).
    pub nlink: u32,
    /// Owner and group.
    pub owner: Owner,
    pub atime: u64,
    pub mtime: u64,
    pub ctime: u64,
}

/// A directory's contents.
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct Dir<'gc> {
    pub entries: BTreeMap<Vec<u8>, NodePtr<'gc>>,
    /// `None` for the root.
    pub parent: Option<NodePtr<'gc>>,
    /// The name in the parent (for `getcwd`).
    pub name: Vec<u8>,
    /// The synthetic file system mounted here, if any (an index of
    /// [`crate::synth`]'s mount table): lookups reaching this directory
    /// continue in it.
    pub mount: Option<u32>,
}

/// What a node is.
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) enum Kind<'gc> {
    File(#[collect(require_static)] Contents),
    Dir(Dir<'gc>),
    Symlink(Vec<u8>),
    CharDev(u64),
}

/// A tmpfs node.
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct Node<'gc> {
    pub ino: u64,
    pub meta: Meta,
    pub kind: Kind<'gc>,
}

impl<'gc> Node<'gc> {
    /// Allocates a node with permissions `perm`, `owner`, and one link
    /// (two for a directory).
    pub fn alloc(s: &Scope<'_, 'gc>, kind: Kind<'gc>, perm: u32, owner: Owner) -> KResult<NodePtr<'gc>> {
        let t = now();
        let nlink = if matches!(kind, Kind::Dir(_)) { 2 } else { 1 };
        let meta = Meta { perm: perm & 0o7777, nlink, owner, atime: t, mtime: t, ctime: t };
        let ino = NEXT_INO.fetch_add(1, Ordering::Relaxed);
        s.alloc(RefLock::new(Node { ino, meta, kind })).map_err(|_| ENOMEM)
    }

    /// An empty directory under `parent`, named `name` there.
    pub fn alloc_dir(
        s: &Scope<'_, 'gc>,
        parent: Option<NodePtr<'gc>>,
        name: &[u8],
        perm: u32,
        owner: Owner,
    ) -> KResult<NodePtr<'gc>> {
        s.reserve(name.len() as u64).map_err(|_| ENOMEM)?;
        let dir = Dir { entries: BTreeMap::new(), parent, name: name.to_vec(), mount: None };
        Self::alloc(s, Kind::Dir(dir), perm, owner)
    }

    /// Whether `cred` may do `mask` (`cred::MAY_*`) to this node; `EACCES`
    /// if not.
    pub fn may(&self, cred: &Cred, mask: u32) -> KResult<()> {
        cred.may(self.mode(), self.meta.owner, mask)
    }

    /// `EACCES` unless `cred` may search this node, if it is a directory
    /// (a non-directory fails the lookup with `ENOTDIR` instead).
    pub fn may_search(&self, cred: &Cred) -> KResult<()> {
        if self.is_dir() { self.may(cred, crate::cred::MAY_EXEC) } else { Ok(()) }
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }

    /// The mount table index of the synthetic file system mounted on this
    /// directory, if any.
    pub fn mount(&self) -> Option<u32> {
        match &self.kind {
            Kind::Dir(dir) => dir.mount,
            _ => None,
        }
    }

    /// The directory contents, or `ENOTDIR`.
    pub fn dir(&self) -> KResult<&Dir<'gc>> {
        match &self.kind {
            Kind::Dir(dir) => Ok(dir),
            _ => Err(ENOTDIR),
        }
    }

    /// The directory contents to change, or `ENOTDIR`.
    pub fn dir_mut(&mut self) -> KResult<&mut Dir<'gc>> {
        match &mut self.kind {
            Kind::Dir(dir) => Ok(dir),
            _ => Err(ENOTDIR),
        }
    }

    /// The entry `name` of this directory, if any; `ENOENT` if the
    /// directory was removed, `ENOTDIR` if this is not one.
    pub fn child(&self, name: &[u8]) -> KResult<Option<NodePtr<'gc>>> {
        let dir = self.dir()?;
        if self.meta.nlink == 0 {
            return Err(ENOENT);
        }
        Ok(dir.entries.get(name).copied())
    }

    /// Records a change of contents.
    pub fn touch(&mut self) {
        let t = now();
        self.meta.mtime = t;
        self.meta.ctime = t;
    }

    /// Records a change of metadata.
    pub fn touch_meta(&mut self) {
        self.meta.ctime = now();
    }

    /// `st_mode`.
    pub fn mode(&self) -> u32 {
        let kind = match self.kind {
            Kind::File(_) => S_IFREG,
            Kind::Dir(_) => S_IFDIR,
            Kind::Symlink(_) => S_IFLNK,
            Kind::CharDev(_) => S_IFCHR,
        };
        kind | self.meta.perm
    }

    pub fn stat(&self) -> Stat {
        let (size, rdev, blocks) = match &self.kind {
            Kind::File(contents) => (contents.len(), 0, contents.blocks() * (BLOCK as u64 / 512)),
            Kind::Symlink(target) => (target.len() as u64, 0, 0),
            Kind::Dir(dir) => ((dir.entries.len() as u64 + 2) * DIRENT_SIZE, 0, 0),
            Kind::CharDev(rdev) => (0, *rdev, 0),
        };
        let m = &self.meta;
        let time = |ns: u64| ((ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64);
        let (atime, mtime, ctime) = (time(m.atime), time(m.mtime), time(m.ctime));
        Stat {
            st_dev: DEV,
            st_ino: self.ino,
            st_nlink: u64::from(m.nlink),
            st_mode: self.mode(),
            st_uid: m.owner.uid,
            st_gid: m.owner.gid,
            st_rdev: rdev,
            st_size: size as i64,
            st_blksize: 4096,
            st_blocks: blocks as i64,
            st_atime: atime.0,
            st_atime_nsec: atime.1,
            st_mtime: mtime.0,
            st_mtime_nsec: mtime.1,
            st_ctime: ctime.0,
            st_ctime_nsec: ctime.1,
            ..Stat::default()
        }
    }
}

/// A counted reference to a VFS node (file, directory, symbolic link or
/// device), held outside heap scopes: a tmpfs node (a root of the file
/// system's heap) or a node of a synthetic file system (its mount and path).
#[derive(Clone)]
pub struct NodeRef(pub(crate) Place);

/// What a [`NodeRef`] refers to.
#[derive(Clone)]
pub(crate) enum Place {
    Tmpfs(TmpfsRef),
    Synth(SynthRef),
}

/// A counted reference to a tmpfs node: a root of the file system's heap
/// (clones share it).
#[derive(Clone)]
pub(crate) struct TmpfsRef {
    handle: Handle<NodeRoot>,
    ino: u64,
    is_dir: bool,
}

impl From<TmpfsRef> for NodeRef {
    fn from(node: TmpfsRef) -> Self {
        Self(Place::Tmpfs(node))
    }
}

impl TmpfsRef {
    /// Roots `node`, found in scope `s`.
    pub fn new<'gc>(s: &Scope<'_, 'gc>, node: NodePtr<'gc>) -> Self {
        let (ino, is_dir) = {
            let n = node.borrow();
            (n.ino, n.is_dir())
        };
        Self { handle: s.stash::<NodeRoot>(node), ino, is_dir }
    }

    /// The node, in a scope of the file system's heap.
    pub(crate) fn get<'gc>(&self, s: &Scope<'_, 'gc>) -> NodePtr<'gc> {
        s.fetch(&self.handle)
    }

    /// The absolute path of a directory, through its parent links (`/` for
    /// the root; a removed directory gives the path it had). Other nodes,
    /// which may have several names or none, give an empty path.
    pub(crate) fn path(&self) -> Vec<u8> {
        heap().mutate(|s| {
            let mut names: Vec<Vec<u8>> = Vec::new();
            let mut node = self.get(s);
            loop {
                let parent = {
                    let n = node.borrow();
                    let Ok(dir) = n.dir() else { return Vec::new() };
                    match dir.parent {
                        Some(parent) => {
                            names.push(dir.name.clone());
                            parent
                        }
                        None => break,
                    }
                };
                node = parent;
            }
            if names.is_empty() {
                return b"/".to_vec();
            }
            let mut path = Vec::new();
            for name in names.iter().rev() {
                path.push(b'/');
                path.extend_from_slice(name);
            }
            path
        })
    }

    /// `stat` of the node.
    pub(crate) fn stat(&self) -> Stat {
        heap().mutate(|s| self.get(s).borrow().stat())
    }
}

impl NodeRef {
    /// Where a lookup of `path` from this base starts, in a scope: the root
    /// for an absolute path, else this node. A synthetic base cannot be
    /// walked in a scope: [`crate::walk::CROSSED`].
    pub(crate) fn start<'gc>(&self, s: &Scope<'_, 'gc>, path: &[u8]) -> KResult<NodePtr<'gc>> {
        if crate::path::is_absolute(path) {
            return Ok(crate::root_node().get(s));
        }
        self.get(s)
    }

    /// The tmpfs node, in a scope; [`crate::walk::CROSSED`] for a
    /// synthetic one.
    pub(crate) fn get<'gc>(&self, s: &Scope<'_, 'gc>) -> KResult<NodePtr<'gc>> {
        match &self.0 {
            Place::Tmpfs(node) => Ok(node.get(s)),
            Place::Synth(_) => Err(crate::walk::CROSSED),
        }
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        match &self.0 {
            Place::Tmpfs(node) => node.is_dir,
            Place::Synth(node) => node.kind == SynthKind::Dir,
        }
    }

    /// The absolute path of a directory, through its parent links (`/` for
    /// the root; a removed directory gives the path it had). Other tmpfs
    /// nodes, which may have several names or none, give an empty path. A
    /// synthetic node (of any kind) gives its mount point's path and its
    /// own, e.g. `/proc/12`.
    pub fn path(&self) -> Vec<u8> {
        match &self.0 {
            Place::Tmpfs(node) => node.path(),
            Place::Synth(node) => node.full_path(),
        }
    }

    /// `stat` of the node.
    pub fn stat(&self) -> Stat {
        match &self.0 {
            Place::Tmpfs(node) => node.stat(),
            Place::Synth(node) => node.stat(),
        }
    }
}

impl fmt::Debug for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Place::Tmpfs(node) => {
                f.debug_struct("NodeRef").field("ino", &node.ino).field("is_dir", &node.is_dir).finish()
            }
            Place::Synth(node) => f
                .debug_struct("NodeRef")
                .field("mount", &node.mount.id)
                .field("path", &alloc::string::String::from_utf8_lossy(&node.path))
                .field("kind", &node.kind)
                .finish(),
        }
    }
}
