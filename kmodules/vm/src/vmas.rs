//! The set of a process's virtual memory areas: non-overlapping,
//! page-aligned ranges with their protection. Plain logic (host-tested);
//! the pages themselves are the address space's business (`crate::Vm`).

use alloc::collections::BTreeMap;

/// Page size.
pub const PAGE: u64 = 4096;

/// What user code may do with an area's pages (`PROT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prot {
    /// `PROT_READ`.
    pub read: bool,
    /// `PROT_WRITE`.
    pub write: bool,
    /// `PROT_EXEC`.
    pub exec: bool,
}

impl Prot {
    /// From `PROT_*` bits.
    pub fn from_bits(bits: u32) -> Prot {
        Prot { read: bits & 1 != 0, write: bits & 2 != 0, exec: bits & 4 != 0 }
    }

    /// `PROT_NONE`: no access at all.
    pub fn is_none(self) -> bool {
        !(self.read || self.write || self.exec)
    }
}

/// One area: `[start, end)` with one protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vma {
    /// First address (page-aligned).
    pub start: u64,
    /// One past the last address (page-aligned).
    pub end: u64,
    /// Access rights.
    pub prot: Prot,
}

/// A process's areas, keyed by start address.
#[derive(Clone, Default, Debug)]
pub struct VmaSet {
    areas: BTreeMap<u64, Vma>,
}

impl VmaSet {
    /// The area containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        let (_, vma) = self.areas.range(..=addr).next_back()?;
        (addr < vma.end).then_some(vma)
    }

    /// Whether any area overlaps `[start, end)`.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.areas.range(..end).next_back().is_some_and(|(_, vma)| vma.end > start)
    }

    /// Adds an area over a free range (the caller removed what was there).
    pub fn insert(&mut self, vma: Vma) {
        debug_assert!(!self.overlaps(vma.start, vma.end));
        self.areas.insert(vma.start, vma);
    }

    /// Removes the lowest piece of an area inside `[start, end)`, splitting
    /// an area that straddles an edge; returns it (`None`: nothing is
    /// left there). Repeated, it removes the whole range.
    pub fn take_first(&mut self, start: u64, end: u64) -> Option<Vma> {
        self.split_at(start);
        self.split_at(end);
        let (&key, _) = self.areas.range(start..end).next()?;
        self.areas.remove(&key)
    }

    /// The lowest area that ends above `addr` (to walk the areas one at a
    /// time).
    pub fn next_from(&self, addr: u64) -> Option<Vma> {
        if let Some(vma) = self.find(addr) {
            return Some(*vma);
        }
        self.areas.range(addr..).next().map(|(_, vma)| *vma)
    }

    /// Sets the protection of `[start, end)`, which must be fully covered
    /// by areas; returns false (nothing changed) if part of the range is
    /// unmapped.
    pub fn protect(&mut self, start: u64, end: u64, prot: Prot) -> bool {
        if !self.covers(start, end) {
            return false;
        }
        self.split_at(start);
        self.split_at(end);
        for vma in self.areas.range_mut(start..end).map(|(_, v)| v) {
            vma.prot = prot;
        }
        true
    }

    /// Whether areas cover every address of `[start, end)`.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.find(at) {
                Some(vma) => at = vma.end,
                None => return false,
            }
        }
        true
    }

    /// The highest free range of `len` bytes ending at or below `below`
    /// and starting at or above `floor`.
    pub fn find_free_below(&self, len: u64, below: u64, floor: u64) -> Option<u64> {
        let mut top = below;
        for (_, vma) in self.areas.range(..below).rev() {
            if vma.end <= top && top - vma.end >= len {
                break;
            }
            top = top.min(vma.start);
        }
        let start = top.checked_sub(len)?;
        (start >= floor).then_some(start)
    }

    /// Bytes the areas cover.
    pub fn total(&self) -> u64 {
        self.iter().map(|vma| vma.end - vma.start).sum()
    }

    /// Every area, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.areas.values()
    }

    fn split_at(&mut self, addr: u64) {
        let Some(vma) = self.find(addr).copied() else { return };
        if vma.start == addr {
            return;
        }
        self.areas.insert(vma.start, Vma { end: addr, ..vma });
        self.areas.insert(addr, Vma { start: addr, ..vma });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RW: Prot = Prot { read: true, write: true, exec: false };
    const R: Prot = Prot { read: true, write: false, exec: false };

    fn set(areas: &[(u64, u64)]) -> VmaSet {
        let mut set = VmaSet::default();
        for &(start, end) in areas {
            set.insert(Vma { start, end, prot: RW });
        }
        set
    }

    fn ranges(set: &VmaSet) -> Vec<(u64, u64)> {
        set.iter().map(|v| (v.start, v.end)).collect()
    }

    #[test]
    fn find_and_overlap_respect_half_open_ranges() {
        let set = set(&[(0x1000, 0x3000)]);
        assert!(set.find(0x0fff).is_none());
        assert_eq!(set.find(0x2fff).map(|v| v.start), Some(0x1000));
        assert!(set.find(0x3000).is_none());
        assert!(set.overlaps(0x2000, 0x4000));
        assert!(!set.overlaps(0x3000, 0x4000));
        assert!(!set.overlaps(0, 0x1000));
    }

    #[test]
    fn removal_splits_areas_at_the_edges() {
        let mut set = set(&[(0x1000, 0x5000), (0x6000, 0x8000)]);
        let removed: Vec<_> =
            core::iter::from_fn(|| set.take_first(0x2000, 0x7000)).map(|v| (v.start, v.end)).collect();
        assert_eq!(removed, [(0x2000, 0x5000), (0x6000, 0x7000)]);
        assert_eq!(ranges(&set), [(0x1000, 0x2000), (0x7000, 0x8000)]);
    }

    #[test]
    fn next_from_walks_the_areas() {
        let set = set(&[(0x1000, 0x3000), (0x5000, 0x6000)]);
        assert_eq!(set.next_from(0).map(|v| v.start), Some(0x1000));
        assert_eq!(set.next_from(0x2000).map(|v| v.start), Some(0x1000), "the area containing it");
        assert_eq!(set.next_from(0x3000).map(|v| v.start), Some(0x5000));
        assert_eq!(set.next_from(0x6000), None);
    }

    #[test]
    fn protect_changes_only_the_range_and_needs_full_coverage() {
        let mut set = set(&[(0x1000, 0x4000), (0x5000, 0x6000)]);
        assert!(!set.protect(0x3000, 0x6000, R), "a hole at 0x4000");
        assert_eq!(ranges(&set), [(0x1000, 0x4000), (0x5000, 0x6000)], "unchanged after a refusal");
        assert!(set.protect(0x2000, 0x3000, R));
        assert_eq!(ranges(&set), [(0x1000, 0x2000), (0x2000, 0x3000), (0x3000, 0x4000), (0x5000, 0x6000)]);
        assert_eq!(set.find(0x2000).unwrap().prot, R);
        assert_eq!(set.find(0x1000).unwrap().prot, RW);
        assert_eq!(set.find(0x3000).unwrap().prot, RW);
    }

    #[test]
    fn free_ranges_are_found_top_down_between_areas() {
        let set = set(&[(0x8000, 0x9000), (0xa000, 0xc000)]);
        assert_eq!(set.find_free_below(0x1000, 0x10000, 0), Some(0xf000));
        assert_eq!(set.find_free_below(0x5000, 0x10000, 0), Some(0x3000));
        assert_eq!(set.find_free_below(0x1000, 0xc000, 0), Some(0x9000), "the gap between the two areas");
        assert_eq!(set.find_free_below(0x9000, 0x10000, 0x1000), None, "below the floor");
    }
}
