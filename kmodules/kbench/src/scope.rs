//! What reaching a managed object costs: a heap scope around one read of
//! a stashed object (`Handle::with`, as a system call reaches a process's
//! descriptor table or a pipe's state), against the same read under a spin
//! lock (what those objects had before they were managed).

use runtime::heap::{Heap, Rootable};

/// `rounds` scopes of a fresh heap, each reading one stashed integer:
/// (ns, scopes).
pub fn heap_scope(rounds: u64) -> Result<(u64, u64), &'static str> {
    let heap = Heap::new("kbench-scope");
    let value = heap
        .try_mutate(|scope| Ok(scope.stash::<Rootable![u64]>(scope.alloc(1u64)?)))
        .map_err(|_| "no memory for the object")?;
    let start = shim::time::now_ns();
    let mut sum = 0u64;
    for _ in 0..rounds {
        sum = sum.wrapping_add(value.with(|_, v| *v));
    }
    let ns = shim::time::now_ns() - start;
    core::hint::black_box(sum);
    Ok((ns, rounds))
}

/// `rounds` acquisitions of a spin lock (preemption held off, as the old
/// code did), each reading one integer: (ns, acquisitions).
pub fn spin_lock(rounds: u64) -> Result<(u64, u64), &'static str> {
    let lock = spin::Mutex::new(1u64);
    let start = shim::time::now_ns();
    let mut sum = 0u64;
    for _ in 0..rounds {
        let _pin = runtime::sched::pin();
        sum = sum.wrapping_add(*core::hint::black_box(&lock).lock());
    }
    let ns = shim::time::now_ns() - start;
    core::hint::black_box(sum);
    Ok((ns, rounds))
}
