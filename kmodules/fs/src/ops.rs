//! Namespace operations on paths: each one resolves and changes the tree
//! in a single heap scope, so it is atomic with respect to the others
//! (except on paths through a synthetic file system: see walk.rs). Inside
//! a synthetic file system, every change is refused ([`READ_ONLY`]) once
//! the usual checks (`ENOENT`, `EEXIST`, ...) pass; across file systems,
//! `rename` and `link` give `EXDEV`.

use alloc::vec::Vec;

use abi::errno::{
    EACCES, EBUSY, EEXIST, EINVAL, EISDIR, ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, ENOTEMPTY, EPERM, EXDEV,
};
use abi::flags::mode::{S_ISGID, S_ISUID, S_IXGRP};
use abi::types::Stat;
use runtime::heap::{Gc, Scope};

use crate::KResult;
use crate::attr::{Attr, set_attr};
use crate::contents::{Contents, TMPFS};
use crate::cred::{Cred, MAY_EXEC, MAY_WRITE, Owner};
use crate::node::{ENTRY_OVERHEAD, Kind, Node, NodePtr, NodeRef, Place, TmpfsRef, scoped};
use crate::path::{self, MAX_PATH};
use crate::regular::{copy_out, read_at, set_len};
use crate::synth::{READ_ONLY, SynthKind, SynthRef};
use crate::walk::{
    CROSSED, Hit, Parent, Walk, is_ancestor, on_node, on_parent, parent_anywhere, resolve_anywhere, settle,
};

/// A node to create.
pub(crate) enum NewNode<'a> {
    /// A regular file with these permissions.
    File(u32),
    /// A directory with these permissions.
    Dir(u32),
    /// A symbolic link to this target.
    Symlink(&'a [u8]),
    /// A character device: permissions and number.
    CharDev(u32, u64),
}

impl NewNode<'_> {
    /// The permission bits asked for.
    fn perm(&self) -> u32 {
        match *self {
            NewNode::File(perm) | NewNode::Dir(perm) | NewNode::CharDev(perm, _) => perm & 0o7777,
            NewNode::Symlink(_) => 0o777,
        }
    }
}

/// The owner and permission bits of a node `cred` creates in directory
/// `dir` with permissions `perm`: the caller's file-system ids, but the
/// directory's group if the directory is set-group-id (a new directory
/// then is too); a non-directory's set-group-id bit is dropped if it is
/// group-executable and the caller is neither in its group nor root.
fn new_owner(cred: &Cred, dir: &Node, perm: u32, is_dir: bool) -> (Owner, u32) {
    let inherit = dir.meta.perm & S_ISGID != 0;
    let gid = if inherit { dir.meta.owner.gid } else { cred.gid };
    let perm = if is_dir && inherit {
        perm | S_ISGID
    } else if !is_dir && perm & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP && !cred.is_root() && !cred.in_group(gid) {
        perm & !S_ISGID
    } else {
        perm
    };
    (Owner { uid: cred.uid, gid }, perm)
}

/// `EACCES` unless `cred` may add entries to `dir` (write and search).
fn may_create(cred: &Cred, dir: NodePtr<'_>) -> KResult<()> {
    dir.borrow().may(cred, MAY_WRITE | MAY_EXEC)
}

/// `EACCES` unless `cred` may remove entries from `dir`, `EPERM` if the
/// directory is sticky and `victim` is neither its nor the caller's.
fn may_delete<'gc>(cred: &Cred, dir: NodePtr<'gc>, victim: NodePtr<'gc>) -> KResult<()> {
    let d = dir.borrow();
    d.may(cred, MAY_WRITE | MAY_EXEC)?;
    cred.may_remove_from(d.mode(), d.meta.owner, victim.borrow().meta.owner)
}

/// Creates `name` in `dir` for `cred`; `EEXIST` if it is taken, `EACCES`
/// if `cred` may not write in `dir`.
pub(crate) fn create_in<'gc>(
    s: &Scope<'_, 'gc>,
    cred: &Cred,
    dir: NodePtr<'gc>,
    name: &[u8],
    new: &NewNode,
) -> KResult<NodePtr<'gc>> {
    if path::is_special(name) || dir.borrow().child(name)?.is_some() {
        return Err(EEXIST);
    }
    may_create(cred, dir)?;
    s.reserve(name.len() as u64 + ENTRY_OVERHEAD).map_err(|_| ENOMEM)?;
    let (owner, perm) = new_owner(cred, &dir.borrow(), new.perm(), matches!(new, NewNode::Dir(_)));
    let node = match *new {
        NewNode::File(_) => Node::alloc(s, Kind::File(Contents::new(&TMPFS)), perm, owner)?,
        NewNode::Dir(_) => Node::alloc_dir(s, Some(dir), name, perm, owner)?,
        NewNode::Symlink(target) => {
            s.reserve(target.len() as u64).map_err(|_| ENOMEM)?;
            Node::alloc(s, Kind::Symlink(target.to_vec()), perm, owner)?
        }
        NewNode::CharDev(_, rdev) => Node::alloc(s, Kind::CharDev(rdev), perm, owner)?,
    };
    let mut d = dir.borrow_mut(s.mc());
    if matches!(new, NewNode::Dir(_)) {
        d.meta.nlink += 1;
    }
    d.dir_mut()?.entries.insert(name.to_vec(), node);
    d.touch();
    Ok(node)
}

/// Creates the last component of `path` (`mkdir`, `symlink`, `mknod`).
fn create(cred: &Cred, base: &NodeRef, path: &[u8], new: NewNode) -> KResult<()> {
    let hit = on_parent(cred, base, path, |s, Parent { dir, name, trailing_slash }| {
        if trailing_slash && !matches!(new, NewNode::Dir(_)) && !path::is_special(name) {
            // Only directories may be named with a trailing slash.
            return Err(if dir.borrow().child(name)?.is_some() { EEXIST } else { ENOENT });
        }
        create_in(s, cred, dir, name, &new).map(drop)
    })?;
    match hit {
        Hit::Tmpfs(()) => Ok(()),
        Hit::Synth(dir) => Err(if dir.has(path::split_last(path).name) { EEXIST } else { READ_ONLY }),
    }
}

/// Removes the entry `name` from `dir`.
fn remove_entry<'gc>(s: &Scope<'_, 'gc>, dir: NodePtr<'gc>, name: &[u8]) -> KResult<()> {
    let mut d = dir.borrow_mut(s.mc());
    d.dir_mut()?.entries.remove(name);
    d.touch();
    Ok(())
}

/// Drops one link to `node` (which left a directory's entries).
fn unlinked<'gc>(s: &Scope<'_, 'gc>, node: NodePtr<'gc>) {
    let mut n = node.borrow_mut(s.mc());
    n.meta.nlink = if n.is_dir() { 0 } else { n.meta.nlink.saturating_sub(1) };
    n.touch_meta();
}

/// The node `path` names (a final symbolic link followed if
/// `follow_final_symlink`).
pub fn lookup(cred: &Cred, base: &NodeRef, path: &[u8], follow_final_symlink: bool) -> KResult<NodeRef> {
    Ok(match on_node(cred, base, path, follow_final_symlink, |s, node| Ok(TmpfsRef::new(s, node)))? {
        Hit::Tmpfs(node) => node.into(),
        Hit::Synth(node) => node.into(),
    })
}

/// `stat` (`follow`) or `lstat`.
pub fn stat(cred: &Cred, base: &NodeRef, path: &[u8], follow: bool) -> KResult<Stat> {
    Ok(match on_node(cred, base, path, follow, |_, node| Ok(node.borrow().stat()))? {
        Hit::Tmpfs(stat) => stat,
        Hit::Synth(node) => node.stat(),
    })
}

/// Creates a directory; `EEXIST` if the name is taken.
pub fn mkdir(cred: &Cred, base: &NodeRef, path: &[u8], mode: u32) -> KResult<()> {
    create(cred, base, path, NewNode::Dir(mode))
}

/// Creates a symbolic link at `linkpath` pointing to `target`.
pub fn symlink(cred: &Cred, target: &[u8], base: &NodeRef, linkpath: &[u8]) -> KResult<()> {
    if target.is_empty() {
        return Err(ENOENT);
    }
    if target.len() > MAX_PATH {
        return Err(ENAMETOOLONG);
    }
    create(cred, base, linkpath, NewNode::Symlink(target))
}

/// Creates a character device node owned by root (like `mknod`);
/// relative paths start at the root.
pub fn mknod_char(path: &[u8], mode: u32, rdev: u64) -> KResult<()> {
    create(&Cred::ROOT, &crate::root(), path, NewNode::CharDev(mode, rdev))
}

/// Removes a non-directory; `EISDIR` for a directory.
pub fn unlink(cred: &Cred, base: &NodeRef, path: &[u8]) -> KResult<()> {
    let hit = on_parent(cred, base, path, |s, Parent { dir, name, trailing_slash }| {
        if path::is_special(name) {
            return Err(EISDIR);
        }
        let node = dir.borrow().child(name)?.ok_or(ENOENT)?;
        let is_dir = node.borrow().is_dir();
        if trailing_slash {
            return Err(if is_dir { EISDIR } else { ENOTDIR });
        }
        may_delete(cred, dir, node)?;
        if is_dir {
            return Err(EISDIR);
        }
        remove_entry(s, dir, name)?;
        unlinked(s, node);
        Ok(())
    })?;
    let Hit::Synth(dir) = hit else { return Ok(()) };
    let split = path::split_last(path);
    if path::is_special(split.name) {
        return Err(EISDIR);
    }
    match dir.child(split.name)?.kind {
        SynthKind::Dir => Err(EISDIR),
        _ if split.trailing_slash => Err(ENOTDIR),
        _ => Err(READ_ONLY),
    }
}

/// Removes an empty directory.
pub fn rmdir(cred: &Cred, base: &NodeRef, path: &[u8]) -> KResult<()> {
    let hit = on_parent(cred, base, path, |s, Parent { dir, name, .. }| {
        check_rmdir_name(name)?;
        let node = dir.borrow().child(name)?.ok_or(ENOENT)?;
        may_delete(cred, dir, node)?;
        let n = node.borrow();
        if !n.dir()?.entries.is_empty() {
            return Err(ENOTEMPTY);
        }
        if n.mount().is_some() {
            return Err(EBUSY);
        }
        drop(n);
        remove_entry(s, dir, name)?;
        dir.borrow_mut(s.mc()).meta.nlink -= 1;
        unlinked(s, node);
        Ok(())
    })?;
    let Hit::Synth(dir) = hit else { return Ok(()) };
    let name = path::split_last(path).name;
    check_rmdir_name(name)?;
    match dir.child(name)?.kind {
        SynthKind::Dir => Err(READ_ONLY),
        _ => Err(ENOTDIR),
    }
}

/// `rmdir`'s errors for a last component that names a directory by itself.
fn check_rmdir_name(name: &[u8]) -> KResult<()> {
    match name {
        b"" => Err(EBUSY),
        b"." => Err(EINVAL),
        b".." => Err(ENOTEMPTY),
        _ => Ok(()),
    }
}

/// Renames `old` to `new`, replacing a non-directory with a non-directory
/// or a directory with an empty directory.
pub fn rename(cred: &Cred, old_base: &NodeRef, old: &[u8], new_base: &NodeRef, new: &[u8]) -> KResult<()> {
    path::check(old)?;
    path::check(new)?;
    let fast = scoped(|s| {
        let from = Walk::new(s, cred).parent(old_base.start(s, old)?, old)?;
        let to = Walk::new(s, cred).parent(new_base.start(s, new)?, new)?;
        rename_in(s, cred, from, to)
    });
    if fast != Err(CROSSED) {
        return fast;
    }
    let (from_dir, from) = parent_anywhere(cred, old_base, old)?;
    let (to_dir, to) = parent_anywhere(cred, new_base, new)?;
    match (&from_dir.0, &to_dir.0) {
        (Place::Tmpfs(from_dir), Place::Tmpfs(to_dir)) => {
            settle(scoped(|s| rename_in(s, cred, from.parent_in(s, cred, from_dir)?, to.parent_in(s, cred, to_dir)?)))
        }
        (Place::Synth(from_dir), _) => {
            if path::is_special(from.name) || path::is_special(to.name) {
                return Err(EBUSY);
            }
            from_dir.child(from.name)?;
            Err(if matches!(to_dir.0, Place::Synth(_)) { READ_ONLY } else { EXDEV })
        }
        (Place::Tmpfs(_), Place::Synth(_)) => Err(EXDEV),
    }
}

/// [`rename`] once both parents are resolved.
fn rename_in<'gc>(s: &Scope<'_, 'gc>, cred: &Cred, from: Parent<'gc, '_>, to: Parent<'gc, '_>) -> KResult<()> {
    if path::is_special(from.name) || path::is_special(to.name) {
        return Err(EBUSY);
    }
    let node = from.dir.borrow().child(from.name)?.ok_or(ENOENT)?;
    let is_dir = node.borrow().is_dir();
    if !is_dir && (from.trailing_slash || to.trailing_slash) {
        return Err(ENOTDIR);
    }
    let replaced = to.dir.borrow().child(to.name)?;
    if replaced.is_some_and(|target| Gc::ptr_eq(target, node)) {
        return Ok(());
    }
    may_rename(cred, &from, &to, node, replaced)?;
    if let Some(target) = replaced {
        match (is_dir, target.borrow().dir()) {
            (true, Err(_)) => return Err(ENOTDIR),
            (false, Ok(_)) => return Err(EISDIR),
            (true, Ok(dir)) if !dir.entries.is_empty() => return Err(ENOTEMPTY),
            _ => {}
        }
    }
    if node.borrow().mount().is_some() || replaced.is_some_and(|target| target.borrow().mount().is_some()) {
        return Err(EBUSY);
    }
    if is_dir && is_ancestor(node, to.dir) {
        return Err(EINVAL);
    }
    s.reserve(to.name.len() as u64 + ENTRY_OVERHEAD).map_err(|_| ENOMEM)?;
    // Everything checked: change the tree.
    if let Some(target) = replaced {
        remove_entry(s, to.dir, to.name)?;
        if is_dir {
            to.dir.borrow_mut(s.mc()).meta.nlink -= 1;
        }
        unlinked(s, target);
    }
    remove_entry(s, from.dir, from.name)?;
    {
        let mut d = to.dir.borrow_mut(s.mc());
        d.dir_mut()?.entries.insert(to.name.to_vec(), node);
        d.touch();
    }
    let moved_dir = {
        let mut n = node.borrow_mut(s.mc());
        n.touch_meta();
        n.dir_mut().map(|dir| {
            dir.parent = Some(to.dir);
            dir.name = to.name.to_vec();
        })
    };
    if moved_dir.is_ok() {
        from.dir.borrow_mut(s.mc()).meta.nlink -= 1;
        to.dir.borrow_mut(s.mc()).meta.nlink += 1;
    }
    Ok(())
}

/// The permission checks of a rename of `node` from `from` to `to`
/// (replacing `replaced`, if any): removal from the old directory, removal
/// of the replaced entry or creation in the new one, and, for a
/// directory moving to another parent, write permission on it (its `..`
/// changes).
fn may_rename<'gc>(
    cred: &Cred,
    from: &Parent<'gc, '_>,
    to: &Parent<'gc, '_>,
    node: NodePtr<'gc>,
    replaced: Option<NodePtr<'gc>>,
) -> KResult<()> {
    may_delete(cred, from.dir, node)?;
    match replaced {
        Some(target) => may_delete(cred, to.dir, target)?,
        None => may_create(cred, to.dir)?,
    }
    let n = node.borrow();
    if n.is_dir() && !Gc::ptr_eq(from.dir, to.dir) {
        n.may(cred, MAY_WRITE)?;
    }
    Ok(())
}

/// Makes `new` another name of the non-directory `old` (a final symbolic
/// link is not followed).
pub fn link(cred: &Cred, old_base: &NodeRef, old: &[u8], new_base: &NodeRef, new: &[u8]) -> KResult<()> {
    path::check(old)?;
    path::check(new)?;
    let fast = scoped(|s| {
        let node = Walk::new(s, cred).resolve(old_base.start(s, old)?, old, false)?;
        let parent = Walk::new(s, cred).parent(new_base.start(s, new)?, new)?;
        link_in(s, cred, node, parent)
    });
    if fast != Err(CROSSED) {
        return fast;
    }
    let node = resolve_anywhere(cred, old_base, old, false)?;
    let (dir, split) = parent_anywhere(cred, new_base, new)?;
    match (&node.0, &dir.0) {
        (Place::Tmpfs(node), Place::Tmpfs(dir)) => {
            settle(scoped(|s| link_in(s, cred, node.get(s), split.parent_in(s, cred, dir)?)))
        }
        (Place::Synth(node), _) if node.kind == SynthKind::Dir => Err(EPERM),
        (Place::Synth(_), Place::Synth(dir)) => Err(if dir.has(split.name) { EEXIST } else { READ_ONLY }),
        _ => Err(EXDEV),
    }
}

/// [`link`] once the node and the new parent are resolved.
fn link_in<'gc>(s: &Scope<'_, 'gc>, cred: &Cred, node: NodePtr<'gc>, parent: Parent<'gc, '_>) -> KResult<()> {
    if node.borrow().is_dir() {
        return Err(EPERM);
    }
    let Parent { dir, name, trailing_slash } = parent;
    if path::is_special(name) || dir.borrow().child(name)?.is_some() {
        return Err(EEXIST);
    }
    if trailing_slash {
        return Err(ENOENT);
    }
    may_create(cred, dir)?;
    s.reserve(name.len() as u64 + ENTRY_OVERHEAD).map_err(|_| ENOMEM)?;
    {
        let mut d = dir.borrow_mut(s.mc());
        d.dir_mut()?.entries.insert(name.to_vec(), node);
        d.touch();
    }
    let mut n = node.borrow_mut(s.mc());
    n.meta.nlink += 1;
    n.touch_meta();
    Ok(())
}

/// The target of a symbolic link; `EINVAL` if `path` names something else.
pub fn readlink(cred: &Cred, base: &NodeRef, path: &[u8]) -> KResult<Vec<u8>> {
    let hit = on_node(cred, base, path, false, |_, node| match &node.borrow().kind {
        Kind::Symlink(target) => Ok(target.clone()),
        _ => Err(EINVAL),
    })?;
    match hit {
        Hit::Tmpfs(target) => Ok(target),
        Hit::Synth(SynthRef { kind: SynthKind::Symlink(target), .. }) => Ok(target),
        Hit::Synth(_) => Err(EINVAL),
    }
}

/// Sets the permission bits (`mode & 0o7777`): [`set_attr`] with
/// [`Attr::Mode`], following a final symbolic link.
pub fn chmod(cred: &Cred, base: &NodeRef, path: &[u8], mode: u32) -> KResult<()> {
    set_attr(cred, base, path, true, Attr::Mode(mode))
}

/// Sets a regular file's length (zero-filling growth); `EACCES` unless
/// `cred` may write it.
pub fn truncate(cred: &Cred, base: &NodeRef, path: &[u8], len: u64) -> KResult<()> {
    let resized = on_node(cred, base, path, true, |s, node| {
        if matches!(node.borrow().kind, Kind::File(_)) {
            node.borrow().may(cred, MAY_WRITE)?;
        }
        set_len(s, node, len)
    })?;
    match resized {
        Hit::Tmpfs(()) => Ok(()),
        Hit::Synth(SynthRef { kind: SynthKind::Dir, .. }) => Err(EISDIR),
        Hit::Synth(_) => Err(READ_ONLY),
    }
}

/// A regular file opened for `execve`: its length, and its bytes read on
/// demand (a loader copies segments through a small buffer instead of
/// reading the whole program into kernel memory).
pub struct ExecFile {
    node: TmpfsRef,
    len: u64,
    set_ids: SetIds,
}

/// The ids an executable's set-user-id and set-group-id bits give the
/// program that runs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetIds {
    /// The file's owner, if it is set-user-id.
    pub uid: Option<u32>,
    /// The file's group, if it is set-group-id and group-executable (a
    /// set-group-id bit without group execute marks mandatory locking).
    pub gid: Option<u32>,
}

impl ExecFile {
    /// The ids the file's set-user-id and set-group-id bits give.
    pub fn set_ids(&self) -> SetIds {
        self.set_ids
    }

    /// The file's length when it was opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file was empty when opened.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns how many (fewer
    /// at the end of the file).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        read_at(&self.node, offset, buf)
    }

    /// Hands up to `len` bytes from `offset` to `sink(done, bytes)` piece
    /// by piece, straight from the file (no kernel buffer): each piece
    /// inside a scope of the file system's heap, so `sink` must not block
    /// or open a heap scope. Returns how many bytes it handed (fewer at
    /// the end of the file), or `sink`'s first error.
    pub fn copy_out(&self, offset: u64, len: usize, sink: impl FnMut(usize, &[u8]) -> KResult<()>) -> KResult<usize> {
        copy_out(&self.node, offset, len, sink)
    }
}

/// Opens a regular file for `execve`: `EACCES` unless `cred` may execute
/// it (root: some execute bit is set) or for another kind of node,
/// `EISDIR` for a directory.
pub fn open_executable(cred: &Cred, base: &NodeRef, path: &[u8]) -> KResult<ExecFile> {
    let hit = on_node(cred, base, path, true, |s, node| {
        let n = node.borrow();
        let len = match &n.kind {
            Kind::Dir(_) => return Err(EISDIR),
            Kind::File(contents) => contents.len(),
            _ => return Err(EACCES),
        };
        n.may(cred, MAY_EXEC)?;
        let (perm, owner) = (n.meta.perm, n.meta.owner);
        let set_ids = SetIds {
            uid: (perm & S_ISUID != 0).then_some(owner.uid),
            gid: (perm & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP).then_some(owner.gid),
        };
        drop(n);
        Ok((TmpfsRef::new(s, node), len, set_ids))
    })?;
    let (node, len, set_ids) = match hit {
        Hit::Tmpfs(found) => found,
        Hit::Synth(SynthRef { kind: SynthKind::Dir, .. }) => return Err(EISDIR),
        Hit::Synth(_) => return Err(EACCES),
    };
    Ok(ExecFile { node, len, set_ids })
}
