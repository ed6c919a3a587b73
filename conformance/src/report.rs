//! Machine-readable reports: JSON and JUnit XML (for CI dashboards).

use crate::runner::Report;
use crate::verdict::Verdict;
use serde_json::json;
use std::fmt::Write as _;

/// The report as JSON: a summary and one object per case.
pub fn json(report: &Report, target: &str) -> String {
    let cases: Vec<_> = report
        .results
        .iter()
        .map(|r| {
            let (expected, observed) = match &r.verdict {
                Verdict::Fail(f) | Verdict::Warn(f) => (f.expected.clone(), f.observed.clone()),
                Verdict::Skip(why) => (String::new(), why.clone()),
                Verdict::Pass => (String::new(), String::new()),
            };
            json!({
                "id": r.id,
                "section": r.section,
                "title": r.title,
                "description": r.desc,
                "verdict": r.verdict.label().to_lowercase(),
                "expected": expected,
                "observed": observed,
                "seconds": r.elapsed.as_secs_f64(),
            })
        })
        .collect();
    let doc = json!({
        "target": target,
        "passed": report.passed(),
        "failed": report.failed(),
        "warnings": report.warnings(),
        "skipped": report.skipped(),
        "seconds": report.elapsed.as_secs_f64(),
        "cases": cases,
    });
    serde_json::to_string_pretty(&doc).expect("JSON values serialize")
}

/// The report as JUnit XML: one test suite per section.
pub fn junit(report: &Report, target: &str) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"h2proto-conformance {}\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">",
        esc(target),
        report.results.len(),
        report.failed(),
        report.elapsed.as_secs_f64()
    );
    let mut i = 0;
    while i < report.results.len() {
        let section = report.results[i].section;
        let group: Vec<_> =
            report.results[i..].iter().take_while(|r| r.section == section).collect();
        let failures = group.iter().filter(|r| r.verdict.is_failure()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
            esc(section),
            group.len()
        );
        for r in &group {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{} {}\" time=\"{:.3}\"",
                esc(section),
                esc(&r.id),
                esc(r.desc),
                r.elapsed.as_secs_f64()
            );
            match &r.verdict {
                Verdict::Pass => out.push_str("/>\n"),
                Verdict::Fail(f) => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"expected: {}\">observed: {}</failure>\n    </testcase>",
                        esc(&f.expected),
                        esc(&f.observed)
                    );
                }
                Verdict::Warn(f) => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>warning: expected {}; observed {}</system-out>\n    </testcase>",
                        esc(&f.expected),
                        esc(&f.observed)
                    );
                }
                Verdict::Skip(why) => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        esc(why)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
        i += group.len();
    }
    out.push_str("</testsuites>\n");
    out
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}
