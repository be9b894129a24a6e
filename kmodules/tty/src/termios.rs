//! Terminal attributes: the `termios` bits and control-character slots the
//! line discipline honours, the default settings, and the byte layouts of
//! the structures `ioctl` copies (built field by field: no unsafe casts).

use abi::types::{Termios, Winsize};

// The flag bits and `c_cc` slots (Linux's values, from the abi crate).
pub(crate) use abi::flags::termios::_POSIX_VDISABLE as DISABLED;
pub(crate) use abi::flags::termios::*;

/// The bytes `ioctl` copies for a `termios`.
pub(crate) const TERMIOS_SIZE: usize = 36;
/// The bytes `ioctl` copies for a `winsize`.
pub(crate) const WINSIZE_SIZE: usize = 8;

/// Linux's defaults for a fresh terminal, as `stty sane` leaves it (minus
/// `IXON`: there is no flow control): CR→NL on input, NL→CR NL on output,
/// canonical mode with echo and signals, 8N1 at 115200 baud.
pub(crate) const fn sane() -> Termios {
    let mut c_cc = [DISABLED; 19];
    c_cc[VINTR] = 0x03; // ^C
    c_cc[VQUIT] = 0x1c; // ^\
    c_cc[VERASE] = 0x7f; // DEL
    c_cc[VKILL] = 0x15; // ^U
    c_cc[VEOF] = 0x04; // ^D
    c_cc[VTIME] = 0;
    c_cc[VMIN] = 1;
    c_cc[VSTART] = 0x11; // ^Q
    c_cc[VSTOP] = 0x13; // ^S
    c_cc[VSUSP] = 0x1a; // ^Z
    c_cc[VREPRINT] = 0x12; // ^R
    c_cc[VDISCARD] = 0x0f; // ^O
    c_cc[VWERASE] = 0x17; // ^W
    c_cc[VLNEXT] = 0x16; // ^V
    Termios {
        c_iflag: ICRNL,
        c_oflag: OPOST | ONLCR,
        c_cflag: B115200 | CS8 | CREAD | HUPCL,
        c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
        c_line: 0,
        c_cc,
    }
}

/// The default window: 24 rows of 80 columns.
pub(crate) const DEFAULT_WINSIZE: Winsize = Winsize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 };

/// `t` as the kernel lays out `struct termios` (native byte order).
pub(crate) fn termios_to_bytes(t: &Termios) -> [u8; TERMIOS_SIZE] {
    let mut out = [0; TERMIOS_SIZE];
    for (i, flag) in [t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag].iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&flag.to_ne_bytes());
    }
    out[16] = t.c_line;
    out[17..].copy_from_slice(&t.c_cc);
    out
}

/// The inverse of [`termios_to_bytes`].
pub(crate) fn termios_from_bytes(b: &[u8; TERMIOS_SIZE]) -> Termios {
    let word = |i: usize| u32::from_ne_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
    let mut c_cc = [0; 19];
    c_cc.copy_from_slice(&b[17..]);
    Termios { c_iflag: word(0), c_oflag: word(1), c_cflag: word(2), c_lflag: word(3), c_line: b[16], c_cc }
}

/// `w` as `struct winsize`.
pub(crate) fn winsize_to_bytes(w: &Winsize) -> [u8; WINSIZE_SIZE] {
    let mut out = [0; WINSIZE_SIZE];
    for (i, v) in [w.ws_row, w.ws_col, w.ws_xpixel, w.ws_ypixel].iter().enumerate() {
        out[2 * i..2 * i + 2].copy_from_slice(&v.to_ne_bytes());
    }
    out
}

/// The inverse of [`winsize_to_bytes`].
pub(crate) fn winsize_from_bytes(b: &[u8; WINSIZE_SIZE]) -> Winsize {
    let half = |i: usize| u16::from_ne_bytes([b[2 * i], b[2 * i + 1]]);
    Winsize { ws_row: half(0), ws_col: half(1), ws_xpixel: half(2), ws_ypixel: half(3) }
}

#[cfg(test)]
mod tests {
    use core::mem::{offset_of, size_of};

    use super::*;

    #[test]
    fn sizes_match_the_abi_structs() {
        assert_eq!(TERMIOS_SIZE, size_of::<Termios>());
        assert_eq!(WINSIZE_SIZE, size_of::<Winsize>());
        assert_eq!(16, offset_of!(Termios, c_line));
        assert_eq!(17, offset_of!(Termios, c_cc));
    }

    #[test]
    fn termios_round_trips_field_by_field() {
        let mut t = sane();
        t.c_line = 9;
        t.c_cc[18] = 0xaa;
        let bytes = termios_to_bytes(&t);
        assert_eq!(&bytes[..4], &ICRNL.to_ne_bytes());
        assert_eq!(bytes[17 + VINTR], 0x03);
        assert_eq!(bytes[35], 0xaa);
        assert_eq!(termios_from_bytes(&bytes), t);
    }

    #[test]
    fn winsize_round_trips() {
        let w = Winsize { ws_row: 50, ws_col: 132, ws_xpixel: 1, ws_ypixel: 2 };
        let bytes = winsize_to_bytes(&w);
        assert_eq!(&bytes[..2], &50u16.to_ne_bytes());
        assert_eq!(winsize_from_bytes(&bytes), w);
    }

    #[test]
    fn sane_matches_linux_defaults() {
        let t = sane();
        // Linux's tty_std_termios c_lflag (0o105073) and INIT_C_CC.
        assert_eq!(t.c_lflag, 0o105073);
        assert_eq!(t.c_oflag, 0o5);
        assert_eq!(&t.c_cc[..17], b"\x03\x1c\x7f\x15\x04\x00\x01\x00\x11\x13\x1a\x00\x12\x0f\x17\x16\x00");
    }
}
