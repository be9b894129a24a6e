//! The cost of switching goroutines: two goroutines on one CPU taking
//! turns, directly (`yield_now`) and through channels.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use runtime::sched::{self, Builder};
use runtime::sync::{WaitGroup, bounded};

/// Runs `a` and `b` as two goroutines bound to CPU 0 and waits for both.
/// Returns the guest ns from their start to the end of both.
fn on_cpu0(a: impl FnOnce() + Send + 'static, b: impl FnOnce() + Send + 'static) -> Result<u64, &'static str> {
    let done = Arc::new(WaitGroup::new());
    done.add(2);
    let spawn = |name: &'static str, body: Box<dyn FnOnce() + Send>| {
        let done = Arc::clone(&done);
        Builder::new().name(name).cpu(0).spawn(move || {
            body();
            done.done();
        })
    };
    let start = shim::time::now_ns();
    spawn("kbench-a", Box::new(a)).map_err(|_| "no memory for a goroutine")?;
    if spawn("kbench-b", Box::new(b)).is_err() {
        // `b` is dropped unrun, so `a` ends alone (its channel closes or
        // its rounds run out).
        return Err("no memory for a goroutine");
    }
    done.wait();
    Ok(shim::time::now_ns() - start)
}

/// Two goroutines yielding to each other `rounds` times each: (ns, switches).
pub fn goroutine_switch(rounds: u64) -> Result<(u64, u64), &'static str> {
    let finished = Arc::new(AtomicBool::new(false));
    let other = Arc::clone(&finished);
    let ns = on_cpu0(
        move || {
            for _ in 0..rounds {
                sched::yield_now();
            }
            finished.store(true, Ordering::Release);
        },
        move || {
            while !other.load(Ordering::Acquire) {
                sched::yield_now();
            }
        },
    )?;
    Ok((ns, 2 * rounds))
}

/// A value sent back and forth over two unbuffered-size channels `rounds`
/// times: (ns, round trips).
pub fn channel_ping_pong(rounds: u64) -> Result<(u64, u64), &'static str> {
    let (ping, ping_rx) = bounded::<u64>(1);
    let (pong, pong_rx) = bounded::<u64>(1);
    let ns = on_cpu0(
        move || {
            for i in 0..rounds {
                if ping.send(i).is_err() || pong_rx.recv() != Ok(i) {
                    return;
                }
            }
        },
        move || {
            while let Ok(i) = ping_rx.recv() {
                if pong.send(i).is_err() {
                    return;
                }
            }
        },
    )?;
    Ok((ns, rounds))
}
