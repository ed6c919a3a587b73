//! The requirements traceability check (issue 14): the real repository checks clean and its
//! checked-in report is the regenerated one; fixture trees under
//! `tests/fixtures/requirements/` show that a removed annotation leaves its requirement
//! untraced and that a renamed test, a duplicate id, a malformed entry or an annotation
//! naming an unknown id is a problem that fails the check.

use h2proto_conformance::requirements::{
    self, Gap, REPORT_PATH, Registry, Status, Trace, parse_line, report,
};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> Trace {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/requirements").join(name);
    let registry = Registry {
        cases: ["demo/1".to_string()].into(),
        client_cases: ["client/1".to_string()].into(),
    };
    requirements::check(&root, &registry)
}

fn problems(trace: &Trace) -> Vec<String> {
    trace.problems.iter().map(ToString::to_string).collect()
}

const REGENERATE: &str = "regenerate it: cargo run -p h2proto-conformance -- requirements --write conformance/REQUIREMENTS.md";

#[test]
fn the_repository_checks_clean() {
    let trace = requirements::check(&repo_root(), &Registry::builtin());
    assert!(trace.problems.is_empty(), "problems:\n{}", problems(&trace).join("\n"));
    assert!(!trace.entries.is_empty(), "no requirements loaded");
    for e in &trace.entries {
        if e.status == Status::Exempt {
            assert!(e.sites.is_empty() && e.tests.is_empty(), "{} is exempt yet traced", e.req.id);
            continue;
        }
        let annotated_and_tested =
            !e.sites.is_empty() && !e.tests.is_empty() && e.tests.iter().all(|t| t.found);
        assert_eq!(e.status == Status::Traced, annotated_and_tested, "{}: {}", e.req.id, e.status);
    }
    let text = report::text(&trace, false);
    assert_eq!(text.lines().last(), Some(trace.summary().as_str()));
}

/// The checked-in report is what the check writes today: a traced requirement that loses
/// its annotation, or cites a test that no longer exists, changes it and fails here.
#[test]
fn the_checked_in_report_is_current() {
    let root = repo_root();
    let trace = requirements::check(&root, &Registry::builtin());
    let checked_in = std::fs::read_to_string(root.join(REPORT_PATH)).expect("the report");
    let regenerated = report::markdown(&trace);
    if checked_in != regenerated {
        let diff = checked_in
            .lines()
            .zip(regenerated.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("checked in:  {a}\nregenerated: {b}"))
            .unwrap_or_else(|| "the files differ in length".into());
        panic!("{REPORT_PATH} is stale; {REGENERATE}\nfirst difference:\n{diff}");
    }
}

/// The command's own output: `--markdown` prints the checked-in report, the text closes with
/// the summary line, and a clean check exits 0.
#[test]
fn the_command_prints_the_report() {
    let root = repo_root();
    let bin = env!("CARGO_BIN_EXE_h2proto-conformance");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .arg("requirements")
            .args(args)
            .arg("--root")
            .arg(&root)
            .output()
            .expect("the binary runs");
        (out.status.success(), String::from_utf8(out.stdout).expect("utf-8"))
    };
    let (ok, markdown) = run(&["--markdown"]);
    let checked_in = std::fs::read_to_string(root.join(REPORT_PATH)).expect("the report");
    assert!(ok, "the command fails on the repository");
    assert!(markdown == checked_in, "--markdown differs from {REPORT_PATH}; {REGENERATE}");
    let trace = requirements::check(&root, &Registry::builtin());
    let (_, text) = run(&[]);
    assert_eq!(text.lines().last(), Some(trace.summary().as_str()));
    let (_, missing) = run(&["--missing"]);
    for e in trace.entries.iter().filter(|e| e.status == Status::Traced) {
        let line = format!("    {} ", e.req.id);
        assert!(!missing.lines().any(|l| l.starts_with(&line)), "--missing lists {}", e.req.id);
    }
}

#[test]
fn a_fully_traced_tree() {
    let trace = fixture("good");
    assert_eq!(problems(&trace), Vec::<String>::new());
    let statuses: Vec<(&str, &Status)> =
        trace.entries.iter().map(|e| (e.req.id.as_str(), &e.status)).collect();
    assert_eq!(
        statuses,
        [
            ("9999-1-1", &Status::Traced),
            ("9999-1-2", &Status::Traced),
            ("9999-2.1-1", &Status::Traced),
            ("9999-2.1-2", &Status::Exempt),
        ]
    );
    assert_eq!(trace.summary(), "3 of 3 requirements traced to code and test");
    let sites: Vec<String> = trace.entries[0].sites.iter().map(ToString::to_string).collect();
    assert_eq!(sites, ["src/lib.rs:6"], "the doc line and the string are not annotations");
    assert_eq!(trace.entries[1].req.text, "A sender SHOULD keep frames short.");
    let text = report::text(&trace, false);
    assert!(text.contains("src/lib.rs:9"), "{text}");
    assert!(text.contains("binds intermediaries; the library is an endpoint"), "{text}");
    assert!(
        text.ends_with("1 exempt, listed apart\n3 of 3 requirements traced to code and test\n")
    );
    let missing = report::text(&trace, true);
    assert!(!missing.contains("9999-1-1"), "{missing}");
    let markdown = report::markdown(&trace);
    assert!(markdown.contains("**3 of 3 requirements traced to code and test**"), "{markdown}");
    assert!(markdown.contains("| 9999-2.1-1 | MUST NOT | both | yes |"), "{markdown}");
    assert!(markdown.contains("\n### RFC 9999 §1 Frames\n"), "{markdown}");
    assert!(markdown.contains("\n### RFC 9999 §2.1\n"), "no title given: {markdown}");
    assert!(text.contains("\n  §1 Frames\n"), "{text}");
}

#[test]
fn a_removed_annotation_leaves_its_requirement_untraced() {
    let trace = fixture("missing_annotation");
    assert_eq!(problems(&trace), Vec::<String>::new(), "untraced is not a problem");
    let entry = trace.get("9999-2.1-1").expect("the entry");
    assert_eq!(entry.status, Status::Untraced(vec![Gap::NoAnnotation]));
    assert_eq!(trace.summary(), "2 of 3 requirements traced to code and test");
    let missing = report::text(&trace, true);
    assert!(missing.contains("9999-2.1-1"), "{missing}");
    assert!(missing.contains("untraced (no code annotation)"), "{missing}");
    assert!(!missing.contains("9999-1-1 "), "--missing lists only the untraced: {missing}");
    assert_ne!(report::markdown(&trace), report::markdown(&fixture("good")));
}

#[test]
fn a_renamed_test_is_a_problem() {
    let trace = fixture("renamed_test");
    assert_eq!(
        problems(&trace),
        ["conformance/requirements/9999.toml: 9999-1-1: cited test missing: \
             tests/limits.rs::rejects_long_frame (no fn rejects_long_frame)"]
    );
    let entry = trace.get("9999-1-1").expect("the entry");
    assert_eq!(entry.status, Status::Untraced(vec![Gap::MissingTest]));
    assert!(report::text(&trace, true).contains("tests/limits.rs::rejects_long_frame (MISSING)"));
}

#[test]
fn every_kind_of_problem_is_reported() {
    let trace = fixture("broken");
    let place = "conformance/requirements/9999.toml";
    assert_eq!(
        problems(&trace),
        [
            format!("{place}: 9999-1-1: duplicate id (first in {place})"),
            format!("{place}: 9999-1-2: id does not match section \"2\""),
            format!(
                "{place}: 9999-1-2: unknown level \"OUGHT\" (one of MUST, MUST NOT, REQUIRED, \
                 SHALL, SHALL NOT, SHOULD, SHOULD NOT, MAY)"
            ),
            format!(
                "{place}: 9999-1-2: unknown binds \"proxy\" (one of client, server, sender, \
                 receiver, both, encoder, decoder, intermediary)"
            ),
            "src/lib.rs:9: malformed annotation \"t.min(0xfe) // req soon\"".to_string(),
            "src/lib.rs:7: annotation names unknown requirement 9999-2.1-1".to_string(),
            "src/lib.rs:7: annotation names exempt requirement 9999-2.1-2".to_string(),
            format!(
                "{place}: 9999-1-1: cited test missing: tests/limits.rs::rejects_long_frame_helper \
                 (fn rejects_long_frame_helper is not a #[test])"
            ),
            format!("{place}: 9999-1-1: cited test missing: case:demo/2 (no such server case)"),
            format!(
                "{place}: 9999-1-1: cited test missing: limits.rs (not file.rs::fn, case:<id> \
                 or client-case:<id>)"
            ),
        ]
    );
    let markdown = report::markdown(&trace);
    assert!(markdown.contains("## Problems (10)"), "{markdown}");
}

#[test]
fn annotation_syntax() {
    let ids = |line: &str| parse_line(line);
    assert_eq!(ids("    // req 9113-6.9.1-3"), Some(vec!["9113-6.9.1-3".to_string()]));
    assert_eq!(
        ids("x(); // req 9113-4.1-1, 9113-4.1-2 9113-A-1 (why)"),
        Some(vec!["9113-4.1-1".into(), "9113-4.1-2".into(), "9113-A-1".into()])
    );
    assert_eq!(ids("// RFC 9113 §6.9.1"), None);
    assert_eq!(ids("/// req 9113-6.9.1-3"), None);
    assert_eq!(ids("//! see `// req 9113-6.9.1-3`"), None);
    assert_eq!(ids("let s = \"// req 9113-6.9.1-3\";"), None);
    assert_eq!(ids("// requests are bounded"), None);
    assert_eq!(ids("// req later"), Some(vec![]));
}
