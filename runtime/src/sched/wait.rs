//! Blocking: the one primitive every other wait is built on, and sleep.
//!
//! A goroutine that must wait for an event:
//! 1. creates a [`Waiter`] (its state becomes *waiting*),
//! 2. hands [`Waiter::token`]s to whatever will signal the event (a wait
//!    queue, a channel, a timer) and re-checks the condition,
//! 3. calls [`Waiter::park`] — or [`Waiter::cancel`] if the condition
//!    already holds.
//!
//! A wake that comes between 1 and 3 is not lost: `park` then returns at
//! once. Tokens of a finished wait are stale and wake nothing.

use alloc::sync::Arc;
use core::time::Duration;

use shim::time::now_ns;

use super::engine::{self, add_timer, cancel_timer, park};
use super::g::{G, GoroutineId, State, WaitToken};

/// The current goroutine's pending wait; see the module doc.
pub struct Waiter {
    g: Arc<G>,
    seq: u64,
    /// The `!Send` marker: a wait belongs to the goroutine that began it.
    _here: core::marker::PhantomData<*const ()>,
}

impl Waiter {
    /// Begins a wait of the current goroutine.
    ///
    /// # Panics
    /// Outside a goroutine, or while the goroutine already has a wait
    /// pending.
    pub fn begin() -> Waiter {
        let g = engine::current();
        assert!(!g.is_idle(), "the idle loop cannot wait");
        assert_eq!(g.state(), State::Running, "goroutine {} began a wait inside a wait", g.id);
        let seq = g.begin_wait();
        Waiter { g, seq, _here: core::marker::PhantomData }
    }

    /// A token that ends this wait.
    pub fn token(&self) -> WaitToken {
        WaitToken::new(&self.g, self.seq)
    }

    /// The waiting goroutine.
    pub fn goroutine(&self) -> GoroutineId {
        self.g.id
    }

    /// Sleeps until a token wakes this wait (returns at once if one did).
    pub fn park(self) {
        park(&self.g, self.seq);
    }

    /// Like [`park`](Waiter::park), but also wakes at `deadline` (ns since
    /// boot). The caller tells the two apart by re-checking its condition.
    pub fn park_until(self, deadline_ns: u64) {
        let (cpu, key) = add_timer(deadline_ns, self.token());
        park(&self.g, self.seq);
        if now_ns() < deadline_ns {
            cancel_timer(cpu, key);
        }
    }

    /// Ends the wait without sleeping (the condition already holds).
    /// Dropping a `Waiter` that was not parked does the same.
    pub fn cancel(self) {}
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.g.end_wait(self.seq);
    }
}

/// Sleeps for at least `duration`.
pub fn sleep(duration: Duration) {
    sleep_until(now_ns().saturating_add(duration.as_nanos().min(u64::MAX as u128) as u64));
}

/// Sleeps until the clock ([`shim::time::now_ns`]) reaches `deadline_ns`.
pub fn sleep_until(deadline_ns: u64) {
    while now_ns() < deadline_ns {
        Waiter::begin().park_until(deadline_ns);
    }
}

/// Like [`sleep_until`], but an [`Interrupter`](super::Interrupter) ends
/// it early with `Err(Interrupted)`.
pub fn sleep_until_interruptible(deadline_ns: u64) -> Result<(), super::Interrupted> {
    while now_ns() < deadline_ns {
        let waiter = Waiter::begin();
        if super::interrupted() {
            return Err(super::Interrupted);
        }
        waiter.park_until(deadline_ns);
    }
    Ok(())
}
