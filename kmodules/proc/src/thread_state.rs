//! The part of a thread's kernel state that lives in its process's heap:
//! what is not read on every return to user mode — the registers it
//! starts with and who sent each pending signal. (The pending and blocked
//! sets stay atomic words of the thread, read without a scope on every
//! return; a handler frame's registers, FPU state included, are on the
//! user stack.)

use core::cell::RefCell;

use abi::errno::ENOMEM;
use abi::flags::signal::NSIG;
use fs::KResult;
use runtime::heap::{Handle, Heap, Rootable, Static};
use shim::user::UserRegs;

/// The state (plain data: no GC pointers inside).
pub struct Kept {
    /// The registers the thread starts with, until it starts.
    pub start: Option<UserRegs>,
    /// The process that sent each pending signal (0: the kernel), for
    /// `siginfo.si_pid`.
    pub senders: [i32; NSIG as usize],
}

type KeptRoot = Rootable![Static<RefCell<Kept>>];

/// Room the state takes in the heap.
const KEPT_BYTES: u64 = (size_of::<Kept>() + 64) as u64;

/// A thread's handle to its state.
pub struct ThreadState(Handle<KeptRoot>);

impl ThreadState {
    /// A new thread's state in `heap` (its process's), starting at `regs`.
    pub fn new(heap: &Heap, regs: UserRegs) -> KResult<Self> {
        let mut regs = Some(regs);
        let kept = heap.try_mutate(|s| {
            s.reserve(KEPT_BYTES)?;
            let kept = Kept { start: regs.take(), senders: [0; NSIG as usize] };
            Ok(s.stash::<KeptRoot>(s.alloc(Static(RefCell::new(kept)))?))
        });
        kept.map(ThreadState).map_err(|_| ENOMEM)
    }

    /// Runs `f` on the state, in a scope of its heap (`f` must not block
    /// or open another scope).
    pub fn with<T>(&self, f: impl FnOnce(&mut Kept) -> T) -> T {
        self.0.with(|_, kept| f(&mut kept.0.borrow_mut()))
    }
}
