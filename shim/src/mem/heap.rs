//! The kernel heap (`alloc`'s global allocator): a buddy allocator that grows
//! by mapping fresh frames at its end when a request does not fit.
//!
//! Allocation masks interrupts for its short critical section, so the lock
//! can never be held by code an interrupt interrupted on the same CPU;
//! interrupt handlers themselves never allocate (a rule of the design).
//! Failure returns null (the `alloc` error path), it never panics here.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{NonNull, null_mut};
use core::sync::atomic::{AtomicU64, Ordering};

use buddy_system_allocator::Heap;

use super::layout::{HEAP_MAX, HEAP_START, PAGE_SIZE};
use super::paging::{self, MapFlags};
use crate::irq::IrqMutex;

/// Smallest growth step.
const GROW_MIN: u64 = 1 << 20;

/// The global kernel heap.
pub struct KernelHeap {
    buddy: IrqMutex<Heap<48>>,
    /// End of the mapped part of the heap region.
    mapped_end: AtomicU64,
}

/// Heap figures, for tests and statistics.
#[derive(Clone, Copy, Debug)]
pub struct HeapStats {
    /// Bytes mapped for the heap.
    pub mapped: u64,
    /// Bytes handed out (rounded to buddy sizes).
    pub allocated: usize,
}

#[cfg_attr(target_os = "none", global_allocator)]
static HEAP: KernelHeap = KernelHeap { buddy: IrqMutex::new(Heap::empty()), mapped_end: AtomicU64::new(HEAP_START) };

/// Current heap figures.
pub fn stats() -> HeapStats {
    let allocated = HEAP.buddy.lock().stats_alloc_actual();
    HeapStats { mapped: HEAP.mapped_end.load(Ordering::Relaxed) - HEAP_START, allocated }
}

impl KernelHeap {
    /// Maps enough new pages at the end of the heap for `layout`; returns
    /// false when frames or the heap's address range ran out.
    fn grow(&self, heap: &mut Heap<48>, layout: &Layout) -> bool {
        // A buddy block of size 2^k must be 2^k-aligned: growing by twice the
        // rounded request always leaves one such block inside the new range.
        let want = (layout.size().max(layout.align()).next_power_of_two() as u64 * 2).max(GROW_MIN);
        let start = self.mapped_end.load(Ordering::Relaxed);
        let end = (start + want).next_multiple_of(PAGE_SIZE);
        if end > HEAP_START + HEAP_MAX {
            return false;
        }
        let mut mapped = start;
        while mapped < end {
            if paging::map_new(paging::page_of(mapped), MapFlags::DATA).is_err() {
                break;
            }
            mapped += PAGE_SIZE;
        }
        if mapped == start {
            return false;
        }
        self.mapped_end.store(mapped, Ordering::Relaxed);
        // SAFETY: `start..mapped` was just mapped read-write for the heap and
        // belongs to no one else; the heap region only ever grows.
        unsafe { heap.add_to_heap(start as usize, mapped as usize) };
        true
    }
}

// SAFETY: the buddy allocator returns disjoint blocks of at least the layout's
// size and alignment; `dealloc` hands back exactly what `alloc` gave out.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut heap = self.buddy.lock();
        loop {
            if let Ok(block) = heap.alloc(layout) {
                return block.as_ptr();
            }
            if !self.grow(&mut heap, &layout) {
                return null_mut();
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(ptr) = NonNull::new(ptr) {
            // SAFETY: the caller passes a block this allocator returned, with
            // the same layout.
            unsafe { self.buddy.lock().dealloc(ptr, layout) };
        }
    }
}
