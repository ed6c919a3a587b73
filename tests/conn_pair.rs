//! Client and server cores wired together in memory: whole exchanges, many streams, big
//! bodies through small windows, trailers, resets, GOAWAY and timeouts.

mod support;

use bytes::Bytes;
use h2proto::frame::StreamId;
use h2proto::{Config, ErrorCode, Event, Initiator};
use std::collections::HashMap;
use std::time::Duration;
use support::*;

fn small_windows() -> Config {
    let mut c = Config::default();
    c.initial_stream_window_size = 16 << 10;
    c.initial_connection_window_size = 16 << 10;
    c
}

#[test]
fn ten_mib_upload_and_download_through_16k_windows() {
    let mut pair = Pair::with(small_windows(), small_windows());
    let body: Bytes = (0..10 << 20).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into();
    let request = http::Request::post("http://example.com/upload").body(()).unwrap();
    let id = pair.client.send_request(request, false).unwrap();

    // Upload: the server reads as data arrives.
    let mut received = Vec::with_capacity(body.len());
    let mut rest = body.clone();
    while !rest.is_empty()
        || !pair.server_events.iter().any(|e| matches!(e, Event::Data { end_stream: true, .. }))
    {
        if !rest.is_empty() {
            let n = pair.client.send_data(id, rest.clone(), true).unwrap();
            rest = rest.slice(n..);
        }
        pair.drive();
        while let Some(chunk) = pair.server.read_data(id) {
            received.extend_from_slice(&chunk);
        }
        pair.drive();
    }
    while let Some(chunk) = pair.server.read_data(id) {
        received.extend_from_slice(&chunk);
    }
    assert_eq!(received.len(), body.len());
    assert!(received == body[..], "upload corrupted");

    // Download the same body back.
    pair.server.send_response(id, status(200), false).unwrap();
    let mut downloaded = Vec::with_capacity(body.len());
    let mut rest = body.clone();
    loop {
        if !rest.is_empty() {
            let n = pair.server.send_data(id, rest.clone(), true).unwrap();
            rest = rest.slice(n..);
        }
        pair.drive();
        while let Some(chunk) = pair.client.read_data(id) {
            downloaded.extend_from_slice(&chunk);
        }
        pair.drive();
        if rest.is_empty() && pair.client.active_streams() == 0 {
            break;
        }
    }
    while let Some(chunk) = pair.client.read_data(id) {
        downloaded.extend_from_slice(&chunk);
    }
    assert!(downloaded == body[..], "download corrupted");
    assert!(
        pair.client.stats().flow_control_stalls > 0 || pair.server.stats().flow_control_stalls > 0
    );
}

#[test]
fn many_concurrent_streams_each_get_their_own_body() {
    let mut pair = Pair::new();
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(pair.client.send_request(get(&format!("http://example.com/{i}")), true).unwrap());
    }
    pair.drive();
    let requests: Vec<(StreamId, String)> = pair
        .take_server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Request { stream_id, request, .. } => {
                Some((stream_id, request.uri().path().to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(requests.len(), 100);
    for (id, path) in &requests {
        pair.server.send_response(*id, status(200), false).unwrap();
        pair.server.send_data(*id, Bytes::from(path.repeat(100)), true).unwrap();
    }
    pair.drive();
    let mut bodies: HashMap<StreamId, Vec<u8>> = HashMap::new();
    for id in &ids {
        bodies.insert(*id, Pair::read_all(&mut pair.client, *id));
    }
    for (id, path) in requests {
        assert_eq!(bodies[&id], path.repeat(100).into_bytes());
    }
    assert_eq!(pair.client.active_streams(), 0);
}

#[test]
fn trailers_follow_the_body() {
    let mut pair = Pair::new();
    let request = http::Request::post("http://example.com/").body(()).unwrap();
    let id = pair.client.send_request(request, false).unwrap();
    pair.client.send_data(id, "body".into(), false).unwrap();
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", "0".parse().unwrap());
    pair.client.send_trailers(id, trailers).unwrap();
    pair.drive();
    let events = pair.take_server_events();
    assert!(
        matches!(&events[..], [Event::Request { end_stream: false, .. }, Event::Data { end_stream: false, .. }, Event::Trailers { trailers, .. }] if trailers["grpc-status"] == "0"),
        "{events:?}"
    );
    assert_eq!(Pair::read_all(&mut pair.server, id), b"body");
}

#[test]
fn reset_mid_body_frees_the_stream_on_both_sides() {
    let mut pair = Pair::with(small_windows(), small_windows());
    let id = pair.client.send_request(get("http://example.com/big"), true).unwrap();
    pair.drive();
    pair.server.send_response(id, status(200), false).unwrap();
    pair.server.send_data(id, Bytes::from(vec![1u8; 100_000]), true).unwrap();
    pair.drive();
    pair.client.reset(id, ErrorCode::CANCEL).unwrap();
    pair.drive();
    let events = pair.take_server_events();
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Reset { error_code: ErrorCode::CANCEL, initiator: Initiator::Remote, .. }
        )),
        "{events:?}"
    );
    assert_eq!(pair.server.active_streams(), 0);
    assert_eq!(pair.client.active_streams(), 0);
    // The connection still works.
    let id2 = pair.client.send_request(get("http://example.com/next"), true).unwrap();
    pair.drive();
    pair.server.send_response(id2, status(204), true).unwrap();
    pair.drive();
    assert!(
        pair.take_client_events()
            .iter()
            .any(|e| matches!(e, Event::Response { stream_id, .. } if *stream_id == id2))
    );
}

#[test]
fn graceful_shutdown_finishes_streams_in_flight() {
    let mut pair = Pair::new();
    let id = pair.client.send_request(get("http://example.com/slow"), true).unwrap();
    pair.drive();
    pair.server.shutdown();
    pair.drive();
    assert!(
        pair.take_client_events()
            .iter()
            .any(|e| matches!(e, Event::GoAway { error_code: ErrorCode::NO_ERROR, .. }))
    );
    assert!(
        pair.client.send_request(get("http://example.com/new"), true).is_err(),
        "no new streams"
    );
    assert!(!pair.server.is_closed(), "stream 1 is still in flight");
    pair.server.send_response(id, status(200), true).unwrap();
    pair.drive();
    assert!(pair.server.is_closed());
    assert!(pair.take_client_events().iter().any(|e| matches!(e, Event::Response { .. })));
}

#[test]
fn goaway_mid_flight_reports_unprocessed_streams_as_retryable() {
    let mut peer = Peer::client();
    peer.handshake();
    let first = peer.conn.send_request(get("http://example.com/1"), true).unwrap();
    let second = peer.conn.send_request(get("http://example.com/2"), true).unwrap();
    peer.frames();
    peer.send(goaway(first.0, ErrorCode::NO_ERROR));
    let events = peer.events();
    assert!(
        matches!(&events[0], Event::GoAway { last_stream_id, .. } if *last_stream_id == first),
        "{events:?}"
    );
    assert!(
        events.iter().any(
            |e| matches!(e, Event::Reset { stream_id, retryable: true, .. } if *stream_id == second)
        ),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(e, Event::Reset { stream_id, .. } if *stream_id == first))
    );
    assert!(
        peer.conn.send_request(get("http://example.com/3"), true).is_err(),
        "no new streams after GOAWAY"
    );
    // Stream 1 still completes, and then the connection closes.
    let response = peer.response(first.0, "200", true);
    peer.send(response);
    let events = peer.events();
    assert!(events.iter().any(|e| matches!(e, Event::Response { .. })), "{events:?}");
    assert!(
        peer.conn.is_closed() || {
            peer.frames();
            peer.conn.is_closed()
        }
    );
}

#[test]
fn idle_timeout_closes_the_connection() {
    let mut pair = Pair::new();
    pair.advance(Duration::from_secs(31));
    pair.advance(Duration::from_secs(31));
    assert!(pair.server.is_closed() && pair.client.is_closed(), "both idle for over 30 s");
}

#[test]
fn keepalive_ping_keeps_a_live_peer_and_drops_a_dead_one() {
    let mut config = Config::default();
    config.keepalive_interval = Some(Duration::from_secs(10));
    config.idle_timeout = None;
    let mut server_config = Config::default();
    server_config.idle_timeout = None;
    server_config.first_request_timeout = None; // no request in this test: keepalive only
    let mut pair = Pair::with(config, server_config);
    for _ in 0..5 {
        pair.advance(Duration::from_secs(11));
    }
    assert!(!pair.client.is_closed(), "the peer answers keepalive PINGs");
    // Now the peer stops answering: advance the client's clock alone.
    let mut now = pair.now;
    for _ in 0..4 {
        now += Duration::from_secs(11);
        pair.client.handle_timeout(now);
        let _ = pair.client.transmit();
    }
    assert!(pair.client.error().is_some(), "unanswered keepalive ends the connection");
}

/// The final response head among `events`.
#[track_caller]
fn final_response(events: &[Event]) -> &http::Response<()> {
    let head = events.iter().find_map(|e| match e {
        Event::Response { response, .. } => Some(response),
        _ => None,
    });
    head.unwrap_or_else(|| panic!("no final response: {events:?}"))
}

/// The `content-length` the client sees when the server answers `request` with
/// `send_response_with_length(.., response, declared, ..)` and then `body`.
fn declared_length(
    request: http::Request<()>,
    response: http::Response<()>,
    declared: u64,
    body: &'static [u8],
) -> Option<String> {
    let mut pair = Pair::new();
    let id = pair.client.send_request(request, true).unwrap();
    pair.drive();
    pair.server_events.clear();
    pair.server.send_response_with_length(id, response, declared, body.is_empty()).unwrap();
    if !body.is_empty() {
        assert_eq!(pair.server.send_data(id, Bytes::from_static(body), true).unwrap(), body.len());
    }
    pair.drive();
    let events = pair.take_client_events();
    let head = final_response(&events);
    let values: Vec<_> = head.headers().get_all(http::header::CONTENT_LENGTH).iter().collect();
    assert!(values.len() <= 1, "content-length sent twice: {values:?}");
    values.first().map(|v| v.to_str().unwrap().to_owned())
}

/// A declared body length becomes `content-length`, unless the head has its own or the
/// response may not carry one (RFC 9110 §8.6: 204, 304, 2xx to CONNECT, and HEAD's empty
/// body).
#[test]
fn send_response_with_length_declares_content_length() {
    let get = || get("http://example.com/");
    assert_eq!(declared_length(get(), status(200), 5, b"hello"), Some("5".into()));
    assert_eq!(declared_length(get(), status(404), 0, b""), Some("0".into()));
    let own = http::Response::builder().header("content-length", "7").body(()).unwrap();
    assert_eq!(declared_length(get(), own, 99, b"seven!!"), Some("7".into()));
    assert_eq!(declared_length(get(), status(204), 0, b""), None);
    assert_eq!(declared_length(get(), status(304), 42, b""), None);
    let head = http::Request::head("http://example.com/").body(()).unwrap();
    assert_eq!(declared_length(head, status(200), 0, b""), None);
    // A tunnel has no length; a refused CONNECT's error body does.
    let connect = || http::Request::connect("example.com:443").body(()).unwrap();
    assert_eq!(declared_length(connect(), status(200), 0, b""), None);
    assert_eq!(declared_length(connect(), status(403), 2, b"no"), Some("2".into()));
}

/// With pools, the map of a head just sent is reused for the next head received, on both
/// sides: nothing of the old head may show through, and the pools stay balanced.
#[test]
fn header_pools_carry_maps_from_sent_heads_to_received_ones() {
    let mut pair = Pair::new();
    *pair.server.header_pool() = h2proto::HeaderPool::new(4);
    *pair.client.header_pool() = h2proto::HeaderPool::new(4);
    let fields = |headers: &http::HeaderMap| -> Vec<(String, String)> {
        headers.iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned())).collect()
    };
    for round in 0..3 {
        let request = http::Request::get("http://example.com/a")
            .header("x-round", round.to_string())
            .body(())
            .unwrap();
        let id = pair.client.send_request(request, true).unwrap();
        assert_eq!(pair.client.header_pool().len(), 1, "the request's map, kept");
        pair.drive();
        let events = std::mem::take(&mut pair.server_events);
        let got = events.iter().find_map(|e| match e {
            Event::Request { request, .. } => Some(request),
            _ => None,
        });
        let got = got.unwrap_or_else(|| panic!("no request: {events:?}"));
        assert_eq!(fields(got.headers()), [("x-round".into(), round.to_string())]);

        let response = http::Response::builder()
            .header("x-reply", "one")
            .header("x-extra", format!("r{round}"))
            .body(())
            .unwrap();
        pair.server.send_response(id, response, true).unwrap();
        assert_eq!(pair.server.header_pool().len(), 1, "the response's map, kept");
        pair.drive();
        let events = pair.take_client_events();
        let head = final_response(&events);
        let want = [("x-reply".into(), "one".into()), ("x-extra".into(), format!("r{round}"))];
        assert_eq!(fields(head.headers()), want);
        assert!(pair.client.header_pool().is_empty(), "the response took the kept map");
    }
}
