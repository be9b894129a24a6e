//! Synchronization between goroutines: blocking primitives built on
//! [`crate::sched::Waiter`] (wait queues, a sleeping mutex and condition
//! variable, wait groups, channels and select), and a spin lock whose
//! holder cannot block.
//!
//! Interrupt handlers may only *wake* ([`WaitQueue::wake_one`],
//! [`WaitQueue::wake_all`], [`crate::sched::WaitToken::wake`]); everything
//! that waits or allocates is for goroutines.

pub mod channel;
mod mutex;
mod select;
mod spin_lock;
mod wait_group;
mod wait_queue;

#[cfg(feature = "ktest")]
mod ktests;

pub use channel::{Receiver, RecvError, SendError, Sender, TryRecvError, TrySendError, bounded, unbounded};
pub use mutex::{Condvar, Mutex, MutexGuard};
pub use select::Select;
pub use spin_lock::{SpinGuard, SpinLock};
pub use wait_group::WaitGroup;
pub use wait_queue::WaitQueue;
