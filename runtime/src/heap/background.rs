//! The incremental policy's background collector (`gc.background=1`).
//!
//! A goroutine per heap pays the heap's allocation debt in bounded steps
//! and yields between them, so scopes end without pausing. A scope that
//! finds its heap more than [`ASSIST_STEPS`] steps in debt pays the excess
//! itself (an *assist*, as Go's mutators do when they outrun the collector),
//! so allocation can never run away from collection. The collector's
//! pauses are recorded with cause [`PauseCause::Background`](super::PauseCause::Background).

use alloc::format;
use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicBool, Ordering};

use super::Shared;
use crate::sched::{Builder, SpawnError};
use crate::sync::WaitQueue;

/// Debt, in steps' worth, a heap may carry before its scopes assist.
pub const ASSIST_STEPS: f64 = 4.0;

/// The link between a heap and its collector goroutine.
pub(super) struct Collector {
    /// Debt is waiting to be paid.
    pending: AtomicBool,
    /// The heap is gone: the goroutine exits.
    closed: AtomicBool,
    wake: WaitQueue,
}

impl Collector {
    /// Tells the collector there is debt to pay.
    pub fn signal(&self) {
        if !self.pending.swap(true, Ordering::AcqRel) {
            self.wake.wake_one();
        }
    }

    /// Ends the collector goroutine (the heap is being dropped).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.wake_all();
    }
}

/// Starts the collector goroutine of heap `shared`, named `gc/<heap>`.
pub(super) fn start(shared: &Arc<Shared>, name: &str) -> Result<Arc<Collector>, SpawnError> {
    let collector =
        Arc::new(Collector { pending: AtomicBool::new(false), closed: AtomicBool::new(false), wake: WaitQueue::new() });
    let (own, heap) = (Arc::clone(&collector), Arc::downgrade(shared));
    Builder::new().name(format!("gc/{name}")).spawn(move || run(&own, &heap))?;
    Ok(collector)
}

fn run(collector: &Collector, heap: &Weak<Shared>) {
    loop {
        collector.wake.wait_for(|| {
            let work = collector.pending.swap(false, Ordering::AcqRel) || collector.closed.load(Ordering::Acquire);
            work.then_some(())
        });
        if collector.closed.load(Ordering::Acquire) {
            return;
        }
        let Some(heap) = heap.upgrade() else { return };
        heap.pay_debt_in_background();
    }
}
