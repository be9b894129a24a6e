//! Every live goroutine, by id: the strong reference that keeps a parked
//! goroutine alive (wait tokens are weak), and the list `ps` prints.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use shim::irq::IrqMutex;
use shim::task::Task;

use super::engine::goroutine_main;
use super::g::{G, GoroutineId};
use super::stacks;

static GOROUTINES: IrqMutex<BTreeMap<GoroutineId, Arc<G>>> = IrqMutex::new(BTreeMap::new());

/// Dead goroutines' allocations kept for new ones (Go keeps a free list of
/// `g`s too), so that spawning a goroutine reuses one instead of
/// allocating.
const SPARES: usize = 16;
static SPARES_KEPT: IrqMutex<[Option<Arc<G>>; SPARES]> = IrqMutex::new([const { None }; SPARES]);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> GoroutineId {
    GoroutineId(NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

/// Why a goroutine could not be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// No memory (or no stack slot) for its stack.
    OutOfMemory,
    /// It was bound to a CPU that does not run the scheduler.
    NoSuchCpu(usize),
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnError::OutOfMemory => f.write_str("no memory for a goroutine stack"),
            SpawnError::NoSuchCpu(cpu) => write!(f, "CPU {cpu} does not run the scheduler"),
        }
    }
}

/// Creates and registers a goroutine that will run `body` on a stack of
/// `stack_pages` pages, only on CPU `bound_to` if given. It is not queued
/// yet.
pub(crate) fn new_goroutine(
    name: Cow<'static, str>,
    stack_pages: u64,
    bound_to: Option<usize>,
    body: Box<dyn FnOnce() + Send>,
) -> Result<Arc<G>, SpawnError> {
    if let Some(cpu) = bound_to
        && !super::engine::is_online(cpu)
    {
        return Err(SpawnError::NoSuchCpu(cpu));
    }
    let id = next_id();
    let stack = stacks::get(stack_pages).ok_or(SpawnError::OutOfMemory)?;
    let mut g = G::new(id, name, Task::new(stack, id.0, goroutine_main), body);
    g.bound_to = bound_to;
    let spare = SPARES_KEPT.lock().iter_mut().find_map(Option::take);
    let g = match spare {
        Some(mut spare) => match Arc::get_mut(&mut spare) {
            Some(slot) => {
                *slot = g;
                spare
            }
            None => Arc::new(g),
        },
        None => Arc::new(g),
    };
    GOROUTINES.lock().insert(id, Arc::clone(&g));
    Ok(g)
}

/// Keeps the allocation of `g`, a dead goroutine, for a new one if
/// nothing else refers to it (no queue, no wait token, no interrupter);
/// its stack and name go now. Otherwise drops it.
pub(crate) fn recycle(mut g: Arc<G>) {
    let Some(slot) = Arc::get_mut(&mut g) else { return };
    *slot = G::spare();
    let mut spares = SPARES_KEPT.lock();
    if let Some(free) = spares.iter_mut().find(|s| s.is_none()) {
        *free = Some(g);
    }
}

/// Creates and registers the idle goroutine of `cpu` (the running context).
pub(crate) fn new_idle(cpu: usize) -> Arc<G> {
    let id = next_id();
    let g = Arc::new(G::idle(id, cpu));
    GOROUTINES.lock().insert(id, Arc::clone(&g));
    g
}

/// Forgets a goroutine that died.
pub(crate) fn remove(id: GoroutineId) {
    let removed = GOROUTINES.lock().remove(&id);
    // Drop outside the lock: the goroutine's stack goes back to the pool.
    drop(removed);
}

/// A snapshot of all goroutines.
pub(crate) fn all() -> Vec<Arc<G>> {
    GOROUTINES.lock().values().cloned().collect()
}

/// Number of live goroutines (idle ones included).
pub(crate) fn count() -> usize {
    GOROUTINES.lock().len()
}
