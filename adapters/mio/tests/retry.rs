//! RFC 9113 §8.7 retries of the mio client through the core's policy
//! (`h2proto::pool::RetryPolicy`, the one the tokio and blocking clients use): what the
//! server certainly did not process (REFUSED_STREAM, above a GOAWAY's last stream id, never
//! sent) is sent again, bounded, on a fresh connection when the old one takes no new
//! requests; what it may have processed never is, and a body that cannot be replayed is
//! not. The servers are hand-driven cores that log what they processed by a request id
//! header, so a duplicate shows.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{Frame, GoAway, StreamId};
use h2proto::pool::{RetryPolicy, Verdict};
use h2proto::{Connection, ErrorCode, Event};
use h2proto_mio::{Body, Client, Config, Error, ErrorKind};
use http::{Request, Response};
use std::io::Write;
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use support::*;

fn request(id: usize) -> Request<Bytes> {
    Request::post("/").header("x-request-id", id.to_string()).body(Bytes::from("payload")).unwrap()
}

fn request_id(request: &Request<()>) -> usize {
    request.headers()["x-request-id"].to_str().unwrap().parse().unwrap()
}

/// Hands every request to the client at once; `results` waits for them all, in order.
fn send_all(client: &Client, requests: Vec<Request<Bytes>>) -> Results {
    let (tx, rx) = mpsc::channel();
    for (i, r) in requests.into_iter().enumerate() {
        let tx = tx.clone();
        client.send(r, move |result| tx.send((i, result.map(|r| r.status().as_u16()))).unwrap());
    }
    Results(rx)
}

type Outcome = Result<u16, Error>;

struct Results(mpsc::Receiver<(usize, Outcome)>);

fn results(sent: Results) -> Vec<Outcome> {
    let mut results: Vec<_> = sent.0.iter().collect();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Waits for the next request; returns its stream and id, reading its body (which releases
/// the window).
fn next_request(peer: &mut RawPeer) -> (StreamId, usize) {
    let mut got = None;
    peer.run_until(|e| match e {
        Event::Request { stream_id, request, .. } => {
            got = Some((*stream_id, request_id(request)));
            true
        }
        _ => false,
    });
    let (id, request) = got.unwrap();
    while peer.conn.read_data(id).is_some() {}
    (id, request)
}

/// A server that refuses the first `refuse` requests with REFUSED_STREAM and answers the
/// next with 200 (unless `refuse` takes them all), then reads to EOF. Returns the ids of
/// the requests it refused and those it processed.
fn refusing_server(listener: TcpListener, refuse: usize) -> (Vec<usize>, Vec<usize>) {
    let (socket, _) = listener.accept().unwrap();
    let mut peer = RawPeer::new(socket, Connection::server(Config::default()));
    let (mut refused, mut processed) = (Vec::new(), Vec::new());
    for _ in 0..refuse {
        let (id, request) = next_request(&mut peer);
        peer.conn.reset(id, ErrorCode::REFUSED_STREAM).unwrap();
        peer.flush();
        refused.push(request);
    }
    // Every later request is answered (none comes once the client has given up).
    peer.socket.set_read_timeout(None).unwrap();
    let mut buf = vec![0; 64 << 10];
    loop {
        peer.flush();
        while let Some(event) = peer.conn.poll_event() {
            if let Event::Request { stream_id, request, .. } = event {
                processed.push(request_id(&request));
                peer.conn.send_response(stream_id, Response::new(()), true).unwrap();
            }
        }
        peer.flush();
        match std::io::Read::read(&mut peer.socket, &mut buf) {
            Ok(0) | Err(_) => return (refused, processed),
            Ok(n) => {
                let _ =
                    peer.conn.recv(Bytes::copy_from_slice(&buf[..n]), std::time::Instant::now());
            }
        }
    }
}

#[test]
fn a_refused_stream_is_sent_again_and_succeeds() {
    // RFC 9113 §8.7: REFUSED_STREAM means not processed; the healthy connection takes it
    // again (no new connection is needed) and the retry is answered.
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || refusing_server(listener, 1));
    let client = Client::connect(addr).unwrap();
    let response = client.request(request(7)).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!((client.retries(), client.connects()), (1, 1));
    drop(client);
    assert_eq!(server.join().unwrap(), (vec![7], vec![7]), "refused once, processed once");
}

#[test]
fn refused_streams_are_retried_until_the_policy_gives_up() {
    // Bounded: with max_retries 2, three attempts are refused, then a typed error that
    // says the request was not processed and a retry is safe.
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || refusing_server(listener, 3));
    let client =
        Client::connect_with_retry(addr, Config::default(), RetryPolicy { max_retries: 2 })
            .unwrap();
    let error = client.request(request(0)).unwrap_err();
    let ErrorKind::NotRetried { error: last, verdict } = error.kind() else { panic!("{error:?}") };
    assert_eq!(*verdict, Verdict::SafeButAttemptsExhausted);
    assert!(
        matches!(
            last.kind(),
            ErrorKind::Reset { code: ErrorCode::REFUSED_STREAM, retryable: true, .. }
        ),
        "{last:?}"
    );
    assert!(error.is_retry_safe());
    assert!(error.to_string().contains("retries exhausted"), "{error}");
    assert_eq!((client.retries(), client.connects()), (2, 1));
    drop(client);
    assert_eq!(server.join().unwrap(), (vec![0, 0, 0], vec![]), "three attempts, none processed");
}

#[test]
fn a_streamed_body_is_not_replayed_and_says_a_retry_is_safe() {
    // Chunks pulled once cannot be pulled again: the refused upload is reported with the
    // policy's reason, not resent.
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || refusing_server(listener, 1));
    let client = Client::connect(addr).unwrap();
    let chunks = (0..10).map(|_| Bytes::from(vec![7u8; 10_000]));
    let upload = Request::post("/").header("x-request-id", "3").body(Body::from_chunks(chunks));
    let error = client.request(upload.unwrap()).unwrap_err();
    let ErrorKind::NotRetried { verdict, .. } = error.kind() else { panic!("{error:?}") };
    assert_eq!(*verdict, Verdict::SafeButNotReplayable);
    assert_eq!(error.reset_code(), Some(ErrorCode::REFUSED_STREAM));
    assert!(error.is_retry_safe());
    assert!(error.to_string().contains("cannot be replayed"), "{error}");
    assert_eq!(client.retries(), 0);
    drop(client);
    assert_eq!(server.join().unwrap(), (vec![3], vec![]), "sent once, never processed");
}

/// The first connection takes 4 requests, sends GOAWAY naming the second as the last it
/// processes (with `code`), answers the first two and closes; the second connection
/// answers whatever comes. Returns the request ids each connection processed.
fn goaway_server(listener: TcpListener, code: ErrorCode) -> (Vec<usize>, Vec<usize>) {
    let (socket, _) = listener.accept().unwrap();
    let mut peer = RawPeer::new(socket, Connection::server(Config::default()));
    let mut received = Vec::new();
    peer.run_until(|e| {
        if let Event::Request { stream_id, request, .. } = e {
            received.push((*stream_id, request_id(request)));
        }
        received.len() == 4
    });
    received.sort();
    let last = received[1].0;
    let mut wire = BytesMut::new();
    Frame::GoAway(GoAway { last_stream_id: last, error_code: code, debug_data: Bytes::new() })
        .encode(&mut wire);
    peer.socket.write_all(&wire).unwrap();
    let mut first = Vec::new();
    for (id, request) in &received[..2] {
        while peer.conn.read_data(*id).is_some() {}
        peer.conn.send_response(*id, Response::new(()), true).unwrap();
        first.push(*request);
    }
    peer.flush();
    // A FIN, not a reset that could discard the responses in flight.
    peer.socket.shutdown(std::net::Shutdown::Write).unwrap();
    peer.silent_until_eof();

    let (socket, _) = listener.accept().unwrap();
    let mut peer = RawPeer::new(socket, Connection::server(Config::default()));
    let mut second = Vec::new();
    for _ in 0..2 {
        let (id, request) = next_request(&mut peer);
        peer.conn.send_response(id, Response::new(()), true).unwrap();
        second.push(request);
    }
    peer.flush();
    peer.silent_until_eof();
    (first, second)
}

#[test]
fn requests_above_a_goaways_last_stream_id_go_again_on_a_fresh_connection_once() {
    // RFC 9113 §6.8 / §8.7, for a graceful GOAWAY and one with an error code: the requests
    // at or below last_stream_id complete where they are, those above were not processed
    // and are sent on a new connection; the server processes each exactly once.
    for code in [ErrorCode::NO_ERROR, ErrorCode::INTERNAL_ERROR] {
        let _w = watchdog(30);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || goaway_server(listener, code));
        let client = Client::connect(addr).unwrap();
        let results = results(send_all(&client, (0..4).map(request).collect()));
        for (i, r) in results.into_iter().enumerate() {
            assert_eq!(r.unwrap_or_else(|e| panic!("{code:?}: request {i}: {e}")), 200);
        }
        assert_eq!((client.connects(), client.retries()), (2, 2), "{code:?}");
        drop(client);
        let (first, second) = server.join().unwrap();
        let mut all: Vec<usize> = first.iter().chain(&second).copied().collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3], "{code:?}: each processed once ({first:?}, {second:?})");
    }
}

#[test]
fn a_request_that_never_left_goes_again_and_one_in_flight_does_not() {
    // One stream at a time (the client's limit before SETTINGS is 1): the first request is
    // on the wire when the server drops the connection, the second still waits in the
    // client. The first may have been processed: a typed error, not sent again. The second
    // never left (§8.7): it goes on a fresh connection and is answered.
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (handed_over, both_handed_over) = mpsc::channel();
    let server = thread::spawn(move || {
        let mut config = Config::default();
        config.max_concurrent_streams = 1;
        let (socket, _) = listener.accept().unwrap();
        let mut peer = RawPeer::new(socket, Connection::server(config.clone()));
        let (_, first) = next_request(&mut peer);
        // Both requests are in the loop's command queue, which it empties before it drives
        // a connection again: the second waits on this connection when it ends.
        both_handed_over.recv().unwrap();
        drop(peer);
        let (socket, _) = listener.accept().unwrap();
        let mut peer = RawPeer::new(socket, Connection::server(config));
        let (id, second) = next_request(&mut peer);
        peer.conn.send_response(id, Response::new(()), true).unwrap();
        peer.flush();
        let later = peer.silent_until_eof();
        let more = later.iter().filter(|e| matches!(e, Event::Request { .. })).count();
        (first, second, more)
    });
    let mut config = Config::default();
    config.initial_max_send_streams = 1;
    let client = Client::connect_with(addr, config).unwrap();
    let sent = send_all(&client, vec![request(0), request(1)]);
    handed_over.send(()).unwrap();
    let results = results(sent);
    let error = results[0].as_ref().unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Io(_)), "{error:?}");
    assert!(!error.is_retry_safe());
    assert_eq!(results[1].as_ref().unwrap(), &200);
    assert_eq!((client.connects(), client.retries()), (2, 1));
    drop(client);
    assert_eq!(server.join().unwrap(), (0, 1, 0), "each request reached the server once");
}

#[test]
fn a_single_connection_client_sends_nothing_again() {
    // `connect_single`: the refused request is not resent (the policy allows no retry),
    // and once the server has closed the connection no other is opened.
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let mut peer = RawPeer::new(socket, Connection::server(Config::default()));
        let (id, refused) = next_request(&mut peer);
        peer.conn.reset(id, ErrorCode::REFUSED_STREAM).unwrap();
        peer.flush();
        // Then it closes the connection (a FIN after the RST_STREAM), waits until the
        // client has closed its end, and keeps listening.
        peer.socket.shutdown(std::net::Shutdown::Write).unwrap();
        peer.silent_until_eof();
        (refused, listener)
    });
    let client = Client::connect_single(addr, Config::default()).unwrap();
    let error = client.request(request(5)).unwrap_err();
    let ErrorKind::NotRetried { verdict, .. } = error.kind() else { panic!("{error:?}") };
    assert_eq!(*verdict, Verdict::SafeButAttemptsExhausted);
    let (refused, listener) = server.join().unwrap();
    assert_eq!(refused, 5);
    // The connection is gone (the client closed its end): the next request is not sent.
    let error = client.request(request(6)).unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::NotSent(_)), "{error:?}");
    assert!(error.is_retry_safe());
    assert_eq!((client.connects(), client.retries()), (1, 0));
    listener.set_nonblocking(true).unwrap();
    let again = listener.accept().map(|_| ()).map_err(|e| e.kind());
    assert_eq!(again, Err(std::io::ErrorKind::WouldBlock), "no second connection");
}
