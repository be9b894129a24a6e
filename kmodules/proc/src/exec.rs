//! `execve`: loading a static ELF executable (or a `#!` script's
//! interpreter) into a fresh address space with its initial stack, then
//! replacing the calling process's image with it.

use alloc::vec;
use alloc::vec::Vec;

use abi::errno::{ELOOP, ENOEXEC};
use abi::flags::auxv::*;
use fs::{KResult, NodeRef};
use shim::user::UserRegs;
use vm::{Prot, STACK_TOP, Vm};

use crate::elf::{self, Executable};
use crate::random;
use crate::stack::{self, StackSpec};
use crate::thread::Thread;

/// Nested `#!` interpreters allowed (Linux allows 4 levels).
const MAX_INTERPRETERS: usize = 4;
/// Longest `#!` line read.
const SHEBANG_MAX: usize = 256;

/// A program ready to replace a process's image.
pub struct Image {
    /// Its memory.
    pub vm: Vm,
    /// Its first registers.
    pub regs: UserRegs,
}

/// Loads `path` (relative to `cwd`) with `argv` and `envp`.
pub fn load(cwd: &NodeRef, path: &[u8], mut argv: Vec<Vec<u8>>, envp: &[Vec<u8>]) -> KResult<Image> {
    let mut path = path.to_vec();
    for _ in 0..=MAX_INTERPRETERS {
        // Linux refuses to execute a directory with EACCES.
        let file = fs::read_executable(cwd, &path)
            .map_err(|e| if e == abi::errno::EISDIR { abi::errno::EACCES } else { e })?;
        match shebang(&file) {
            Some((interpreter, argument)) => {
                // argv becomes: interpreter [argument] path argv[1..]
                let mut new = vec![interpreter.clone()];
                new.extend(argument);
                new.push(path.clone());
                new.extend(argv.into_iter().skip(1));
                argv = new;
                path = interpreter;
            }
            None => return load_elf(&file, &path, &argv, envp),
        }
    }
    Err(ELOOP)
}

/// The interpreter and optional argument of a `#!` line.
fn shebang(file: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let line = file.strip_prefix(b"#!")?;
    let line = &line[..line.len().min(SHEBANG_MAX)];
    let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
    let mut words = line.split(|&b| b == b' ' || b == b'\t').filter(|w| !w.is_empty());
    let interpreter = words.next()?.to_vec();
    let rest: Vec<&[u8]> = words.collect();
    let argument = (!rest.is_empty()).then(|| rest.join(&b' '));
    Some((interpreter, argument))
}

fn load_elf(file: &[u8], path: &[u8], argv: &[Vec<u8>], envp: &[Vec<u8>]) -> KResult<Image> {
    let exe = elf::parse(file)?;
    let mut vm = Vm::new()?;
    map_segments(&mut vm, file, &exe)?;
    let auxv = [
        (AT_PHDR, exe.phdr),
        (AT_PHENT, exe.phent),
        (AT_PHNUM, exe.phnum),
        (AT_PAGESZ, 4096),
        (AT_ENTRY, exe.entry),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_CLKTCK, 100),
        (AT_SECURE, 0),
    ];
    let mut randomness = [0u8; 16];
    random::fill(&mut randomness);
    let spec = StackSpec { argv, envp, auxv: &auxv, random: randomness, execfn: path };
    let initial = stack::build(&spec, STACK_TOP);
    if STACK_TOP - initial.sp > vm::STACK_SIZE / 4 {
        return Err(abi::errno::E2BIG);
    }
    vm.write(initial.sp, &initial.bytes)?;
    let regs = UserRegs { rip: exe.entry, rsp: initial.sp, rflags: 0x202, ..UserRegs::default() };
    Ok(Image { vm, regs })
}

fn map_segments(vm: &mut Vm, file: &[u8], exe: &Executable) -> KResult<()> {
    for load in &exe.loads {
        let end = load.vaddr.checked_add(load.mem_len).ok_or(ENOEXEC)?;
        vm.map_segment(load.vaddr, end, Prot::from_bits(load.prot)).map_err(|_| ENOEXEC)?;
        let bytes = &file[load.offset as usize..(load.offset + load.file_len) as usize];
        vm.write(load.vaddr, bytes)?;
    }
    Ok(())
}

/// Before an `execve` replaces the image: the process's other threads end
/// (as on Linux); returns once they are gone.
pub fn end_other_threads(thread: &Thread) {
    let others: Vec<_> = thread.process.threads.lock().iter().filter(|t| t.tid != thread.tid).cloned().collect();
    for other in &others {
        other.request_exit(0);
    }
    while thread.process.threads.lock().len() > 1 {
        runtime::sched::sleep(core::time::Duration::from_millis(1));
    }
}

/// Replaces the process's image with `image`: the new memory is bound to
/// the calling thread before the old one is freed; close-on-exec files
/// close and caught signals reset.
pub fn commit(thread: &Thread, image: Image, regs: &mut UserRegs, argv: &[Vec<u8>]) {
    let process = &*thread.process;
    shim::task::set_address_space(Some(image.vm.space()));
    let old = process.vm.lock().replace(image.vm);
    drop(old);
    let closing = process.files.lock().take_cloexec();
    drop(closing);
    thread.signals.reset_handlers();
    *process.cmdline.lock() = argv.join(&0u8);
    *regs = image.regs;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_lines_give_the_interpreter_and_one_argument() {
        assert_eq!(shebang(b"#!/bin/sh\necho"), Some((b"/bin/sh".to_vec(), None)));
        assert_eq!(shebang(b"#! /bin/busybox  sh -x\n"), Some((b"/bin/busybox".to_vec(), Some(b"sh -x".to_vec()))));
        assert_eq!(shebang(b"\x7fELF"), None);
        assert_eq!(shebang(b"#!\n"), None);
    }
}
