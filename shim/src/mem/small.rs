//! Size classes in front of the buddy heap: small blocks are served from
//! per-class free lists in O(1) and reused by their class.
//!
//! `buddy_system_allocator` merges a freed block by scanning its order's
//! free list, so freeing is O(free blocks of that size). A collector that
//! frees thousands of small objects in one sweep made that scan the cost
//! of a GC pause (seconds in total under TCG). Small blocks therefore
//! come from power-of-two classes, 16 B to 2 KiB, refilled from the buddy
//! heap in 16 KiB runs; freed small blocks go back on their class's list
//! (an intrusive singly linked list through the free blocks) and are not
//! merged. Larger blocks go to the buddy heap as before.

use core::alloc::Layout;
use core::ptr::NonNull;

/// Smallest class: 16 bytes (room for the free-list link, and `u128`).
const MIN_SHIFT: u32 = 4;
/// Largest class: 2 KiB.
const MAX_SHIFT: u32 = 11;
/// Number of classes.
const CLASSES: usize = (MAX_SHIFT - MIN_SHIFT + 1) as usize;
/// Bytes taken from the buddy heap per refill.
pub const RUN_BYTES: usize = 16 << 10;

/// The class serving `layout` (by size and alignment), or `None` for a
/// block too large for the classes.
pub fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(1 << MIN_SHIFT).next_power_of_two();
    let shift = size.trailing_zeros();
    (shift <= MAX_SHIFT).then(|| (shift - MIN_SHIFT) as usize)
}

/// Block size of class `class`.
pub const fn class_size(class: usize) -> usize {
    1 << (class as u32 + MIN_SHIFT)
}

/// The free lists of all classes.
#[derive(Default)]
pub struct SizeClasses {
    /// Address of each class's first free block (0: empty). Each free block
    /// holds the address of the next one in its first word.
    heads: [usize; CLASSES],
    /// Bytes sitting in the free lists.
    cached: usize,
}

impl SizeClasses {
    /// Empty lists.
    pub const fn new() -> Self {
        Self { heads: [0; CLASSES], cached: 0 }
    }

    /// Bytes in free lists: taken from the buddy heap, not in use.
    pub fn cached_bytes(&self) -> usize {
        self.cached
    }

    /// A free block of `class`, if its list has one.
    pub fn pop(&mut self, class: usize) -> Option<NonNull<u8>> {
        let block = NonNull::new(self.heads[class] as *mut u8)?;
        // SAFETY: blocks on a free list are free memory of this heap, at
        // least 16 bytes, 16-byte aligned, holding the next link (written
        // by `push`).
        self.heads[class] = unsafe { block.cast::<usize>().read() };
        self.cached -= class_size(class);
        Some(block)
    }

    /// Puts `block` on `class`'s free list.
    ///
    /// # Safety
    /// `block` must be a block of `class` that the caller owns and will not
    /// use again (freed memory of this heap, `class_size(class)` bytes).
    pub unsafe fn push(&mut self, class: usize, block: NonNull<u8>) {
        // SAFETY: the caller gives up `block`, which is large and aligned
        // enough for the link word.
        unsafe { block.cast::<usize>().write(self.heads[class]) };
        self.heads[class] = block.as_ptr() as usize;
        self.cached += class_size(class);
    }

    /// Splits a run of [`RUN_BYTES`] into blocks of `class`.
    ///
    /// # Safety
    /// `run` must be free memory of this heap, [`RUN_BYTES`] long and
    /// aligned to `class_size(class)`, owned by the caller.
    pub unsafe fn refill(&mut self, class: usize, run: NonNull<u8>) {
        let size = class_size(class);
        for offset in (0..RUN_BYTES).step_by(size).rev() {
            // SAFETY: each block lies inside the run, which the caller owns,
            // and is `size`-aligned because the run is.
            unsafe { self.push(class, run.add(offset)) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_size_and_alignment() {
        let l = |size, align| Layout::from_size_align(size, align).unwrap();
        assert_eq!(class_of(l(1, 1)), Some(0));
        assert_eq!(class_of(l(16, 8)), Some(0));
        assert_eq!(class_of(l(17, 8)), Some(1));
        assert_eq!(class_of(l(8, 64)), Some(2));
        assert_eq!(class_of(l(2048, 8)), Some(CLASSES - 1));
        assert_eq!(class_of(l(2049, 8)), None);
        assert_eq!(class_of(l(16, 4096)), None);
        assert_eq!(class_size(2), 64);
    }

    #[test]
    fn free_lists_hand_back_blocks_lifo() {
        #[repr(align(16384))]
        struct Run([u8; RUN_BYTES]);
        let mut run = Box::new(Run([0; RUN_BYTES]));
        let base = run.0.as_mut_ptr();
        let mut classes = SizeClasses::new();
        assert!(classes.pop(3).is_none());
        // SAFETY: the run is owned, RUN_BYTES long and 16 KiB aligned.
        unsafe { classes.refill(3, NonNull::new(base).unwrap()) };
        assert_eq!(classes.cached_bytes(), RUN_BYTES);
        let a = classes.pop(3).unwrap();
        let b = classes.pop(3).unwrap();
        assert_eq!(a.as_ptr(), base);
        assert_eq!(b.as_ptr() as usize - a.as_ptr() as usize, 128);
        // SAFETY: `a` came from class 3 and is no longer used.
        unsafe { classes.push(3, a) };
        assert_eq!(classes.pop(3), Some(a));
        let mut count = 2;
        while classes.pop(3).is_some() {
            count += 1;
        }
        assert_eq!(count, RUN_BYTES / 128);
        assert_eq!(classes.cached_bytes(), 0);
    }
}
