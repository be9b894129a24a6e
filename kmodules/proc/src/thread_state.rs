//! The part of a thread's kernel state that lives in its process's heap:
//! what is not read on every return to user mode — the registers it
//! starts with, who sent each pending signal, and the FPU states its
//! signal-handler frames saved. (The pending and blocked sets stay atomic
//! words of the thread, read without a scope on every return.)

use alloc::vec::Vec;
use core::cell::RefCell;

use abi::errno::{EFAULT, ENOMEM};
use abi::flags::signal::NSIG;
use fs::KResult;
use runtime::heap::{Handle, Heap, Rootable, Static};
use shim::user::{FpuState, UserRegs};

/// The state (plain data: no GC pointers inside).
pub struct Kept {
    /// The registers the thread starts with, until it starts.
    pub start: Option<UserRegs>,
    /// The process that sent each pending signal (0: the kernel), for
    /// `siginfo.si_pid`.
    pub senders: [i32; NSIG as usize],
    /// FPU states saved by handler frames, innermost last (the general
    /// registers are in the user-stack frame).
    pub saved_fpu: Vec<FpuState>,
}

type KeptRoot = Rootable![Static<RefCell<Kept>>];

/// Room the state takes in the heap, besides the FPU states it saves.
const KEPT_BYTES: u64 = (size_of::<Kept>() + 64) as u64;

/// A thread's handle to its state.
pub struct ThreadState(Handle<KeptRoot>);

impl ThreadState {
    /// A new thread's state in `heap` (its process's), starting at `regs`.
    pub fn new(heap: &Heap, regs: UserRegs) -> KResult<Self> {
        let mut regs = Some(regs);
        let kept = heap.try_mutate(|s| {
            s.reserve(KEPT_BYTES)?;
            let kept = Kept { start: regs.take(), senders: [0; NSIG as usize], saved_fpu: Vec::new() };
            Ok(s.stash::<KeptRoot>(s.alloc(Static(RefCell::new(kept)))?))
        });
        kept.map(ThreadState).map_err(|_| ENOMEM)
    }

    /// Runs `f` on the state, in a scope of its heap (`f` must not block
    /// or open another scope).
    pub fn with<T>(&self, f: impl FnOnce(&mut Kept) -> T) -> T {
        self.0.with(|_, kept| f(&mut kept.0.borrow_mut()))
    }

    /// Saves `fpu` for a new handler frame; `EFAULT` past `max_nesting`
    /// frames, `ENOMEM` if the heap has no room.
    pub fn push_fpu(&self, fpu: &FpuState, max_nesting: usize) -> KResult<()> {
        self.0.with(|s, kept| {
            let mut kept = kept.0.borrow_mut();
            if kept.saved_fpu.len() >= max_nesting {
                return Err(EFAULT);
            }
            s.reserve(size_of::<FpuState>() as u64).map_err(|_| ENOMEM)?;
            kept.saved_fpu.push(fpu.clone());
            Ok(())
        })
    }
}
