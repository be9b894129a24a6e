//! The scheduler's engine: picking the next goroutine, switching, waking,
//! parking, preemption, the timer interrupt and the idle loop.
//!
//! Everything here runs with interrupts masked (the switch requires it, and
//! the per-CPU state may only be used by its own CPU that way).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

use shim::irq::IrqGuard;
use shim::task::{Switchable, Task};
use shim::time::now_ns;

use super::config;
use super::cpu::{CPUS, Cpu, GLOBAL, IDLE, kick_idle_cpu, notify_cpu, this_cpu};
use super::g::{G, Placement, State, WaitToken};
use super::registry;
use super::runq::CAPACITY;

impl Switchable for G {
    fn task(&self) -> &Task {
        &self.task
    }

    fn switched_out(prev: Arc<G>) {
        if prev.is_idle() {
            return;
        }
        let requeue = match prev.state() {
            State::Runnable => true,
            State::Waiting | State::Woken => !prev.finish_parking(),
            State::Dead => {
                registry::remove(prev.id);
                empty_graveyard(this_cpu());
                registry::recycle(prev);
                return;
            }
            state => panic!("goroutine {} switched out while {state:?}", prev.id),
        };
        if requeue && queue(this_cpu(), prev, Placement::Tail) {
            kick_idle_cpu();
        }
    }
}

/// The goroutine running here, if the scheduler runs on this CPU.
pub(crate) fn try_current() -> Option<Arc<G>> {
    shim::task::current::<G>()
}

/// The goroutine running here.
///
/// # Panics
/// Outside the scheduler (before [`start`](super::start) on this CPU).
pub(crate) fn current() -> Arc<G> {
    try_current().expect("not running in a goroutine (the scheduler is not started on this CPU)")
}

/// CPUs running the scheduler.
pub(crate) static ONLINE: AtomicUsize = AtomicUsize::new(0);

/// A few goroutines moved at once (from a victim or the global queue),
/// without allocating.
struct Batch {
    items: [Option<Arc<G>>; CAPACITY / 2],
    len: usize,
}

impl Batch {
    fn new() -> Self {
        Batch { items: [const { None }; CAPACITY / 2], len: 0 }
    }

    fn push(&mut self, g: Arc<G>) {
        self.items[self.len] = Some(g);
        self.len += 1;
    }

    /// Returns the first item and queues the rest on `cpu` (waking an idle
    /// CPU to share them).
    fn hand_to(mut self, cpu: &Cpu) -> Option<Arc<G>> {
        let extra = self.len > 1;
        let mut items = self.items[..self.len].iter_mut().map(|slot| slot.take().expect("filled"));
        let first = items.next()?;
        items.for_each(|g| cpu.push(g));
        self.len = 0;
        if extra {
            kick_idle_cpu();
        }
        Some(first)
    }
}

/// Go's fairness rule: every 61st pick looks at the global queue first.
const GLOBAL_CHECK_INTERVAL: u64 = 61;

/// A goroutine picked to run next.
struct Pick {
    g: Arc<G>,
    /// It came from `runnext`: it continues the current time slice instead
    /// of starting a new one (Go's rule), so a pair of goroutines handing
    /// work to each other cannot keep the others waiting forever.
    inherits_slice: bool,
}

impl Pick {
    fn fresh(g: Arc<G>) -> Pick {
        Pick { g, inherits_slice: false }
    }
}

/// The next goroutine for `cpu`: those bound to it, its `runnext` and run
/// queue, the global queue, then half of another CPU's queue.
fn find_runnable(cpu: &Cpu) -> Option<Pick> {
    let tick = cpu.schedtick.fetch_add(1, Ordering::Relaxed);
    if tick % GLOBAL_CHECK_INTERVAL == GLOBAL_CHECK_INTERVAL - 1
        && let Some(g) = GLOBAL.lock().pop()
    {
        return Some(Pick::fresh(g));
    }
    if let Some((g, inherits_slice)) = cpu.bound.lock().pop() {
        return Some(Pick { g, inherits_slice });
    }
    {
        let mut runq = cpu.runq.lock();
        if let Some(g) = runq.pop_runnext() {
            return Some(Pick { g, inherits_slice: true });
        }
        if let Some(g) = runq.pop() {
            return Some(Pick::fresh(g));
        }
    }
    take_from_global(cpu).or_else(|| steal(cpu, tick as usize)).map(Pick::fresh)
}

/// Takes a fair share of the global queue (so other CPUs get some too).
fn take_from_global(cpu: &Cpu) -> Option<Arc<G>> {
    let mut batch = Batch::new();
    {
        let mut global = GLOBAL.lock();
        let share = global.len() / ONLINE.load(Ordering::Relaxed).max(1) + 1;
        for _ in 0..share.min(CAPACITY / 2) {
            let Some(g) = global.pop() else { break };
            batch.push(g);
        }
    }
    batch.hand_to(cpu)
}

/// Steals half of some other CPU's run queue, starting the search at a
/// varying victim.
fn steal(cpu: &Cpu, seed: usize) -> Option<Arc<G>> {
    let me = shim::percpu::index();
    for i in 0..CPUS.len() {
        let victim = (seed + i) % CPUS.len();
        if victim == me || !CPUS[victim].online.load(Ordering::Acquire) {
            continue;
        }
        let mut batch = Batch::new();
        let taken = CPUS[victim].runq.lock().take_half(|g| batch.push(g));
        if taken > 0 {
            cpu.stats.steals.fetch_add(1, Ordering::Relaxed);
            cpu.stats.stolen.fetch_add(taken as u64, Ordering::Relaxed);
            return batch.hand_to(cpu);
        }
    }
    None
}

/// Books the switch from `prev` to `next` (run time, counters, the slice)
/// and arms the timer for the slice if it is not armed earlier.
fn account(cpu: &Cpu, prev: &G, next: &Pick) {
    let now = now_ns();
    let since = cpu.switched_in_ns.swap(now, Ordering::Relaxed);
    prev.run_ns.fetch_add(now.saturating_sub(since), Ordering::Relaxed);
    next.g.switches.fetch_add(1, Ordering::Relaxed);
    next.g.last_cpu.store(shim::percpu::index() as u32, Ordering::Relaxed);
    cpu.stats.switches.fetch_add(1, Ordering::Relaxed);
    // A reschedule requested for `prev` is settled by this switch.
    shim::percpu::take_resched();
    if !next.g.is_idle() {
        next.g.set_state(State::Running);
        let end = if next.inherits_slice && !prev.is_idle() {
            cpu.slice_end.load(Ordering::Relaxed)
        } else {
            let end = now + config::get().slice_ns;
            cpu.slice_end.store(end, Ordering::Relaxed);
            end
        };
        if cpu.armed.load(Ordering::Relaxed) > end {
            arm(cpu, end, now);
        }
    }
}

fn switch_to(cpu: &Cpu, prev: &G, next: Pick) {
    account(cpu, prev, &next);
    shim::task::switch(next.g);
}

/// Panics unless the running goroutine `me` may switch away now: not in an
/// interrupt handler, not pinned (a GC heap scope), not in the middle of a
/// wait (between [`Waiter::begin`](super::Waiter::begin) and `park`).
fn check_may_switch(me: &G, what: &str) {
    assert!(!shim::percpu::in_interrupt(), "goroutine {} would {what} in an interrupt handler", me.id);
    assert!(
        shim::percpu::preempt_count() == 0,
        "goroutine {} would {what} with preemption disabled (inside a GC heap scope?)",
        me.id
    );
    assert!(shim::irq::enabled(), "goroutine {} would {what} with interrupts masked (holding an IrqMutex?)", me.id);
}

fn arm(cpu: &Cpu, deadline: u64, now: u64) {
    cpu.armed.store(deadline, Ordering::Relaxed);
    shim::apic::set_oneshot_ns(deadline.saturating_sub(now).max(1));
}

/// Arms the timer for the earliest of this CPU's timers and, if a
/// goroutine runs, the end of its slice; stops it if there is neither.
fn rearm(cpu: &Cpu, busy: bool) {
    let mut next = cpu.timers.lock().next_deadline().unwrap_or(u64::MAX);
    if busy {
        next = next.min(cpu.slice_end.load(Ordering::Relaxed));
    }
    if next == u64::MAX {
        cpu.armed.store(u64::MAX, Ordering::Relaxed);
        shim::apic::stop_timer();
    } else {
        arm(cpu, next, now_ns());
    }
}

/// Adds a timer that wakes `token` at `deadline` on this CPU; returns the
/// CPU and the key to cancel it with.
pub(crate) fn add_timer(deadline: u64, token: WaitToken) -> (usize, u64) {
    static NEXT_KEY: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
    let _irq = IrqGuard::new();
    let cpu = this_cpu();
    cpu.timers.lock().add(deadline, key, token);
    if deadline < cpu.armed.load(Ordering::Relaxed) {
        arm(cpu, deadline, now_ns());
    }
    (shim::percpu::index(), key)
}

/// Removes a timer that has not fired.
pub(crate) fn cancel_timer(cpu: usize, key: u64) {
    CPUS[cpu].timers.lock().cancel(key);
}

/// Queues runnable `g`: in its CPU's bound queue (telling that CPU; a
/// goroutine woken from another CPU goes to the tail) if it is bound, else
/// in `cpu`'s run queue; true in the second case.
fn queue(cpu: &Cpu, g: Arc<G>, placement: Placement) -> bool {
    if let Some(home) = g.bound_to {
        let placement = if home == shim::percpu::index() { placement } else { Placement::Tail };
        CPUS[home].bound.lock().push(g, placement);
        notify_cpu(home);
        return false;
    }
    match placement {
        Placement::Next => cpu.push_next(g),
        Placement::Tail => cpu.push(g),
    }
    true
}

/// Queues a goroutine that was just woken, on this CPU: to run next (it is
/// usually the partner of the running goroutine) or at the tail. If this CPU is busy,
/// an idle CPU is woken to steal it. Never allocates.
pub(crate) fn ready(g: Arc<G>, placement: Placement) {
    let _irq = IrqGuard::new();
    let cpu = this_cpu();
    if g.bound_to.is_none() && !cpu.online.load(Ordering::Relaxed) {
        GLOBAL.lock().push(g);
        kick_idle_cpu();
        return;
    }
    if queue(cpu, g, placement) && try_current().is_some_and(|running| !running.is_idle()) {
        kick_idle_cpu();
    }
}

/// Queues a new goroutine.
pub(crate) fn enqueue_new(g: Arc<G>) {
    let _irq = IrqGuard::new();
    let cpu = this_cpu();
    if g.bound_to.is_none() && !cpu.online.load(Ordering::Relaxed) {
        GLOBAL.lock().push(g);
    } else if !queue(cpu, g, Placement::Tail) {
        return;
    }
    kick_idle_cpu();
}

/// Whether CPU `index` runs the scheduler.
pub(crate) fn is_online(index: usize) -> bool {
    CPUS.get(index).is_some_and(|cpu| cpu.online.load(Ordering::Acquire))
}

/// Keeps a dead goroutine whose last reference an interrupt handler may
/// hold (a stale wake-up), to be dropped outside interrupt context.
pub(crate) fn bury(g: Arc<G>) {
    if !g.buried.swap(true, Ordering::AcqRel) {
        this_cpu().graveyard.lock().push(g);
    }
}

/// Drops the goroutines [`bury`] kept on `cpu`.
fn empty_graveyard(cpu: &Cpu) {
    loop {
        let dead = cpu.graveyard.lock().pop();
        let Some(dead) = dead else { break };
        drop(dead);
    }
}

/// Lets another goroutine run if one is waiting; the caller stays runnable.
pub(crate) fn yield_current() {
    let me = current();
    check_may_switch(&me, "yield");
    assert_eq!(me.state(), State::Running, "goroutine {} yielded inside a wait", me.id);
    let _irq = IrqGuard::new();
    let cpu = this_cpu();
    if let Some(next) = find_runnable(cpu) {
        me.set_state(State::Runnable);
        switch_to(cpu, &me, next);
    }
}

/// Sleeps until wait `seq` of the current goroutine `me` is woken (at once
/// if it already was).
pub(crate) fn park(me: &Arc<G>, seq: u64) {
    check_may_switch(me, "block");
    let _irq = IrqGuard::new();
    if me.take_early_wake(seq) {
        return;
    }
    let cpu = this_cpu();
    let next = find_runnable(cpu).unwrap_or_else(|| Pick::fresh(cpu.idle_g()));
    switch_to(cpu, me, next);
}

/// Ends the current goroutine.
pub(crate) fn exit_current() -> ! {
    let next = {
        let me = current();
        check_may_switch(&me, "exit");
        core::mem::forget(IrqGuard::new());
        let cpu = this_cpu();
        me.set_state(State::Dead);
        let next = find_runnable(cpu).unwrap_or_else(|| Pick::fresh(cpu.idle_g()));
        account(cpu, &me, &next);
        next
        // `me` is dropped here: the last reference must not stay on this
        // stack, which is about to be abandoned (and reused).
    };
    shim::task::switch(next.g);
    unreachable!("a dead goroutine was resumed");
}

/// First code of every goroutine (the shim task's entry).
pub(crate) fn goroutine_main() {
    let body = current().body.lock().take().expect("goroutine started twice");
    body();
    // Dropped here, in the goroutine, not wherever the dead goroutine is
    // freed (which may be an interrupt handler).
    drop(super::local::take());
    exit_current();
}

/// The preemption hook: switches out the running goroutine at interrupt
/// return (or at the end of a pinned section) if another one is waiting.
pub(crate) fn preempt() {
    let Some(me) = try_current() else { return };
    if me.is_idle() || me.state() != State::Running {
        // The idle loop looks for work by itself; a goroutine about to
        // park will switch anyway.
        return;
    }
    let cpu = this_cpu();
    if let Some(next) = find_runnable(cpu) {
        cpu.stats.preemptions.fetch_add(1, Ordering::Relaxed);
        me.set_state(State::Runnable);
        switch_to(cpu, &me, next);
    }
}

/// The timer interrupt: fires due timers, ends an expired slice (asking
/// for a reschedule if anything else could run), re-arms. No allocation.
pub(crate) fn on_timer() {
    let cpu = this_cpu();
    if !cpu.online.load(Ordering::Relaxed) {
        return;
    }
    let now = now_ns();
    cpu.armed.store(u64::MAX, Ordering::Relaxed);
    fire_expired(cpu, now);
    let busy = try_current().is_some_and(|g| !g.is_idle());
    if busy && now >= cpu.slice_end.load(Ordering::Relaxed) {
        if !cpu.runq.lock().is_empty() || cpu.bound.lock().len() > 0 || GLOBAL.lock().len() > 0 {
            shim::percpu::request_resched();
        }
        cpu.slice_end.store(now + config::get().slice_ns, Ordering::Relaxed);
    }
    rearm(cpu, busy);
}

/// Wakes the goroutines of the timers due at `now`, queued in deadline
/// order; returns how many fired.
fn fire_expired(cpu: &Cpu, now: u64) -> usize {
    let mut fired = 0;
    while let Some(token) = pop_expired(cpu, now) {
        token.wake_in_order();
        fired += 1;
    }
    fired
}

fn pop_expired(cpu: &Cpu, now: u64) -> Option<WaitToken> {
    cpu.timers.lock().pop_expired(now)
}

/// Makes the calling context this CPU's idle goroutine and runs the
/// scheduler on it forever.
pub(crate) fn run_this_cpu() -> ! {
    idle_loop(join_this_cpu())
}

/// This CPU, once it has joined the scheduler.
pub(crate) struct Joined {
    cpu: &'static Cpu,
    idle: Arc<G>,
    index: usize,
}

/// Makes the calling context this CPU's idle goroutine and marks the CPU
/// online (it may be given work from now on); [`idle_loop`] must follow.
pub(crate) fn join_this_cpu() -> Joined {
    let index = shim::percpu::index();
    let cpu = &CPUS[index];
    let idle = registry::new_idle(index);
    cpu.idle_g.call_once(|| Arc::clone(&idle));
    shim::task::start(Arc::clone(&idle));
    shim::apic::stop_timer();
    cpu.switched_in_ns.store(now_ns(), Ordering::Relaxed);
    cpu.online.store(true, Ordering::Release);
    ONLINE.fetch_add(1, Ordering::Release);
    Joined { cpu, idle, index }
}

/// A timer due within this long is waited for without halting.
const SPIN_NS: u64 = 20_000;

/// The idle goroutine's loop: run what there is, else halt until an
/// interrupt.
pub(crate) fn idle_loop(joined: Joined) -> ! {
    let Joined { cpu, idle, index } = joined;
    let idle = &*idle;
    let bit = 1u64 << index;
    loop {
        empty_graveyard(cpu);
        let _irq = IrqGuard::new();
        if let Some(next) = find_runnable(cpu) {
            switch_to(cpu, idle, next);
            continue;
        }
        // Advertise idleness, then look once more: work queued after the
        // first look either shows up now or comes with a wake-up IPI.
        IDLE.fetch_or(bit, Ordering::SeqCst);
        if let Some(next) = find_runnable(cpu) {
            IDLE.fetch_and(!bit, Ordering::SeqCst);
            switch_to(cpu, idle, next);
            continue;
        }
        // Timers already due fire here rather than from an interrupt
        // requested in the past; one due very soon is waited for awake
        // (halting for a few microseconds gains nothing).
        if fire_expired(cpu, now_ns()) > 0 || cpu.timers.lock().next_deadline().is_some_and(|d| d < now_ns() + SPIN_NS)
        {
            IDLE.fetch_and(!bit, Ordering::SeqCst);
            continue;
        }
        rearm(cpu, false);
        let start = now_ns();
        shim::irq::enable_and_halt();
        cpu.stats.idle_ns.fetch_add(now_ns() - start, Ordering::Relaxed);
        IDLE.fetch_and(!bit, Ordering::SeqCst);
    }
}
