//! Channels: bounded or unbounded FIFO queues between goroutines, with
//! blocking send and receive, close, and timeouts ([`super::Select`] waits
//! on several at once).
//!
//! Like Go's, a channel has any number of senders and receivers (both
//! ends clone). It is closed by [`Sender::close`] or when the last
//! [`Sender`] is dropped: receivers then drain what is buffered and get
//! [`RecvError`]. When the last [`Receiver`] is dropped, sends fail and
//! give the value back. A bounded channel needs a capacity of at least
//! one (there are no unbuffered, rendezvous channels).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

use shim::irq::IrqMutex;
use shim::time::now_ns;

use super::WaitQueue;

struct State<T> {
    buffer: VecDeque<T>,
    capacity: Option<usize>,
    closed: bool,
    senders: usize,
    receivers: usize,
}

impl<T> State<T> {
    fn full(&self) -> bool {
        self.capacity.is_some_and(|cap| self.buffer.len() >= cap)
    }

    /// Whether a receive would not block (a value, or the end).
    fn can_recv(&self) -> bool {
        !self.buffer.is_empty() || self.closed
    }

    /// Whether a send would not block (room, or failure).
    fn can_send(&self) -> bool {
        !self.full() || self.closed || self.receivers == 0
    }
}

pub(super) struct Chan<T> {
    state: IrqMutex<State<T>>,
    /// Receivers waiting for a value.
    pub(super) recv_waiters: WaitQueue,
    /// Senders waiting for room.
    pub(super) send_waiters: WaitQueue,
}

impl<T> Chan<T> {
    pub(super) fn can_recv(&self) -> bool {
        self.state.lock().can_recv()
    }

    pub(super) fn can_send(&self) -> bool {
        self.state.lock().can_send()
    }

    /// Drops one end, counted by `count`; true if it was the last.
    fn release(&self, count: impl FnOnce(&mut State<T>) -> &mut usize) -> bool {
        let mut state = self.state.lock();
        let count = count(&mut state);
        *count -= 1;
        *count == 0
    }

    fn close(&self) {
        self.state.lock().closed = true;
        self.recv_waiters.wake_all();
        self.send_waiters.wake_all();
    }
}

/// The sending end of a channel.
pub struct Sender<T> {
    pub(super) chan: Arc<Chan<T>>,
}

/// The receiving end of a channel.
pub struct Receiver<T> {
    pub(super) chan: Arc<Chan<T>>,
}

/// A channel holding at most `capacity` (≥ 1) values; senders block when
/// it is full.
///
/// # Panics
/// If `capacity` is zero.
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "a bounded channel needs room for at least one value");
    channel(Some(capacity))
}

/// A channel whose senders never block (it grows as needed).
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    channel(None)
}

fn channel<T>(capacity: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let state = State { buffer: VecDeque::new(), capacity, closed: false, senders: 1, receivers: 1 };
    let chan =
        Arc::new(Chan { state: IrqMutex::new(state), recv_waiters: WaitQueue::new(), send_waiters: WaitQueue::new() });
    (Sender { chan: Arc::clone(&chan) }, Receiver { chan })
}

/// A send failed: the channel is closed or has no receiver. The value is
/// given back.
#[derive(PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

/// Why [`Sender::try_send`] failed.
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// No room now.
    Full(T),
    /// Closed, or no receiver.
    Closed(T),
}

/// A receive found the channel closed and empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

/// Why a non-blocking or timed receive returned nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing now (or before the deadline).
    Empty,
    /// Closed and empty.
    Closed,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room in a full bounded channel.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut value = value;
        loop {
            match self.try_send(value) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(v)) => return Err(SendError(v)),
                Err(TrySendError::Full(v)) => value = v,
            }
            self.chan.send_waiters.wait_for(|| self.chan.can_send().then_some(()));
        }
    }

    /// Sends `value` if that does not need to wait.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        {
            let mut state = self.chan.state.lock();
            if state.closed || state.receivers == 0 {
                return Err(TrySendError::Closed(value));
            }
            if state.full() {
                return Err(TrySendError::Full(value));
            }
            state.buffer.push_back(value);
        }
        self.chan.recv_waiters.wake_one();
        Ok(())
    }

    /// Closes the channel for everyone: receivers drain what is buffered,
    /// then get [`RecvError`]; sends fail.
    pub fn close(&self) {
        self.chan.close();
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.chan.state.lock().buffer.len()
    }

    /// Whether nothing is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Receiver<T> {
    /// Receives a value, waiting for one; `Err` once the channel is closed
    /// and drained.
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_deadline(u64::MAX).map_err(|_| RecvError)
    }

    /// Receives a value if one is buffered.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let value = {
            let mut state = self.chan.state.lock();
            match state.buffer.pop_front() {
                Some(value) => value,
                None if state.closed => return Err(TryRecvError::Closed),
                None => return Err(TryRecvError::Empty),
            }
        };
        self.chan.send_waiters.wake_one();
        Ok(value)
    }

    /// Receives a value, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, TryRecvError> {
        let timeout = timeout.as_nanos().min(u64::MAX as u128) as u64;
        self.recv_deadline(now_ns().saturating_add(timeout))
    }

    /// Receives a value, waiting until `deadline_ns` (ns since boot) at most.
    pub fn recv_deadline(&self, deadline_ns: u64) -> Result<T, TryRecvError> {
        self.chan
            .recv_waiters
            .wait_for_deadline(deadline_ns, || match self.try_recv() {
                Err(TryRecvError::Empty) => None,
                done => Some(done),
            })
            .unwrap_or(Err(TryRecvError::Empty))
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.chan.state.lock().buffer.len()
    }

    /// Whether nothing is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.state.lock().senders += 1;
        Sender { chan: Arc::clone(&self.chan) }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.state.lock().receivers += 1;
        Receiver { chan: Arc::clone(&self.chan) }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.release(|state| &mut state.senders) {
            self.chan.close();
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.chan.release(|state| &mut state.receivers) {
            self.chan.send_waiters.wake_all();
        }
    }
}
