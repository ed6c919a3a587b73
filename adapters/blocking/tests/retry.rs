//! RFC 9113 §8.7 retries through the core's policy (`h2proto::pool::RetryPolicy`, the one
//! the tokio pool uses): what the server certainly did not process is sent again, bounded,
//! on a fresh connection when the old one takes no new requests; what it may have
//! processed never is. Servers are hand-driven cores that count what they processed by a
//! request id header, so a duplicate shows.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::Event;
use h2proto::frame::{Frame, GoAway, StreamId};
use h2proto::pool::{RetryPolicy, Verdict};
use h2proto_blocking::{Body, Client, Config, Error, ErrorCode};
use http::{Request, Response};
use std::io::{self, Write};
use std::net::TcpListener;
use std::thread;
use support::*;

fn request(id: usize) -> Request<Bytes> {
    Request::post("/").header("x-request-id", id.to_string()).body(Bytes::from("payload")).unwrap()
}

fn request_id(request: &Request<()>) -> usize {
    request.headers()["x-request-id"].to_str().unwrap().parse().unwrap()
}

#[test]
fn refused_streams_are_retried_until_the_policy_gives_up() {
    // REFUSED_STREAM: not processed (§8.7), sent again on the same healthy connection, at
    // most max_retries times; then a typed error that says a retry is safe.
    let _w = watchdog(30);
    let (addr, server) = one_connection_server(|mut peer| {
        let mut refused = Vec::new();
        for _ in 0..3 {
            let id = peer.next_request();
            peer.refuse(id);
            refused.push(id.0);
        }
        peer.silent_until_eof();
        refused
    });
    let client =
        Client::connect_with_retry(addr, Config::default(), RetryPolicy { max_retries: 2 })
            .unwrap();
    let error = client.request(request(0)).unwrap_err();
    let typed = blocking_error(&error);
    assert!(
        matches!(typed, Error::NotRetried { verdict: Verdict::SafeButAttemptsExhausted, error }
            if matches!(**error, Error::Reset { code: ErrorCode::REFUSED_STREAM, retryable: true, .. })),
        "{typed:?}"
    );
    assert!(typed.is_retry_safe());
    assert!(error.to_string().contains("retries exhausted"), "{error}");
    assert_eq!((client.retries(), client.connects()), (2, 1), "same connection, 2 retries");
    drop(client);
    assert_eq!(server.join().unwrap(), vec![1, 3, 5], "three attempts, none processed");
}

#[test]
fn a_streamed_body_is_not_replayed_and_says_a_retry_is_safe() {
    // A reader cannot be read twice: a refused upload is reported, not resent.
    let _w = watchdog(30);
    let (addr, server) = one_connection_server(|mut peer| {
        let id = peer.next_request();
        peer.refuse(id);
        let later = peer.silent_until_eof();
        later.iter().filter(|e| matches!(e, Event::Request { .. })).count()
    });
    let client = Client::connect(addr).unwrap();
    let body = Body::from_reader(io::Cursor::new(vec![7u8; 100_000]));
    let error = client.request(Request::post("/").body(body).unwrap()).unwrap_err();
    let typed = blocking_error(&error);
    assert!(
        matches!(typed, Error::NotRetried { verdict: Verdict::SafeButNotReplayable, .. }),
        "{typed:?}"
    );
    assert!(typed.is_retry_safe());
    assert_eq!(client.retries(), 0);
    drop(client);
    assert_eq!(server.join().unwrap(), 0, "sent once");
}

/// The first connection takes 4 requests, sends GOAWAY naming the second as the last it
/// processes (with `code`), answers the first two and closes; the second connection
/// answers whatever comes. Returns the request ids each connection processed.
fn goaway_server(listener: TcpListener, code: ErrorCode) -> (Vec<usize>, Vec<usize>) {
    let mut peer = RawPeer::accept(&listener, h2proto::Config::default());
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
    peer.close_gracefully();

    let mut peer = RawPeer::accept(&listener, h2proto::Config::default());
    let mut second = Vec::new();
    peer.run_until(|e| {
        if let Event::Request { request, .. } = e {
            second.push(request_id(request));
        }
        second.len() == 2
    });
    let ids: Vec<StreamId> = [1, 3].map(StreamId).to_vec();
    for id in ids {
        while peer.conn.read_data(id).is_some() {}
        peer.conn.send_response(id, Response::new(()), true).unwrap();
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
        let requests: Vec<_> = (0..4)
            .map(|i| {
                let client = client.clone();
                thread::spawn(move || client.request(request(i)).map(|r| r.status().as_u16()))
            })
            .collect();
        for (i, r) in requests.into_iter().enumerate() {
            let status = r.join().unwrap().unwrap_or_else(|e| panic!("{code:?}: request {i}: {e}"));
            assert_eq!(status, 200);
        }
        assert_eq!((client.connects(), client.retries()), (2, 2), "{code:?}");
        drop(client);
        let (first, second) = server.join().unwrap();
        let mut all: Vec<usize> = first.iter().chain(&second).copied().collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3], "{code:?}: each processed once ({first:?}, {second:?})");
    }
}
