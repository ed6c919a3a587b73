//! The suite is honest: aimed at servers that each break one rule, exactly the cases that
//! check that rule fail, and aimed at the healthy reference server, every case passes.

use h2proto_conformance::doubles::Double;
use h2proto_conformance::runner::{self, Options, Report};
use h2proto_conformance::server::{self, Runtime, Server};
use std::time::Duration;

fn options(strict: bool) -> Options {
    Options { strict, wait: Duration::from_millis(1500), ..Options::default() }
}

fn run(server: &Server, strict: bool) -> Report {
    let addr = server.addr();
    runner::run(addr, &addr.to_string(), &options(strict))
}

fn assert_fails_exactly(double: Double, expected: &[&str]) {
    let server = double.spawn().expect("the double starts");
    let report = run(&server, true);
    let failed = report.failed_ids();
    assert_eq!(failed, expected, "{double:?}:\n{}", report.table());
    assert_eq!(report.skipped(), 0, "{}", report.table());
}

#[test]
fn reference_server_on_the_core_passes_everything_strictly() {
    let server = server::spawn(Runtime::Core, "127.0.0.1:0".parse().unwrap()).unwrap();
    let report = run(&server, true);
    assert_eq!(report.failed(), 0, "{}", report.table());
    assert_eq!(report.warnings() + report.skipped(), 0, "{}", report.table());
    assert!(report.passed() >= 190, "{}", report.table());
}

#[test]
fn data_after_end_stream_is_caught() {
    assert_fails_exactly(Double::DataOnClosedStream, &["generic/4/5"]);
}

#[test]
fn ignoring_data_on_closed_streams_is_caught() {
    assert_fails_exactly(Double::IgnoresDataOnClosed, &["http2/5.1/8", "http2/5.1/11"]);
}

#[test]
fn ignoring_stream_id_parity_is_caught() {
    assert_fails_exactly(Double::IgnoresStreamParity, &["http2/5.1.1/1"]);
}

#[test]
fn acking_settings_twice_is_caught() {
    assert_fails_exactly(Double::AcksSettingsTwice, &["http2/6.5.3/3"]);
}

#[test]
fn never_acking_settings_is_caught() {
    assert_fails_exactly(
        Double::NeverAcksSettings,
        &[
            "generic/1/1",
            "generic/3.5/1",
            "generic/3.5/2",
            "generic/3.5/3",
            "generic/3.5/4",
            "generic/3.5/5",
            "generic/3.5/6",
            "generic/3.5/7",
            "http2/6.5.2/5",
            "http2/6.5.3/2",
            "http2/6.5.3/3",
        ],
    );
}

/// A bare close instead of GOAWAY fails every connection-error case with `--strict`, and
/// only warns without it.
#[test]
fn a_bare_close_instead_of_goaway_fails_strictly_and_warns_otherwise() {
    let server = Double::NeverSendsGoaway.spawn().unwrap();
    let strict = run(&server, true);
    let failed = strict.failed_ids();
    for id in ["http2/5.1/1", "http2/5.4.1/1", "http2/6.5/1", "hpack/6.1/1", "dos/1"] {
        assert!(failed.contains(&id), "{id} should fail:\n{}", strict.table());
    }
    assert!(failed.len() > 60, "{}", strict.table());
    // Cases that expect no error, or allow a bare close (invalid preface), still pass.
    for failed in &failed {
        assert!(!failed.starts_with("generic/"), "{failed}:\n{}", strict.table());
        assert!(!failed.starts_with("http2/3.5/"), "{failed}:\n{}", strict.table());
    }
    let lenient = run(&server, false);
    assert_eq!(lenient.failed(), 0, "{}", lenient.table());
    assert_eq!(lenient.warnings(), failed.len(), "{}", lenient.table());
}
