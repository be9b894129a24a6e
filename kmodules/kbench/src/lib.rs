//! In-kernel benchmarks, run by `cargo xtask bench` after the user-space
//! ones (the kernel runs them when init exits if booted with `kbench`).
//!
//! Each prints machine-readable lines on the console (the protocol is in
//! bench/README.md): `kbench: <name> <ns> ns <iterations>` for the
//! goroutine switch, the channel ping-pong, a heap scope and a spin lock,
//! one `irqlat: <phase> <ns>`
//! per timer interrupt for the latency phases (`idle`, `gc-load`), and one
//! `kgcpause: …` per pause of the GC-load heap. The goroutines involved are
//! bound to CPU 0, so the figures mean the same with any `-smp`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod gc_load;
mod scope;
mod switch;
mod timer;

/// Iterations at scale 1 (`kbench.scale` multiplies them).
const SWITCH_ROUNDS: u64 = 20_000;
const PING_PONG_ROUNDS: u64 = 5_000;
const SCOPE_ROUNDS: u64 = 20_000;
const TIMER_SLEEPS: u64 = 1_000;

/// Runs every benchmark, `scale` times the base iterations, and prints the
/// results.
pub fn run(scale: u64) {
    let scale = scale.max(1);
    shim::println!("kbench-info: start (scale {scale})");
    report("goroutine_switch", switch::goroutine_switch(SWITCH_ROUNDS * scale));
    report("chan_pingpong", switch::channel_ping_pong(PING_PONG_ROUNDS * scale));
    report("heap_scope", scope::heap_scope(SCOPE_ROUNDS * scale));
    report("spin_lock", scope::spin_lock(SCOPE_ROUNDS * scale));
    timer::latency("idle", TIMER_SLEEPS * scale, None);
    let load = gc_load::GcLoad::start();
    timer::latency("gc-load", TIMER_SLEEPS * scale, load.as_ref());
    if let Some(load) = load {
        load.stop_and_report();
    }
    shim::println!("kbench: done");
}

/// Prints one figure: (ns per operation, operations), or an error.
fn report(name: &str, result: Result<(u64, u64), &'static str>) {
    match result {
        Ok((total_ns, ops)) => {
            let tenths = total_ns * 10 / ops.max(1);
            shim::println!("kbench: {name} {}.{} ns {ops}", tenths / 10, tenths % 10);
        }
        Err(why) => shim::println!("kbench-error: {name} {why}"),
    }
}
