//! Kernel execution contexts and the context switch.
//!
//! A [`Context`] is a suspended kernel thread of control: its stack pointer,
//! with the callee-saved registers pushed on its stack. [`switch`] saves the
//! current one and resumes another. Kernel code never uses SSE/x87 (the
//! `x86_64-unknown-none` target is soft-float), so there is no FPU state to
//! save here; user FPU state is saved on the user/kernel boundary.
//!
//! [`call_on_stack`] runs a function on a fresh stack and turns an overflow
//! of that stack (a guard-page hit) into an error instead of a stop: the
//! machinery that the guard-page test and, later, goroutine stack-overflow
//! reports rely on.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::mem::stack::{KernelStack, StackOwner};
use crate::trap::TrapFrame;

/// A suspended kernel context.
#[derive(Debug)]
pub struct Context {
    rsp: u64,
}

impl Context {
    /// A context slot to save into; not resumable until [`switch`] fills it.
    pub const fn empty() -> Context {
        Context { rsp: 0 }
    }

    /// Whether this is an [`empty`](Context::empty) slot nothing was saved into.
    pub fn is_empty(&self) -> bool {
        self.rsp == 0
    }

    /// A context that, when switched to, calls `entry(arg)` on `stack`.
    /// `entry` must never return (it switches away for good instead).
    pub fn new(stack: &KernelStack, entry: extern "C" fn(usize) -> !, arg: usize) -> Context {
        let top = stack.top().as_u64();
        // Initial frame, as `switch` pops it: r15 r14 r13 r12 rbx rbp, then
        // the return address (the trampoline), then a zero end-of-chain slot.
        let frame: [u64; 8] = [0, 0, entry as usize as u64, arg as u64, 0, 0, context_start as *const () as u64, 0];
        let rsp = top - size_of_val(&frame) as u64;
        // SAFETY: the 64 bytes below `top` are mapped, writable and part of a
        // stack no code runs on yet (the caller owns `stack`).
        unsafe { (rsp as *mut [u64; 8]).write(frame) };
        Context { rsp }
    }
}

/// Saves the current context into `from` and resumes `to`. Returns when
/// something switches back to `from`.
///
/// # Safety
/// `to` must come from [`Context::new`] or a [`switch`] into it, must not be
/// running on any CPU, and its stack must still be mapped.
pub unsafe fn switch(from: &mut Context, to: &Context) {
    // SAFETY: forwarded to the caller; `from` is a valid place to save into.
    unsafe { raw_switch(&mut from.rsp, to.rsp) }
}

/// Assembly that pushes the System V callee-saved registers; popped in the
/// reverse order by [`pop_callee_saved!`]. Shared by every stack switch
/// (context switch, user-mode entry).
macro_rules! push_callee_saved {
    () => {
        "push rbp\npush rbx\npush r12\npush r13\npush r14\npush r15"
    };
}

/// Assembly that pops what [`push_callee_saved!`] pushed.
macro_rules! pop_callee_saved {
    () => {
        "pop r15\npop r14\npop r13\npop r12\npop rbx\npop rbp"
    };
}

pub(crate) use {pop_callee_saved, push_callee_saved};

/// Pushes callee-saved registers, stores RSP to `*save`, loads `next` and
/// pops the registers saved there.
#[unsafe(naked)]
unsafe extern "C" fn raw_switch(save: *mut u64, next: u64) {
    core::arch::naked_asm!(
        push_callee_saved!(),
        "mov [rdi], rsp",
        "mov rdi, rsi",
        "jmp {restore}",
        restore = sym restore_context,
    );
}

/// Resumes the context whose saved RSP is in RDI.
#[unsafe(naked)]
unsafe extern "C" fn restore_context(rsp: u64) -> ! {
    core::arch::naked_asm!("mov rsp, rdi", pop_callee_saved!(), "ret");
}

/// First code of a new context: calls `entry(arg)` from r13/r12 with an
/// aligned stack and a zero frame pointer, which ends backtraces.
#[unsafe(naked)]
unsafe extern "C" fn context_start() -> ! {
    core::arch::naked_asm!("mov rdi, r12", "and rsp, -16", "xor ebp, ebp", "call r13", "ud2");
}

/// The stack overflowed; the function was abandoned at the fault.
#[cfg(feature = "ktest")]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StackOverflow {
    /// Slot of the stack that overflowed.
    pub(crate) slot: usize,
}

/// One probe at a time: the fault handler finds it through these statics.
#[cfg(feature = "ktest")]
static PROBE_LOCK: spin::Mutex<()> = spin::Mutex::new(());
static PROBE_SLOT: AtomicUsize = AtomicUsize::new(usize::MAX);
static PROBE_RESUME_RSP: AtomicU64 = AtomicU64::new(0);
static PROBE_OVERFLOWED: AtomicBool = AtomicBool::new(false);

#[cfg(feature = "ktest")]
struct Probe {
    f: fn(),
    caller: Context,
}

/// Runs `f` on `stack` and returns to the caller's stack. If `f` overflows
/// `stack`, the overflow is reported as usual and `f` is abandoned at the
/// faulting instruction (its destructors do not run).
#[cfg(feature = "ktest")]
pub(crate) fn call_on_stack(stack: &KernelStack, f: fn()) -> Result<(), StackOverflow> {
    let _one_at_a_time = PROBE_LOCK.lock();
    let mut probe = Probe { f, caller: Context::empty() };
    let target = Context::new(stack, probe_entry, &raw mut probe as usize);
    PROBE_OVERFLOWED.store(false, Ordering::SeqCst);
    PROBE_RESUME_RSP.store(&raw const probe.caller.rsp as u64, Ordering::SeqCst);
    PROBE_SLOT.store(stack.slot(), Ordering::SeqCst);
    // SAFETY: `target` was just built on `stack`, which outlives this call;
    // `probe` lives on our stack until we are resumed.
    unsafe { switch(&mut probe.caller, &target) };
    PROBE_SLOT.store(usize::MAX, Ordering::SeqCst);
    match PROBE_OVERFLOWED.load(Ordering::SeqCst) {
        true => Err(StackOverflow { slot: stack.slot() }),
        false => Ok(()),
    }
}

#[cfg(feature = "ktest")]
extern "C" fn probe_entry(probe: usize) -> ! {
    let probe = probe as *const Probe;
    // SAFETY: `probe` points at the `Probe` on the suspended caller's stack,
    // which stays alive until the caller is resumed below.
    unsafe { ((*probe).f)() };
    let mut finished = Context::empty();
    // SAFETY: the caller's context was saved by `switch` and is suspended.
    unsafe { switch(&mut finished, &(*probe).caller) };
    unreachable!("a finished probe was resumed");
}

/// Called by the fault handler on a guard-page hit: if a probe owns that
/// stack, rewrites the trap frame so `iretq` resumes the probe's caller.
pub(crate) fn recover_from_overflow(frame: &mut TrapFrame, owner: StackOwner) -> bool {
    if PROBE_SLOT.load(Ordering::SeqCst) != owner.slot {
        return false;
    }
    PROBE_SLOT.store(usize::MAX, Ordering::SeqCst);
    let saved = PROBE_RESUME_RSP.load(Ordering::SeqCst) as *const u64;
    // SAFETY: `saved` points at the caller's `Context::rsp`, filled by the
    // `switch` that started the probe; the caller is suspended, so it is
    // stable while we read it.
    let caller_rsp = unsafe { saved.read_volatile() };
    PROBE_OVERFLOWED.store(true, Ordering::SeqCst);
    frame.rip = restore_context as *const () as u64;
    frame.rdi = caller_rsp;
    frame.rsp = caller_rsp;
    true
}

#[cfg(feature = "ktest")]
mod ktests {
    use super::{StackOverflow, call_on_stack};
    use crate::ktest;
    use crate::ktest::recurse_forever;
    use crate::mem::stack::KernelStack;

    fn overflow() {
        core::hint::black_box(recurse_forever(0));
    }

    ktest! {
        fn guard_page_hit_is_caught_and_reported() {
            let stack = KernelStack::new(2, 0x51ac).expect("stack");
            assert_eq!(call_on_stack(&stack, overflow), Err(StackOverflow { slot: stack.slot() }));
            // The machine is fine afterwards: the same mechanism still runs
            // well-behaved code to completion.
            let calm = KernelStack::new(2, 0xca1).expect("stack");
            assert_eq!(call_on_stack(&calm, || { core::hint::black_box(1 + 1); }), Ok(()));
        }
    }
}
