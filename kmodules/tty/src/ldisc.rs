//! The line discipline (Linux's N_TTY, the common subset): a pure state
//! machine from input bytes and `termios` to readable data, echo bytes and
//! signals. The caller ([`crate::device`]) does the I/O, the waking and
//! the signalling outside its lock, from the [`Effects`] each call returns.
//!
//! Readable data sits in `ready`. In canonical mode it is cut into lines
//! (`lines` holds their lengths; a length of 0 is an end-of-file mark from
//! `VEOF` on an empty line) and a read returns at most one line; the line
//! still being edited is in `edit`. In non-canonical mode `lines` is empty
//! and every byte in `ready` is readable.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use abi::flags::signal::{SIGINT, SIGQUIT, SIGTSTP};
use abi::types::Termios;

use crate::termios::*;

/// Most bytes the input side holds, edited line included (Linux's
/// `N_TTY_BUF_SIZE`); later bytes are dropped until a reader makes room.
pub(crate) const MAX_INPUT: usize = 4096;

/// ASCII backspace: erases like `VERASE` in canonical mode (terminals send
/// either it or DEL).
const BACKSPACE: u8 = 0x08;

/// ASCII Ctrl-T: with `ISIG`, asks for the kernel's goroutine table (BSD's
/// `VSTATUS` idea); it never reaches a reader.
pub(crate) const CTRL_T: u8 = 0x14;

/// What input processing asks the caller to do (outside any lock).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Effects {
    /// Echo for the terminal, already output-processed.
    pub(crate) echo: Vec<u8>,
    /// Signals for the foreground process group, in order.
    pub(crate) signals: Vec<u32>,
    /// Readers may find data now: wake them.
    pub(crate) readable: bool,
    /// Ctrl-T arrived: print the goroutine table.
    pub(crate) status: bool,
}

/// A terminal's input state and settings.
pub(crate) struct LineDiscipline {
    termios: Termios,
    /// Bytes readers may take.
    ready: VecDeque<u8>,
    /// Canonical mode: the lengths of the lines in `ready`, oldest first.
    lines: VecDeque<usize>,
    /// Canonical mode: the line being edited.
    edit: Vec<u8>,
}

impl LineDiscipline {
    /// Empty, with the default settings ([`sane`]).
    pub(crate) const fn new() -> LineDiscipline {
        LineDiscipline { termios: sane(), ready: VecDeque::new(), lines: VecDeque::new(), edit: Vec::new() }
    }

    /// The current settings.
    pub(crate) fn termios(&self) -> Termios {
        self.termios
    }

    /// Replaces the settings. Leaving canonical mode makes the line being
    /// edited readable; entering it makes pending bytes one line.
    pub(crate) fn set_termios(&mut self, termios: Termios) {
        let was_canonical = self.canonical();
        self.termios = termios;
        match (was_canonical, self.canonical()) {
            (true, false) => {
                self.ready.extend(self.edit.drain(..));
                self.lines.clear();
            }
            (false, true) if !self.ready.is_empty() => self.lines.push_back(self.ready.len()),
            _ => {}
        }
    }

    /// Discards all input: readable and being edited (`TCSETSF`,
    /// `TCFLSH`, a signal character).
    pub(crate) fn flush_input(&mut self) {
        self.ready.clear();
        self.lines.clear();
        self.edit.clear();
    }

    /// Bytes a read could take now (`FIONREAD`).
    pub(crate) fn available(&self) -> usize {
        self.ready.len()
    }

    /// Whether a read would return without waiting (`poll`): a line (or an
    /// end-of-file mark), or in non-canonical mode `VMIN` bytes (at least
    /// one).
    pub(crate) fn readable(&self) -> bool {
        if self.canonical() {
            !self.lines.is_empty()
        } else {
            self.ready.len() >= usize::from(self.termios.c_cc[VMIN]).max(1)
        }
    }

    /// Takes readable bytes into `buf`: `None` means the reader must wait.
    /// Canonical mode returns at most one line (`Some(0)` for end of file);
    /// non-canonical mode waits for `min(VMIN, buf.len())` bytes (`VTIME`
    /// is ignored; `VMIN` 0 never waits).
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> Option<usize> {
        let n = if self.canonical() {
            let line = self.lines.front_mut()?;
            let n = buf.len().min(*line);
            *line -= n;
            if *line == 0 {
                self.lines.pop_front();
            }
            n
        } else {
            let need = usize::from(self.termios.c_cc[VMIN]).min(buf.len());
            if self.ready.len() < need {
                return None;
            }
            buf.len().min(self.ready.len())
        };
        for (dst, src) in buf.iter_mut().zip(self.ready.drain(..n)) {
            *dst = src;
        }
        Some(n)
    }

    /// Processes received bytes.
    pub(crate) fn receive(&mut self, bytes: &[u8]) -> Effects {
        let mut fx = Effects::default();
        for &byte in bytes {
            self.receive_byte(byte, &mut fx);
        }
        fx
    }

    fn receive_byte(&mut self, byte: u8, fx: &mut Effects) {
        let Some(c) = self.input_map(byte) else { return };
        if self.lflag(ISIG) {
            if let Some(signal) = self.signal_for(c) {
                if !self.lflag(NOFLSH) {
                    self.flush_input();
                }
                if self.lflag(ECHO) {
                    self.echo_char(c, fx);
                }
                fx.signals.push(signal);
                return;
            }
            if c == CTRL_T {
                fx.status = true;
                return;
            }
        }
        if self.canonical() {
            self.canonical_byte(c, fx);
        } else if self.room() > 0 {
            if self.lflag(ECHO) {
                self.echo_char(c, fx);
            }
            self.ready.push_back(c);
            fx.readable = true;
        }
    }

    /// `ISTRIP`, `IGNCR`, `ICRNL`, `INLCR`; `None`: ignore the byte.
    fn input_map(&self, byte: u8) -> Option<u8> {
        let iflag = self.termios.c_iflag;
        let c = if iflag & ISTRIP != 0 { byte & 0x7f } else { byte };
        Some(match c {
            b'\r' if iflag & IGNCR != 0 => return None,
            b'\r' if iflag & ICRNL != 0 => b'\n',
            b'\n' if iflag & INLCR != 0 => b'\r',
            _ => c,
        })
    }

    fn signal_for(&self, c: u8) -> Option<u32> {
        [(VINTR, SIGINT), (VQUIT, SIGQUIT), (VSUSP, SIGTSTP)]
            .into_iter()
            .find(|&(slot, _)| self.is(c, slot))
            .map(|(_, signal)| signal)
    }

    fn canonical_byte(&mut self, c: u8, fx: &mut Effects) {
        let extended = self.lflag(IEXTEN);
        if self.is(c, VERASE) || c == BACKSPACE {
            self.erase(fx);
        } else if extended && self.is(c, VWERASE) {
            self.erase_word(fx);
        } else if self.is(c, VKILL) {
            self.kill(fx);
        } else if self.is(c, VEOF) {
            // Ends the line without itself; on an empty line, a 0-byte read.
            if !self.edit.is_empty() || self.lines.len() < MAX_INPUT {
                self.complete_line(fx);
            }
        } else if c == b'\n' || self.is(c, VEOL) || (extended && self.is(c, VEOL2)) {
            if self.room() > 0 {
                if self.lflag(ECHO) || (c == b'\n' && self.lflag(ECHONL)) {
                    self.echo_char(c, fx);
                }
                self.edit.push(c);
                self.complete_line(fx);
            }
        } else if self.room() > 1 {
            // One byte stays free for the newline that ends the line.
            if self.lflag(ECHO) {
                self.echo_char(c, fx);
            }
            self.edit.push(c);
        }
    }

    /// Moves the edited line to the readable lines.
    fn complete_line(&mut self, fx: &mut Effects) {
        self.lines.push_back(self.edit.len());
        self.ready.extend(self.edit.drain(..));
        fx.readable = true;
    }

    /// Erases the last character of the line (a whole UTF-8 sequence with
    /// `IUTF8`); returns the erased byte (the lead byte of a sequence).
    fn erase(&mut self, fx: &mut Effects) -> Option<u8> {
        let mut c = self.edit.pop()?;
        if self.termios.c_iflag & IUTF8 != 0 {
            while is_continuation(c) {
                match self.edit.pop() {
                    Some(prev) => c = prev,
                    None => break,
                }
            }
        }
        if self.lflag(ECHO) {
            if self.lflag(ECHOE) {
                // A control character echoed as `^X` took two columns.
                let columns = if self.lflag(ECHOCTL) && is_control(c) { 2 } else { 1 };
                for _ in 0..columns {
                    self.emit(b"\x08 \x08", fx);
                }
            } else {
                self.echo_char(self.termios.c_cc[VERASE], fx);
            }
        }
        Some(c)
    }

    /// `VWERASE`: erases back over non-word characters, then the word
    /// (letters, digits, `_`, non-ASCII), as Linux does.
    fn erase_word(&mut self, fx: &mut Effects) {
        let mut seen_word = false;
        while let Some(&c) = self.edit.last() {
            let word = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
            if word {
                seen_word = true;
            } else if seen_word {
                break;
            }
            self.erase(fx);
        }
    }

    /// `VKILL`: erases the line, visibly character by character with
    /// `ECHOK`, `ECHOKE` and `ECHOE`, else by echoing the kill character
    /// (and a newline with `ECHOK`).
    fn kill(&mut self, fx: &mut Effects) {
        if self.edit.is_empty() {
            return;
        }
        if !self.lflag(ECHO) {
            self.edit.clear();
        } else if self.lflag(ECHOK) && self.lflag(ECHOKE) && self.lflag(ECHOE) {
            while self.erase(fx).is_some() {}
        } else {
            self.edit.clear();
            self.echo_char(self.termios.c_cc[VKILL], fx);
            if self.lflag(ECHOK) {
                self.emit(b"\n", fx);
            }
        }
    }

    /// Echoes one input byte: `^X` for a control character with `ECHOCTL`
    /// (not tab or newline), else the byte; output processing applies.
    fn echo_char(&self, c: u8, fx: &mut Effects) {
        if self.lflag(ECHOCTL) && is_control(c) {
            self.emit(&[b'^', c ^ 0x40], fx);
        } else {
            self.emit(&[c], fx);
        }
    }

    fn emit(&self, bytes: &[u8], fx: &mut Effects) {
        process_output(&self.termios, bytes, &mut fx.echo);
    }

    /// Bytes the input side can still take.
    fn room(&self) -> usize {
        MAX_INPUT.saturating_sub(self.ready.len() + self.edit.len())
    }

    fn canonical(&self) -> bool {
        self.lflag(ICANON)
    }

    fn lflag(&self, bit: u32) -> bool {
        self.termios.c_lflag & bit != 0
    }

    /// Whether `c` is the (enabled) control character of `slot`.
    fn is(&self, c: u8, slot: usize) -> bool {
        let special = self.termios.c_cc[slot];
        special != DISABLED && special == c
    }
}

/// Appends `bytes` to `out` as the terminal should receive them: with
/// `OPOST`, `ONLCR` turns NL into CR NL and `OCRNL` CR into NL.
pub(crate) fn process_output(termios: &Termios, bytes: &[u8], out: &mut impl Extend<u8>) {
    let oflag = termios.c_oflag;
    if oflag & OPOST == 0 {
        out.extend(bytes.iter().copied());
        return;
    }
    for &b in bytes {
        match b {
            b'\n' if oflag & ONLCR != 0 => out.extend(*b"\r\n"),
            b'\r' if oflag & OCRNL != 0 => out.extend([b'\n']),
            _ => out.extend([b]),
        }
    }
}

/// A control character that echoes as `^X` (tab and newline echo as
/// themselves).
fn is_control(c: u8) -> bool {
    (c < 0x20 || c == 0x7f) && c != b'\t' && c != b'\n'
}

/// A UTF-8 continuation byte.
fn is_continuation(c: u8) -> bool {
    c & 0xc0 == 0x80
}

#[cfg(test)]
mod tests;
