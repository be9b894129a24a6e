//! The serial console (COM1, 16550 UART): kernel output and raw byte input.
//!
//! [`print!`] and [`println!`] write here; the log facade in
//! [`crate::logger`] does too. Output goes through an [`IrqMutex`], so an
//! interrupt handler may print without deadlocking the code it interrupted.

use core::fmt::{self, Write};

use uart_16550::backend::PioBackend;
use uart_16550::{Config, Uart16550Tty};

use crate::irq::IrqMutex;

/// I/O port base of COM1.
const COM1: u16 = 0x3f8;

static CONSOLE: IrqMutex<Option<Uart16550Tty<PioBackend>>> = IrqMutex::new(None);

/// Initializes COM1 (115200 8N1). Before this, output is dropped.
pub(crate) fn init() {
    // SAFETY: COM1 at 0x3f8 is the standard PC serial port on every machine
    // Hardtack boots on (QEMU q35/pc); the shim is its only user.
    let uart = unsafe { Uart16550Tty::new_port(COM1, Config::default()) };
    *CONSOLE.lock() = uart.ok();
}

/// Writes formatted text to the console; used by the print macros.
#[doc(hidden)]
pub fn write_fmt(args: fmt::Arguments<'_>) {
    if let Some(uart) = CONSOLE.lock().as_mut() {
        let _ = uart.write_fmt(args);
    }
}

/// Writes raw bytes, with no newline translation (for a TTY layer).
pub fn write_bytes(bytes: &[u8]) {
    if let Some(uart) = CONSOLE.lock().as_mut() {
        uart.inner_mut().send_bytes_exact(bytes);
    }
}

/// Reads one byte if the UART has received one.
pub fn try_read_byte() -> Option<u8> {
    CONSOLE.lock().as_mut()?.inner_mut().try_receive_byte().ok()
}

/// Makes the console usable from the panic path even if the panicking code
/// held its lock.
pub(crate) fn break_lock_for_panic() {
    // SAFETY: called only after the other CPUs were stopped and with
    // interrupts off, so the holder (if any) is the code that panicked,
    // which never resumes.
    unsafe { CONSOLE.force_unlock() }
}

/// Prints to the serial console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::write_fmt(format_args!($($arg)*)) };
}

/// Prints to the serial console, with a newline.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::write_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}
