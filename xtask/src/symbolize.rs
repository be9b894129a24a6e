//! Symbolizing the kernel's backtrace lines (`  #3 0xffffffff80012345`)
//! against the unstripped kernel ELF. The kernel is linked at its run
//! address, so addresses need no relocation.

use std::path::Path;

use addr2line::Loader;

/// Maps kernel addresses to functions and source lines.
pub struct Symbolizer {
    loader: Option<Loader>,
}

/// The address in a backtrace line, if it is one.
pub fn frame_address(line: &str) -> Option<u64> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (index, address) = rest.split_once(' ')?;
    index.parse::<u32>().ok()?;
    u64::from_str_radix(address.trim().strip_prefix("0x")?, 16).ok()
}

impl Symbolizer {
    /// Loads `elf`'s debug info; on failure symbolizing is quietly skipped.
    pub fn new(elf: &Path) -> Symbolizer {
        Symbolizer { loader: Loader::new(elf).ok() }
    }

    /// `function at file:line` for `address` (innermost inlined frame last).
    pub fn describe(&self, address: u64) -> Option<String> {
        let loader = self.loader.as_ref()?;
        let mut parts = Vec::new();
        let mut frames = loader.find_frames(address).ok()?;
        while let Ok(Some(frame)) = frames.next() {
            let function = frame.function.as_ref().and_then(|f| f.demangle().ok()).map(|f| f.into_owned());
            let location = frame.location.map(|l| format!("{}:{}", l.file.unwrap_or("?"), l.line.unwrap_or(0)));
            parts.push(format!("{} at {}", function.as_deref().unwrap_or("??"), location.as_deref().unwrap_or("??")));
        }
        if parts.is_empty() {
            parts.push(loader.find_symbol(address)?.to_string());
        }
        Some(parts.join("\n        inlined into "))
    }

    /// The note to print under a backtrace line, if `line` is one.
    pub fn annotate(&self, line: &str) -> Option<String> {
        self.describe(frame_address(line)?).map(|text| format!("        {text}"))
    }

    /// `log` with every backtrace line followed by its symbol.
    pub fn annotate_log(&self, log: &str) -> String {
        let mut out = String::with_capacity(log.len());
        for line in log.lines() {
            out.push_str(line);
            out.push('\n');
            if let Some(note) = self.annotate(line) {
                out.push_str(&note);
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_backtrace_lines_only() {
        assert_eq!(frame_address("  #0 0xffffffff80012345"), Some(0xffff_ffff_8001_2345));
        assert_eq!(frame_address("  #12 0x10"), Some(0x10));
        assert_eq!(frame_address("backtrace:"), None);
        assert_eq!(frame_address("  #x 0x10"), None);
        assert_eq!(frame_address("# 0x10"), None);
    }
}
