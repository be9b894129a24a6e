//! The goroutine (G): a shim [`Task`] plus what the scheduler tracks about
//! it, and its state machine.
//!
//! ```text
//!            yield / preempt                       wake (token)
//!  Running ─────────────────▶ Runnable ◀─────────────────────── Parked
//!     │  ▲                      │  (queued after switch-out)        ▲
//!     │  └──────────────────────┘ picked                           │ switched out
//!     │ prepare (seq+1)                                             │
//!     └────────────────▶ Waiting ──────────────────────────────────┘
//!                          │ wake before the switch-out
//!                          ▼
//!                        Woken ──▶ Running (park returns at once) or
//!                                  Runnable (queued at switch-out)
//! ```
//!
//! A wait is identified by a sequence number, so a [`WaitToken`] from an
//! earlier wait (left in a queue or a timer) can never wake a later one.
//! Exactly one side queues a woken goroutine: the waker if the goroutine
//! had been switched out (`Parked`), the switch-out otherwise (`Woken`).
//! So a goroutine is in a run queue only when no CPU runs it.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use shim::task::Task;

/// A goroutine's id (ids are never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoroutineId(pub u64);

impl fmt::Display for GoroutineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Scheduling state (the low bits of [`G::status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum State {
    /// On a CPU.
    Running = 0,
    /// In a run queue (or about to be).
    Runnable = 1,
    /// Registered a wait; still on its CPU.
    Waiting = 2,
    /// Waiting, switched out.
    Parked = 3,
    /// Woken while still `Waiting`.
    Woken = 4,
    /// Finished.
    Dead = 5,
}

const STATE_BITS: u32 = 3;
const STATE_MASK: u64 = (1 << STATE_BITS) - 1;

impl State {
    fn from_bits(bits: u64) -> State {
        match bits & STATE_MASK {
            0 => State::Running,
            1 => State::Runnable,
            2 => State::Waiting,
            3 => State::Parked,
            4 => State::Woken,
            _ => State::Dead,
        }
    }

    /// Short name for dumps.
    pub fn name(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Runnable => "runnable",
            State::Waiting | State::Parked => "waiting",
            State::Woken => "woken",
            State::Dead => "dead",
        }
    }
}

fn pack(seq: u64, state: State) -> u64 {
    (seq << STATE_BITS) | state as u64
}

/// A goroutine.
pub(crate) struct G {
    pub id: GoroutineId,
    pub name: Cow<'static, str>,
    pub task: Task,
    /// Wait sequence number and [`State`].
    status: AtomicU64,
    /// The closure to run; taken when the goroutine starts.
    pub body: spin::Mutex<Option<Box<dyn FnOnce() + Send>>>,
    /// `Some(cpu)` for a CPU's idle goroutine (the boot context of that CPU).
    pub idle_of: Option<usize>,
    /// `Some(cpu)` if it may run only on that CPU.
    pub bound_to: Option<usize>,
    /// Link of the [`LinkedQueue`](super::cpu::LinkedQueue) it is in (only
    /// touched under that queue's lock).
    pub queue_next: spin::Mutex<Option<Arc<G>>>,
    /// Dead and put in a graveyard (see `engine::bury`).
    pub buried: AtomicBool,
    pub run_ns: AtomicU64,
    pub switches: AtomicU64,
    pub last_cpu: AtomicU32,
    /// Set by an [`Interrupter`](super::Interrupter); see `interrupt.rs`.
    pub interrupted: AtomicBool,
    /// The goroutine's own value (see `local.rs`); touched only by the
    /// goroutine itself.
    pub local: spin::Mutex<Option<super::Local>>,
}

impl G {
    /// A goroutine that will run `body` as `task`.
    pub fn new(id: GoroutineId, name: Cow<'static, str>, task: Task, body: Box<dyn FnOnce() + Send>) -> G {
        G {
            id,
            name,
            task,
            status: AtomicU64::new(pack(0, State::Runnable)),
            body: spin::Mutex::new(Some(body)),
            idle_of: None,
            bound_to: None,
            queue_next: spin::Mutex::new(None),
            buried: AtomicBool::new(false),
            run_ns: AtomicU64::new(0),
            switches: AtomicU64::new(0),
            last_cpu: AtomicU32::new(0),
            interrupted: AtomicBool::new(false),
            local: spin::Mutex::new(None),
        }
    }

    /// What a dead goroutine kept for reuse holds (see `registry::recycle`):
    /// no stack, no name, an empty body; never run. Allocates nothing.
    pub fn spare() -> G {
        G::new(GoroutineId(0), Cow::Borrowed("spare"), Task::for_this_context(0), Box::new(|| {}))
    }

    /// The idle goroutine of `cpu`: the context already running there.
    pub fn idle(id: GoroutineId, cpu: usize) -> G {
        let mut g = G::new(id, Cow::Borrowed("idle"), Task::for_this_context(id.0), Box::new(|| {}));
        g.idle_of = Some(cpu);
        g.status = AtomicU64::new(pack(0, State::Running));
        g.last_cpu = AtomicU32::new(cpu as u32);
        g
    }

    pub fn state(&self) -> State {
        State::from_bits(self.status.load(Ordering::Acquire))
    }

    /// Sets the state, keeping the sequence number (own transitions only:
    /// Running → Runnable/Dead by the goroutine itself, Runnable → Running
    /// by the CPU that picked it).
    pub fn set_state(&self, state: State) {
        let seq = self.status.load(Ordering::Relaxed) >> STATE_BITS;
        self.status.store(pack(seq, state), Ordering::Release);
    }

    /// The sequence number of the current (or last) wait.
    pub fn wait_seq(&self) -> u64 {
        self.status.load(Ordering::Acquire) >> STATE_BITS
    }

    /// Starts a wait (Running → Waiting) and returns its sequence number.
    pub fn begin_wait(&self) -> u64 {
        let seq = (self.status.load(Ordering::Relaxed) >> STATE_BITS) + 1;
        self.status.store(pack(seq, State::Waiting), Ordering::Release);
        seq
    }

    fn cas(&self, seq: u64, from: State, to: State) -> bool {
        self.status.compare_exchange(pack(seq, from), pack(seq, to), Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Ends wait `seq` from the waker's side. `Some(true)`: the goroutine
    /// was parked and the caller must queue it; `Some(false)`: it had not
    /// switched out yet and will not sleep; `None`: a stale token.
    pub fn wake(&self, seq: u64) -> Option<bool> {
        loop {
            if self.cas(seq, State::Waiting, State::Woken) {
                return Some(false);
            }
            if self.cas(seq, State::Parked, State::Runnable) {
                return Some(true);
            }
            // Lost a race with the owner's switch-out (Waiting → Parked):
            // try again; anything else means the wait is over.
            let now = self.status.load(Ordering::Acquire);
            if now != pack(seq, State::Parked) {
                return None;
            }
        }
    }

    /// The owner's side of an early wake-up: Woken → Running.
    pub fn take_early_wake(&self, seq: u64) -> bool {
        self.cas(seq, State::Woken, State::Running)
    }

    /// The owner ends wait `seq` if it is still pending (woken or not):
    /// Waiting/Woken → Running. Nothing to do after a `park` returned.
    pub fn end_wait(&self, seq: u64) {
        if !self.cas(seq, State::Waiting, State::Running) {
            self.take_early_wake(seq);
        }
    }

    /// At switch-out: Waiting → Parked. False if woken meanwhile (Woken):
    /// then it is made Runnable and the caller queues it.
    pub fn finish_parking(&self) -> bool {
        let seq = self.status.load(Ordering::Relaxed) >> STATE_BITS;
        if self.cas(seq, State::Waiting, State::Parked) {
            return true;
        }
        assert!(self.cas(seq, State::Woken, State::Runnable), "bad state at park: {:?}", self.state());
        false
    }

    pub fn is_idle(&self) -> bool {
        self.idle_of.is_some()
    }
}

/// Where a woken goroutine is queued.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// The `runnext` slot: it runs as soon as the running goroutine stops.
    Next,
    /// The tail of the run queue.
    Tail,
}

/// What wakes one wait of one goroutine; cheap to clone, harmless once
/// stale. Held by wait queues, channels and timers. It does not keep the
/// goroutine alive (a dead goroutine's tokens are simply stale).
#[derive(Clone)]
pub struct WaitToken {
    g: Weak<G>,
    id: GoroutineId,
    seq: u64,
}

impl WaitToken {
    pub(crate) fn new(g: &Arc<G>, seq: u64) -> Self {
        WaitToken { g: Arc::downgrade(g), id: g.id, seq }
    }

    /// Ends the wait if it is still current and makes the goroutine
    /// runnable, to run next on this CPU (it usually works with the waker).
    /// Returns whether this call woke it. Never allocates; may be called
    /// from interrupt handlers.
    pub fn wake(&self) -> bool {
        self.wake_to(Placement::Next)
    }

    /// Like [`wake`](Self::wake), but queues the goroutine behind those
    /// already waiting: for waking several at once, in order.
    pub fn wake_in_order(&self) -> bool {
        self.wake_to(Placement::Tail)
    }

    fn wake_to(&self, placement: Placement) -> bool {
        let Some(g) = self.g.upgrade() else { return false };
        match g.wake(self.seq) {
            Some(true) => {
                super::engine::ready(g, placement);
                true
            }
            Some(false) => true,
            None => {
                // A stale token of a goroutine that died since: ours may be
                // the last reference, and an interrupt handler must not free.
                if g.state() == State::Dead && shim::percpu::in_interrupt() {
                    super::engine::bury(g);
                }
                false
            }
        }
    }

    /// Whether `self` and `other` name the same wait.
    pub fn same_wait(&self, other: &WaitToken) -> bool {
        (self.id, self.seq) == (other.id, other.seq)
    }

    /// The goroutine this token wakes.
    pub fn goroutine(&self) -> GoroutineId {
        self.id
    }
}

impl Drop for G {
    fn drop(&mut self) {
        if let Some(stack) = self.task.take_stack() {
            super::stacks::put(stack);
        }
    }
}
