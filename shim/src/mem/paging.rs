//! The kernel half of the page tables: map, unmap and translate kernel
//! pages, with NX on by default and W^X enforced.
//!
//! A page is mapped to an owned [`Frame`], which the mapping then owns:
//! no frame can be mapped twice, nor a frame someone else holds. Device
//! registers, which are no RAM the allocator hands out, are mapped with
//! the `unsafe` [`map_device`].
//!
//! All address spaces share the kernel half (their PML4 copies the kernel
//! entries), so a change here is seen everywhere. Unmapping shoots the
//! page down from every CPU's TLB ([`super::tlb`]) before they
//! return, outside the page-table lock (callers must hold no
//! interrupt-masking lock); mapping a page that was not present needs no
//! flush. Page-table memory comes from the frame allocator, never from the
//! heap, so the heap may grow through this module.

use x86_64::registers::control::Cr3;
use x86_64::structures::paging::mapper::{MapToError, TranslateResult};
use x86_64::structures::paging::page_table::PageTableEntry;
use x86_64::structures::paging::{
    Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as Pte, PhysFrame, Size4KiB, Translate,
};
use x86_64::{PhysAddr, VirtAddr};

use super::frame::{self, Frame, PageTableFrames};
use super::layout::is_kernel_address;
use super::tlb;
use crate::irq::IrqMutex;

/// How a kernel page may be accessed. Pages are always readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MapFlags {
    /// Writes allowed.
    pub(crate) writable: bool,
    /// Instruction fetches allowed (otherwise NX).
    pub(crate) executable: bool,
    /// Caching disabled (device memory).
    pub(crate) uncached: bool,
}

impl MapFlags {
    /// Read-only data.
    pub(crate) const READ_ONLY: MapFlags = MapFlags { writable: false, executable: false, uncached: false };
    /// Read-write data.
    pub(crate) const DATA: MapFlags = MapFlags { writable: true, executable: false, uncached: false };
    /// Device registers: read-write, uncached.
    pub(crate) const MMIO: MapFlags = MapFlags { writable: true, executable: false, uncached: true };

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
pub(crate) fn kernel_pml4() -> PhysFrame {
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

/// Maps kernel page `page` to `frame`, which the mapping owns from now on
/// (on error the frame is freed).
pub(crate) fn map(page: Page, frame: Frame, flags: MapFlags) -> Result<(), MapError> {
    // SAFETY: an owned frame is RAM nobody else refers to, so the mapping
    // aliases nothing; on success it keeps the frame (`into_raw`).
    unsafe { map_raw(page, frame.phys_frame(), flags) }?;
    frame.into_raw();
    Ok(())
}

/// Maps `page` to a fresh zeroed frame.
pub(crate) fn map_new(page: Page, flags: MapFlags) -> Result<(), MapError> {
    map(page, Frame::alloc_zeroed().ok_or(MapError::OutOfFrames)?, flags)
}

/// Maps kernel page `page` to the device registers at `frame`.
///
/// # Safety
/// `frame` is device memory (no RAM the frame allocator or anyone else
/// hands out), and touching it through the page cannot break what the
/// kernel assumes of the device.
pub(crate) unsafe fn map_device(page: Page, frame: PhysFrame) -> Result<(), MapError> {
    // SAFETY: forwarded to the caller.
    unsafe { map_raw(page, frame, MapFlags::MMIO) }
}

/// Maps kernel page `page` to `frame`.
///
/// # Safety
/// Nothing else may refer to `frame`'s memory through a Rust reference or
/// rely on its contents; the mapping does not own it.
unsafe fn map_raw(page: Page, frame: PhysFrame, flags: MapFlags) -> Result<(), MapError> {
    check(page, flags)?;
    let table_flags = Pte::PRESENT | Pte::WRITABLE;
    with_table(|table| {
        // SAFETY: the page is in the kernel half and was unmapped (map_to
        // refuses otherwise), so no existing reference is invalidated; the
        // caller vouches for `frame`.
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

/// Frames freed per TLB shootdown by [`unmap_and_free_ranges`].
const BATCH: usize = 128;

/// Unmaps each range of pages `(first, count)` and frees their frames,
/// with one TLB shootdown per [`BATCH`] frames (a full flush when a batch
/// spans several ranges). Stops at the first page that is not mapped (the
/// pages before it are unmapped and freed).
///
/// # Safety
/// The pages were mapped by [`map`] or [`map_new`] (the mapping owns their
/// frames), and nothing may still refer to their memory.
pub(crate) unsafe fn unmap_and_free_ranges(ranges: impl IntoIterator<Item = (Page, u64)>) -> Result<(), MapError> {
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
        // SAFETY: the mapping owned the frame (`map` took it); it is now
        // unmapped everywhere (shot down above), and the caller vouches
        // for references.
        drop(unsafe { Frame::from_raw(frame) });
    }
}

/// The physical address `addr` maps to.
pub(crate) fn translate(addr: VirtAddr) -> Option<PhysAddr> {
    with_table(|table| match table.translate(addr) {
        TranslateResult::Mapped { frame, offset, .. } => Some(frame.start_address() + offset),
        _ => None,
    })
}

/// Makes sure the PML4 entry covering `addr` points to a table.
pub(super) fn ensure_top_level_table(addr: VirtAddr) -> Result<(), MapError> {
    with_table(|table| {
        let entry: &mut PageTableEntry = &mut table.level_4_table_mut()[addr.p4_index()];
        if entry.is_unused() {
            let frame = Frame::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
            entry.set_frame(frame.into_raw(), Pte::PRESENT | Pte::WRITABLE);
        }
        Ok(())
    })
}

/// Unlinks the lower half of the kernel's table: what the bootloader left
/// there (its identity-mapped hand-over code and GDT) is not needed once
/// this CPU runs on the shim's own GDT (`cpu::init`). Without it, the
/// lower half outside a user address space is empty, so a user copy made
/// there faults (`Err(BadAddress)`) instead of reaching bootloader memory.
/// The tables stay where they are: they are bootloader memory, not the
/// frame allocator's. Runs on the bootstrap CPU before the others start.
pub(crate) fn drop_boot_lower_half() {
    let dropped = with_table(|table| {
        let lower = table.level_4_table_mut().iter_mut().take(256);
        lower.filter(|entry| !entry.is_unused()).map(PageTableEntry::set_unused).count()
    });
    tlb::flush_all_local();
    log::debug!("dropped {dropped} lower-half PML4 entries of the bootloader");
}

/// Whether `addr` is mapped, found by walking the live page tables without
/// taking the lock: for the panic and backtrace path, where the lock may be
/// held by the code that failed.
pub(crate) fn is_mapped_lockless(addr: VirtAddr) -> bool {
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
pub(crate) fn page_of(addr: u64) -> Page {
    Page::containing_address(VirtAddr::new(addr))
}
