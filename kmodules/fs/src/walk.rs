//! Path resolution: `.`, `..`, repeated and trailing slashes, symbolic
//! links (at most [`MAX_LINKS`] per lookup), and search permission on
//! every directory a component is looked up in (`EACCES` without it).
//!
//! Two walkers share these rules. [`Walk`] runs inside one heap scope over
//! tmpfs nodes, so that an operation can resolve, check and change the
//! tree atomically; it gives up with [`CROSSED`] when it reaches a
//! synthetic file system (a mount point, or a synthetic base), whose
//! callbacks must not run in a scope. The operation then starts over with
//! [`resolve_anywhere`], which walks [`NodeRef`]s outside scopes (one scope
//! per tmpfs step, synthetic steps between them), and finishes the job in
//! a new scope if the path ends in tmpfs: like Linux, not atomic between
//! the lookup and the change, and only on paths through a synthetic file
//! system.

use alloc::vec;
use alloc::vec::Vec;

use abi::errno::{ELOOP, ENOENT, ENOTDIR, Errno};
use runtime::heap::{Gc, Scope};

use crate::KResult;
use crate::cred::Cred;
use crate::node::{Kind, NodePtr, NodeRef, Place, TmpfsRef, scoped};
use crate::path::{self, Split};
use crate::synth::{SynthKind, SynthRef};

/// Not an error: the in-scope walk reached a synthetic file system, and the
/// operation must start over outside scopes. Never returned to callers of
/// the crate (a value no system call uses).
pub(crate) const CROSSED: Errno = Errno(0x7fff_5f5f);

/// A result that may still say [`CROSSED`] after an operation was redone
/// outside scopes (a concurrent change put a mount or a link on the way):
/// `ENOENT` then.
pub(crate) fn settle<T>(result: KResult<T>) -> KResult<T> {
    result.map_err(|error| if error == CROSSED { ENOENT } else { error })
}

/// Symbolic links one lookup may follow before `ELOOP` (Linux's limit).
pub(crate) const MAX_LINKS: u32 = 40;

/// One path lookup: who looks, the root it starts absolute paths from,
/// and the links it may still follow.
pub(crate) struct Walk<'gc, 'c> {
    cred: Cred<'c>,
    root: NodePtr<'gc>,
    links_left: u32,
}

/// A path's parent directory, resolved, and its last component.
pub(crate) struct Parent<'gc, 'p> {
    pub dir: NodePtr<'gc>,
    pub name: &'p [u8],
    pub trailing_slash: bool,
}

impl<'gc, 'c> Walk<'gc, 'c> {
    /// A lookup by `cred` in the file system rooted at [`crate::root`].
    pub fn new(s: &Scope<'_, 'gc>, cred: &Cred<'c>) -> Self {
        Self { cred: *cred, root: crate::root_node().get(s), links_left: MAX_LINKS }
    }

    /// The node `path` names, starting from `base` if it is relative. A
    /// final symbolic link is followed if `follow` (or the path ends in a
    /// slash, which also requires a directory). [`CROSSED`] on reaching a
    /// mount point.
    pub fn resolve(&mut self, base: NodePtr<'gc>, path: &[u8], follow: bool) -> KResult<NodePtr<'gc>> {
        let must_be_dir = path::has_trailing_slash(path);
        let mut node = if path::is_absolute(path) { self.root } else { base };
        let mut components = path::components(path).peekable();
        while let Some(name) = components.next() {
            let last = components.peek().is_none();
            path::check_name(name)?;
            node.borrow().may_search(&self.cred)?;
            let next = match name {
                b"." => {
                    node.borrow().dir()?;
                    node
                }
                b".." => land(parent_of(node)?)?,
                _ => land(node.borrow().child(name)?.ok_or(ENOENT)?)?,
            };
            node = if !last || follow || must_be_dir { self.follow(node, next)? } else { next };
        }
        if must_be_dir && !node.borrow().is_dir() {
            return Err(ENOTDIR);
        }
        Ok(node)
    }

    /// `node` itself, or, if it is a symbolic link found in `dir`, what
    /// its target names (relative targets start at `dir`).
    pub fn follow(&mut self, dir: NodePtr<'gc>, node: NodePtr<'gc>) -> KResult<NodePtr<'gc>> {
        let node = land(node)?;
        let target = match &node.borrow().kind {
            Kind::Symlink(target) => target.clone(),
            _ => return Ok(node),
        };
        if self.links_left == 0 {
            return Err(ELOOP);
        }
        self.links_left -= 1;
        self.resolve(dir, &target, true)
    }

    /// The directory that would hold `path`'s last component, and that
    /// component (`""`, `.` or `..` when the path names a directory by
    /// itself: see [`path::is_special`]).
    pub fn parent<'p>(&mut self, base: NodePtr<'gc>, path: &'p [u8]) -> KResult<Parent<'gc, 'p>> {
        let Split { dir, name, trailing_slash } = path::split_last(path);
        let dir = self.resolve(base, dir, true)?;
        dir.borrow().dir()?;
        path::check_name(name)?;
        Parent::new(&self.cred, dir, name, trailing_slash)
    }
}

impl<'gc, 'p> Parent<'gc, 'p> {
    /// The parent `dir` of `name`, which `cred` must be able to search to
    /// look `name` up (unless the path names `dir` by itself: `""`).
    pub fn new(cred: &Cred, dir: NodePtr<'gc>, name: &'p [u8], trailing_slash: bool) -> KResult<Self> {
        if !name.is_empty() {
            dir.borrow().may_search(cred)?;
        }
        Ok(Parent { dir, name, trailing_slash })
    }
}

/// `node`, unless a synthetic file system is mounted on it: [`CROSSED`].
pub(crate) fn land(node: NodePtr<'_>) -> KResult<NodePtr<'_>> {
    if node.borrow().mount().is_some() { Err(CROSSED) } else { Ok(node) }
}

/// A directory's parent (the root is its own).
fn parent_of(node: NodePtr<'_>) -> KResult<NodePtr<'_>> {
    Ok(node.borrow().dir()?.parent.unwrap_or(node))
}

/// Whether `ancestor` is `node` or one of its ancestors.
pub(crate) fn is_ancestor<'gc>(ancestor: NodePtr<'gc>, mut node: NodePtr<'gc>) -> bool {
    loop {
        if Gc::ptr_eq(ancestor, node) {
            return true;
        }
        match node.borrow().dir().ok().and_then(|dir| dir.parent) {
            Some(parent) => node = parent,
            None => return false,
        }
    }
}

/// Resolves `path` from `base` in a scope.
pub(crate) fn resolve<'gc>(
    s: &Scope<'_, 'gc>,
    cred: &Cred,
    base: &NodeRef,
    path: &[u8],
    follow: bool,
) -> KResult<NodePtr<'gc>> {
    path::check(path)?;
    Walk::new(s, cred).resolve(base.start(s, path)?, path, follow)
}

/// Where a lookup ended: a tmpfs node (what the operation made of it, in
/// the scope that found it) or a synthetic node.
pub(crate) enum Hit<T> {
    Tmpfs(T),
    Synth(SynthRef),
}

/// Runs `f` on the node `path` names from `base`, in the scope that
/// resolved it. A path through a synthetic file system is resolved again
/// outside scopes: a tmpfs node at its end goes to `f` in a new scope, a
/// synthetic one is returned.
pub(crate) fn on_node<T>(
    cred: &Cred,
    base: &NodeRef,
    path: &[u8],
    follow: bool,
    mut f: impl for<'gc> FnMut(&Scope<'static, 'gc>, NodePtr<'gc>) -> KResult<T>,
) -> KResult<Hit<T>> {
    match scoped(|s| f(s, resolve(s, cred, base, path, follow)?)) {
        Err(CROSSED) => {}
        result => return result.map(Hit::Tmpfs),
    }
    match resolve_anywhere(cred, base, path, follow)?.0 {
        Place::Tmpfs(node) => settle(scoped(|s| f(s, node.get(s)))).map(Hit::Tmpfs),
        Place::Synth(node) => Ok(Hit::Synth(node)),
    }
}

/// Runs `f` on the parent directory of `path`'s last component (see
/// [`Walk::parent`]), in the scope that resolved it; as [`on_node`] for a
/// path through a synthetic file system, the synthetic directory that
/// would hold the last component being returned.
pub(crate) fn on_parent<'p, T>(
    cred: &Cred,
    base: &NodeRef,
    path: &'p [u8],
    mut f: impl for<'gc> FnMut(&Scope<'static, 'gc>, Parent<'gc, 'p>) -> KResult<T>,
) -> KResult<Hit<T>> {
    path::check(path)?;
    match scoped(|s| f(s, Walk::new(s, cred).parent(base.start(s, path)?, path)?)) {
        Err(CROSSED) => {}
        result => return result.map(Hit::Tmpfs),
    }
    let (dir, split) = parent_anywhere(cred, base, path)?;
    match dir.0 {
        Place::Tmpfs(dir) => settle(scoped(|s| f(s, split.parent_in(s, cred, &dir)?))).map(Hit::Tmpfs),
        Place::Synth(dir) => Ok(Hit::Synth(dir)),
    }
}

impl<'p> Split<'p> {
    /// The [`Parent`] of this split's last component, in a scope, once
    /// [`parent_anywhere`] found its directory `dir` in tmpfs.
    pub(crate) fn parent_in<'gc>(&self, s: &Scope<'_, 'gc>, cred: &Cred, dir: &TmpfsRef) -> KResult<Parent<'gc, 'p>> {
        Parent::new(cred, dir.get(s), self.name, self.trailing_slash)
    }
}

/// One path being resolved by [`resolve_anywhere`]: the lookup's path or a
/// symbolic link's target.
struct Frame {
    path: Vec<u8>,
    /// Where the next component starts.
    at: usize,
    /// Whether a final symbolic link is followed.
    follow: bool,
    /// A trailing slash: the result must be a directory (and a final link
    /// is followed).
    must_be_dir: bool,
}

impl Frame {
    fn new(path: Vec<u8>, follow: bool) -> Self {
        let must_be_dir = path::has_trailing_slash(&path);
        Self { path, at: 0, follow, must_be_dir }
    }

    /// The next component, and whether it is the last.
    fn next(&mut self) -> Option<(Vec<u8>, bool)> {
        let rest = &self.path[self.at..];
        let start = rest.iter().position(|&b| b != b'/')?;
        let len = rest[start..].iter().position(|&b| b == b'/').unwrap_or(rest.len() - start);
        let name = rest[start..start + len].to_vec();
        self.at += start + len;
        let last = self.path[self.at..].iter().all(|&b| b == b'/');
        Some((name, last))
    }
}

/// One step of [`resolve_anywhere`].
enum Step {
    /// The next node.
    At(NodeRef),
    /// A symbolic link (itself) and its target.
    Link(NodeRef, Vec<u8>),
}

/// Resolves `path` from `base` as [`Walk::resolve`] does, outside heap
/// scopes, through synthetic file systems: entering a mount point
/// continues in its tree, `..` from its root goes to the mount point's
/// parent, synthetic links are followed like tmpfs ones.
pub(crate) fn resolve_anywhere(cred: &Cred, base: &NodeRef, path: &[u8], follow: bool) -> KResult<NodeRef> {
    path::check(path)?;
    let mut links_left = MAX_LINKS;
    let mut at = if path::is_absolute(path) { crate::root() } else { base.clone() };
    let mut frames = vec![Frame::new(path.to_vec(), follow)];
    while let Some(frame) = frames.last_mut() {
        let Some((name, last)) = frame.next() else {
            if frame.must_be_dir && !at.is_dir() {
                return Err(ENOTDIR);
            }
            frames.pop();
            continue;
        };
        path::check_name(&name)?;
        let follow = !last || frame.follow || frame.must_be_dir;
        match step(cred, &at, &name)? {
            Step::At(next) => at = next,
            Step::Link(link, _) if !follow => at = link,
            Step::Link(_, target) => {
                if links_left == 0 {
                    return Err(ELOOP);
                }
                links_left -= 1;
                if target.is_empty() {
                    return Err(ENOENT);
                }
                if path::is_absolute(&target) {
                    at = crate::root();
                }
                frames.push(Frame::new(target, true));
            }
        }
    }
    Ok(at)
}

/// The directory that would hold `path`'s last component, resolved by
/// [`resolve_anywhere`], and the path split before that component.
pub(crate) fn parent_anywhere<'p>(cred: &Cred, base: &NodeRef, path: &'p [u8]) -> KResult<(NodeRef, Split<'p>)> {
    let split = path::split_last(path);
    let dir = resolve_anywhere(cred, base, if split.dir.is_empty() { b"." } else { split.dir }, true)?;
    if !dir.is_dir() {
        return Err(ENOTDIR);
    }
    path::check_name(split.name)?;
    Ok((dir, split))
}

/// The entry `name` of directory `at` (`.` and `..` included), which
/// `cred` must be able to search (synthetic directories let everyone).
fn step(cred: &Cred, at: &NodeRef, name: &[u8]) -> KResult<Step> {
    let node = match &at.0 {
        Place::Tmpfs(node) => return tmpfs_step(cred, node, name),
        Place::Synth(node) => node,
    };
    if node.kind != SynthKind::Dir {
        return Err(ENOTDIR);
    }
    let next = match name {
        b"." => return Ok(Step::At(at.clone())),
        b".." => match node.parent() {
            Some(parent) => parent,
            None => return tmpfs_step(cred, &node.mount.point, b".."),
        },
        _ => node.child(name)?,
    };
    Ok(match &next.kind {
        SynthKind::Symlink(target) => {
            let target = target.clone();
            Step::Link(next.into(), target)
        }
        _ => Step::At(next.into()),
    })
}

/// The entry `name` of tmpfs directory `dir`, in a scope of its own; the
/// root of the synthetic file system mounted there, if any.
fn tmpfs_step(cred: &Cred, dir: &TmpfsRef, name: &[u8]) -> KResult<Step> {
    enum Landed {
        Node(TmpfsRef, Option<Vec<u8>>),
        Mount(u32),
        Same,
    }
    let landed = scoped(|s| {
        let dir = dir.get(s);
        dir.borrow().may_search(cred)?;
        let next = match name {
            b"." => {
                dir.borrow().dir()?;
                return Ok(Landed::Same);
            }
            b".." => parent_of(dir)?,
            _ => dir.borrow().child(name)?.ok_or(ENOENT)?,
        };
        let n = next.borrow();
        if let Some(id) = n.mount() {
            return Ok(Landed::Mount(id));
        }
        let target = match &n.kind {
            Kind::Symlink(target) => Some(target.clone()),
            _ => None,
        };
        drop(n);
        Ok(Landed::Node(TmpfsRef::new(s, next), target))
    })?;
    Ok(match landed {
        Landed::Same => Step::At(NodeRef(Place::Tmpfs(dir.clone()))),
        Landed::Mount(id) => Step::At(SynthRef::root(id).into()),
        Landed::Node(node, None) => Step::At(node.into()),
        Landed::Node(node, Some(target)) => Step::Link(node.into(), target),
    })
}
