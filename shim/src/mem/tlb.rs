//! TLB shootdown: after a kernel mapping is removed or restricted, every
//! CPU drops its cached translation before the change is reported done (so
//! a freed frame can be reused and an unmapped page faults everywhere).
//!
//! Built on a synchronous cross-CPU call ([`crate::smp::xcall`]); the
//! caller must not hold an interrupt-masking lock. User mappings will use
//! the same path, limited to the CPUs running that address space.

use x86_64::VirtAddr;
use x86_64::instructions::tlb;
use x86_64::registers::control::{Cr4, Cr4Flags};
use x86_64::structures::paging::Page;

/// Above this many pages a full flush is cheaper than one `invlpg` each.
const FULL_FLUSH_PAGES: u64 = 64;

/// What a shootdown must flush; grows page by page with [`Flush::with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flush {
    /// Nothing changed.
    Nothing,
    /// `count` consecutive pages from `first`.
    Pages {
        /// First page.
        first: Page,
        /// Number of pages.
        count: u64,
    },
    /// Everything (scattered pages, or too many for `invlpg` each).
    All,
}

impl Flush {
    /// This flush extended by `page`.
    pub fn with(self, page: Page) -> Flush {
        match self {
            Flush::Nothing => Flush::Pages { first: page, count: 1 },
            Flush::Pages { first, count } if first + count == page && count < FULL_FLUSH_PAGES => {
                Flush::Pages { first, count: count + 1 }
            }
            _ => Flush::All,
        }
    }
}

/// Removes what `flush` names from every online CPU's TLB; returns when
/// all have.
pub fn shootdown(flush: Flush) {
    match flush {
        Flush::Nothing => {}
        Flush::Pages { first, count } => {
            crate::smp::xcall::on_each_cpu(flush_local, first.start_address().as_u64(), count)
        }
        Flush::All => crate::smp::xcall::on_each_cpu(flush_local, 0, u64::MAX),
    }
}

/// This CPU's part of a shootdown: `count` pages from `start`, or all of
/// the TLB when `count` is `u64::MAX`.
fn flush_local(start: u64, count: u64) {
    if count == u64::MAX {
        flush_all_local();
    } else {
        for i in 0..count {
            tlb::flush(VirtAddr::new(start + i * 4096));
        }
    }
}

/// Flushes this CPU's whole TLB, global entries included: with CR4.PGE on,
/// by turning it off and on again (kernel pages are global, so reloading
/// CR3 would keep them); with it off, by reloading CR3 (rewriting CR4 with
/// the same value would flush nothing).
pub(crate) fn flush_all_local() {
    let cr4 = Cr4::read();
    if cr4.contains(Cr4Flags::PAGE_GLOBAL) {
        // SAFETY: clearing and restoring PGE flushes the whole TLB; it
        // changes no mapping.
        unsafe {
            Cr4::write(cr4 - Cr4Flags::PAGE_GLOBAL);
            Cr4::write(cr4);
        }
    } else {
        tlb::flush_all();
    }
}

#[cfg(test)]
mod tests {
    use super::{FULL_FLUSH_PAGES, Flush};
    use x86_64::VirtAddr;
    use x86_64::structures::paging::Page;

    fn page(n: u64) -> Page {
        Page::containing_address(VirtAddr::new(0xffff_c000_0000_0000 + n * 4096))
    }

    #[test]
    fn consecutive_pages_stay_a_range() {
        let flush = (0..10).fold(Flush::Nothing, |f, n| f.with(page(n)));
        assert_eq!(flush, Flush::Pages { first: page(0), count: 10 });
    }

    #[test]
    fn scattered_or_many_pages_flush_everything() {
        assert_eq!(Flush::Nothing.with(page(0)).with(page(2)), Flush::All);
        assert_eq!(Flush::Nothing.with(page(1)).with(page(0)), Flush::All);
        let many = (0..=FULL_FLUSH_PAGES).fold(Flush::Nothing, |f, n| f.with(page(n)));
        assert_eq!(many, Flush::All);
        assert_eq!(Flush::All.with(page(3)), Flush::All);
    }
}
