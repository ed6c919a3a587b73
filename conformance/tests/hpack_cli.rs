//! The `hpack` checker command: passes real stories, fails a corrupted one, reports sizes.

use std::path::PathBuf;
use std::process::Command;

fn testdata() -> PathBuf {
    std::env::var("H2PROTO_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata"))
}

fn story(dir: &str, n: u32) -> String {
    testdata()
        .join("hpack-test-case")
        .join(dir)
        .join(format!("story_{n:02}.json"))
        .display()
        .to_string()
}

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_h2proto-conformance"))
        .arg("hpack")
        .args(args)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn decodes_stories_of_every_encoder() {
    let files: Vec<String> = ["nghttp2", "go-hpack", "python-hpack", "node-http2-hpack"]
        .iter()
        .map(|d| story(d, 3))
        .collect();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let (ok, out) = run(&args);
    assert!(ok, "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("PASS ")).count(), 4, "{out}");
    assert_eq!(out.lines().last(), Some("4 passed, 0 failed"));
}

#[test]
fn a_corrupted_story_fails_with_exit_1() {
    let text = std::fs::read_to_string(story("nghttp2", 0)).unwrap();
    // Change one expected header value: the decoded block no longer matches.
    let bad = text.replacen("yahoo.co.jp", "yahoo.co.uk", 1);
    assert_ne!(bad, text);
    let path = std::env::temp_dir().join(format!("h2proto-bad-story-{}.json", std::process::id()));
    std::fs::write(&path, bad).unwrap();
    let (ok, out) = run(&[&story("nghttp2", 1), path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert!(!ok, "{out}");
    assert!(out.lines().any(|l| l.starts_with("FAIL ") && l.contains("expected")), "{out}");
    assert_eq!(out.lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn encode_mode_round_trips_raw_data_and_reports_sizes() {
    let (ok, out) = run(&["--encode", &story("raw-data", 0), &story("raw-data", 1)]);
    assert!(ok, "{out}");
    assert!(out.lines().any(|l| l.starts_with("total: ") && l.contains("encoded")), "{out}");
    let (ok, out) = run(&["--encode", "--table-size", "0", &story("raw-data", 0)]);
    assert!(ok, "{out}");
    assert_eq!(out.lines().last(), Some("1 passed, 0 failed"));
}
