//! Timer-interrupt latency: a goroutine on CPU 0 sleeps to deadlines
//! 50–250 µs away while the shim records, for every timer interrupt, how
//! long after its programmed deadline the handler started.

use runtime::sched::{self, Builder};
use runtime::sync::WaitGroup;

use crate::gc_load::GcLoad;

/// Shortest and longest sleep, ns.
const MIN_SLEEP_NS: u64 = 50_000;
const SLEEP_SPREAD_NS: u64 = 200_000;

/// Measures `sleeps` sleeps as phase `phase` and prints one `irqlat:` line
/// per timer interrupt seen meanwhile (the load's slices included). With
/// `load`, prints the GC-load heap's pauses in the same window.
pub fn latency(phase: &str, sleeps: u64, load: Option<&GcLoad>) {
    let done = alloc::sync::Arc::new(WaitGroup::new());
    done.add(1);
    let finished = alloc::sync::Arc::clone(&done);
    shim::timer_latency::start();
    let start = shim::time::now_ns();
    let spawned = Builder::new().name("kbench-sleeper").cpu(0).spawn(move || {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..sleeps {
            // xorshift: varied deadlines, the same ones on every run.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            sched::sleep_until(shim::time::now_ns() + MIN_SLEEP_NS + seed % SLEEP_SPREAD_NS);
        }
        finished.done();
    });
    if spawned.is_err() {
        shim::timer_latency::stop();
        shim::println!("kbench-error: irqlat-{phase} no memory for a goroutine");
        return;
    }
    done.wait();
    let end = shim::time::now_ns();
    let seen = shim::timer_latency::stop();
    for late in shim::timer_latency::samples() {
        shim::println!("irqlat: {phase} {late}");
    }
    shim::println!("kbench-info: irqlat_{phase} window {start} {end} interrupts {seen}");
    if let Some(load) = load {
        load.report_pauses(start, end);
    }
}
