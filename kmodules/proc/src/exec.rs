//! `execve`: loading a static ELF executable (or a `#!` script's
//! interpreter) into a fresh address space with its initial stack, then
//! replacing the calling process's image with it.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use abi::errno::{ELOOP, ENOEXEC, ENOMEM};
use abi::flags::auxv::*;
use fs::{ExecFile, KResult, NodeRef};
use runtime::heap::Heap;
use shim::user::UserRegs;
use vm::{Prot, STACK_TOP, Vm};

use crate::creds::Creds;
use crate::elf::{self, Executable};
use crate::exec_args::{ExecArgs, Strings};
use crate::stack::{self, StackSpec};
use crate::thread::Thread;
use crate::{random, sigstate};

/// Nested `#!` interpreters allowed (Linux allows 4 levels).
const MAX_INTERPRETERS: usize = 4;
/// Longest `#!` line read.
const SHEBANG_MAX: usize = 256;
/// Bytes read from the start of a program to find its `#!` line or its
/// ELF and program headers (which usually end within the first few
/// hundred bytes).
const HEAD_BYTES: u64 = 1024;
/// Most bytes of program headers read when they reach past
/// [`HEAD_BYTES`].
const HEADERS_MAX: u64 = 64 * 1024;

/// A program ready to replace a process's image.
pub struct Image {
    /// Its memory.
    pub vm: Vm,
    /// Its first registers.
    pub regs: UserRegs,
    /// The credentials it runs with (its set-id bits applied).
    pub creds: Creds,
}

/// Loads `path` (relative to `cwd`) for a process with `creds`, with the
/// strings of `args` (which a `#!` line rewrites for its interpreter);
/// its memory's areas go in `heap` (the process's), its stack area follows
/// `stack_limit` (`RLIMIT_STACK`; see `Vm::new`). The program's
/// set-user-id and set-group-id bits (the ELF file's, never a script's)
/// give the image's credentials.
pub fn load(
    heap: &Heap,
    cwd: &NodeRef,
    creds: &Creds,
    path: &[u8],
    args: &ExecArgs,
    stack_limit: u64,
) -> KResult<Image> {
    let mut interpreter: Option<Vec<u8>> = None;
    for _ in 0..=MAX_INTERPRETERS {
        let current = interpreter.as_deref().unwrap_or(path);
        // Linux refuses to execute a directory with EACCES.
        let file = fs::open_executable(&creds.fs(), cwd, current)
            .map_err(|e| if e == abi::errno::EISDIR { abi::errno::EACCES } else { e })?;
        let mut head = [0u8; HEAD_BYTES as usize];
        let read = file.read_at(0, &mut head[..file.len().min(HEAD_BYTES) as usize]);
        let head = &head[..read];
        let Some((next, argument)) = shebang(head) else {
            let mut creds = creds.clone();
            creds.exec(file.set_ids());
            return load_elf(heap, &file, head, current, args, creds, stack_limit);
        };
        // argv becomes: interpreter [argument] path argv[1..]
        args.with(|strings| {
            let mut front = vec![next.clone()];
            front.extend(argument);
            front.push(current.to_vec());
            let argv = &mut strings.argv;
            argv.splice(..argv.len().min(1), front);
        });
        interpreter = Some(next);
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

/// The first `max` bytes of `file` (all of it if shorter).
fn read_head(file: &ExecFile, max: u64) -> KResult<Vec<u8>> {
    let mut head = Vec::new();
    let len = file.len().min(max) as usize;
    head.try_reserve_exact(len).map_err(|_| ENOMEM)?;
    head.resize(len, 0);
    let read = file.read_at(0, &mut head);
    head.truncate(read);
    Ok(head)
}

fn load_elf(
    heap: &Heap,
    file: &ExecFile,
    head: &[u8],
    path: &[u8],
    args: &ExecArgs,
    creds: Creds,
    stack_limit: u64,
) -> KResult<Image> {
    let headers_end = elf::headers_end(head)?;
    let long_head;
    let head = if headers_end > head.len() as u64 && headers_end <= HEADERS_MAX.min(file.len()) {
        long_head = read_head(file, headers_end)?;
        &long_head[..]
    } else {
        head
    };
    let exe = elf::parse(head, file.len())?;
    let mut vm = Vm::new(heap, stack_limit)?;
    map_segments(&mut vm, file, &exe)?;
    let auxv = [
        (AT_PHDR, exe.phdr),
        (AT_PHENT, exe.phent),
        (AT_PHNUM, exe.phnum),
        (AT_PAGESZ, 4096),
        (AT_ENTRY, exe.entry),
        (AT_UID, u64::from(creds.uid.real)),
        (AT_EUID, u64::from(creds.uid.effective)),
        (AT_GID, u64::from(creds.gid.real)),
        (AT_EGID, u64::from(creds.gid.effective)),
        (AT_CLKTCK, 100),
        (AT_SECURE, u64::from(creds.secure())),
    ];
    let mut randomness = [0u8; 16];
    random::fill(&mut randomness);
    // The stack is built from the strings in their heap, and written into
    // the new memory there: its pages are made present first.
    let sp = args.with(|strings| stack::start(&stack_spec(strings, &auxv, randomness, path), STACK_TOP));
    // As Linux: the strings may take a quarter of the stack.
    if STACK_TOP - sp > vm.stack_size() / 4 {
        return Err(abi::errno::E2BIG);
    }
    vm.prefault(sp, (STACK_TOP - sp) as usize, true)?;
    args.with(|strings| vm.write(sp, &stack::build(&stack_spec(strings, &auxv, randomness, path), STACK_TOP)))?;
    let regs = UserRegs { rip: exe.entry, rsp: sp, rflags: 0x202, ..UserRegs::default() };
    Ok(Image { vm, regs, creds })
}

/// What goes on a new program's stack.
fn stack_spec<'a>(strings: &'a Strings, auxv: &'a [(u64, u64)], random: [u8; 16], execfn: &'a [u8]) -> StackSpec<'a> {
    StackSpec { argv: &strings.argv, envp: &strings.envp, auxv, random, execfn }
}

/// Maps each segment and copies its file bytes in, straight from the file
/// (a file that shrank meanwhile is `ENOEXEC`). The new image is not
/// anyone's yet, so writing it never blocks.
fn map_segments(vm: &mut Vm, file: &ExecFile, exe: &Executable) -> KResult<()> {
    for load in &exe.loads {
        let end = load.vaddr.checked_add(load.mem_len).ok_or(ENOEXEC)?;
        vm.map_segment(load.vaddr, end, Prot::from_bits(load.prot)).map_err(|_| ENOEXEC)?;
        let len = usize::try_from(load.file_len).map_err(|_| ENOEXEC)?;
        let copied = file.copy_out(load.offset, len, |done, bytes| vm.write(load.vaddr + done as u64, bytes))?;
        if copied != len {
            return Err(ENOEXEC);
        }
    }
    Ok(())
}

/// Ends the process's other threads, for `execve`, and waits until they
/// are gone. Only one thread replaces the image: if another one already
/// does, this one is among those it ends, and gets `EAGAIN` (it exits on
/// its way back to user mode). Until [`done_replacing`], the caller owns
/// the process's image.
pub fn end_other_threads(thread: &Thread) -> KResult<()> {
    let process = &thread.process;
    if process.exec_owner.compare_exchange(0, thread.tid, Ordering::AcqRel, Ordering::Acquire).is_err() {
        return Err(abi::errno::EAGAIN);
    }
    let others: Vec<_> = process.threads().into_iter().filter(|t| t.tid != thread.tid).collect();
    for other in &others {
        other.request_exit(0);
    }
    process.thread_ended.wait_for(|| (process.thread_count() <= 1).then_some(()));
    Ok(())
}

/// Ends what [`end_other_threads`] began: the image is replaced.
pub fn done_replacing(thread: &Thread) {
    thread.process.exec_owner.store(0, Ordering::Release);
}

/// Replaces the process's image with `image`: the new memory is bound to
/// the calling thread before the old one is freed; the credentials become
/// the image's; close-on-exec files close and caught signals reset.
pub fn commit(thread: &Thread, image: Image, regs: &mut UserRegs, args: &ExecArgs) {
    let process = &*thread.process;
    shim::task::set_address_space(Some(image.vm.space()));
    let old = process.vm.lock().replace(image.vm);
    drop(old);
    let cmdline = args.with(|strings| strings.argv.join(&0u8));
    let (closing, old_creds) = process.private(|p| {
        sigstate::reset_handlers(&mut p.actions);
        p.cmdline = cmdline;
        (p.files.take_cloexec(), core::mem::replace(&mut p.creds, image.creds))
    });
    drop((closing, old_creds));
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
