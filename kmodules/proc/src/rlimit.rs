//! Resource limits (`getrlimit`, `setrlimit`, `prlimit64`): a soft and a
//! hard value per resource, kept with the process's private state,
//! inherited by `fork` and kept across `execve`.
//!
//! Enforced: `RLIMIT_NOFILE` (the descriptor table), `RLIMIT_AS` (`mmap`,
//! `brk`), `RLIMIT_FSIZE` (writes and truncation: SIGXFSZ and `EFBIG`),
//! `RLIMIT_STACK` (the stack area `execve` makes, up to 8 MiB) and
//! `RLIMIT_NPROC` (at `fork` and `clone`, for a user other than root, as
//! Linux exempts it). The others are kept and reported only.

use abi::errno::{EINVAL, EPERM};
use abi::flags::rlimit::*;
use fs::KResult;

/// Descriptors a process may have at most, whatever its limit (Linux's
/// `nr_open`).
pub const NR_OPEN: u64 = 65536;

/// One resource's limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limit {
    /// The soft limit, the one enforced.
    pub cur: u64,
    /// The ceiling of the soft limit; only root raises it.
    pub max: u64,
}

impl Limit {
    const fn of(cur: u64, max: u64) -> Limit {
        Limit { cur, max }
    }

    const INFINITE: Limit = Limit::of(RLIM_INFINITY, RLIM_INFINITY);
}

/// Every resource's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits([Limit; RLIM_NLIMITS as usize]);

impl Limits {
    /// A first process's limits (Linux's defaults; `RLIMIT_NPROC` from
    /// the system-wide task limit, as Linux derives it from `threads-max`).
    pub fn initial(max_tasks: u64) -> Limits {
        let mut limits = [Limit::INFINITE; RLIM_NLIMITS as usize];
        limits[RLIMIT_STACK as usize] = Limit::of(8 << 20, RLIM_INFINITY);
        limits[RLIMIT_CORE as usize] = Limit::of(0, RLIM_INFINITY);
        limits[RLIMIT_NOFILE as usize] = Limit::of(1024, 4096);
        limits[RLIMIT_MEMLOCK as usize] = Limit::of(8 << 20, 8 << 20);
        limits[RLIMIT_NPROC as usize] = Limit::of(max_tasks / 2, max_tasks / 2);
        limits[RLIMIT_SIGPENDING as usize] = Limit::of(max_tasks / 2, max_tasks / 2);
        limits[RLIMIT_MSGQUEUE as usize] = Limit::of(819_200, 819_200);
        Limits(limits)
    }

    /// The limits of `resource`; `EINVAL` if there is no such resource.
    pub fn get(&self, resource: u32) -> KResult<Limit> {
        self.0.get(resource as usize).copied().ok_or(EINVAL)
    }

    /// The soft limit of `resource` (a valid one).
    pub fn cur(&self, resource: u32) -> u64 {
        self.get(resource).map_or(RLIM_INFINITY, |limit| limit.cur)
    }

    /// Sets `resource`'s limits, with Linux's rules: the soft limit must
    /// not exceed the hard one (`EINVAL`), raising the hard limit needs
    /// `privileged` (`EPERM`), and no descriptor limit goes past
    /// [`NR_OPEN`] (`EPERM`).
    pub fn set(&mut self, resource: u32, new: Limit, privileged: bool) -> KResult<()> {
        let old = self.get(resource)?;
        if new.cur > new.max {
            return Err(EINVAL);
        }
        if new.max > old.max && !privileged {
            return Err(EPERM);
        }
        if resource == RLIMIT_NOFILE && new.max > NR_OPEN {
            return Err(EPERM);
        }
        self.0[resource as usize] = new;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_rules() {
        let mut limits = Limits::initial(1000);
        assert_eq!(limits.get(RLIMIT_NOFILE), Ok(Limit::of(1024, 4096)));
        assert_eq!(limits.get(RLIM_NLIMITS), Err(EINVAL));
        assert_eq!(limits.set(RLIMIT_NOFILE, Limit::of(10, 5), true), Err(EINVAL));
        assert_eq!(limits.set(RLIMIT_NOFILE, Limit::of(10, 8192), false), Err(EPERM));
        assert_eq!(limits.set(RLIMIT_NOFILE, Limit::of(10, NR_OPEN + 1), true), Err(EPERM));
        assert_eq!(limits.set(RLIMIT_NOFILE, Limit::of(10, 20), false), Ok(()));
        assert_eq!(limits.cur(RLIMIT_NOFILE), 10);
        // Lowered, the hard limit stays down for the unprivileged.
        assert_eq!(limits.set(RLIMIT_NOFILE, Limit::of(10, 30), false), Err(EPERM));
        assert_eq!(limits.set(RLIMIT_NOFILE, Limit::of(10, 30), true), Ok(()));
        assert_eq!(limits.cur(RLIMIT_NPROC), 500);
    }
}
