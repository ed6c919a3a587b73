//! The client's request timeouts (issue 15) against raw servers that stall, trickle or hold
//! a stream: a response that stops after its head or mid-body fails with
//! `TimedOut(Stalled)`, one that keeps trickling passes the stall timeout and fails only the
//! whole-request timeout; each timeout resets its stream with CANCEL (RFC 9113 §7), which
//! the server sees, and the next request runs on the same connection. A request still
//! queued for a stream (RFC 9113 §5.1.2) or waiting out a reconnect's backoff times out
//! unsent. Timings are only the tests'
//! inputs; the assertions are outcomes (and a bound far above the timeouts, so a timeout
//! that did not fire, leaving only a default one, is caught).

mod support;

use bytes::Bytes;
use h2proto::frame::StreamId;
use h2proto::pool::Backoff;
use h2proto::{Config, ErrorCode, Event, Initiator};
use h2proto_mio::{Client, Error, ErrorKind, RequestTimeout, Timeout};
use http::Request;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use support::*;

const MS: Duration = Duration::from_millis(1);
/// Far above every timeout the tests set, far below the defaults (60 s stall).
const BOUND: Duration = Duration::from_secs(10);

/// The timeout an error reports (panics on any other error).
fn timeout_of(e: &Error) -> Timeout {
    e.timeout().unwrap_or_else(|| panic!("not a timeout: {e:?}"))
}

/// A raw server for one connection: `misbehave` plays the first request's stream (and
/// returns the events it saw), the client's reset of it is reported on the returned
/// channel, then the second request is answered `ok` on the same connection.
fn server(
    misbehave: impl FnOnce(&mut RawPeer, StreamId) -> Vec<Event> + Send + 'static,
) -> (std::net::SocketAddr, mpsc::Receiver<ErrorCode>, thread::JoinHandle<()>) {
    let (reset_tx, resets) = mpsc::channel();
    let (addr, serving) = one_connection_server_with(Config::default(), move |mut peer| {
        let id = peer.next_request();
        let seen = misbehave(&mut peer, id);
        let code = match reset_of(&seen, id) {
            Some((code, initiator)) => {
                assert_eq!(initiator, Initiator::Remote);
                code
            }
            None => peer.wait_reset(id),
        };
        reset_tx.send(code).unwrap();
        let second = peer.next_request();
        peer.send_head(second);
        peer.send_body(second, b"ok", true);
        peer.close_gracefully();
    });
    (addr, resets, serving)
}

/// The second request succeeds on the connection the first timed out on.
fn second_request_on_the_same_connection(client: &Client) {
    let response = client.request(Request::get("/second").body("").unwrap()).unwrap();
    assert_eq!(response.body(), "ok");
    assert_eq!(client.connects(), 1, "a timeout must not cost the connection");
}

/// GET /first: its body, or the error; panics if it took longer than [`BOUND`].
fn get(client: &Client) -> Result<Bytes, Error> {
    send(client, Request::get("/first").body("").unwrap())
}

fn send(client: &Client, request: Request<&'static str>) -> Result<Bytes, Error> {
    let started = Instant::now();
    let result = client.request(request).map(|response| response.into_body());
    assert!(started.elapsed() < BOUND, "took {:?}: {result:?}", started.elapsed());
    result
}

#[test]
fn a_response_that_stops_after_its_head_fails_as_stalled() {
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|peer, id| {
        peer.send_head(id);
        Vec::new()
    });
    let client = Client::builder(addr).stall_timeout(Some(300 * MS)).connect().unwrap();
    // Stalled before the head (a slow test machine) or after it: the same error.
    let error = get(&client).unwrap_err();
    assert_eq!(timeout_of(&error), Timeout::Stalled);
    assert!(matches!(error.kind(), ErrorKind::TimedOut(_)), "{error:?}");
    assert!(!error.is_retry_safe(), "it was sent: it may have been processed");
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn a_response_that_stops_mid_body_fails_as_stalled() {
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|peer, id| {
        peer.send_head(id);
        peer.send_body(id, &[7; 100], false);
        Vec::new()
    });
    let client = Client::builder(addr).stall_timeout(Some(300 * MS)).connect().unwrap();
    assert_eq!(timeout_of(&get(&client).unwrap_err()), Timeout::Stalled);
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn a_trickling_response_passes_the_stall_timeout() {
    // A byte every 100 ms for 3 s: longer in all than the stall timeout (1 s), never that
    // long without a byte, and within the whole-request timeout (60 s, past the bound).
    let _w = watchdog(60);
    let body: Vec<u8> = (0..30).collect();
    let sent = body.clone();
    let (addr, serving) = one_connection_server_with(Config::default(), move |mut peer| {
        let id = peer.next_request();
        peer.send_head(id);
        let seen = peer.trickle(id, &sent, 100 * MS);
        assert_eq!(reset_of(&seen, id), None, "{seen:?}");
        peer.close_gracefully();
    });
    let client = Client::builder(addr)
        .stall_timeout(Some(1000 * MS))
        .request_timeout(Some(Duration::from_secs(60)))
        .connect()
        .unwrap();
    assert_eq!(get(&client).unwrap(), body);
    serving.join().unwrap();
}

#[test]
fn the_whole_request_timeout_ends_a_response_that_never_stalls() {
    // A byte every 100 ms for up to 30 s: the stall timeout (default 60 s) never trips, the
    // request timeout (1 s) does, on the head or in the body.
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|peer, id| {
        peer.send_head(id);
        let seen = peer.trickle(id, &[b'x'; 300], 100 * MS);
        assert!(reset_of(&seen, id).is_some(), "trickled to the end: {seen:?}");
        seen
    });
    let client = Client::builder(addr).request_timeout(Some(1000 * MS)).connect().unwrap();
    assert_eq!(timeout_of(&get(&client).unwrap_err()), Timeout::Request);
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn the_whole_request_timeout_ends_a_request_never_answered() {
    // No head at all and the stall timeout off: the request timeout alone ends it.
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|_, _| Vec::new());
    let client = Client::builder(addr)
        .stall_timeout(None)
        .request_timeout(Some(300 * MS))
        .connect()
        .unwrap();
    let error = get(&client).unwrap_err();
    assert_eq!(timeout_of(&error), Timeout::Request);
    assert!(matches!(error.kind(), ErrorKind::TimedOut(_)), "{error:?}");
    assert!(!error.is_retry_safe(), "it may have been processed");
    assert_eq!(std::io::Error::from(error).kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn a_requests_own_timeout_replaces_the_builders() {
    // The builder's 10 minutes would outlast the bound; the request's 300 ms decides.
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|_, _| Vec::new());
    let client = Client::builder(addr)
        .stall_timeout(None)
        .request_timeout(Some(Duration::from_secs(600)))
        .connect()
        .unwrap();
    let mut request = Request::get("/first").body("").unwrap();
    request.extensions_mut().insert(RequestTimeout(Some(300 * MS)));
    assert_eq!(timeout_of(&send(&client, request).unwrap_err()), Timeout::Request);
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn a_request_queued_for_a_stream_times_out_unsent() {
    // SETTINGS_MAX_CONCURRENT_STREAMS 1 (RFC 9113 §5.1.2): with the one stream held, a
    // request waits in the client for it; its timeout fails it there, never sent, and the
    // held request is answered afterwards on the same connection.
    let _w = watchdog(60);
    let (held_tx, held) = mpsc::channel();
    let (go_tx, go) = mpsc::channel::<()>();
    let mut config = Config::default();
    config.max_concurrent_streams = 1;
    let (addr, serving) = one_connection_server_with(config, move |mut peer| {
        // A first request answered: the client has the server's SETTINGS, so its limit.
        let first = peer.next_request();
        peer.send_head(first);
        peer.send_body(first, b"ok", true);
        let holding = peer.next_request();
        held_tx.send(()).unwrap();
        go.recv().unwrap();
        peer.send_head(holding);
        peer.send_body(holding, b"held", true);
        // Until the client has gone.
        peer.exchange_for(Duration::from_secs(20))
    });
    let client = Client::builder(addr).stall_timeout(None).connect().unwrap();
    assert_eq!(get(&client).unwrap(), "ok");
    let (answer_tx, answer) = mpsc::channel();
    client.send(Request::get("/held").body("").unwrap(), move |result| {
        answer_tx.send(result).unwrap();
    });
    held.recv().unwrap();
    let mut queued = Request::get("/queued").body("").unwrap();
    queued.extensions_mut().insert(RequestTimeout(Some(300 * MS)));
    let error = send(&client, queued).unwrap_err();
    assert_eq!(timeout_of(&error), Timeout::Request);
    assert!(matches!(error.kind(), ErrorKind::NotSent(_)), "{error:?}");
    assert!(error.is_retry_safe(), "never sent: safe to send again");
    go_tx.send(()).unwrap();
    let held = answer.recv_timeout(BOUND).unwrap().unwrap();
    assert_eq!(held.body(), "held");
    assert_eq!(client.connects(), 1);
    drop(client);
    let seen = serving.join().unwrap();
    let requests: Vec<_> = seen.iter().filter(|e| matches!(e, Event::Request { .. })).collect();
    assert!(requests.is_empty(), "the timed-out request went out: {requests:?}");
}

#[test]
fn a_request_waiting_for_a_reconnect_times_out_unsent() {
    // The server is gone: a connect fails, and the backoff after it (at least 2.5 s) holds
    // the next request back; its 300 ms timeout fails it while it waits.
    let _w = watchdog(60);
    let server = TestServer::hello_echo(Config::default());
    let client = Client::builder(server.addr)
        .backoff(Backoff { base: Duration::from_secs(5), max: Duration::from_secs(10) })
        .connect()
        .unwrap();
    assert_eq!(get(&client).unwrap(), "hello");
    server.stop();
    let started = Instant::now();
    while client.stats().is_some() {
        assert!(started.elapsed() < BOUND, "the connection to the stopped server never ended");
        thread::sleep(20 * MS);
    }
    let refused = get(&client).unwrap_err();
    assert!(matches!(refused.kind(), ErrorKind::Connect(_)), "{refused:?}");
    let mut waiting = Request::get("/waiting").body("").unwrap();
    waiting.extensions_mut().insert(RequestTimeout(Some(300 * MS)));
    let error = send(&client, waiting).unwrap_err();
    assert_eq!(timeout_of(&error), Timeout::Request);
    assert!(matches!(error.kind(), ErrorKind::NotSent(_)), "{error:?}");
    assert_eq!(client.connects(), 2, "no connect while the backoff runs");
}
