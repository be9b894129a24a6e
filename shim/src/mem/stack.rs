//! Kernel stacks: each lives at the top of a fixed-size slot of the stack
//! region; the rest of the slot below it (at least one page) stays unmapped
//! as its guard, so an overflow faults there instead of corrupting memory,
//! and the fault handler can name the stack that overflowed.
//!
//! Every slot carries a tag (a goroutine id, or a small constant for CPU
//! stacks) that reports print; [`guard_owner`] maps a fault address back to
//! the slot.
//!
//! A dropped stack is *retired*, not unmapped at once: unmapping needs a
//! TLB shootdown, an IPI round trip to every CPU, so retired stacks are
//! unmapped [`RETIRE_BATCH`] at a time with one shootdown (Linux's lazy
//! vunmap). They stay mapped, and their slots taken, until then, so no CPU
//! can reach a reused frame through a stale translation. [`purge_retired`]
//! forces it; running out of frames or slots does it too.

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::VirtAddr;

use super::bitmap::{IndexBitmap, words_for};
use super::layout::{PAGE_SIZE, STACK_SLOT_SIZE, STACK_SLOTS, STACKS_START};
use super::paging::{self, MapError, MapFlags};
use crate::irq::IrqMutex;

/// Largest stack, in pages (the slot minus its guard page).
pub const MAX_PAGES: u64 = STACK_SLOT_SIZE / PAGE_SIZE - 1;

static SLOTS: IrqMutex<IndexBitmap<[u64; words_for(STACK_SLOTS)]>> =
    IrqMutex::new(IndexBitmap::new_all_free(STACK_SLOTS));
static SLOT_TAGS: [AtomicU64; STACK_SLOTS] = [const { AtomicU64::new(0) }; STACK_SLOTS];

/// Stacks retired before a purge unmaps them together.
pub(crate) const RETIRE_BATCH: usize = 64;

/// Dropped stacks still mapped: (slot, pages), kept small because drops
/// copy it onto possibly small goroutine stacks.
struct Retired {
    stacks: [(u16, u8); RETIRE_BATCH],
    len: usize,
}

const _: () = assert!(STACK_SLOTS <= u16::MAX as usize + 1 && MAX_PAGES <= u8::MAX as u64);

static RETIRED: IrqMutex<Retired> = IrqMutex::new(Retired { stacks: [(0, 0); RETIRE_BATCH], len: 0 });

/// A mapped kernel stack with a guard page below it; unmapped and its frames
/// freed on drop.
pub struct KernelStack {
    slot: usize,
    pages: u64,
}

/// Which stack a guard-page hit belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StackOwner {
    /// Slot number.
    pub(crate) slot: usize,
    /// The tag given at creation.
    pub(crate) tag: u64,
}

fn slot_base(slot: usize) -> u64 {
    STACKS_START + slot as u64 * STACK_SLOT_SIZE
}

impl KernelStack {
    /// Maps a stack of `pages` pages (at most [`MAX_PAGES`]) tagged `tag`.
    /// Short of frames or slots, it purges the retired stacks and tries
    /// once more.
    pub fn new(pages: u64, tag: u64) -> Result<KernelStack, MapError> {
        KernelStack::try_new(pages, tag).or_else(|_| {
            purge_retired();
            KernelStack::try_new(pages, tag)
        })
    }

    fn try_new(pages: u64, tag: u64) -> Result<KernelStack, MapError> {
        assert!((1..=MAX_PAGES).contains(&pages), "stack of {pages} pages");
        let slot = SLOTS.lock().alloc().ok_or(MapError::OutOfFrames)?;
        SLOT_TAGS[slot].store(tag, Ordering::Relaxed);
        // From here on, dropping `stack` undoes whatever was mapped.
        let mut stack = KernelStack { slot, pages: 0 };
        let top = slot_base(slot) + STACK_SLOT_SIZE;
        for i in 1..=pages {
            paging::map_new(paging::page_of(top - i * PAGE_SIZE), MapFlags::DATA)?;
            stack.pages = i;
        }
        Ok(stack)
    }

    /// The initial stack pointer (one past the highest byte).
    pub(crate) fn top(&self) -> VirtAddr {
        VirtAddr::new(slot_base(self.slot) + STACK_SLOT_SIZE)
    }

    /// The lowest usable byte.
    #[cfg(feature = "ktest")]
    pub(crate) fn bottom(&self) -> VirtAddr {
        self.top() - self.pages * PAGE_SIZE
    }

    /// The highest guard page (just below the stack).
    #[cfg(feature = "ktest")]
    pub(crate) fn guard(&self) -> VirtAddr {
        self.bottom() - PAGE_SIZE
    }

    /// Retags the stack (reports name the new tag), e.g. when a cached
    /// stack is given to another goroutine.
    pub(crate) fn set_tag(&mut self, tag: u64) {
        SLOT_TAGS[self.slot].store(tag, Ordering::Relaxed);
    }

    /// Size in pages (guard excluded).
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The slot number.
    #[cfg(feature = "ktest")]
    pub(crate) fn slot(&self) -> usize {
        self.slot
    }
}

impl Drop for KernelStack {
    /// Retires the stack (see the module doc); every [`RETIRE_BATCH`]th
    /// drop purges. The caller must hold no interrupt-masking lock.
    fn drop(&mut self) {
        SLOT_TAGS[self.slot].store(0, Ordering::Relaxed);
        let full = {
            let mut retired = RETIRED.lock();
            let len = retired.len;
            retired.stacks[len] = (self.slot as u16, self.pages as u8);
            retired.len += 1;
            (retired.len == RETIRE_BATCH).then(|| take_retired(&mut retired))
        };
        if let Some((stacks, len)) = full {
            purge(&stacks[..len]);
        }
    }
}

fn take_retired(retired: &mut Retired) -> ([(u16, u8); RETIRE_BATCH], usize) {
    let len = core::mem::take(&mut retired.len);
    (retired.stacks, len)
}

/// Unmaps and frees every retired stack now, with one TLB shootdown.
pub(crate) fn purge_retired() {
    let (stacks, len) = take_retired(&mut RETIRED.lock());
    purge(&stacks[..len]);
}

fn purge(stacks: &[(u16, u8)]) {
    if stacks.is_empty() {
        return;
    }
    let ranges = stacks.iter().map(|&(slot, pages)| {
        let top = slot_base(slot as usize) + STACK_SLOT_SIZE;
        (paging::page_of(top - pages as u64 * PAGE_SIZE), pages as u64)
    });
    // SAFETY: retired stacks were dropped, so no code runs on them and no
    // reference into them is left.
    unsafe { paging::unmap_and_free_ranges(ranges) }.expect("retired stack pages were mapped");
    let mut slots = SLOTS.lock();
    for &(slot, _) in stacks {
        slots.release(slot as usize).expect("retired stack slot was in use");
    }
}

/// The stack whose guard (the unmapped part of its slot) contains `addr`.
pub(crate) fn guard_owner(addr: u64) -> Option<StackOwner> {
    let owner = stack_owner(addr)?;
    (!paging::is_mapped_lockless(VirtAddr::new(addr))).then_some(owner)
}

/// The stack slot (usable part or guard) that contains `addr`, if any.
pub(crate) fn stack_owner(addr: u64) -> Option<StackOwner> {
    owner_slot(addr).map(|slot| StackOwner { slot, tag: SLOT_TAGS[slot].load(Ordering::Relaxed) })
}

fn owner_slot(addr: u64) -> Option<usize> {
    let offset = addr.checked_sub(STACKS_START)?;
    let slot = (offset / STACK_SLOT_SIZE) as usize;
    (slot < STACK_SLOTS).then_some(slot)
}

static BOOT_STACK: spin::Once<(u64, u64)> = spin::Once::new();

/// Records the bootloader's stack (bottom, length) so reports can name it.
pub(super) fn set_boot_stack(bottom: u64, len: u64) {
    BOOT_STACK.call_once(|| (bottom, len));
}

/// Which stack an address (usually a saved RSP) is on, for reports.
pub(crate) enum StackKind {
    /// A kernel stack slot.
    Slot(StackOwner),
    /// The bootloader's stack, which the boot CPU starts on.
    Boot,
    /// Not a known stack.
    Unknown,
}

/// Names the stack `addr` is on.
pub(crate) fn describe(addr: u64) -> StackKind {
    if let Some(owner) = stack_owner(addr) {
        return StackKind::Slot(owner);
    }
    match BOOT_STACK.get() {
        Some(&(bottom, len)) if (bottom..=bottom + len).contains(&addr) => StackKind::Boot,
        _ => StackKind::Unknown,
    }
}

impl core::fmt::Display for StackKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StackKind::Slot(owner) if owner.tag == crate::cpu::IST_STACK_TAG => {
                write!(f, "interrupt stack (IST), slot {}", owner.slot)
            }
            StackKind::Slot(owner) if owner.tag == crate::cpu::AP_BOOT_STACK_TAG => {
                write!(f, "boot stack of an application processor, slot {}", owner.slot)
            }
            StackKind::Slot(owner) => write!(f, "kernel stack slot {} of task {}", owner.slot, owner.tag),
            StackKind::Boot => write!(f, "boot stack (bootstrap CPU, before the scheduler)"),
            StackKind::Unknown => write!(f, "unknown stack"),
        }
    }
}
