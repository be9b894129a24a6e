//! What a heap measures about itself; identical for every policy.

use core::fmt;

use super::histogram::PauseHistogram;
use super::policy::Policy;

/// Why a pause happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseCause {
    /// An incremental step paying allocation debt.
    Pacing,
    /// The stop-the-world growth trigger fired.
    Growth,
    /// An allocation failed; a full collection is tried before giving up.
    AllocFailure,
    /// Someone asked for a full collection ([`Heap::collect`](super::Heap::collect)).
    Explicit,
    /// A step of the heap's background collector goroutine (`gc.background`).
    Background,
}

impl PauseCause {
    /// Short name for traces.
    pub const fn name(self) -> &'static str {
        match self {
            PauseCause::Pacing => "pacing",
            PauseCause::Growth => "growth",
            PauseCause::AllocFailure => "alloc-failure",
            PauseCause::Explicit => "explicit",
            PauseCause::Background => "background",
        }
    }
}

/// One pause: the time the heap was held by the collector in one go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    /// Start, in ns since kernel entry (the shim's clock).
    pub start_ns: u64,
    /// Length in ns.
    pub duration_ns: u64,
    /// Why it ran.
    pub cause: PauseCause,
    /// Collector work done: for an incremental step, the gc-arena work units
    /// it paid (about one object marked, traced or freed each); for a full
    /// collection, the objects it examined (those freed plus those live).
    pub work: u64,
    /// Objects freed in this pause.
    pub objects_freed: u64,
    /// Bytes freed in this pause (what the allocator got back).
    pub bytes_freed: u64,
    /// Collection cycles this pause completed (0, 1, or 2 for a full
    /// collection that first finished a cycle in progress).
    pub cycles_completed: u64,
}

/// How many recent pauses [`HeapStats::recent`] keeps.
pub const RECENT_PAUSES: usize = 32;

/// The most recent pauses, oldest first, in a fixed ring (no allocation).
#[derive(Clone, Copy, Debug)]
pub struct RecentPauses {
    ring: [Option<Pause>; RECENT_PAUSES],
    next: usize,
}

impl RecentPauses {
    const fn new() -> Self {
        Self { ring: [None; RECENT_PAUSES], next: 0 }
    }

    fn push(&mut self, pause: Pause) {
        self.ring[self.next] = Some(pause);
        self.next = (self.next + 1) % RECENT_PAUSES;
    }

    /// The kept pauses, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Pause> {
        let (newer, older) = self.ring.split_at(self.next);
        older.iter().chain(newer).flatten()
    }

    /// The latest pause.
    pub fn last(&self) -> Option<&Pause> {
        self.ring[(self.next + RECENT_PAUSES - 1) % RECENT_PAUSES].as_ref()
    }
}

/// A heap's statistics. Plain data: [`Heap::stats`](super::Heap::stats)
/// returns a copy.
#[derive(Clone, Copy, Debug)]
pub struct HeapStats {
    /// The heap's name.
    pub name: &'static str,
    /// Its policy.
    pub policy: Policy,
    /// Collection cycles completed.
    pub cycles: u64,
    /// Pause lengths (count, total, max, percentiles).
    pub pauses: PauseHistogram,
    /// The latest pauses, with their details.
    pub recent: RecentPauses,
    /// Pauses with each cause, indexed like [`PauseCause`]'s variants.
    pub pauses_by_cause: [u64; 5],
    /// Longest pause's work (see [`Pause::work`]).
    pub max_pause_work: u64,
    /// Objects allocated in the heap's scopes.
    pub objects_allocated: u64,
    /// Objects freed by the collector.
    pub objects_freed: u64,
    /// Objects allocated and not yet freed.
    pub objects_live: u64,
    /// Bytes the allocator handed out inside the heap's scopes (objects and
    /// what they own, such as a `Vec`'s buffer).
    pub bytes_allocated: u64,
    /// Bytes given back inside scopes and collections.
    pub bytes_freed: u64,
    /// Objects live right after the last completed cycle.
    pub objects_live_after_cycle: u64,
    /// Bytes live right after the last completed cycle.
    pub bytes_live_after_cycle: u64,
    /// Allocations refused (limit or memory exhausted).
    pub alloc_failures: u64,
    /// Time spent waiting for the heap lock, in ns.
    pub lock_wait_ns: u64,
    /// Times the lock was found held.
    pub lock_contended: u64,
}

impl HeapStats {
    /// Empty statistics for a new heap.
    pub(super) const fn new(name: &'static str, policy: Policy) -> Self {
        Self {
            name,
            policy,
            cycles: 0,
            pauses: PauseHistogram::new(),
            recent: RecentPauses::new(),
            pauses_by_cause: [0; 5],
            max_pause_work: 0,
            objects_allocated: 0,
            objects_freed: 0,
            objects_live: 0,
            bytes_allocated: 0,
            bytes_freed: 0,
            objects_live_after_cycle: 0,
            bytes_live_after_cycle: 0,
            alloc_failures: 0,
            lock_wait_ns: 0,
            lock_contended: 0,
        }
    }

    /// Bytes allocated and not yet given back.
    pub fn bytes_live(&self) -> u64 {
        self.bytes_allocated.saturating_sub(self.bytes_freed)
    }

    /// Total time in GC pauses, in ns.
    pub fn gc_time_ns(&self) -> u64 {
        self.pauses.total_ns()
    }

    /// Pauses with `cause`.
    pub fn pauses_with(&self, cause: PauseCause) -> u64 {
        self.pauses_by_cause[cause as usize]
    }

    pub(super) fn record_pause(&mut self, pause: Pause) {
        self.pauses.record(pause.duration_ns);
        self.recent.push(pause);
        self.pauses_by_cause[pause.cause as usize] += 1;
        self.max_pause_work = self.max_pause_work.max(pause.work);
        self.objects_freed += pause.objects_freed;
        self.bytes_freed += pause.bytes_freed;
        self.cycles += pause.cycles_completed;
    }
}

/// Microseconds with one decimal, for reports.
struct Micros(u64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}us", self.0 / 1000, self.0 % 1000 / 100)
    }
}

impl fmt::Display for HeapStats {
    /// One line: the `gcstats` summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.pauses;
        write!(
            f,
            "heap {} ({}): {} cycles, {} pauses, gc {} total; pause p50<={} p99<={} p99.9<={} max {}; \
             live {} objs {} KiB; allocated {} objs {} KiB; freed {} objs {} KiB; \
             {} alloc failures; lock wait {} ({} contended)",
            self.name,
            self.policy.name(),
            self.cycles,
            p.count(),
            Micros(p.total_ns()),
            Micros(p.percentile_ns(500)),
            Micros(p.percentile_ns(990)),
            Micros(p.percentile_ns(999)),
            Micros(p.max_ns()),
            self.objects_live,
            self.bytes_live() >> 10,
            self.objects_allocated,
            self.bytes_allocated >> 10,
            self.objects_freed,
            self.bytes_freed >> 10,
            self.alloc_failures,
            Micros(self.lock_wait_ns),
            self.lock_contended,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pause(start_ns: u64) -> Pause {
        Pause {
            start_ns,
            duration_ns: 10,
            cause: PauseCause::Pacing,
            work: 5,
            objects_freed: 2,
            bytes_freed: 64,
            cycles_completed: 0,
        }
    }

    #[test]
    fn recent_pauses_keep_the_newest_in_order() {
        let mut r = RecentPauses::new();
        assert!(r.last().is_none());
        for i in 0..(RECENT_PAUSES as u64 + 5) {
            r.push(pause(i));
        }
        let starts: Vec<u64> = r.iter().map(|p| p.start_ns).collect();
        assert_eq!(starts, (5..RECENT_PAUSES as u64 + 5).collect::<Vec<_>>());
        assert_eq!(r.last().unwrap().start_ns, RECENT_PAUSES as u64 + 4);
    }

    #[test]
    fn record_pause_accumulates() {
        let mut s = HeapStats::new("t", Policy::Incremental);
        s.record_pause(pause(1));
        s.record_pause(Pause { cause: PauseCause::Growth, cycles_completed: 1, work: 9, ..pause(2) });
        assert_eq!(s.pauses.count(), 2);
        assert_eq!(s.pauses_with(PauseCause::Pacing), 1);
        assert_eq!(s.pauses_with(PauseCause::Growth), 1);
        assert_eq!(s.cycles, 1);
        assert_eq!(s.objects_freed, 4);
        assert_eq!(s.max_pause_work, 9);
        assert!(s.to_string().contains("2 pauses"));
    }
}
