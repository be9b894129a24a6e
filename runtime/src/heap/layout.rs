//! Heap layout, the second dimension of the GC experiment beside the
//! policy: which heap a kernel object is allocated in.
//!
//! - `heaps=per-process` (the default): each process's private objects
//!   live in a heap of its own, released whole when the process is gone;
//!   each kernel subsystem with kernel-wide objects has a heap of its own
//!   (`fs`, `proc`, `tty`); objects that processes share (pipes) go to one of
//!   [`SHARED_SHARDS`] shard heaps, picked in turn, so unrelated processes
//!   rarely wait for the same heap lock;
//! - `heaps=global`: every kernel object lives in one kernel-wide heap,
//!   Biscuit's layout (Go has one heap).
//!
//! Heap scopes never nest (see `Heap::mutate`), so code written against
//! this module works unchanged under either layout: no lock order between
//! heaps is needed.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::Heap;

/// How many shard heaps hold shared objects under the per-process layout.
pub const SHARED_SHARDS: usize = 8;

/// Which heaps kernel objects go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A heap per subsystem, sharded heaps for shared objects.
    PerProcess,
    /// One kernel-wide heap.
    Global,
}

impl Layout {
    /// The layout named `name` (the `heaps=` values).
    pub fn parse(name: &str) -> Option<Layout> {
        match name {
            "per-process" => Some(Layout::PerProcess),
            "global" => Some(Layout::Global),
            _ => None,
        }
    }

    /// The name `heaps=` takes.
    pub const fn name(self) -> &'static str {
        match self {
            Layout::PerProcess => "per-process",
            Layout::Global => "global",
        }
    }
}

static ACTIVE: spin::Once<Layout> = spin::Once::new();
static GLOBAL: spin::Once<Heap> = spin::Once::new();
static SHARDS: spin::Once<Vec<Heap>> = spin::Once::new();
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

/// The layout of this boot: `heaps=` on the command line (an unknown value
/// is reported and ignored), per-process by default.
pub fn active() -> Layout {
    *ACTIVE.call_once(|| match shim::cmdline::get("heaps") {
        None => Layout::PerProcess,
        Some(name) => Layout::parse(name).unwrap_or_else(|| {
            log::warn!("heaps={name}: unknown layout (per-process or global); using per-process");
            Layout::PerProcess
        }),
    })
}

/// The kernel-wide heap of the global layout.
fn global() -> Heap {
    GLOBAL.call_once(|| Heap::new("kernel")).clone()
}

/// A heap for a kernel subsystem's own objects (create it once and keep
/// it): a new heap named `name`, or the global heap.
pub fn subsystem(name: &'static str) -> Heap {
    match active() {
        Layout::PerProcess => Heap::new(name),
        Layout::Global => global(),
    }
}

/// A heap for one process's private objects: a new heap, or the global
/// heap.
pub fn process() -> Heap {
    match active() {
        Layout::PerProcess => Heap::new("process"),
        Layout::Global => global(),
    }
}

/// A heap for an object that processes may share: the next shard heap in
/// turn, or the global heap.
pub fn shared() -> Heap {
    match active() {
        Layout::PerProcess => {
            let shards = SHARDS.call_once(|| (0..SHARED_SHARDS).map(|_| Heap::new("shared")).collect());
            shards[NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARED_SHARDS].clone()
        }
        Layout::Global => global(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for layout in [Layout::PerProcess, Layout::Global] {
            assert_eq!(Layout::parse(layout.name()), Some(layout));
        }
        assert_eq!(Layout::parse("per-cpu"), None);
    }
}
