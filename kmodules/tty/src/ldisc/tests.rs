//! The line discipline, byte by byte.

use alloc::vec;

use super::*;

const DEL: u8 = 0x7f;
const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const CTRL_U: u8 = 0x15;
const CTRL_W: u8 = 0x17;

fn tty() -> LineDiscipline {
    LineDiscipline::new()
}

/// Reads with a `size`-byte buffer; `None` if the read would wait.
fn read(ld: &mut LineDiscipline, size: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0; size];
    let n = ld.read(&mut buf)?;
    buf.truncate(n);
    Some(buf)
}

fn with_lflag(ld: &mut LineDiscipline, set: u32, clear: u32) {
    let mut t = ld.termios();
    t.c_lflag = (t.c_lflag | set) & !clear;
    ld.set_termios(t);
}

fn raw(ld: &mut LineDiscipline) {
    with_lflag(ld, 0, ICANON | ECHO);
}

#[test]
fn a_line_is_readable_once_complete() {
    let mut ld = tty();
    let fx = ld.receive(b"ab");
    assert_eq!(fx.echo, b"ab");
    assert!(!fx.readable);
    assert!(!ld.readable());
    assert_eq!(read(&mut ld, 16), None);
    let fx = ld.receive(b"\r");
    assert_eq!(fx.echo, b"\r\n", "CR becomes NL, echoed as CR NL");
    assert!(fx.readable && ld.readable());
    assert_eq!(ld.available(), 3);
    assert_eq!(read(&mut ld, 16).unwrap(), b"ab\n");
    assert_eq!(read(&mut ld, 16), None);
}

#[test]
fn a_read_returns_at_most_one_line() {
    let mut ld = tty();
    ld.receive(b"one\ntwo\n");
    assert_eq!(read(&mut ld, 64).unwrap(), b"one\n");
    assert_eq!(read(&mut ld, 64).unwrap(), b"two\n");
}

#[test]
fn a_short_buffer_leaves_the_rest_of_the_line() {
    let mut ld = tty();
    ld.receive(b"hello\nx\n");
    assert_eq!(read(&mut ld, 2).unwrap(), b"he");
    assert_eq!(read(&mut ld, 64).unwrap(), b"llo\n");
    assert_eq!(read(&mut ld, 64).unwrap(), b"x\n");
}

#[test]
fn erase_removes_and_rubs_out_the_last_character() {
    let mut ld = tty();
    ld.receive(b"abc");
    assert_eq!(ld.receive(&[DEL]).echo, b"\x08 \x08");
    assert_eq!(ld.receive(&[BACKSPACE]).echo, b"\x08 \x08", "^H erases too");
    ld.receive(b"\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"a\n");
}

#[test]
fn erase_on_an_empty_line_does_nothing() {
    let mut ld = tty();
    assert_eq!(ld.receive(&[DEL, DEL]), Effects::default());
    ld.receive(b"\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"\n");
}

#[test]
fn erasing_a_control_character_rubs_out_its_caret_form() {
    let mut ld = tty();
    assert_eq!(ld.receive(&[b'a', 0x01]).echo, b"a^A");
    assert_eq!(ld.receive(&[DEL]).echo, b"\x08 \x08\x08 \x08");
}

#[test]
fn without_echoe_erase_echoes_the_erase_character() {
    let mut ld = tty();
    with_lflag(&mut ld, 0, ECHOE);
    ld.receive(b"ab");
    assert_eq!(ld.receive(&[DEL]).echo, b"^?");
}

#[test]
fn erase_takes_a_whole_utf8_character_with_iutf8() {
    let mut ld = tty();
    let mut t = ld.termios();
    t.c_iflag |= IUTF8;
    ld.set_termios(t);
    ld.receive("aé".as_bytes());
    assert_eq!(ld.receive(&[DEL]).echo, b"\x08 \x08", "one column");
    ld.receive(b"\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"a\n");

    // Without IUTF8 a byte at a time.
    let mut ld = tty();
    ld.receive("é".as_bytes());
    ld.receive(&[DEL, b'\n']);
    assert_eq!(read(&mut ld, 16).unwrap(), b"\xc3\n");
}

#[test]
fn kill_erases_the_line_visibly() {
    let mut ld = tty();
    ld.receive(b"abc");
    assert_eq!(ld.receive(&[CTRL_U]).echo, b"\x08 \x08\x08 \x08\x08 \x08");
    ld.receive(b"x\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"x\n");
}

#[test]
fn kill_without_echoke_echoes_it_and_a_newline() {
    let mut ld = tty();
    with_lflag(&mut ld, 0, ECHOKE);
    ld.receive(b"abc");
    assert_eq!(ld.receive(&[CTRL_U]).echo, b"^U\r\n");
    ld.receive(b"\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"\n");
}

#[test]
fn word_erase_follows_linux() {
    let mut ld = tty();
    ld.receive(b"foo bar  ");
    assert_eq!(ld.receive(&[CTRL_W]).echo.len(), 5 * 3, "two spaces and the word");
    ld.receive(b"\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"foo \n");

    ld.receive(b"ab-cd");
    ld.receive(&[CTRL_W, b'\n']);
    assert_eq!(read(&mut ld, 16).unwrap(), b"ab-\n");

    // IEXTEN off: ^W is an ordinary character.
    with_lflag(&mut ld, 0, IEXTEN);
    ld.receive(&[b'a', CTRL_W, b'\n']);
    assert_eq!(read(&mut ld, 16).unwrap(), b"a\x17\n");
}

#[test]
fn eof_on_an_empty_line_reads_zero_once() {
    let mut ld = tty();
    let fx = ld.receive(&[CTRL_D]);
    assert_eq!(fx.echo, b"", "EOF is not echoed");
    assert!(fx.readable && ld.readable());
    assert_eq!(ld.available(), 0);
    assert_eq!(read(&mut ld, 16).unwrap(), b"");
    assert_eq!(read(&mut ld, 16), None, "the next read waits again");
}

#[test]
fn eof_after_text_delivers_the_partial_line() {
    let mut ld = tty();
    ld.receive(b"abc");
    ld.receive(&[CTRL_D]);
    assert_eq!(read(&mut ld, 16).unwrap(), b"abc");
    ld.receive(&[CTRL_D]);
    assert_eq!(read(&mut ld, 16).unwrap(), b"");
}

#[test]
fn input_cr_and_nl_mapping() {
    let mut ld = tty();
    let mut t = ld.termios();
    t.c_iflag &= !ICRNL;
    ld.set_termios(t);
    ld.receive(b"a\rb");
    assert!(!ld.readable(), "CR does not end a line without ICRNL");
    ld.receive(b"\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"a\rb\n");

    t.c_iflag |= IGNCR;
    ld.set_termios(t);
    ld.receive(b"x\r\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"x\n");

    t.c_iflag = INLCR;
    t.c_lflag &= !ICANON;
    ld.set_termios(t);
    ld.receive(b"\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"\r");

    t.c_iflag = ISTRIP;
    ld.set_termios(t);
    ld.receive(&[0xc1]);
    assert_eq!(read(&mut ld, 16).unwrap(), b"A");
}

#[test]
fn interrupt_signals_flushes_and_echoes() {
    let mut ld = tty();
    ld.receive(b"done\npartial");
    let fx = ld.receive(&[CTRL_C]);
    assert_eq!(fx.signals, [SIGINT]);
    assert_eq!(fx.echo, b"^C");
    assert!(!ld.readable(), "pending input is flushed");
    ld.receive(b"\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"\n");
}

#[test]
fn quit_and_suspend_signal_too() {
    let mut ld = tty();
    assert_eq!(ld.receive(&[0x1c, 0x1a]).signals, [SIGQUIT, SIGTSTP]);
}

#[test]
fn noflsh_keeps_input_and_no_echo_keeps_quiet() {
    let mut ld = tty();
    with_lflag(&mut ld, NOFLSH, ECHO);
    ld.receive(b"keep\n");
    let fx = ld.receive(&[CTRL_C]);
    assert_eq!((fx.signals.as_slice(), fx.echo.as_slice()), (&[SIGINT][..], &b""[..]));
    assert_eq!(read(&mut ld, 16).unwrap(), b"keep\n");
}

#[test]
fn without_isig_signal_characters_are_data() {
    let mut ld = tty();
    with_lflag(&mut ld, 0, ISIG);
    let fx = ld.receive(&[CTRL_C, CTRL_T, b'\n']);
    assert!(fx.signals.is_empty() && !fx.status);
    assert_eq!(read(&mut ld, 16).unwrap(), b"\x03\x14\n");
}

#[test]
fn a_disabled_slot_matches_nothing() {
    let mut ld = tty();
    let mut t = ld.termios();
    t.c_cc[VINTR] = DISABLED;
    ld.set_termios(t);
    assert!(ld.receive(&[0, CTRL_C, b'\n']).signals.is_empty());
    assert_eq!(read(&mut ld, 16).unwrap(), b"\0\x03\n");
}

#[test]
fn ctrl_t_asks_for_status_and_is_swallowed() {
    let mut ld = tty();
    let fx = ld.receive(&[b'a', CTRL_T, b'\n']);
    assert!(fx.status);
    assert_eq!(fx.echo, b"a\r\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"a\n");
}

#[test]
fn raw_mode_delivers_bytes_at_once() {
    let mut ld = tty();
    raw(&mut ld);
    let fx = ld.receive(&[b'a', DEL, CTRL_D, CTRL_U]);
    assert!(fx.readable);
    assert_eq!(fx.echo, b"", "ECHO is off");
    assert_eq!(read(&mut ld, 1).unwrap(), b"a");
    assert_eq!(read(&mut ld, 16).unwrap(), [DEL, CTRL_D, CTRL_U]);
    assert_eq!(read(&mut ld, 16), None, "VMIN 1 waits");
}

#[test]
fn raw_mode_with_echo_uses_caret_form() {
    let mut ld = tty();
    with_lflag(&mut ld, 0, ICANON);
    assert_eq!(ld.receive(&[b'x', 0x01, b'\r']).echo, b"x^A\r\n");
}

#[test]
fn vmin_zero_never_waits_and_vmin_n_waits_for_n() {
    let mut ld = tty();
    raw(&mut ld);
    let mut t = ld.termios();
    t.c_cc[VMIN] = 0;
    ld.set_termios(t);
    assert_eq!(read(&mut ld, 16).unwrap(), b"");
    assert!(!ld.readable(), "poll still wants a byte");

    t.c_cc[VMIN] = 3;
    ld.set_termios(t);
    ld.receive(b"ab");
    assert!(!ld.readable());
    assert_eq!(read(&mut ld, 16), None);
    assert_eq!(read(&mut ld, 2).unwrap(), b"ab", "a smaller buffer needs less");
    ld.receive(b"cde");
    assert!(ld.readable());
    assert_eq!(read(&mut ld, 16).unwrap(), b"cde");
}

#[test]
fn leaving_canonical_mode_makes_the_edited_line_readable() {
    let mut ld = tty();
    ld.receive(b"line\npart");
    raw(&mut ld);
    assert_eq!(ld.available(), 9);
    assert_eq!(read(&mut ld, 16).unwrap(), b"line\npart");
}

#[test]
fn entering_canonical_mode_makes_pending_bytes_a_line() {
    let mut ld = tty();
    raw(&mut ld);
    ld.receive(b"abc");
    with_lflag(&mut ld, ICANON | ECHO, 0);
    assert!(ld.readable());
    assert_eq!(read(&mut ld, 16).unwrap(), b"abc");
    assert_eq!(read(&mut ld, 16), None);
}

#[test]
fn echonl_echoes_only_newlines() {
    let mut ld = tty();
    with_lflag(&mut ld, ECHONL, ECHO);
    assert_eq!(ld.receive(b"secret\n").echo, b"\r\n");
}

#[test]
fn a_line_stops_growing_at_max_input() {
    let mut ld = tty();
    ld.receive(&vec![b'x'; MAX_INPUT + 100]);
    ld.receive(b"\n");
    let line = read(&mut ld, 2 * MAX_INPUT).unwrap();
    assert_eq!(line.len(), MAX_INPUT);
    assert_eq!(line.last(), Some(&b'\n'));
}

#[test]
fn flush_discards_everything() {
    let mut ld = tty();
    ld.receive(b"a\nb");
    ld.flush_input();
    assert_eq!(ld.available(), 0);
    ld.receive(b"\n");
    assert_eq!(read(&mut ld, 16).unwrap(), b"\n");
}

#[test]
fn output_processing() {
    let mut t = sane();
    let mut out = Vec::new();
    process_output(&t, b"a\nb\r", &mut out);
    assert_eq!(out, b"a\r\nb\r");
    out.clear();
    t.c_oflag |= OCRNL;
    process_output(&t, b"\r", &mut out);
    assert_eq!(out, b"\n");
    out.clear();
    t.c_oflag &= !OPOST;
    process_output(&t, b"a\n", &mut out);
    assert_eq!(out, b"a\n");
}
