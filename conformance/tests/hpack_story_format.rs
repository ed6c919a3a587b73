//! The `hpack` checker reads every field the hpack-test-case story format allows.
//!
//! The fixtures in `tests/fixtures/hpack/` are small stories written the ways other
//! implementations write theirs: `header_table_size` as `null`, a number or absent, `wire` in
//! either hex case or absent (raw stories), `seqno` absent or `null`, the optional
//! `description`, `draft` and `context` keys, and keys the checker does not know. Each
//! negative test changes one detail of a fixture and shows the checker notices, so the
//! passing runs are not the checker ignoring what it reads.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hpack")
        .join(name)
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

/// Writes `text` to a temporary story file named for `tag`; removed when dropped.
struct TempStory(PathBuf);

impl TempStory {
    fn new(tag: &str, text: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("h2proto-story-{tag}-{}.json", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempStory(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempStory {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

/// A fixture with one substring replaced, which must occur in it.
fn altered(name: &str, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    assert!(text.contains(from), "{name} lacks {from:?}");
    text.replacen(from, to, 1)
}

fn fail_line(out: &str) -> &str {
    out.lines().find(|l| l.starts_with("FAIL ")).unwrap_or_else(|| panic!("no FAIL in {out}"))
}

#[test]
fn every_fixture_passes_in_decode_mode() {
    let files: Vec<String> = [
        "null_table_size.json",
        "minimal_response.json",
        "table_size_update.json",
        "raw_request.json",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let (ok, out) = run(&args);
    assert!(ok, "{out}");
    let pass = |name: &str, cases: &str| {
        assert!(
            out.lines().any(|l| l.starts_with("PASS ") && l.contains(name) && l.contains(cases)),
            "{name}: {out}"
        )
    };
    pass("null_table_size.json", ": 3 cases");
    pass("minimal_response.json", ": 3 cases");
    pass("table_size_update.json", ": 3 cases");
    // No case carries wire data: the headers went through our encoder and back.
    pass("raw_request.json", "2 cases, 153 header bytes -> ");
    assert!(out.contains("(no wire: encoded round trip)"), "{out}");
    assert_eq!(out.lines().last(), Some("4 passed, 0 failed"));
}

#[test]
fn every_fixture_passes_in_encode_mode() {
    let files: Vec<String> = [
        "null_table_size.json",
        "minimal_response.json",
        "table_size_update.json",
        "raw_request.json",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    let mut args = vec!["--encode"];
    args.extend(files.iter().map(String::as_str));
    let (ok, out) = run(&args);
    assert!(ok, "{out}");
    assert!(out.lines().any(|l| l.starts_with("total: ")), "{out}");
    assert_eq!(out.lines().last(), Some("4 passed, 0 failed"));
}

/// The null fixture's blocks are really decoded: a wrong expected value fails it.
#[test]
fn a_null_table_size_story_is_still_checked() {
    let bad =
        TempStory::new("null-wrong", &altered("null_table_size.json", "no-cache", "no-store"));
    let (ok, out) = run(&[bad.path()]);
    assert!(!ok, "{out}");
    assert!(fail_line(&out).contains("case 1: expected"), "{out}");
}

/// RFC 7541 §4.2: a numeric header_table_size is applied, so the block after a shrink to 0
/// must begin with a size update; the same story without it fails.
#[test]
fn a_numeric_table_size_is_applied() {
    let bad = TempStory::new("no-update", &altered("table_size_update.json", "\"2088\"", "\"88\""));
    let (ok, out) = run(&[bad.path()]);
    assert!(!ok, "{out}");
    assert!(fail_line(&out).contains("case 1: decode error"), "{out}");
}

#[test]
fn a_table_size_that_is_not_a_number_fails() {
    let bad = TempStory::new(
        "string-size",
        &altered(
            "table_size_update.json",
            "\"header_table_size\": 4096",
            "\"header_table_size\": \"4096\"",
        ),
    );
    let (ok, out) = run(&[bad.path()]);
    assert!(!ok, "{out}");
    assert!(fail_line(&out).contains("case 0: bad header_table_size \"4096\""), "{out}");
}

/// A story whose later case lacks wire lost a block that changed the encoder's table: it
/// cannot be checked and says so instead of passing or reporting a mismatch.
#[test]
fn a_story_missing_some_wire_fails() {
    let bad =
        TempStory::new("partial", &altered("minimal_response.json", "\"wire\": \"be\", ", ""));
    let (ok, out) = run(&[bad.path()]);
    assert!(!ok, "{out}");
    assert!(fail_line(&out).contains("case 1: no wire, but other cases have one"), "{out}");
}

/// A header object with two keys has no defined order (JSON objects are unordered).
#[test]
fn a_header_object_with_two_fields_fails() {
    let bad = TempStory::new(
        "two-keys",
        &altered(
            "minimal_response.json",
            "{ \":status\": \"302\" } ]",
            "{ \":status\": \"302\", \"a\": \"b\" } ]",
        ),
    );
    let (ok, out) = run(&[bad.path()]);
    assert!(!ok, "{out}");
    assert!(fail_line(&out).contains("case 0: header"), "{out}");
    assert!(fail_line(&out).contains("is not a {name: value} object"), "{out}");
}
