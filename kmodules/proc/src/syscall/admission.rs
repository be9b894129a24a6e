//! Admission of a system call when kernel memory runs low (Biscuit's
//! idea, simplified): every call needs [`HEADROOM`] of kernel heap before
//! it starts, more than any one call's plain allocations take (a bounce
//! buffer, a descriptor table's copy, a `poll` array). Short of it, every
//! heap is collected once (at most every [`COLLECT_EVERY_NS`]) and the call
//! is refused with `ENOMEM` if that did not help. Calls that give memory
//! back are always let through. A kernel allocation that cannot fail
//! therefore meets a heap with room, instead of the allocation error
//! handler (a panic); managed allocations fail cleanly anyway.

use core::sync::atomic::{AtomicU64, Ordering};

use abi::errno::ENOMEM;
use abi::nr;
use fs::KResult;
use runtime::heap::Heap;

/// Kernel heap a call needs free before it starts.
const HEADROOM: u64 = 4 << 20;
/// Fewest nanoseconds between two collections for admission.
const COLLECT_EVERY_NS: u64 = 10_000_000;

/// When admission last collected every heap.
static LAST_COLLECTED: AtomicU64 = AtomicU64::new(0);

/// `Ok` if system call `number` may run now; `ENOMEM` if kernel memory
/// is too short for it even after a collection.
#[inline]
pub(super) fn admit(number: u64) -> KResult<()> {
    if shim::mem::heap::has_headroom(HEADROOM) || gives_back(number) {
        return Ok(());
    }
    short_of_memory()
}

/// [`admit`]'s slow path: memory is short.
#[cold]
fn short_of_memory() -> KResult<()> {
    let now = shim::time::now_ns();
    let last = LAST_COLLECTED.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= COLLECT_EVERY_NS
        && LAST_COLLECTED.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    {
        for heap in Heap::all() {
            heap.collect();
        }
    }
    if shim::mem::heap::has_headroom(HEADROOM) { Ok(()) } else { Err(ENOMEM) }
}

/// Calls that free memory or end a process: refusing them would keep a
/// low-memory system low.
fn gives_back(number: u64) -> bool {
    matches!(number, nr::EXIT | nr::EXIT_GROUP | nr::CLOSE | nr::MUNMAP | nr::KILL | nr::TKILL | nr::TGKILL | nr::WAIT4)
}
