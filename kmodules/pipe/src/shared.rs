//! The object both ends of one pipe share: the buffer and the open-end
//! counts (a managed object in a GC heap), the two wait queues; and the
//! non-blocking step of a read or a write (plain logic on the state,
//! host-tested).

use core::cell::RefCell;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::errno::{EAGAIN, ENOMEM, EPIPE};
use abi::flags::mode::S_IFIFO;
use abi::types::Stat;
use fs::KResult;
use gc_arena::Collect;
use runtime::heap::{AllocError, Handle, Rootable, Static, layout};
use runtime::sync::WaitQueue;

use crate::ring::{PIPE_CAPACITY, Ring, writable_now};

/// A pipe's data: lives in a GC heap, the ring buffer owned by (and
/// counted to) the heap object.
#[derive(Collect)]
#[collect(require_static)]
pub(crate) struct State {
    /// The buffered bytes.
    pub(crate) ring: Ring,
    /// Open read ends (open file descriptions, not descriptors).
    pub(crate) readers: usize,
    /// Open write ends.
    pub(crate) writers: usize,
}

impl State {
    /// One try at a read into `buf` (not empty): `None` means wait.
    /// Buffered bytes first; then end of file (`Ok(0)`) if no write end is
    /// left; then `EAGAIN` if the reader does not wait.
    pub(crate) fn try_read(&mut self, buf: &mut [u8], nonblock: bool) -> Option<KResult<usize>> {
        if !self.ring.is_empty() {
            Some(Ok(self.ring.pop(buf)))
        } else if self.writers == 0 {
            Some(Ok(0))
        } else if nonblock {
            Some(Err(EAGAIN))
        } else {
            None
        }
    }

    /// One try at writing the rest of `buf` from offset `done`: the bytes
    /// written (see [`writable_now`] for how many), `EPIPE` with no read
    /// end left, `EAGAIN` if the writer does not wait, or `None`: wait.
    pub(crate) fn try_write(&mut self, buf: &[u8], done: usize, nonblock: bool) -> Option<KResult<usize>> {
        if self.readers == 0 {
            return Some(Err(EPIPE));
        }
        match writable_now(buf.len(), buf.len() - done, self.ring.space()) {
            Some(n) => Some(self.ring.push(&buf[done..done + n]).ok_or(ENOMEM)),
            None if nonblock => Some(Err(EAGAIN)),
            None => None,
        }
    }

    /// Whether a write would not wait: room for `PIPE_BUF` bytes (as
    /// Linux's `POLLOUT`), or no read end left (it fails at once).
    pub(crate) fn writable(&self) -> bool {
        self.ring.space() >= crate::PIPE_BUF || self.readers == 0
    }

    /// Whether a read would not wait: data, or no write end left.
    pub(crate) fn readable(&self) -> bool {
        !self.ring.is_empty() || self.writers == 0
    }
}

/// The rootable form of a pipe's state, for its handle.
/// Plain data in a cell, not a `RefLock`: the state holds no `Gc`, so a
/// change needs no write barrier (see docs/gc.md on `Static`).
type StateRoot = Rootable![Static<RefCell<State>>];

/// One pipe: a handle on its state in a shared-object heap (see
/// `runtime::heap::layout`), and the wait queues, which stay outside any
/// heap because goroutines sleep on them between scopes.
pub(crate) struct Pipe {
    state: Handle<StateRoot>,
    /// Readers waiting for data or for the last write end to close.
    pub(crate) readers_wait: WaitQueue,
    /// Writers waiting for room or for the last read end to close.
    pub(crate) writers_wait: WaitQueue,
    /// The inode number `fstat` reports: the same for both ends, different
    /// for every pipe (Linux's pipefs inode).
    ino: u64,
}

/// The next pipe's inode number.
static NEXT_INO: AtomicU64 = AtomicU64::new(1);

impl Pipe {
    /// A pipe with one read end and one write end open, or `ENOMEM`.
    pub(crate) fn new() -> KResult<Pipe> {
        let state = layout::shared()
            .try_mutate(|scope| {
                let ring = Ring::new(PIPE_CAPACITY);
                let state = scope.alloc(Static(RefCell::new(State { ring, readers: 1, writers: 1 })))?;
                Ok(scope.stash::<StateRoot>(state))
            })
            .map_err(|AllocError| ENOMEM)?;
        Ok(Pipe {
            state,
            readers_wait: WaitQueue::new(),
            writers_wait: WaitQueue::new(),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Runs `f` on the state in a scope of its heap (which pins the
    /// goroutine and serializes access). `f` must not block.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        self.state.with(|_, state| f(&mut state.0.borrow_mut()))
    }

    /// The heap the state lives in (for tests of reclamation).
    #[cfg(feature = "ktest")]
    pub(crate) fn heap(&self) -> runtime::heap::Heap {
        self.state.heap()
    }

    /// `fstat` of either end: a FIFO, mode 0600, size 0.
    pub(crate) fn stat(&self) -> Stat {
        Stat { st_ino: self.ino, st_mode: S_IFIFO | 0o600, st_nlink: 1, st_blksize: 4096, ..Stat::default() }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::ring::PIPE_BUF;

    fn state() -> State {
        State { ring: Ring::new(PIPE_CAPACITY), readers: 1, writers: 1 }
    }

    fn read(s: &mut State, size: usize, nonblock: bool) -> Option<KResult<vec::Vec<u8>>> {
        let mut buf = vec![0; size];
        Some(s.try_read(&mut buf, nonblock)?.map(|n| buf[..n].to_vec()))
    }

    #[test]
    fn bytes_come_out_in_order_as_far_as_the_buffer_goes() {
        let mut s = state();
        assert_eq!(s.try_write(b"hello, pipe", 0, false), Some(Ok(11)));
        assert_eq!(read(&mut s, 5, false), Some(Ok(b"hello".to_vec())));
        assert_eq!(read(&mut s, 64, false), Some(Ok(b", pipe".to_vec())));
    }

    #[test]
    fn an_empty_pipe_waits_or_says_eagain() {
        let mut s = state();
        assert!(!s.readable());
        assert_eq!(read(&mut s, 4, false), None);
        assert_eq!(read(&mut s, 4, true), Some(Err(EAGAIN)));
    }

    #[test]
    fn end_of_file_once_the_writers_are_gone_and_data_drained() {
        let mut s = state();
        s.try_write(b"abc", 0, false);
        s.writers = 0;
        assert!(s.readable());
        assert_eq!(read(&mut s, 8, true), Some(Ok(b"abc".to_vec())));
        assert_eq!(read(&mut s, 8, false), Some(Ok(vec![])));
        assert!(s.readable());
    }

    #[test]
    fn epipe_once_the_readers_are_gone() {
        let mut s = state();
        s.readers = 0;
        assert_eq!(s.try_write(b"x", 0, false), Some(Err(EPIPE)));
        assert_eq!(s.try_write(b"x", 0, true), Some(Err(EPIPE)));
    }

    #[test]
    fn a_small_write_waits_for_room_for_all_of_it() {
        let mut s = state();
        let fill = vec![7; PIPE_CAPACITY - 100];
        assert_eq!(s.try_write(&fill, 0, false), Some(Ok(fill.len())));
        assert_eq!(s.try_write(&[1; 101], 0, false), None);
        assert_eq!(s.try_write(&[1; 101], 0, true), Some(Err(EAGAIN)));
        assert_eq!(s.try_write(&[1; 100], 0, true), Some(Ok(100)));
        assert_eq!(s.try_write(&[1], 0, true), Some(Err(EAGAIN)));
    }

    #[test]
    fn a_large_write_goes_in_piece_by_piece() {
        let mut s = state();
        s.try_write(&vec![0; PIPE_CAPACITY - 10], 0, false);
        let big = vec![1; PIPE_BUF + 1];
        assert_eq!(s.try_write(&big, 0, true), Some(Ok(10)));
        assert_eq!(s.try_write(&big, 10, false), None);
        assert_eq!(read(&mut s, PIPE_CAPACITY - 5, true).map(|r| r.map(|v| v.len())), Some(Ok(PIPE_CAPACITY - 5)));
        // The rest of the write continues from where it stopped.
        assert_eq!(s.try_write(&big, 10, false), Some(Ok(big.len() - 10)));
    }

    #[test]
    fn both_ends_stat_as_one_fifo_and_pipes_differ() {
        let (a, b) = (Pipe::new().expect("a pipe"), Pipe::new().expect("another"));
        let st = a.stat();
        assert_eq!(st.st_mode, S_IFIFO | 0o600);
        assert_eq!(st.st_size, 0);
        assert_ne!(st.st_ino, b.stat().st_ino);
    }
}
