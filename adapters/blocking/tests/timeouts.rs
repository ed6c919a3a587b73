//! The client's request timeouts (issue 15) against raw servers that stall or trickle: a
//! response that stops after its head or mid-body fails with `Error::TimedOut(Stalled)`,
//! one that keeps trickling passes the stall timeout and fails only the whole-request
//! timeout; each timeout resets its stream with CANCEL (RFC 9113 §6.4, §7), which the
//! server sees, and the next request runs on the same connection. Dropping a body early
//! sends CANCEL at once. Timings are only the tests' inputs; the assertions are outcomes.

mod support;

use h2proto::frame::StreamId;
use h2proto::{Config, Connection, ErrorCode, Event, Initiator};
use h2proto_blocking::{Body, Client, Error, RequestTimeout, Timeout};
use http::Request;
use std::io::{self, Read};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;
use support::*;

const MS: Duration = Duration::from_millis(1);

/// The timeout an error of this crate reports (panics on any other error).
fn timeout_of(e: &io::Error) -> Timeout {
    assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e:?}");
    match blocking_error(e) {
        Error::TimedOut(which) => *which,
        other => panic!("not a timeout: {other:?}"),
    }
}

/// A raw server for one connection: `misbehave` plays the first request's stream (and
/// returns the events it saw), the client's reset of it is reported on the returned
/// channel, then the second request is answered `ok` on the same connection.
fn server(
    misbehave: impl FnOnce(&mut RawPeer, StreamId) -> Vec<Event> + Send + 'static,
) -> (std::net::SocketAddr, mpsc::Receiver<ErrorCode>, thread::JoinHandle<()>) {
    let (reset_tx, resets) = mpsc::channel();
    let (addr, serving) = one_connection_server(move |mut peer| {
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
    let response = client.request(Request::get("/second").body(()).unwrap()).unwrap();
    assert_eq!(response.into_body().read_to_vec().unwrap(), b"ok");
    assert_eq!(client.connects(), 1, "a timeout must not cost the connection");
}

fn get(client: &Client) -> io::Result<Vec<u8>> {
    client.request(Request::get("/first").body(()).unwrap())?.into_body().read_to_vec()
}

#[test]
fn a_response_that_stops_after_its_head_fails_as_stalled() {
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|peer, id| {
        peer.send_head(id);
        Vec::new()
    });
    let client = Client::builder().stall_timeout(Some(500 * MS)).connect(addr).unwrap();
    // Stalled before the head (a slow test machine) or after it: the same error.
    assert_eq!(timeout_of(&get(&client).unwrap_err()), Timeout::Stalled);
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn a_response_that_stops_mid_body_fails_as_stalled_after_what_came_is_read() {
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|peer, id| {
        peer.send_head(id);
        peer.send_body(id, &[7; 100], false);
        Vec::new()
    });
    let client = Client::builder().stall_timeout(Some(2000 * MS)).connect(addr).unwrap();
    let mut body = client.request(Request::get("/first").body(()).unwrap()).unwrap().into_body();
    // Received and not read is the application being behind, not the server: reading
    // late still gets every byte that came.
    thread::sleep(4000 * MS);
    let mut first = [0; 100];
    body.read_exact(&mut first).unwrap();
    assert_eq!(first, [7; 100]);
    assert_eq!(timeout_of(&body.read(&mut [0; 10]).unwrap_err()), Timeout::Stalled);
    // The failure sticks.
    assert_eq!(timeout_of(&body.read(&mut [0; 10]).unwrap_err()), Timeout::Stalled);
    drop(body);
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn bytes_waiting_to_be_read_keep_the_stall_clock_from_running_out() {
    // The client's window (16 KiB) fills and the server waits for it to open: while the
    // application does not read, the server is not the one stalled. Read late, the whole
    // 64 KiB arrives.
    let _w = watchdog(60);
    let body = pattern(64 << 10, 3);
    let sent = body.clone();
    let (addr, serving) = one_connection_server(move |mut peer| {
        let id = peer.next_request();
        peer.send_head(id);
        let mut seen = peer.send_all(id, &sent);
        // Until the client has gone.
        seen.extend(peer.exchange_for(Duration::from_secs(30)));
        assert_eq!(reset_of(&seen, id), None, "{seen:?}");
    });
    let client = Client::builder()
        .config(small_windows())
        .stall_timeout(Some(1000 * MS))
        .connect(addr)
        .unwrap();
    let mut response = client.request(Request::get("/first").body(()).unwrap()).unwrap();
    thread::sleep(3000 * MS);
    assert_eq!(response.body_mut().read_to_vec().unwrap(), body);
    drop((response, client));
    serving.join().unwrap();
}

#[test]
fn a_trickling_response_passes_the_stall_timeout() {
    // A byte every 100 ms for 3 s: longer in all than the stall timeout (1 s), never that
    // long without a byte, and within the whole-request timeout (60 s).
    let _w = watchdog(60);
    let body: Vec<u8> = (0..30).collect();
    let sent = body.clone();
    let (addr, serving) = one_connection_server(move |mut peer| {
        let id = peer.next_request();
        peer.send_head(id);
        let seen = peer.trickle(id, &sent, 100 * MS);
        assert_eq!(reset_of(&seen, id), None, "{seen:?}");
        peer.close_gracefully();
    });
    let client = Client::builder()
        .stall_timeout(Some(1000 * MS))
        .request_timeout(Some(Duration::from_secs(60)))
        .connect(addr)
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
    let client = Client::builder().request_timeout(Some(1000 * MS)).connect(addr).unwrap();
    assert_eq!(timeout_of(&get(&client).unwrap_err()), Timeout::Request);
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn the_whole_request_timeout_ends_a_request_never_answered() {
    // No head at all and the stall timeout off: the request timeout alone ends the call.
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|_, _| Vec::new());
    let client = Client::builder()
        .stall_timeout(None)
        .request_timeout(Some(500 * MS))
        .connect(addr)
        .unwrap();
    let error = client.request(Request::get("/first").body(()).unwrap()).unwrap_err();
    assert_eq!(timeout_of(&error), Timeout::Request);
    assert!(!blocking_error(&error).is_retry_safe(), "it may have been processed");
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn the_whole_request_timeout_covers_an_upload_the_server_stops_reading() {
    // The server never reads the endless body, so its window (64 KiB) closes and then the
    // client's send buffer fills: the request timeout ends the upload too, and its reader
    // is dropped.
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|_, _| Vec::new());
    let client = Client::builder().request_timeout(Some(1000 * MS)).connect(addr).unwrap();
    let (reader, progress) = Counting::new(usize::MAX);
    let request = Request::post("/upload").body(Body::from_reader(reader)).unwrap();
    assert_eq!(timeout_of(&client.request(request).unwrap_err()), Timeout::Request);
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    progress.wait_dropped();
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn a_requests_own_timeout_replaces_the_builders() {
    // The builder's 10 minutes would outlast the watchdog; the request's 500 ms decides.
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|_, _| Vec::new());
    let client = Client::builder()
        .stall_timeout(None)
        .request_timeout(Some(Duration::from_secs(600)))
        .connect(addr)
        .unwrap();
    let mut request = Request::get("/first").body(()).unwrap();
    request.extensions_mut().insert(RequestTimeout(Some(500 * MS)));
    assert_eq!(timeout_of(&client.request(request).unwrap_err()), Timeout::Request);
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}

#[test]
fn a_request_queued_for_a_stream_times_out_too() {
    // SETTINGS_MAX_CONCURRENT_STREAMS 1 (RFC 9113 §5.1.2): the second request waits for
    // the first's stream; both time out, whether the second was still queued or had just
    // got the stream the first's CANCEL freed.
    let _w = watchdog(60);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = thread::spawn(move || {
        let mut config = Config::default();
        config.max_concurrent_streams = 1;
        let (socket, _) = listener.accept().unwrap();
        let mut peer = RawPeer::new(socket, Connection::server(config));
        // Never answers a request; exchanges (SETTINGS, ACKs, resets) until the client is
        // gone.
        peer.exchange_for(Duration::from_secs(30))
    });
    let client = Client::builder().request_timeout(Some(1000 * MS)).connect(addr).unwrap();
    // A PING's ACK comes after the server's SETTINGS: the client knows the limit.
    client.ping(Duration::from_secs(10)).unwrap();
    let waiting: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            thread::spawn(move || get(&client).unwrap_err())
        })
        .collect();
    for waiter in waiting {
        assert_eq!(timeout_of(&waiter.join().unwrap()), Timeout::Request);
    }
    drop(client);
    let seen = serving.join().unwrap();
    let cancelled = seen
        .iter()
        .filter(|e| matches!(e, Event::Reset { error_code: ErrorCode::CANCEL, .. }))
        .count();
    assert!(cancelled >= 1, "{seen:?}");
}

#[test]
fn dropping_a_body_early_sends_cancel_at_once() {
    // RFC 9113 §7 CANCEL: the response is no longer needed. The server sees the reset
    // while the client does nothing more, and the connection serves the next request.
    let _w = watchdog(60);
    let (addr, resets, serving) = server(|peer, id| {
        peer.send_head(id);
        peer.send_body(id, &[1; 1000], false);
        Vec::new()
    });
    // No timeout could send the reset instead.
    let client = Client::builder().stall_timeout(None).connect(addr).unwrap();
    let mut body = client.request(Request::get("/first").body(()).unwrap()).unwrap().into_body();
    let mut some = [0; 10];
    body.read_exact(&mut some).unwrap();
    drop(body);
    assert_eq!(resets.recv().unwrap(), ErrorCode::CANCEL);
    second_request_on_the_same_connection(&client);
    serving.join().unwrap();
}
