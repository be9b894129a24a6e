//! What the scheduler can tell about itself: per-goroutine run time and
//! switches, per-CPU idle time, queue lengths, steals and preemptions, and
//! a `ps`-like dump on the console.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use shim::time::now_ns;

use super::cpu::{CPUS, GLOBAL};
use super::g::{GoroutineId, State};
use super::registry;

/// One goroutine, as `ps` shows it.
#[derive(Clone, Debug)]
pub struct GoroutineInfo {
    /// Its id.
    pub id: GoroutineId,
    /// Its name (`idle` for a CPU's idle loop).
    pub name: Cow<'static, str>,
    /// Its state.
    pub state: State,
    /// The CPU it last ran on.
    pub cpu: u32,
    /// Time spent running, ns (up to its last switch-out).
    pub run_ns: u64,
    /// Times it was switched in.
    pub switches: u64,
}

/// One CPU's scheduler counters.
#[derive(Clone, Debug, Default)]
pub struct CpuInfo {
    /// CPU index.
    pub index: usize,
    /// Time halted with nothing to run, ns.
    pub idle_ns: u64,
    /// Goroutine switches.
    pub switches: u64,
    /// Switches forced by the time slice.
    pub preemptions: u64,
    /// Successful steals from other CPUs, and goroutines taken by them.
    pub steals: u64,
    /// Goroutines taken by those steals.
    pub stolen: u64,
    /// Goroutines in its run queue now, those bound to it included.
    pub runq_len: usize,
    /// Timers pending on it.
    pub timers: usize,
}

/// All live goroutines, by id.
pub fn goroutines() -> Vec<GoroutineInfo> {
    registry::all()
        .iter()
        .map(|g| GoroutineInfo {
            id: g.id,
            name: g.name.clone(),
            state: g.state(),
            cpu: g.last_cpu.load(Ordering::Relaxed),
            run_ns: g.run_ns.load(Ordering::Relaxed),
            switches: g.switches.load(Ordering::Relaxed),
        })
        .collect()
}

/// Counters of the CPU with index `index`.
pub fn cpu(index: usize) -> CpuInfo {
    let cpu = &CPUS[index];
    let s = &cpu.stats;
    CpuInfo {
        index,
        idle_ns: s.idle_ns.load(Ordering::Relaxed),
        switches: s.switches.load(Ordering::Relaxed),
        preemptions: s.preemptions.load(Ordering::Relaxed),
        steals: s.steals.load(Ordering::Relaxed),
        stolen: s.stolen.load(Ordering::Relaxed),
        runq_len: cpu.runq.lock().len() + cpu.bound.lock().len(),
        timers: cpu.timers.lock().len(),
    }
}

/// Counters of every CPU that runs the scheduler.
pub fn cpus() -> Vec<CpuInfo> {
    (0..CPUS.len()).filter(|&i| CPUS[i].online.load(Ordering::Acquire)).map(cpu).collect()
}

fn ms(ns: u64) -> u64 {
    ns / 1_000_000
}

/// Prints every CPU and goroutine on the console.
pub fn ps() {
    let now = now_ns();
    shim::println!("ps: {} goroutines, global queue {}, at {} ms", registry::count(), GLOBAL.lock().len(), ms(now));
    for c in cpus() {
        shim::println!(
            "  cpu{}: idle {} ms, {} switches, {} preemptions, {} steals ({} goroutines), runq {}, timers {}",
            c.index,
            ms(c.idle_ns),
            c.switches,
            c.preemptions,
            c.steals,
            c.stolen,
            c.runq_len,
            c.timers
        );
    }
    shim::println!("  {:>6} {:<20} {:<9} {:>4} {:>10} {:>9}", "ID", "NAME", "STATE", "CPU", "RUN ms", "SWITCHES");
    for g in goroutines() {
        shim::println!(
            "  {:>6} {:<20} {:<9} {:>4} {:>10} {:>9}",
            g.id.0,
            g.name,
            g.state.name(),
            g.cpu,
            ms(g.run_ns),
            g.switches
        );
    }
}
