//! A spin lock for short critical sections that must never block: held,
//! it pins its goroutine (preemption off), so a wait, a yield or a sleep
//! under it panics at once with a clear message (the scheduler's check)
//! instead of deadlocking some day. Kernel modules use it, not
//! `spin::Mutex`; a section that may block takes the sleeping [`Mutex`](super::Mutex).

use core::ops::{Deref, DerefMut};

use crate::sched::{Pin, pin};

/// A spin lock whose holder cannot block.
pub struct SpinLock<T> {
    inner: spin::Mutex<T>,
}

/// Access to a [`SpinLock`]'s value; the lock is released (and preemption
/// enabled again) when it is dropped.
pub struct SpinGuard<'a, T> {
    guard: spin::MutexGuard<'a, T>,
    _pin: Pin,
}

impl<T> SpinLock<T> {
    /// A lock holding `value`.
    pub const fn new(value: T) -> Self {
        SpinLock { inner: spin::Mutex::new(value) }
    }

    /// Spins until the lock is free, then holds it (pinned).
    pub fn lock(&self) -> SpinGuard<'_, T> {
        let pin = pin();
        SpinGuard { guard: self.inner.lock(), _pin: pin }
    }
}

impl<T: Default> Default for SpinLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}
