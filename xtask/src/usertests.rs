//! The user-space suite of `cargo xtask test`: the programs of `tests/`
//! (C built with `musl-gcc -static`, and BusyBox scripts) run inside
//! Hardtack, one result per case.
//!
//! - Every `tests/*.c` is a test program, `tests/helpers/*.c` are programs
//!   the tests run (not tests themselves), `tests/*.sh` except `run.sh` are
//!   shell test scripts. All are built or copied into
//!   `target/xtask/usertests/`, which becomes `/tests` in the initramfs.
//! - Init runs `sh /tests/run.sh PROGRAM...`, which frames each program's
//!   output with `utest: START P` and `utest: EXIT P STATUS` lines; the
//!   programs print `utest: PASS P.CASE`, `utest: FAIL P.CASE: DETAIL` and
//!   `utest: DONE P PASSED FAILED` (`tests/harness.h`).
//! - Each case becomes `user/P.CASE`. A program that ends without its DONE
//!   line (crash, in-guest timeout), whose DONE counts disagree with its
//!   lines, or that exits non-zero with no failed case, also gets a failing
//!   case `user/P`. If the machine stops in the middle of a program (panic,
//!   hang until the host timeout), that program fails and a new boot runs
//!   the ones after it.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build::{self, Gc, KernelBuild};
use crate::initramfs::{self, InitramfsArgs};
use crate::junit::{Case, Suite};
use crate::prereq::{self, Tools};
use crate::qemu;
use crate::root;
use crate::symbolize::Symbolizer;
use crate::test::{self, Layout, TestArgs};

/// Seconds one program may run inside the guest before `timeout` kills it.
const PROGRAM_TIMEOUT: u64 = 120;
/// Compiler flags of every test program.
const CFLAGS: &[&str] = &["-static", "-O2", "-Wall", "-Werror"];

/// The built test tree: its host directory and the programs to run, in order.
pub struct Programs {
    pub dir: PathBuf,
    pub names: Vec<String>,
}

/// Builds `tests/` into `target/xtask/usertests/` and lists the programs
/// whose cases `filter` can match (see [`selected`]).
pub fn build_programs(filter: Option<&str>) -> Result<Programs> {
    let musl_gcc = prereq::musl_gcc()?;
    let src = root().join("tests");
    let out = root().join("target/xtask/usertests");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(out.join("helpers"))?;
    let mut names = Vec::new();
    let mut flags: Vec<OsString> = CFLAGS.iter().map(OsString::from).collect();
    flags.extend(["-I".into(), src.clone().into()]);
    let compile = |source: &Path, binary: &Path| compile(&musl_gcc, &flags, source, binary);
    for (dir, into) in [(src.join("helpers"), out.join("helpers")), (src.clone(), out.clone())] {
        let mut entries: Vec<PathBuf> = fs::read_dir(&dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for path in entries {
            let (Some(stem), Some(ext)) = (path.file_stem().and_then(|s| s.to_str()), path.extension()) else {
                continue;
            };
            if ext == "c" {
                compile(&path, &into.join(stem))?;
            } else if ext == "sh" {
                fs::copy(&path, into.join(path.file_name().unwrap()))?;
            } else {
                continue;
            }
            if dir == src && stem != "run" {
                names.push(stem.to_string());
            }
        }
    }
    // C programs first (alphabetically), then the shell scripts.
    names.sort_by_key(|name| (src.join(format!("{name}.sh")).exists(), name.clone()));
    names.retain(|name| selected(name, filter));
    Ok(Programs { dir: out, names })
}

/// Compiles C program `source` into `binary` with `musl_gcc` and `flags`;
/// a compile error is shown in full.
pub fn compile(musl_gcc: &Path, flags: &[impl AsRef<OsStr>], source: &Path, binary: &Path) -> Result<()> {
    let mut cc = Command::new(musl_gcc);
    cc.args(flags).arg(source).arg("-o").arg(binary);
    let output = cc.output().with_context(|| format!("run {}", musl_gcc.display()))?;
    if !output.status.success() {
        bail!("{} does not compile:\n{}", source.display(), String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// Whether program `name` runs under `filter`: its cases `user/NAME.CASE`
/// can contain it (`user`, `pipes`, `user/pipes.`) or it names one of its
/// cases (`user/pipes.pipe_10mib_intact`).
fn selected(name: &str, filter: Option<&str>) -> bool {
    let prefix = format!("user/{name}.");
    filter.is_none_or(|f| prefix.contains(f) || f.starts_with(&prefix))
}

/// Whether the filter is about the user suite only (`user`, `user/...`),
/// so that the kernel suites can be skipped.
pub fn filter_is_user_only(filter: Option<&str>) -> bool {
    filter.is_some_and(|f| f == "user" || f.starts_with("user/"))
}

/// What one program printed and how it ended.
#[derive(Debug, Default, PartialEq)]
struct ProgramRun {
    name: String,
    /// Case name (without `user/`) and failure detail.
    cases: Vec<(String, Option<String>)>,
    /// `DONE` counts.
    done: Option<(usize, usize)>,
    /// Exit status from run.sh; None if the machine stopped first.
    exit: Option<i32>,
    /// The program's lines other than PASS lines, for failure reports.
    log: Vec<String>,
}

/// Splits the console output into program runs, in order.
fn parse(output: &str) -> Vec<ProgramRun> {
    let mut runs: Vec<ProgramRun> = Vec::new();
    let mut current: Option<ProgramRun> = None;
    for line in output.lines() {
        // Kernel messages can share a line with program output; find the marker.
        let Some(at) = line.find("utest: ") else {
            if let Some(run) = current.as_mut() {
                run.log.push(line.to_string());
            }
            continue;
        };
        let rest = &line[at + "utest: ".len()..];
        let (word, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        match word {
            "START" => {
                runs.extend(current.take());
                current = Some(ProgramRun { name: rest.trim().to_string(), ..Default::default() });
            }
            "EXIT" => {
                if let Some(mut run) = current.take() {
                    run.exit = rest.rsplit(' ').next().and_then(|s| s.trim().parse().ok());
                    runs.push(run);
                }
            }
            _ => {
                let Some(run) = current.as_mut() else { continue };
                if word != "PASS" {
                    run.log.push(line[at..].to_string());
                }
                match word {
                    "PASS" => run.cases.push((rest.trim().to_string(), None)),
                    "FAIL" => {
                        let (name, detail) = rest.split_once(": ").unwrap_or((rest, ""));
                        run.cases.push((name.trim().to_string(), Some(detail.to_string())));
                    }
                    "DONE" => {
                        let mut fields = rest.split_whitespace().skip(1).map(str::parse::<usize>);
                        if let (Some(Ok(p)), Some(Ok(f))) = (fields.next(), fields.next()) {
                            run.done = Some((p, f));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    runs.extend(current);
    runs
}

impl ProgramRun {
    /// Why the program as a whole failed beyond its cases, if it did.
    fn problem(&self) -> Option<String> {
        let failed = self.cases.iter().filter(|c| c.1.is_some()).count();
        let passed = self.cases.len() - failed;
        let exit = match self.exit {
            None => return Some("did not finish: the machine stopped while it ran".into()),
            Some(exit) => exit,
        };
        let how = match exit {
            137 => format!("killed after {PROGRAM_TIMEOUT} s (status 137) or by SIGKILL"),
            s if s > 128 => format!("killed by signal {} (status {s})", s - 128),
            s => format!("exit status {s}"),
        };
        match self.done {
            None => Some(format!("ended without its DONE line: {how}")),
            Some(counts) if counts != (passed, failed) => {
                Some(format!("DONE says {counts:?} passed/failed, but its lines say ({passed}, {failed}); {how}"))
            }
            Some(_) if exit != 0 && failed == 0 => Some(format!("no failed case, yet {how}")),
            Some(_) if exit == 0 && failed != 0 => Some(format!("{failed} failed case(s), yet {how}")),
            Some(_) => None,
        }
    }
}

/// Runs the user programs on one machine configuration, rebooting after a
/// program that stopped the machine.
#[allow(clippy::too_many_arguments)]
pub fn suite(
    tools: &Tools,
    programs: &Programs,
    uefi: bool,
    smp: u32,
    gc: Gc,
    layout: Layout,
    args: &TestArgs,
    filter: Option<&str>,
) -> Result<Suite> {
    let name = format!("user-{}-smp{smp}{}", if uefi { "uefi" } else { "bios" }, layout.suffix());
    println!("xtask: user tests, {name}");
    let mut suite = Suite { name: name.clone(), cases: Vec::new() };
    let mut remaining: &[String] = &programs.names;
    while let Some(first) = remaining.first() {
        let init = format!("UTEST_TIMEOUT={PROGRAM_TIMEOUT} sh /tests/run.sh {}", remaining.join(" "));
        // What `cargo xtask run --add target/xtask/usertests:/tests --init CMD` boots.
        let add = vec![initramfs::Add { host: programs.dir.clone(), guest: "/tests".into() }];
        let ramdisk = initramfs::build(&prereq::busybox()?, &InitramfsArgs { add, init: Some(init) }, "usertests")?;
        let kernel = build::kernel(&KernelBuild { release: args.release, ktest: false, gc }, &ramdisk)?;
        let symbols = Symbolizer::new(&kernel.elf);
        let machine = test::machine(tools, &kernel, uefi, smp, args, layout.cmdline(&args.cmdline));
        let started = Instant::now();
        let outcome = qemu::run_captured(&machine, Duration::from_secs(args.timeout))?;
        let seconds = started.elapsed().as_secs_f64();
        let log_name = format!("{name}-from-{first}");
        test::save_log(&log_name, &outcome.output)?;
        let log_path = root().join(format!("target/xtask/logs/{log_name}.log"));
        let runs = parse(&outcome.output);
        let mut push = |case: Case| {
            test::print_verdict(&name, &case);
            suite.cases.push(case);
        };
        for run in &runs {
            for (case, failure) in &run.cases {
                let full = format!("user/{case}");
                if filter.is_some_and(|f| !full.contains(f)) {
                    continue;
                }
                let failure = failure.as_ref().map(|d| format!("{d}\n(log: {})", log_path.display()));
                push(Case { name: full, seconds: 0.0, failure });
            }
            if let Some(problem) = run.problem() {
                let detail = if run.exit.is_none() {
                    format!("{}\n{}", outcome.describe(), symbols.annotate_log(&run.log.join("\n")))
                } else {
                    run.log.join("\n")
                };
                let failure = Some(format!("{problem}\n{detail}\n(log: {})", log_path.display()));
                push(Case { name: format!("user/{}", run.name), seconds: 0.0, failure });
            }
        }
        let finished = runs.iter().take_while(|r| r.exit.is_some()).count();
        let all_ran = finished == remaining.len();
        if all_ran && outcome.success() {
            break;
        }
        if runs.is_empty() || all_ran {
            // Nothing ran, or the machine ended badly after the last program.
            let failure = format!(
                "{}\n{}\n(log: {})",
                outcome.describe(),
                symbols.annotate_log(&outcome.output),
                log_path.display()
            );
            push(Case { name: format!("user run from {first}"), seconds, failure: Some(failure) });
            break;
        }
        // The program after the finished ones stopped the machine (its
        // failure is recorded above); go on after it.
        remaining = &remaining[(finished + 1).min(remaining.len())..];
    }
    Ok(suite)
}

/// Firmwares (true: UEFI) of the user suite for `--firmware`: BIOS unless
/// only UEFI was asked for.
pub fn firmwares(firmware: test::Firmware) -> &'static [bool] {
    match firmware {
        test::Firmware::Uefi => &[true],
        _ => &[false],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cases_done_and_exit() {
        let log = "boot\nutest: START a\nutest: PASS a.x\n[ 1.0] INFO noise utest: FAIL a.y: errno 14 (Bad address)\n\
                   utest: DONE a 1 1\nutest: EXIT a 1\nutest: START b\nutest: PASS b.z\nhardtack: init exited\n";
        let runs = parse(log);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].name, "a");
        assert_eq!(runs[0].cases, vec![("a.x".into(), None), ("a.y".into(), Some("errno 14 (Bad address)".into()))]);
        assert_eq!((runs[0].done, runs[0].exit), (Some((1, 1)), Some(1)));
        assert_eq!(runs[0].problem(), None, "failed cases explain the exit status");
        assert_eq!((runs[1].done, runs[1].exit), (None, None));
        assert!(runs[1].problem().unwrap().contains("did not finish"));
    }

    #[test]
    fn program_problems() {
        let run = |done, exit, fail: bool| ProgramRun {
            name: "p".into(),
            cases: vec![("p.c".into(), fail.then(String::new))],
            done,
            exit: Some(exit),
            log: Vec::new(),
        };
        assert_eq!(run(Some((1, 0)), 0, false).problem(), None);
        assert!(run(None, 139, false).problem().unwrap().contains("signal 11"));
        assert!(run(Some((1, 0)), 3, false).problem().is_some());
        assert!(run(Some((2, 0)), 0, false).problem().unwrap().contains("DONE says"));
        assert!(run(Some((0, 1)), 0, true).problem().is_some());
    }

    #[test]
    fn filters() {
        assert!(selected("pipes", None));
        assert!(selected("pipes", Some("user")));
        assert!(selected("pipes", Some("pipes")));
        assert!(selected("pipes", Some("user/pipes.pipe_eof")));
        assert!(!selected("pipes", Some("user/procs")));
        assert!(!selected("pipes", Some("sched")));
        assert!(filter_is_user_only(Some("user/pipes")) && filter_is_user_only(Some("user")));
        assert!(!filter_is_user_only(Some("users")) && !filter_is_user_only(None));
    }
}
