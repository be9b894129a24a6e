//! Reading the kernel test protocol from the serial log (see
//! `shim/src/ktest.rs`): which tests ran, passed, failed, and where a run
//! stopped.

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// Position in the kernel's sorted test plan.
    pub index: usize,
    /// Full test name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Duration in microseconds, when known.
    pub micros: Option<u64>,
    /// Figures the test reported (`ktest: note` lines).
    pub notes: Vec<String>,
}

/// What one boot of the test kernel reported.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Number of tests in the plan, if the kernel got that far.
    pub plan: Option<usize>,
    /// Finished tests (ok or FAILED), in order.
    pub results: Vec<TestResult>,
    /// A test that began but neither passed nor was reported failed.
    pub unfinished: Option<(usize, String)>,
    /// Whether the kernel printed its `done` line.
    pub done: bool,
}

fn parse_micros(word: Option<&str>) -> Option<u64> {
    word?.strip_suffix("us")?.parse().ok()
}

/// Parses every `ktest:` line of a serial log.
pub fn parse(log: &str) -> RunReport {
    let mut report = RunReport::default();
    let mut notes = Vec::new();
    for line in log.lines() {
        let Some(rest) = line.trim().strip_prefix("ktest: ") else {
            continue;
        };
        if let Some(note) = rest.strip_prefix("note ") {
            notes.push(note.to_string());
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        let index = || words.get(1).and_then(|w| w.parse::<usize>().ok());
        match (words.first().copied(), index(), words.get(2)) {
            (Some("plan"), Some(n), _) => report.plan = Some(n),
            (Some("begin"), Some(i), Some(name)) => {
                notes.clear();
                report.unfinished = Some((i, name.to_string()));
            }
            (Some(verdict @ ("ok" | "FAILED")), Some(i), Some(name)) => {
                report.unfinished = None;
                report.results.push(TestResult {
                    index: i,
                    name: name.to_string(),
                    passed: verdict == "ok",
                    micros: parse_micros(words.get(3).copied()),
                    notes: std::mem::take(&mut notes),
                });
            }
            (Some("done"), _, _) => report.done = true,
            _ => {}
        }
    }
    report
}

/// The serial output that belongs to test `index` (from its `begin` line on,
/// through the crash report), for failure messages.
pub fn test_output(log: &str, index: usize) -> String {
    let begin = format!("ktest: begin {index} ");
    let mut lines = log.lines().skip_while(|l| !l.starts_with(&begin));
    let mut out: Vec<&str> = lines.next().into_iter().collect();
    out.extend(lines.take_while(|l| !l.starts_with("ktest: begin ")));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
noise
ktest: plan 3
ktest: begin 0 shim::a
ktest: note pause max 12us
ktest: ok 0 shim::a 12us
ktest: begin 1 shim::b
!!! KERNEL PANIC on CPU 0: boom
  #0 0xffffffff80001000
ktest: FAILED 1 shim::b 40us
";

    #[test]
    fn reads_plan_results_and_failures() {
        let report = parse(LOG);
        assert_eq!(report.plan, Some(3));
        assert_eq!(report.results.len(), 2);
        assert_eq!(
            report.results[0],
            TestResult {
                index: 0,
                name: "shim::a".into(),
                passed: true,
                micros: Some(12),
                notes: vec!["pause max 12us".into()]
            }
        );
        assert!(report.results[1].notes.is_empty());
        assert!(!report.results[1].passed);
        assert_eq!(report.unfinished, None);
        assert!(!report.done);
    }

    #[test]
    fn a_crash_without_verdict_leaves_the_test_unfinished() {
        let report = parse("ktest: plan 2\nktest: begin 0 x\ntriple fault\n");
        assert_eq!(report.unfinished, Some((0, "x".into())));
        let done = parse("ktest: plan 1\nktest: begin 0 x\nktest: ok 0 x 1us\nktest: done 1 passed 0 failed\n");
        assert!(done.done && done.unfinished.is_none());
    }

    #[test]
    fn extracts_one_tests_output() {
        let out = test_output(LOG, 1);
        assert!(out.starts_with("ktest: begin 1 shim::b"));
        assert!(out.contains("KERNEL PANIC") && out.contains("FAILED 1"));
        assert!(!out.contains("shim::a"));
    }
}
