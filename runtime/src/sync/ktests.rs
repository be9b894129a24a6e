//! In-kernel tests of the blocking primitives.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;

use shim::ktest;
use shim::time::now_ns;

use super::{
    Condvar, Mutex, RecvError, Select, SpinLock, TryRecvError, TrySendError, WaitGroup, WaitQueue, bounded, unbounded,
};
use crate::sched::ktests::{run_all, run_on_each_cpu};
use crate::sched::{sleep, spawn, yield_now};

ktest! {
    fn mutex_keeps_contended_updates_exact() {
        const WORKERS: usize = 8;
        const ROUNDS: usize = 500;
        // A plain (non-atomic) read-modify-write with a yield in the middle:
        // without mutual exclusion, updates would be lost.
        let total = Arc::new(Mutex::new(0usize));
        let shared = Arc::clone(&total);
        run_all(WORKERS, 32, move |_| {
            for _ in 0..ROUNDS {
                let mut value = shared.lock();
                let read = *value;
                yield_now();
                *value = read + 1;
            }
        });
        assert_eq!(*total.lock(), WORKERS * ROUNDS);
    }
}

ktest! {
    fn mutex_counter_is_exact_across_cpus() {
        // Two goroutines bound to each CPU: the critical sections really
        // run in parallel, and a lost update would show in the total.
        const ROUNDS: usize = 2_000;
        let total = Arc::new(Mutex::new(0usize));
        let shared = Arc::clone(&total);
        run_on_each_cpu(2, move |_, _| {
            for round in 0..ROUNDS {
                let mut value = shared.lock();
                let read = *value;
                for _ in 0..round % 64 {
                    core::hint::spin_loop();
                }
                *value = read + 1;
            }
        });
        let cpus = crate::sched::cpus().len();
        assert_eq!(*total.lock(), cpus * 2 * ROUNDS);
    }
}

ktest! {
    fn condvar_hands_over_work() {
        let queue = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let consumer_side = Arc::clone(&queue);
        let consumed = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&consumed);
        let group = Arc::new(WaitGroup::new());
        group.add(1);
        let done = Arc::clone(&group);
        spawn(move || {
            let (items, ready) = &*consumer_side;
            let mut seen = 0;
            while seen < 100 {
                let mut guard = ready.wait_while(items.lock(), |v: &mut Vec<usize>| v.is_empty());
                seen += guard.len();
                count.fetch_add(guard.drain(..).sum::<usize>(), Ordering::Relaxed);
            }
            done.done();
        })
        .expect("spawn");
        let (items, ready) = &*queue;
        for i in 0..100 {
            items.lock().push(i);
            ready.notify_one();
            if i % 7 == 0 {
                yield_now();
            }
        }
        group.wait();
        assert_eq!(consumed.load(Ordering::Relaxed), (0..100).sum::<usize>());
    }
}

ktest! {
    fn bounded_channel_blocks_senders_and_keeps_order() {
        let (tx, rx) = bounded::<usize>(4);
        assert_eq!(tx.try_send(0), Ok(()));
        let producers = 4;
        let per_producer = 250;
        for p in 0..producers {
            let tx = tx.clone();
            spawn(move || {
                for i in 0..per_producer {
                    tx.send(p * 1000 + i).expect("send");
                }
            })
            .expect("spawn");
        }
        drop(tx);
        assert_eq!(rx.recv(), Ok(0));
        let mut last = [None; 4];
        let mut received = 0;
        while let Ok(value) = rx.recv() {
            let (p, i) = (value / 1000, value % 1000);
            // Per-producer FIFO order.
            assert!(last[p].is_none_or(|prev| prev < i), "out of order: {prev:?} then {i}", prev = last[p]);
            last[p] = Some(i);
            received += 1;
        }
        assert_eq!(received, producers * per_producer);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }
}

ktest! {
    fn channel_close_and_disconnect() {
        let (tx, rx) = unbounded::<u32>();
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        tx.close();
        assert!(tx.send(3).is_err(), "send after close");
        // Receivers drain what was buffered, then see the close.
        assert_eq!((rx.recv(), rx.recv(), rx.recv()), (Ok(1), Ok(2), Err(RecvError)));

        let (tx, rx) = bounded::<u32>(1);
        tx.send(1).unwrap();
        assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
        // A sender blocked on a full channel fails when the receiver goes.
        let blocked = tx.clone();
        let group = Arc::new(WaitGroup::new());
        group.add(1);
        let done = Arc::clone(&group);
        spawn(move || {
            assert!(blocked.send(2).is_err());
            done.done();
        })
        .expect("spawn");
        yield_now();
        drop(rx);
        group.wait();
    }
}

ktest! {
    fn receive_times_out() {
        let (_tx, rx) = bounded::<u32>(1);
        let start = now_ns();
        assert_eq!(rx.recv_timeout(Duration::from_millis(10)), Err(TryRecvError::Empty));
        assert!(now_ns() - start >= 10_000_000);
    }
}

ktest! {
    fn select_waits_on_several_channels() {
        let (a_tx, a_rx) = bounded::<u32>(1);
        let (b_tx, b_rx) = bounded::<u32>(1);
        let (ack_tx, ack_rx) = bounded::<()>(1);
        // The sender sends on b, waits until the select took it, then on a:
        // the order is causal, not a matter of timing.
        spawn(move || {
            sleep(Duration::from_millis(2));
            b_tx.send(2).expect("b");
            ack_rx.recv().expect("ack");
            a_tx.send(1).expect("a");
        })
        .expect("spawn");
        let mut got = Vec::new();
        while got.len() < 2 {
            let mut select = Select::new();
            let a = select.recv(&a_rx);
            let b = select.recv(&b_rx);
            let index = select.ready();
            let value = if index == a { a_rx.try_recv() } else if index == b { b_rx.try_recv() } else { unreachable!() };
            if let Ok(value) = value {
                got.push(value);
                let _ = ack_tx.send(()); // fails after the last value: the sender is gone
            }
        }
        assert_eq!(got, [2, 1]);
        // The sender is done: once its goroutine has dropped `a_tx` (on
        // whichever CPU), the closed channel is ready.
        let mut select = Select::new();
        let a = select.recv(&a_rx);
        assert_eq!(select.ready(), a);
        assert_eq!(a_rx.try_recv(), Err(TryRecvError::Closed));
        // Nothing ready and no close: the deadline ends the wait.
        let (_keep, idle_rx) = bounded::<u32>(1);
        let (full_tx, _keep_rx) = bounded::<u32>(1);
        full_tx.send(0).unwrap();
        let mut select = Select::new();
        select.recv(&idle_rx);
        select.send(&full_tx);
        let start = now_ns();
        assert_eq!(select.ready_deadline(start + 5_000_000), None);
        assert!(now_ns() - start >= 5_000_000);
    }
}

ktest! {
    fn wait_group_waits_for_all() {
        let finished = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&finished);
        run_all(32, 32, move |i| {
            sleep(Duration::from_micros(100 * (i as u64 % 5)));
            counter.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(finished.load(Ordering::Relaxed), 32);
    }
}

ktest! {
    fn wait_queue_wakes_one_at_a_time() {
        let queue = Arc::new(WaitQueue::new());
        let tickets = Arc::new(AtomicUsize::new(0));
        let woken = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let (queue, tickets, woken) = (Arc::clone(&queue), Arc::clone(&tickets), Arc::clone(&woken));
            spawn(move || {
                queue.wait_for(|| {
                    tickets.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(1)).ok()
                });
                woken.fetch_add(1, Ordering::Relaxed);
            })
            .expect("spawn");
        }
        while queue.len() < 3 {
            yield_now();
        }
        for expected in 1..=3 {
            tickets.fetch_add(1, Ordering::AcqRel);
            assert!(queue.wake_one());
            while woken.load(Ordering::Relaxed) < expected {
                yield_now();
            }
            assert_eq!(woken.load(Ordering::Relaxed), expected);
        }
    }
}

ktest! {
    fn spin_lock_pins_its_holder_and_counts_exactly() {
        let lock = Arc::new(SpinLock::new(0u64));
        let before = shim::percpu::preempt_count();
        {
            let mut held = lock.lock();
            *held += 1;
            assert_eq!(shim::percpu::preempt_count(), before + 1, "a holder cannot be switched away");
        }
        assert_eq!(shim::percpu::preempt_count(), before);
        let shared = Arc::clone(&lock);
        run_all(4, 32, move |_| {
            for _ in 0..1000 {
                *shared.lock() += 1;
            }
        });
        assert_eq!(*lock.lock(), 4001);
    }
}
