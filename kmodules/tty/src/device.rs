//! The one terminal (the serial console) and its open file descriptions.
//!
//! Every open of `/dev/console`, `/dev/ttyS0` or `/dev/tty` makes a
//! [`TtyFile`] (its own status flags) on the single [`TTY`].

use alloc::sync::Arc;
use core::cell::RefCell;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use abi::errno::{EAGAIN, EINTR, EINVAL, ENOTTY, ESRCH};
use abi::flags::ioctl::{
    FIONREAD, TCFLSH, TCGETS, TCIFLUSH, TCIOFLUSH, TCOFLUSH, TCSBRK, TCSETS, TCSETSF, TCSETSW, TIOCGPGRP, TIOCGWINSZ,
    TIOCNOTTY, TIOCSCTTY, TIOCSPGRP, TIOCSWINSZ,
};
use abi::flags::mode::S_IFCHR;
use abi::flags::open::{O_ACCMODE, O_APPEND, O_NONBLOCK};
use abi::flags::signal::SIGWINCH;
use abi::types::{Stat, Winsize};
use fs::{File, KResult, UserMemory};
use runtime::heap::{Handle, Rootable, Static, layout};
use runtime::sync::{SpinLock, WaitQueue};

use crate::ldisc::{Effects, LineDiscipline, process_output};
use crate::termios::{
    DEFAULT_WINSIZE, TERMIOS_SIZE, WINSIZE_SIZE, termios_from_bytes, termios_to_bytes, winsize_from_bytes,
    winsize_to_bytes,
};

/// Output goes to the console in pieces of this many input bytes, so the
/// console lock (which masks interrupts) is never held long.
const WRITE_CHUNK: usize = 256;

/// Processed output of one chunk, on the stack (every byte becomes at
/// most two).
struct Output {
    bytes: [u8; 2 * WRITE_CHUNK],
    len: usize,
}

impl Extend<u8> for Output {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, bytes: I) {
        for b in bytes {
            self.bytes[self.len] = b;
            self.len += 1;
        }
    }
}

/// The status flags `fcntl(F_SETFL)` may change.
const CHANGEABLE: u32 = O_APPEND | O_NONBLOCK;

/// What the terminal calls to signal a process group: (group, signal).
type SignalHook = fn(i32, u32);

/// A terminal.
pub(crate) struct Tty {
    /// The line discipline and window size: an object of the `tty` heap
    /// (global: the kernel heap), made at first use.
    state: spin::Once<Handle<StateRoot>>,
    /// Readers waiting for input.
    readers: WaitQueue,
    /// The foreground process group (0: none).
    foreground: AtomicI32,
    /// Called with (foreground group, signal) for `^C` and friends.
    signal_hook: SpinLock<Option<SignalHook>>,
}

/// The terminal's state (plain data: no GC pointers inside).
pub(crate) struct State {
    pub(crate) ldisc: LineDiscipline,
    winsize: Winsize,
}

/// The serial console's terminal.
pub(crate) static TTY: Tty = Tty {
    state: spin::Once::new(),
    readers: WaitQueue::new(),
    foreground: AtomicI32::new(0),
    signal_hook: SpinLock::new(None),
};

type StateRoot = Rootable![Static<RefCell<State>>];

impl Tty {
    /// Runs `f` on the state, in a scope of its heap (`f` must not block
    /// or open another scope).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let state = self.state.call_once(|| {
            layout::subsystem("tty").mutate(|s| {
                let state = State { ldisc: LineDiscipline::new(), winsize: DEFAULT_WINSIZE };
                s.stash::<StateRoot>(s.alloc(Static(RefCell::new(state))).expect("room for the terminal at boot"))
            })
        });
        state.with(|_, state| f(&mut state.0.borrow_mut()))
    }

    /// Feeds received bytes through the line discipline and acts on the
    /// result: echo, wake readers, signal the foreground group, Ctrl-T.
    pub(crate) fn receive(&self, bytes: &[u8]) {
        let Effects { echo, signals, readable, status } = self.with(|s| s.ldisc.receive(bytes));
        if !echo.is_empty() {
            shim::console::write_bytes(&echo);
        }
        if readable {
            self.readers.wake_all();
        }
        for signal in signals {
            self.signal_foreground(signal);
        }
        if status {
            runtime::sched::ps();
        }
    }

    /// Sends `signal` to the foreground group through the hook; dropped if
    /// there is no group or no hook.
    fn signal_foreground(&self, signal: u32) {
        let group = self.foreground.load(Ordering::Relaxed);
        let hook = *self.signal_hook.lock();
        if let (true, Some(hook)) = (group > 0, hook) {
            hook(group, signal);
        }
    }

    /// Installs the signal hook.
    pub(crate) fn set_signal_hook(&self, hook: SignalHook) {
        *self.signal_hook.lock() = Some(hook);
    }

    /// Sets the foreground process group (0: none).
    pub(crate) fn set_foreground(&self, group: i32) {
        self.foreground.store(group, Ordering::Relaxed);
    }
}

/// An open file description of the terminal.
pub(crate) struct TtyFile {
    /// The device number `fstat` reports (the node it was opened through).
    rdev: u64,
    flags: AtomicU32,
}

/// Opens the terminal as device `rdev` with open flags `flags`.
pub(crate) fn open(rdev: u64, flags: u32) -> KResult<Arc<dyn File>> {
    let flags = AtomicU32::new(flags & (O_ACCMODE | CHANGEABLE));
    Ok(Arc::new(TtyFile { rdev, flags }))
}

/// Copies `bytes` to user address `addr`.
fn put(user: &dyn UserMemory, addr: u64, bytes: &[u8]) -> KResult<u64> {
    user.write(addr, bytes)?;
    Ok(0)
}

/// Copies `N` bytes from user address `addr`.
fn get<const N: usize>(user: &dyn UserMemory, addr: u64) -> KResult<[u8; N]> {
    let mut bytes = [0; N];
    user.read(addr, &mut bytes)?;
    Ok(bytes)
}

impl File for TtyFile {
    /// Canonical mode: one line at most; else what is there (see
    /// `VMIN`). Waits (interruptibly) unless `O_NONBLOCK`.
    fn read(&self, buf: &mut [u8]) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let nonblock = self.flags.load(Ordering::Relaxed) & O_NONBLOCK != 0;
        let got = TTY.readers.wait_interruptible(|| match TTY.with(|s| s.ldisc.read(buf)) {
            Some(n) => Some(Ok(n)),
            None if nonblock => Some(Err(EAGAIN)),
            None => None,
        });
        got.unwrap_or(Err(EINTR))
    }

    /// Writes everything, output-processed (`ONLCR`), to the console.
    fn write(&self, buf: &[u8]) -> KResult<usize> {
        let termios = TTY.with(|s| s.ldisc.termios());
        for chunk in buf.chunks(WRITE_CHUNK) {
            let mut out = Output { bytes: [0; 2 * WRITE_CHUNK], len: 0 };
            process_output(&termios, chunk, &mut out);
            shim::console::write_bytes(&out.bytes[..out.len]);
        }
        Ok(buf.len())
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(Stat { st_mode: S_IFCHR | 0o620, st_nlink: 1, st_rdev: self.rdev, st_blksize: 1024, ..Stat::default() })
    }

    fn ioctl(&self, request: u32, arg: u64, user: &dyn UserMemory) -> KResult<u64> {
        match u64::from(request) {
            TCGETS => put(user, arg, &termios_to_bytes(&TTY.with(|s| s.ldisc.termios()))),
            request @ (TCSETS | TCSETSW | TCSETSF) => {
                // Output is never buffered, so "after it drains" is now.
                let termios = termios_from_bytes(&get::<TERMIOS_SIZE>(user, arg)?);
                TTY.with(|s| {
                    if request == TCSETSF {
                        s.ldisc.flush_input();
                    }
                    s.ldisc.set_termios(termios);
                });
                // A mode change may have made input readable.
                TTY.readers.wake_all();
                Ok(0)
            }
            TIOCGWINSZ => put(user, arg, &winsize_to_bytes(&TTY.with(|s| s.winsize))),
            TIOCSWINSZ => {
                let winsize = winsize_from_bytes(&get::<WINSIZE_SIZE>(user, arg)?);
                if TTY.with(|s| core::mem::replace(&mut s.winsize, winsize)) != winsize {
                    TTY.signal_foreground(SIGWINCH);
                }
                Ok(0)
            }
            TIOCGPGRP => put(user, arg, &TTY.foreground.load(Ordering::Relaxed).to_ne_bytes()),
            TIOCSPGRP => match i32::from_ne_bytes(get::<4>(user, arg)?) {
                group if group < 0 => Err(EINVAL),
                0 => Err(ESRCH),
                group => {
                    TTY.set_foreground(group);
                    Ok(0)
                }
            },
            FIONREAD => {
                let available = TTY.with(|s| s.ldisc.available());
                put(user, arg, &i32::try_from(available).unwrap_or(i32::MAX).to_ne_bytes())
            }
            TCFLSH => match arg {
                TCIFLUSH | TCIOFLUSH => {
                    TTY.with(|s| s.ldisc.flush_input());
                    Ok(0)
                }
                TCOFLUSH => Ok(0),
                _ => Err(EINVAL),
            },
            // One terminal, always everyone's controlling terminal; output
            // is synchronous, so there is nothing to drain or break.
            TIOCSCTTY | TIOCNOTTY | TCSBRK => Ok(0),
            _ => Err(ENOTTY),
        }
    }

    fn status_flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    fn set_status_flags(&self, flags: u32) {
        let access = self.flags.load(Ordering::Relaxed) & O_ACCMODE;
        self.flags.store(access | (flags & CHANGEABLE), Ordering::Relaxed);
    }

    fn readable_now(&self) -> bool {
        TTY.with(|s| s.ldisc.readable())
    }
}
