//! `open`: finding or creating the node, checking the flags against it,
//! and making the open file description.

use abi::errno::{EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR};
use abi::flags::open::{O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_TRUNC, O_WRONLY};
use runtime::heap::Scope;

use crate::cred::{Cred, MAY_READ, MAY_WRITE};
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
/// file `path` names, for `cred`. See the crate documentation for the
/// flags honoured.
pub fn open(cred: &Cred, base: &NodeRef, path: &[u8], flags: u32, mode: u32) -> KResult<OpenFile> {
    path::check(path)?;
    if flags & O_ACCMODE == O_ACCMODE {
        return Err(EINVAL);
    }
    let opened = scoped(|s| {
        let (node, created) = find_or_create(s, cred, base, path, flags, mode)?;
        check_and_open(s, cred, node, flags, created)
    });
    match opened {
        Err(CROSSED) => open_anywhere(cred, base, path, flags, mode),
        opened => into_file(opened?, flags),
    }
}

/// The permissions opening with `flags` needs: read and/or write as the
/// access mode says, write for `O_TRUNC`.
fn access_wanted(flags: u32) -> u32 {
    let access = match flags & O_ACCMODE {
        O_RDONLY => MAY_READ,
        O_WRONLY => MAY_WRITE,
        _ => MAY_READ | MAY_WRITE,
    };
    if flags & O_TRUNC != 0 { access | MAY_WRITE } else { access }
}

/// Checks `flags` against the node `open` found (or `created`: a new file
/// is opened whatever its permission bits say) and prepares it
/// (`O_TRUNC`).
fn check_and_open<'gc>(
    s: &Scope<'_, 'gc>,
    cred: &Cred,
    node: NodePtr<'gc>,
    flags: u32,
    created: bool,
) -> KResult<Opened> {
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
    if !created {
        node.borrow().may(cred, access_wanted(flags))?;
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
fn open_anywhere(cred: &Cred, base: &NodeRef, path: &[u8], flags: u32, mode: u32) -> KResult<OpenFile> {
    let create = flags & O_CREAT != 0;
    let exclusive = create && flags & O_EXCL != 0;
    let follow = flags & O_NOFOLLOW == 0 && !exclusive;
    let found = resolve_anywhere(cred, base, path, follow);
    match found {
        Ok(_) if exclusive => Err(EEXIST),
        Ok(node) => open_node(cred, node, flags),
        Err(ENOENT) if create => {
            let (dir, split) = parent_anywhere(cred, base, path)?;
            match dir.0 {
                Place::Tmpfs(dir) => {
                    let opened = settle(scoped(|s| {
                        let parent = split.parent_in(s, cred, &dir)?;
                        let (node, created) =
                            create_or_existing(s, cred, &mut Walk::new(s, cred), parent, flags, mode)?;
                        check_and_open(s, cred, node, flags, created)
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
fn open_node(cred: &Cred, node: NodeRef, flags: u32) -> KResult<OpenFile> {
    match node.0 {
        Place::Tmpfs(node) => into_file(settle(scoped(|s| check_and_open(s, cred, node.get(s), flags, false)))?, flags),
        Place::Synth(node) => synth::open(node, flags).map(OpenFile::Other),
    }
}

/// The node `open` works on: resolved, or with `O_CREAT` created if
/// missing; and whether it was created.
fn find_or_create<'gc>(
    s: &Scope<'_, 'gc>,
    cred: &Cred,
    base: &NodeRef,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> KResult<(NodePtr<'gc>, bool)> {
    let mut walk = Walk::new(s, cred);
    let start = base.start(s, path)?;
    if flags & O_CREAT == 0 {
        return Ok((walk.resolve(start, path, flags & O_NOFOLLOW == 0)?, false));
    }
    let parent = walk.parent(start, path)?;
    create_or_existing(s, cred, &mut walk, parent, flags, mode)
}

/// The entry `open` with `O_CREAT` works on in `parent`: what is there
/// (a link followed unless `O_NOFOLLOW`), or a new file (then `true`).
fn create_or_existing<'gc>(
    s: &Scope<'_, 'gc>,
    cred: &Cred,
    walk: &mut Walk<'gc, '_>,
    parent: Parent<'gc, '_>,
    flags: u32,
    mode: u32,
) -> KResult<(NodePtr<'gc>, bool)> {
    let existing = if path::is_special(parent.name) {
        Some(walk.resolve(parent.dir, parent.name, true)?)
    } else {
        parent.dir.borrow().child(parent.name)?
    };
    match existing {
        Some(_) if flags & O_EXCL != 0 => Err(EEXIST),
        Some(node) if flags & O_NOFOLLOW != 0 => Ok((land(node)?, false)),
        Some(node) => {
            let node = walk.follow(parent.dir, node)?;
            if parent.trailing_slash && !node.borrow().is_dir() {
                return Err(ENOTDIR);
            }
            Ok((node, false))
        }
        None if parent.trailing_slash => Err(EISDIR),
        None => Ok((create_in(s, cred, parent.dir, parent.name, &NewNode::File(mode))?, true)),
    }
}
