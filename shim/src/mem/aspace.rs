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
//!
//! A space is *bound* to the tasks that run in it ([`crate::task::set_address_space`]):
//! each CPU's CR3 is its current task's space, switched with the task. The
//! top-level table ([`Root`]) is shared by the space and its tasks, so it
//! lives until no CPU can have it loaded; the space's pages and lower
//! tables go when the [`AddressSpace`] is dropped.

use alloc::sync::Arc;

use x86_64::structures::paging::mapper::{MapToError, TranslateResult, UnmapError};
use x86_64::structures::paging::{
    Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as Pte, PhysFrame, Size4KiB, Translate,
};
use x86_64::{PhysAddr, VirtAddr};

use super::frame::{Frame, UserTableFrames, phys_to_virt};
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

/// The top-level table of an address space, shared by the space and the
/// tasks bound to it.
pub(crate) struct Root {
    pub(crate) pml4: PhysFrame,
}

impl Drop for Root {
    fn drop(&mut self) {
        // SAFETY: the frame was this root's (`AddressSpace::new`). The last
        // reference is gone, so no task is bound to this table; a CPU's CR3
        // is always its current task's table (or the kernel's), and every
        // CPU that loaded this one has loaded another since (which flushed
        // its non-global TLB entries). The lower half was emptied when the
        // `AddressSpace` died.
        drop(unsafe { Frame::from_raw(self.pml4) });
    }
}

/// A user address space.
pub struct AddressSpace {
    root: Arc<Root>,
    /// User pages mapped (not counting page tables).
    resident: u64,
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
        let pml4 = Frame::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
        let kernel = phys_to_virt(super::paging::kernel_pml4().start_address()).as_ptr::<u64>();
        let new = pml4.virt().as_mut_ptr::<u64>();
        for slot in KERNEL_SLOTS {
            // SAFETY: both are page-table pages mapped at the physical
            // offset; the new one is ours alone, the kernel's is only read
            // (its kernel-half entries never change after boot).
            unsafe { new.add(slot).write(kernel.add(slot).read()) };
        }
        Ok(AddressSpace { root: Arc::new(Root { pml4: pml4.into_raw() }), resident: 0 })
    }

    /// The shared top-level table, for binding tasks to this space.
    pub(crate) fn root(&self) -> &Arc<Root> {
        &self.root
    }

    fn table(&mut self) -> OffsetPageTable<'_> {
        let pml4 = phys_to_virt(self.root.pml4.start_address()).as_mut_ptr::<PageTable>();
        let offset = phys_to_virt(PhysAddr::new(0));
        // SAFETY: the PML4 belongs to this address space, which `&mut self`
        // makes exclusive; everything is mapped at the physical offset.
        unsafe { OffsetPageTable::new(&mut *pml4, offset) }
    }

    /// Maps a fresh zeroed page at `addr` (rounded down to its page).
    pub fn map(&mut self, addr: VirtAddr, access: UserAccess) -> Result<(), MapError> {
        let (page, _) = (user_page(addr)?, check_access(access)?);
        self.map_frame(page, Frame::alloc_user_zeroed().ok_or(MapError::OutOfFrames)?, access)
    }

    /// Maps `page` to `frame`, which the space owns from now on (on error
    /// the frame is freed).
    fn map_frame(&mut self, page: Page, frame: Frame, access: UserAccess) -> Result<(), MapError> {
        let parents = Pte::PRESENT | Pte::WRITABLE | Pte::USER_ACCESSIBLE;
        // SAFETY: a lower-half page of this space, not mapped before
        // (map_to refuses otherwise), backed by an owned frame, which the
        // space keeps on success (`into_raw` below).
        let result = unsafe {
            self.table().map_to_with_table_flags(
                page,
                frame.phys_frame(),
                access.to_pte(),
                parents,
                &mut UserTableFrames,
            )
        };
        match result {
            // Not present before: nothing cached to flush.
            Ok(flush) => {
                flush.ignore();
                frame.into_raw();
                self.resident += 1;
                Ok(())
            }
            Err(MapToError::PageAlreadyMapped(_)) => Err(MapError::AlreadyMapped),
            Err(MapToError::ParentEntryHugePage) => Err(MapError::HugePage),
            Err(MapToError::FrameAllocationFailed) => Err(MapError::OutOfFrames),
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
        // SAFETY: the space owned the frame (`map_frame`); it is unmapped
        // on every CPU, and user memory has no kernel references.
        drop(unsafe { Frame::from_raw(frame) });
        self.resident -= 1;
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

    /// User pages mapped in this space (what `RSS` counts; page tables
    /// not included).
    pub fn resident_pages(&self) -> u64 {
        self.resident
    }

    /// The first mapped page of `[from, end)` (page-aligned user
    /// addresses). Absent tables are skipped whole, so a sparse range costs
    /// its page tables, not its pages: a walk of a 100 TiB area with three
    /// pages in it is a few hundred entry reads.
    pub fn next_mapped(&mut self, from: u64, end: u64) -> Option<u64> {
        let end = end.min(USER_END);
        let mut at = from & !0xfff;
        'walk: while at < end {
            let mut table = phys_to_virt(self.root.pml4.start_address()).as_ptr::<PageTable>();
            for level in (1..=4u32).rev() {
                let shift = 12 + 9 * (level - 1);
                // SAFETY: `table` is a page table of this space (the PML4,
                // or one a present entry above points to), mapped at the
                // physical offset; `&mut self` keeps it from changing.
                let entry = unsafe { &(&*table)[((at >> shift) & 511) as usize] };
                if !entry.flags().contains(Pte::PRESENT) {
                    // Nothing under this entry: on to the next one.
                    at = ((at >> shift) + 1) << shift;
                    continue 'walk;
                }
                if level == 1 || entry.flags().contains(Pte::HUGE_PAGE) {
                    return Some(at);
                }
                table = phys_to_virt(entry.addr()).as_ptr::<PageTable>();
            }
        }
        None
    }

    /// Maps a fresh page at `addr` holding a copy of `src`'s page there,
    /// with access `access` (for `fork`).
    pub fn map_copy_of(&mut self, src: &mut AddressSpace, addr: VirtAddr, access: UserAccess) -> Result<(), MapError> {
        let (page, _) = (user_page(addr)?, check_access(access)?);
        let (from, _) = src.translate(page.start_address()).ok_or(MapError::NotMapped)?;
        let copy = Frame::alloc_user().ok_or(MapError::OutOfFrames)?;
        // SAFETY: `from` is a whole user frame of `src` (held under `&mut`,
        // so it stays mapped there and is not freed), `copy` is ours alone;
        // both are mapped at the physical offset, and they differ.
        unsafe {
            core::ptr::copy_nonoverlapping(phys_to_virt(from).as_ptr::<u8>(), copy.virt().as_mut_ptr::<u8>(), 4096)
        };
        self.map_frame(page, copy, access)
    }

    /// Writes `bytes` at user address `addr` of this space, whatever the
    /// pages' user access (the kernel filling a new image: ELF segments,
    /// the initial stack). Every page of the range must be mapped.
    pub fn write_bytes(&mut self, addr: u64, bytes: &[u8]) -> Result<(), MapError> {
        self.for_each_chunk(addr, bytes.len(), |phys, offset, len| {
            // SAFETY: `phys` is a user frame of this space (translated just
            // now, under `&mut self`), mapped at the physical offset; the
            // chunk stays inside it.
            unsafe { core::ptr::copy_nonoverlapping(bytes[offset..].as_ptr(), phys_to_virt(phys).as_mut_ptr(), len) }
        })
    }

    /// Calls `f(physical address, offset in the range, length)` for each
    /// page-bounded piece of `[addr, addr + len)`.
    fn for_each_chunk(
        &mut self,
        addr: u64,
        len: usize,
        mut f: impl FnMut(PhysAddr, usize, usize),
    ) -> Result<(), MapError> {
        let mut done = 0;
        while done < len {
            let at = addr.checked_add(done as u64).ok_or(MapError::NotUserAddress)?;
            let (phys, _) = self
                .translate(VirtAddr::try_new(at).map_err(|_| MapError::NotUserAddress)?)
                .ok_or(MapError::NotMapped)?;
            let chunk = (4096 - (at % 4096) as usize).min(len - done);
            f(phys, done, chunk);
            done += chunk;
        }
        Ok(())
    }
}

impl Drop for AddressSpace {
    /// Frees every user page and the lower-half page tables. Tasks still
    /// bound to the space keep its (now empty) top-level table.
    fn drop(&mut self) {
        let pml4 = phys_to_virt(self.root.pml4.start_address()).as_mut_ptr::<PageTable>();
        let mut lower = alloc::vec::Vec::new();
        // SAFETY: the PML4 belongs to this space; its lower half is moved
        // out (cleared) so no CPU can walk into the tables freed below.
        unsafe {
            for entry in (*pml4).iter_mut().take(256) {
                if entry.flags().contains(Pte::PRESENT) {
                    lower.push(PhysFrame::<Size4KiB>::containing_address(entry.addr()));
                }
                entry.set_unused();
            }
        }
        tlb::shootdown(tlb::Flush::All);
        for table in lower {
            // SAFETY: unreachable from the PML4 and flushed from every TLB;
            // the tables and frames are this space's alone (page tables from
            // `UserTableFrames`, pages from `map_frame`), freed once each.
            unsafe {
                free_tables(&*phys_to_virt(table.start_address()).as_ptr::<PageTable>(), 3);
                drop(Frame::from_raw(table));
            }
        }
    }
}

/// Frees the frames under `table` (a level-`level` table), and the tables
/// below it.
///
/// # Safety
/// The tables and frames belong to a dying address space alone.
unsafe fn free_tables(table: &PageTable, level: u8) {
    for entry in table.iter() {
        if !entry.flags().contains(Pte::PRESENT) {
            continue;
        }
        let frame = PhysFrame::<Size4KiB>::containing_address(entry.addr());
        if level > 1 {
            let child = phys_to_virt(frame.start_address()).as_ptr::<PageTable>();
            // SAFETY: forwarded; a present non-leaf entry points at a table.
            unsafe { free_tables(&*child, level - 1) };
        }
        // SAFETY: forwarded.
        drop(unsafe { Frame::from_raw(frame) });
    }
}
