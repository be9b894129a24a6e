//! A bitmap of numbered items (physical frames, stack slots): set bit = free.
//!
//! Plain logic over a caller-provided word slice, so it is host-tested and
//! needs no heap: the frame allocator builds one before the heap exists.

/// Why a release was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BitmapError {
    /// The index is past the end of the bitmap.
    OutOfRange,
    /// The index was already free: a double free.
    AlreadyFree,
}

/// Free/used state of `len` items, one bit each, stored in `S` (a borrowed
/// slice or an owned array).
pub struct IndexBitmap<S> {
    words: S,
    len: usize,
    free: usize,
    /// Word where the next search starts (all words below it may be full).
    hint: usize,
}

/// Number of words needed for `len` items.
pub const fn words_for(len: usize) -> usize {
    len.div_ceil(64)
}

impl<const N: usize> IndexBitmap<[u64; N]> {
    /// A bitmap of `len` items, all free, in an owned array (usable in statics).
    pub const fn new_all_free(len: usize) -> Self {
        assert!(N * 64 >= len, "bitmap storage too small");
        let mut words = [0u64; N];
        let mut i = 0;
        while i < len {
            words[i / 64] |= 1 << (i % 64);
            i += 1;
        }
        IndexBitmap { words, len, free: len, hint: 0 }
    }
}

impl<S: AsRef<[u64]> + AsMut<[u64]>> IndexBitmap<S> {
    /// A bitmap of `len` items, all used; `words` must hold `len` bits.
    pub fn new_all_used(mut words: S, len: usize) -> Self {
        assert!(words.as_ref().len() * 64 >= len, "bitmap storage too small");
        words.as_mut().fill(0);
        IndexBitmap { words, len, free: 0, hint: 0 }
    }

    /// Number of free items.
    pub fn free_count(&self) -> usize {
        self.free
    }

    /// Whether item `index` is free.
    pub fn is_free(&self, index: usize) -> bool {
        index < self.len && self.words.as_ref()[index / 64] & (1 << (index % 64)) != 0
    }

    /// Marks `start..end` free (clamped to the bitmap); returns how many changed.
    pub fn mark_free(&mut self, start: usize, end: usize) -> usize {
        let mut changed = 0;
        for index in start..end.min(self.len) {
            if !self.is_free(index) {
                self.words.as_mut()[index / 64] |= 1 << (index % 64);
                changed += 1;
            }
        }
        self.free += changed;
        self.hint = self.hint.min(start / 64);
        changed
    }

    /// Marks `start..end` used (clamped); returns how many changed.
    pub fn mark_used(&mut self, start: usize, end: usize) -> usize {
        let mut changed = 0;
        for index in start..end.min(self.len) {
            if self.is_free(index) {
                self.words.as_mut()[index / 64] &= !(1 << (index % 64));
                changed += 1;
            }
        }
        self.free -= changed;
        changed
    }

    /// Takes the lowest-numbered free item at or after the search hint.
    pub fn alloc(&mut self) -> Option<usize> {
        let words = self.words.as_mut();
        let word = (self.hint..words.len()).find(|&w| words[w] != 0)?;
        let index = word * 64 + words[word].trailing_zeros() as usize;
        words[word] &= !(1 << (index % 64));
        self.hint = word;
        self.free -= 1;
        Some(index)
    }

    /// Returns item `index` to the free pool.
    pub fn release(&mut self, index: usize) -> Result<(), BitmapError> {
        if index >= self.len {
            return Err(BitmapError::OutOfRange);
        }
        if self.is_free(index) {
            return Err(BitmapError::AlreadyFree);
        }
        self.words.as_mut()[index / 64] |= 1 << (index % 64);
        self.free += 1;
        self.hint = self.hint.min(index / 64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_release_reuse() {
        let mut words = [0u64; 4];
        let mut map = IndexBitmap::new_all_used(&mut words[..], 200);
        assert_eq!(map.alloc(), None);
        assert_eq!(map.mark_free(10, 250), 190);
        assert_eq!(map.free_count(), 190);
        let a = map.alloc().unwrap();
        let b = map.alloc().unwrap();
        assert_eq!((a, b), (10, 11));
        map.release(a).unwrap();
        assert_eq!(map.release(a), Err(BitmapError::AlreadyFree));
        assert_eq!(map.release(999), Err(BitmapError::OutOfRange));
        assert_eq!(map.alloc(), Some(10), "freed items are reused first");
        let mut taken = 2;
        while map.alloc().is_some() {
            taken += 1;
        }
        assert_eq!(taken, 190);
        assert_eq!(map.free_count(), 0);
    }

    #[test]
    fn owned_array_starts_all_free() {
        let mut map = IndexBitmap::<[u64; 2]>::new_all_free(70);
        assert_eq!(map.free_count(), 70);
        assert!(map.is_free(69) && !map.is_free(70));
        assert_eq!(map.alloc(), Some(0));
    }

    #[test]
    fn used_ranges_reduce_free_count() {
        let mut words = [0u64; 1];
        let mut map = IndexBitmap::new_all_used(&mut words[..], 64);
        map.mark_free(0, 64);
        assert_eq!(map.mark_used(0, 10), 10);
        assert_eq!(map.mark_used(5, 15), 5);
        assert_eq!(map.free_count(), 49);
        assert_eq!(map.alloc(), Some(15));
    }
}
