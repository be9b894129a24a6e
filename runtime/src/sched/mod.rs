//! The goroutine scheduler: kernel code runs as goroutines, as in Biscuit's
//! Go runtime.
//!
//! Go's G/M/P model, with M = P = a CPU: every CPU has a run queue (a
//! 256-slot ring plus a `runnext` slot) behind its own lock; a global queue
//! takes overflow; a CPU with nothing to run steals half of another's
//! queue, or halts until an interrupt (a timer, or a wake-up IPI sent when
//! work is queued while it is idle). A goroutine is preempted when it has
//! run for a time slice while others wait, at the return from the timer
//! interrupt, if it is preemptible: see [`pin`] for the rule.
//!
//! - [`start`] brings up the other CPUs, turns every CPU's boot context
//!   into its idle loop and runs a first goroutine; [`spawn`] /
//!   [`Builder`] create more (optionally bound to one CPU);
//! - [`yield_now`], [`sleep`], [`sleep_until`];
//! - [`Waiter`] is the blocking primitive the [`crate::sync`] types build on;
//! - [`ps`], [`goroutines`], [`cpus`] report; see docs/scheduler.md.

mod config;
mod cpu;
mod engine;
mod g;
mod interrupt;
mod local;
mod pin;
mod registry;
pub mod runq;
mod stacks;
mod stats;
pub mod timers;
mod wait;

#[cfg(feature = "ktest")]
pub(crate) mod ktests;

use alloc::borrow::Cow;
use alloc::boxed::Box;

pub use config::{DEFAULT_SLICE_MS, DEFAULT_STACK_KIB, SchedConfig};
pub use g::{GoroutineId, State, WaitToken};
pub use interrupt::{Interrupted, Interrupter, clear_interrupt, interrupted, interrupter};
pub use local::{Local, local, set_local};
pub use pin::{Pin, pin};
pub use registry::SpawnError;
pub use stats::{CpuInfo, GoroutineInfo, cpu, cpus, goroutines, ps};
pub use wait::{Waiter, sleep, sleep_until, sleep_until_interruptible};

/// Starts the scheduler: installs the timer and preemption hooks, starts
/// the other CPUs (each runs the scheduler once up), queues `main` as the
/// first goroutine and turns the calling context into this CPU's idle
/// loop. Called once, on the bootstrap CPU. Never returns.
pub fn start(main: impl FnOnce() + Send + 'static) -> ! {
    shim::trap::set_handler(shim::trap::TIMER_VECTOR, engine::on_timer);
    shim::trap::set_preempt_hook(engine::preempt);
    let cpus = shim::smp::start_others(engine::run_this_cpu);
    // Every CPU that came up joins the scheduler before `main` is queued,
    // so it sees them all.
    while engine::ONLINE.load(core::sync::atomic::Ordering::Acquire) + 1 < cpus {
        core::hint::spin_loop();
    }
    let here = engine::join_this_cpu();
    Builder::new().name("main").spawn(main).expect("memory for the first goroutine");
    engine::idle_loop(here)
}

/// Options for a new goroutine.
#[derive(Default)]
pub struct Builder {
    name: Option<Cow<'static, str>>,
    stack_pages: Option<u64>,
    cpu: Option<usize>,
}

impl Builder {
    /// Default options: unnamed, the default stack size.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the goroutine (for `ps` and reports).
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Gives it a stack of `kib` KiB (rounded down to pages, at least 8
    /// KiB) instead of the default (`sched.stack_kib`).
    pub fn stack_kib(mut self, kib: u64) -> Self {
        self.stack_pages = Some((kib / 4).clamp(2, shim::mem::stack::MAX_PAGES));
        self
    }

    /// Binds it to CPU `index`: it runs only there, is never stolen, and
    /// when woken from another CPU that CPU is interrupted to run it
    /// (Linux's per-CPU kernel threads). The CPU must run the scheduler.
    pub fn cpu(mut self, index: usize) -> Self {
        self.cpu = Some(index);
        self
    }

    /// Creates the goroutine and queues it on this CPU (or its own).
    pub fn spawn(self, f: impl FnOnce() + Send + 'static) -> Result<GoroutineId, SpawnError> {
        let name = self.name.unwrap_or(Cow::Borrowed("go"));
        let pages = self.stack_pages.unwrap_or(config::get().stack_pages);
        let g = registry::new_goroutine(name, pages, self.cpu, Box::new(f))?;
        let id = g.id;
        engine::enqueue_new(g);
        Ok(id)
    }
}

/// Runs `f` in a new goroutine with default options (Go's `go f()`).
pub fn spawn(f: impl FnOnce() + Send + 'static) -> Result<GoroutineId, SpawnError> {
    Builder::new().spawn(f)
}

/// Lets other runnable goroutines run first (Go's `runtime.Gosched`).
pub fn yield_now() {
    engine::yield_current();
}

/// The running goroutine's id (`None` outside the scheduler).
pub fn current_id() -> Option<GoroutineId> {
    engine::try_current().map(|g| g.id)
}

/// The index of the CPU the caller runs on. Unless pinned (see [`pin`]) or
/// bound ([`Builder::cpu`]), a goroutine may move by the time it looks.
pub fn cpu_index() -> usize {
    shim::percpu::index()
}

/// The scheduler's settings.
pub fn config() -> SchedConfig {
    config::get()
}
