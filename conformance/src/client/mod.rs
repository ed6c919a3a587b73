//! The client-role suite: the runner plays a scripted *server* on a loopback listener and
//! h2proto's client, driven through one runtime, makes one `GET /` per case.
//!
//! Each case checks two things: what the client sends back on the wire (the GOAWAY or
//! RST_STREAM with the code RFC 9113 requires, or nothing when the server did nothing
//! wrong), and what the application sees (a response, or an error). Case ids are
//! `client/<n>`; doc comments cite the RFC rule.

mod drivers;

use crate::peer::{Ev, Peer, raw};
use crate::runner::{CaseResult, Report};
use crate::server::Runtime;
use crate::verdict::{self, Failure, Outcome, Verdict};
use h2proto::frame::{Frame, FrameType, GoAway, Headers, RstStream, SettingId};
use h2proto::{ErrorCode, StreamId};
use std::net::TcpListener;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(2);

/// What the client must send back.
#[derive(Clone, Copy, Debug)]
enum Wire {
    /// A GOAWAY with this code.
    Goaway(ErrorCode),
    /// A RST_STREAM on stream 1 with this code.
    Rst(ErrorCode),
    /// No GOAWAY with an error and no RST_STREAM.
    Quiet,
}

/// What the application must see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum App {
    /// A 2xx response with the body `hello`.
    Hello,
    /// An error.
    Fails,
}

struct ClientCase {
    desc: &'static str,
    script: fn(&mut Peer) -> Outcome,
    wire: Wire,
    app: App,
}

const fn case(
    desc: &'static str,
    script: fn(&mut Peer) -> Outcome,
    wire: Wire,
    app: App,
) -> ClientCase {
    ClientCase { desc, script, wire, app }
}

const PROTOCOL: ErrorCode = ErrorCode::PROTOCOL_ERROR;

static CASES: &[ClientCase] = &[
    case("A plain response: accepted", plain, Wire::Quiet, App::Hello),
    case("1xx (103) then the final response: accepted", informational, Wire::Quiet, App::Hello),
    case("A response with trailers: accepted", trailers, Wire::Quiet, App::Hello),
    case(
        "The response head in HEADERS + 2 CONTINUATION: accepted",
        continuations,
        Wire::Quiet,
        App::Hello,
    ),
    case(
        "GOAWAY (last stream 1) then the response: accepted",
        goaway_after,
        Wire::Quiet,
        App::Hello,
    ),
    case("A PING from the server: answered, request unharmed", ping, Wire::Quiet, App::Hello),
    case(
        "Uppercase field name in the response: RST_STREAM PROTOCOL_ERROR",
        uppercase,
        Wire::Rst(PROTOCOL),
        App::Fails,
    ),
    case(
        "Response without :status: RST_STREAM PROTOCOL_ERROR",
        no_status,
        Wire::Rst(PROTOCOL),
        App::Fails,
    ),
    case(
        "Request pseudo-header :path in a response: RST_STREAM PROTOCOL_ERROR",
        path_in_response,
        Wire::Rst(PROTOCOL),
        App::Fails,
    ),
    case(
        "Connection-specific field in a response: RST_STREAM PROTOCOL_ERROR",
        connection_field,
        Wire::Rst(PROTOCOL),
        App::Fails,
    ),
    case(
        "content-length larger than the DATA: RST_STREAM PROTOCOL_ERROR",
        content_length,
        Wire::Rst(PROTOCOL),
        App::Fails,
    ),
    case(
        "1xx with END_STREAM: RST_STREAM PROTOCOL_ERROR",
        informational_end,
        Wire::Rst(PROTOCOL),
        App::Fails,
    ),
    case(
        "DATA over SETTINGS_MAX_FRAME_SIZE: GOAWAY FRAME_SIZE_ERROR",
        oversized,
        Wire::Goaway(ErrorCode::FRAME_SIZE_ERROR),
        App::Fails,
    ),
    case(
        "Connection window pushed past 2^31-1: GOAWAY FLOW_CONTROL_ERROR",
        window_overflow,
        Wire::Goaway(ErrorCode::FLOW_CONTROL_ERROR),
        App::Fails,
    ),
    case(
        "Stream window pushed past 2^31-1: RST_STREAM FLOW_CONTROL_ERROR",
        stream_window_overflow,
        Wire::Rst(ErrorCode::FLOW_CONTROL_ERROR),
        App::Fails,
    ),
    case(
        "PUSH_PROMISE with push disabled: GOAWAY PROTOCOL_ERROR",
        push_promise,
        Wire::Goaway(PROTOCOL),
        App::Fails,
    ),
    case(
        "SETTINGS_ENABLE_PUSH = 1 from a server: GOAWAY PROTOCOL_ERROR",
        enable_push,
        Wire::Goaway(PROTOCOL),
        App::Fails,
    ),
    case(
        "PRIORITY_UPDATE from a server: GOAWAY PROTOCOL_ERROR",
        priority_update,
        Wire::Goaway(PROTOCOL),
        App::Fails,
    ),
    case(
        "DATA on stream 0: GOAWAY PROTOCOL_ERROR",
        data_stream_0,
        Wire::Goaway(PROTOCOL),
        App::Fails,
    ),
    case(
        "CONTINUATION interrupted by DATA: GOAWAY PROTOCOL_ERROR",
        interrupted_block,
        Wire::Goaway(PROTOCOL),
        App::Fails,
    ),
    case(
        "Invalid server preface (PING first): GOAWAY PROTOCOL_ERROR",
        bad_preface,
        Wire::Goaway(PROTOCOL),
        App::Fails,
    ),
    case(
        "Our SETTINGS never acknowledged: GOAWAY SETTINGS_TIMEOUT",
        no_settings_ack,
        Wire::Goaway(ErrorCode::SETTINGS_TIMEOUT),
        App::Fails,
    ),
    case(
        "GOAWAY (last stream 0) mid-request: the request fails",
        goaway_before,
        Wire::Quiet,
        App::Fails,
    ),
    case(
        "RST_STREAM REFUSED_STREAM: the request fails, no reset back",
        refused,
        Wire::Quiet,
        App::Fails,
    ),
];

/// How many cases the client suite has (`client/1` to `client/<count>`).
pub fn case_count() -> usize {
    CASES.len()
}

/// Every client case id (`client/1`, ...), in order: what `client-case:<id>` test
/// references of the requirements check resolve against.
pub fn case_ids() -> Vec<String> {
    (1..=CASES.len()).map(|i| format!("client/{i}")).collect()
}

/// Client test doubles: h2proto's core client with one kind of frame it writes removed
/// (`tests/doubles.rs` asserts exactly which cases each must fail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientDouble {
    /// Never sends RST_STREAM: a malformed response is not reset.
    NeverResets,
    /// Never sends GOAWAY: a connection error is not announced.
    NeverSendsGoaway,
}

/// Runs the client suite with h2proto's client on `runtime`.
pub fn run(runtime: Runtime, only: &[String]) -> Report {
    run_with(Driver::Runtime(runtime), only)
}

/// Runs the client suite with a client double.
pub fn run_double(double: ClientDouble, only: &[String]) -> Report {
    run_with(Driver::Double(double), only)
}

/// The client a case drives.
#[derive(Clone, Copy, Debug)]
enum Driver {
    Runtime(Runtime),
    Double(ClientDouble),
}

impl Driver {
    fn get(self, addr: std::net::SocketAddr) -> drivers::Outcome {
        match self {
            Driver::Runtime(r) => drivers::get(r, addr),
            Driver::Double(ClientDouble::NeverResets) => {
                drivers::core_double(addr, h2proto::frame::FrameType::RST_STREAM)
            }
            Driver::Double(ClientDouble::NeverSendsGoaway) => {
                drivers::core_double(addr, h2proto::frame::FrameType::GOAWAY)
            }
        }
    }
}

fn run_with(runtime: Driver, only: &[String]) -> Report {
    let start = Instant::now();
    let selected: Vec<(String, &ClientCase)> = CASES
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("client/{}", i + 1), c))
        .filter(|(id, _)| crate::runner::selected(id, only))
        .collect();
    // One thread per case; a case whose thread panics is reported as failed with the panic's
    // message, so every selected case has a result.
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = selected
            .iter()
            .map(|(id, case)| {
                let handle = scope.spawn(move || {
                    let started = Instant::now();
                    (run_case(runtime, case), started.elapsed())
                });
                (id, case, handle)
            })
            .collect();
        handles
            .into_iter()
            .map(|(id, case, handle)| {
                let (outcome, elapsed) = handle.join().unwrap_or_else(|payload| {
                    (Err(verdict::panicked(payload.as_ref())), Duration::ZERO)
                });
                CaseResult {
                    id: id.clone(),
                    section: "client",
                    title: "Client role (RFC 9113 as the client must apply it)",
                    desc: case.desc,
                    verdict: Verdict::from_outcome(outcome, true),
                    elapsed,
                }
            })
            .collect()
    });
    Report { results, elapsed: start.elapsed() }
}

fn run_case(runtime: Driver, case: &ClientCase) -> Outcome {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| Failure::new("a listener", e.to_string()))?;
    let addr = listener.local_addr().map_err(|e| Failure::new("a listener", e.to_string()))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(runtime.get(addr));
    });
    let sock = accept(&listener)?;
    let mut peer = Peer::accept(sock, WAIT)?;
    (case.script)(&mut peer)?;
    let wire = match case.wire {
        Wire::Goaway(code) => peer.expect_connection_error(&[code]),
        Wire::Rst(code) => peer.expect_stream_error(1, &[code], false),
        Wire::Quiet => Ok(()),
    };
    let result = rx.recv_timeout(Duration::from_secs(4));
    let wire = match (wire, case.wire) {
        (Ok(()), Wire::Quiet) => quiet(&mut peer),
        (other, _) => other,
    };
    drop(peer);
    let app = match (result, case.app) {
        (Ok(Ok((status, body))), App::Hello)
            if (200..300).contains(&status) && body == b"hello" =>
        {
            Ok(())
        }
        (Ok(Err(_)), App::Fails) => Ok(()),
        (Ok(got), expected) => Err(Failure::new(
            match expected {
                App::Hello => "the application gets 200 with the body \"hello\"",
                App::Fails => "the application gets an error",
            },
            match got {
                Ok((status, body)) => {
                    format!("status {status}, body {:?}", String::from_utf8_lossy(&body))
                }
                Err(e) => format!("error {e}"),
            },
        )),
        (Err(RecvTimeoutError::Disconnected), _) => {
            Err(Failure::new("the request to complete", "the client's thread panicked"))
        }
        (Err(RecvTimeoutError::Timeout), _) => {
            Err(Failure::new("the request to complete", "no result within 4 s"))
        }
    };
    wire.and(app)
}

fn accept(listener: &TcpListener) -> Result<std::net::TcpStream, Failure> {
    let _ = listener.set_nonblocking(true);
    let deadline = Instant::now() + WAIT;
    loop {
        match listener.accept() {
            Ok((sock, _)) => {
                let _ = sock.set_nonblocking(false);
                return Ok(sock);
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(Failure::new("the client to connect", e.to_string())),
        }
    }
}

/// After the request completed: nothing the client sent may be an error reaction.
fn quiet(peer: &mut Peer) -> Outcome {
    let deadline = Instant::now() + Duration::from_millis(100);
    loop {
        let ev = peer.next(deadline);
        match &ev {
            Ev::Frame(Frame::GoAway(g)) if g.error_code != ErrorCode::NO_ERROR => {
                return Err(Failure::new("no error reaction from the client", peer.describe(&ev)));
            }
            Ev::Frame(Frame::RstStream(_)) | Ev::Invalid(_) => {
                return Err(Failure::new("no error reaction from the client", peer.describe(&ev)));
            }
            Ev::Frame(_) => {}
            Ev::Timeout | Ev::Closed(_) => return Ok(()),
        }
    }
}

// ----- The scripted server -----

/// The server preface, then the client's request: returns its stream.
fn start(peer: &mut Peer) -> Result<u32, Failure> {
    peer.settings(&[]);
    request(peer)
}

fn request(peer: &mut Peer) -> Result<u32, Failure> {
    request_within(peer, WAIT)
}

fn request_within(peer: &mut Peer, wait: Duration) -> Result<u32, Failure> {
    let deadline = Instant::now() + wait;
    loop {
        let ev = peer.next(deadline);
        match &ev {
            Ev::Frame(Frame::Headers(_) | Frame::Continuation(_)) => {
                if let Some((id, _, _)) = peer.take_block() {
                    return Ok(id);
                }
            }
            Ev::Frame(_) => {}
            _ => return Err(Failure::new("the client's request HEADERS", peer.describe(&ev))),
        }
    }
}

fn head(peer: &mut Peer, id: u32, fields: &[(&str, &str)], end: bool) {
    peer.headers(id, fields, end);
}

fn hello(peer: &mut Peer, id: u32) {
    head(peer, id, &[(":status", "200")], false);
    peer.data(id, b"hello", true);
}

/// RFC 9113 §8.1: an ordinary response.
fn plain(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    hello(peer, id);
    Ok(())
}

/// RFC 9113 §8.1: any number of 1xx responses may precede the final one.
fn informational(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    head(peer, id, &[(":status", "103"), ("link", "</style.css>; rel=preload")], false);
    hello(peer, id);
    Ok(())
}

/// RFC 9113 §8.1: a trailer section ends the response.
fn trailers(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    head(peer, id, &[(":status", "200")], false);
    peer.data(id, b"hello", false);
    head(peer, id, &[("x-checksum", "1")], true);
    Ok(())
}

/// RFC 9113 §6.10: a field block continued in CONTINUATION frames.
fn continuations(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    let block =
        peer.block(&[(":status", "200"), ("x-a", &"a".repeat(40)), ("x-b", &"b".repeat(40))]);
    let third = block.len() / 3;
    let mut headers = Headers::new(StreamId(id), block.slice(..third), false);
    headers.end_headers = false;
    peer.send(headers);
    peer.continuation(id, block.slice(third..2 * third), false);
    peer.continuation(id, block.slice(2 * third..), true);
    peer.data(id, b"hello", true);
    Ok(())
}

/// RFC 9113 §6.8: streams up to the GOAWAY's last stream id still complete.
fn goaway_after(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    peer.send(GoAway::new(StreamId(id), ErrorCode::NO_ERROR));
    hello(peer, id);
    Ok(())
}

/// RFC 9113 §6.7: the client answers a PING.
fn ping(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    peer.send(h2proto::frame::Ping { ack: false, payload: *b"server!!" });
    let deadline = Instant::now() + WAIT;
    loop {
        let ev = peer.next(deadline);
        match &ev {
            Ev::Frame(Frame::Ping(p)) if p.ack && &p.payload == b"server!!" => break,
            Ev::Frame(_) => {}
            _ => return Err(Failure::new("a PING ACK from the client", peer.describe(&ev))),
        }
    }
    hello(peer, id);
    Ok(())
}

/// RFC 9113 §8.2.1: uppercase field names make a response malformed (§8.1.1: stream error
/// PROTOCOL_ERROR).
fn uppercase(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    head(peer, id, &[(":status", "200"), ("X-Upper", "1")], false);
    peer.data(id, b"hello", true);
    Ok(())
}

/// RFC 9113 §8.3.2: a response must carry `:status`.
fn no_status(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    head(peer, id, &[("content-type", "text/plain")], false);
    peer.data(id, b"hello", true);
    Ok(())
}

/// RFC 9113 §8.3: request pseudo-headers are not allowed in responses.
fn path_in_response(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    head(peer, id, &[(":status", "200"), (":path", "/")], false);
    peer.data(id, b"hello", true);
    Ok(())
}

/// RFC 9113 §8.2.2: connection-specific fields make a response malformed.
fn connection_field(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    head(peer, id, &[(":status", "200"), ("connection", "close")], false);
    peer.data(id, b"hello", true);
    Ok(())
}

/// RFC 9113 §8.1.1: content-length must match the DATA received.
fn content_length(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    head(peer, id, &[(":status", "200"), ("content-length", "10")], false);
    peer.data(id, b"hello", true);
    Ok(())
}

/// RFC 9113 §8.1: a 1xx response that ends the stream is malformed.
fn informational_end(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    head(peer, id, &[(":status", "103")], true);
    Ok(())
}

/// RFC 9113 §4.2: a frame over the client's SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR;
/// DATA may be a connection error.
fn oversized(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    let max = peer.server_setting(SettingId::MAX_FRAME_SIZE).unwrap_or(1 << 14) as usize;
    head(peer, id, &[(":status", "200")], false);
    peer.data(id, vec![b'x'; max + 1], true);
    Ok(())
}

/// RFC 9113 §6.9.1: a connection window over 2^31-1 is a connection error
/// FLOW_CONTROL_ERROR.
fn window_overflow(peer: &mut Peer) -> Outcome {
    let _ = start(peer)?;
    peer.window_update(0, (1 << 31) - 1);
    peer.window_update(0, (1 << 31) - 1);
    Ok(())
}

/// RFC 9113 §6.9.1: a stream window over 2^31-1 is a stream error FLOW_CONTROL_ERROR.
fn stream_window_overflow(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    peer.window_update(id, (1 << 31) - 1);
    peer.window_update(id, (1 << 31) - 1);
    Ok(())
}

/// RFC 9113 §8.4: a client that disabled push must treat PUSH_PROMISE as a connection
/// error PROTOCOL_ERROR.
fn push_promise(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    if peer.server_setting(SettingId::ENABLE_PUSH) != Some(0) {
        return Err(Failure::skip("the client did not disable push"));
    }
    let block = peer.block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/pushed"),
        (":authority", "x"),
    ]);
    peer.send(h2proto::frame::PushPromise {
        stream_id: StreamId(id),
        promised_id: StreamId(2),
        fragment: block,
        end_headers: true,
        pad_len: None,
    });
    Ok(())
}

/// RFC 9113 §6.5.2: a client must treat SETTINGS_ENABLE_PUSH = 1 from a server as a
/// connection error PROTOCOL_ERROR.
fn enable_push(peer: &mut Peer) -> Outcome {
    peer.settings(&[(SettingId::ENABLE_PUSH, 1)]);
    Ok(())
}

/// RFC 9218 §7.1: a client receiving PRIORITY_UPDATE must answer with a connection error
/// PROTOCOL_ERROR.
fn priority_update(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    peer.send_raw(raw(FrameType::PRIORITY_UPDATE, 0).payload(id.to_be_bytes()).append("u=1"));
    Ok(())
}

/// RFC 9113 §6.1: DATA on stream 0 is a connection error PROTOCOL_ERROR.
fn data_stream_0(peer: &mut Peer) -> Outcome {
    let _ = start(peer)?;
    peer.data(0, b"hello", false);
    Ok(())
}

/// RFC 9113 §6.10: a field block must not be interrupted.
fn interrupted_block(peer: &mut Peer) -> Outcome {
    let id = start(peer)?;
    let block = peer.block(&[(":status", "200")]);
    let mut headers = Headers::new(StreamId(id), block, false);
    headers.end_headers = false;
    peer.send(headers);
    peer.data(id, b"hello", true);
    Ok(())
}

/// RFC 9113 §3.4: the server's preface must be a SETTINGS frame; anything else is a
/// connection error PROTOCOL_ERROR (the GOAWAY may be omitted, a lenient failure here).
fn bad_preface(peer: &mut Peer) -> Outcome {
    peer.ping(*b"notfirst");
    Ok(())
}

/// RFC 9113 §6.5.3: SETTINGS not acknowledged in time may be a connection error
/// SETTINGS_TIMEOUT (the client's timeout is set to 0.8 s for the suite).
fn no_settings_ack(peer: &mut Peer) -> Outcome {
    peer.auto_ack = false;
    peer.settings(&[]);
    let _ = request(peer)?;
    Ok(())
}

/// RFC 9113 §6.8: a GOAWAY whose last stream id is below the request's means it was not
/// processed; the application learns it failed (and may retry).
fn goaway_before(peer: &mut Peer) -> Outcome {
    let _ = start(peer)?;
    peer.send(GoAway::new(StreamId(0), ErrorCode::NO_ERROR));
    Ok(())
}

/// RFC 9113 §6.4, §5.4.2: a reset stream is closed; the client must not reset it back.
/// REFUSED_STREAM means unprocessed (§8.7), so a client may send the request again: every
/// attempt is refused, and in the end the application sees the error.
fn refused(peer: &mut Peer) -> Outcome {
    let mut id = start(peer)?;
    for _ in 0..16 {
        peer.send(RstStream::new(StreamId(id), ErrorCode::REFUSED_STREAM));
        match request_within(peer, Duration::from_millis(300)) {
            Ok(next) => id = next,
            Err(_) => break,
        }
    }
    Ok(())
}
