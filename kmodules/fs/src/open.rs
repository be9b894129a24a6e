//! `open`: finding or creating the node, checking the flags against it,
//! and making the open file description.

use abi::errno::{EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR};
use abi::flags::open::{O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_TRUNC};
use runtime::heap::Scope;

use crate::description::{OpenFile, TmpfsFile};
use crate::node::{Kind, NodePtr, NodeRef, Place, scoped};
use crate::ops::{NewNode, create_in};
use crate::regular::set_len;
use crate::synth::{self, READ_ONLY};
use crate::walk::{CROSSED, Parent, Walk, land, parent_anywhere, resolve_anywhere, settle};
use crate::{KResult, devices, path};

/// What `open` found: a tmpfs file or directory, already open, or a
/// device to open outside the scope.
enum Opened {
    Tmpfs(TmpfsFile),
    CharDev(u64),
}

/// Opens (with `O_CREAT`: possibly creates, with permissions `mode`) the
/// file `path` names. See the crate documentation for the flags honoured.
pub fn open(base: &NodeRef, path: &[u8], flags: u32, mode: u32) -> KResult<OpenFile> {
    path::check(path)?;
    if flags & O_ACCMODE == O_ACCMODE {
        return Err(EINVAL);
    }
    let opened = scoped(|s| {
        let node = find_or_create(s, base, path, flags, mode)?;
        check_and_open(s, node, flags)
    });
    match opened {
        Err(CROSSED) => open_anywhere(base, path, flags, mode),
        opened => into_file(opened?, flags),
    }
}

/// Checks `flags` against the node `open` found (or created) and prepares
/// it (`O_TRUNC`).
fn check_and_open<'gc>(s: &Scope<'_, 'gc>, node: NodePtr<'gc>, flags: u32) -> KResult<Opened> {
    let read_only = flags & O_ACCMODE == O_RDONLY;
    let (is_dir, device) = match node.borrow().kind {
        Kind::Symlink(_) => return Err(ELOOP),
        Kind::Dir(_) => (true, None),
        Kind::File(_) => (false, None),
        Kind::CharDev(rdev) => (false, Some(rdev)),
    };
    if flags & O_DIRECTORY != 0 && !is_dir {
        return Err(ENOTDIR);
    }
    if is_dir && (!read_only || flags & O_CREAT != 0) {
        return Err(EISDIR);
    }
    if let Some(rdev) = device {
        return Ok(Opened::CharDev(rdev));
    }
    if !is_dir && flags & O_TRUNC != 0 && !read_only {
        set_len(s, node, 0)?;
    }
    Ok(Opened::Tmpfs(TmpfsFile::new(s, node, flags)?))
}

/// The open file description, outside the scope.
fn into_file(opened: Opened, flags: u32) -> KResult<OpenFile> {
    match opened {
        Opened::Tmpfs(file) => Ok(OpenFile::Tmpfs(file)),
        Opened::CharDev(rdev) => devices::open(rdev, flags).map(OpenFile::Other),
    }
}

/// [`open`] of a path through a synthetic file system, outside scopes.
fn open_anywhere(base: &NodeRef, path: &[u8], flags: u32, mode: u32) -> KResult<OpenFile> {
    let create = flags & O_CREAT != 0;
    let exclusive = create && flags & O_EXCL != 0;
    let follow = flags & O_NOFOLLOW == 0 && !exclusive;
    let found = resolve_anywhere(base, path, follow);
    match found {
        Ok(_) if exclusive => Err(EEXIST),
        Ok(node) => open_node(node, flags),
        Err(ENOENT) if create => {
            let (dir, split) = parent_anywhere(base, path)?;
            match dir.0 {
                Place::Tmpfs(dir) => {
                    let opened = settle(scoped(|s| {
                        let parent = Parent { dir: dir.get(s), name: split.name, trailing_slash: split.trailing_slash };
                        let node = create_or_existing(s, &mut Walk::new(s), parent, flags, mode)?;
                        check_and_open(s, node, flags)
                    }))?;
                    into_file(opened, flags)
                }
                // What is there is a dangling link, or appeared meanwhile.
                Place::Synth(dir) if dir.has(split.name) => Err(if exclusive { EEXIST } else { ENOENT }),
                Place::Synth(_) => Err(READ_ONLY),
            }
        }
        Err(error) => Err(error),
    }
}

/// Opens a node found outside scopes.
fn open_node(node: NodeRef, flags: u32) -> KResult<OpenFile> {
    match node.0 {
        Place::Tmpfs(node) => into_file(settle(scoped(|s| check_and_open(s, node.get(s), flags)))?, flags),
        Place::Synth(node) => synth::open(node, flags).map(OpenFile::Other),
    }
}

/// The node `open` works on: resolved, or with `O_CREAT` created if
/// missing.
fn find_or_create<'gc>(
    s: &Scope<'_, 'gc>,
    base: &NodeRef,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> KResult<NodePtr<'gc>> {
    let mut walk = Walk::new(s);
    let start = base.start(s, path)?;
    if flags & O_CREAT == 0 {
        return walk.resolve(start, path, flags & O_NOFOLLOW == 0);
    }
    let parent = walk.parent(start, path)?;
    create_or_existing(s, &mut walk, parent, flags, mode)
}

/// The entry `open` with `O_CREAT` works on in `parent`: what is there
/// (a link followed unless `O_NOFOLLOW`), or a new file.
fn create_or_existing<'gc>(
    s: &Scope<'_, 'gc>,
    walk: &mut Walk<'gc>,
    parent: Parent<'gc, '_>,
    flags: u32,
    mode: u32,
) -> KResult<NodePtr<'gc>> {
    let existing = if path::is_special(parent.name) {
        Some(walk.resolve(parent.dir, parent.name, true)?)
    } else {
        parent.dir.borrow().child(parent.name)?
    };
    match existing {
        Some(_) if flags & O_EXCL != 0 => Err(EEXIST),
        Some(node) if flags & O_NOFOLLOW != 0 => land(node),
        Some(node) => {
            let node = walk.follow(parent.dir, node)?;
            if parent.trailing_slash && !node.borrow().is_dir() {
                return Err(ENOTDIR);
            }
            Ok(node)
        }
        None if parent.trailing_slash => Err(EISDIR),
        None => create_in(s, parent.dir, parent.name, &NewNode::File(mode)),
    }
}
