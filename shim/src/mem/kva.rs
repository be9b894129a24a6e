//! Kernel virtual address reservations: page-aligned ranges handed out once
//! (device registers, scratch mappings). The range is reserved, not mapped;
//! the caller maps what it needs with [`super::paging`].

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::VirtAddr;

use super::layout::{KVA_SIZE, KVA_START, PAGE_SIZE};

static NEXT: AtomicU64 = AtomicU64::new(KVA_START);

/// Reserves `pages` pages of kernel address space, followed by one unmapped
/// page so neighbouring reservations never run into each other.
/// `None` once the area is used up (never a wrapped-around range).
pub(crate) fn reserve(pages: u64) -> Option<VirtAddr> {
    let size = pages.checked_add(1)?.checked_mul(PAGE_SIZE)?;
    let fits = |start: u64| start.checked_add(size).filter(|&end| end <= KVA_START + KVA_SIZE);
    NEXT.fetch_update(Ordering::Relaxed, Ordering::Relaxed, fits).ok().map(VirtAddr::new)
}
