//! In-kernel tests: registered with [`ktest!`](crate::ktest!) in the crate
//! where the code lives, collected at link time (a `linkme` distributed
//! slice), and run by [`run_all`] in a kernel built with the `ktest` feature.
//!
//! Serial protocol, one line each (xtask parses it):
//!
//! ```text
//! ktest: plan <count>
//! ktest: begin <index> <name>
//! ktest: ok <index> <name> <microseconds>us
//! ktest: FAILED <index> <name> <microseconds>us     (printed by the panic/fault path)
//! ktest: done <passed> passed <failed> failed
//! ktest: note <text>                                 (a figure the running test reports, see [`note`])
//! ```
//!
//! A failing test panics; the kernel cannot unwind, so the run stops there
//! and xtask restarts it with `ktest.start=<index + 1>` to run the rest.
//! The command line may also carry `ktest.filter=<substring>`.
//!
//! Tests named `harness_selftest_*` fail on purpose: they check that a
//! failure is caught, reported and symbolized. They run only when the
//! command line has `ktest.selftest` (xtask's harness check sets it).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

#[doc(hidden)]
pub use linkme;

/// A registered kernel test.
pub struct KTest {
    /// Full name: module path and function name.
    pub name: &'static str,
    /// The test; it fails by panicking.
    pub run: fn(),
}

/// Every test linked into the kernel.
#[linkme::distributed_slice]
pub static KTESTS: [KTest];

/// Registers a kernel test function, which fails by panicking:
///
/// ```ignore
/// shim::ktest! {
///     fn clock_moves() { assert!(shim::time::now_ns() > 0); }
/// }
/// ```
#[macro_export]
macro_rules! ktest {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        fn $name() $body

        const _: () = {
            #[$crate::ktest::linkme::distributed_slice($crate::ktest::KTESTS)]
            #[linkme(crate = $crate::ktest::linkme)]
            static TEST: $crate::ktest::KTest = $crate::ktest::KTest {
                name: concat!(module_path!(), "::", stringify!($name)),
                run: $name,
            };
        };
    };
}

const NONE: usize = usize::MAX;
static CURRENT: AtomicUsize = AtomicUsize::new(NONE);
static CURRENT_START_NS: AtomicU64 = AtomicU64::new(0);
static PLAN: spin::Once<Vec<&'static KTest>> = spin::Once::new();

/// The tests selected by the command line, sorted by name.
fn plan() -> &'static [&'static KTest] {
    PLAN.call_once(|| {
        let filter = crate::cmdline::get("ktest.filter").unwrap_or("");
        let selftests = crate::cmdline::get("ktest.selftest").is_some();
        let mut tests: Vec<&'static KTest> = KTESTS
            .iter()
            .filter(|t| t.name.contains(filter) && t.name.contains("::harness_selftest_") == selftests)
            .collect();
        tests.sort_by_key(|t| t.name);
        tests
    })
}

/// Runs the selected tests from `ktest.start` on, prints the summary and
/// exits QEMU with success or failure.
pub fn run_all() -> ! {
    let tests = plan();
    let start = crate::cmdline::get_u64("ktest.start").unwrap_or(0) as usize;
    println!("ktest: plan {}", tests.len());
    for (index, test) in tests.iter().enumerate().skip(start) {
        println!("ktest: begin {index} {}", test.name);
        CURRENT_START_NS.store(crate::time::now_ns(), Ordering::SeqCst);
        CURRENT.store(index, Ordering::SeqCst);
        (test.run)();
        CURRENT.store(NONE, Ordering::SeqCst);
        println!("ktest: ok {index} {} {}us", test.name, elapsed_us());
    }
    println!("ktest: done {} passed 0 failed", tests.len().saturating_sub(start));
    crate::power::exit_qemu(crate::power::EXIT_SUCCESS)
}

/// Reports a figure from the running test (a measurement worth reading,
/// not a verdict): xtask prints it under the test's result.
pub fn note(args: core::fmt::Arguments<'_>) {
    println!("ktest: note {args}");
}

fn elapsed_us() -> u64 {
    (crate::time::now_ns() - CURRENT_START_NS.load(Ordering::SeqCst)) / 1000
}

/// Called on the fatal path: marks the running test, if any, as failed.
pub(crate) fn report_current_failed() {
    let index = CURRENT.swap(NONE, Ordering::SeqCst);
    if index != NONE
        && let Some(test) = PLAN.get().and_then(|tests| tests.get(index))
    {
        println!("ktest: FAILED {index} {} {}us", test.name, elapsed_us());
    }
}

/// Recurses without bound (`black_box` keeps the frames real): for tests
/// that overflow a stack on purpose.
#[cfg(feature = "ktest")]
#[allow(unconditional_recursion)]
pub fn recurse_forever(depth: u64) -> u64 {
    let local = core::hint::black_box([depth; 16]);
    recurse_forever(local[3] + 1) + core::hint::black_box(local[0])
}

#[cfg(feature = "ktest")]
mod selftest {
    crate::ktest! {
        /// Fails on purpose (only under `ktest.selftest`): xtask checks that
        /// the failure is reported with a backtrace naming this function.
        fn harness_selftest_panics() {
            let depth = core::hint::black_box(3);
            assert_eq!(depth, 4, "deliberate failure: the harness must catch this");
        }
    }
}
