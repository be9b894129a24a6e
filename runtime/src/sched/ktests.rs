//! In-kernel tests of the scheduler (run by `cargo xtask test`), and its
//! two microbenchmark figures (reported as notes, never asserted).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;

use shim::ktest;
use shim::time::{now_ns, rdtsc};

use super::{Builder, Waiter, cpu_index, cpus, goroutines, sleep, spawn, yield_now};
use crate::sync::{WaitGroup, bounded};

/// Spawns `n` goroutines running `body(i)` on `stack_kib` KiB stacks and
/// waits for all of them.
pub(crate) fn run_all(n: usize, stack_kib: u64, body: impl Fn(usize) + Send + Sync + 'static) {
    let body = Arc::new(body);
    let group = Arc::new(WaitGroup::new());
    group.add(n);
    for i in 0..n {
        let (body, group) = (Arc::clone(&body), Arc::clone(&group));
        Builder::new()
            .name("test")
            .stack_kib(stack_kib)
            .spawn(move || {
                body(i);
                // Whatever the body captured is dropped before the waiter
                // is told, not later on this CPU while the next test runs.
                drop(body);
                group.done();
            })
            .expect("spawn");
    }
    group.wait();
}

/// Runs `body(cpu, i)` in `per_cpu` goroutines bound to each CPU that runs
/// the scheduler, and waits for all of them.
pub(crate) fn run_on_each_cpu(per_cpu: usize, body: impl Fn(usize, usize) + Send + Sync + 'static) {
    let body = Arc::new(body);
    let online: alloc::vec::Vec<usize> = cpus().iter().map(|c| c.index).collect();
    let group = Arc::new(WaitGroup::new());
    group.add(online.len() * per_cpu);
    for &cpu in &online {
        for i in 0..per_cpu {
            let (body, group) = (Arc::clone(&body), Arc::clone(&group));
            Builder::new()
                .name("test")
                .cpu(cpu)
                .spawn(move || {
                    assert_eq!(cpu_index(), cpu, "a goroutine bound to CPU {cpu} runs elsewhere");
                    body(cpu, i);
                    assert_eq!(cpu_index(), cpu, "a goroutine bound to CPU {cpu} moved");
                    drop(body); // as in `run_all`
                    group.done();
                })
                .expect("spawn");
        }
    }
    group.wait();
}

/// Runs `body` in one goroutine bound to CPU 0 and waits for it: there,
/// goroutines it spawns bound to CPU 0 too compete for one CPU.
fn on_cpu_zero(body: impl FnOnce() + Send + 'static) {
    let group = Arc::new(WaitGroup::new());
    group.add(1);
    let done = Arc::clone(&group);
    Builder::new()
        .name("test")
        .cpu(0)
        .spawn(move || {
            body();
            done.done();
        })
        .expect("spawn");
    group.wait();
}

/// Spawns `f` bound to CPU 0.
fn spawn_on_cpu_zero(f: impl FnOnce() + Send + 'static) {
    Builder::new().name("test").cpu(0).spawn(f).expect("spawn");
}

ktest! {
    fn ten_thousand_goroutines_spawned_and_joined() {
        const N: usize = 10_000;
        let sum = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&sum);
        let start = now_ns();
        // All 10k exist at once (nothing runs until the spawner waits):
        // 16 KiB stacks keep that at 160 MiB.
        run_all(N, 16, move |i| {
            counter.fetch_add(i, Ordering::Relaxed);
        });
        let elapsed = now_ns() - start;
        assert_eq!(sum.load(Ordering::Relaxed), N * (N - 1) / 2);
        ktest::note(format_args!("spawn + run + join: {} ns per goroutine ({N} goroutines)", elapsed / N as u64));
        // Dead goroutines are gone (their stacks retired or cached) once
        // each has switched out for the last time, which the last ones may
        // still be doing on other CPUs after `done()` (as may those of
        // earlier tests, also named "test").
        let left = || goroutines().iter().filter(|g| g.name == "test").count();
        let start = now_ns();
        while left() > 0 && now_ns() - start < 10_000_000_000 {
            yield_now();
        }
        assert_eq!(left(), 0, "finished goroutines are still registered");
    }
}

ktest! {
    fn goroutines_can_spawn_goroutines_and_yield() {
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&hits);
        run_all(16, 32, move |_| {
            let inner = Arc::clone(&counted);
            run_all(16, 16, move |_| {
                for _ in 0..4 {
                    inner.fetch_add(1, Ordering::Relaxed);
                    yield_now();
                }
            });
        });
        assert_eq!(hits.load(Ordering::Relaxed), 16 * 16 * 4);
    }
}

ktest! {
    fn channel_ping_pong() {
        const ROUNDS: u64 = 5_000;
        let (ping_tx, ping_rx) = bounded::<u64>(1);
        let (pong_tx, pong_rx) = bounded::<u64>(1);
        spawn(move || {
            while let Ok(n) = ping_rx.recv() {
                pong_tx.send(n + 1).expect("pong");
            }
        })
        .expect("spawn");
        let start = now_ns();
        for i in 0..ROUNDS {
            ping_tx.send(i).expect("ping");
            assert_eq!(pong_rx.recv(), Ok(i + 1));
        }
        let elapsed = now_ns() - start;
        drop(ping_tx);
        // The partner sees the close and exits; its end of pong closes.
        assert!(pong_rx.recv().is_err());
        ktest::note(format_args!("channel ping-pong: {} ns per round trip ({ROUNDS} rounds)", elapsed / ROUNDS));
    }
}

ktest! {
    fn goroutine_switch_cost() {
        // Both on CPU 0, so every yield really switches to the partner.
        on_cpu_zero(|| {
            const SWITCHES: u64 = 20_000;
            let stop = Arc::new(AtomicBool::new(false));
            let partner_stop = Arc::clone(&stop);
            spawn_on_cpu_zero(move || {
                while !partner_stop.load(Ordering::Relaxed) {
                    yield_now();
                }
            });
            yield_now(); // let the partner start
            let (t0, c0) = (now_ns(), rdtsc());
            for _ in 0..SWITCHES / 2 {
                yield_now();
            }
            let (ns, cycles) = (now_ns() - t0, rdtsc() - c0);
            stop.store(true, Ordering::Relaxed);
            yield_now(); // the partner sees `stop` and exits
            ktest::note(format_args!(
                "goroutine switch (yield to a yielding partner, both on CPU 0): {} cycles, {} ns per switch ({} CPU(s) online)",
                cycles / SWITCHES,
                ns / SWITCHES,
                cpus().len()
            ));
        });
    }
}

ktest! {
    fn sleep_lasts_at_least_its_duration() {
        const TRIES: usize = 3;
        for ms in [1u64, 5, 20, 50] {
            // Not a timing goal: only a sleep that lasts 20x too long on
            // every try (a lost timer rescued by something else) fails; a
            // host stalling this vCPU once makes only one try slow.
            let mut slept = [0; TRIES];
            for (i, time) in slept.iter_mut().enumerate() {
                let start = now_ns();
                sleep(Duration::from_millis(ms));
                *time = now_ns() - start;
                assert!(*time >= ms * 1_000_000, "asked for {ms} ms, slept {time} ns");
                if *time < ms * 20_000_000 {
                    ktest::note(format_args!("sleep {ms} ms: woke {} us late (TSC clock)", (*time - ms * 1_000_000) / 1000));
                    break;
                }
                assert!(i + 1 < TRIES, "asked for {ms} ms, slept {slept:?} ns");
            }
        }
    }
}

ktest! {
    fn sleepers_wake_in_deadline_order() {
        // All on CPU 0: one timer heap orders them even when the CPU is
        // late enough for several to expire at once (across CPUs, the
        // order would only be as good as each CPU's timer latency).
        // One base for all deadlines: a sleeper that starts late (its
        // spawner stalled) still wakes in deadline order.
        let (tx, rx) = bounded::<u64>(8);
        let base = now_ns();
        for ms in [30u64, 10, 20] {
            let tx = tx.clone();
            spawn_on_cpu_zero(move || {
                super::sleep_until(base + ms * 1_000_000);
                tx.send(ms).expect("send");
            });
        }
        drop(tx);
        let order: alloc::vec::Vec<u64> = core::iter::from_fn(|| rx.recv().ok()).collect();
        assert_eq!(order, [10, 20, 30]);
    }
}

ktest! {
    fn spinning_goroutine_is_preempted() {
        // A goroutine that never yields spins until another one sets a flag.
        // On one CPU only preemption lets the other one run: all of them
        // are bound to CPU 0, and spawned there (so no reschedule IPI
        // lets the setter in early).
        const GIVE_UP_NS: u64 = 5_000_000_000;
        let flag = Arc::new(AtomicBool::new(false));
        let spun_ns = Arc::new(AtomicU64::new(0));
        let preemptions_before: u64 = cpus().iter().map(|c| c.preemptions).sum();
        let (spin_flag, spin_ns) = (Arc::clone(&flag), Arc::clone(&spun_ns));
        let setter_flag = Arc::clone(&flag);
        let group = Arc::new(WaitGroup::new());
        group.add(2);
        let (g1, g2) = (Arc::clone(&group), Arc::clone(&group));
        let spinner = move || {
            let start = now_ns();
            while !spin_flag.load(Ordering::Relaxed) && now_ns() - start < GIVE_UP_NS {
                core::hint::spin_loop();
            }
            spin_ns.store(now_ns() - start, Ordering::Relaxed);
            g1.done();
        };
        let setter = move || {
            setter_flag.store(true, Ordering::Relaxed);
            g2.done();
        };
        on_cpu_zero(move || {
            spawn_on_cpu_zero(spinner);
            spawn_on_cpu_zero(setter);
            group.wait();
        });
        assert!(flag.load(Ordering::Relaxed));
        let spun = spun_ns.load(Ordering::Relaxed);
        assert!(spun < GIVE_UP_NS, "the spinner was never preempted");
        let preemptions: u64 = cpus().iter().map(|c| c.preemptions).sum::<u64>() - preemptions_before;
        ktest::note(format_args!(
            "spinner ran {} ms before the other goroutine got a CPU ({preemptions} preemptions, slice {} ms)",
            spun / 1_000_000,
            super::config().slice_ns / 1_000_000
        ));
    }
}

ktest! {
    fn stale_wake_tokens_wake_nothing() {
        // A token from a finished wait must not end a later one.
        let waiter = Waiter::begin();
        let stale = waiter.token();
        waiter.cancel();
        let second = Waiter::begin();
        assert!(!stale.wake(), "a stale token woke a later wait");
        let current = second.token();
        assert!(current.wake());
        second.park(); // returns at once: already woken
        assert!(!current.wake(), "a token woke twice");
    }
}

ktest! {
    fn ps_lists_goroutines_and_cpus() {
        let me = super::current_id().expect("tests run in a goroutine");
        let all = goroutines();
        let main = all.iter().find(|g| g.id == me).expect("the running goroutine is listed");
        assert_eq!(main.name, "main");
        assert_eq!(main.state, super::State::Running);
        assert!(all.iter().any(|g| g.name == "idle"));
        assert!(!cpus().is_empty());
        super::ps();
    }
}

ktest! {
    /// Fails on purpose (only under `ktest.selftest`): a goroutine overflows
    /// its stack; xtask checks that the guard page caught it and that the
    /// report names the goroutine and symbolizes the recursion.
    ///
    /// The goroutine starts recursing only after the note naming it is on
    /// the console: the overflow stops every CPU, so a note printed after
    /// it could be lost (and was, under host load).
    fn harness_selftest_goroutine_stack_overflow() {
        let (go, gate) = bounded::<()>(1);
        let id = spawn(move || {
            if gate.recv().is_ok() {
                core::hint::black_box(ktest::recurse_forever(0));
            }
        })
        .expect("spawn");
        ktest::note(format_args!("overflowing goroutine {id}"));
        go.send(()).expect("the overflowing goroutine waits at its gate");
        // A safety net only (the overflow stops the machine long before):
        // long enough for a host that stalls the other vCPU.
        sleep(Duration::from_secs(30));
        panic!("goroutine {id} overflowed its stack unnoticed");
    }
}

/// Two goroutines hand a value back and forth, waking each other into
/// `runnext` (or a bound queue's `next`); a third one queued behind them
/// must still get the CPU (the pair shares one time slice, then is
/// preempted). Returns the rounds played before the third ran.
fn ping_pong_pair_and_a_third(bound_to_cpu_zero: bool) -> u64 {
    const MAX_ROUNDS: u64 = 50_000;
    let third_ran = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicU64::new(0));
    let (ping_tx, ping_rx) = bounded::<u64>(1);
    let (pong_tx, pong_rx) = bounded::<u64>(1);
    let group = Arc::new(WaitGroup::new());
    group.add(3);
    let (g1, g2, g3) = (Arc::clone(&group), Arc::clone(&group), Arc::clone(&group));
    let ponger = move || {
        while let Ok(n) = ping_rx.recv() {
            if pong_tx.send(n).is_err() {
                break;
            }
        }
        g1.done();
    };
    let (stop, counted) = (Arc::clone(&third_ran), Arc::clone(&rounds));
    let pinger = move || {
        let mut n = 0;
        while n < MAX_ROUNDS && !stop.load(Ordering::Relaxed) {
            ping_tx.send(n).expect("ping");
            n = pong_rx.recv().expect("pong") + 1;
        }
        counted.store(n, Ordering::Relaxed);
        g2.done();
    };
    let flag = Arc::clone(&third_ran);
    let third = move || {
        flag.store(true, Ordering::Relaxed);
        g3.done();
    };
    if bound_to_cpu_zero {
        let driver = Arc::clone(&group);
        on_cpu_zero(move || {
            spawn_on_cpu_zero(ponger);
            spawn_on_cpu_zero(pinger);
            spawn_on_cpu_zero(third);
            driver.wait();
        });
    } else {
        for body in [
            alloc::boxed::Box::new(ponger) as alloc::boxed::Box<dyn FnOnce() + Send>,
            alloc::boxed::Box::new(pinger),
            alloc::boxed::Box::new(third),
        ] {
            spawn(body).expect("spawn");
        }
        group.wait();
    }
    let rounds = rounds.load(Ordering::Relaxed);
    assert!(rounds < MAX_ROUNDS, "the ping-pong pair kept the CPU for {rounds} rounds");
    rounds
}

ktest! {
    fn ping_pong_pair_does_not_starve_others() {
        // Free goroutines: with one CPU only the runnext slice rule lets
        // the third one in (with more, another CPU may steal it).
        let rounds = ping_pong_pair_and_a_third(false);
        ktest::note(format_args!("the third goroutine ran after {rounds} ping-pong rounds"));
    }
}

ktest! {
    fn bound_ping_pong_pair_does_not_starve_others() {
        // All three bound to CPU 0, whatever the CPU count.
        let rounds = ping_pong_pair_and_a_third(true);
        ktest::note(format_args!("the third bound goroutine ran after {rounds} ping-pong rounds"));
    }
}

ktest! {
    fn cpu_bound_fan_out_runs_on_every_cpu() {
        // Each goroutine spins (never blocks) until every CPU has started
        // one of them, so they all finish only if idle CPUs steal work.
        const PER_CPU: usize = 4;
        const GIVE_UP_NS: u64 = 30_000_000_000;
        let online: alloc::vec::Vec<usize> = cpus().iter().map(|c| c.index).collect();
        let started: Arc<[AtomicUsize; shim::percpu::MAX_CPUS]> = Arc::new([const { AtomicUsize::new(0) }; _]);
        let finished = Arc::new(AtomicUsize::new(0));
        let (seen, done, cpus_online) = (Arc::clone(&started), Arc::clone(&finished), online.clone());
        let total = online.len() * PER_CPU;
        run_all(total, 32, move |_| {
            seen[cpu_index()].fetch_add(1, Ordering::SeqCst);
            let start = now_ns();
            while cpus_online.iter().any(|&c| seen[c].load(Ordering::SeqCst) == 0) && now_ns() - start < GIVE_UP_NS {
                core::hint::spin_loop();
            }
            done.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(finished.load(Ordering::SeqCst), total);
        let per_cpu: alloc::vec::Vec<usize> = online.iter().map(|&c| started[c].load(Ordering::SeqCst)).collect();
        ktest::note(format_args!("{total} CPU-bound goroutines started per CPU: {per_cpu:?}"));
        assert!(per_cpu.iter().all(|&n| n > 0), "some CPU ran none of them: {per_cpu:?}");
    }
}

ktest! {
    fn channel_ping_pong_across_cpus() {
        // The two ends are bound to the first and the last CPU.
        const ROUNDS: u64 = 2_000;
        let last = cpus().last().expect("this CPU runs the scheduler").index;
        let (ping_tx, ping_rx) = bounded::<u64>(1);
        let (pong_tx, pong_rx) = bounded::<u64>(1);
        let group = Arc::new(WaitGroup::new());
        group.add(2);
        let (echo_done, driver_done) = (Arc::clone(&group), Arc::clone(&group));
        let elapsed = Arc::new(AtomicU64::new(0));
        let timed = Arc::clone(&elapsed);
        Builder::new()
            .cpu(last)
            .spawn(move || {
                while let Ok(n) = ping_rx.recv() {
                    assert_eq!(cpu_index(), last);
                    pong_tx.send(n * 2).expect("pong");
                }
                echo_done.done();
            })
            .expect("spawn");
        Builder::new()
            .cpu(0)
            .spawn(move || {
                let start = now_ns();
                for n in 0..ROUNDS {
                    ping_tx.send(n).expect("ping");
                    assert_eq!(pong_rx.recv(), Ok(n * 2), "round {n}");
                    assert_eq!(cpu_index(), 0);
                }
                timed.store(now_ns() - start, Ordering::Relaxed);
                drop(ping_tx);
                driver_done.done();
            })
            .expect("spawn");
        group.wait();
        ktest::note(format_args!(
            "channel ping-pong between CPU 0 and CPU {last}: {} ns per round trip",
            elapsed.load(Ordering::Relaxed) / ROUNDS
        ));
    }
}

ktest! {
    fn bound_goroutines_stay_on_their_cpu() {
        // Yielding and sleeping bound goroutines come back on their CPU
        // (`run_on_each_cpu` checks it before and after).
        run_on_each_cpu(3, |cpu, _| {
            for round in 0..20 {
                if round % 5 == 0 {
                    sleep(Duration::from_micros(200));
                } else {
                    yield_now();
                }
                assert_eq!(cpu_index(), cpu);
            }
        });
        assert!(matches!(Builder::new().cpu(shim::percpu::MAX_CPUS).spawn(|| {}), Err(super::SpawnError::NoSuchCpu(_))));
    }
}

ktest! {
    /// A goroutine's local value is its own, and is dropped in the
    /// goroutine when its body returns.
    fn goroutine_local_values_are_private_and_dropped_at_the_end() {
        struct Probe(Arc<AtomicBool>);
        impl Drop for Probe {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(AtomicBool::new(false));
        let (tx, rx) = bounded::<bool>(1);
        let probe = Arc::new(Probe(Arc::clone(&dropped)));
        spawn(move || {
            assert!(super::local().is_none(), "a new goroutine has no value");
            assert!(super::set_local(Some(probe)).is_none());
            let mine = super::local().is_some_and(|value| value.downcast::<Probe>().is_ok());
            tx.send(mine).expect("report");
        })
        .expect("spawn");
        assert_eq!(rx.recv(), Ok(true), "the goroutine reads its own value back");
        assert!(super::local().is_none(), "another goroutine's value is not ours");
        let deadline = now_ns() + 5_000_000_000;
        while !dropped.load(Ordering::SeqCst) {
            assert!(now_ns() < deadline, "the value was not dropped when its goroutine ended");
            yield_now();
        }
    }
}
