//! The runtime's garbage-collected heap, built on gc-arena.
//!
//! A [`Heap`] owns one gc-arena arena behind a spin lock, so any CPU can use
//! it. Code reaches its objects only inside a scope — [`Heap::mutate`] — in
//! which `Gc` pointers are valid (gc-arena brands them with the scope's
//! `'gc` lifetime, so they cannot leak out). A scope never blocks or
//! switches goroutines; it is a safepoint: when it closes, nothing but the
//! root set points into the heap, so the collector can run with exact roots
//! and no stack scanning. What must outlive a scope is stashed as a
//! [`Handle`] (a gc-arena `DynamicRootSet` entry), which may be held across
//! blocking and goroutine switches and moved between CPUs.
//!
//! So a goroutine never holds a `Gc` pointer across a switch: a switch
//! can only happen outside a scope (a scope pins its goroutine: no
//! preemption, and blocking panics), and a `Gc` cannot get out of one. The
//! compiler rejects the attempt:
//!
//! ```compile_fail
//! use runtime::heap::{Heap, HeapConfig, Policy};
//! let heap = Heap::with_config("doc", HeapConfig::defaults(Policy::Incremental));
//! let number = heap.mutate(|scope| scope.alloc(7u32).unwrap()); // a Gc escapes
//! runtime::sched::yield_now(); // a goroutine switch
//! assert_eq!(*number, 7);
//! ```
//!
//! while holding the object through a [`Handle`] compiles:
//!
//! ```no_run
//! use runtime::heap::{Heap, HeapConfig, Policy, Root, Rootable};
//! let heap = Heap::with_config("doc", HeapConfig::defaults(Policy::Incremental));
//! let number = heap.mutate(|scope| scope.stash::<Rootable![u32]>(scope.alloc(7u32).unwrap()));
//! runtime::sched::yield_now(); // a goroutine switch
//! assert_eq!(heap.mutate(|scope| *scope.fetch(&number)), 7);
//! ```
//!
//! The same holds for a handle's own scope, [`Handle::with`]: the object
//! it lends cannot be kept past the closure,
//!
//! ```compile_fail
//! use runtime::heap::{Heap, HeapConfig, Policy, Rootable};
//! let heap = Heap::with_config("doc", HeapConfig::defaults(Policy::Incremental));
//! let handle = heap.mutate(|scope| scope.stash::<Rootable![u32]>(scope.alloc(7u32).unwrap()));
//! let number = handle.with(|_, number| number); // a Gc escapes
//! runtime::sched::yield_now();
//! assert_eq!(*number, 7);
//! ```
//!
//! while a value read from it can:
//!
//! ```no_run
//! use runtime::heap::{Heap, HeapConfig, Policy, Rootable};
//! let heap = Heap::with_config("doc", HeapConfig::defaults(Policy::Incremental));
//! let handle = heap.mutate(|scope| scope.stash::<Rootable![u32]>(scope.alloc(7u32).unwrap()));
//! let number = handle.with(|_, number| *number);
//! runtime::sched::yield_now();
//! assert_eq!(number, 7);
//! ```
//!
//! Collection happens only between scopes, as the heap's [`Policy`]
//! decides (a cargo feature picks it for the kernel's heaps): paced
//! incremental steps, a stop-the-world collection on growth, or never.
//! Every pause is measured the same way whatever the policy
//! ([`HeapStats`]). See docs/gc.md.

mod background;
pub mod census;
mod config;
mod histogram;
pub mod layout;
pub mod pause_log;
mod policy;
mod send;
mod stats;

#[cfg(feature = "ktest")]
mod ktests;
#[cfg(test)]
mod tests;

pub use background::ASSIST_STEPS;
pub use config::{DEFAULT_GROWTH_PERCENT, DEFAULT_MIN_TRIGGER_BYTES, DEFAULT_STEP_WORK, HeapConfig};
pub use gc_arena::arena::Root;
pub use gc_arena::lock::{GcLock, GcRefLock, Lock, RefLock};
pub use gc_arena::{Collect, Gc, GcWeak, Mutation, Rootable, Static};
pub use histogram::{BUCKETS, PauseHistogram};
pub use policy::{GrowthTrigger, Policy, Step, StepPacer};
pub use stats::{HeapStats, Pause, PauseCause, RECENT_PAUSES, RecentPauses};

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use gc_arena::arena::CollectionPhase;
use gc_arena::metrics::Pacing;
use gc_arena::{Arena, DynamicRootSet};
use shim::mem::heap::{Traffic, cpu_traffic, headroom};
#[cfg(target_os = "none")]
use shim::percpu::MAX_CPUS;
use shim::time::now_ns;
use spin::{Mutex, MutexGuard};

use send::{SendArena, SendRoot};

use crate::sched::{Pin, pin};

/// Allocation refused: the heap reached its limit or memory ran out. Maps
/// to ENOMEM at the system-call boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocError;

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GC heap out of memory")
    }
}

/// Rough size of gc-arena's per-object header, for the limit check only.
const OBJECT_HEADER_BYTES: u64 = 2 * size_of::<usize>() as u64;

/// gc-arena's pacing for the incremental policy: its defaults, except that
/// keeping a live object during the sweep is charged 0.25 work units
/// instead of 0.05. In the kernel each collector iteration also pays for a
/// soft-float debt check (the kernel target has no SSE), which makes a
/// "cheap" keep cost about as much as a mark; with the default, one step
/// could sweep 20 live objects per unit and run 5x past its time budget.
/// Every path of an object still costs under one unit per cycle, as
/// gc-arena requires (mark + trace + keep = 0.75, drop + free = 0.5).
const INCREMENTAL_PACING: Pacing = Pacing { keep_factor: 0.25, mark_factor: 0.2, trace_factor: 0.3, ..Pacing::DEFAULT };

/// A garbage-collected heap. Cloning gives another reference to the same
/// heap.
#[derive(Clone)]
pub struct Heap {
    shared: Arc<Shared>,
}

/// What a heap and its handles share.
struct Shared {
    /// Unique among the heaps of this boot (for reports).
    id: u64,
    state: Mutex<State>,
    /// Handles dropped while the lock was held elsewhere, released by the
    /// next locker.
    deferred: Mutex<Vec<Box<dyn Send>>>,
    has_deferred: AtomicBool,
    /// The background collector, if the heap has one.
    collector: spin::Once<Arc<background::Collector>>,
}

/// Every heap of this boot, for [`Heap::all`] (dead entries are pruned
/// when a heap is created).
static REGISTRY: spin::Mutex<Vec<Weak<Shared>>> = spin::Mutex::new(Vec::new());
static NEXT_HEAP_ID: AtomicU64 = AtomicU64::new(1);

/// Per CPU, the id of the heap whose lock that CPU holds (0: none). A
/// holder is pinned, so the entry belongs to the one goroutine running
/// there; taking a second heap lock is a nested scope, which the design
/// forbids (see [`Heap::mutate`]).
#[cfg(target_os = "none")]
static HOLDING: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// The locked part of a heap.
struct State {
    arena: SendArena,
    config: HeapConfig,
    stats: HeapStats,
    cycle: CycleTally,
    /// The heap's allocator traffic so far (its part of the census).
    traffic: Traffic,
}

/// Pauses and frees within the current cycle, for `gctrace`.
#[derive(Default)]
struct CycleTally {
    pauses: u64,
    pause_ns: u64,
    max_pause_ns: u64,
    objects_freed: u64,
    bytes_freed: u64,
}

/// A scope of `heap` running `f`, then the policy's turn ([`Heap::mutate`]).
fn scoped<'h, T>(heap: &'h Arc<Shared>, f: impl for<'gc> FnOnce(&Scope<'h, 'gc>) -> T) -> T {
    let mut state = heap.lock();
    let (out, outcome) = state.scope(heap, f);
    heap.collect_after_scope(state, outcome);
    out
}

/// What a scope did, for the policy's turn after it.
#[derive(Clone, Copy)]
struct Outcome {
    /// An allocation was refused.
    alloc_failed: bool,
    /// New objects were allocated.
    allocated_objects: bool,
}

/// What a pause compares against when it ends.
struct PauseStart {
    ns: u64,
    objects: u64,
    traffic: Traffic,
}

impl Heap {
    /// A heap named `name` (for reports) with the kernel's settings: the
    /// active policy, tuned by the boot command line.
    pub fn new(name: &'static str) -> Self {
        Self::with_config(name, HeapConfig::from_cmdline())
    }

    /// A heap with explicit settings (tests and experiments).
    pub fn with_config(name: &'static str, config: HeapConfig) -> Self {
        pause_log::configure_from_cmdline();
        // The heap's own structures (arena, root set, statistics) are part
        // of what the GC manages: the census counts them to the heap, and
        // they are freed with it. Pinned, so the traffic is this CPU's.
        let pin = pin();
        let start = cpu_traffic();
        let arena = Arena::new(|mc| DynamicRootSet::new(mc));
        let pacing = match config.policy {
            Policy::Incremental => INCREMENTAL_PACING,
            // These never let gc-arena pace; it only runs full cycles.
            Policy::StopTheWorld | Policy::None => Pacing::STOP_THE_WORLD,
        };
        arena.metrics().set_pacing(pacing);
        let objects = arena.metrics().total_gc_count() as u64;
        let mut stats = HeapStats::new(name, config.policy);
        stats.objects_live = objects;
        let state =
            State { arena: SendArena(arena), config, stats, cycle: CycleTally::default(), traffic: Traffic::default() };
        let mut shared = Arc::new(Shared {
            id: NEXT_HEAP_ID.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(state),
            deferred: Mutex::new(Vec::new()),
            has_deferred: AtomicBool::new(false),
            collector: spin::Once::new(),
        });
        let own = traffic_since(start);
        census::add(own);
        if let Some(unique) = Arc::get_mut(&mut shared) {
            unique.state.get_mut().traffic = own;
        }
        {
            let _pin = pin;
            let mut registry = REGISTRY.lock();
            registry.retain(|heap| heap.strong_count() > 0);
            registry.push(Arc::downgrade(&shared));
        }
        // A background collector needs the scheduler; without it (or
        // without memory for the goroutine) the heap collects inline.
        if config.background && config.policy == Policy::Incremental && crate::sched::current_id().is_some() {
            match background::start(&shared, name) {
                Ok(collector) => drop(shared.collector.call_once(|| collector)),
                Err(error) => log::warn!("heap {name}: no background collector ({error}); collecting inline"),
            }
        }
        Self { shared }
    }

    /// Every live heap, oldest first.
    pub fn all() -> Vec<Heap> {
        let _pin = pin();
        let registry = REGISTRY.lock();
        registry.iter().filter_map(Weak::upgrade).map(|shared| Heap { shared }).collect()
    }

    /// The heap's id, unique in this boot.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// Whether a background collector goroutine collects this heap.
    pub fn has_background_collector(&self) -> bool {
        self.shared.collector.get().is_some()
    }

    /// Runs `f` in a scope of this heap and returns its result; then lets
    /// the policy collect. `f` must not block, switch goroutines or open a
    /// scope of any heap: scopes never nest (so heaps need no lock order,
    /// and code works the same whether two heaps are one, as under the
    /// global [`layout`]). A nested scope panics.
    ///
    /// An allocation that fails inside `f` ([`Scope::alloc`] returning
    /// [`AllocError`]) makes the heap run a full collection when `f`
    /// returns (except under [`Policy::None`]); see also
    /// [`Heap::try_mutate`].
    pub fn mutate<'h, T>(&'h self, f: impl for<'gc> FnOnce(&Scope<'h, 'gc>) -> T) -> T {
        scoped(&self.shared, f)
    }

    /// Runs `f` in a scope of this heap and one of `other` at once (the
    /// one exception to scopes never nesting, for copying objects from one
    /// heap into another: `fork` copying a process's state into the
    /// child's heap). The locks are taken in heap-id order, so two pairs
    /// cannot deadlock; if both are one heap (the global layout), `f` gets
    /// the same scope twice. Then each heap's policy collects. `f` must not
    /// block or open another scope.
    pub fn mutate_pair<'h, T>(
        &'h self,
        other: &'h Heap,
        f: impl for<'a, 'b> FnOnce(&Scope<'h, 'a>, &Scope<'h, 'b>) -> T,
    ) -> T {
        if Arc::ptr_eq(&self.shared, &other.shared) {
            return self.mutate(|scope| f(scope, scope));
        }
        let self_first = self.shared.id < other.shared.id;
        let (first, second) = if self_first { (&self.shared, &other.shared) } else { (&other.shared, &self.shared) };
        let mut outer = first.lock();
        let mut inner = second.lock_inside(first);
        let nested = Cell::new(Traffic::default());
        let ((out, inner_outcome), outer_outcome) = outer.scope_excluding(first, &nested, |a| {
            let start = cpu_traffic();
            let result = inner.scope(second, |b| if self_first { f(a, b) } else { f(b, a) });
            nested.set(traffic_since(start));
            result
        });
        drop(inner);
        drop(outer);
        first.collect_after_scope(first.lock(), outer_outcome);
        second.collect_after_scope(second.lock(), inner_outcome);
        out
    }

    /// Like [`mutate`](Heap::mutate) for a scope that may fail to allocate:
    /// on [`AllocError`] the heap runs a full collection and runs `f` once
    /// more, and only a second failure is returned. `f` must therefore be
    /// safe to repeat: allocate first, link into reachable objects last.
    /// Under [`Policy::None`] nothing is collected and the first failure is
    /// returned.
    pub fn try_mutate<'h, T>(
        &'h self,
        mut f: impl for<'gc> FnMut(&Scope<'h, 'gc>) -> Result<T, AllocError>,
    ) -> Result<T, AllocError> {
        match self.mutate(&mut f) {
            Err(AllocError) if self.policy() != Policy::None => self.mutate(f),
            result => result,
        }
    }

    /// Runs a full collection now (cause [`PauseCause::Explicit`]), under
    /// any policy.
    pub fn collect(&self) {
        self.shared.lock().collect_full(PauseCause::Explicit);
    }

    /// A copy of the heap's statistics.
    pub fn stats(&self) -> HeapStats {
        self.shared.lock().stats
    }

    /// The heap's policy.
    pub fn policy(&self) -> Policy {
        self.shared.lock().config.policy
    }

    /// Prints the statistics summary on the console (`gcstats`).
    pub fn print_stats(&self) {
        let stats = self.stats();
        shim::println!("gcstats: {stats}");
    }
}

impl Drop for Shared {
    /// The heap is released whole: its arena frees every object it still
    /// holds, without tracing.
    fn drop(&mut self) {
        if let Some(collector) = self.collector.get() {
            collector.close();
        }
        let traffic = self.state.get_mut().traffic;
        census::add(Traffic {
            freed: traffic.allocated.saturating_sub(traffic.freed),
            frees: traffic.allocs.saturating_sub(traffic.frees),
            ..Traffic::default()
        });
    }
}

/// The heap lock, held; the goroutine holding it is pinned to its CPU
/// (never preempted), because other goroutines of that CPU may spin on it.
struct Locked<'a> {
    guard: MutexGuard<'a, State>,
    /// Whether this is the CPU's outermost heap lock (which the nesting
    /// check notes), not the second of a pair.
    #[cfg(target_os = "none")]
    outermost: bool,
    /// Dropped after `guard` (field order), so a preemption the pin held
    /// back happens after the lock is free.
    _pin: Pin,
}

impl Deref for Locked<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.guard
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.guard
    }
}

#[cfg(target_os = "none")]
impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if self.outermost {
            HOLDING[shim::percpu::index()].store(0, Ordering::Relaxed);
        }
    }
}

impl Shared {
    /// Takes the heap lock, timing any wait, and releases deferred handles.
    fn lock(&self) -> Locked<'_> {
        self.check_not_nested();
        let locked = self.lock_unchecked(true);
        #[cfg(target_os = "none")]
        HOLDING[shim::percpu::index()].store(self.id, Ordering::Relaxed);
        locked
    }

    /// Takes the lock as the second of a pair, while this CPU holds
    /// `outer`'s, which must have the lower id (the pair lock order).
    fn lock_inside(&self, outer: &Shared) -> Locked<'_> {
        #[cfg(target_os = "none")]
        {
            let held = HOLDING[shim::percpu::index()].load(Ordering::Relaxed);
            assert!(held == outer.id && outer.id < self.id, "heap pair locked out of order ({held} then {})", self.id);
        }
        #[cfg(not(target_os = "none"))]
        let _ = outer;
        self.lock_unchecked(false)
    }

    fn lock_unchecked(&self, outermost: bool) -> Locked<'_> {
        assert!(!shim::percpu::in_interrupt(), "GC heap used in an interrupt handler");
        #[cfg(not(target_os = "none"))]
        let _ = outermost;
        let pin = pin();
        let new = |guard| Locked {
            guard,
            #[cfg(target_os = "none")]
            outermost,
            _pin: pin,
        };
        let mut locked = match self.state.try_lock() {
            Some(guard) => new(guard),
            None => {
                let start = now_ns();
                let mut locked = new(self.state.lock());
                locked.stats.lock_wait_ns += now_ns() - start;
                locked.stats.lock_contended += 1;
                locked
            }
        };
        if self.has_deferred.swap(false, Ordering::Acquire) {
            let released = core::mem::take(&mut *self.deferred.lock());
            drop(released);
        }
        locked.stats.objects_live = locked.objects();
        locked
    }

    /// Panics if this CPU already holds a heap lock: holders are pinned,
    /// so that can only be a scope nested in a scope (of this heap: a
    /// certain deadlock; of another: a lock order the design forbids).
    fn check_not_nested(&self) {
        #[cfg(target_os = "none")]
        {
            let cpu = shim::percpu::index();
            let held = HOLDING[cpu].load(Ordering::Relaxed);
            assert!(
                held == 0,
                "GC heap scope opened inside a scope (CPU {cpu} holds heap {held}, wants heap {}): scopes never nest",
                self.id
            );
        }
    }

    /// Drops a handle's root under the lock, or queues it for the next
    /// locker when the lock is busy (possibly by the dropping code itself).
    fn release<T: Send + 'static>(&self, root: T) {
        // Both locks are spin locks a pinned scope may wait on: never be
        // preempted while holding one.
        let _pin = pin();
        match self.state.try_lock() {
            Some(guard) => {
                drop(root);
                drop(guard);
            }
            None => {
                self.deferred.lock().push(Box::new(root));
                self.has_deferred.store(true, Ordering::Release);
            }
        }
    }

    /// The policy's turn after a scope closed.
    fn collect_after_scope<'a>(&'a self, mut state: Locked<'a>, outcome: Outcome) {
        let config = state.config;
        match config.policy {
            Policy::None => {}
            _ if outcome.alloc_failed => state.collect_full(PauseCause::AllocFailure),
            // gc-arena's debt grows only with new objects: a scope that made
            // none leaves it as the last check left it, so the pacing (soft
            // floating point in this kernel, over a thousand instructions)
            // has nothing new to decide.
            Policy::Incremental if !outcome.allocated_objects => {}
            Policy::StopTheWorld => {
                if config.trigger.due(state.stats.bytes_live_after_cycle, state.stats.bytes_live()) {
                    state.collect_full(PauseCause::Growth);
                }
            }
            Policy::Incremental => {
                // Pay the debt (with a background collector: only what is
                // above its allowance), one bounded pause at a time, letting
                // other CPUs in between pauses.
                let collector = self.collector.get();
                let floor = if collector.is_some() { config.pacer.bound * ASSIST_STEPS } else { 0.0 };
                let mut steps_left = config.pacer.step_limit(state.debt());
                while let Some(step) = config.pacer.plan_above(state.debt(), floor) {
                    state.step(step, PauseCause::Pacing);
                    steps_left -= 1;
                    if steps_left == 0 {
                        break;
                    }
                    drop(state);
                    state = self.lock();
                }
                if let Some(collector) = collector
                    && config.pacer.plan(state.debt()).is_some()
                {
                    collector.signal();
                }
            }
        }
    }

    /// The background collector's turn: pays the debt in bounded steps,
    /// yielding to other goroutines between them.
    fn pay_debt_in_background(&self) {
        let mut steps_left = None;
        loop {
            let mut state = self.lock();
            let pacer = state.config.pacer;
            let debt = state.debt();
            let left = steps_left.get_or_insert_with(|| pacer.step_limit(debt));
            let Some(step) = pacer.plan(debt) else { return };
            state.step(step, PauseCause::Background);
            drop(state);
            *left -= 1;
            if *left == 0 {
                return;
            }
            crate::sched::yield_now();
        }
    }
}

impl State {
    fn objects(&self) -> u64 {
        self.arena.0.metrics().total_gc_count() as u64
    }

    fn debt(&self) -> f64 {
        self.arena.0.metrics().allocation_debt()
    }

    /// Runs `f` in a gc-arena `mutate` and accounts for what it allocated.
    /// Returns `f`'s result and what the scope did.
    fn scope<'h, T>(&mut self, heap: &'h Arc<Shared>, f: impl for<'gc> FnOnce(&Scope<'h, 'gc>) -> T) -> (T, Outcome) {
        self.scope_excluding(heap, &Cell::new(Traffic::default()), f)
    }

    /// [`scope`](Self::scope), not counting the traffic that `f` reports
    /// in `nested` (a scope of another heap inside `f`, which counts its
    /// own).
    fn scope_excluding<'h, T>(
        &mut self,
        heap: &'h Arc<Shared>,
        nested: &Cell<Traffic>,
        f: impl for<'gc> FnOnce(&Scope<'h, 'gc>) -> T,
    ) -> (T, Outcome) {
        let objects_before = self.objects();
        let start = cpu_traffic();
        let room = self.config.limit_bytes.map_or(u64::MAX, |limit| limit.saturating_sub(self.stats.bytes_live()));
        let (out, failures) = self.arena.0.mutate(|mc, roots| {
            let scope = Scope { heap, mc, roots, start, room, failures: Cell::new(0) };
            let out = f(&scope);
            (out, scope.failures.get())
        });
        let used = traffic_since(start).since(nested.get());
        census::add(used);
        self.traffic = self.traffic.plus(used);
        let objects = self.objects();
        let stats = &mut self.stats;
        stats.objects_allocated += objects.saturating_sub(objects_before);
        stats.objects_live = objects;
        stats.bytes_allocated += used.allocated;
        stats.bytes_freed += used.freed;
        stats.alloc_failures += failures;
        (out, Outcome { alloc_failed: failures > 0, allocated_objects: objects > objects_before })
    }

    fn pause_start(&self) -> PauseStart {
        PauseStart { ns: now_ns(), objects: self.objects(), traffic: cpu_traffic() }
    }

    /// One bounded incremental step.
    fn step(&mut self, step: Step, cause: PauseCause) {
        let start = self.pause_start();
        // gc-arena pays debt until none is left: hide the deferred part.
        self.arena.0.metrics().adjust_debt(-step.defer);
        self.arena.0.cycle_debt();
        let cycle_done = self.arena.0.collection_phase() == CollectionPhase::Sleeping;
        if !cycle_done {
            self.arena.0.metrics().adjust_debt(step.defer);
        }
        // A finished cycle drops what was deferred: the next one starts
        // with a fresh sleep, as gc-arena's pacing intends.
        self.finish_pause(start, cause, step.pay as u64, u64::from(cycle_done));
    }

    /// A whole collection in one pause: finishes a cycle in progress (whose
    /// newest objects it may keep), then runs one complete cycle.
    fn collect_full(&mut self, cause: PauseCause) {
        let start = self.pause_start();
        let mut cycles = 1;
        if self.arena.0.collection_phase() != CollectionPhase::Sleeping {
            self.arena.0.finish_cycle();
            cycles += 1;
        }
        self.arena.0.finish_cycle();
        let examined = start.objects;
        self.finish_pause(start, cause, examined, cycles);
    }

    fn finish_pause(&mut self, start: PauseStart, cause: PauseCause, work: u64, cycles: u64) {
        let end = now_ns();
        let traffic = traffic_since(start.traffic);
        census::add(traffic);
        self.traffic = self.traffic.plus(traffic);
        let objects = self.objects();
        // The collector's own bookkeeping may allocate (its gray queue):
        // count the pause's net effect.
        let bytes_freed = traffic.freed.saturating_sub(traffic.allocated);
        self.stats.bytes_allocated += traffic.allocated.saturating_sub(traffic.freed);
        let pause = Pause {
            start_ns: start.ns,
            duration_ns: end - start.ns,
            cause,
            work,
            objects_freed: start.objects.saturating_sub(objects),
            bytes_freed,
            cycles_completed: cycles,
        };
        self.stats.record_pause(pause);
        pause_log::record(self.stats.name, pause);
        self.stats.objects_live = objects;
        let tally = &mut self.cycle;
        tally.pauses += 1;
        tally.pause_ns += pause.duration_ns;
        tally.max_pause_ns = tally.max_pause_ns.max(pause.duration_ns);
        tally.objects_freed += pause.objects_freed;
        tally.bytes_freed += pause.bytes_freed;
        if self.config.trace >= 2 {
            shim::println!(
                "gc pause {} {}: {} ns, work {}, freed {} objs {} B",
                self.stats.name,
                cause.name(),
                pause.duration_ns,
                work,
                pause.objects_freed,
                pause.bytes_freed
            );
        }
        if cycles > 0 {
            self.end_cycle();
        }
    }

    fn end_cycle(&mut self) {
        self.stats.objects_live_after_cycle = self.stats.objects_live;
        self.stats.bytes_live_after_cycle = self.stats.bytes_live();
        let tally = core::mem::take(&mut self.cycle);
        if self.config.trace >= 1 {
            let s = &self.stats;
            shim::println!(
                "gc {} @{}ms heap {} ({}): {} pauses {} us total, max {} us; freed {} objs {} KiB; live {} objs {} KiB",
                s.cycles,
                now_ns() / 1_000_000,
                s.name,
                s.policy.name(),
                tally.pauses,
                tally.pause_ns / 1000,
                tally.max_pause_ns / 1000,
                tally.objects_freed,
                tally.bytes_freed >> 10,
                s.objects_live_after_cycle,
                s.bytes_live_after_cycle >> 10,
            );
        }
    }
}

/// Allocator traffic on this CPU since `start` (taken on this CPU: scopes
/// and pauses do not migrate).
fn traffic_since(start: Traffic) -> Traffic {
    cpu_traffic().since(start)
}

/// A scope of a heap: inside it, `Gc` pointers of lifetime `'gc` are
/// valid. Obtained from [`Heap::mutate`].
pub struct Scope<'h, 'gc> {
    heap: &'h Arc<Shared>,
    mc: &'gc Mutation<'gc>,
    roots: &'gc DynamicRootSet<'gc>,
    /// Allocator traffic when the scope opened.
    start: Traffic,
    /// Bytes the scope may add before reaching the heap's limit.
    room: u64,
    failures: Cell<u64>,
}

impl<'h, 'gc> Scope<'h, 'gc> {
    /// gc-arena's mutation context: for write barriers (`Gc::write`,
    /// `RefLock::borrow_mut`, `Lock::set`) and gc-arena APIs.
    pub fn mc(&self) -> &'gc Mutation<'gc> {
        self.mc
    }

    /// Allocates `value` in the heap, or refuses with [`AllocError`] when
    /// that would pass the heap's limit or exhaust memory.
    pub fn alloc<T: Collect<'gc> + 'gc>(&self, value: T) -> Result<Gc<'gc, T>, AllocError> {
        self.reserve(size_of::<T>() as u64 + OBJECT_HEADER_BYTES)?;
        Ok(Gc::new(self.mc, value))
    }

    /// Checks that `bytes` more can be allocated in this scope (for memory
    /// an object owns, such as a `Vec` about to grow). A refusal counts as
    /// an allocation failure.
    pub fn reserve(&self, bytes: u64) -> Result<(), AllocError> {
        let used = traffic_since(self.start);
        let grown = used.allocated.saturating_sub(used.freed);
        if grown.saturating_add(bytes) > self.room || bytes > headroom() {
            self.failures.set(self.failures.get() + 1);
            return Err(AllocError);
        }
        Ok(())
    }

    /// Keeps `object` alive beyond this scope: the returned handle is a
    /// root until it is dropped.
    pub fn stash<R: for<'a> Rootable<'a> + 'static>(&self, object: Gc<'gc, Root<'gc, R>>) -> Handle<R> {
        let root = SendRoot(self.roots.stash::<R>(self.mc, object));
        Handle(Arc::new(Rooted { heap: Arc::clone(self.heap), root: Some(root) }))
    }

    /// The object behind `handle`.
    ///
    /// # Panics
    /// If `handle` belongs to another heap.
    pub fn fetch<R: for<'a> Rootable<'a> + 'static>(&self, handle: &Handle<R>) -> Gc<'gc, Root<'gc, R>> {
        assert!(Arc::ptr_eq(&handle.0.heap, self.heap), "GC handle used in a scope of another heap");
        let root = handle.0.root.as_ref().expect("a live handle holds its root");
        self.roots.fetch(&root.0)
    }
}

/// A root: keeps one object (and what it reaches) alive across scopes.
/// May be held across blocking and moved between CPUs; clones share the
/// one root (cloning takes no lock, so it works inside any scope), and
/// dropping the last lets the object be collected. `R` names the object's
/// type with gc-arena's `Rootable!` macro, e.g.
/// `Handle<Rootable![RefLock<Node<'_>>]>`.
pub struct Handle<R: for<'a> Rootable<'a> + 'static>(Arc<Rooted<R>>);

/// The root-set entry the clones of a [`Handle`] share. Its `Arc` is
/// allocated in the scope that stashes the object, so the census counts it
/// to the heap, like the root-set slot itself.
struct Rooted<R: for<'a> Rootable<'a> + 'static> {
    heap: Arc<Shared>,
    /// Always `Some` until dropped.
    root: Option<SendRoot<R>>,
}

impl<R: for<'a> Rootable<'a> + 'static> Handle<R> {
    /// Runs `f` in a scope of the handle's heap with the object: typed,
    /// scoped access for code that holds the handle (the same rules as
    /// [`Heap::mutate`]: `f` must not block or open another scope).
    pub fn with<T>(&self, f: impl for<'gc> FnOnce(&Scope<'_, 'gc>, Gc<'gc, Root<'gc, R>>) -> T) -> T {
        scoped(&self.0.heap, |scope| f(scope, scope.fetch(self)))
    }

    /// The heap the object lives in.
    pub fn heap(&self) -> Heap {
        Heap { shared: Arc::clone(&self.0.heap) }
    }
}

impl<R: for<'a> Rootable<'a> + 'static> Clone for Handle<R> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<R: for<'a> Rootable<'a> + 'static> Drop for Rooted<R> {
    fn drop(&mut self) {
        if let Some(root) = self.root.take() {
            self.heap.release(root);
        }
    }
}
