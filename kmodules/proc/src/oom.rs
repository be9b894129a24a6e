//! Out of memory: what a thread does when its page fault finds no frame
//! for user memory (the shim keeps a reserve of frames for the kernel, so
//! this happens while the kernel can still act).
//!
//! The OOM killer chooses the process with the most resident pages (never
//! init, unless it is the one asking and nothing else can go), kills it
//! with SIGKILL, as Linux does, and the faulting thread waits until the
//! victim's memory is released, then retries its access. A process already
//! dying is waited for rather than another killed. The victim's parent
//! sees `WTERMSIG == SIGKILL`; the console logs each kill.

use alloc::sync::Arc;

use abi::flags::signal::SIGKILL;
use runtime::sync::WaitQueue;

use crate::process::{self, INIT_PID, Process};
use crate::signal;
use crate::thread::Thread;

/// Woken whenever a process has released its memory ([`released`]).
static RELEASED: WaitQueue = WaitQueue::new();

/// Frees memory for `thread`, whose fault found none: kills the largest
/// process (perhaps its own) and waits until that one has released its
/// memory, or until `thread` is itself interrupted (killed).
pub fn reclaim(thread: &Thread) {
    let victim = dying().or_else(|| choose(&thread.process));
    let Some(victim) = victim else {
        signal::force(thread, SIGKILL);
        return;
    };
    let own = Arc::ptr_eq(&victim, &thread.process);
    if !victim.exiting() {
        log::warn!(
            "out of memory: killing pid {} ({} KiB resident) for pid {}",
            victim.pid,
            resident_pages(&victim) * 4,
            thread.process.pid
        );
        // Forced on itself (init too, when nothing else can go); sent to
        // another process.
        match own {
            true => signal::force(thread, SIGKILL),
            false => signal::send(&victim, SIGKILL),
        }
    }
    if own {
        return;
    }
    // Interrupted means this thread has a signal to take (SIGKILL, say):
    // it returns to deliver it, and faults again if it survives.
    let _ = RELEASED.wait_interruptible(|| victim.vm.try_lock().is_some_and(|vm| vm.is_none()).then_some(()));
}

/// Tells waiting threads that a process has released its memory.
pub fn released() {
    RELEASED.wake_all();
}

/// A process that is exiting and still holds user memory.
fn dying() -> Option<Arc<Process>> {
    process::all().into_iter().filter(|p| p.exiting()).find(|p| resident_pages(p) > 0)
}

/// The process with the most resident pages, init aside unless it is the
/// one asking.
fn choose(asking: &Arc<Process>) -> Option<Arc<Process>> {
    process::all()
        .into_iter()
        .filter(|p| p.pid != INIT_PID || Arc::ptr_eq(p, asking))
        .map(|p| (resident_pages(&p), p))
        .filter(|(pages, _)| *pages > 0)
        .max_by_key(|(pages, _)| *pages)
        .map(|(_, p)| p)
}

/// `process`'s resident user pages; 0 if its memory is gone or busy
/// (another thread holds it: it is doing something, not hoarding).
fn resident_pages(process: &Process) -> u64 {
    process.vm.try_lock().and_then(|vm| vm.as_ref().map(|vm| vm.space().resident_pages())).unwrap_or(0)
}
