//! A heap's settings: the policy and its knobs, from the boot command line.

use shim::cmdline;

use super::policy::{GrowthTrigger, Policy, StepPacer};

/// Settings of one heap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeapConfig {
    /// When to collect.
    pub policy: Policy,
    /// Incremental: most work per pause (`gc.step`, work units).
    pub pacer: StepPacer,
    /// Stop-the-world: growth that triggers a collection (`gc.percent`,
    /// `gc.min` in bytes).
    pub trigger: GrowthTrigger,
    /// Most live bytes the heap may hold (`gc.limit`); beyond it allocation
    /// fails with [`AllocError`](super::AllocError). `None`: bounded only by
    /// memory.
    pub limit_bytes: Option<u64>,
    /// `gctrace`: 0 quiet, 1 one line per cycle, 2 also one per pause.
    pub trace: u8,
    /// Incremental: pay the debt in a background collector goroutine
    /// instead of after each scope (`gc.background=1`); see
    /// [`background`](super::background).
    pub background: bool,
}

/// Default incremental step bound, in work units.
pub const DEFAULT_STEP_WORK: u64 = 256;
/// Default growth percent (Go's GOGC default).
pub const DEFAULT_GROWTH_PERCENT: u64 = 100;
/// Default live size below which stop-the-world never triggers.
pub const DEFAULT_MIN_TRIGGER_BYTES: u64 = 256 << 10;

impl HeapConfig {
    /// The built-in defaults for `policy`.
    pub const fn defaults(policy: Policy) -> Self {
        Self {
            policy,
            pacer: StepPacer { bound: DEFAULT_STEP_WORK as f64, min_step: (DEFAULT_STEP_WORK / 8) as f64 },
            trigger: GrowthTrigger { percent: DEFAULT_GROWTH_PERCENT, min_bytes: DEFAULT_MIN_TRIGGER_BYTES },
            limit_bytes: None,
            trace: 0,
            background: false,
        }
    }

    /// The active policy's defaults, overridden by the boot command line:
    /// `gc.step=<work>`, `gc.percent=<percent>`, `gc.min=<bytes>`,
    /// `gc.limit=<bytes>`, `gctrace=<0|1|2>`, `gc.background=<0|1>`.
    /// The command line does not change, so it is read once (a heap is
    /// made for every process).
    pub fn from_cmdline() -> Self {
        static PARSED: spin::Once<HeapConfig> = spin::Once::new();
        *PARSED.call_once(Self::parse_cmdline)
    }

    fn parse_cmdline() -> Self {
        let mut config = Self::defaults(Policy::ACTIVE);
        if let Some(step) = cmdline::get_u64("gc.step").filter(|&s| s > 0) {
            config.pacer = StepPacer { bound: step as f64, min_step: (step / 8).max(1) as f64 };
        }
        if let Some(percent) = cmdline::get_u64("gc.percent") {
            config.trigger.percent = percent;
        }
        if let Some(min) = cmdline::get_u64("gc.min") {
            config.trigger.min_bytes = min;
        }
        config.limit_bytes = cmdline::get_u64("gc.limit");
        config.background = cmdline::get_u64("gc.background").is_some_and(|on| on != 0);
        config.trace = match cmdline::get("gctrace") {
            Some("") => 1,
            Some(level) => level.parse().unwrap_or(1),
            None => 0,
        };
        config
    }
}
