//! Blocking synchronization between goroutines, built on
//! [`crate::sched::Waiter`]: wait queues, a sleeping mutex and condition
//! variable, wait groups, channels and select.
//!
//! Interrupt handlers may only *wake* ([`WaitQueue::wake_one`],
//! [`WaitQueue::wake_all`], [`crate::sched::WaitToken::wake`]); everything
//! that waits or allocates is for goroutines.

pub mod channel;
mod mutex;
mod select;
mod wait_group;
mod wait_queue;

#[cfg(feature = "ktest")]
mod ktests;

pub use channel::{Receiver, RecvError, SendError, Sender, TryRecvError, TrySendError, bounded, unbounded};
pub use mutex::{Condvar, Mutex, MutexGuard};
pub use select::Select;
pub use wait_group::WaitGroup;
pub use wait_queue::WaitQueue;
