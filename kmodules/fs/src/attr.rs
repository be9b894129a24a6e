//! Changing a node's attributes — permission bits, owner and group, times
//! (`chmod`, `chown`, `utimensat` and their descriptor forms) — with
//! Linux's rules on who may (`setattr_prepare`, `notify_change`).

use abi::errno::EPERM;
use abi::flags::mode::{S_ISGID, S_ISUID, S_IXGRP};
use runtime::heap::Scope;

use crate::KResult;
use crate::cred::{Cred, MAY_WRITE, Owner};
use crate::node::{NodePtr, NodeRef, now};
use crate::synth::READ_ONLY;
use crate::walk::{Hit, on_node};

/// A time `utimensat` sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Time {
    /// The current time.
    Now,
    /// Unchanged.
    Omit,
    /// Nanoseconds since the Unix epoch.
    At(u64),
}

/// A change of a node's attributes.
#[derive(Clone, Copy, Debug)]
pub enum Attr {
    /// `chmod`: new permission bits (`mode & 0o7777`). Only the owner or
    /// root may; the set-group-id bit is dropped unless the caller is in
    /// the file's group or root.
    Mode(u32),
    /// `chown`: a new owner and/or group (`None`: unchanged). Only root
    /// may change the owner; the owner may change the group to one of its
    /// own. A non-directory loses its set-user-id bit, and its
    /// set-group-id bit if group-executable (or if the caller is neither
    /// in its group nor root).
    Owner {
        /// The new owner.
        uid: Option<u32>,
        /// The new group.
        gid: Option<u32>,
    },
    /// `utimensat`: access and modification times. Setting both to now
    /// needs ownership or write permission (`EACCES`), anything else
    /// ownership (`EPERM`); root may always.
    Times {
        /// The new access time.
        atime: Time,
        /// The new modification time.
        mtime: Time,
    },
}

/// Changes the attributes of the node `path` names (a final symbolic
/// link followed if `follow`); a synthetic node's cannot change.
pub fn set_attr(cred: &Cred, base: &NodeRef, path: &[u8], follow: bool, attr: Attr) -> KResult<()> {
    match on_node(cred, base, path, follow, |s, node| apply(s, cred, node, attr))? {
        Hit::Tmpfs(()) => Ok(()),
        Hit::Synth(_) => Err(READ_ONLY),
    }
}

/// Applies `attr` to `node` on behalf of `cred`.
pub(crate) fn apply<'gc>(s: &Scope<'_, 'gc>, cred: &Cred, node: NodePtr<'gc>, attr: Attr) -> KResult<()> {
    let mut n = node.borrow_mut(s.mc());
    let owner = n.meta.owner;
    match attr {
        Attr::Mode(mode) => {
            cred.owns(owner)?;
            let keeps_setgid = cred.is_root() || cred.in_group(owner.gid);
            n.meta.perm = if keeps_setgid { mode & 0o7777 } else { mode & 0o7777 & !S_ISGID };
        }
        Attr::Owner { uid, gid } => {
            let owns = cred.uid == owner.uid;
            let uid_ok = uid.is_none_or(|uid| cred.is_root() || (owns && uid == owner.uid));
            let gid_ok = gid.is_none_or(|gid| cred.is_root() || (owns && (gid == owner.gid || cred.in_group(gid))));
            if !uid_ok || !gid_ok {
                return Err(EPERM);
            }
            if !n.is_dir() {
                n.meta.perm = without_set_ids(cred, n.meta.perm, owner);
            }
            n.meta.owner = Owner { uid: uid.unwrap_or(owner.uid), gid: gid.unwrap_or(owner.gid) };
        }
        Attr::Times { atime, mtime } => {
            if (atime, mtime) == (Time::Now, Time::Now) {
                cred.owns(owner).or_else(|_| n.may(cred, MAY_WRITE))?;
            } else {
                cred.owns(owner)?;
            }
            let t = now();
            let at = |time| match time {
                Time::Now => Some(t),
                Time::Omit => None,
                Time::At(ns) => Some(ns),
            };
            n.meta.atime = at(atime).unwrap_or(n.meta.atime);
            n.meta.mtime = at(mtime).unwrap_or(n.meta.mtime);
        }
    }
    n.touch_meta();
    Ok(())
}

/// A non-directory's permission bits after `chown`: without set-user-id,
/// and without set-group-id if it is group-executable or the caller is
/// neither in the group nor root (Linux's `setattr_should_drop_sgid`).
fn without_set_ids(cred: &Cred, perm: u32, owner: Owner) -> u32 {
    let drop_setgid = perm & S_IXGRP != 0 || !(cred.is_root() || cred.in_group(owner.gid));
    perm & !S_ISUID & if drop_setgid { !S_ISGID } else { !0 }
}
