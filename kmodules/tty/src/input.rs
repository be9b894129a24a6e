//! The input goroutine: moves bytes from the UART into the terminal.
//!
//! Known weakness: the shim has no UART interrupt yet (no IOAPIC), so this
//! goroutine polls [`shim::console::try_read_byte`], draining what has
//! arrived and then sleeping [`POLL_INTERVAL`] when nothing came. That
//! costs a wake-up every few milliseconds on an idle machine and adds up
//! to that much input latency; a real 16550 (16-byte FIFO) would also lose
//! bytes of a fast paste (QEMU holds them back instead). Interrupt-driven
//! input replaces it once the shim routes the UART's IRQ.

use core::time::Duration;

use crate::device::TTY;

/// How long the goroutine sleeps when no byte came.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Bytes handed to the line discipline at a time.
const BATCH: usize = 64;

/// Starts the input goroutine.
pub(crate) fn spawn() -> Result<(), runtime::sched::SpawnError> {
    runtime::sched::Builder::new().name("tty-input").spawn(poll_forever)?;
    Ok(())
}

fn poll_forever() {
    let mut batch = [0; BATCH];
    loop {
        let mut n = 0;
        while n < BATCH
            && let Some(byte) = shim::console::try_read_byte()
        {
            batch[n] = byte;
            n += 1;
        }
        if n == 0 {
            runtime::sched::sleep(POLL_INTERVAL);
        } else {
            TTY.receive(&batch[..n]);
        }
    }
}
