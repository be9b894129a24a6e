//! Hardtack's virtual file system: one tmpfs tree whose nodes live in a GC
//! heap, filled at boot from the initramfs, with `/dev/null`, `/dev/zero`
//! and character devices other modules register.
//!
//! - **Nodes** (directories with their entries and parent links, file
//!   contents, symbolic link targets, device numbers) are objects of the
//!   file system's own [`runtime::heap::Heap`] (`"fs"`). Code reaches them
//!   only inside short heap scopes; outside, a node is held as a
//!   [`NodeRef`] (a root handle). A node is freed by the collector once no
//!   directory entry and no `NodeRef` reaches it, so an unlinked file
//!   stays usable while it is open.
//! - **Paths** are bytes. A relative path starts at a `base` directory
//!   (the caller's current directory or an `openat` descriptor's), an
//!   absolute one at [`root`]. Resolution handles `.`, `..`, repeated and
//!   trailing slashes (a trailing slash requires a directory), symbolic
//!   links (`ELOOP` after 40), `ENAMETOOLONG` (a path over 4095 bytes, a
//!   component over 255), `ENOTDIR` and `ENOENT`. Each path operation runs
//!   in one heap scope, so it is atomic with respect to the others.
//! - **Open files** implement [`File`]: regular files and directories
//!   here; character devices through [`register_char_device`]. File
//!   transfers copy at most 64 KiB per heap scope.
//! - **Synthetic file systems** ([`Synthetic`], e.g. procfs) are mounted on
//!   a tmpfs directory with [`mount_synthetic`]: lookups reaching it
//!   continue in a tree another module computes on demand, read-only.
//!
//! - **Permissions**: every operation takes the caller's [`Cred`] and
//!   checks it as Linux's `generic_permission` does (search on every
//!   directory of a path, read/write at open, write and search to change
//!   a directory, the sticky bit, owner-only `chmod`/`chown`/times, execute
//!   for `execve`); root (uid 0) bypasses the bits except that executing
//!   needs some execute bit. New nodes belong to the caller (or to a
//!   set-group-id directory's group). The caller applies the umask. See
//!   docs/fs.md and docs/security.md.
#![cfg_attr(target_os = "none", no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod attr;
mod contents;
pub mod cpio;
mod cred;
mod description;
mod devices;
mod directory;
mod dirent;
mod file;
mod lock;
mod node;
mod open;
mod ops;
mod path;
mod regular;
mod status;
mod synth;
mod unpack;
mod walk;

#[cfg(test)]
mod tests;

use abi::errno::{EBUSY, EEXIST};

pub use attr::{Attr, Time, set_attr};
pub use cred::{Cred, MAY_EXEC};
pub use description::{OpenFile, TmpfsFile};
pub use devices::{makedev, register_char_device};
pub use file::{File, KResult, UserMemory};
pub use node::NodeRef;
pub use open::open;
pub use ops::{
    ExecFile, SetIds, chmod, link, lookup, mkdir, mknod_char, open_executable, readlink, rename, rmdir, stat, symlink,
    truncate, unlink,
};
pub use synth::{SynthKind, Synthetic, mount_synthetic};

use node::{Node, Place, TmpfsRef, scoped};

/// The root directory, once [`init`] made it.
static ROOT: spin::Once<TmpfsRef> = spin::Once::new();

/// The root directory.
///
/// # Panics
/// If [`init`] has not run.
pub fn root() -> NodeRef {
    NodeRef(Place::Tmpfs(root_node().clone()))
}

/// The root directory's tmpfs node.
fn root_node() -> &'static TmpfsRef {
    ROOT.get().expect("fs::init has not run")
}

/// Builds the file system at boot: a fresh tmpfs root, the contents of the
/// cpio newc archive `initramfs` (may be empty), then `/dev` with `null`
/// and `zero`, `/tmp` and an empty `/proc` where the archive has none;
/// then sets tmpfs's size limit (see `contents`).
/// A second call is `EBUSY`; a malformed archive is `EINVAL` (what came
/// before the damage is kept).
pub fn init(initramfs: &[u8]) -> KResult<()> {
    let root = scoped(|s| Ok(TmpfsRef::new(s, Node::alloc_dir(s, None, b"", 0o755, cred::Owner::ROOT)?)))?;
    let mut fresh = false;
    ROOT.call_once(|| {
        fresh = true;
        root
    });
    if !fresh {
        return Err(EBUSY);
    }
    register_char_device(devices::NULL, devices::open_null);
    register_char_device(devices::ZERO, devices::open_zero);
    let root = &crate::root();
    let unpacked = unpack::unpack(root, initramfs);
    for (dir, mode) in [(&b"/dev"[..], 0o755), (b"/tmp", 0o1777), (b"/proc", 0o555)] {
        ignore_existing(mkdir(&Cred::ROOT, root, dir, mode))?;
    }
    ignore_existing(mknod_char(b"/dev/null", 0o666, devices::NULL))?;
    ignore_existing(mknod_char(b"/dev/zero", 0o666, devices::ZERO))?;
    contents::set_boot_limit();
    unpacked
}

/// `Ok` for "already exists".
fn ignore_existing(result: KResult<()>) -> KResult<()> {
    match result {
        Err(EEXIST) => Ok(()),
        result => result,
    }
}
