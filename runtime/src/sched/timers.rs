//! A processor's timers: a min-heap of deadlines, each carrying what to wake.
//!
//! Plain logic, generic over the payload so the host tests can drive it.
//! Adding a timer allocates (goroutine context); taking expired ones does
//! not, so the timer interrupt may do it.

use alloc::collections::BinaryHeap;
use core::cmp::{Ordering, Reverse};

/// One timer: fires at `deadline` (ns); `key` identifies it for cancelling.
struct Timer<T> {
    deadline: u64,
    key: u64,
    item: T,
}

impl<T> PartialEq for Timer<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.key) == (other.deadline, other.key)
    }
}

impl<T> Eq for Timer<T> {}

impl<T> PartialOrd for Timer<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Timer<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.deadline, self.key).cmp(&(other.deadline, other.key))
    }
}

/// Pending timers, earliest first.
pub struct TimerHeap<T> {
    heap: BinaryHeap<Reverse<Timer<T>>>,
}

impl<T> TimerHeap<T> {
    /// No timers.
    pub const fn new() -> Self {
        TimerHeap { heap: BinaryHeap::new() }
    }

    /// Adds a timer for `deadline` with a unique `key`.
    pub fn add(&mut self, deadline: u64, key: u64, item: T) {
        self.heap.push(Reverse(Timer { deadline, key, item }));
    }

    /// The earliest deadline, if any.
    pub fn next_deadline(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(t)| t.deadline)
    }

    /// Takes one timer whose deadline is at or before `now`.
    pub fn pop_expired(&mut self, now: u64) -> Option<T> {
        if self.next_deadline()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse(t)| t.item)
    }

    /// Removes the timer with `key` (if it has not fired); O(n), and it
    /// does not allocate. Returns whether it was pending.
    pub fn cancel(&mut self, key: u64) -> bool {
        let before = self.heap.len();
        self.heap.retain(|Reverse(timer)| timer.key != key);
        self.heap.len() < before
    }

    /// Timers pending.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

impl<T> Default for TimerHeap<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::TimerHeap;

    #[test]
    fn fires_in_deadline_order_and_only_when_due() {
        let mut timers = TimerHeap::new();
        for (key, deadline) in [(1, 30), (2, 10), (3, 20), (4, 10)] {
            timers.add(deadline, key, key);
        }
        assert_eq!(timers.next_deadline(), Some(10));
        assert_eq!(timers.pop_expired(5), None);
        let fired: Vec<_> = core::iter::from_fn(|| timers.pop_expired(20)).collect();
        assert_eq!(fired, [2, 4, 3]);
        assert_eq!(timers.len(), 1);
        assert_eq!(timers.pop_expired(29), None);
        assert_eq!(timers.pop_expired(30), Some(1));
        assert!(timers.is_empty());
    }

    #[test]
    fn cancel_removes_one_timer() {
        let mut timers = TimerHeap::new();
        for key in 0..10 {
            timers.add(100 - key, key, key);
        }
        assert!(timers.cancel(3));
        assert!(!timers.cancel(3));
        assert_eq!(timers.next_deadline(), Some(91));
        let fired: Vec<_> = core::iter::from_fn(|| timers.pop_expired(u64::MAX)).collect();
        assert_eq!(fired, [9, 8, 7, 6, 5, 4, 2, 1, 0]);
    }
}
