//! A queue of waiting goroutines: the building block of the other sync
//! types, and what an interrupt handler uses to wake a goroutine.

use alloc::collections::VecDeque;

use shim::irq::IrqMutex;
use shim::time::now_ns;

use crate::sched::{Interrupted, WaitToken, Waiter, interrupted};

/// Goroutines waiting for something to happen.
pub struct WaitQueue {
    waiters: IrqMutex<VecDeque<WaitToken>>,
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueue {
    /// An empty queue.
    pub const fn new() -> Self {
        WaitQueue { waiters: IrqMutex::new(VecDeque::new()) }
    }

    /// Adds `waiter` to the queue (step 2 of a [`Waiter`]'s protocol).
    pub fn register(&self, waiter: &Waiter) {
        self.waiters.lock().push_back(waiter.token());
    }

    /// Removes the token of a wait if it is still queued.
    pub fn deregister(&self, token: &WaitToken) {
        self.waiters.lock().retain(|t| !t.same_wait(token));
    }

    /// Blocks until `attempt` succeeds, and returns its result. `attempt`
    /// runs before each sleep and after each wake-up; whoever makes it able
    /// to succeed must call [`wake_one`](Self::wake_one) or
    /// [`wake_all`](Self::wake_all) afterwards.
    pub fn wait_for<R>(&self, mut attempt: impl FnMut() -> Option<R>) -> R {
        loop {
            if let Some(result) = self.wait_for_deadline(u64::MAX, &mut attempt) {
                return result;
            }
        }
    }

    /// Like [`wait_for`](Self::wait_for), but an
    /// [`Interrupter`](crate::sched::Interrupter) ends the wait early with
    /// `Err(Interrupted)` (the attempt is still tried first).
    pub fn wait_interruptible<R>(&self, attempt: impl FnMut() -> Option<R>) -> Result<R, Interrupted> {
        self.wait_interruptible_until(u64::MAX, attempt).map(|r| r.expect("no deadline"))
    }

    /// Like [`wait_interruptible`](Self::wait_interruptible), giving up at
    /// `deadline_ns` (ns since boot) with `Ok(None)`.
    pub fn wait_interruptible_until<R>(
        &self,
        deadline_ns: u64,
        mut attempt: impl FnMut() -> Option<R>,
    ) -> Result<Option<R>, Interrupted> {
        loop {
            if let Some(result) = attempt() {
                return Ok(Some(result));
            }
            if now_ns() >= deadline_ns {
                return Ok(None);
            }
            let waiter = Waiter::begin();
            self.register(&waiter);
            let token = waiter.token();
            if let Some(result) = attempt() {
                self.deregister(&token);
                return Ok(Some(result));
            }
            if interrupted() {
                self.deregister(&token);
                return Err(Interrupted);
            }
            match deadline_ns {
                u64::MAX => waiter.park(),
                deadline => {
                    waiter.park_until(deadline);
                    self.deregister(&token);
                }
            }
        }
    }

    /// Like [`wait_for`](Self::wait_for), giving up at `deadline_ns` (ns
    /// since boot) with `None`.
    pub fn wait_for_deadline<R>(&self, deadline_ns: u64, mut attempt: impl FnMut() -> Option<R>) -> Option<R> {
        loop {
            if let Some(result) = attempt() {
                return Some(result);
            }
            if now_ns() >= deadline_ns {
                return None;
            }
            let waiter = Waiter::begin();
            self.register(&waiter);
            // Re-check after registering: a wake-up from now on is not lost.
            if let Some(result) = attempt() {
                self.deregister(&waiter.token());
                waiter.cancel();
                return Some(result);
            }
            if deadline_ns == u64::MAX {
                waiter.park();
            } else {
                let token = waiter.token();
                waiter.park_until(deadline_ns);
                // Woken by the deadline: the token may still be queued.
                self.deregister(&token);
            }
        }
    }

    /// Wakes the longest-waiting goroutine whose wait is still current.
    /// Returns whether one was woken. Never allocates: interrupt handlers
    /// may call it.
    pub fn wake_one(&self) -> bool {
        loop {
            let Some(token) = self.waiters.lock().pop_front() else { return false };
            if token.wake() {
                return true;
            }
        }
    }

    /// Wakes every waiting goroutine, to run in the order they waited;
    /// returns how many were woken. The tokens are taken a few at a time
    /// (waking outside the lock), so the queue keeps its buffer: a queue
    /// that is woken often does not allocate on every wait. Never
    /// allocates.
    pub fn wake_all(&self) -> usize {
        const BATCH: usize = 8;
        let mut left = self.waiters.lock().len();
        let mut woken = 0;
        while left > 0 {
            let mut batch: [Option<WaitToken>; BATCH] = Default::default();
            let taken = {
                let mut waiters = self.waiters.lock();
                let n = left.min(BATCH).min(waiters.len());
                for slot in &mut batch[..n] {
                    *slot = waiters.pop_front();
                }
                n
            };
            if taken == 0 {
                break;
            }
            left -= taken;
            woken += batch.iter().flatten().filter(|token| token.wake_in_order()).count();
        }
        woken
    }

    /// Tokens queued (some may be stale).
    pub fn len(&self) -> usize {
        self.waiters.lock().len()
    }

    /// Whether no token is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
