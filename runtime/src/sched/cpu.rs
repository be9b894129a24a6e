//! Per-CPU scheduler state (Go's P), the global run queue, and the set of
//! idle CPUs.
//!
//! Each CPU's run queue has its own lock, taken by that CPU and by thieves;
//! the global queue's lock is taken only on the slow paths (overflow, every
//! 61st pick for fairness, when the local queue is empty). Goroutines bound
//! to a CPU wait in that CPU's `bound` queue, which no one steals from. All
//! these locks mask interrupts: interrupt handlers queue woken goroutines.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use shim::irq::IrqMutex;
use shim::percpu::MAX_CPUS;

use super::g::{G, Placement, WaitToken};
use super::runq::RunQueue;
use super::timers::TimerHeap;

/// One CPU's scheduler state.
pub(crate) struct Cpu {
    pub runq: IrqMutex<RunQueue<Arc<G>>>,
    /// Runnable goroutines bound to this CPU (never stolen).
    pub bound: IrqMutex<BoundQueue>,
    /// Dead goroutines whose last reference an interrupt handler held,
    /// dropped later outside interrupt context.
    pub graveyard: IrqMutex<LinkedQueue>,
    pub timers: IrqMutex<TimerHeap<WaitToken>>,
    pub idle_g: spin::Once<Arc<G>>,
    pub online: AtomicBool,
    /// When the running goroutine's slice ends (ns).
    pub slice_end: AtomicU64,
    /// Deadline the APIC timer is armed for; `u64::MAX` if stopped.
    pub armed: AtomicU64,
    /// When the running goroutine was switched in.
    pub switched_in_ns: AtomicU64,
    /// Picks so far (every 61st looks at the global queue first).
    pub schedtick: AtomicU64,
    pub stats: CpuCounters,
}

/// Counters a CPU keeps about itself.
pub(crate) struct CpuCounters {
    pub idle_ns: AtomicU64,
    pub switches: AtomicU64,
    pub preemptions: AtomicU64,
    /// Successful steals, and goroutines taken by them.
    pub steals: AtomicU64,
    pub stolen: AtomicU64,
}

impl Cpu {
    const fn new() -> Self {
        Cpu {
            runq: IrqMutex::new(RunQueue::new()),
            bound: IrqMutex::new(BoundQueue::new()),
            graveyard: IrqMutex::new(LinkedQueue::new()),
            timers: IrqMutex::new(TimerHeap::new()),
            idle_g: spin::Once::new(),
            online: AtomicBool::new(false),
            slice_end: AtomicU64::new(0),
            armed: AtomicU64::new(u64::MAX),
            switched_in_ns: AtomicU64::new(0),
            schedtick: AtomicU64::new(0),
            stats: CpuCounters {
                idle_ns: AtomicU64::new(0),
                switches: AtomicU64::new(0),
                preemptions: AtomicU64::new(0),
                steals: AtomicU64::new(0),
                stolen: AtomicU64::new(0),
            },
        }
    }

    pub fn idle_g(&self) -> Arc<G> {
        Arc::clone(self.idle_g.get().expect("CPU runs the scheduler"))
    }

    /// Queues `g` at the tail, spilling half the ring to the global queue
    /// when it is full (never allocates).
    pub fn push(&self, g: Arc<G>) {
        let mut runq = self.runq.lock();
        if let Err(g) = runq.push_back(g) {
            let mut global = GLOBAL.lock();
            runq.take_half(|old| global.push(old));
            global.push(g);
        }
    }

    /// Queues `g` to run next; whatever it displaces goes to the tail.
    pub fn push_next(&self, g: Arc<G>) {
        let displaced = self.runq.lock().push_next(g);
        if let Some(displaced) = displaced {
            self.push(displaced);
        }
    }
}

/// Every CPU's state, by CPU index.
pub(crate) static CPUS: [Cpu; MAX_CPUS] = [const { Cpu::new() }; MAX_CPUS];

/// The CPU this code runs on. Callers keep interrupts masked while they
/// use it, or accept that they may have moved by the time they look.
pub(crate) fn this_cpu() -> &'static Cpu {
    &CPUS[shim::percpu::index()]
}

/// CPUs halted in their idle loop (bit = CPU index).
pub(crate) static IDLE: AtomicU64 = AtomicU64::new(0);

/// Tells CPU `index` that a goroutine bound to it is runnable: a wake-up
/// IPI if it is idle, a reschedule IPI if it runs something else, nothing
/// if it is this CPU (the goroutine runs at the next switch here).
pub(crate) fn notify_cpu(index: usize) {
    core::sync::atomic::fence(Ordering::SeqCst);
    if index == shim::percpu::index() {
        return;
    }
    let vector = match IDLE.load(Ordering::SeqCst) & (1 << index) {
        0 => shim::trap::RESCHED_VECTOR,
        _ => shim::trap::WAKE_VECTOR,
    };
    shim::apic::send_ipi(index, vector);
}

/// Wakes one idle CPU other than this one, if any, so it can steal work.
pub(crate) fn kick_idle_cpu() {
    // Pairs with the idle loop's "set the IDLE bit, then look at the
    // queues": either it sees our queued work or we see its bit.
    core::sync::atomic::fence(Ordering::SeqCst);
    let me = shim::percpu::index();
    let others = IDLE.load(Ordering::SeqCst) & !(1 << me);
    if others != 0 {
        shim::apic::send_ipi(others.trailing_zeros() as usize, shim::trap::WAKE_VECTOR);
    }
}

/// A FIFO of goroutines linked through the goroutines themselves
/// (`G::queue_next`; a goroutine is in at most one such queue), so pushing
/// never allocates: the global run queue, bound queues, graveyards.
pub(crate) struct LinkedQueue {
    head: Option<Arc<G>>,
    tail: Option<Arc<G>>,
    len: usize,
}

impl LinkedQueue {
    const fn new() -> Self {
        LinkedQueue { head: None, tail: None, len: 0 }
    }

    pub fn push(&mut self, g: Arc<G>) {
        match self.tail.replace(Arc::clone(&g)) {
            Some(tail) => *tail.queue_next.lock() = Some(g),
            None => self.head = Some(g),
        }
        self.len += 1;
    }

    pub fn pop(&mut self) -> Option<Arc<G>> {
        let head = self.head.take()?;
        self.head = head.queue_next.lock().take();
        if self.head.is_none() {
            self.tail = None;
        }
        self.len -= 1;
        Some(head)
    }

    pub fn len(&self) -> usize {
        self.len
    }
}

/// The runnable goroutines bound to one CPU: a FIFO, and a `next` slot
/// with `runnext`'s meaning (see `RunQueue`), which no thief takes.
pub(crate) struct BoundQueue {
    next: Option<Arc<G>>,
    fifo: LinkedQueue,
}

impl BoundQueue {
    const fn new() -> Self {
        BoundQueue { next: None, fifo: LinkedQueue::new() }
    }

    /// Queues `g` at the tail, or in `next` (what it displaces goes to
    /// the tail).
    pub fn push(&mut self, g: Arc<G>, placement: Placement) {
        match placement {
            Placement::Next => {
                if let Some(displaced) = self.next.replace(g) {
                    self.fifo.push(displaced);
                }
            }
            Placement::Tail => self.fifo.push(g),
        }
    }

    /// The next goroutine, and whether it came from `next`.
    pub fn pop(&mut self) -> Option<(Arc<G>, bool)> {
        match self.next.take() {
            Some(g) => Some((g, true)),
            None => self.fifo.pop().map(|g| (g, false)),
        }
    }

    pub fn len(&self) -> usize {
        self.fifo.len() + usize::from(self.next.is_some())
    }
}

/// Goroutines that did not fit a local queue, or were queued before any
/// CPU ran the scheduler.
pub(crate) static GLOBAL: IrqMutex<LinkedQueue> = IrqMutex::new(LinkedQueue::new());
