//! The pipe's buffer: a byte ring that holds up to a fixed capacity and
//! allocates its memory as data arrives (as Linux allocates a pipe's pages
//! on write), and the rule that decides how much of a write may go in now.
//! Plain logic, host-tested.

use alloc::vec::Vec;

/// Bytes a pipe buffers (Linux's default pipe capacity, 16 pages).
pub const PIPE_CAPACITY: usize = 64 * 1024;

/// Writes of at most this many bytes are atomic: never split, never
/// interleaved with another writer's (POSIX `PIPE_BUF`, Linux's value).
pub const PIPE_BUF: usize = 4096;

/// The smallest buffer a ring allocates (a page).
const MIN_BUFFER: usize = 4096;

/// A FIFO of up to `capacity` bytes; its buffer grows (to a power of two,
/// at least a page) when data does not fit, and is kept once grown.
#[derive(gc_arena::Collect)]
#[collect(require_static)]
pub(crate) struct Ring {
    /// The buffer: empty until the first push.
    buf: Vec<u8>,
    /// Most bytes the ring holds.
    capacity: usize,
    /// Index of the oldest byte.
    head: usize,
    /// Bytes stored.
    len: usize,
}

impl Ring {
    /// An empty ring for up to `capacity` (> 0) bytes, with no buffer yet.
    pub(crate) fn new(capacity: usize) -> Ring {
        assert!(capacity > 0, "a ring needs room");
        Ring { buf: Vec::new(), capacity, head: 0, len: 0 }
    }

    /// Whether no byte is stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that fit now (the buffer grows for them if it must).
    pub(crate) fn space(&self) -> usize {
        self.capacity - self.len
    }

    /// Bytes of buffer memory the ring holds.
    #[cfg(test)]
    fn buffer_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Appends as much of `data` as fits; returns how much, or `None` if
    /// the buffer had to grow and memory for it could not be had.
    pub(crate) fn push(&mut self, data: &[u8]) -> Option<usize> {
        let n = data.len().min(self.space());
        if self.len + n > self.buf.len() {
            self.grow(self.len + n)?;
        }
        let cap = self.buf.len();
        let tail = (self.head + self.len) % cap;
        let first = n.min(cap - tail);
        self.buf[tail..tail + first].copy_from_slice(&data[..first]);
        self.buf[..n - first].copy_from_slice(&data[first..n]);
        self.len += n;
        Some(n)
    }

    /// Moves the contents into a buffer of room for `need` bytes (a power
    /// of two of at least [`MIN_BUFFER`], at most the capacity).
    fn grow(&mut self, need: usize) -> Option<()> {
        let size = need.next_power_of_two().max(MIN_BUFFER).min(self.capacity);
        let mut bigger = Vec::new();
        bigger.try_reserve_exact(size).ok()?;
        bigger.resize(size, 0);
        let len = self.len;
        self.pop(&mut bigger[..len]);
        (self.buf, self.head, self.len) = (bigger, 0, len);
        Some(())
    }

    /// Removes up to `out.len()` of the oldest bytes into `out`; returns
    /// how many.
    pub(crate) fn pop(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len);
        if n == 0 {
            return 0;
        }
        let cap = self.buf.len();
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
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;

    fn push(ring: &mut Ring, data: &[u8]) -> usize {
        ring.push(data).expect("memory for a test ring")
    }

    fn ring(capacity: usize) -> Ring {
        Ring::new(capacity)
    }

    #[test]
    fn fifo_order_and_counts() {
        let mut ring = ring(8);
        assert!(ring.is_empty());
        assert_eq!(push(&mut ring, b"abc"), 3);
        assert_eq!(ring.space(), 5);
        let mut out = [0; 2];
        assert_eq!(ring.pop(&mut out), 2);
        assert_eq!(&out, b"ab");
        assert_eq!(ring.space(), 7);
    }

    #[test]
    fn push_stops_when_full_and_pop_when_empty() {
        let mut ring = ring(4);
        assert_eq!(push(&mut ring, b"abcdef"), 4);
        assert_eq!(ring.space(), 0);
        assert_eq!(push(&mut ring, b"x"), 0);
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
        assert_eq!(push(&mut ring, b"012345"), 6);
        assert_eq!(ring.pop(&mut out[..5]), 5);
        // head = 5, len = 1: the next push wraps.
        assert_eq!(push(&mut ring, b"6789abc"), 7);
        assert_eq!(ring.space(), 0);
        assert_eq!(ring.pop(&mut out), 8);
        assert_eq!(&out, b"56789abc");
    }

    #[test]
    fn empty_ring_rewinds_so_copies_stay_whole() {
        let mut ring = ring(8);
        let mut out = [0; 8];
        push(&mut ring, b"abcde");
        ring.pop(&mut out);
        // Without the rewind this push would wrap.
        assert_eq!(push(&mut ring, b"12345678"), 8);
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
                let n = push(&mut ring, &data);
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
    fn the_buffer_grows_with_the_data_and_keeps_its_order() {
        let mut ring = ring(PIPE_CAPACITY);
        assert_eq!(ring.buffer_bytes(), 0, "no memory until data arrives");
        assert_eq!(ring.space(), PIPE_CAPACITY);
        assert_eq!(push(&mut ring, b"0123456789abcdef"), 16);
        assert_eq!(ring.buffer_bytes(), MIN_BUFFER);
        // Wrap the page, then outgrow it: the bytes come out in order.
        let mut out = vec![0; PIPE_CAPACITY];
        assert_eq!(ring.pop(&mut out[..10]), 10);
        let filler: Vec<u8> = (0..MIN_BUFFER as u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(push(&mut ring, &filler[..MIN_BUFFER - 8]), MIN_BUFFER - 8);
        assert_eq!(ring.buffer_bytes(), MIN_BUFFER, "fits after the wrap");
        assert_eq!(push(&mut ring, &filler), MIN_BUFFER);
        assert_eq!(ring.buffer_bytes(), 2 * MIN_BUFFER);
        let n = ring.pop(&mut out);
        let mut expected = b"abcdef".to_vec();
        expected.extend_from_slice(&filler[..MIN_BUFFER - 8]);
        expected.extend_from_slice(&filler);
        assert_eq!(&out[..n], &expected[..]);
        // Never past the capacity.
        let big = vec![7; PIPE_CAPACITY + 1];
        assert_eq!(push(&mut ring, &big), PIPE_CAPACITY);
        assert_eq!(ring.buffer_bytes(), PIPE_CAPACITY);
        assert_eq!(ring.space(), 0);
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
