//! In-kernel tests of the terminal's blocking reads and signals, with
//! input injected where the input goroutine would feed it.

use core::sync::atomic::{AtomicI64, Ordering};
use core::time::Duration;

use abi::errno::{EAGAIN, EINTR};
use abi::flags::open::{O_NONBLOCK, O_RDWR};
use abi::flags::signal::SIGINT;
use runtime::sched::{clear_interrupt, interrupter, sleep, spawn};
use runtime::sync::bounded;
use shim::ktest;

use crate::device::{TTY, open};
use crate::termios::{ECHO, sane};
use crate::{CONSOLE_RDEV, set_foreground, set_signal_hook};

/// Runs `test` with echo off (the serial log stays clean) and restores the
/// defaults and an empty input queue afterwards.
fn quietly(test: impl FnOnce()) {
    let mut termios = sane();
    termios.c_lflag &= !ECHO;
    TTY.with(|s| s.ldisc.set_termios(termios));
    test();
    TTY.with(|s| {
        s.ldisc.flush_input();
        s.ldisc.set_termios(sane());
    });
}

ktest! {
    fn blocked_read_gets_the_line_then_eof() {
        quietly(|| {
            let (tx, rx) = bounded(2);
            spawn(move || {
                let file = open(CONSOLE_RDEV, O_RDWR).expect("open");
                for _ in 0..2 {
                    let mut buf = [0; 16];
                    let n = file.read(&mut buf).expect("read");
                    tx.send(buf[..n].to_vec()).expect("report");
                }
            })
            .expect("spawn the reader");
            sleep(Duration::from_millis(5));
            TTY.receive(b"hi\r");
            assert_eq!(rx.recv().expect("line"), b"hi\n");
            TTY.receive(&[0x04]);
            assert_eq!(rx.recv().expect("eof"), b"");
        });
    }
}

ktest! {
    fn nonblocking_read_is_eagain_and_blocking_read_is_interruptible() {
        quietly(|| {
            let file = open(CONSOLE_RDEV, O_RDWR | O_NONBLOCK).expect("open");
            assert_eq!(file.read(&mut [0; 4]), Err(EAGAIN));
            file.set_status_flags(0);
            let (tx, rx) = bounded(1);
            let (result_tx, result_rx) = bounded(1);
            spawn(move || {
                tx.send(interrupter()).expect("hand over the interrupter");
                let result = file.read(&mut [0; 4]).map_err(|e| e.0);
                clear_interrupt();
                result_tx.send(result).expect("report");
            })
            .expect("spawn the reader");
            let target = rx.recv().expect("interrupter");
            sleep(Duration::from_millis(5));
            assert!(target.interrupt());
            assert_eq!(result_rx.recv(), Ok(Err(EINTR.0)));
        });
    }
}

/// The last (group, signal) the test hook saw, packed; -1: none.
static SEEN: AtomicI64 = AtomicI64::new(-1);

fn record(group: i32, signal: u32) {
    SEEN.store((i64::from(group) << 32) | i64::from(signal), Ordering::SeqCst);
}

ktest! {
    fn ctrl_c_signals_the_foreground_group_only() {
        quietly(|| {
            set_signal_hook(record);
            set_foreground(0);
            TTY.receive(&[0x03]);
            assert_eq!(SEEN.load(Ordering::SeqCst), -1, "no foreground group: dropped");
            set_foreground(42);
            TTY.receive(b"typed\x03");
            assert_eq!(SEEN.load(Ordering::SeqCst), (42 << 32) | i64::from(SIGINT));
            assert!(!TTY.with(|s| s.ldisc.readable()));
            set_foreground(0);
        });
    }
}
