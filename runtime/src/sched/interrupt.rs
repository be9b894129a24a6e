//! Interruptible waits: how a signal gets a goroutine out of a blocking
//! system call (Linux's `TASK_INTERRUPTIBLE` and `EINTR`).
//!
//! An [`Interrupter`] names one goroutine. [`Interrupter::interrupt`] sets
//! the goroutine's *interrupted* flag and ends its current wait, if any.
//! Waits that may be cut short check [`interrupted`] after each wake-up
//! (and before parking, so an interrupt that lands between the check and
//! the park is not lost: the wake finds the wait still pending and makes
//! the park return at once). The flag stays set until the goroutine calls
//! [`clear_interrupt`] — the kernel does so once it has dealt with the
//! signal — so every interruptible wait in between returns early.

use alloc::sync::{Arc, Weak};
use core::sync::atomic::Ordering;

use super::engine;
use super::g::{G, State, WaitToken};

/// A handle that interrupts one goroutine's waits; cheap to clone. It does
/// not keep the goroutine alive.
#[derive(Clone)]
pub struct Interrupter {
    g: Weak<G>,
}

/// Returned by an interruptible wait that was interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupted;

/// An [`Interrupter`] for the calling goroutine.
pub fn interrupter() -> Interrupter {
    Interrupter { g: Arc::downgrade(&engine::current()) }
}

/// Whether the calling goroutine has been interrupted (and not cleared).
pub fn interrupted() -> bool {
    engine::current().interrupted.load(Ordering::Acquire)
}

/// Clears the calling goroutine's interrupted flag.
pub fn clear_interrupt() {
    engine::current().interrupted.store(false, Ordering::Release);
}

impl Interrupter {
    /// Marks the goroutine interrupted and ends the wait it is in, if
    /// any. Returns false if the goroutine has exited. Never allocates.
    pub fn interrupt(&self) -> bool {
        let Some(g) = self.g.upgrade() else { return false };
        g.interrupted.store(true, Ordering::Release);
        if matches!(g.state(), State::Waiting | State::Parked) {
            WaitToken::new(&g, g.wait_seq()).wake();
        }
        true
    }
}
