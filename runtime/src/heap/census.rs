//! The census: how much of the kernel heap's traffic is GC-managed.
//!
//! Every allocation goes through the shim's allocator, which counts bytes
//! and blocks per CPU ([`shim::mem::heap::cpu_traffic`]). A heap scope or a
//! collector pause cannot migrate, so the difference of two readings around
//! it is exactly its traffic: that is *managed* (objects, and the memory
//! they own, such as a pipe's ring). A heap released whole frees its live
//! bytes with it. Everything else the allocator sees is *plain*: `Arc`s,
//! `Box`es and `Vec`s outside any heap (the runtime's own goroutine and
//! wait-queue structures, the shim's, and kernel objects not yet moved into
//! a heap). Page frames (user memory, page tables, kernel stacks) do not
//! come from this allocator and are not counted.
//!
//! One known bias: a block allocated inside a scope and freed outside one
//! (a result the scope returns) counts as a managed allocation and a plain
//! free. Scopes therefore return plain data or write into buffers their
//! caller allocated.

use core::sync::atomic::{AtomicU64, Ordering};

use shim::mem::heap::{Traffic, total_traffic};

/// Managed traffic of all heaps since boot: bytes allocated and freed,
/// blocks allocated and freed.
static MANAGED: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// Adds a scope's or a pause's traffic to the managed side.
pub(super) fn add(traffic: Traffic) {
    let fields = [traffic.allocated, traffic.freed, traffic.allocs, traffic.frees];
    for (counter, value) in MANAGED.iter().zip(fields) {
        if value != 0 {
            counter.fetch_add(value, Ordering::Relaxed);
        }
    }
}

/// The kernel heap's traffic split into managed and plain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    /// Inside GC heaps: scopes, collections, heaps released whole.
    pub managed: Traffic,
    /// Everything else.
    pub plain: Traffic,
}

/// The census since boot. Other CPUs may be allocating while it is read,
/// so the split is exact only on a quiet machine.
pub fn snapshot() -> Census {
    let [allocated, freed, allocs, frees] = MANAGED.each_ref().map(|c| c.load(Ordering::Relaxed));
    let managed = Traffic { allocated, freed, allocs, frees };
    Census { managed, plain: total_traffic().since(managed) }
}

impl Census {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: Census) -> Census {
        Census { managed: self.managed.since(earlier.managed), plain: self.plain.since(earlier.plain) }
    }

    /// The managed share of allocated bytes, in per mille (1000 when
    /// nothing was allocated).
    pub fn managed_permille(&self) -> u64 {
        let total = self.managed.allocated + self.plain.allocated;
        (self.managed.allocated * 1000).checked_div(total).unwrap_or(1000)
    }
}

/// Bytes and blocks allocated and not yet freed (saturating at zero: see
/// the module's note on blocks that change sides).
pub fn live(traffic: Traffic) -> (u64, u64) {
    (traffic.allocated.saturating_sub(traffic.freed), traffic.allocs.saturating_sub(traffic.frees))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traffic(allocated: u64, freed: u64) -> Traffic {
        Traffic { allocated, freed, allocs: allocated / 8, frees: freed / 8 }
    }

    #[test]
    fn share_and_window() {
        let before = Census { managed: traffic(800, 80), plain: traffic(200, 16) };
        let after = Census { managed: traffic(1800, 80), plain: traffic(200, 16) };
        assert_eq!(before.managed_permille(), 800);
        let window = after.since(before);
        assert_eq!(window.managed.allocated, 1000);
        assert_eq!(window.plain.allocated, 0);
        assert_eq!(window.managed_permille(), 1000);
        assert_eq!(Census::default().managed_permille(), 1000);
        assert_eq!(live(traffic(80, 160)), (0, 0));
        assert_eq!(live(traffic(160, 80)), (80, 10));
    }
}
