//! A process's address space policy: which ranges are valid (VMAs) and
//! with what rights, the program break, anonymous `mmap`/`munmap`/
//! `mprotect`, and the verdict on user page faults.
//!
//! Pages are populated on demand: a fault inside an area with the right
//! access maps a zeroed page, anything else is the process's fault
//! (SIGSEGV for the caller to deliver). The kernel never faults on user
//! memory: before a system call copies to or from user memory it calls
//! [`Vm::prefault`], which populates the range or reports `EFAULT`.
//! `fork` copies every present page (copy-on-write is a later step).
//!
//! The hardware side — page tables, frames, CR3 — is the shim's
//! [`AddressSpace`]; user pages there are W^X, so an area asking for write
//! and execute at once gets write only (see docs/userspace.md).
#![cfg_attr(target_os = "none", no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod vmas;

use core::cell::RefCell;

use abi::errno::{EFAULT, EINVAL, ENOMEM};
use runtime::heap::{AllocError, Handle, Heap, Rootable, Scope, Static};
use shim::mem::MapError;
use shim::mem::aspace::{AddressSpace, USER_END, UserAccess};
use x86_64::VirtAddr;

pub use vmas::{PAGE, Prot, Vma, VmaSet};

pub use abi::errno::KResult;

/// Lowest address a mapping may get (page 0 and the first 64 KiB stay
/// unmapped, as Linux's `mmap_min_addr`).
pub const MMAP_MIN: u64 = 0x1_0000;
/// Top of the initial stack (its area ends here).
pub const STACK_TOP: u64 = 0x7fff_ffff_f000;
/// Size of the stack area (Linux's default `RLIMIT_STACK`, 8 MiB).
pub const STACK_SIZE: u64 = 8 << 20;
/// The smallest stack area (`RLIMIT_STACK` below it still gets this much).
pub const STACK_MIN: u64 = 128 << 10;
/// Mappings without a fixed address are placed top-down from here.
pub const MMAP_TOP: u64 = STACK_TOP - STACK_SIZE - (1 << 30);

/// How much memory a process uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Bytes in areas (Linux's `VmSize`).
    pub mapped_bytes: u64,
    /// Bytes in present pages (`VmRSS`).
    pub resident_bytes: u64,
}

/// How a faulting access used memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
    /// An instruction fetch.
    Exec,
}

/// The areas' object in the process's heap: plain data behind a cell (no
/// GC pointers inside), so `Static`.
type AreasRoot = Rootable![Static<RefCell<VmaSet>>];

/// Room the areas' object and its first map node take in the heap.
const AREAS_BYTES: u64 = 512;

/// One process's memory: areas, their pages, and the break.
pub struct Vm {
    space: AddressSpace,
    /// The areas, an object of the process's heap. Page tables are never
    /// changed inside its scopes (a change may wait for other CPUs to
    /// flush their TLBs): each operation reads or edits the areas in a
    /// scope, then maps or unmaps pages outside it.
    areas: Handle<AreasRoot>,
    /// Start of the heap area (end of the program image).
    brk_base: u64,
    /// Current break (`brk_base..brk` is the heap area, page-rounded).
    brk: u64,
}

fn page_up(value: u64) -> Option<u64> {
    value.checked_add(PAGE - 1).map(|v| v & !(PAGE - 1))
}

fn no_memory(error: MapError) -> abi::errno::Errno {
    match error {
        MapError::OutOfFrames => ENOMEM,
        _ => EFAULT,
    }
}

/// The page access for an area's protection (W^X: write wins over exec).
fn page_access(prot: Prot) -> UserAccess {
    UserAccess { write: prot.write, exec: prot.exec && !prot.write }
}

fn allows(prot: Prot, access: Access) -> bool {
    match access {
        Access::Read => prot.read || prot.write || prot.exec,
        Access::Write => prot.write,
        Access::Exec => prot.exec,
    }
}

/// Puts `areas` in a new object of the scope's heap.
fn stash_areas(s: &Scope<'_, '_>, areas: VmaSet) -> Result<Handle<AreasRoot>, AllocError> {
    Ok(s.stash::<AreasRoot>(s.alloc(Static(RefCell::new(areas)))?))
}

impl Vm {
    /// An empty address space with the stack area, its areas in `heap`
    /// (the process's). The stack area is `stack_limit` bytes
    /// (`RLIMIT_STACK`) rounded to pages, within
    /// [`STACK_MIN`]..=[`STACK_SIZE`]: the stack does not grow past its
    /// area, and the area has room reserved below it only up to 8 MiB.
    pub fn new(heap: &Heap, stack_limit: u64) -> KResult<Vm> {
        let space = AddressSpace::new().map_err(no_memory)?;
        let rw = Prot { read: true, write: true, exec: false };
        let stack = (stack_limit & !(PAGE - 1)).clamp(STACK_MIN, STACK_SIZE);
        let areas = heap.try_mutate(|s| {
            s.reserve(AREAS_BYTES)?;
            let mut areas = VmaSet::default();
            areas.insert(Vma { start: STACK_TOP - stack, end: STACK_TOP, prot: rw });
            stash_areas(s, areas)
        });
        Ok(Vm { space, areas: areas.map_err(|AllocError| ENOMEM)?, brk_base: 0, brk: 0 })
    }

    /// The current break.
    pub fn current_brk(&self) -> u64 {
        self.brk
    }

    /// The size of the stack area.
    pub fn stack_size(&self) -> u64 {
        self.areas(|areas| areas.find(STACK_TOP - 1).map_or(0, |vma| vma.end - vma.start))
    }

    /// Bytes in areas (what `RLIMIT_AS` limits).
    pub fn mapped_bytes(&self) -> u64 {
        self.areas(|areas| areas.total())
    }

    /// Runs `f` on the areas, in a scope of their heap.
    fn areas<T>(&self, f: impl FnOnce(&mut VmaSet) -> T) -> T {
        self.areas.with(|_, areas| f(&mut areas.0.borrow_mut()))
    }

    /// The hardware address space (to bind the process's threads to).
    pub fn space(&self) -> &AddressSpace {
        &self.space
    }

    /// Adds an area for a program segment, populates it and returns; the
    /// loader then writes the contents with [`Vm::write`]. Overlaps with
    /// an earlier segment (a page shared by two segments) widen the rights
    /// of the shared page.
    pub fn map_segment(&mut self, start: u64, end: u64, prot: Prot) -> KResult<()> {
        let (start, end) = (start & !(PAGE - 1), page_up(end).ok_or(EINVAL)?);
        if start < MMAP_MIN || end > MMAP_TOP {
            return Err(EINVAL);
        }
        self.areas(|areas| {
            let mut at = start;
            while at < end {
                match areas.find(at).copied() {
                    Some(old) => {
                        let merged =
                            Prot { read: true, write: old.prot.write || prot.write, exec: old.prot.exec || prot.exec };
                        let piece_end = old.end.min(end);
                        areas.protect(at, piece_end, merged);
                        at = piece_end;
                    }
                    None => {
                        let next = areas.iter().map(|v| v.start).find(|&s| s > at).unwrap_or(end).min(end);
                        areas.insert(Vma { start: at, end: next, prot });
                        at = next;
                    }
                }
            }
        });
        self.populate(start, end, false, |prot| !prot.is_none())?;
        self.brk_base = self.brk_base.max(end);
        self.brk = self.brk_base;
        Ok(())
    }

    /// Writes `bytes` at `addr` whatever the pages' rights (the loader),
    /// into pages already present ([`Vm::map_segment`] and
    /// [`Vm::prefault`] make them so): it opens no heap scope, so it may
    /// run inside one (a file's bytes copied straight from its heap).
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> KResult<()> {
        self.space.write_bytes(addr, bytes).map_err(no_memory)
    }

    /// Maps every missing page of `[start, end)` (page-aligned) with its
    /// area's rights; `EFAULT` where no area is or `allowed` refuses the
    /// area's protection. A page already present (writable, for `write`)
    /// needs no area: the page tables cache what the areas allow, so a
    /// kernel copy to memory in use opens no scope; otherwise one scope
    /// per area.
    fn populate(&mut self, start: u64, end: u64, write: bool, allowed: impl Fn(Prot) -> bool) -> KResult<()> {
        let mut page = start;
        while page < end {
            if self.space.translate(VirtAddr::new(page)).is_some_and(|(_, access)| access.write || !write) {
                page += PAGE;
                continue;
            }
            let vma = self.areas(|areas| areas.find(page).copied()).ok_or(EFAULT)?;
            if !allowed(vma.prot) {
                return Err(EFAULT);
            }
            while page < vma.end.min(end) {
                self.map_page(page, vma.prot)?;
                page += PAGE;
            }
        }
        Ok(())
    }

    fn map_page(&mut self, page: u64, prot: Prot) -> KResult<()> {
        match self.space.map(VirtAddr::new(page), page_access(prot)) {
            Ok(()) | Err(MapError::AlreadyMapped) => Ok(()),
            Err(error) => Err(no_memory(error)),
        }
    }

    /// Decides a user page fault at `addr`: `Ok` if it was a page not
    /// populated yet (now mapped: retry the instruction), `Err` if the
    /// access is not allowed there (SIGSEGV) or memory ran out.
    pub fn fault(&mut self, addr: u64, access: Access) -> KResult<()> {
        let vma = self.areas(|areas| areas.find(addr).copied()).ok_or(EFAULT)?;
        if !allows(vma.prot, access) || (access == Access::Exec && vma.prot.write) {
            return Err(EFAULT);
        }
        let page = addr & !(PAGE - 1);
        if self.space.translate(VirtAddr::new(page)).is_some() {
            // Present with the area's rights, yet it faulted: a real
            // violation (for example a write to a page of a read area).
            return Err(EFAULT);
        }
        self.map_page(page, vma.prot)
    }

    /// Makes `[addr, addr + len)` present for a kernel copy, checking the
    /// rights a user access would need; `EFAULT` if it cannot be.
    pub fn prefault(&mut self, addr: u64, len: usize, write: bool) -> KResult<()> {
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len as u64).filter(|&e| e <= USER_END).ok_or(EFAULT)?;
        let access = if write { Access::Write } else { Access::Read };
        self.populate(addr & !(PAGE - 1), page_up(end).ok_or(EFAULT)?, write, |prot| allows(prot, access))
    }

    /// `brk`: moves the break to `new` if it is valid and returns the
    /// (possibly unchanged) break; 0 queries it.
    pub fn brk(&mut self, new: u64) -> u64 {
        if new < self.brk_base || new > MMAP_TOP {
            return self.brk;
        }
        let (old_end, new_end) = (page_up(self.brk).unwrap_or(0), page_up(new).unwrap_or(0));
        if new_end > old_end {
            let grown = self.areas(|areas| {
                if areas.overlaps(old_end, new_end) {
                    return false;
                }
                let rw = Prot { read: true, write: true, exec: false };
                areas.insert(Vma { start: old_end, end: new_end, prot: rw });
                true
            });
            if !grown {
                return self.brk;
            }
        } else if new_end < old_end {
            self.unmap_range(new_end, old_end);
        }
        self.brk = new;
        self.brk
    }

    /// Anonymous `mmap`: a new area of `len` bytes at `hint` (exactly
    /// there with `fixed`, replacing what was there) or wherever it fits.
    pub fn mmap_anonymous(&mut self, hint: u64, len: u64, prot: Prot, fixed: bool) -> KResult<u64> {
        let len = page_up(len).filter(|&l| l > 0).ok_or(EINVAL)?;
        if fixed {
            if !hint.is_multiple_of(PAGE) || hint < MMAP_MIN || hint.checked_add(len).is_none_or(|e| e > USER_END) {
                return Err(EINVAL);
            }
            self.unmap_range(hint, hint + len);
            self.areas(|areas| areas.insert(Vma { start: hint, end: hint + len, prot }));
            return Ok(hint);
        }
        let hinted =
            hint >= MMAP_MIN && hint.is_multiple_of(PAGE) && hint.checked_add(len).is_some_and(|e| e <= MMAP_TOP);
        let floor = self.brk.max(MMAP_MIN) + (1 << 30);
        self.areas(|areas| {
            let start = match hinted && !areas.overlaps(hint, hint + len) {
                true => hint,
                false => areas.find_free_below(len, MMAP_TOP, floor).ok_or(ENOMEM)?,
            };
            areas.insert(Vma { start, end: start + len, prot });
            Ok(start)
        })
    }

    /// `munmap`.
    pub fn munmap(&mut self, addr: u64, len: u64) -> KResult<()> {
        let end = page_up(len).and_then(|l| addr.checked_add(l)).ok_or(EINVAL)?;
        if !addr.is_multiple_of(PAGE) || len == 0 || end > USER_END {
            return Err(EINVAL);
        }
        self.unmap_range(addr, end);
        Ok(())
    }

    /// `mprotect`: `ENOMEM` if part of the range is unmapped.
    pub fn mprotect(&mut self, addr: u64, len: u64, prot: Prot) -> KResult<()> {
        let end = page_up(len).and_then(|l| addr.checked_add(l)).ok_or(ENOMEM)?;
        if !addr.is_multiple_of(PAGE) {
            return Err(EINVAL);
        }
        if !self.areas(|areas| areas.protect(addr, end, prot)) {
            return Err(ENOMEM);
        }
        let mut at = addr;
        while let Some(page) = self.space.next_mapped(at, end) {
            if prot.is_none() {
                // The shim's pages are always readable: no access at all
                // means no page (its contents are lost; see the crate doc).
                let _ = self.space.unmap(VirtAddr::new(page));
            } else {
                self.space.protect(VirtAddr::new(page), page_access(prot)).map_err(no_memory)?;
            }
            at = page + PAGE;
        }
        Ok(())
    }

    /// Removes the areas of `[start, end)` and their pages, one area per
    /// scope.
    fn unmap_range(&mut self, start: u64, end: u64) {
        while let Some(vma) = self.areas(|areas| areas.take_first(start, end)) {
            let mut at = vma.start;
            while let Some(page) = self.space.next_mapped(at, vma.end) {
                let _ = self.space.unmap(VirtAddr::new(page));
                at = page + PAGE;
            }
        }
    }

    /// Runs `f` on each area in address order, one scope per area (`f`
    /// runs outside them), until `f` fails.
    fn for_each_area(&mut self, mut f: impl FnMut(&mut Self, Vma) -> KResult<()>) -> KResult<()> {
        let mut at = 0;
        while let Some(vma) = self.areas(|areas| areas.next_from(at)) {
            f(self, vma)?;
            at = vma.end;
        }
        Ok(())
    }

    /// Memory use (walks the areas: for `/proc` and the OOM killer, not hot
    /// paths).
    pub fn usage(&mut self) -> Usage {
        Usage { mapped_bytes: self.mapped_bytes(), resident_bytes: self.space.resident_pages() * PAGE }
    }

    /// A copy of this memory for a child process, its areas in `heap`
    /// (the child's): same areas and break, every present page copied.
    pub fn fork(&mut self, heap: &Heap) -> KResult<Vm> {
        let areas = heap.mutate_pair(&self.areas.heap(), |child, parent| {
            child.reserve(AREAS_BYTES)?;
            let copy = parent.fetch(&self.areas).0.borrow().clone();
            stash_areas(child, copy)
        });
        let space = AddressSpace::new().map_err(no_memory)?;
        let mut child = Vm { space, areas: areas.map_err(|AllocError| ENOMEM)?, ..*self };
        self.for_each_area(|parent, vma| {
            let mut at = vma.start;
            while let Some(page) = parent.space.next_mapped(at, vma.end) {
                child
                    .space
                    .map_copy_of(&mut parent.space, VirtAddr::new(page), page_access(vma.prot))
                    .map_err(no_memory)?;
                at = page + PAGE;
            }
            Ok(())
        })?;
        Ok(child)
    }
}
