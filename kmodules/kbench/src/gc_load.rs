//! GC load: a goroutine on CPU 0 that allocates lists in a GC heap of its
//! own as fast as it can, dropping old ones, so the heap collects all the
//! time (under the kernel's policy) while the timer is measured. It yields
//! after each scope, as a kernel goroutine between requests would, so a
//! woken sleeper runs after at most one scope and its GC pause.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use gc_arena::Collect;
use runtime::heap::{Gc, Handle, Heap, Rootable, pause_log};
use runtime::sched::Builder;
use runtime::sync::WaitGroup;

/// Nodes per list, lists kept alive.
const LIST_LEN: usize = 16;
const KEPT_LISTS: usize = 256;
/// Under `gc-none` the heap never shrinks: past this many live bytes the
/// load stops allocating (and only yields) instead of exhausting memory.
const LIVE_CAP_BYTES: u64 = 96 << 20;

#[derive(Collect)]
#[collect(no_drop)]
struct Node<'gc> {
    next: Option<Gc<'gc, Node<'gc>>>,
    words: [u64; 6],
}

type ListRoot = Rootable![Node<'_>];

/// The running load.
pub struct GcLoad {
    heap: Heap,
    stop: Arc<AtomicBool>,
    scopes: Arc<AtomicU64>,
    done: Arc<WaitGroup>,
}

impl GcLoad {
    /// Starts the load goroutine; None (after saying why) if it cannot.
    pub fn start() -> Option<GcLoad> {
        let load = GcLoad {
            heap: Heap::new("kbench"),
            stop: Arc::new(AtomicBool::new(false)),
            scopes: Arc::new(AtomicU64::new(0)),
            done: Arc::new(WaitGroup::new()),
        };
        load.done.add(1);
        let (heap, stop, scopes, done) =
            (load.heap.clone(), Arc::clone(&load.stop), Arc::clone(&load.scopes), Arc::clone(&load.done));
        let spawned = Builder::new().name("kbench-gc-load").cpu(0).spawn(move || {
            churn(&heap, &stop, &scopes);
            done.done();
        });
        match spawned {
            Ok(_) => Some(load),
            Err(_) => {
                shim::println!("kbench-error: gc-load no memory for a goroutine");
                None
            }
        }
    }

    /// Prints the load heap's pauses that started in `[start, end]`.
    pub fn report_pauses(&self, start: u64, end: u64) {
        let (pauses, dropped) = pause_log::snapshot();
        for logged in pauses.iter().filter(|l| l.heap == "kbench") {
            let p = &logged.pause;
            if (start..=end).contains(&p.start_ns) {
                shim::println!("kgcpause: kbench {} {} {} {}", p.cause.name(), p.start_ns, p.duration_ns, p.work);
            }
        }
        if dropped > 0 {
            shim::println!("kbench-error: gc-load {dropped} pauses did not fit the log (gc.log)");
        }
    }

    /// Stops the load, waits for it and prints its heap's summary.
    pub fn stop_and_report(self) {
        self.stop.store(true, Ordering::Release);
        self.done.wait();
        shim::println!("kbench-info: gc_load scopes {} {}", self.scopes.load(Ordering::Relaxed), self.heap.stats());
    }
}

/// Allocates lists until told to stop: each scope builds one list and
/// keeps it in place of the oldest.
fn churn(heap: &Heap, stop: &AtomicBool, scopes: &AtomicU64) {
    let mut kept: Vec<Option<Handle<ListRoot>>> = Vec::with_capacity(KEPT_LISTS);
    kept.resize_with(KEPT_LISTS, || None);
    let mut capped = false;
    let mut round = 0usize;
    while !stop.load(Ordering::Acquire) {
        if round.is_multiple_of(64) {
            capped = heap.stats().bytes_live() > LIVE_CAP_BYTES;
        }
        round += 1;
        if capped {
            runtime::sched::yield_now();
            continue;
        }
        let list = heap.mutate(|s| {
            let mut head = None;
            for i in 0..LIST_LEN {
                head = Some(s.alloc(Node { next: head, words: [i as u64; 6] }).ok()?);
            }
            Some(s.stash::<ListRoot>(head?))
        });
        // The replaced list becomes garbage (dropped outside the scope).
        kept[round % KEPT_LISTS] = list;
        scopes.fetch_add(1, Ordering::Relaxed);
        runtime::sched::yield_now();
    }
}
