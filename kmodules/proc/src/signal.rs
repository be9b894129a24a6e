//! Signals: actions, pending and blocked sets, default actions, and
//! delivery to user handlers with Linux's `rt_sigframe` on the user
//! stack (so `rt_sigreturn` and `SA_SIGINFO` handlers work as on Linux).
//!
//! Actions are per process (shared by its threads); pending signals and
//! the mask are per thread. A signal sent to a process goes to its first
//! thread that does not block it (else its first thread). It sets the
//! thread's pending bit and, unless blocked,
//! interrupts the thread's blocking wait (the system call then returns
//! `EINTR`, and is restarted if no handler ran or the handler has
//! `SA_RESTART`). Pending signals are acted on whenever the thread is
//! about to return to user mode. Job-control stops are not implemented:
//! the stop signals' default action is to ignore them.

use core::sync::atomic::Ordering;

use abi::flags::signal::*;
use fs::KResult;
use shim::user::{FpuState, UserRegs};

use crate::process::Process;
use crate::sigstate::{Action, SigSet, UNCATCHABLE, bit};
use crate::thread::Thread;
use crate::uaccess;

pub use abi::flags::signal::{NSIG, SA_NODEFER, SA_RESETHAND, SA_RESTART, SIG_DFL, SIG_IGN};

/// What a signal does by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Default {
    Terminate,
    Core,
    Ignore,
}

fn default_action(sig: u32) -> Default {
    match sig {
        SIGCHLD | SIGCONT | SIGWINCH | SIGURG | SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => Default::Ignore,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ | SIGSYS => Default::Core,
        _ => Default::Terminate,
    }
}

/// Whether `action` for `sig` drops the signal.
fn ignores(sig: u32, action: Action) -> bool {
    match action.handler {
        SIG_IGN => sig != SIGKILL && sig != SIGSTOP,
        SIG_DFL => default_action(sig) == Default::Ignore,
        _ => false,
    }
}

/// Sets the action of `sig` for `thread`'s process; a signal pending for
/// `thread` that is now ignored is discarded.
pub fn set_action(thread: &Thread, sig: u32, action: Action) {
    thread.process.set_action(sig, action);
    if ignores(sig, action) {
        thread.signals.pending.fetch_and(!bit(sig), Ordering::Relaxed);
    }
}

/// Sends `sig` to `process` (to one of its threads; see the module doc).
/// An ignored signal is dropped. As on Linux, init gets only the signals
/// it handles.
pub fn send(process: &Process, sig: u32) {
    send_from(process, sig, 0);
}

/// [`send`] by process `sender` (`kill`), recorded for `si_pid`.
pub fn send_from(process: &Process, sig: u32, sender: i32) {
    let threads = process.threads();
    let target = threads.iter().find(|t| t.signals.mask() & bit(sig) == 0).or(threads.first());
    if let Some(thread) = target {
        send_to_thread(thread, sig, sender);
    }
}

/// Sends `sig` to one thread (`tgkill`).
pub fn send_to_thread(thread: &Thread, sig: u32, sender: i32) {
    let signals = &thread.signals;
    // A blocked signal is kept: its action may change before it is
    // unblocked, or `rt_sigtimedwait` may take it.
    let blocked = signals.mask() & bit(sig) != 0;
    if !blocked && (ignores(sig, thread.process.action(sig)) || unkillable_init(thread, sig)) {
        return;
    }
    thread.state.with(|kept| kept.senders[sig as usize - 1] = sender);
    post(thread, sig);
}

/// Whether `sig` would take its default action on init, which (as on
/// Linux) is not done: init gets only the signals it handles, whoever
/// sends them (a SIGSEGV from `kill` included). A fault init causes itself
/// is [`force`]d, not sent, and still ends it.
fn unkillable_init(thread: &Thread, sig: u32) -> bool {
    thread.process.pid == crate::INIT_PID && thread.process.action(sig).handler == SIG_DFL
}

/// Marks `sig` pending and interrupts a blocking wait unless it is blocked.
fn post(thread: &Thread, sig: u32) {
    let signals = &thread.signals;
    signals.pending.fetch_or(bit(sig), Ordering::Relaxed);
    if bit(sig) & (!signals.mask() | signals.awaited.load(Ordering::Relaxed)) != 0 {
        thread.interrupt();
    }
}

/// `rt_sigtimedwait`: takes a pending signal of `set`, waiting until
/// `deadline_ns` for one; `EAGAIN` at the deadline, `EINTR` if another
/// (unblocked) signal arrives first.
pub fn wait_for(thread: &Thread, set: SigSet, deadline_ns: u64) -> KResult<u32> {
    let signals = &thread.signals;
    let set = set & !UNCATCHABLE;
    signals.awaited.store(set, Ordering::Relaxed);
    let result = loop {
        let ready = signals.pending() & set;
        if ready != 0 {
            let sig = ready.trailing_zeros() + 1;
            signals.pending.fetch_and(!bit(sig), Ordering::Relaxed);
            break Ok(sig);
        }
        if signals.deliverable() || thread.exiting() {
            break Err(abi::errno::EINTR);
        }
        if shim::time::now_ns() >= deadline_ns {
            break Err(abi::errno::EAGAIN);
        }
        if runtime::sched::sleep_until_interruptible(deadline_ns).is_err() {
            runtime::sched::clear_interrupt();
        }
    };
    signals.awaited.store(0, Ordering::Relaxed);
    result
}

/// Sends a signal the thread caused itself (a fault): if it is blocked or
/// ignored, it gets the default action anyway, as on Linux.
pub fn force(thread: &Thread, sig: u32) {
    let signals = &thread.signals;
    if thread.process.action(sig).handler == SIG_IGN || signals.mask() & bit(sig) != 0 {
        set_action(thread, sig, Action::default());
        signals.mask.fetch_and(!bit(sig), Ordering::Relaxed);
    }
    post(thread, sig);
}

/// The wait status of a death by `sig`.
fn killed_status(sig: u32) -> i32 {
    sig as i32 | if default_action(sig) == Default::Core { 0x80 } else { 0 }
}

/// Acts on pending, unblocked signals before a return to user mode.
/// `interrupted_syscall` is the number of a system call that just
/// returned `EINTR`: it is restarted unless a handler without
/// `SA_RESTART` runs. Returns false if the thread must exit.
pub fn deliver(thread: &Thread, regs: &mut UserRegs, interrupted_syscall: Option<u64>) -> bool {
    let (signals, process) = (&thread.signals, &*thread.process);
    let mut restart = interrupted_syscall;
    loop {
        let ready = signals.pending() & !signals.mask();
        if ready == 0 {
            break;
        }
        let sig = ready.trailing_zeros() + 1;
        signals.pending.fetch_and(!bit(sig), Ordering::Relaxed);
        let action = process.action(sig);
        match action.handler {
            SIG_IGN if sig != SIGKILL => continue,
            SIG_DFL if unkillable_init(thread, sig) => continue,
            SIG_DFL => match default_action(sig) {
                Default::Ignore => continue,
                Default::Terminate | Default::Core => {
                    process.request_exit(killed_status(sig));
                    return false;
                }
            },
            _ => {}
        }
        if restart.is_some_and(|nr| action.flags & SA_RESTART == 0 || never_restarted_after_handler(nr)) {
            regs.rax = abi::errno::EINTR.to_return();
            restart = None;
        }
        if let Some(nr) = restart.take() {
            regs.rip -= 2;
            regs.rax = nr;
        }
        if push_frame(thread, regs, sig, action).is_err() {
            process.request_exit(killed_status(SIGSEGV));
            return false;
        }
        if action.flags & SA_RESETHAND != 0 {
            set_action(thread, sig, Action::default());
        }
        let mut mask = signals.mask() | action.mask;
        if action.flags & SA_NODEFER == 0 {
            mask |= bit(sig);
        }
        signals.set_mask(mask);
        // One handler frame per return; further signals nest on the next.
        return true;
    }
    if let Some(nr) = restart {
        regs.rip -= 2;
        regs.rax = nr;
    }
    if let Some(mask) = signals.take_suspended_mask() {
        signals.set_mask(mask);
    }
    true
}

/// Calls Linux restarts only when no handler ran (`ERESTARTNOHAND` and
/// `ERESTART_RESTARTBLOCK`): waits for signals, sleeps, polls.
fn never_restarted_after_handler(nr: u64) -> bool {
    use abi::nr::*;
    matches!(nr, RT_SIGSUSPEND | PAUSE | NANOSLEEP | CLOCK_NANOSLEEP | POLL | PPOLL | SELECT | PSELECT6)
}

/// Bytes of `struct ucontext` before `uc_mcontext`.
const UC_MCONTEXT: u64 = 40;
/// Bytes of `struct sigcontext`.
const SIGCONTEXT_LEN: u64 = 256;
/// Offset of `fpstate` (the `fxsave` area's address) in `struct sigcontext`.
const SC_FPSTATE: u64 = 184;
/// Offset of `uc_sigmask` in `struct ucontext`.
const UC_SIGMASK: u64 = UC_MCONTEXT + SIGCONTEXT_LEN;
/// Bytes of `struct ucontext` (up to and including `uc_sigmask`).
const UCONTEXT_LEN: u64 = UC_SIGMASK + 8;
/// Bytes of `siginfo_t`.
const SIGINFO_LEN: u64 = 128;
/// Bytes of the frame: the return address, `struct ucontext` and
/// `siginfo_t`.
const FRAME_LEN: usize = (8 + UCONTEXT_LEN + SIGINFO_LEN) as usize;
/// The x86_64 red zone below the stack pointer that a frame must skip.
const RED_ZONE: u64 = 128;

/// The general registers in `struct sigcontext` order (r8 … rip, eflags).
fn sigcontext_words(regs: &UserRegs) -> [u64; 18] {
    [
        regs.r8,
        regs.r9,
        regs.r10,
        regs.r11,
        regs.r12,
        regs.r13,
        regs.r14,
        regs.r15,
        regs.rdi,
        regs.rsi,
        regs.rbp,
        regs.rbx,
        regs.rdx,
        regs.rax,
        regs.rcx,
        regs.rsp,
        regs.rip,
        regs.rflags,
    ]
}

/// Builds Linux's `rt_sigframe` below the user stack and points the
/// registers at the handler.
fn push_frame(thread: &Thread, regs: &mut UserRegs, sig: u32, action: Action) -> KResult<()> {
    let (signals, process) = (&thread.signals, &*thread.process);
    // The handler starts as if called: (rsp + 8) is 16-byte aligned. A
    // stack pointer too low for the frame is the process's fault.
    let fpstate = regs.rsp.checked_sub(RED_ZONE + FpuState::LEN as u64).ok_or(abi::errno::EFAULT)? & !63;
    let top = fpstate.checked_sub(FRAME_LEN as u64).filter(|&top| top >= 16).ok_or(abi::errno::EFAULT)?;
    let frame = (top & !15) - 8;
    let ucontext = frame + 8;
    let siginfo = ucontext + UCONTEXT_LEN;
    // Return address; ucontext: flags, link, stack (zero), sigcontext;
    // cs/gs/fs/ss, err, trapno, oldmask, cr2: zero; fpstate: the `fxsave`
    // area above the frame, as on Linux (so a handler left by `siglongjmp`
    // leaves nothing behind in the kernel); reserved: zero; the mask; then
    // siginfo.
    let mut bytes = [0u8; FRAME_LEN];
    let mut put = |at: u64, value: &[u8]| bytes[at as usize..at as usize + value.len()].copy_from_slice(value);
    put(0, &action.restorer.to_le_bytes());
    for (i, word) in sigcontext_words(regs).iter().enumerate() {
        put(8 + UC_MCONTEXT + 8 * i as u64, &word.to_le_bytes());
    }
    put(8 + UC_MCONTEXT + SC_FPSTATE, &fpstate.to_le_bytes());
    put(8 + UC_SIGMASK, &signals.mask_to_save().to_le_bytes());
    // si_signo; si_code SI_USER (0); si_pid at 16, si_uid (root) at 20.
    let sender = thread.state.with(|kept| kept.senders[sig as usize - 1]);
    put(8 + UCONTEXT_LEN, &sig.to_le_bytes());
    put(8 + UCONTEXT_LEN + 16, &sender.to_le_bytes());
    uaccess::write(process, fpstate, &regs.fpu.to_bytes())?;
    uaccess::write(process, frame, &bytes)?;
    regs.rsp = frame;
    regs.rip = action.handler;
    regs.rdi = sig as u64;
    regs.rsi = siginfo;
    regs.rdx = ucontext;
    regs.rax = 0;
    Ok(())
}

/// `rt_sigreturn`: restores the registers and mask the frame at the user
/// stack holds (the handler's `ret` popped the return address).
pub fn sigreturn(thread: &Thread, regs: &mut UserRegs) -> KResult<()> {
    let process = &*thread.process;
    let ucontext = regs.rsp;
    let mut words = [0u64; 18];
    for (i, word) in words.iter_mut().enumerate() {
        *word = uaccess::read_value(process, ucontext + UC_MCONTEXT + 8 * i as u64)?;
    }
    let mask: u64 = uaccess::read_value(process, ucontext + UC_SIGMASK)?;
    let [r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, rflags] = words;
    // No `fpstate`: the registers' initial state, as on Linux.
    let fpu = match uaccess::read_value::<u64>(process, ucontext + UC_MCONTEXT + SC_FPSTATE)? {
        0 => FpuState::default(),
        area => {
            let mut bytes = [0u8; FpuState::LEN];
            uaccess::read(process, area, &mut bytes)?;
            FpuState::from_user_bytes(&bytes)
        }
    };
    *regs = UserRegs {
        r8,
        r9,
        r10,
        r11,
        r12,
        r13,
        r14,
        r15,
        rdi,
        rsi,
        rbp,
        rbx,
        rdx,
        rax,
        rcx,
        rsp,
        rip,
        rflags,
        fs_base: regs.fs_base,
        fpu,
    };
    thread.signals.set_mask(mask);
    Ok(())
}
