//! The pipe's buffer: a fixed-capacity byte ring, and the rule that
//! decides how much of a write may go in now. Plain logic, host-tested.

use alloc::boxed::Box;
use alloc::vec::Vec;

/// Bytes a pipe buffers (Linux's default pipe capacity, 16 pages).
pub const PIPE_CAPACITY: usize = 64 * 1024;

/// Writes of at most this many bytes are atomic: never split, never
/// interleaved with another writer's (POSIX `PIPE_BUF`, Linux's value).
pub const PIPE_BUF: usize = 4096;

/// A fixed-capacity FIFO of bytes.
#[derive(gc_arena::Collect)]
#[collect(require_static)]
pub(crate) struct Ring {
    buf: Box<[u8]>,
    /// Index of the oldest byte.
    head: usize,
    /// Bytes stored.
    len: usize,
}

impl Ring {
    /// An empty ring holding up to `capacity` (> 0) bytes, or `None` when
    /// memory for it cannot be had.
    pub(crate) fn new(capacity: usize) -> Option<Ring> {
        assert!(capacity > 0, "a ring needs room");
        let mut buf = Vec::new();
        buf.try_reserve_exact(capacity).ok()?;
        buf.resize(capacity, 0);
        Some(Ring { buf: buf.into_boxed_slice(), head: 0, len: 0 })
    }

    /// Whether no byte is stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that fit now.
    pub(crate) fn space(&self) -> usize {
        self.buf.len() - self.len
    }

    /// Appends as much of `data` as fits; returns how much.
    pub(crate) fn push(&mut self, data: &[u8]) -> usize {
        let cap = self.buf.len();
        let n = data.len().min(self.space());
        let tail = (self.head + self.len) % cap;
        let first = n.min(cap - tail);
        self.buf[tail..tail + first].copy_from_slice(&data[..first]);
        self.buf[..n - first].copy_from_slice(&data[first..n]);
        self.len += n;
        n
    }

    /// Removes up to `out.len()` of the oldest bytes into `out`; returns
    /// how many.
    pub(crate) fn pop(&mut self, out: &mut [u8]) -> usize {
        let cap = self.buf.len();
        let n = out.len().min(self.len);
        let first = n.min(cap - self.head);
        out[..first].copy_from_slice(&self.buf[self.head..self.head + first]);
        out[first..n].copy_from_slice(&self.buf[..n - first]);
        self.head = (self.head + n) % cap;
        self.len -= n;
        if self.len == 0 {
            // Keeps later copies in one piece as long as possible.
            self.head = 0;
        }
        n
    }
}

/// How many of the `remaining` bytes of a write of `total` bytes may go in
/// when the buffer has `space` bytes free: `None` means wait. A write of at
/// most [`PIPE_BUF`] bytes goes in whole or not at all; a longer one takes
/// whatever room there is.
pub(crate) fn writable_now(total: usize, remaining: usize, space: usize) -> Option<usize> {
    let need = if total <= PIPE_BUF { remaining } else { 1 };
    (space >= need).then(|| remaining.min(space))
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    fn ring(capacity: usize) -> Ring {
        Ring::new(capacity).expect("memory for a test ring")
    }

    #[test]
    fn fifo_order_and_counts() {
        let mut ring = ring(8);
        assert!(ring.is_empty());
        assert_eq!(ring.push(b"abc"), 3);
        assert_eq!(ring.space(), 5);
        let mut out = [0; 2];
        assert_eq!(ring.pop(&mut out), 2);
        assert_eq!(&out, b"ab");
        assert_eq!(ring.space(), 7);
    }

    #[test]
    fn push_stops_when_full_and_pop_when_empty() {
        let mut ring = ring(4);
        assert_eq!(ring.push(b"abcdef"), 4);
        assert_eq!(ring.space(), 0);
        assert_eq!(ring.push(b"x"), 0);
        let mut out = [0; 8];
        assert_eq!(ring.pop(&mut out), 4);
        assert_eq!(&out[..4], b"abcd");
        assert_eq!(ring.pop(&mut out), 0);
        assert!(ring.is_empty());
    }

    #[test]
    fn wraps_around_the_end() {
        let mut ring = ring(8);
        let mut out = [0; 8];
        assert_eq!(ring.push(b"012345"), 6);
        assert_eq!(ring.pop(&mut out[..5]), 5);
        // head = 5, len = 1: the next push wraps.
        assert_eq!(ring.push(b"6789abc"), 7);
        assert_eq!(ring.space(), 0);
        assert_eq!(ring.pop(&mut out), 8);
        assert_eq!(&out, b"56789abc");
    }

    #[test]
    fn empty_ring_rewinds_so_copies_stay_whole() {
        let mut ring = ring(8);
        let mut out = [0; 8];
        ring.push(b"abcde");
        ring.pop(&mut out);
        // Without the rewind this push would wrap.
        assert_eq!(ring.push(b"12345678"), 8);
        assert_eq!(ring.pop(&mut out), 8);
        assert_eq!(&out, b"12345678");
    }

    #[test]
    fn long_random_traffic_keeps_the_byte_stream() {
        // A deterministic mix of odd-sized pushes and pops against a model.
        let mut ring = ring(61);
        let mut model = alloc::collections::VecDeque::new();
        let (mut next, mut seed) = (0u8, 12345u32);
        let mut out = [0; 100];
        for _ in 0..10_000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let size = (seed >> 16) as usize % 100;
            if seed & 1 == 0 {
                let data: Vec<u8> = (0..size).map(|i| next.wrapping_add(i as u8)).collect();
                let n = ring.push(&data);
                assert_eq!(n, size.min(61 - model.len()));
                model.extend(&data[..n]);
                next = next.wrapping_add(n as u8);
            } else {
                let n = ring.pop(&mut out[..size]);
                assert_eq!(n, size.min(model.len()));
                for byte in &out[..n] {
                    assert_eq!(Some(*byte), model.pop_front());
                }
            }
            assert_eq!(61 - ring.space(), model.len());
        }
    }

    #[test]
    fn small_writes_are_all_or_nothing() {
        assert_eq!(writable_now(100, 100, 100), Some(100));
        assert_eq!(writable_now(100, 100, 99), None);
        assert_eq!(writable_now(PIPE_BUF, PIPE_BUF, PIPE_BUF - 1), None);
        assert_eq!(writable_now(PIPE_BUF, PIPE_BUF, PIPE_CAPACITY), Some(PIPE_BUF));
    }

    #[test]
    fn large_writes_take_any_room() {
        let total = PIPE_BUF + 1;
        assert_eq!(writable_now(total, total, 1), Some(1));
        assert_eq!(writable_now(total, total, 0), None);
        assert_eq!(writable_now(total, 10, 5), Some(5));
        assert_eq!(writable_now(total, 10, 50), Some(10));
    }
}
