//! A wait group (Go's `sync.WaitGroup`): wait for a number of goroutines
//! to finish.

use core::sync::atomic::{AtomicUsize, Ordering};

use super::WaitQueue;

/// A counter of outstanding work; [`wait`](Self::wait) blocks until it is zero.
#[derive(Default)]
pub struct WaitGroup {
    count: AtomicUsize,
    waiters: WaitQueue,
}

impl WaitGroup {
    /// A wait group with nothing outstanding.
    pub const fn new() -> Self {
        WaitGroup { count: AtomicUsize::new(0), waiters: WaitQueue::new() }
    }

    /// Adds `n` outstanding items.
    pub fn add(&self, n: usize) {
        self.count.fetch_add(n, Ordering::AcqRel);
    }

    /// Marks one item finished.
    ///
    /// # Panics
    /// If nothing is outstanding.
    pub fn done(&self) {
        let before = self.count.fetch_sub(1, Ordering::AcqRel);
        assert!(before > 0, "WaitGroup::done without a matching add");
        if before == 1 {
            self.waiters.wake_all();
        }
    }

    /// Items outstanding.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Blocks until nothing is outstanding.
    pub fn wait(&self) {
        self.waiters.wait_for(|| (self.count() == 0).then_some(()));
    }
}
