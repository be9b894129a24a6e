//! Who asks, and what a node's permission bits let them do: Linux's
//! `generic_permission`, with root (file-system uid 0) standing for every
//! file capability (`CAP_DAC_OVERRIDE`, `CAP_FOWNER`, `CAP_CHOWN`,
//! `CAP_FSETID`).

use abi::errno::{EACCES, EPERM};
use abi::flags::mode::{S_IFDIR, S_IFMT, S_ISVTX};

use crate::KResult;

/// Permission to execute a file or search a directory.
pub const MAY_EXEC: u32 = 1;
/// Permission to write.
pub const MAY_WRITE: u32 = 2;
/// Permission to read.
pub const MAY_READ: u32 = 4;

/// The credentials a file-system operation is checked against: the
/// caller's file-system uid and gid and its supplementary groups (sorted).
#[derive(Clone, Copy, Debug)]
pub struct Cred<'a> {
    /// File-system user id (the effective one, unless `setfsuid` moved it).
    pub uid: u32,
    /// File-system group id.
    pub gid: u32,
    /// Supplementary groups, in ascending order.
    pub groups: &'a [u32],
}

/// A node's owner and group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    pub uid: u32,
    pub gid: u32,
}

impl Owner {
    /// Root's.
    pub const ROOT: Owner = Owner { uid: 0, gid: 0 };
}

impl Cred<'_> {
    /// The kernel's own credentials (and a first process's): root.
    pub const ROOT: Cred<'static> = Cred { uid: 0, gid: 0, groups: &[] };

    /// Whether these credentials are root's, which bypass permission bits.
    pub fn is_root(&self) -> bool {
        self.uid == 0
    }

    /// Whether `gid` is the file-system group or a supplementary one.
    pub fn in_group(&self, gid: u32) -> bool {
        gid == self.gid || self.groups.binary_search(&gid).is_ok()
    }

    /// Whether `mask` (of [`MAY_READ`], [`MAY_WRITE`], [`MAY_EXEC`]) is
    /// allowed on a node with `mode` (`st_mode`), owned by `uid` and group
    /// `gid`: the owner's bits if the caller owns it, else the group's if
    /// it is in the group, else the others'. Root may do anything but
    /// execute a non-directory with no execute bit at all. `EACCES` if not.
    pub fn check(&self, mode: u32, uid: u32, gid: u32, mask: u32) -> KResult<()> {
        let bits = if self.uid == uid {
            mode >> 6
        } else if self.in_group(gid) {
            mode >> 3
        } else {
            mode
        };
        let is_dir = mode & S_IFMT == S_IFDIR;
        if bits & mask == mask || (self.is_root() && (mask & MAY_EXEC == 0 || is_dir || mode & 0o111 != 0)) {
            Ok(())
        } else {
            Err(EACCES)
        }
    }

    /// [`Cred::check`] against a node's owner.
    pub(crate) fn may(&self, mode: u32, owner: Owner, mask: u32) -> KResult<()> {
        self.check(mode, owner.uid, owner.gid, mask)
    }

    /// Whether the caller owns a node with `owner`, or is root (`EPERM`
    /// if not): Linux's `inode_owner_or_capable`.
    pub(crate) fn owns(&self, owner: Owner) -> KResult<()> {
        if self.uid == owner.uid || self.is_root() { Ok(()) } else { Err(EPERM) }
    }

    /// Whether a sticky directory (`dir_mode`, `dir_owner`) lets the
    /// caller remove or replace an entry owned by `victim` (`EPERM` if
    /// not): only that entry's owner, the directory's, or root may.
    pub(crate) fn may_remove_from(&self, dir_mode: u32, dir_owner: Owner, victim: Owner) -> KResult<()> {
        if dir_mode & S_ISVTX == 0 || self.uid == victim.uid || self.uid == dir_owner.uid || self.is_root() {
            Ok(())
        } else {
            Err(EPERM)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: Cred<'static> = Cred { uid: 1000, gid: 100, groups: &[5, 7] };

    #[test]
    fn the_owner_class_decides_even_when_others_may() {
        assert_eq!(USER.check(0o007, 1000, 100, MAY_READ), Err(EACCES));
        assert_eq!(USER.check(0o400, 1000, 0, MAY_READ), Ok(()));
        assert_eq!(USER.check(0o040, 0, 7, MAY_READ), Ok(()));
        assert_eq!(USER.check(0o040, 0, 8, MAY_READ), Err(EACCES));
        assert_eq!(USER.check(0o006, 0, 8, MAY_READ | MAY_WRITE), Ok(()));
    }

    #[test]
    fn root_needs_an_execute_bit_only_to_execute_files() {
        assert_eq!(Cred::ROOT.check(0o100000, 5, 5, MAY_READ | MAY_WRITE), Ok(()));
        assert_eq!(Cred::ROOT.check(0o100000, 5, 5, MAY_EXEC), Err(EACCES));
        assert_eq!(Cred::ROOT.check(0o100010, 5, 5, MAY_EXEC), Ok(()));
        assert_eq!(Cred::ROOT.check(0o040000, 5, 5, MAY_EXEC), Ok(()));
    }

    #[test]
    fn sticky_directories_keep_others_entries() {
        let dir = Owner { uid: 0, gid: 0 };
        let theirs = Owner { uid: 1001, gid: 100 };
        assert_eq!(USER.may_remove_from(0o41777, dir, theirs), Err(EPERM));
        assert_eq!(USER.may_remove_from(0o40777, dir, theirs), Ok(()));
        assert_eq!(USER.may_remove_from(0o41777, dir, Owner { uid: 1000, gid: 0 }), Ok(()));
        assert_eq!(Cred::ROOT.may_remove_from(0o41777, dir, theirs), Ok(()));
    }
}
