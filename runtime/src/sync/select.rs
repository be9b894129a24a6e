//! Waiting on several channel operations at once (Go's `select`).
//!
//! A [`Select`] lists receive and send operations; [`Select::ready`] blocks
//! until one of them can proceed without waiting and returns its index; the
//! caller then performs it with `try_recv`/`try_send` (which may lose a
//! race to another goroutine: then select again), as with crossbeam's
//! `Select`. Readiness is scanned from a rotating start, so no operation
//! starves the others.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use shim::time::now_ns;

use super::WaitQueue;
use super::channel::{Chan, Receiver, Sender};
use crate::sched::{WaitToken, Waiter};

/// One operation a [`Select`] can wait for.
trait Operation {
    fn ready(&self) -> bool;
    fn queue(&self) -> &WaitQueue;
}

struct RecvOp<'a, T>(&'a Chan<T>);
struct SendOp<'a, T>(&'a Chan<T>);

impl<T> Operation for RecvOp<'_, T> {
    fn ready(&self) -> bool {
        self.0.can_recv()
    }
    fn queue(&self) -> &WaitQueue {
        &self.0.recv_waiters
    }
}

impl<T> Operation for SendOp<'_, T> {
    fn ready(&self) -> bool {
        self.0.can_send()
    }
    fn queue(&self) -> &WaitQueue {
        &self.0.send_waiters
    }
}

/// A set of channel operations to wait on.
#[derive(Default)]
pub struct Select<'a> {
    operations: Vec<alloc::boxed::Box<dyn Operation + 'a>>,
}

/// Rotates the scan start across all selects.
static ROTATION: AtomicUsize = AtomicUsize::new(0);

impl<'a> Select<'a> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds "receive from `receiver`"; returns its index.
    pub fn recv<T>(&mut self, receiver: &'a Receiver<T>) -> usize {
        self.operations.push(alloc::boxed::Box::new(RecvOp(&*receiver.chan)));
        self.operations.len() - 1
    }

    /// Adds "send on `sender`"; returns its index.
    pub fn send<T>(&mut self, sender: &'a Sender<T>) -> usize {
        self.operations.push(alloc::boxed::Box::new(SendOp(&*sender.chan)));
        self.operations.len() - 1
    }

    /// An operation that can proceed now, if any.
    pub fn try_ready(&self) -> Option<usize> {
        let n = self.operations.len();
        let start = ROTATION.fetch_add(1, Ordering::Relaxed);
        (0..n).map(|i| (start + i) % n.max(1)).find(|&i| self.operations[i].ready())
    }

    /// Blocks until an operation can proceed; returns its index.
    ///
    /// # Panics
    /// If the set is empty (it would block forever).
    pub fn ready(&self) -> usize {
        assert!(!self.operations.is_empty(), "select over no operations");
        loop {
            if let Some(index) = self.ready_deadline(u64::MAX) {
                return index;
            }
        }
    }

    /// Like [`ready`](Self::ready), giving up at `deadline_ns` (ns since
    /// boot) with `None`.
    pub fn ready_deadline(&self, deadline_ns: u64) -> Option<usize> {
        loop {
            if let Some(index) = self.try_ready() {
                return Some(index);
            }
            if now_ns() >= deadline_ns {
                return None;
            }
            let waiter = Waiter::begin();
            for op in &self.operations {
                op.queue().register(&waiter);
            }
            let token = waiter.token();
            let ready = self.try_ready();
            if ready.is_some() {
                waiter.cancel();
            } else if deadline_ns == u64::MAX {
                waiter.park();
            } else {
                waiter.park_until(deadline_ns);
            }
            self.deregister(&token);
            if let Some(index) = ready.or_else(|| self.try_ready()) {
                self.pass_on_wakeups(index);
                return Some(index);
            }
        }
    }

    fn deregister(&self, token: &WaitToken) {
        for op in &self.operations {
            op.queue().deregister(token);
        }
    }

    /// The wake-up that ended this select may have come from an operation
    /// other than the one chosen: hand one on to every other ready
    /// operation's waiters, so none of them sleeps through it.
    fn pass_on_wakeups(&self, chosen: usize) {
        for (i, op) in self.operations.iter().enumerate() {
            if i != chosen && op.ready() {
                op.queue().wake_one();
            }
        }
    }
}
