//! In-kernel tests of the blocking paths (they need the scheduler).

use alloc::vec;
use core::time::Duration;

use abi::errno::{EAGAIN, EINTR, EPIPE};
use abi::flags::open::O_NONBLOCK;
use fs::File;
use runtime::heap::census;
use runtime::sched::{clear_interrupt, interrupter, sleep, spawn};
use runtime::sync::bounded;
use shim::ktest;

use crate::{PIPE_CAPACITY, ends, pipe};

/// The byte at offset `i` of the test stream (not periodic in any chunk
/// size the tests use, so a lost or repeated chunk shows).
fn pattern(i: usize) -> u8 {
    (i ^ (i >> 8) ^ (i >> 16)).wrapping_mul(31) as u8
}

ktest! {
    fn megabyte_crosses_between_goroutines_intact() {
        const TOTAL: usize = 1 << 20;
        let (read, write) = pipe(0).expect("a pipe");
        let (done_tx, done_rx) = bounded(1);
        spawn(move || {
            let mut sent = 0;
            let mut size = 1;
            while sent < TOTAL {
                let chunk: alloc::vec::Vec<u8> = (sent..TOTAL.min(sent + size)).map(pattern).collect();
                let n = write.write(&chunk).expect("write");
                assert_eq!(n, chunk.len(), "a blocking write writes everything");
                sent += n;
                size = size * 7 % 9001 + 1;
            }
            drop(write);
            done_tx.send(sent).expect("report");
        })
        .expect("spawn the writer");
        let mut buf = vec![0; 10_000];
        let (mut got, mut size) = (0, 3);
        loop {
            let n = read.read(&mut buf[..size]).expect("read");
            if n == 0 {
                break;
            }
            for (k, byte) in buf[..n].iter().enumerate() {
                assert_eq!(*byte, pattern(got + k), "byte {}", got + k);
            }
            got += n;
            size = size * 13 % 10_000 + 1;
        }
        assert_eq!(got, TOTAL);
        assert_eq!(done_rx.recv(), Ok(TOTAL));
    }
}

ktest! {
    fn blocked_reader_sees_eof_when_the_writer_closes() {
        let (read, write) = pipe(0).expect("a pipe");
        let (tx, rx) = bounded(1);
        spawn(move || tx.send(read.read(&mut [0; 16])).expect("report")).expect("spawn the reader");
        sleep(Duration::from_millis(5));
        drop(write);
        assert_eq!(rx.recv(), Ok(Ok(0)));
    }
}

ktest! {
    fn blocked_writer_gets_epipe_when_the_reader_closes() {
        let (read, write) = pipe(0).expect("a pipe");
        assert_eq!(write.write(&vec![1; PIPE_CAPACITY]), Ok(PIPE_CAPACITY));
        spawn(move || {
            sleep(Duration::from_millis(5));
            drop(read);
        })
        .expect("spawn the closer");
        assert_eq!(write.write(b"x"), Err(EPIPE));
    }
}

ktest! {
    fn nonblocking_ends_say_eagain_and_fcntl_turns_it_off() {
        let (read, write) = pipe(O_NONBLOCK).expect("a pipe");
        assert_eq!(read.read(&mut [0; 4]), Err(EAGAIN));
        assert_eq!(write.write(&vec![0; PIPE_CAPACITY]), Ok(PIPE_CAPACITY));
        assert_eq!(write.write(b"x"), Err(EAGAIN));
        // Blocking again: the write waits for the reader below.
        write.set_status_flags(0);
        let reader = read.clone();
        spawn(move || {
            sleep(Duration::from_millis(5));
            reader.read(&mut vec![0; PIPE_CAPACITY]).expect("drain");
        })
        .expect("spawn the drainer");
        assert_eq!(write.write(b"x"), Ok(1));
    }
}

ktest! {
    fn interrupted_waits_end_with_eintr_or_a_count() {
        let (read, write) = pipe(0).expect("a pipe");
        let (tx, rx) = bounded(1);
        let (result_tx, result_rx) = bounded(1);
        let write_end = write.clone();
        spawn(move || {
            tx.send(interrupter()).expect("hand over the interrupter");
            // Nothing to read: interrupted before any byte moved.
            let read_result = read.read(&mut [0; 8]).map_err(|e| e.0);
            clear_interrupt();
            result_tx.send(read_result).expect("report");
            // Twice the capacity with nobody reading: interrupted halfway.
            let write_result = write_end.write(&vec![0; 2 * PIPE_CAPACITY]).map_err(|e| e.0);
            clear_interrupt();
            result_tx.send(write_result).expect("report");
        })
        .expect("spawn the blocked goroutine");
        let target = rx.recv().expect("interrupter");
        sleep(Duration::from_millis(5));
        assert!(target.interrupt());
        assert_eq!(result_rx.recv(), Ok(Err(EINTR.0)));
        // The flag is cleared: the next interrupt is for the write.
        sleep(Duration::from_millis(5));
        assert!(target.interrupt());
        assert_eq!(result_rx.recv(), Ok(Ok(PIPE_CAPACITY)));
        drop(write);
    }
}

ktest! {
    /// A pipe's state is a managed object: its ring, allocated as data
    /// arrives, is counted as managed in the census, and once both ends
    /// are closed the collector gives the ring back.
    fn a_closed_pipe_is_reclaimed_and_its_ring_counted_as_managed() {
        let capacity = PIPE_CAPACITY as u64;
        // The first pipe also creates the shared-object heaps.
        drop(ends::open(0).expect("a first pipe"));
        let before = census::snapshot();
        let (read, write) = ends::open(0).expect("a pipe");
        let created = census::snapshot().since(before);
        // What stays plain: the two ends and the object holding the handle
        // and wait queues (a few hundred bytes).
        assert!(created.plain.allocated < 1024, "pipe creation allocated plain memory: {created:?}");
        assert!(created.managed.allocated < 1024, "an empty pipe has no ring buffer yet: {created:?}");
        let data = alloc::vec![7u8; PIPE_CAPACITY];
        let filling = census::snapshot();
        assert_eq!(write.write(&data), Ok(PIPE_CAPACITY));
        let filled = census::snapshot().since(filling);
        assert!(filled.managed.allocated >= capacity, "ring not counted as managed: {filled:?}");
        let heap = read.pipe.heap();
        heap.collect();
        let live = heap.stats().bytes_live();
        drop((read, write));
        heap.collect();
        let freed = live.saturating_sub(heap.stats().bytes_live());
        assert!(freed >= capacity, "closing both ends freed only {freed} bytes of the pipe's heap");
    }
}
