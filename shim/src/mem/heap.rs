//! The kernel heap (`alloc`'s global allocator): a buddy allocator that grows
//! by mapping fresh frames at its end when a request does not fit, with
//! size classes in front of it for small blocks (see [`super::small`]).
//!
//! Allocation masks interrupts for its short critical section, so the lock
//! can never be held by code an interrupt interrupted on the same CPU.
//! Interrupt handlers never allocate (a rule of the design, checked here:
//! an allocation in interrupt context panics); they may drop, which frees.
//! Failure returns null (the `alloc` error path), it never panics here.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{NonNull, null_mut};
use core::sync::atomic::{AtomicU64, Ordering};

use buddy_system_allocator::Heap;

use super::layout::{HEAP_MAX, HEAP_START, PAGE_SIZE};
use super::paging::{self, MapFlags};
use super::small::{self, SizeClasses};
use crate::irq::IrqMutex;
use crate::percpu::{self, MAX_CPUS};

/// Smallest growth step.
const GROW_MIN: u64 = 1 << 20;

/// The buddy heap and the size classes in front of it, under one lock.
struct Pools {
    buddy: Heap<48>,
    small: SizeClasses,
}

impl Pools {
    /// Bytes handed out to callers.
    fn in_use(&self) -> usize {
        self.buddy.stats_alloc_actual() - self.small.cached_bytes()
    }

    /// Bytes free without growing for a request of any size: the buddy
    /// heap's free space. Blocks cached in the size classes are left out:
    /// they serve small requests only (a heap full of freed small objects
    /// cannot satisfy a 32 KiB one).
    #[cfg(target_os = "none")]
    fn free(&self) -> usize {
        self.buddy.stats_total_bytes() - self.buddy.stats_alloc_actual()
    }
}

/// The global kernel heap.
pub(crate) struct KernelHeap {
    pools: IrqMutex<Pools>,
    /// End of the mapped part of the heap region.
    mapped_end: AtomicU64,
}

/// Heap figures, for tests and statistics.
#[derive(Clone, Copy, Debug)]
pub struct HeapStats {
    /// Bytes mapped for the heap.
    pub mapped: u64,
    /// Bytes handed out (rounded to class or buddy sizes).
    pub allocated: usize,
}

#[cfg_attr(target_os = "none", global_allocator)]
static HEAP: KernelHeap = KernelHeap {
    pools: IrqMutex::new(Pools { buddy: Heap::empty(), small: SizeClasses::new() }),
    mapped_end: AtomicU64::new(HEAP_START),
};

/// Current heap figures.
pub fn stats() -> HeapStats {
    let allocated = HEAP.pools.lock().in_use();
    HeapStats { mapped: HEAP.mapped_end.load(Ordering::Relaxed) - HEAP_START, allocated }
}

/// Frames the heap leaves to everyone else (page tables, stacks): growth
/// that would dip into them is reported as no [`headroom`].
#[cfg(target_os = "none")]
const RESERVED_FRAMES: u64 = 1024;

/// Bytes the heap can still hand out without failing: its free space (for
/// requests of any size) plus what it may still map, minus a reserve of
/// frames for the rest of the kernel. A hint for callers that want to fail cleanly instead of meeting
/// the allocation error handler; fragmentation can make it optimistic.
/// On the host it is unlimited.
pub fn headroom() -> u64 {
    #[cfg(target_os = "none")]
    {
        let free = HEAP.pools.lock().free() as u64;
        let frames = (super::frame::free_count() as u64).saturating_sub(RESERVED_FRAMES);
        let room_left = HEAP_START + HEAP_MAX - HEAP.mapped_end.load(Ordering::Relaxed);
        free + (frames * PAGE_SIZE).min(room_left)
    }
    #[cfg(not(target_os = "none"))]
    u64::MAX
}

/// Whether [`headroom`] is at least `bytes`: without a lock when free
/// frames alone cover it (the common case, checked on every system call).
#[inline]
pub fn has_headroom(bytes: u64) -> bool {
    #[cfg(target_os = "none")]
    {
        let frames = (super::frame::free_count() as u64).saturating_sub(RESERVED_FRAMES);
        let room_left = HEAP_START + HEAP_MAX - HEAP.mapped_end.load(Ordering::Relaxed);
        if (frames * PAGE_SIZE).min(room_left) >= bytes {
            return true;
        }
    }
    headroom() >= bytes
}

/// What went through the allocator (on one CPU, or on all) since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes requested by allocations (layout sizes).
    pub allocated: u64,
    /// Bytes given back.
    pub freed: u64,
    /// Blocks allocated.
    pub allocs: u64,
    /// Blocks given back.
    pub frees: u64,
}

impl Traffic {
    /// What happened between `earlier` and `self` (readings of the same
    /// counters).
    pub fn since(self, earlier: Traffic) -> Traffic {
        Traffic {
            allocated: self.allocated.saturating_sub(earlier.allocated),
            freed: self.freed.saturating_sub(earlier.freed),
            allocs: self.allocs.saturating_sub(earlier.allocs),
            frees: self.frees.saturating_sub(earlier.frees),
        }
    }

    /// Both flows added up.
    pub fn plus(self, other: Traffic) -> Traffic {
        Traffic {
            allocated: self.allocated + other.allocated,
            freed: self.freed + other.freed,
            allocs: self.allocs + other.allocs,
            frees: self.frees + other.frees,
        }
    }
}

/// Per-CPU allocation counters: a section of code that cannot migrate and
/// is not interrupted by allocating code (interrupt handlers never allocate)
/// learns exactly what it allocated and freed from two [`cpu_traffic`]
/// readings. The GC heap attributes bytes to itself this way.
struct TrafficCounters {
    allocated: AtomicU64,
    freed: AtomicU64,
    allocs: AtomicU64,
    frees: AtomicU64,
}

impl TrafficCounters {
    fn read(&self) -> Traffic {
        Traffic {
            allocated: self.allocated.load(Ordering::Relaxed),
            freed: self.freed.load(Ordering::Relaxed),
            allocs: self.allocs.load(Ordering::Relaxed),
            frees: self.frees.load(Ordering::Relaxed),
        }
    }
}

static TRAFFIC: [TrafficCounters; MAX_CPUS] = [const {
    TrafficCounters {
        allocated: AtomicU64::new(0),
        freed: AtomicU64::new(0),
        allocs: AtomicU64::new(0),
        frees: AtomicU64::new(0),
    }
}; MAX_CPUS];

/// This CPU's allocator traffic so far. On the host it counts what goes
/// through [`HostCountingAlloc`], if a test installed it.
pub fn cpu_traffic() -> Traffic {
    TRAFFIC[percpu::index()].read()
}

/// The allocator traffic of all CPUs so far (each CPU's counters are
/// exact; the sum is a snapshot taken while others may be allocating).
pub fn total_traffic() -> Traffic {
    TRAFFIC.iter().map(TrafficCounters::read).fold(Traffic::default(), Traffic::plus)
}

fn count_alloc(bytes: usize) {
    let counters = &TRAFFIC[percpu::index()];
    counters.allocated.fetch_add(bytes as u64, Ordering::Relaxed);
    counters.allocs.fetch_add(1, Ordering::Relaxed);
}

fn count_free(bytes: usize) {
    let counters = &TRAFFIC[percpu::index()];
    counters.freed.fetch_add(bytes as u64, Ordering::Relaxed);
    counters.frees.fetch_add(1, Ordering::Relaxed);
}

/// Host-side stand-in for the kernel heap in unit tests of code that reads
/// [`cpu_traffic`]: the system allocator, counted. Install it with
/// `#[global_allocator]` in a test binary; all threads count as CPU 0, so
/// tests that read the counters must not run concurrently.
#[cfg(not(target_os = "none"))]
pub struct HostCountingAlloc;

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are only bookkeeping.
#[cfg(not(target_os = "none"))]
unsafe impl GlobalAlloc for HostCountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count_free(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
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

impl KernelHeap {
    /// A block for `layout` from the buddy heap, growing it as needed.
    fn buddy_alloc(&self, pools: &mut Pools, layout: Layout) -> Option<NonNull<u8>> {
        loop {
            if let Ok(block) = pools.buddy.alloc(layout) {
                return Some(block);
            }
            if !self.grow(&mut pools.buddy, &layout) {
                return None;
            }
        }
    }
}

// SAFETY: the buddy allocator and the size classes return disjoint blocks of
// at least the layout's size and alignment (a class block is aligned to its
// power-of-two size, which covers the layout's alignment); `dealloc` hands
// each block back to where `alloc` took it from, found again by layout.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        assert!(!percpu::in_interrupt(), "allocation in an interrupt handler ({} bytes)", layout.size());
        let mut pools = self.pools.lock();
        let block = match small::class_of(layout) {
            Some(class) => pools.small.pop(class).or_else(|| {
                let run_layout = Layout::from_size_align(small::RUN_BYTES, small::class_size(class)).ok()?;
                let run = self.buddy_alloc(&mut pools, run_layout)?;
                // SAFETY: a fresh buddy block of RUN_BYTES, aligned to the
                // class size, owned by nobody else.
                unsafe { pools.small.refill(class, run) };
                pools.small.pop(class)
            }),
            None => self.buddy_alloc(&mut pools, layout),
        };
        match block {
            Some(block) => {
                count_alloc(layout.size());
                block.as_ptr()
            }
            None => null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(ptr) = NonNull::new(ptr) else { return };
        count_free(layout.size());
        let mut pools = self.pools.lock();
        match small::class_of(layout) {
            // SAFETY: the caller passes a block this allocator returned for
            // the same layout, so from this class, and gives it up.
            Some(class) => unsafe { pools.small.push(class, ptr) },
            // SAFETY: as above, from the buddy heap.
            None => unsafe { pools.buddy.dealloc(ptr, layout) },
        }
    }
}
