//! The serial console as a terminal: `/dev/console`, `/dev/ttyS0` and
//! `/dev/tty`, all one TTY on COM1.
//!
//! - `ldisc`: the line discipline, a pure state machine (Linux's
//!   N_TTY subset): `ICRNL`/`IGNCR`/`INLCR`/`ISTRIP` input mapping;
//!   canonical mode with erase (DEL or `^H`, `\b \b` echo, whole UTF-8
//!   characters with `IUTF8`), word erase (`^W`), kill (`^U`), end of file
//!   (`^D`), `VEOL`/`VEOL2`; echo with `ECHOCTL` caret forms and
//!   `ECHONL`; `ISIG` characters (`^C` SIGINT, `^\` SIGQUIT, `^Z` SIGTSTP)
//!   that flush input (unless `NOFLSH`) and signal the foreground process
//!   group; non-canonical mode with `VMIN` (`VTIME` is ignored);
//!   `OPOST` output with `ONLCR` and `OCRNL`. Defaults are Linux's for a
//!   new terminal (`stty sane`) minus `IXON`: no flow control.
//! - `device`: reads (blocking, interruptible: `EINTR`; `EAGAIN` with
//!   `O_NONBLOCK`), writes (synchronous, to the console), and the terminal
//!   `ioctl`s (`TCGETS`, `TCSETS*`, `TIOC[GS]WINSZ`, `TIOC[GS]PGRP`,
//!   `FIONREAD`, `TCFLSH`, `TIOCSCTTY`, `TIOCNOTTY`, `TCSBRK`; others
//!   `ENOTTY`). There is one terminal and no sessions: it is everybody's
//!   controlling terminal and background process groups are not stopped
//!   (no `SIGTTIN`/`SIGTTOU`).
//! - `input`: a goroutine polls the UART (see the `input` module for why
//!   this is a known weakness). Ctrl-T with `ISIG` prints the goroutine
//!   table (`runtime::sched::ps`), as the pre-TTY console goroutine did.
#![cfg_attr(target_os = "none", no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod device;
mod input;
mod ldisc;
mod termios;

#[cfg(feature = "ktest")]
mod ktests;

use abi::errno::{EEXIST, ENOMEM};
use fs::{File, KResult, makedev};

use alloc::sync::Arc;

/// `/dev/tty`: the calling process's controlling terminal (5, 0).
pub const TTY_RDEV: u64 = makedev(5, 0);
/// `/dev/console`: the system console (5, 1).
pub const CONSOLE_RDEV: u64 = makedev(5, 1);
/// `/dev/ttyS0`: the first serial port (4, 64).
pub const TTYS0_RDEV: u64 = makedev(4, 64);

/// Registers the terminal's three devices, creates their nodes
/// (`/dev/console` 0600, `/dev/ttyS0` 0660, `/dev/tty` 0666; existing
/// ones are kept; `/dev` must exist) and starts the input goroutine. Call once, after the file system
/// is up. From then on the tty owns console input: nothing else may poll
/// the UART (boot's Ctrl-T goroutine must not run too).
pub fn init() -> KResult<()> {
    fs::register_char_device(CONSOLE_RDEV, open_console);
    fs::register_char_device(TTYS0_RDEV, open_ttys0);
    fs::register_char_device(TTY_RDEV, open_tty);
    for (path, mode, rdev) in [
        (&b"/dev/console"[..], 0o600, CONSOLE_RDEV),
        (b"/dev/ttyS0", 0o660, TTYS0_RDEV),
        (b"/dev/tty", 0o666, TTY_RDEV),
    ] {
        match fs::mknod_char(path, mode, rdev) {
            // The initramfs may bring its own node (it usually has a
            // /dev/console); the number decides what it opens.
            Ok(()) | Err(EEXIST) => {}
            Err(error) => return Err(error),
        }
    }
    input::spawn().map_err(|_| ENOMEM)
}

/// Installs the function the terminal calls, from its input goroutine and
/// outside its locks, to send a signal (`SIGINT`, `SIGQUIT`, `SIGTSTP`,
/// `SIGWINCH`) to a process group. Set by the process module at boot;
/// until then such signals are dropped. A later call replaces it.
pub fn set_signal_hook(hook: fn(pgrp: i32, signal: u32)) {
    device::TTY.set_signal_hook(hook);
}

/// Sets the terminal's foreground process group (what `TIOCSPGRP` sets);
/// 0, the initial value, means none, and signals are then dropped.
pub fn set_foreground(pgrp: i32) {
    device::TTY.set_foreground(pgrp);
}

fn open_console(flags: u32) -> KResult<Arc<dyn File>> {
    device::open(CONSOLE_RDEV, flags)
}

fn open_ttys0(flags: u32) -> KResult<Arc<dyn File>> {
    device::open(TTYS0_RDEV, flags)
}

fn open_tty(flags: u32) -> KResult<Arc<dyn File>> {
    device::open(TTY_RDEV, flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_use_linux_encoding() {
        assert_eq!(CONSOLE_RDEV, 0x501);
        assert_eq!(TTY_RDEV, 0x500);
        assert_eq!(TTYS0_RDEV, 0x440);
    }
}
