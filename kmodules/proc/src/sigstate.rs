//! A thread's signal state and a process's signal actions: plain data
//! that the process and thread objects hold, below the code that sends
//! and delivers signals (`signal.rs`).

use core::sync::atomic::{AtomicU64, Ordering};

use abi::flags::signal::{SIG_IGN, SIGKILL, SIGSTOP};

/// A set of signals: bit `n - 1` is signal `n`.
pub type SigSet = u64;

/// The bit of signal `sig`.
pub fn bit(sig: u32) -> SigSet {
    1 << (sig - 1)
}

/// Signals that cannot be blocked, caught or ignored.
pub(crate) const UNCATCHABLE: SigSet = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/// No saved mask: a value no mask can take (masks never hold SIGKILL).
const NO_MASK: SigSet = u64::MAX;

/// The kernel's `struct sigaction` (x86_64 `rt_sigaction` layout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Action {
    /// Handler address, or `SIG_DFL`/`SIG_IGN`.
    pub handler: u64,
    /// `SA_*` flags.
    pub flags: u64,
    /// Return trampoline (`SA_RESTORER`).
    pub restorer: u64,
    /// Signals blocked while the handler runs.
    pub mask: SigSet,
}

impl Action {
    /// From the 32 bytes user space passes.
    pub fn from_words(words: [u64; 4]) -> Action {
        Action { handler: words[0], flags: words[1], restorer: words[2], mask: words[3] }
    }

    /// The 32 bytes user space reads.
    pub fn to_words(self) -> [u64; 4] {
        [self.handler, self.flags, self.restorer, self.mask]
    }
}

/// A thread's signal state (the actions are its process's: see
/// `Private`).
pub struct Signals {
    pub(crate) pending: AtomicU64,
    pub(crate) mask: AtomicU64,
    /// Signals `rt_sigtimedwait` is waiting for (blocked ones included).
    pub(crate) awaited: AtomicU64,
    /// The mask `rt_sigsuspend` replaced, restored once a signal has been
    /// dealt with (through the handler frame if one runs); [`NO_MASK`]
    /// when none is (read on every return to user mode: an atomic).
    suspended_mask: AtomicU64,
}

impl Signals {
    /// Fresh state: all default, nothing pending, `mask` blocked.
    pub fn new(mask: SigSet) -> Signals {
        Signals {
            pending: AtomicU64::new(0),
            mask: AtomicU64::new(mask & !UNCATCHABLE),
            suspended_mask: AtomicU64::new(NO_MASK),
            awaited: AtomicU64::new(0),
        }
    }

    /// A new thread's (or forked process's) state: the caller's mask,
    /// nothing pending.
    pub fn inherit(&self) -> Signals {
        Signals::new(self.mask())
    }

    /// The blocked set.
    pub fn mask(&self) -> SigSet {
        self.mask.load(Ordering::Relaxed)
    }

    /// Replaces the blocked set (SIGKILL and SIGSTOP stay unblocked).
    pub fn set_mask(&self, mask: SigSet) {
        self.mask.store(mask & !UNCATCHABLE, Ordering::Relaxed);
    }

    /// `rt_sigsuspend`: blocks `mask` until the next signal is dealt with.
    pub fn suspend_with(&self, mask: SigSet) {
        self.suspended_mask.store(self.mask(), Ordering::Relaxed);
        self.set_mask(mask);
    }

    /// Takes the mask `rt_sigsuspend` replaced, if the call is in progress.
    pub(crate) fn take_suspended_mask(&self) -> Option<SigSet> {
        match self.suspended_mask.swap(NO_MASK, Ordering::Relaxed) {
            NO_MASK => None,
            mask => Some(mask),
        }
    }

    /// The mask a handler frame saves: the one before `rt_sigsuspend`, if
    /// the call is in progress (taking it), else the current one.
    pub(crate) fn mask_to_save(&self) -> SigSet {
        self.take_suspended_mask().unwrap_or_else(|| self.mask())
    }

    /// Pending signals.
    pub fn pending(&self) -> SigSet {
        self.pending.load(Ordering::Relaxed)
    }

    /// Whether a pending signal is not blocked.
    pub fn deliverable(&self) -> bool {
        self.pending() & !self.mask() != 0
    }

    /// Whether SIGKILL is pending: a long transfer stops for it.
    pub fn fatal_pending(&self) -> bool {
        self.pending() & (1 << (SIGKILL - 1)) != 0
    }
}

/// At `execve`: handled signals reset to default (ignored stay).
pub fn reset_handlers(actions: &mut [Action]) {
    for action in actions.iter_mut().filter(|action| action.handler != SIG_IGN) {
        *action = Action::default();
    }
}
