//! `cargo xtask lint`: the checks every change passes, also run by
//! `cargo xtask test` (suite `lint`): `cargo fmt --check`, clippy with
//! warnings denied on the host crates (tests included), and clippy with
//! warnings denied on the kernel for the x86_64-unknown-none target under
//! every GC policy (with the in-kernel tests compiled in).

use std::process::Command;
use std::time::Instant;

use anyhow::Result;

use crate::build::Gc;
use crate::junit::{Case, Suite};
use crate::root;

/// One check: its name in the report and the cargo arguments that run it.
struct Check {
    name: String,
    args: Vec<String>,
}

fn checks() -> Vec<Check> {
    let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    let mut checks = vec![
        Check { name: "cargo fmt --check".into(), args: words("fmt --all --check") },
        Check {
            name: "clippy, host crates".into(),
            args: words("clippy --workspace --all-targets --color never -- -D warnings"),
        },
    ];
    for gc in Gc::ALL {
        checks.push(Check {
            name: format!("clippy, kernel, gc-{}", gc.name()),
            args: words(&format!(
                "clippy --package boot --target x86_64-unknown-none --no-default-features --features gc-{},ktest \
                 --color never -- -D warnings",
                gc.name()
            )),
        });
    }
    checks
}

/// Runs every check; one case each.
pub fn suite() -> Result<Suite> {
    let mut suite = Suite { name: "lint".into(), cases: Vec::new() };
    for check in checks() {
        let started = Instant::now();
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root())
            .args(&check.args)
            .output()?;
        let failure = (!output.status.success()).then(|| {
            format!(
                "cargo {} failed ({}):\n{}{}",
                check.args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let case = Case { name: check.name, seconds: started.elapsed().as_secs_f64(), failure };
        crate::test::print_verdict("lint", &case);
        suite.cases.push(case);
    }
    Ok(suite)
}

/// `cargo xtask lint`: true if every check passed (failures are printed).
pub fn run() -> Result<bool> {
    let suite = suite()?;
    for case in &suite.cases {
        if let Some(failure) = &case.failure {
            println!("\n==== FAILED {} ====\n{failure}", case.name);
        }
    }
    Ok(suite.cases.iter().all(|case| case.failure.is_none()))
}
