//! Goroutine stacks: mapped kernel stacks with a guard page, and a small
//! cache of default-size ones, so spawning and exiting do not map and unmap
//! pages each time (Go caches stacks for the same reason).

use shim::irq::IrqMutex;
use shim::mem::stack::KernelStack;

use super::config;

/// Stacks kept for reuse.
const CACHED: usize = 64;

struct Cache {
    stacks: [Option<KernelStack>; CACHED],
    len: usize,
}

static CACHE: IrqMutex<Cache> = IrqMutex::new(Cache { stacks: [const { None }; CACHED], len: 0 });

/// A stack of `pages` pages: a cached one if it is the default size.
pub(crate) fn get(pages: u64) -> Option<KernelStack> {
    if pages == config::get().stack_pages {
        let mut cache = CACHE.lock();
        if cache.len > 0 {
            cache.len -= 1;
            let len = cache.len;
            return cache.stacks[len].take();
        }
    }
    KernelStack::new(pages, 0).ok()
}

/// Returns a stack that nothing runs on any more. Never allocates (a dead
/// goroutine may be dropped in an interrupt handler).
pub(crate) fn put(stack: KernelStack) {
    if stack.pages() != config::get().stack_pages {
        return;
    }
    let mut cache = CACHE.lock();
    if cache.len < CACHED {
        let len = cache.len;
        cache.stacks[len] = Some(stack);
        cache.len += 1;
    }
}
