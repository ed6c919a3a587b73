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
    assert_fails_exactly_or_by_timing(double, expected, &[]);
}

/// As `assert_fails_exactly`, for a double whose broken rule some other cases use only as
/// set-up: those `by_timing` may fail too, and whether they do depends on how the server's
/// reads and writes interleave, not on any rule (every other case still has to pass).
fn assert_fails_exactly_or_by_timing(double: Double, expected: &[&str], by_timing: &[&str]) {
    let server = double.spawn().expect("the double starts");
    let report = run(&server, true);
    let failed: Vec<_> =
        report.failed_ids().into_iter().filter(|id| !by_timing.contains(id)).collect();
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

/// A response sent before the RST_STREAM or GOAWAY does not pass: where the frame under
/// test is the request head itself, the server answered what it had to reject.
#[test]
fn answering_before_rejecting_is_caught() {
    // The cases whose frame under test is the request head itself, or a frame on a stream
    // the client never opened with a whole head: a response there cannot predate it. Where
    // the client sent a head and then the offending frame (a body, a WINDOW_UPDATE,
    // trailers), the server may have answered the head first, so those cases still pass.
    assert_fails_exactly(
        Double::AnswersBeforeRejecting,
        &[
            "http2/4.2/3",
            "http2/4.3/1",
            "http2/4.3/2",
            "http2/4.3/3",
            "http2/5.1/1",
            "http2/5.1/2",
            "http2/5.1/3",
            "http2/5.1/4",
            "http2/5.1.1/1",
            "http2/5.1.1/2",
            "http2/5.1.2/1",
            "http2/5.3.1/1",
            "http2/6.2/1",
            "http2/6.2/2",
            "http2/6.2/4",
            "http2/6.4/2",
            "http2/6.5/2",
            "http2/6.7/3",
            "http2/6.8/1",
            "http2/6.10/2",
            "http2/6.10/7",
            "http2/8.1.2/1",
            "http2/8.1.2.1/1",
            "http2/8.1.2.1/2",
            "http2/8.1.2.1/4",
            "http2/8.1.2.2/1",
            "http2/8.1.2.2/2",
            "http2/8.1.2.3/1",
            "http2/8.1.2.3/2",
            "http2/8.1.2.3/3",
            "http2/8.1.2.3/4",
            "http2/8.1.2.3/5",
            "http2/8.1.2.3/6",
            "http2/8.1.2.3/7",
            "hpack/2.3.3/1",
            "hpack/2.3.3/2",
            "hpack/4.2/1",
            "hpack/5.2/1",
            "hpack/5.2/2",
            "hpack/5.2/3",
            "hpack/6.1/1",
            "hpack/6.3/1",
            "rfc9113/8.2.1/1",
            "rfc9113/8.2.1/2",
            "rfc9113/8.2.1/3",
            "rfc9113/8.2.1/4",
            "rfc9113/8.2.1/5",
            "rfc9113/8.2.1/6",
            "rfc9113/8.2.1/7",
            "rfc9113/8.2.2/1",
            "rfc9113/8.2.2/2",
            "rfc9113/8.2.2/3",
            "rfc9113/8.2.2/4",
            "rfc9113/8.3.1/3",
            "rfc9113/8.5/1",
            "rfc9113/8.5/2",
            "rfc8441/4/2",
            "rfc8441/4/3",
            "rfc8441/4/4",
        ],
    );
}

#[test]
fn accepting_any_preface_is_caught() {
    assert_fails_exactly(Double::AcceptsAnyPreface, &["http2/3.5/2"]);
}

#[test]
fn rejecting_unknown_error_codes_is_caught() {
    assert_fails_exactly(Double::RejectsUnknownErrorCodes, &["http2/7/1", "http2/7/2"]);
}

#[test]
fn ignoring_priority_update_is_caught() {
    // The error cases: PRIORITY_UPDATE on stream 1, for stream 0, for an idle push stream,
    // too many idle streams prioritized; the cases where it is accepted still pass.
    assert_fails_exactly(
        Double::IgnoresPriorityUpdate,
        &["rfc9218/7.1/4", "rfc9218/7.1/5", "rfc9218/7.1/6", "rfc9218/7.1/7"],
    );
}

#[test]
fn lifting_the_flood_limits_is_caught() {
    // Every flood the core meets with a rate or count limit; the endless field block and the
    // HPACK bomb are bounded by the header list size, which the double keeps.
    assert_fails_exactly(
        Double::NoFloodLimits,
        &["dos/1", "dos/2", "dos/5", "dos/6", "dos/7", "dos/8", "dos/9"],
    );
}

/// Client doubles: the core client with its RST_STREAMs, or its GOAWAYs, removed fails
/// exactly the client cases that require one.
#[test]
fn client_doubles_are_caught() {
    use h2proto_conformance::client::{self, ClientDouble};
    let report = client::run_double(ClientDouble::NeverResets, &[]);
    let resets =
        ["client/7", "client/8", "client/9", "client/10", "client/11", "client/12", "client/15"];
    assert_eq!(report.failed_ids(), resets, "{}", report.table());
    let report = client::run_double(ClientDouble::NeverSendsGoaway, &[]);
    let goaways = [
        "client/13",
        "client/14",
        "client/16",
        "client/17",
        "client/18",
        "client/19",
        "client/20",
        "client/21",
        "client/22",
    ];
    assert_eq!(report.failed_ids(), goaways, "{}", report.table());
}

#[test]
fn ignoring_content_length_is_caught() {
    assert_fails_exactly(Double::IgnoresContentLength, &["http2/8.1.2.6/1", "http2/8.1.2.6/2"]);
}

#[test]
fn ignoring_the_initial_window_size_is_caught() {
    // Every case that watches a stream window the client set: the window of 1 (and 3) that
    // must hold DATA to that size, the change after HEADERS, the negative window, the
    // overflow by a change, and the last-value-wins rule. The half-closed (remote) cases
    // hold their stream open with a zero window only; this double may finish the response
    // (closing the stream) before their frame arrives, which is then a connection error.
    assert_fails_exactly_or_by_timing(
        Double::IgnoresInitialWindowSize,
        &[
            "generic/2/2",
            "generic/2/3",
            "http2/6.5.3/1",
            "http2/6.9.1/1",
            "http2/6.9.2/1",
            "http2/6.9.2/2",
            "http2/6.9.2/4",
        ],
        &["http2/5.1/5", "http2/5.1/6", "http2/6.1/2"],
    );
}

#[test]
fn accepting_a_zero_window_update_is_caught() {
    assert_fails_exactly(Double::AcceptsZeroWindowUpdate, &["http2/6.9/1", "http2/6.9/2"]);
}

#[test]
fn rejecting_unknown_frame_types_is_caught() {
    // An unknown frame inside a field block is an error either way (http2/5.5/2 passes).
    assert_fails_exactly(Double::RejectsUnknownFrameTypes, &["http2/4.1/1", "http2/5.5/1"]);
}
