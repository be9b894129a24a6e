//! The JUnit XML report (`target/xtask/junit.xml`) for CI dashboards.

use std::fmt::Write;

/// One test case.
pub struct Case {
    /// Test name.
    pub name: String,
    /// Seconds taken.
    pub seconds: f64,
    /// Failure text, if it failed.
    pub failure: Option<String>,
}

/// A group of cases (host tests, or one kernel configuration).
pub struct Suite {
    /// Suite name, e.g. `kernel-bios-smp4`.
    pub name: String,
    /// Its cases.
    pub cases: Vec<Case>,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Renders the suites as a JUnit `<testsuites>` document.
pub fn render(suites: &[Suite]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for suite in suites {
        let failures = suite.cases.iter().filter(|c| c.failure.is_some()).count();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
            escape(&suite.name),
            suite.cases.len()
        );
        for case in &suite.cases {
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.6}\"",
                escape(&suite.name),
                escape(&case.name),
                case.seconds
            );
            match &case.failure {
                None => xml.push_str("/>\n"),
                Some(text) => {
                    let first = text.lines().next().unwrap_or("failed");
                    let _ = write!(
                        xml,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                        escape(first),
                        escape(text)
                    );
                }
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_escapes() {
        let suites = [Suite {
            name: "kernel-bios-smp1".into(),
            cases: vec![
                Case { name: "a<b>".into(), seconds: 0.5, failure: None },
                Case { name: "c".into(), seconds: 0.0, failure: Some("panic: \"x\" & y\nmore".into()) },
            ],
        }];
        let xml = render(&suites);
        assert!(xml.contains("tests=\"2\" failures=\"1\""));
        assert!(xml.contains("name=\"a&lt;b&gt;\""));
        assert!(xml.contains("message=\"panic: &quot;x&quot; &amp; y\""));
        assert!(xml.contains("<testcase classname=\"kernel-bios-smp1\" name=\"a&lt;b&gt;\" time=\"0.500000\"/>"));
    }
}
