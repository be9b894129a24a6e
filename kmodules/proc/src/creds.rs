//! A process's credentials: real, effective, saved and file-system user
//! and group ids, and supplementary groups, with Linux's rules for
//! changing them (`kernel/sys.c`). Privilege is an effective uid of 0
//! (it stands for `CAP_SETUID`, `CAP_SETGID` and `CAP_KILL`); file
//! permissions use the file-system ids (`fs::Cred`), where uid 0 stands
//! for the file capabilities.
//!
//! They are part of the process's private state (`private.rs`), so a
//! forked child gets a copy and threads share them. The supplementary
//! groups are an immutable sorted list behind an `Arc`, shared by fork
//! and replaced whole by `setgroups` (Linux's `group_info`): permission
//! checks read it inside the file system's heap scopes, where the
//! process's heap cannot be entered, and a snapshot costs a reference
//! count instead of a copy.

use alloc::sync::Arc;
use alloc::vec::Vec;

use abi::errno::{EINVAL, EPERM};
use abi::flags::signal::SIGCONT;
use fs::{KResult, SetIds};

/// The "unchanged" id of the `setre*id`/`setres*id` calls, and an invalid
/// id elsewhere: `(uid_t) -1`.
pub const UNCHANGED: u32 = u32::MAX;

/// One kind of id (user or group) in its four roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    /// Who the process is (`getuid`).
    pub real: u32,
    /// Who it acts as (`geteuid`): privilege and signals.
    pub effective: u32,
    /// What an unprivileged process may switch its effective id back to.
    pub saved: u32,
    /// Who file permissions are checked for: the effective id unless
    /// `setfsuid` moved it.
    pub fs: u32,
}

impl Ids {
    /// All four roles `id`.
    pub const fn all(id: u32) -> Ids {
        Ids { real: id, effective: id, saved: id, fs: id }
    }

    /// Whether `id` is the real, effective or saved id.
    fn holds(&self, id: u32) -> bool {
        id == self.real || id == self.effective || id == self.saved
    }

    /// `setuid`/`setgid`: privileged, all of real, effective and saved;
    /// otherwise the effective id, to the real or saved one (`EPERM` for
    /// another, `EINVAL` for -1).
    pub fn set(&mut self, id: u32, privileged: bool) -> KResult<()> {
        if id == UNCHANGED {
            return Err(EINVAL);
        }
        if privileged {
            (self.real, self.saved) = (id, id);
        } else if id != self.real && id != self.saved {
            return Err(EPERM);
        }
        (self.effective, self.fs) = (id, id);
        Ok(())
    }

    /// `setreuid`/`setregid` (`UNCHANGED` leaves one alone): unprivileged,
    /// the real id may become the effective one, the effective id the
    /// real or saved one. The saved id follows the effective one when the
    /// real id is set or the effective one departs from the old real id.
    pub fn set_re(&mut self, real: u32, effective: u32, privileged: bool) -> KResult<()> {
        let old = *self;
        let real_ok = real == UNCHANGED || privileged || real == old.real || real == old.effective;
        let effective_ok = effective == UNCHANGED || privileged || old.holds(effective);
        if !real_ok || !effective_ok {
            return Err(EPERM);
        }
        let mut new = old;
        if real != UNCHANGED {
            new.real = real;
        }
        if effective != UNCHANGED {
            new.effective = effective;
        }
        if real != UNCHANGED || (effective != UNCHANGED && effective != old.real) {
            new.saved = new.effective;
        }
        new.fs = new.effective;
        *self = new;
        Ok(())
    }

    /// `setresuid`/`setresgid` (`UNCHANGED` leaves one alone): unprivileged,
    /// each may only become one of the current real, effective or saved.
    pub fn set_res(&mut self, real: u32, effective: u32, saved: u32, privileged: bool) -> KResult<()> {
        let ids = [real, effective, saved];
        if !privileged && ids.iter().any(|&id| id != UNCHANGED && !self.holds(id)) {
            return Err(EPERM);
        }
        let pick = |id: u32, old: u32| if id == UNCHANGED { old } else { id };
        let effective = pick(effective, self.effective);
        *self = Ids { real: pick(real, self.real), effective, saved: pick(saved, self.saved), fs: effective };
        Ok(())
    }

    /// `setfsuid`/`setfsgid`: the file-system id becomes `id` if it is the
    /// real, effective, saved or current file-system id, or if
    /// `privileged`; returns the previous one either way (never an error).
    pub fn set_fs(&mut self, id: u32, privileged: bool) -> u32 {
        let old = self.fs;
        if id != UNCHANGED && (privileged || self.holds(id) || id == old) {
            self.fs = id;
        }
        old
    }

    /// After `execve` of a file whose set-id bit gives `id` (if any): the
    /// effective (and file-system) id becomes it, and the saved id
    /// follows the effective one.
    fn exec(&mut self, id: Option<u32>) {
        let effective = id.unwrap_or(self.effective);
        (self.effective, self.saved, self.fs) = (effective, effective, effective);
    }
}

/// A process's credentials.
#[derive(Clone, Debug)]
pub struct Creds {
    /// User ids.
    pub uid: Ids,
    /// Group ids.
    pub gid: Ids,
    /// Supplementary groups, sorted (not deduplicated, as Linux keeps them).
    pub groups: Arc<Vec<u32>>,
}

impl Creds {
    /// Root's: every id 0, no supplementary groups (the first process).
    pub fn root() -> Creds {
        Creds { uid: Ids::all(0), gid: Ids::all(0), groups: Arc::new(Vec::new()) }
    }

    /// Whether the process may change ids at will, send any signal:
    /// effective uid 0.
    pub fn privileged(&self) -> bool {
        self.uid.effective == 0
    }

    /// What file permissions are checked against: the file-system ids.
    pub fn fs(&self) -> fs::Cred<'_> {
        fs::Cred { uid: self.uid.fs, gid: self.gid.fs, groups: &self.groups }
    }

    /// What `access` checks against: the real ids.
    pub fn real(&self) -> fs::Cred<'_> {
        fs::Cred { uid: self.uid.real, gid: self.gid.real, groups: &self.groups }
    }

    /// The credentials after `execve` of a program whose set-id bits give
    /// `set_ids`.
    pub fn exec(&mut self, set_ids: SetIds) {
        self.uid.exec(set_ids.uid);
        self.gid.exec(set_ids.gid);
    }

    /// Whether a program just executed runs with ids other than its
    /// caller's (`AT_SECURE`: its C library then distrusts the
    /// environment).
    pub fn secure(&self) -> bool {
        self.uid.effective != self.uid.real || self.gid.effective != self.gid.real
    }

    /// Whether a process with these credentials may send signal `sig` to
    /// one with `target`'s: privileged, or its real or effective uid is
    /// the target's real or saved uid; `SIGCONT` also within a session
    /// (`same_session`). Linux's `check_kill_permission`.
    pub fn may_signal(&self, target: &Creds, sig: u32, same_session: bool) -> bool {
        let (me, them) = (&self.uid, &target.uid);
        self.privileged()
            || [me.real, me.effective].iter().any(|&id| id == them.real || id == them.saved)
            || (sig == SIGCONT && same_session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: u32 = UNCHANGED;

    fn ids(real: u32, effective: u32, saved: u32) -> Ids {
        Ids { real, effective, saved, fs: effective }
    }

    #[test]
    fn setuid_drops_everything_when_privileged_and_only_the_effective_id_otherwise() {
        let mut root = Ids::all(0);
        root.set(5, true).unwrap();
        assert_eq!(root, Ids::all(5));
        let mut user = ids(5, 7, 9);
        assert_eq!(user.set(6, false), Err(EPERM));
        user.set(9, false).unwrap();
        assert_eq!(user, ids(5, 9, 9));
        assert_eq!(user.set(U, true), Err(EINVAL));
    }

    #[test]
    fn setre_moves_the_saved_id_as_linux_does() {
        let mut a = ids(0, 0, 0);
        a.set_re(U, 5, true).unwrap();
        assert_eq!(a, ids(0, 5, 5));
        let mut b = ids(5, 7, 9);
        assert_eq!(b.set_re(9, U, false), Err(EPERM));
        b.set_re(7, 5, false).unwrap();
        assert_eq!(b, ids(7, 5, 5));
        let mut c = ids(5, 7, 9);
        c.set_re(U, 5, false).unwrap();
        assert_eq!(c, ids(5, 5, 9));
    }

    #[test]
    fn setres_takes_only_held_ids_unless_privileged() {
        let mut a = ids(5, 7, 9);
        assert_eq!(a.set_res(U, 1, U, false), Err(EPERM));
        a.set_res(9, 5, U, false).unwrap();
        assert_eq!(a, ids(9, 5, 9));
        assert_eq!(a.set_fs(1, false), 5);
        assert_eq!(a.fs, 5);
        assert_eq!(a.set_fs(9, false), 5);
        assert_eq!(a.fs, 9);
    }

    #[test]
    fn signals_need_a_shared_uid() {
        let user = |r, e, s| Creds { uid: ids(r, e, s), gid: Ids::all(1), groups: Arc::new(Vec::new()) };
        assert!(user(5, 5, 5).may_signal(&user(6, 6, 5), 15, false));
        assert!(!user(5, 5, 5).may_signal(&user(6, 5, 6), 15, false));
        assert!(user(5, 5, 5).may_signal(&user(6, 5, 6), SIGCONT, true));
        assert!(Creds::root().may_signal(&user(6, 6, 6), 9, false));
    }
}
