//! `cargo xtask test`: host unit tests, a boot of the normal kernel to
//! power-off, the in-kernel suite on each firmware × CPU count, then the
//! user-space programs of `tests/` (see [`crate::usertests`]). The
//! normal kernel boots with the standard initramfs (see [`crate::initramfs`])
//! and an init that exits at once with status 0; the test kernels with just
//! its skeleton (no BusyBox: under TCG, the BIOS loader's real-mode disk
//! reads make each MiB of ramdisk cost over a second of every BIOS boot). Each
//! kernel run that stops on a failing test is restarted after it, so every
//! test gets a verdict. Writes `target/xtask/junit.xml` and ends with
//! `N passed, N failed`.

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::build::{self, Gc, GcChoice, Kernel, KernelBuild};
use crate::initramfs::{self, Initramfs, InitramfsArgs};
use crate::junit::{self, Case, Suite};
use crate::prereq::{self, Tools};
use crate::qemu::{self, Boot, Machine};
use crate::symbolize::Symbolizer;
use crate::{fuzz, ktest_log, lint, root, usertests};

/// Which firmware the kernel suite boots with.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Firmware {
    /// SeaBIOS with the BIOS image.
    Bios,
    /// OVMF with the UEFI image.
    Uefi,
    /// Both, one after the other.
    Both,
}

/// Heap layouts to run the suites under (the kernel's `heaps=` setting,
/// see docs/gc.md).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Heaps {
    /// A heap per subsystem and sharded heaps for shared objects.
    PerProcess,
    /// One kernel-wide heap (Biscuit's layout).
    Global,
    /// Both: every configuration under per-process, and every test once
    /// more under global (BIOS only, the largest user-suite CPU count).
    All,
}

impl Heaps {
    /// The layouts chosen.
    pub fn chosen(self) -> Vec<Layout> {
        self.layouts().into_iter().map(|(layout, _)| layout).collect()
    }

    /// The layouts chosen, each with whether it runs the whole matrix of
    /// firmwares and CPU counts.
    fn layouts(self) -> Vec<(Layout, bool)> {
        match self {
            Heaps::PerProcess => vec![(Layout::PerProcess, true)],
            Heaps::Global => vec![(Layout::Global, true)],
            Heaps::All => vec![(Layout::PerProcess, true), (Layout::Global, false)],
        }
    }
}

/// One heap layout of the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `heaps=per-process` (the kernel's default).
    PerProcess,
    /// `heaps=global`.
    Global,
}

impl Layout {
    /// What suite names carry for this layout (nothing for the default).
    pub fn suffix(self) -> &'static str {
        match self {
            Layout::PerProcess => "",
            Layout::Global => "-global",
        }
    }

    /// The kernel command line `extra` (may be empty) plus this layout.
    pub fn cmdline(self, extra: &str) -> String {
        let setting = match self {
            Layout::PerProcess => "heaps=per-process",
            Layout::Global => "heaps=global",
        };
        if extra.is_empty() { setting.into() } else { format!("{setting} {extra}") }
    }
}

/// Options of `cargo xtask test`.
#[derive(Args)]
pub struct TestArgs {
    /// Run only the tests whose name contains this: kernel tests, and user
    /// programs whose `user/PROGRAM.CASE` names can contain it. `user` or
    /// `user/...` runs only the user suite; `harness` only the harness's
    /// self-check (deliberately failing kernel tests must be caught).
    pub filter: Option<String>,
    /// Build the kernel with optimizations (the release profile).
    #[arg(long)]
    pub release: bool,
    /// GC policy of the kernel's heaps; `all` runs the kernel suite once per
    /// policy.
    #[arg(long, value_enum, default_value_t = GcChoice::Incremental)]
    gc: GcChoice,
    /// Heap layouts to run the kernel and user suites under.
    #[arg(long, value_enum, default_value_t = Heaps::All)]
    heaps: Heaps,
    /// Firmware to boot the kernel suite with.
    #[arg(long, value_enum, default_value_t = Firmware::Both)]
    pub firmware: Firmware,
    /// CPU counts to run the kernel suite with (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    smp: Vec<u32>,
    /// Guest memory.
    #[arg(long, default_value = "512M", value_parser = qemu::parse_mem_size)]
    pub mem: String,
    /// Seconds before one QEMU boot is killed.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Use KVM (see `cargo xtask run --help`).
    #[arg(long)]
    pub kvm: bool,
    /// Extra kernel command line for the kernel and user suites (`gc.step=256 gctrace=1`).
    #[arg(long, default_value = "")]
    pub cmdline: String,
    /// Skip the host unit tests and the lint checks (`cargo xtask lint`).
    #[arg(long)]
    no_host: bool,
    /// CPU counts to run the user-space suite with (comma-separated); it
    /// boots BIOS unless `--firmware uefi`.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    user_smp: Vec<u32>,
    /// Skip the user-space suite (tests/).
    #[arg(long)]
    no_user: bool,
    /// Skip the fuzzing slice (`fuzz/`; see `cargo xtask fuzz`).
    #[arg(long)]
    no_fuzz: bool,
}

/// Runs everything; true if all passed.
pub fn run(args: TestArgs) -> Result<bool> {
    let uefi = args.firmware != Firmware::Bios;
    let tools = prereq::ensure(uefi)?;
    let ktest_ramdisk = initramfs::output_path("ktest")?;
    Initramfs::skeleton()?.write(&ktest_ramdisk)?;
    let mut suites = Vec::new();
    if !args.no_host {
        suites.push(host_tests()?);
    }
    if !args.no_host && args.filter.as_deref().is_none_or(|f| f == "lint") {
        suites.push(lint::suite()?);
    }
    let policies = args.gc.policies();
    if args.filter.is_none() {
        suites.push(boot_smoke(&tools, &args, policies[0])?);
    }
    let filter = args.filter.as_deref();
    let harness_only = filter == Some(HARNESS_FILTER);
    let user_only = usertests::filter_is_user_only(filter);
    // Built first: a test program that does not compile stops everything early.
    let programs = if args.no_user || harness_only { None } else { Some(usertests::build_programs(filter)?) };
    let firmwares: &[bool] = match args.firmware {
        Firmware::Bios => &[false],
        Firmware::Uefi => &[true],
        Firmware::Both => &[false, true],
    };
    for (i, &gc) in policies.iter().enumerate() {
        if user_only {
            break;
        }
        let kernel = build::kernel(&KernelBuild { release: args.release, ktest: true, gc }, &ktest_ramdisk)?;
        let symbols = Symbolizer::new(&kernel.elf);
        if i == 0 && (args.filter.is_none() || harness_only) {
            suites.push(harness_check(&tools, &kernel, &args, &symbols)?);
        }
        if harness_only {
            continue;
        }
        for (layout, whole) in args.heaps.layouts() {
            for &uefi in if whole { firmwares } else { &firmwares[..1] } {
                for &smp in &args.smp {
                    suites.push(kernel_suite(&tools, &kernel, uefi, smp, gc, layout, &args, &symbols)?);
                }
            }
        }
    }
    if let Some(programs) = programs.filter(|p| !p.names.is_empty()) {
        for (layout, whole) in args.heaps.layouts() {
            let largest = args.user_smp.iter().max().copied().unwrap_or(1);
            for &uefi in usertests::firmwares(args.firmware) {
                for &smp in args.user_smp.iter().filter(|&&smp| whole || smp == largest) {
                    suites.push(usertests::suite(&tools, &programs, uefi, smp, policies[0], layout, &args, filter)?);
                }
                if !whole {
                    break;
                }
            }
        }
    }
    let fuzz_selected = filter.is_none_or(|f| f.starts_with("fuzz") || "fuzz/".contains(f));
    if !args.no_fuzz && fuzz_selected && !harness_only && !user_only {
        for (i, (gc, (layout, _))) in
            policies.iter().flat_map(|&gc| args.heaps.layouts().into_iter().map(move |l| (gc, l))).enumerate()
        {
            suites.push(fuzz::slice_suite(&tools, gc, layout, args.release, i as u64 + 1)?);
        }
    }
    let report = root().join("target/xtask/junit.xml");
    fs::write(&report, junit::render(&suites))?;
    let cases = suites.iter().flat_map(|s| &s.cases);
    let failed: Vec<(&str, &Case)> = suites
        .iter()
        .flat_map(|s| s.cases.iter().map(move |c| (s.name.as_str(), c)))
        .filter(|(_, c)| c.failure.is_some())
        .collect();
    let total = cases.count();
    for (suite, case) in &failed {
        println!("\n==== FAILED {suite} {} ====\n{}", case.name, case.failure.as_deref().unwrap_or(""));
    }
    println!("\nxtask: JUnit report: {}", report.display());
    println!("{} passed, {} failed", total - failed.len(), failed.len());
    Ok(failed.is_empty())
}

pub(crate) fn print_verdict(suite: &str, case: &Case) {
    let verdict = if case.failure.is_some() { "FAILED" } else { "ok" };
    println!("{verdict:>6}  {suite:<18} {} ({:.1} ms)", case.name, case.seconds * 1000.0);
}

/// `cargo test` on the host crates (the workspace's default members).
fn host_tests() -> Result<Suite> {
    println!("xtask: host unit tests (cargo test)");
    let started = Instant::now();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root())
        .args(["test", "--color", "never"])
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    let mut suite = Suite { name: "host".into(), cases: Vec::new() };
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, verdict)) = rest.rsplit_once(" ... ") else {
            continue;
        };
        let failure = match verdict {
            "ok" => None,
            "ignored" => continue,
            _ => Some(format!("{verdict}\n{text}")),
        };
        let case = Case { name: name.to_string(), seconds: 0.0, failure };
        print_verdict("host", &case);
        suite.cases.push(case);
    }
    if !output.status.success() && suite.cases.iter().all(|c| c.failure.is_none()) {
        let case = Case {
            name: "cargo test".into(),
            seconds: started.elapsed().as_secs_f64(),
            failure: Some(format!("cargo test failed ({}):\n{text}", output.status)),
        };
        print_verdict("host", &case);
        suite.cases.push(case);
    }
    Ok(suite)
}

pub(crate) fn machine(
    tools: &Tools,
    kernel: &Kernel,
    uefi: bool,
    smp: u32,
    args: &TestArgs,
    cmdline: String,
) -> Machine {
    Machine {
        qemu: tools.qemu.clone(),
        firmware: if uefi { tools.ovmf.clone() } else { None },
        boot: Boot::Disk(if uefi { kernel.uefi.clone() } else { kernel.bios.clone() }),
        smp,
        mem: args.mem.clone(),
        kvm: args.kvm,
        icount: None,
        gdb: false,
        cmdline,
        extra: Vec::new(),
    }
}

pub(crate) fn save_log(name: &str, log: &str) -> Result<()> {
    let dir = root().join("target/xtask/logs");
    fs::create_dir_all(&dir)?;
    fs::write(dir.join(format!("{name}.log")), log)?;
    Ok(())
}

/// The normal kernel (as `cargo xtask run` builds it) boots with the
/// standard initramfs and powers off (after init exited with status 0, once
/// the kernel runs init).
fn boot_smoke(tools: &Tools, args: &TestArgs, gc: Gc) -> Result<Suite> {
    let init = InitramfsArgs { add: Vec::new(), init: Some("exit 0".into()) };
    let ramdisk = initramfs::build(&prereq::busybox()?, &init, "smoke")?;
    let kernel = build::kernel(&KernelBuild { release: args.release, ktest: false, gc }, &ramdisk)?;
    let started = Instant::now();
    let outcome =
        qemu::run_captured(&machine(tools, &kernel, false, 2, args, String::new()), Duration::from_secs(args.timeout))?;
    save_log("boot-bios-smp2", &outcome.output)?;
    let all_cpus = outcome.output.contains("scheduler on 2 CPU(s)");
    let failure = (outcome.status(false) != 0 || !all_cpus).then(|| {
        let verdict =
            if all_cpus { outcome.describe() } else { "the banner does not say 2 CPUs run the scheduler".into() };
        format!("{verdict}\n{}", Symbolizer::new(&kernel.elf).annotate_log(&outcome.output))
    });
    let case = Case {
        name: "kernel boots, brings up both CPUs and powers off".into(),
        seconds: started.elapsed().as_secs_f64(),
        failure,
    };
    print_verdict("boot-bios-smp2", &case);
    Ok(Suite { name: "boot-bios-smp2".into(), cases: vec![case] })
}

/// A kernel test that fails on purpose, and what its failure must show.
struct SelfTest {
    /// The case's name in the report.
    case: &'static str,
    /// The kernel test (a `harness_selftest_*` function).
    test: &'static str,
    /// What `shows` looks for, for the failure message.
    expect: &'static str,
    /// Checks the symbolized log and the raw log.
    shows: fn(&str, &str) -> bool,
}

/// The filter that runs only the harness check.
const HARNESS_FILTER: &str = "harness";

/// CPUs of the harness check's machine: more than one, so a failure must
/// also stop the others.
const HARNESS_CPUS: u32 = 2;

const SELFTESTS: [SelfTest; 2] = [
    SelfTest {
        case: "a failing kernel test is caught and symbolized",
        test: "harness_selftest_panics",
        expect: "a symbolized backtrace naming shim::ktest::selftest::harness_selftest_panics, the other CPUs stopped",
        shows: |annotated, raw| {
            annotated
                .lines()
                .any(|l| l.trim_start().starts_with("shim::ktest::selftest::") && l.contains("harness_selftest_panics"))
                && raw.contains(&format!("other CPUs stopped: {0} of {0}", HARNESS_CPUS - 1))
        },
    },
    SelfTest {
        case: "a goroutine stack overflow is caught on its guard page",
        test: "harness_selftest_goroutine_stack_overflow",
        expect: "a stack overflow report naming the goroutine, and a backtrace through recurse_forever",
        shows: |annotated, raw| {
            let id = raw.lines().find_map(|l| l.strip_prefix("ktest: note overflowing goroutine "));
            id.is_some_and(|id| {
                raw.lines().any(|l| {
                    l.contains("kernel stack overflow on CPU ") && l.contains(&format!(" in task {}:", id.trim()))
                })
            }) && annotated.contains("recurse_forever")
        },
    },
];

/// The harness catches failing kernel tests: each deliberately failing
/// self-test must end its run with a failure status, a `FAILED` line, and
/// the report [`SelfTest::shows`] looks for.
fn harness_check(tools: &Tools, kernel: &Kernel, args: &TestArgs, symbols: &Symbolizer) -> Result<Suite> {
    let mut suite = Suite { name: "harness".into(), cases: Vec::new() };
    for selftest in &SELFTESTS {
        let started = Instant::now();
        let cmdline = format!("ktest.selftest ktest.cpus={HARNESS_CPUS} ktest.filter={}", selftest.test);
        let machine = machine(tools, kernel, false, HARNESS_CPUS, args, cmdline);
        let outcome = qemu::run_captured(&machine, Duration::from_secs(args.timeout))?;
        save_log(&format!("harness-{}", selftest.test), &outcome.output)?;
        let report = ktest_log::parse(&outcome.output);
        let annotated = symbols.annotate_log(&outcome.output);
        let caught = report.results.iter().any(|r| !r.passed && r.name.ends_with(selftest.test));
        let shown = (selftest.shows)(&annotated, &outcome.output);
        let failure = match (outcome.success(), caught, shown) {
            (false, true, true) => None,
            _ => Some(format!(
                "expected a failure exit, a FAILED line for {} and {}; got: {}, caught={caught}, shown={shown}\n{annotated}",
                selftest.test,
                selftest.expect,
                outcome.describe()
            )),
        };
        let case = Case { name: selftest.case.into(), seconds: started.elapsed().as_secs_f64(), failure };
        print_verdict("harness", &case);
        suite.cases.push(case);
    }
    Ok(suite)
}

/// Runs the kernel test suite on one configuration, restarting after a
/// test that stopped the machine.
#[allow(clippy::too_many_arguments)]
fn kernel_suite(
    tools: &Tools,
    kernel: &Kernel,
    uefi: bool,
    smp: u32,
    gc: Gc,
    layout: Layout,
    args: &TestArgs,
    symbols: &Symbolizer,
) -> Result<Suite> {
    let name = format!("kernel-{}-smp{smp}-{}{}", if uefi { "uefi" } else { "bios" }, gc.name(), layout.suffix());
    println!("xtask: kernel tests, {name}");
    let mut suite = Suite { name: name.clone(), cases: Vec::new() };
    let mut start = 0;
    loop {
        let mut cmdline = format!("ktest.cpus={smp} ktest.start={start}");
        if let Some(filter) = &args.filter {
            cmdline += &format!(" ktest.filter={filter}");
        }
        cmdline += &format!(" {}", layout.cmdline(&args.cmdline));
        let machine = machine(tools, kernel, uefi, smp, args, cmdline);
        let outcome = qemu::run_captured(&machine, Duration::from_secs(args.timeout))?;
        save_log(&format!("{name}-from{start}"), &outcome.output)?;
        let report = ktest_log::parse(&outcome.output);
        for result in &report.results {
            let failure =
                (!result.passed).then(|| symbols.annotate_log(&ktest_log::test_output(&outcome.output, result.index)));
            let case = Case { name: result.name.clone(), seconds: result.micros.unwrap_or(0) as f64 / 1e6, failure };
            print_verdict(&name, &case);
            for note in &result.notes {
                println!("{:>8}{note}", "");
            }
            suite.cases.push(case);
        }
        if report.done && outcome.success() {
            return Ok(suite);
        }
        let next = match (&report.unfinished, report.results.last()) {
            (Some((index, test)), _) => {
                let output = ktest_log::test_output(&outcome.output, *index);
                let failure = format!("{}\n{}", outcome.describe(), symbols.annotate_log(&output));
                let case = Case { name: test.clone(), seconds: 0.0, failure: Some(failure) };
                print_verdict(&name, &case);
                suite.cases.push(case);
                index + 1
            }
            (None, Some(last)) if !last.passed => last.index + 1,
            _ => {
                // Stopped outside any test: before the plan, or after `done`
                // with a bad exit status.
                let failure = format!("{}\n{}", outcome.describe(), symbols.annotate_log(&outcome.output));
                let case = Case { name: format!("{name} run from test {start}"), seconds: 0.0, failure: Some(failure) };
                print_verdict(&name, &case);
                suite.cases.push(case);
                return Ok(suite);
            }
        };
        if report.plan.is_none_or(|plan| next >= plan) {
            return Ok(suite);
        }
        start = next;
    }
}
