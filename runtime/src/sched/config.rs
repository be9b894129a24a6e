//! Scheduler settings, from the boot command line.

use shim::mem::stack::MAX_PAGES;

/// Scheduler settings.
#[derive(Clone, Copy, Debug)]
pub struct SchedConfig {
    /// Time slice: a goroutine that runs this long while others wait is
    /// preempted (`sched.slice_ms`, default 10).
    pub slice_ns: u64,
    /// Default goroutine stack size in pages (`sched.stack_kib`, default 32).
    pub stack_pages: u64,
}

/// Default time slice.
pub const DEFAULT_SLICE_MS: u64 = 10;
/// Default goroutine stack, KiB.
pub const DEFAULT_STACK_KIB: u64 = 32;

static CONFIG: spin::Once<SchedConfig> = spin::Once::new();

/// The settings (read from the command line on first use).
pub fn get() -> SchedConfig {
    *CONFIG.call_once(|| {
        let slice_ms = shim::cmdline::get_u64("sched.slice_ms").filter(|&ms| ms > 0).unwrap_or(DEFAULT_SLICE_MS);
        let stack_kib = shim::cmdline::get_u64("sched.stack_kib").unwrap_or(DEFAULT_STACK_KIB);
        SchedConfig { slice_ns: slice_ms * 1_000_000, stack_pages: (stack_kib / 4).clamp(2, MAX_PAGES) }
    })
}
