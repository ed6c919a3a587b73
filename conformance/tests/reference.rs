//! The reference server passes the whole suite on every adapter, h2proto's clients pass the
//! client suite, and the binary's default command reports in the documented form.

use h2proto_conformance::runner::{self, Options};
use h2proto_conformance::server::{self, Runtime};
use h2proto_conformance::verdict::Verdict;
use std::process::Command;

fn check_server(runtime: Runtime) {
    let server = server::spawn(runtime, "127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = server.addr();
    let options = Options { strict: true, ..Options::default() };
    let report = runner::run(addr, &addr.to_string(), &options);
    assert_eq!(report.results.len(), runner::all_cases().len(), "{runtime:?}:\n{}", report.table());
    assert_eq!(report.failed(), 0, "{runtime:?}:\n{}", report.table());
    assert_eq!(report.warnings(), 0, "{runtime:?}:\n{}", report.table());
    for r in &report.results {
        assert!(
            !matches!(r.verdict, Verdict::Skip(_)),
            "{runtime:?} skipped {}:\n{}",
            r.id,
            report.table()
        );
    }
}

#[test]
fn reference_server_on_tokio_passes_everything() {
    check_server(Runtime::Tokio);
}

#[test]
fn reference_server_on_blocking_passes_everything() {
    check_server(Runtime::Blocking);
}

#[test]
fn reference_server_on_mio_passes_everything() {
    check_server(Runtime::Mio);
}

#[test]
fn every_client_passes_the_client_suite() {
    for runtime in [Runtime::Core, Runtime::Tokio, Runtime::Blocking, Runtime::Mio] {
        let report = h2proto_conformance::client::run(runtime, &[]);
        // Every case reports (a panicking one as a failure) and every one passes.
        let count = h2proto_conformance::client::case_count();
        assert_eq!(report.results.len(), count, "{runtime:?}:\n{}", report.table());
        assert_eq!(report.passed(), count, "{runtime:?}:\n{}", report.table());
    }
}

#[test]
fn the_default_command_ends_with_the_summary_line_and_exit_status() {
    let out = Command::new(env!("CARGO_BIN_EXE_h2proto-conformance"))
        .args(["--only", "http2/6.5", "generic/1", "--runtime", "tokio"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("12 passed, 0 failed"), "{stdout}");
    assert!(stdout.contains("http2/6.5.3  Settings Synchronization"), "{stdout}");
}

#[test]
fn a_failing_target_exits_with_status_1_and_writes_reports() {
    let double = h2proto_conformance::doubles::Double::IgnoresStreamParity.spawn().unwrap();
    let dir = std::env::temp_dir().join(format!("h2conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_h2proto-conformance"))
        .args(["run", "--target", &double.addr().to_string(), "--only", "http2/5.1.1"])
        .args(["--timeout", "1", "--report", "json", json.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("2 passed, 1 failed"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["failed"], 1);
    assert_eq!(report["cases"][0]["id"], "http2/5.1.1/1");
    assert_eq!(report["cases"][0]["verdict"], "fail");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A flow-control case aimed at a resource with no content, or too little to show the
/// window, says it could not run: a skip with the reason, printed as such, never a pass.
#[test]
fn flow_control_cases_without_enough_content_are_skipped_with_the_reason() {
    let server = server::spawn(Runtime::Core, "127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = server.addr();
    let only = ["generic/2/2", "http2/6.5.3/1", "http2/6.9.1/1", "http2/6.9.2/1"];
    for path in ["/bytes/0", "/bytes/1"] {
        let options = Options {
            strict: true,
            path: path.into(),
            only: only.iter().map(|s| s.to_string()).collect(),
            ..Options::default()
        };
        let report = runner::run(addr, &addr.to_string(), &options);
        assert_eq!(report.results.len(), only.len(), "{path}:\n{}", report.table());
        for r in &report.results {
            assert!(
                matches!(&r.verdict, Verdict::Skip(why) if why.starts_with("could not run")),
                "{path} {}: {:?}",
                r.id,
                r.verdict
            );
        }
        assert!(report.table().contains("[skip] http2/6.9.1/1"), "{}", report.table());
        assert!(report.table().ends_with("0 passed, 0 failed, 0 warnings, 4 skipped\n"));
    }
}
