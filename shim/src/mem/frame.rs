//! The physical frame allocator: a bitmap over all usable RAM from the
//! bootloader's memory map, with free and reuse, and physical memory reached
//! through the bootloader's offset mapping.
//!
//! Frames below 1 MiB are never handed out (legacy BIOS areas live there);
//! a few usable ones among them are set aside at boot for the AP start-up
//! trampoline ([`low_reserve`]), which must run from real-mode-addressable
//! memory. The bitmap itself lives in the first usable region large
//! enough, marked used.

use core::sync::atomic::{AtomicUsize, Ordering};

use bootloader_api::info::{MemoryRegionKind, MemoryRegions};
use spin::Once;
use x86_64::structures::paging::{FrameAllocator, PhysFrame, Size4KiB};
use x86_64::{PhysAddr, VirtAddr};

use super::bitmap::{IndexBitmap, words_for};
use super::layout::PAGE_SIZE;
use crate::irq::IrqMutex;

/// First frame the allocator may hand out (1 MiB).
const FIRST_ALLOCATABLE: u64 = 0x10_0000 / PAGE_SIZE;

static FRAMES: IrqMutex<Option<IndexBitmap<&'static mut [u64]>>> = IrqMutex::new(None);
static PHYS_OFFSET: Once<u64> = Once::new();
/// Start of the usable frames below 1 MiB set aside for the AP trampoline.
static LOW_RESERVE: Once<Option<PhysAddr>> = Once::new();

/// Frames set aside below 1 MiB (see [`low_reserve`]).
pub(crate) const LOW_RESERVE_FRAMES: u64 = 4;

/// Builds the allocator from the boot memory map.
pub(super) fn init(regions: &MemoryRegions, phys_offset: u64) {
    PHYS_OFFSET.call_once(|| phys_offset);
    let usable = || regions.iter().filter(|r| r.kind == MemoryRegionKind::Usable);
    let frame_count = usable().map(|r| r.end / PAGE_SIZE).max().unwrap_or(0) as usize;
    let bitmap_bytes = words_for(frame_count) as u64 * 8;
    let home = usable()
        .find(|r| r.start >= FIRST_ALLOCATABLE * PAGE_SIZE && r.end - r.start >= bitmap_bytes)
        .expect("no usable region can hold the frame bitmap");
    let words = phys_to_virt(PhysAddr::new(home.start)).as_mut_ptr::<u64>();
    // SAFETY: `home` is usable RAM that nothing else owns yet (the bootloader
    // marks its own allocations as non-usable), it is mapped at the physical
    // offset, 8-byte aligned (regions are page aligned), large enough, and we
    // mark it used below so it is never handed out.
    let words = unsafe { core::slice::from_raw_parts_mut(words, words_for(frame_count)) };
    let mut bitmap = IndexBitmap::new_all_used(words, frame_count);
    for region in usable() {
        let start = region.start.div_ceil(PAGE_SIZE).max(FIRST_ALLOCATABLE) as usize;
        bitmap.mark_free(start, (region.end / PAGE_SIZE) as usize);
    }
    LOW_RESERVE.call_once(|| {
        // Page 0 holds the real-mode interrupt table; conventional memory
        // ends at 640 KiB.
        let (low, high) = (PAGE_SIZE, 0xa_0000);
        usable().find_map(|r| {
            let start = r.start.max(low).next_multiple_of(PAGE_SIZE);
            (start + LOW_RESERVE_FRAMES * PAGE_SIZE <= r.end.min(high)).then(|| PhysAddr::new(start))
        })
    });
    let bitmap_start = (home.start / PAGE_SIZE) as usize;
    bitmap.mark_used(bitmap_start, bitmap_start + bitmap_bytes.div_ceil(PAGE_SIZE) as usize);
    let total = bitmap.free_count();
    TOTAL.store(total, Ordering::Relaxed);
    FREE.store(total, Ordering::Relaxed);
    KERNEL_RESERVE.store((total / 16).clamp(RESERVE_MIN, RESERVE_MAX), Ordering::Relaxed);
    *FRAMES.lock() = Some(bitmap);
}

/// Fewest frames kept for the kernel (16 MiB: a system call is admitted
/// with 8 MiB of it free; see `proc`'s `syscall::admission`).
const RESERVE_MIN: usize = 4096;
/// Most frames kept for the kernel (64 MiB).
const RESERVE_MAX: usize = 16384;
/// Free frames only the kernel may take: user pages (and their page
/// tables) are refused below this, so user memory running out leaves the
/// kernel room to act on it (fail the call, or kill a process) instead of
/// failing its own allocations. A sixteenth of RAM, within
/// [`RESERVE_MIN`]..=[`RESERVE_MAX`].
static KERNEL_RESERVE: AtomicUsize = AtomicUsize::new(0);

/// [`LOW_RESERVE_FRAMES`] physically contiguous usable frames below 640 KiB,
/// never handed out by the allocator (which starts at 1 MiB); `None` if the
/// memory map had no such run. The AP start-up code owns them.
pub(crate) fn low_reserve() -> Option<PhysAddr> {
    LOW_RESERVE.get().copied().flatten()
}

/// Where physical address `phys` is mapped in the kernel half.
pub(crate) fn phys_to_virt(phys: PhysAddr) -> VirtAddr {
    VirtAddr::new(phys.as_u64() + PHYS_OFFSET.get().copied().unwrap_or(0))
}

fn to_frame(index: usize) -> PhysFrame {
    PhysFrame::containing_address(PhysAddr::new(index as u64 * PAGE_SIZE))
}

/// One physical frame, owned: only the allocator makes them ([`Frame::alloc`],
/// [`Frame::alloc_zeroed`]), they cannot be copied, and dropping one frees it.
/// An owned frame is referred to by no mapping and no page table, so its
/// holder may use its memory (through the physical-memory map) freely.
/// Mapping it hands it over ([`Frame::into_raw`]); whoever removes that
/// mapping everywhere takes it back ([`Frame::from_raw`]).
pub(crate) struct Frame(PhysFrame);

impl Frame {
    /// Allocates one frame (contents undefined).
    pub(crate) fn alloc() -> Option<Frame> {
        FRAMES.lock().as_mut()?.alloc().map(taken)
    }

    /// Allocates one frame filled with zeros.
    pub(crate) fn alloc_zeroed() -> Option<Frame> {
        Frame::alloc().map(Frame::zeroed)
    }

    /// Allocates one frame for user memory (contents undefined): `None`
    /// once no more than the kernel's reserve is free.
    pub(crate) fn alloc_user() -> Option<Frame> {
        let mut frames = FRAMES.lock();
        let bitmap = frames.as_mut()?;
        if bitmap.free_count() <= KERNEL_RESERVE.load(Ordering::Relaxed) {
            return None;
        }
        bitmap.alloc().map(taken)
    }

    /// [`Frame::alloc_user`], filled with zeros.
    pub(crate) fn alloc_user_zeroed() -> Option<Frame> {
        Frame::alloc_user().map(Frame::zeroed)
    }

    fn zeroed(self) -> Frame {
        // SAFETY: the frame is ours alone (just allocated) and mapped
        // (4 KiB, writable) through the physical-memory offset.
        unsafe { core::ptr::write_bytes(self.virt().as_mut_ptr::<u8>(), 0, PAGE_SIZE as usize) };
        self
    }

    /// The physical address of the frame's first byte.
    pub(crate) fn start_address(&self) -> PhysAddr {
        self.0.start_address()
    }

    /// The frame as the page-table code names it (mapping it needs
    /// `unsafe`; see [`super::paging`]).
    pub(crate) fn phys_frame(&self) -> PhysFrame {
        self.0
    }

    /// Where the frame is reachable in the kernel half (the physical-memory
    /// map); its holder alone may touch those bytes.
    pub(crate) fn virt(&self) -> VirtAddr {
        phys_to_virt(self.start_address())
    }

    /// Gives the frame up to a mapping or a page-table entry, which owns
    /// it from now on (it is no longer freed here).
    pub(crate) fn into_raw(self) -> PhysFrame {
        let frame = self.0;
        core::mem::forget(self);
        frame
    }

    /// Takes back a frame [`into_raw`](Frame::into_raw) gave up.
    ///
    /// # Safety
    /// `frame` came from `into_raw`, is taken back once, and no mapping,
    /// page-table entry, TLB entry or reference refers to it any more.
    pub(crate) unsafe fn from_raw(frame: PhysFrame) -> Frame {
        Frame(frame)
    }
}

impl Drop for Frame {
    /// Returns the frame to the allocator.
    fn drop(&mut self) {
        let index = (self.start_address().as_u64() / PAGE_SIZE) as usize;
        if let Some(bitmap) = FRAMES.lock().as_mut()
            && let Err(error) = bitmap.release(index).inspect(|()| {
                FREE.fetch_add(1, Ordering::Relaxed);
            })
        {
            panic!("frame {:#x} freed twice: {error:?}", self.start_address().as_u64());
        }
    }
}

/// Frames the allocator manages (free at boot).
static TOTAL: AtomicUsize = AtomicUsize::new(0);

/// Number of frames the allocator manages: the usable RAM (`MemTotal`).
pub fn total_count() -> usize {
    TOTAL.load(Ordering::Relaxed)
}

/// Number of free frames.
#[inline]
pub fn free_count() -> usize {
    FREE.load(Ordering::Relaxed)
}

/// Free frames, kept beside the bitmap (changed under its lock) so that
/// [`free_count`] takes no lock: a system call's admission reads it.
static FREE: AtomicUsize = AtomicUsize::new(0);

/// A frame the bitmap just handed out (index `index`), counted.
fn taken(index: usize) -> Frame {
    FREE.fetch_sub(1, Ordering::Relaxed);
    Frame(to_frame(index))
}

/// The allocator as the `x86_64` crate's page-table code wants it: it hands
/// out zeroed frames for new page tables.
pub(crate) struct PageTableFrames;

// SAFETY: `Frame::alloc_zeroed` returns frames that are unused and owned
// by the caller alone, as `FrameAllocator` requires; the page table the
// frame becomes owns it from then on.
unsafe impl FrameAllocator<Size4KiB> for PageTableFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame> {
        Frame::alloc_zeroed().map(Frame::into_raw)
    }
}

/// [`PageTableFrames`] for user address spaces: their tables are user
/// memory, refused below the kernel's reserve.
pub(crate) struct UserTableFrames;

// SAFETY: as for `PageTableFrames`, with `Frame::alloc_user_zeroed`.
unsafe impl FrameAllocator<Size4KiB> for UserTableFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame> {
        Frame::alloc_user_zeroed().map(Frame::into_raw)
    }
}
