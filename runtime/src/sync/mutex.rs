//! A sleeping mutex and a condition variable.
//!
//! The data sits in a spin lock that is only ever *tried*: the goroutines
//! that find it taken sleep in a [`WaitQueue`] instead of spinning, and
//! unlocking wakes one of them, which tries again (no hand-off: a running
//! goroutine may take the lock first, which keeps the lock busy).
//! The holder may block and may be preempted.

use core::ops::{Deref, DerefMut};

use super::WaitQueue;
use crate::sched::Waiter;

/// A mutual-exclusion lock whose waiters sleep.
#[derive(Default)]
pub struct Mutex<T> {
    data: spin::Mutex<T>,
    waiters: WaitQueue,
}

/// The lock, held; unlocks when dropped.
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    /// Always `Some` until dropped.
    data: Option<spin::MutexGuard<'a, T>>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub const fn new(value: T) -> Self {
        Mutex { data: spin::Mutex::new(value), waiters: WaitQueue::new() }
    }

    /// Takes the lock, sleeping while another goroutine holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let data = self.waiters.wait_for(|| self.data.try_lock());
        MutexGuard { mutex: self, data: Some(data) }
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.data.try_lock().map(|data| MutexGuard { mutex: self, data: Some(data) })
    }

    /// The value, when the mutex is not shared.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.data.as_ref().expect("held")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.data.as_mut().expect("held")
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.data.take());
        self.mutex.waiters.wake_one();
    }
}

/// A condition variable, used with a [`Mutex`].
#[derive(Default)]
pub struct Condvar {
    waiters: WaitQueue,
}

impl Condvar {
    /// A condition variable nobody waits on.
    pub const fn new() -> Self {
        Condvar { waiters: WaitQueue::new() }
    }

    /// Unlocks `guard`'s mutex, sleeps until notified, locks it again.
    /// Wake-ups may be spurious: check the condition in a loop, or use
    /// [`wait_while`](Self::wait_while).
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex = guard.mutex;
        let waiter = Waiter::begin();
        self.waiters.register(&waiter);
        drop(guard);
        waiter.park();
        mutex.lock()
    }

    /// Waits while `condition` holds on the locked value.
    pub fn wait_while<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while condition(&mut guard) {
            guard = self.wait(guard);
        }
        guard
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.waiters.wake_one();
    }

    /// Wakes all waiters.
    pub fn notify_all(&self) {
        self.waiters.wake_all();
    }
}
