//! The initial user stack of a new program, as the System V x86_64 ABI
//! and Linux lay it out (from the stack pointer up):
//!
//! ```text
//! argc | argv[0..argc] | NULL | envp[..] | NULL | auxv pairs | AT_NULL pair
//! ... padding ... | AT_RANDOM's 16 bytes | argument and environment strings
//! | the executable's path (AT_EXECFN) | top
//! ```
//!
//! The stack pointer is 16-byte aligned. Plain logic: it builds the bytes
//! for a given top address, and the loader copies them in.

use alloc::vec;
use alloc::vec::Vec;

use abi::flags::auxv::{AT_EXECFN, AT_NULL, AT_RANDOM};

/// What goes on the stack.
pub struct StackSpec<'a> {
    /// Argument strings (without NULs).
    pub argv: &'a [Vec<u8>],
    /// Environment strings (`NAME=value`, without NULs).
    pub envp: &'a [Vec<u8>],
    /// Auxiliary vector entries besides `AT_RANDOM`, `AT_EXECFN` and
    /// `AT_NULL`, which are added here.
    pub auxv: &'a [(u64, u64)],
    /// The 16 random bytes `AT_RANDOM` points at.
    pub random: [u8; 16],
    /// The executable's path (`AT_EXECFN`).
    pub execfn: &'a [u8],
}

/// Bytes of the string area: execfn, the environment and the arguments
/// (with their NULs), and 16 random bytes.
fn strings_len(spec: &StackSpec<'_>) -> usize {
    let sized = |s: &[u8]| s.len() + 1;
    sized(spec.execfn)
        + spec.envp.iter().map(|e| sized(e)).sum::<usize>()
        + spec.argv.iter().map(|a| sized(a)).sum::<usize>()
        + spec.random.len()
}

/// Words below the strings: argc, argv and envp with their NULLs, and the
/// auxiliary vector with `AT_RANDOM`, `AT_EXECFN` and `AT_NULL`.
fn words_len(spec: &StackSpec<'_>) -> usize {
    1 + spec.argv.len() + 1 + spec.envp.len() + 1 + 2 * spec.auxv.len() + 6
}

/// The initial stack pointer of the stack [`build`] makes for `top`.
pub fn start(spec: &StackSpec<'_>, top: u64) -> u64 {
    (top - strings_len(spec) as u64 - 8 * words_len(spec) as u64) & !15
}

/// Builds the initial stack ending at `top` (exclusive): the bytes from
/// [`start`] to `top`.
pub fn build(spec: &StackSpec<'_>, top: u64) -> Vec<u8> {
    // The string area, filled downward from the top: execfn, then the
    // environment and the arguments (last first), then 16 random bytes.
    let total = strings_len(spec);
    let mut strings = vec![0u8; total];
    let mut free = total;
    let mut place = |bytes: &[u8], nul: bool| -> u64 {
        free -= bytes.len() + usize::from(nul);
        strings[free..free + bytes.len()].copy_from_slice(bytes);
        top - (total - free) as u64
    };
    let execfn = place(spec.execfn, true);
    let env_ptrs: Vec<u64> = spec.envp.iter().rev().map(|e| place(e, true)).collect();
    let arg_ptrs: Vec<u64> = spec.argv.iter().rev().map(|a| place(a, true)).collect();
    let random = place(&spec.random, false);

    let mut words: Vec<u64> = vec![spec.argv.len() as u64];
    words.extend(arg_ptrs.iter().rev());
    words.push(0);
    words.extend(env_ptrs.iter().rev());
    words.push(0);
    for &(key, value) in spec.auxv {
        words.extend([key, value]);
    }
    words.extend([AT_RANDOM, random, AT_EXECFN, execfn, AT_NULL, 0]);

    debug_assert_eq!(words.len(), words_len(spec));
    let strings_start = top - strings.len() as u64;
    let sp = start(spec, top);
    let mut bytes = vec![0u8; (top - sp) as usize];
    for (i, word) in words.iter().enumerate() {
        bytes[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
    }
    let at = (strings_start - sp) as usize;
    bytes[at..].copy_from_slice(&strings);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A built stack and where it starts.
    struct InitialStack {
        sp: u64,
        bytes: Vec<u8>,
    }

    fn word(stack: &InitialStack, addr: u64) -> u64 {
        let at = (addr - stack.sp) as usize;
        u64::from_le_bytes(stack.bytes[at..at + 8].try_into().unwrap())
    }

    fn string(stack: &InitialStack, addr: u64) -> Vec<u8> {
        let at = (addr - stack.sp) as usize;
        stack.bytes[at..].iter().take_while(|&&b| b != 0).copied().collect()
    }

    #[test]
    fn the_layout_is_argc_argv_envp_auxv_with_strings_above() {
        let argv = [b"/bin/sh".to_vec(), b"-c".to_vec(), b"echo hi".to_vec()];
        let envp = [b"PATH=/bin".to_vec()];
        let random = *b"0123456789abcdef";
        let spec =
            StackSpec { argv: &argv, envp: &envp, auxv: &[(6, 4096), (9, 0x401000)], random, execfn: b"/bin/sh" };
        let top = 0x7fff_ffff_f000;
        let stack = InitialStack { sp: start(&spec, top), bytes: build(&spec, top) };
        assert_eq!(stack.sp % 16, 0, "16-byte aligned");
        assert_eq!(stack.sp + stack.bytes.len() as u64, top);
        let mut at = stack.sp;
        assert_eq!(word(&stack, at), 3, "argc");
        for arg in &argv {
            at += 8;
            assert_eq!(&string(&stack, word(&stack, at)), arg);
        }
        at += 8;
        assert_eq!(word(&stack, at), 0, "argv ends with NULL");
        at += 8;
        assert_eq!(string(&stack, word(&stack, at)), b"PATH=/bin");
        at += 16;
        let mut auxv = Vec::new();
        loop {
            let (key, value) = (word(&stack, at), word(&stack, at + 8));
            at += 16;
            if key == 0 {
                break;
            }
            auxv.push((key, value));
        }
        assert_eq!(&auxv[..2], &[(6, 4096), (9, 0x401000)]);
        let random_at = auxv.iter().find(|(k, _)| *k == AT_RANDOM).unwrap().1;
        let offset = (random_at - stack.sp) as usize;
        assert_eq!(&stack.bytes[offset..offset + 16], &random);
        let execfn = auxv.iter().find(|(k, _)| *k == AT_EXECFN).unwrap().1;
        assert_eq!(string(&stack, execfn), b"/bin/sh");
        assert!(at <= random_at, "vectors lie below the strings");
    }
}
