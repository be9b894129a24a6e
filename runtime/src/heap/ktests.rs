//! In-kernel tests of the GC heap, run under the policy the kernel was
//! built with (`cargo xtask test --gc all` runs them under each). They
//! print pause figures as `ktest: note` lines.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use shim::ktest;
use shim::mem::heap as kernel_heap;

use super::*;

/// Nodes dropped by the collector so far (all tests).
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Counts its node's drop.
struct Probe;

impl Drop for Probe {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Collect)]
#[collect(no_drop)]
struct Node<'gc> {
    value: u64,
    payload: Vec<u8>,
    next: Option<NodeRef<'gc>>,
    probe: Static<Probe>,
}

type NodeRef<'gc> = GcRefLock<'gc, Node<'gc>>;
type NodeRoot = Rootable![RefLock<Node<'_>>];

/// A node owning `payload` bytes, both checked against the heap's limit.
fn node<'gc>(
    s: &Scope<'_, 'gc>,
    value: u64,
    payload: usize,
    next: Option<NodeRef<'gc>>,
) -> Result<NodeRef<'gc>, AllocError> {
    s.reserve(payload as u64)?;
    s.alloc(RefLock::new(Node { value, payload: vec![value as u8; payload], next, probe: Static(Probe) }))
}

/// A list of `len` nodes with values `0..len`, held by the returned handle.
fn build_list(heap: &Heap, len: u64) -> Handle<NodeRoot> {
    heap.mutate(|s| {
        let mut head = None;
        for value in (0..len).rev() {
            head = Some(node(s, value, 16, head).expect("room for the list"));
        }
        s.stash::<NodeRoot>(head.expect("non-empty list"))
    })
}

/// Walks the list: (length, sum of values), checking every payload.
fn walk(heap: &Heap, list: &Handle<NodeRoot>) -> (u64, u64) {
    heap.mutate(|s| {
        let (mut len, mut sum) = (0, 0);
        let mut cursor = Some(s.fetch(list));
        while let Some(n) = cursor {
            let n = n.borrow();
            assert!(n.payload.iter().all(|&b| b == n.value as u8), "payload of node {} corrupted", n.value);
            len += 1;
            sum += n.value;
            cursor = n.next;
        }
        (len, sum)
    })
}

/// One round of churn: `count` garbage nodes of 64 payload bytes, and one
/// list node's payload replaced (old buffer freed, new one owned).
fn churn_round(heap: &Heap, list: &Handle<NodeRoot>, round: u64, count: u64) {
    heap.mutate(|s| {
        for i in 0..count {
            node(s, i, 64, None).expect("no limit on this heap");
        }
        let mut cursor = s.fetch(list);
        for _ in 0..round % 64 {
            let next = cursor.borrow().next;
            cursor = next.expect("list longer than 64");
        }
        let mut n = cursor.borrow_mut(s.mc());
        n.payload = vec![n.value as u8; 16 + (round % 32) as usize];
    });
}

ktest! {
    fn gc_list_survives_churn_and_memory_stays_bounded() {
        const LEN: u64 = 2000;
        const ROUNDS: u64 = 400;
        const PER_ROUND: u64 = 100;
        let heap = Heap::new("ktest-churn");
        let list = build_list(&heap, LEN);
        let expected = (LEN, LEN * (LEN - 1) / 2);
        // Kernel heap bytes in use, not mapped: an earlier test may have left
        // mapped headroom that hides growth.
        let mut in_use_warm = 0;
        for round in 0..ROUNDS {
            churn_round(&heap, &list, round, PER_ROUND);
            if round == 40 {
                in_use_warm = kernel_heap::stats().allocated as u64;
            }
            if round % 50 == 0 {
                assert_eq!(walk(&heap, &list), expected, "list damaged in round {round}");
            }
        }
        assert_eq!(walk(&heap, &list), expected);
        let growth = (kernel_heap::stats().allocated as u64).saturating_sub(in_use_warm);
        let stats = heap.stats();
        ktest::note(format_args!("{stats}"));
        ktest::note(format_args!(
            "kernel heap in use grew {} KiB after warm-up; the GC heap allocated {} KiB in all",
            growth >> 10,
            stats.bytes_allocated >> 10
        ));
        if stats.policy == Policy::None {
            assert_eq!(stats.cycles, 0);
            assert_eq!(stats.objects_freed, 0);
            assert!(stats.objects_live >= LEN + ROUNDS * PER_ROUND);
            assert!(growth >= 2 << 20, "garbage is never freed, yet kernel heap use did not grow: {growth} bytes");
        } else {
            assert!(stats.cycles >= 2, "{stats}");
            assert!(stats.objects_freed >= (ROUNDS - 40) * PER_ROUND, "{stats}");
            assert!(growth <= 1 << 20, "heap grew {growth} bytes under churn: memory is not reused ({stats})");
        }
    }
}

ktest! {
    fn gc_handle_keeps_object_across_scopes() {
        let heap = Heap::new("ktest-roots");
        let before = DROPPED.load(Ordering::Relaxed);
        let handle = heap.mutate(|s| s.stash::<NodeRoot>(node(s, 42, 8, None).unwrap()));
        for _ in 0..3 {
            heap.mutate(|s| {
                for i in 0..1000 {
                    node(s, i, 8, None).unwrap();
                }
            });
            heap.collect();
        }
        assert_eq!(DROPPED.load(Ordering::Relaxed) - before, 3000, "garbage freed, the rooted node kept");
        assert_eq!(heap.mutate(|s| s.fetch(&handle).borrow().value), 42);
        drop(handle);
        heap.collect();
        assert_eq!(DROPPED.load(Ordering::Relaxed) - before, 3001, "the node is freed once its handle is dropped");
    }
}

/// Pause figures of one churn run over a live list of `live` nodes.
struct Figures {
    stats: HeapStats,
    /// Most objects freed by one incremental step.
    max_step_freed: u64,
}

fn pause_figures(live: u64) -> Figures {
    let heap = Heap::new("ktest-pauses");
    let list = build_list(&heap, live);
    let mut max_step_freed = 0;
    for round in 0..200 {
        churn_round(&heap, &list, round, 100);
        // Each round pays at most a few steps, fewer than the ring keeps.
        for pause in heap.stats().recent.iter().filter(|p| p.cause == PauseCause::Pacing) {
            max_step_freed = max_step_freed.max(pause.objects_freed);
        }
    }
    assert_eq!(walk(&heap, &list).0, live);
    let stats = heap.stats();
    let p = &stats.pauses;
    ktest::note(format_args!(
        "policy={} live={live}: {} pauses over {} cycles, p50<={}us p99<={}us max={}us, max work {}, gc total {}us",
        stats.policy.name(),
        p.count(),
        stats.cycles,
        p.percentile_ns(500) / 1000,
        p.percentile_ns(990) / 1000,
        p.max_ns() / 1000,
        stats.max_pause_work,
        p.total_ns() / 1000,
    ));
    Figures { stats, max_step_freed }
}

ktest! {
    fn gc_pause_bound_of_the_policy_holds() {
        let small = pause_figures(1000);
        let medium = pause_figures(8000);
        let large = pause_figures(32000);
        let bound = HeapConfig::from_cmdline().pacer.bound as u64;
        for f in [&small, &medium, &large] {
            let s = &f.stats;
            match s.policy {
                Policy::Incremental => {
                    assert!(s.cycles > 0 && s.pauses.count() > s.cycles, "collection is not incremental: {s}");
                    assert!(s.max_pause_work <= bound, "a step did {} work, bound {bound}", s.max_pause_work);
                    // gc-arena charges 0.5 units per freed object.
                    assert!(f.max_step_freed <= 2 * bound + 64, "a step freed {} objects, bound {bound}", f.max_step_freed);
                }
                Policy::StopTheWorld => {
                    assert!(s.cycles > 0, "{s}");
                    assert_eq!(s.pauses.count(), s.pauses_with(PauseCause::Growth), "{s}");
                    assert_eq!(s.pauses.count(), s.cycles, "one pause per cycle: {s}");
                }
                Policy::None => assert_eq!(s.pauses.count(), 0, "{s}"),
            }
        }
        if small.stats.policy == Policy::StopTheWorld {
            // A full collection examines every live object: more live
            // objects, more work in the pause (its time is in the notes).
            assert!(medium.stats.max_pause_work > small.stats.max_pause_work + 5000);
            assert!(large.stats.max_pause_work > medium.stats.max_pause_work + 20000);
        }
    }
}

ktest! {
    fn gc_allocation_failure_returns_an_error() {
        const LIMIT: u64 = 1 << 20;
        let mut config = HeapConfig::from_cmdline();
        config.limit_bytes = Some(LIMIT);
        let heap = Heap::with_config("ktest-limit", config);
        // Fill the limit with garbage: the refusal ends the scope with a
        // full collection (not under gc-none).
        heap.mutate(|s| while node(s, 1, 1024, None).is_ok() {});
        let stats = heap.stats();
        assert!(stats.alloc_failures >= 1);
        let collects = stats.policy != Policy::None;
        assert_eq!(stats.pauses_with(PauseCause::AllocFailure), u64::from(collects), "{stats}");
        // Now keep everything: try_mutate collects, retries, then reports.
        let mut kept = Vec::with_capacity(4096);
        let result: Result<(), AllocError> = heap.try_mutate(|s| {
            loop {
                kept.push(s.stash::<NodeRoot>(node(s, 2, 1024, None)?));
            }
        });
        assert_eq!(result, Err(AllocError));
        let stats = heap.stats();
        assert!(stats.bytes_live() <= LIMIT + (LIMIT >> 2), "limit overrun: {stats}");
        ktest::note(format_args!("{stats}"));
        // Dropping the roots makes room again, once a collection runs.
        kept.clear();
        let again = heap.try_mutate(|s| node(s, 3, 1024, None).map(drop));
        assert_eq!(again.is_ok(), collects, "after releasing the roots: {:?}", heap.stats());
        // Memory itself running out is refused the same way.
        let unlimited = Heap::with_config("ktest-nomem", HeapConfig::from_cmdline());
        let huge = kernel_heap::headroom() + (1 << 20);
        assert_eq!(unlimited.mutate(|s| s.reserve(huge)), Err(AllocError));
        assert_eq!(unlimited.stats().alloc_failures, 1);
    }
}

ktest! {
    fn gc_background_collector_pays_the_debt() {
        let config = HeapConfig { background: true, ..HeapConfig::defaults(Policy::Incremental) };
        let heap = Heap::with_config("ktest-background", config);
        assert!(heap.has_background_collector());
        let list = build_list(&heap, 500);
        for round in 0..400u64 {
            heap.mutate(|s| {
                for i in 0..50 {
                    node(s, round * 100 + i, 64, None).expect("room for garbage");
                }
            });
            if round % 20 == 0 {
                crate::sched::yield_now();
            }
        }
        // Let the collector finish what is left. If the scopes' assists
        // paid all the debt (the collector's CPU can be slow to get host
        // time under QEMU), make more debt and give it more time.
        crate::sched::sleep(core::time::Duration::from_millis(20));
        let give_up = shim::time::now_ns() + 5_000_000_000;
        while heap.stats().pauses_with(PauseCause::Background) == 0 && shim::time::now_ns() < give_up {
            heap.mutate(|s| {
                for i in 0..50 {
                    node(s, i, 64, None).expect("room for garbage");
                }
            });
            crate::sched::sleep(core::time::Duration::from_millis(5));
        }
        let stats = heap.stats();
        let background = stats.pauses_with(PauseCause::Background);
        let assists = stats.pauses_with(PauseCause::Pacing);
        ktest::note(format_args!(
            "background collector: {background} pauses, {assists} assists by scopes, {} cycles, max pause {} us",
            stats.cycles,
            stats.pauses.max_ns() / 1000
        ));
        assert!(background > 0, "the collector goroutine never ran");
        assert!(stats.cycles > 0, "no cycle completed");
        // 20 000 garbage objects were made: most must be gone (gc-arena's
        // pacing leaves the tail of the last cycle for the next one).
        assert!(stats.objects_freed >= 10_000, "only {} objects freed", stats.objects_freed);
        assert!(stats.objects_live < 10_000, "garbage piles up: {} live objects", stats.objects_live);
        assert_eq!(walk(&heap, &list).0, 500);
        drop(list);
        drop(heap);
        // The collector goroutine exits with its heap (when it next runs).
        let alive = || crate::sched::goroutines().iter().any(|g| g.name == "gc/ktest-background");
        let start = shim::time::now_ns();
        while alive() && shim::time::now_ns() - start < 10_000_000_000 {
            crate::sched::sleep(core::time::Duration::from_millis(1));
        }
        assert!(!alive(), "the collector goroutine outlived its heap");
    }
}

ktest! {
    fn gc_churn_from_every_cpu_loses_nothing() {
        // Goroutines bound to every CPU share one heap: each keeps its own
        // list alive through a handle and churns garbage, so scopes,
        // collection steps and allocation race across CPUs. Every list
        // must come out whole, every payload intact.
        const LEN: u64 = 300;
        const ROUNDS: u64 = 150;
        let heap = alloc::sync::Arc::new(Heap::new("ktest-smp-churn"));
        let shared = alloc::sync::Arc::clone(&heap);
        crate::sched::ktests::run_on_each_cpu(2, move |cpu, i| {
            let list = build_list(&shared, LEN);
            let expected = (LEN, LEN * (LEN - 1) / 2);
            for round in 0..ROUNDS {
                churn_round(&shared, &list, round, 40);
                if round % 30 == 0 {
                    assert_eq!(walk(&shared, &list), expected, "CPU {cpu} worker {i}: list damaged in round {round}");
                }
                if round % 10 == 0 {
                    crate::sched::yield_now();
                }
            }
            assert_eq!(walk(&shared, &list), expected, "CPU {cpu} worker {i}: list damaged");
        });
        let stats = heap.stats();
        ktest::note(format_args!("{} CPU(s): {stats}", crate::sched::cpus().len()));
        if stats.policy != Policy::None {
            assert!(stats.cycles >= 1 && stats.objects_freed > 0, "{stats}");
        }
    }
}

ktest! {
    fn gc_pause_log_keeps_every_pause_with_its_heap() {
        super::pause_log::reserve(4096);
        let heap = Heap::with_config("ktest-pause-log", HeapConfig::defaults(Policy::ACTIVE));
        let list = build_list(&heap, 100);
        heap.collect();
        heap.collect();
        let (pauses, _) = super::pause_log::snapshot();
        let ours: Vec<_> = pauses.iter().filter(|l| l.heap == "ktest-pause-log").collect();
        assert_eq!(ours.len() as u64, heap.stats().pauses.count(), "every pause of the heap is logged");
        assert!(ours.iter().filter(|l| l.pause.cause == PauseCause::Explicit).count() >= 2, "{ours:?}");
        assert!(ours.iter().all(|l| l.pause.duration_ns > 0));
        assert!(ours.windows(2).all(|w| w[0].pause.start_ns <= w[1].pause.start_ns), "oldest first");
        drop(list);
    }
}

ktest! {
    /// A heap dropped whole gives back every object it held, without a
    /// collection (the per-process heap's exit), and the census counts it
    /// on the managed side both ways.
    fn a_dropped_heap_is_released_whole_and_counted_in_the_census() {
        // The first round warms up what stays (the heap registry, size
        // classes); the second must leave the kernel heap as it found it.
        for round in 0..2 {
            let in_use = release_a_heap_of_nodes(1000);
            assert!(round == 0 || in_use.1 <= in_use.0 + 1024, "kernel heap in use {in_use:?} bytes");
        }
    }
}

/// Builds a heap holding a list of `len` nodes and drops it whole, checking
/// that every node dropped with it and the census counted both ways.
/// Returns the kernel heap's bytes in use before and after.
fn release_a_heap_of_nodes(len: u64) -> (u64, u64) {
    let in_use_before = kernel_heap::stats().allocated as u64;
    let census_before = census::snapshot();
    let dropped_before = DROPPED.load(Ordering::Relaxed);
    let heap = Heap::new("ktest-release");
    let list = build_list(&heap, len);
    let stats = heap.stats();
    assert!(stats.bytes_live() >= len * 16, "the list's payloads count: {stats}");
    let grown = census::snapshot().since(census_before);
    assert!(grown.managed.allocated >= stats.bytes_allocated, "census missed the heap's bytes: {grown:?}");
    drop(list);
    drop(heap);
    assert_eq!(DROPPED.load(Ordering::Relaxed) - dropped_before, len, "every node dropped with the heap");
    let window = census::snapshot().since(census_before);
    assert!(window.managed.freed >= stats.bytes_live(), "release not counted as managed: {window:?}");
    (in_use_before, kernel_heap::stats().allocated as u64)
}
