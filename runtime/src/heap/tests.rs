//! Host tests of the heap: a random object graph with churn under each
//! policy, roots across scopes, the byte limit and the incremental bound.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use super::*;

/// Byte accounting reads per-CPU allocator counters; on the host every
/// thread is "CPU 0", so heap tests take this lock and run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[global_allocator]
static COUNTING: shim::mem::heap::HostCountingAlloc = shim::mem::heap::HostCountingAlloc;

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

thread_local! {
    static FREED: RefCell<HashSet<u64>> = RefCell::new(HashSet::new());
}

/// Records its id as freed when the collector drops its node.
struct Probe(u64);

impl Drop for Probe {
    fn drop(&mut self) {
        FREED.with(|f| assert!(f.borrow_mut().insert(self.0), "object {} freed twice", self.0));
    }
}

fn freed(id: u64) -> bool {
    FREED.with(|f| f.borrow().contains(&id))
}

/// An id no other node of this thread has used.
fn fresh_id() -> u64 {
    thread_local!(static NEXT: std::cell::Cell<u64> = const { std::cell::Cell::new(1 << 40) });
    NEXT.with(|n| n.replace(n.get() + 1))
}

fn freed_count() -> usize {
    FREED.with(|f| f.borrow().len())
}

#[derive(Collect)]
#[collect(no_drop)]
struct Node<'gc> {
    id: u64,
    probe: Static<Probe>,
    edges: Vec<GcRefLock<'gc, Node<'gc>>>,
}

type NodeRef<'gc> = GcRefLock<'gc, Node<'gc>>;
type NodeRoot = Rootable![RefLock<Node<'_>>];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn new_node<'gc>(scope: &Scope<'_, 'gc>, id: u64) -> Result<NodeRef<'gc>, AllocError> {
    scope.alloc(RefLock::new(Node { id, probe: Static(Probe(id)), edges: Vec::new() }))
}

/// Ids of everything reachable from `roots`.
fn reachable(heap: &Heap, roots: &[Handle<NodeRoot>]) -> HashSet<u64> {
    heap.mutate(|s| {
        let mut seen = HashSet::new();
        let mut stack: Vec<NodeRef<'_>> = roots.iter().map(|h| s.fetch(h)).collect();
        while let Some(node) = stack.pop() {
            let node = node.borrow();
            if seen.insert(node.id) {
                stack.extend(node.edges.iter().copied());
            }
        }
        seen
    })
}

fn test_config(policy: Policy) -> HeapConfig {
    let mut config = HeapConfig::defaults(policy);
    config.pacer = StepPacer { bound: 64.0, min_step: 8.0 };
    config.trigger.min_bytes = 16 << 10;
    config
}

/// The churn workload: roots come and go, nodes are linked and unlinked at
/// random. After every scope, nothing reachable may have been freed; after
/// a final full collection, everything unreachable must be.
fn churn(policy: Policy) -> HeapStats {
    let _serial = serial();
    FREED.with(|f| f.borrow_mut().clear());
    let heap = Heap::with_config("churn", test_config(policy));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut next_id = 0u64;
    let mut roots: Vec<Handle<NodeRoot>> = Vec::new();
    for round in 0..600 {
        heap.mutate(|s| {
            for _ in 0..20 {
                let node = new_node(s, next_id).expect("no limit set");
                next_id += 1;
                match rng.below(4) {
                    0 if roots.len() < 16 => roots.push(s.stash(node)),
                    0 | 1 if !roots.is_empty() => {
                        // Link from a random root, replacing an edge at times.
                        let root = s.fetch(&roots[rng.below(roots.len())]);
                        let mut root = root.borrow_mut(s.mc());
                        if root.edges.len() > 4 {
                            let i = rng.below(root.edges.len());
                            root.edges[i] = node;
                        } else {
                            root.edges.push(node);
                        }
                    }
                    2 if !roots.is_empty() => {
                        // Link a chain: a root's child gets the new node.
                        let root = s.fetch(&roots[rng.below(roots.len())]);
                        let child = root.borrow().edges.first().copied();
                        if let Some(child) = child {
                            child.borrow_mut(s.mc()).edges.push(node);
                        }
                    }
                    _ => {} // garbage at once
                }
            }
        });
        if round % 7 == 0 && roots.len() > 4 {
            roots.swap_remove(rng.below(roots.len()));
        }
        let live = reachable(&heap, &roots);
        assert!(live.iter().all(|&id| !freed(id)), "{policy:?}: a reachable object was freed in round {round}");
    }
    let automatic = heap.stats();
    heap.collect();
    let live = reachable(&heap, &roots);
    assert!(live.iter().all(|&id| !freed(id)));
    assert_eq!(
        live.len() + freed_count(),
        next_id as usize,
        "{policy:?}: after a full collection every object is either reachable or freed"
    );
    let stats = heap.stats();
    assert_eq!(stats.objects_freed as usize, freed_count());
    assert!(stats.bytes_allocated > 0 && stats.bytes_freed > 0);
    automatic
}

#[test]
fn churn_incremental_collects_in_bounded_steps() {
    let stats = churn(Policy::Incremental);
    assert!(stats.cycles > 0, "incremental policy collected nothing: {stats}");
    assert_eq!(stats.pauses.count(), stats.pauses_with(PauseCause::Pacing));
    assert!(stats.max_pause_work <= 64, "step exceeded the bound: {stats}");
    assert!(stats.pauses.count() > stats.cycles * 2, "steps are not incremental: {stats}");
}

#[test]
fn churn_stop_the_world_collects_in_one_pause_per_cycle() {
    let stats = churn(Policy::StopTheWorld);
    assert!(stats.cycles > 0, "stw policy collected nothing: {stats}");
    assert_eq!(stats.pauses.count(), stats.pauses_with(PauseCause::Growth));
    assert_eq!(stats.pauses.count(), stats.cycles, "one pause per cycle: {stats}");
}

#[test]
fn churn_none_never_collects_on_its_own() {
    let stats = churn(Policy::None);
    assert_eq!(stats.cycles, 0);
    assert_eq!(stats.pauses.count(), 0);
    assert_eq!(stats.objects_freed, 0);
}

#[test]
fn incremental_steps_free_a_bounded_number_of_objects() {
    let _serial = serial();
    let heap = Heap::with_config("bound", test_config(Policy::Incremental));
    let mut max_freed = 0;
    for _ in 0..400 {
        heap.mutate(|s| {
            for _ in 0..50 {
                new_node(s, fresh_id()).unwrap();
            }
        });
        for pause in heap.stats().recent.iter() {
            max_freed = max_freed.max(pause.objects_freed);
        }
    }
    // gc-arena charges 0.5 work units per freed object (drop + free), so a
    // 64-unit step frees at most about 128 objects.
    assert!(max_freed > 0 && max_freed <= 2 * 64 + 2, "a step freed {max_freed} objects");
}

#[test]
fn handles_keep_objects_across_scopes_and_collections() {
    let _serial = serial();
    FREED.with(|f| f.borrow_mut().clear());
    let heap = Heap::with_config("handles", test_config(Policy::StopTheWorld));
    let handle = heap.mutate(|s| {
        let head = new_node(s, 1).unwrap();
        let tail = new_node(s, 2).unwrap();
        head.borrow_mut(s.mc()).edges.push(tail);
        s.stash::<NodeRoot>(head)
    });
    for _ in 0..3 {
        heap.collect();
    }
    assert!(!freed(1) && !freed(2));
    let sum = heap.mutate(|s| {
        let head = s.fetch(&handle);
        let head = head.borrow();
        head.id + head.edges[0].borrow().id
    });
    assert_eq!(sum, 3);
    // Dropping a handle inside a scope of its own heap must not deadlock:
    // the release is deferred to the next lock holder.
    heap.mutate(|_| drop(handle));
    heap.collect();
    assert!(freed(1) && freed(2));
}

#[test]
#[should_panic(expected = "another heap")]
fn handle_from_another_heap_is_refused() {
    let _serial = serial();
    let a = Heap::with_config("a", test_config(Policy::StopTheWorld));
    let b = Heap::with_config("b", test_config(Policy::StopTheWorld));
    let handle = a.mutate(|s| s.stash::<NodeRoot>(new_node(s, 1).unwrap()));
    b.mutate(|s| {
        s.fetch(&handle);
    });
}

#[test]
fn allocation_past_the_limit_fails_cleanly_after_a_full_collection() {
    let _serial = serial();
    let mut config = test_config(Policy::StopTheWorld);
    config.trigger.min_bytes = u64::MAX; // only failures collect
    config.limit_bytes = Some(64 << 10);
    let heap = Heap::with_config("limit", config);
    // Garbage up to near the limit.
    heap.mutate(|s| {
        while s.reserve(8 << 10).is_ok() {
            new_node(s, fresh_id()).unwrap();
        }
    });
    assert_eq!(heap.stats().pauses.count(), 1, "the refused reserve triggered a collection");
    assert_eq!(heap.stats().pauses_with(PauseCause::AllocFailure), 1);
    // Now fill it with live objects: try_mutate collects and retries, and
    // returns the error when even that does not make room.
    // (Capacity up front: a buffer grown inside a scope counts as the heap's.)
    let mut kept = Vec::with_capacity(4096);
    let result: Result<(), _> = heap.try_mutate(|s| {
        loop {
            let node = new_node(s, fresh_id())?;
            kept.push(s.stash::<NodeRoot>(node));
        }
    });
    assert_eq!(result.err(), Some(AllocError));
    let stats = heap.stats();
    assert!(stats.alloc_failures >= 3, "{stats}");
    // The limit bounds checked allocations; root-set slots from `stash` are
    // not checked, so the heap may pass it by their size.
    assert!(stats.bytes_live() <= 96 << 10, "{stats}");
    // Freeing the roots makes room again.
    kept.clear();
    assert!(heap.try_mutate(|s| new_node(s, fresh_id()).map(drop)).is_ok());
}

#[test]
fn a_pair_of_scopes_copies_between_heaps_and_counts_each_heap_its_own_bytes() {
    let _serial = serial();
    let a = Heap::with_config("a", test_config(Policy::StopTheWorld));
    let b = Heap::with_config("b", test_config(Policy::StopTheWorld));
    let source = a.mutate(|s| s.stash::<Rootable![Vec<u64>]>(s.alloc((0..100u64).collect::<Vec<_>>()).unwrap()));
    let (a_before, b_before) = (a.stats().bytes_allocated, b.stats().bytes_allocated);
    let double = |scope: &Scope<'_, '_>, original: &[u64]| {
        scope.stash::<Rootable![Vec<u64>]>(scope.alloc(original.iter().map(|v| v * 2).collect::<Vec<_>>()).unwrap())
    };
    // Either order of the arguments (the locks go in heap-id order).
    let first = b.mutate_pair(&a, |to, from| double(to, &from.fetch(&source)));
    let second = a.mutate_pair(&b, |from, to| double(to, &from.fetch(&source)));
    for copy in [first, second] {
        assert_eq!(b.mutate(|s| s.fetch(&copy).iter().sum::<u64>()), 9900);
    }
    assert_eq!(a.stats().bytes_allocated, a_before, "nothing allocated in a");
    assert!(b.stats().bytes_allocated >= b_before + 800, "the copy's buffer is b's");
    // One heap twice: the same scope.
    let same = a.mutate_pair(&a, |x, y| x.fetch(&source).len() + y.fetch(&source).len());
    assert_eq!(same, 200);
}
