//! The boot command line: `key=value` words that xtask (or the user) passes
//! through QEMU's fw_cfg file `opt/hardtack/cmdline`
//! (`-fw_cfg name=opt/hardtack/cmdline,string="log=debug ktest.filter=heap"`).
//!
//! The bootloader has no command line of its own; fw_cfg is QEMU's standard
//! way to hand strings to a guest. On a machine without fw_cfg the command
//! line is empty.

use alloc::string::String;
use alloc::vec;

use spin::Once;
use x86_64::instructions::port::Port;

/// fw_cfg I/O ports (x86): 16-bit selector, 8-bit data.
const SELECTOR_PORT: u16 = 0x510;
const DATA_PORT: u16 = 0x511;
/// fw_cfg item keys.
const KEY_SIGNATURE: u16 = 0x0000;
const KEY_FILE_DIR: u16 = 0x0019;
/// The file that carries the command line.
const FILE_NAME: &[u8] = b"opt/hardtack/cmdline";

static CMDLINE: Once<String> = Once::new();

/// Reads the command line from fw_cfg (once; needs the heap).
pub(crate) fn init() {
    CMDLINE.call_once(|| read_from_fw_cfg().unwrap_or_default());
}

/// The whole command line.
pub(crate) fn all() -> &'static str {
    CMDLINE.get().map(String::as_str).unwrap_or("")
}

/// The value of `key=value`, or `""` for a bare `key`; `None` if absent.
pub fn get(key: &str) -> Option<&'static str> {
    lookup(all(), key)
}

/// Parses `key`'s value as a number.
pub fn get_u64(key: &str) -> Option<u64> {
    get(key)?.parse().ok()
}

/// Finds `key` in a space-separated `key=value` list (the last one wins).
pub(crate) fn lookup<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_ascii_whitespace()
        .filter_map(|word| match word.split_once('=') {
            Some((k, v)) if k == key => Some(v),
            None if word == key => Some(""),
            _ => None,
        })
        .next_back()
}

fn select(key: u16) {
    // SAFETY: the fw_cfg selector port only chooses which item the data
    // port streams; writing it has no other effect.
    unsafe { Port::<u16>::new(SELECTOR_PORT).write(key) }
}

fn read_bytes(buffer: &mut [u8]) {
    let mut port = Port::<u8>::new(DATA_PORT);
    for byte in buffer {
        // SAFETY: reading the fw_cfg data port streams the selected item;
        // on a machine without fw_cfg it reads 0xff, which callers reject.
        *byte = unsafe { port.read() };
    }
}

fn read_from_fw_cfg() -> Option<String> {
    select(KEY_SIGNATURE);
    let mut signature = [0u8; 4];
    read_bytes(&mut signature);
    if &signature != b"QEMU" {
        return None;
    }
    select(KEY_FILE_DIR);
    let mut count = [0u8; 4];
    read_bytes(&mut count);
    for _ in 0..u32::from_be_bytes(count) {
        // struct FWCfgFile { be32 size; be16 select; u16 reserved; char name[56]; }
        let mut entry = [0u8; 64];
        read_bytes(&mut entry);
        let name_len = entry[8..].iter().position(|&b| b == 0).unwrap_or(56);
        if &entry[8..8 + name_len] == FILE_NAME {
            let size = u32::from_be_bytes(entry[0..4].try_into().ok()?) as usize;
            let key = u16::from_be_bytes([entry[4], entry[5]]);
            let mut text = vec![0u8; size.min(4096)];
            select(key);
            read_bytes(&mut text);
            let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
            text.truncate(end);
            return String::from_utf8(text).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::lookup;

    #[test]
    fn finds_values_and_flags() {
        let line = "log=debug ktest  smp=4 smp=2";
        assert_eq!(lookup(line, "log"), Some("debug"));
        assert_eq!(lookup(line, "ktest"), Some(""));
        assert_eq!(lookup(line, "smp"), Some("2"));
        assert_eq!(lookup(line, "lo"), None);
        assert_eq!(lookup("", "log"), None);
    }
}
