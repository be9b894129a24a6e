//! The kernel half of the page tables: map, unmap, protect and translate
//! kernel pages, with NX on by default and W^X enforced.
//!
//! All address spaces share the kernel half (their PML4 copies the kernel
//! entries), so a change here is seen everywhere. Unmapping and protecting
//! shoot the page down from every CPU's TLB ([`super::tlb`]) before they
//! return, outside the page-table lock (callers must hold no
//! interrupt-masking lock); mapping a page that was not present needs no
//! flush. Page-table memory comes from the frame allocator, never from the
//! heap, so the heap may grow through this module.

use x86_64::registers::control::Cr3;
use x86_64::structures::paging::mapper::{MapToError, TranslateResult, UnmapError};
use x86_64::structures::paging::page_table::PageTableEntry;
use x86_64::structures::paging::{
    Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as Pte, PhysFrame, Size4KiB, Translate,
};
use x86_64::{PhysAddr, VirtAddr};

use super::frame::{self, PageTableFrames};
use super::layout::is_kernel_address;
use super::tlb;
use crate::irq::IrqMutex;

/// How a kernel page may be accessed. Pages are always readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapFlags {
    /// Writes allowed.
    pub writable: bool,
    /// Instruction fetches allowed (otherwise NX).
    pub executable: bool,
    /// Caching disabled (device memory).
    pub uncached: bool,
}

impl MapFlags {
    /// Read-only data.
    pub const READ_ONLY: MapFlags = MapFlags { writable: false, executable: false, uncached: false };
    /// Read-write data.
    pub const DATA: MapFlags = MapFlags { writable: true, executable: false, uncached: false };
    /// Code: read and execute.
    pub const CODE: MapFlags = MapFlags { writable: false, executable: true, uncached: false };
    /// Device registers: read-write, uncached.
    pub const MMIO: MapFlags = MapFlags { writable: true, executable: false, uncached: true };

    fn to_pte(self) -> Pte {
        let mut pte = Pte::PRESENT | Pte::GLOBAL;
        if self.writable {
            pte |= Pte::WRITABLE;
        }
        if !self.executable {
            pte |= Pte::NO_EXECUTE;
        }
        if self.uncached {
            pte |= Pte::NO_CACHE | Pte::WRITE_THROUGH;
        }
        pte
    }

    fn from_pte(pte: Pte) -> MapFlags {
        MapFlags {
            writable: pte.contains(Pte::WRITABLE),
            executable: !pte.contains(Pte::NO_EXECUTE),
            uncached: pte.contains(Pte::NO_CACHE),
        }
    }
}

/// Why a page-table edit was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The page is already mapped.
    AlreadyMapped,
    /// The page is not mapped.
    NotMapped,
    /// A kernel page may not be both writable and executable.
    WriteAndExecute,
    /// The address is not in the kernel half.
    NotKernelAddress,
    /// The address is not in the user half.
    NotUserAddress,
    /// The page lies inside a huge page the kernel does not split.
    HugePage,
    /// No frame was left for a page table.
    OutOfFrames,
}

/// A present mapping, as reported by [`query`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The physical address the queried address maps to.
    pub phys: PhysAddr,
    /// The page's access rights.
    pub flags: MapFlags,
}

static KERNEL_PT: IrqMutex<Option<OffsetPageTable<'static>>> = IrqMutex::new(None);
static KERNEL_PML4: spin::Once<PhysFrame> = spin::Once::new();

pub(super) fn init(phys_offset: u64) {
    let (pml4_frame, _) = Cr3::read();
    KERNEL_PML4.call_once(|| pml4_frame);
    let pml4 = frame::phys_to_virt(pml4_frame.start_address()).as_mut_ptr::<PageTable>();
    // SAFETY: CR3 holds the PML4 the bootloader built; it is mapped at the
    // physical offset, and from here on only this module (under the lock)
    // edits it, so the `&'static mut` is unique.
    let table = unsafe { OffsetPageTable::new(&mut *pml4, VirtAddr::new(phys_offset)) };
    *KERNEL_PT.lock() = Some(table);
}

/// The kernel's own top-level table (CR3 outside user address spaces).
pub fn kernel_pml4() -> PhysFrame {
    *KERNEL_PML4.get().expect("paging not initialized")
}

fn with_table<R>(f: impl FnOnce(&mut OffsetPageTable<'static>) -> R) -> R {
    f(KERNEL_PT.lock().as_mut().expect("paging not initialized"))
}

fn check(page: Page, flags: MapFlags) -> Result<(), MapError> {
    if !is_kernel_address(page.start_address().as_u64()) {
        return Err(MapError::NotKernelAddress);
    }
    if flags.writable && flags.executable {
        return Err(MapError::WriteAndExecute);
    }
    Ok(())
}

/// Maps kernel page `page` to `frame`.
pub fn map(page: Page, frame: PhysFrame, flags: MapFlags) -> Result<(), MapError> {
    check(page, flags)?;
    let table_flags = Pte::PRESENT | Pte::WRITABLE;
    with_table(|table| {
        // SAFETY: the page is in the kernel half and was unmapped (map_to
        // refuses otherwise), so no existing reference is invalidated; the
        // caller hands over `frame` for this mapping.
        let result =
            unsafe { table.map_to_with_table_flags(page, frame, flags.to_pte(), table_flags, &mut PageTableFrames) };
        match result {
            Ok(flush) => {
                flush.flush();
                Ok(())
            }
            Err(MapToError::PageAlreadyMapped(_)) => Err(MapError::AlreadyMapped),
            Err(MapToError::ParentEntryHugePage) => Err(MapError::HugePage),
            Err(MapToError::FrameAllocationFailed) => Err(MapError::OutOfFrames),
        }
    })
}

/// Maps `page` to a fresh zeroed frame.
pub fn map_new(page: Page, flags: MapFlags) -> Result<(), MapError> {
    let frame = frame::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
    map(page, frame, flags).inspect_err(|_| {
        // SAFETY: the frame was never mapped.
        unsafe { frame::free(frame) }
    })
}

/// Unmaps kernel page `page` (on every CPU) and returns the frame it mapped.
pub fn unmap(page: Page) -> Result<PhysFrame, MapError> {
    check(page, MapFlags::READ_ONLY)?;
    let frame = with_table(|table| match table.unmap(page) {
        // The local flush is part of the shootdown below.
        Ok((frame, flush)) => {
            flush.ignore();
            Ok(frame)
        }
        Err(UnmapError::PageNotMapped) => Err(MapError::NotMapped),
        Err(UnmapError::ParentEntryHugePage) => Err(MapError::HugePage),
        Err(UnmapError::InvalidFrameAddress(_)) => Err(MapError::NotMapped),
    })?;
    tlb::shootdown(tlb::Flush::Nothing.with(page));
    Ok(frame)
}

/// Frames freed per TLB shootdown by [`unmap_and_free_ranges`].
const BATCH: usize = 128;

/// Unmaps each range of pages `(first, count)` and frees their frames,
/// with one TLB shootdown per [`BATCH`] frames (a full flush when a batch
/// spans several ranges). Stops at the first page that is not mapped (the
/// pages before it are unmapped and freed).
///
/// # Safety
/// Nothing may still refer to the pages' memory.
pub unsafe fn unmap_and_free_ranges(ranges: impl IntoIterator<Item = (Page, u64)>) -> Result<(), MapError> {
    let mut frames = [None::<PhysFrame>; BATCH];
    let mut len = 0;
    let mut flush = tlb::Flush::Nothing;
    let mut result = Ok(());
    'ranges: for (first, count) in ranges {
        for page in (0..count).map(|i| first + i) {
            if len == BATCH {
                // SAFETY: forwarded to the caller.
                unsafe { shoot_down_and_free(flush, &mut frames[..len]) };
                (len, flush) = (0, tlb::Flush::Nothing);
            }
            let unmapped = check(page, MapFlags::READ_ONLY).and_then(|()| {
                with_table(|table| table.unmap(page).map_err(|_| MapError::NotMapped)).map(|(frame, flush)| {
                    flush.ignore();
                    frame
                })
            });
            match unmapped {
                Ok(frame) => {
                    frames[len] = Some(frame);
                    len += 1;
                    flush = flush.with(page);
                }
                Err(error) => {
                    result = Err(error);
                    break 'ranges;
                }
            }
        }
    }
    // SAFETY: forwarded to the caller.
    unsafe { shoot_down_and_free(flush, &mut frames[..len]) };
    result
}

/// Flushes the unmapped pages from every CPU, then frees their frames.
///
/// # Safety
/// As for [`unmap_and_free_ranges`]; the frames are no longer mapped.
unsafe fn shoot_down_and_free(flush: tlb::Flush, frames: &mut [Option<PhysFrame>]) {
    tlb::shootdown(flush);
    for frame in frames.iter_mut().filter_map(Option::take) {
        // SAFETY: unmapped everywhere (shot down above); the caller vouches
        // for references.
        unsafe { frame::free(frame) };
    }
}

/// Unmaps `page` and frees its frame.
///
/// # Safety
/// Nothing may still refer to the page's memory.
pub unsafe fn unmap_and_free(page: Page) -> Result<(), MapError> {
    // SAFETY: forwarded to the caller.
    unsafe { unmap_and_free_ranges([(page, 1)]) }
}

/// Changes the access rights of mapped kernel page `page` (on every CPU).
pub fn protect(page: Page, flags: MapFlags) -> Result<(), MapError> {
    check(page, flags)?;
    with_table(|table| {
        // SAFETY: changing rights of a kernel page cannot create aliasing;
        // W^X was checked above.
        match unsafe { table.update_flags(page, flags.to_pte()) } {
            Ok(flush) => {
                flush.ignore();
                Ok(())
            }
            Err(_) => Err(MapError::NotMapped),
        }
    })?;
    tlb::shootdown(tlb::Flush::Nothing.with(page));
    Ok(())
}

/// Where `addr` maps to, and with which rights.
pub fn query(addr: VirtAddr) -> Option<Mapping> {
    with_table(|table| match table.translate(addr) {
        TranslateResult::Mapped { frame, offset, flags } => {
            Some(Mapping { phys: frame.start_address() + offset, flags: MapFlags::from_pte(flags) })
        }
        _ => None,
    })
}

/// The physical address `addr` maps to.
pub fn translate(addr: VirtAddr) -> Option<PhysAddr> {
    query(addr).map(|m| m.phys)
}

/// Makes sure the PML4 entry covering `addr` points to a table.
pub(super) fn ensure_top_level_table(addr: VirtAddr) -> Result<(), MapError> {
    with_table(|table| {
        let entry: &mut PageTableEntry = &mut table.level_4_table_mut()[addr.p4_index()];
        if entry.is_unused() {
            let frame = frame::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
            entry.set_frame(frame, Pte::PRESENT | Pte::WRITABLE);
        }
        Ok(())
    })
}

/// Whether `addr` is mapped, found by walking the live page tables without
/// taking the lock: for the panic and backtrace path, where the lock may be
/// held by the code that failed.
pub fn is_mapped_lockless(addr: VirtAddr) -> bool {
    let (mut table_frame, _) = Cr3::read();
    let indexes = [addr.p4_index(), addr.p3_index(), addr.p2_index(), addr.p1_index()];
    for (level, index) in indexes.into_iter().enumerate() {
        let table = frame::phys_to_virt(table_frame.start_address()).as_ptr::<PageTable>();
        // SAFETY: `table` is a page table reachable from CR3, mapped through
        // the physical offset; we only read one entry.
        let entry = unsafe { (&(*table))[index].clone() };
        if !entry.flags().contains(Pte::PRESENT) {
            return false;
        }
        if level == 3 || entry.flags().contains(Pte::HUGE_PAGE) {
            return true;
        }
        table_frame = PhysFrame::<Size4KiB>::containing_address(entry.addr());
    }
    true
}

/// The 4 KiB page containing `addr`.
pub fn page_of(addr: u64) -> Page {
    Page::containing_address(VirtAddr::new(addr))
}
