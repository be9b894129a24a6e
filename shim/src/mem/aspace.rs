//! User address spaces: a PML4 whose kernel half (entries 256–511) is the
//! kernel's own, shared, and whose lower half holds one process's pages.
//!
//! User pages are mapped user-accessible, NX unless executable, never
//! writable and executable at once. Their frames and the lower-half page
//! tables belong to the address space and are freed with it. Unmapping and
//! protecting shoot the page down on every CPU (a per-space CPU mask is a
//! later refinement). The kernel half needs no care: every kernel region
//! has its top-level entry from boot (`layout`), so later kernel mappings
//! show in every space.

use x86_64::registers::control::Cr3;
use x86_64::structures::paging::mapper::{MapToError, TranslateResult, UnmapError};
use x86_64::structures::paging::{
    Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as Pte, PhysFrame, Size4KiB, Translate,
};
use x86_64::{PhysAddr, VirtAddr};

use super::frame::{self, PageTableFrames, phys_to_virt};
use super::paging::MapError;
use super::tlb;

/// One past the highest user address (the lower canonical half).
pub const USER_END: u64 = 0x0000_8000_0000_0000;
/// First PML4 slot of the kernel half.
const KERNEL_SLOTS: core::ops::Range<usize> = 256..512;

/// How user code may use a page; pages are always readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserAccess {
    /// Writes allowed.
    pub write: bool,
    /// Instruction fetches allowed.
    pub exec: bool,
}

impl UserAccess {
    /// Read-only data.
    pub const READ: UserAccess = UserAccess { write: false, exec: false };
    /// Read-write data.
    pub const READ_WRITE: UserAccess = UserAccess { write: true, exec: false };
    /// Code.
    pub const READ_EXEC: UserAccess = UserAccess { write: false, exec: true };

    fn to_pte(self) -> Pte {
        let mut pte = Pte::PRESENT | Pte::USER_ACCESSIBLE;
        if self.write {
            pte |= Pte::WRITABLE;
        }
        if !self.exec {
            pte |= Pte::NO_EXECUTE;
        }
        pte
    }

    fn from_pte(pte: Pte) -> UserAccess {
        UserAccess { write: pte.contains(Pte::WRITABLE), exec: !pte.contains(Pte::NO_EXECUTE) }
    }
}

/// A user address space.
pub struct AddressSpace {
    pml4: PhysFrame,
}

fn user_page(addr: VirtAddr) -> Result<Page, MapError> {
    if addr.as_u64() >= USER_END {
        return Err(MapError::NotUserAddress);
    }
    Ok(Page::containing_address(addr))
}

fn check_access(access: UserAccess) -> Result<(), MapError> {
    match access.write && access.exec {
        true => Err(MapError::WriteAndExecute),
        false => Ok(()),
    }
}

impl AddressSpace {
    /// An empty address space sharing the kernel half.
    pub fn new() -> Result<AddressSpace, MapError> {
        let pml4 = frame::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
        let kernel = phys_to_virt(super::paging::kernel_pml4().start_address()).as_ptr::<u64>();
        let new = phys_to_virt(pml4.start_address()).as_mut_ptr::<u64>();
        for slot in KERNEL_SLOTS {
            // SAFETY: both are page-table pages mapped at the physical
            // offset; the new one is ours alone, the kernel's is only read
            // (its kernel-half entries never change after boot).
            unsafe { new.add(slot).write(kernel.add(slot).read()) };
        }
        Ok(AddressSpace { pml4 })
    }

    fn table(&mut self) -> OffsetPageTable<'_> {
        let pml4 = phys_to_virt(self.pml4.start_address()).as_mut_ptr::<PageTable>();
        let offset = phys_to_virt(PhysAddr::new(0));
        // SAFETY: the PML4 belongs to this address space, which `&mut self`
        // makes exclusive; everything is mapped at the physical offset.
        unsafe { OffsetPageTable::new(&mut *pml4, offset) }
    }

    /// Maps a fresh zeroed page at `addr` (rounded down to its page).
    pub fn map(&mut self, addr: VirtAddr, access: UserAccess) -> Result<(), MapError> {
        let (page, _) = (user_page(addr)?, check_access(access)?);
        let frame = frame::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
        let parents = Pte::PRESENT | Pte::WRITABLE | Pte::USER_ACCESSIBLE;
        // SAFETY: a lower-half page of this space, not mapped before
        // (map_to refuses otherwise), backed by a frame only it will own.
        let result = unsafe {
            self.table().map_to_with_table_flags(page, frame, access.to_pte(), parents, &mut PageTableFrames)
        };
        match result {
            // Not present before: nothing cached to flush.
            Ok(flush) => {
                flush.ignore();
                Ok(())
            }
            Err(error) => {
                // SAFETY: the frame was never mapped.
                unsafe { frame::free(frame) };
                Err(match error {
                    MapToError::PageAlreadyMapped(_) => MapError::AlreadyMapped,
                    MapToError::ParentEntryHugePage => MapError::HugePage,
                    MapToError::FrameAllocationFailed => MapError::OutOfFrames,
                })
            }
        }
    }

    /// Unmaps the page at `addr` and frees its frame.
    pub fn unmap(&mut self, addr: VirtAddr) -> Result<(), MapError> {
        let page = user_page(addr)?;
        let frame = match self.table().unmap(page) {
            Ok((frame, flush)) => {
                flush.ignore();
                frame
            }
            Err(UnmapError::ParentEntryHugePage) => return Err(MapError::HugePage),
            Err(_) => return Err(MapError::NotMapped),
        };
        tlb::shootdown(tlb::Flush::Nothing.with(page));
        // SAFETY: unmapped on every CPU; user memory has no kernel references.
        unsafe { frame::free(frame) };
        Ok(())
    }

    /// Changes the access of the mapped page at `addr`.
    pub fn protect(&mut self, addr: VirtAddr, access: UserAccess) -> Result<(), MapError> {
        let (page, _) = (user_page(addr)?, check_access(access)?);
        // SAFETY: changes the rights of a user page of this space only.
        match unsafe { self.table().update_flags(page, access.to_pte()) } {
            Ok(flush) => flush.ignore(),
            Err(_) => return Err(MapError::NotMapped),
        }
        tlb::shootdown(tlb::Flush::Nothing.with(page));
        Ok(())
    }

    /// Where `addr` maps to, and with which access.
    pub fn translate(&mut self, addr: VirtAddr) -> Option<(PhysAddr, UserAccess)> {
        user_page(addr).ok()?;
        match self.table().translate(addr) {
            TranslateResult::Mapped { frame, offset, flags } => {
                Some((frame.start_address() + offset, UserAccess::from_pte(flags)))
            }
            _ => None,
        }
    }

    /// Makes this the address space of the calling CPU. The caller keeps
    /// it alive while any CPU uses it, and stays on this CPU (interrupts
    /// masked or the task pinned) until it calls [`AddressSpace::leave`].
    pub fn enter(&self) {
        // SAFETY: the PML4 maps the kernel half exactly as the kernel's
        // does, so the running code, its stack and all kernel data stay
        // mapped.
        unsafe { Cr3::write(self.pml4, Cr3::read().1) };
    }

    /// Returns the calling CPU to the kernel's own address space.
    pub fn leave() {
        // SAFETY: the kernel PML4 maps all kernel memory.
        unsafe { Cr3::write(super::paging::kernel_pml4(), Cr3::read().1) };
    }
}

impl Drop for AddressSpace {
    /// Frees every user page, the lower-half page tables and the PML4.
    fn drop(&mut self) {
        assert!(Cr3::read().0 != self.pml4, "dropping the active address space");
        let pml4 = phys_to_virt(self.pml4.start_address()).as_ptr::<PageTable>();
        // SAFETY: nothing runs in this space any more (it is not active
        // here, and its owner guarantees not elsewhere); its lower-half
        // tables and frames are its own and are freed once each.
        unsafe {
            free_tables(&*pml4, 4, 0..256);
            frame::free(self.pml4);
        }
    }
}

/// Frees the frames under `table` (a level-`level` table) in `slots`, and
/// the tables below it.
///
/// # Safety
/// The tables and frames belong to a dying address space alone.
unsafe fn free_tables(table: &PageTable, level: u8, slots: core::ops::Range<usize>) {
    for entry in table.iter().skip(slots.start).take(slots.len()) {
        if !entry.flags().contains(Pte::PRESENT) {
            continue;
        }
        let frame = PhysFrame::<Size4KiB>::containing_address(entry.addr());
        if level > 1 {
            let child = phys_to_virt(frame.start_address()).as_ptr::<PageTable>();
            // SAFETY: forwarded; a present non-leaf entry points at a table.
            unsafe { free_tables(&*child, level - 1, 0..512) };
        }
        // SAFETY: forwarded.
        unsafe { frame::free(frame) };
    }
}
