//! GC policies: which one the kernel's heaps use (a cargo feature, exactly
//! one), and the arithmetic each policy uses to decide when to collect and
//! how much to do per pause. Plain logic, tested on the host.

#[cfg(not(any(feature = "gc-incremental", feature = "gc-stw", feature = "gc-none")))]
compile_error!(
    "no GC policy: enable exactly one of the runtime features `gc-incremental` (the default), \
     `gc-stw`, `gc-none` (with `cargo xtask run --gc <incremental|stw|none>`)"
);

#[cfg(any(
    all(feature = "gc-incremental", feature = "gc-stw"),
    all(feature = "gc-incremental", feature = "gc-none"),
    all(feature = "gc-stw", feature = "gc-none"),
))]
compile_error!(
    "two GC policies enabled: the runtime features `gc-incremental`, `gc-stw` and `gc-none` \
     exclude each other; build with `--no-default-features --features gc-<policy>`"
);

/// How a heap decides to collect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Paced incremental mark-sweep: the scope that allocated pays the
    /// collector's debt in bounded steps when it closes.
    Incremental,
    /// Nothing until the heap has grown by a ratio over the live size after
    /// the last cycle, then one full collection in one pause.
    StopTheWorld,
    /// Never collect: the baseline that prices the GC.
    None,
}

impl Policy {
    /// The policy chosen by the cargo feature.
    pub const ACTIVE: Policy = if cfg!(feature = "gc-stw") {
        Policy::StopTheWorld
    } else if cfg!(feature = "gc-none") {
        Policy::None
    } else {
        Policy::Incremental
    };

    /// Short name, as in the cargo feature (`gc-<name>`) and `--gc <name>`.
    pub const fn name(self) -> &'static str {
        match self {
            Policy::Incremental => "incremental",
            Policy::StopTheWorld => "stw",
            Policy::None => "none",
        }
    }
}

/// The stop-the-world trigger: collect once the live bytes reach the live
/// size after the last cycle grown by `percent` (Go's GOGC), and never
/// below `min_bytes` (so a tiny heap does not collect constantly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrowthTrigger {
    /// Growth over the last live size that triggers a collection, in percent.
    pub percent: u64,
    /// Live bytes below which no collection is triggered.
    pub min_bytes: u64,
}

impl GrowthTrigger {
    /// Live bytes at which the next collection starts.
    pub fn threshold(&self, live_after_cycle: u64) -> u64 {
        let growth = (live_after_cycle as u128 * self.percent as u128 / 100).min(u64::MAX as u128) as u64;
        live_after_cycle.saturating_add(growth).max(self.min_bytes)
    }

    /// Whether a heap with `live_now` bytes must collect.
    pub fn due(&self, live_after_cycle: u64, live_now: u64) -> bool {
        live_now >= self.threshold(live_after_cycle)
    }
}

/// One bounded incremental step: pay `pay` units of the collector's debt
/// now and leave `defer` for later steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// Work units paid in this step.
    pub pay: f64,
    /// Debt left for later steps.
    pub defer: f64,
}

/// The incremental pacer's settings, in gc-arena work units (about one
/// object marked, traced or freed each).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepPacer {
    /// Most work in one pause.
    pub bound: f64,
    /// Debt below which no step is taken (batches tiny debts).
    pub min_step: f64,
}

impl StepPacer {
    /// The next step for `debt`, or `None` when the debt is too small.
    pub fn plan(&self, debt: f64) -> Option<Step> {
        if !(debt > 0.0 && debt >= self.min_step) {
            return None;
        }
        let pay = debt.min(self.bound);
        Some(Step { pay, defer: debt - pay })
    }

    /// The next step that pays only the part of `debt` above `floor` (an
    /// assist that leaves the rest to a background collector).
    pub fn plan_above(&self, debt: f64, floor: f64) -> Option<Step> {
        let step = self.plan(debt - floor)?;
        Some(Step { pay: step.pay, defer: step.defer + floor })
    }

    /// Most steps needed to pay `debt` (with slack for the collector's own
    /// rounding); a loop that pays debt stops there even if gc-arena keeps
    /// reporting debt, so it can never spin.
    pub fn step_limit(&self, debt: f64) -> u64 {
        let steps = (debt / self.bound.max(1.0)) as u64;
        steps.saturating_mul(2).saturating_add(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_trigger_scales_with_live_size() {
        let t = GrowthTrigger { percent: 100, min_bytes: 1000 };
        assert_eq!(t.threshold(0), 1000);
        assert_eq!(t.threshold(400), 1000);
        assert_eq!(t.threshold(4000), 8000);
        assert!(!t.due(4000, 7999));
        assert!(t.due(4000, 8000));
        let t50 = GrowthTrigger { percent: 50, min_bytes: 0 };
        assert_eq!(t50.threshold(4000), 6000);
        assert_eq!(GrowthTrigger { percent: 0, min_bytes: 0 }.threshold(10), 10);
        assert_eq!(t.threshold(u64::MAX), u64::MAX);
    }

    #[test]
    fn assist_pays_only_above_the_floor() {
        let p = StepPacer { bound: 100.0, min_step: 10.0 };
        assert_eq!(p.plan_above(300.0, 400.0), None);
        assert_eq!(p.plan_above(405.0, 400.0), None);
        assert_eq!(p.plan_above(450.0, 400.0), Some(Step { pay: 50.0, defer: 400.0 }));
        assert_eq!(p.plan_above(700.0, 400.0), Some(Step { pay: 100.0, defer: 600.0 }));
        assert_eq!(p.plan_above(700.0, 0.0), p.plan(700.0));
    }

    #[test]
    fn step_pacer_bounds_and_defers() {
        let p = StepPacer { bound: 100.0, min_step: 10.0 };
        assert_eq!(p.plan(0.0), None);
        assert_eq!(p.plan(9.9), None);
        assert_eq!(p.plan(f64::NAN), None);
        assert_eq!(p.plan(10.0), Some(Step { pay: 10.0, defer: 0.0 }));
        assert_eq!(p.plan(250.0), Some(Step { pay: 100.0, defer: 150.0 }));
        assert_eq!(p.step_limit(250.0), 6);
        assert_eq!(p.step_limit(0.0), 2);
    }

    #[test]
    fn active_policy_matches_feature() {
        let expected = if cfg!(feature = "gc-stw") {
            "stw"
        } else if cfg!(feature = "gc-none") {
            "none"
        } else {
            "incremental"
        };
        assert_eq!(Policy::ACTIVE.name(), expected);
    }
}
