//! Server push from the receiving end (RFC 9113 §6.6, §8.4): the client under test meets
//! PUSH_PROMISE frames with push disabled (the default) or enabled, legal and not; the
//! server under test meets a PUSH_PROMISE it can never accept.

mod support;

use h2proto::frame::{Continuation, Frame, Headers, PushPromise, SettingId, StreamId};
use h2proto::hpack::Decoder;
use h2proto::{Config, ErrorCode, Event};
use support::*;

const PUSHED: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":authority", "example.com"),
    (":path", "/style.css"),
];

fn push_client_with(mut config: Config) -> Peer {
    config.enable_push = true;
    let mut peer = Peer::client_with(config);
    peer.handshake();
    peer
}

fn push_client() -> Peer {
    push_client_with(Config::default())
}

/// Client under test: sends a GET and drops what it wrote.
fn open_get(peer: &mut Peer) -> StreamId {
    let id = peer.conn.send_request(get("https://example.com/"), true).unwrap();
    peer.frames();
    id
}

fn promise(peer: &mut Peer, on: StreamId, promised: u32, fields: &[(&str, &str)]) -> PushPromise {
    let fragment = peer.block(fields);
    PushPromise {
        stream_id: on,
        promised_id: StreamId(promised),
        fragment,
        end_headers: true,
        pad_len: None,
    }
}

fn promises(events: &[Event]) -> Vec<(StreamId, StreamId, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PushPromise { stream_id, promised_id, request } => {
                Some((*stream_id, *promised_id, request.uri().to_string()))
            }
            _ => None,
        })
        .collect()
}

fn reset_frame(id: u32, code: ErrorCode) -> Frame {
    Frame::RstStream(rst(id, code))
}

#[test]
fn rfc9113_6_5_2_client_advertises_its_push_setting() {
    // §6.5.2: SETTINGS_ENABLE_PUSH tells the server whether it may push; 0 by default.
    let mut peer = Peer::client();
    let frames = peer.handshake();
    let Frame::Settings(settings) = &frames[0] else { panic!("{frames:?}") };
    assert_eq!(settings.get(SettingId::ENABLE_PUSH), Some(0));

    let mut config = Config::default();
    config.enable_push = true;
    let mut peer = Peer::client_with(config);
    let frames = peer.handshake();
    let Frame::Settings(settings) = &frames[0] else { panic!("{frames:?}") };
    assert_eq!(settings.get(SettingId::ENABLE_PUSH), Some(1));
}

#[test]
fn rfc9113_6_6_push_promise_with_push_disabled_is_protocol_error() {
    // §6.6: once SETTINGS_ENABLE_PUSH = 0 is acknowledged, a PUSH_PROMISE is a connection
    // error PROTOCOL_ERROR.
    let mut peer = Peer::client();
    peer.handshake();
    let id = open_get(&mut peer);
    let frame = promise(&mut peer, id, 2, PUSHED);
    peer.send(frame);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    assert!(promises(&peer.events()).is_empty());
}

#[test]
fn rfc9113_8_4_client_accepts_a_push_and_its_response() {
    // §8.4, §8.4.2: with push enabled, a PUSH_PROMISE on an open request stream reserves
    // the promised stream; the pushed response then arrives on it like any response.
    let mut peer = push_client();
    let id = open_get(&mut peer);
    let frame = promise(&mut peer, id, 2, PUSHED);
    peer.send(frame);
    peer.expect_quiet();
    let events = peer.events();
    assert_eq!(promises(&events), vec![(id, StreamId(2), "https://example.com/style.css".into())]);
    let Some(Event::PushPromise { request, .. }) = events.first() else { panic!("{events:?}") };
    assert_eq!(request.method(), http::Method::GET);

    // The response to the request itself, then the pushed one.
    let response = peer.response(id.0, "200", true);
    peer.send(response);
    let block = peer.block(&[(":status", "200"), ("content-type", "text/css")]);
    peer.send(Headers::new(StreamId(2), block, false));
    peer.send(data(2, b"body{}", true));
    peer.expect_quiet();
    let events = peer.events();
    assert!(
        matches!(&events[..], [
            Event::Response { stream_id: a, end_stream: true, .. },
            Event::Response { stream_id: StreamId(2), end_stream: false, response },
            Event::Data { stream_id: StreamId(2), end_stream: true },
        ] if *a == id && response.headers()["content-type"] == "text/css"),
        "{events:?}"
    );
    assert_eq!(peer.conn.read_data(StreamId(2)).as_deref(), Some(&b"body{}"[..]));
    assert_eq!(peer.conn.active_streams(), 0);
    peer.expect_alive();
}

#[test]
fn rfc9113_6_10_push_promise_continued_in_continuation() {
    // §6.6, §6.10: a PUSH_PROMISE field block may continue in CONTINUATION frames.
    let mut peer = push_client();
    let id = open_get(&mut peer);
    let mut frame = promise(&mut peer, id, 2, PUSHED);
    let block = frame.fragment.clone();
    frame.fragment = block.slice(..3);
    frame.end_headers = false;
    peer.send(frame);
    assert!(peer.events().is_empty(), "nothing before END_HEADERS");
    peer.send(Continuation { stream_id: id, fragment: block.slice(3..), end_headers: true });
    assert_eq!(
        promises(&peer.events()),
        vec![(id, StreamId(2), "https://example.com/style.css".into())]
    );
    peer.expect_quiet();
}

#[test]
fn rfc9113_8_4_push_promise_to_a_server_is_protocol_error() {
    // §8.4: a client cannot push; a server receiving PUSH_PROMISE ends the connection
    // with PROTOCOL_ERROR.
    let mut peer = Peer::server();
    peer.handshake();
    let headers = peer.post(1, "/");
    peer.send(headers);
    let frame = promise(&mut peer, StreamId(1), 3, PUSHED);
    peer.send(frame);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_6_6_promised_id_must_be_a_new_server_stream() {
    // §5.1.1, §6.6: the promised id must be an even, idle stream (above every one used
    // so far); anything else is a connection error PROTOCOL_ERROR.
    for promised in [3, 0] {
        let mut peer = push_client();
        let id = open_get(&mut peer);
        let frame = promise(&mut peer, id, promised, PUSHED);
        peer.send(frame);
        peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
        assert!(promises(&peer.events()).is_empty(), "promised {promised}");
    }
    // Not increasing, or used twice.
    for second in [2, 4] {
        let mut peer = push_client();
        let id = open_get(&mut peer);
        let frame = promise(&mut peer, id, 4, PUSHED);
        peer.send(frame);
        assert_eq!(promises(&peer.events()).len(), 1);
        let frame = promise(&mut peer, id, second, PUSHED);
        peer.send(frame);
        peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
        assert!(promises(&peer.events()).is_empty(), "second promise {second}");
    }
}

#[test]
fn rfc9113_6_6_push_promise_on_a_stream_not_open_is_protocol_error() {
    // §6.6: a PUSH_PROMISE must come on one of our streams that is open or half-closed
    // (local); on an idle or closed stream, or a pushed one, it is a connection error
    // PROTOCOL_ERROR.
    let mut peer = push_client();
    open_get(&mut peer);
    let frame = promise(&mut peer, StreamId(3), 2, PUSHED); // idle
    peer.send(frame);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);

    let mut peer = push_client();
    let id = open_get(&mut peer);
    let response = peer.response(id.0, "200", true);
    peer.send(response);
    assert_eq!(peer.conn.active_streams(), 0);
    let frame = promise(&mut peer, id, 2, PUSHED); // closed
    peer.send(frame);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);

    // A pushed stream in half-closed (local) was not opened by us.
    let mut peer = push_client();
    let id = open_get(&mut peer);
    let frame = promise(&mut peer, id, 2, PUSHED);
    peer.send(frame);
    let response = peer.response(2, "200", false);
    peer.send(response);
    peer.events();
    peer.expect_quiet();
    let frame = promise(&mut peer, StreamId(2), 4, PUSHED);
    peer.send(frame);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_6_6_push_promise_after_our_reset_is_refused_and_decoded() {
    // §6.6: after we reset the associated stream, promises already in flight are handled:
    // the promised stream is reset too, and its block still updates HPACK (§4.3).
    let mut peer = push_client();
    let id = open_get(&mut peer);
    peer.conn.reset(id, ErrorCode::CANCEL).unwrap();
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::CANCEL)]);
    peer.events();
    let frame = promise(&mut peer, id, 2, &[PUSHED, &[("x-sync", "kept")]].concat());
    peer.send(frame);
    assert_eq!(peer.frames(), vec![reset_frame(2, ErrorCode::CANCEL)]);
    assert!(promises(&peer.events()).is_empty());
    // Frames already sent on the pushed stream are ignored.
    let response = peer.response(2, "200", true);
    peer.send(response);
    peer.expect_quiet();
    assert!(peer.events().is_empty());
    // The next block refers to what the promise inserted.
    let next = open_get(&mut peer);
    let block = peer.block(&[(":status", "200"), ("x-sync", "kept")]);
    assert!(Decoder::new().decode(&block, |_| {}).is_err(), "needs the dynamic table");
    peer.send(Headers::new(next, block, true));
    let events = peer.events();
    assert!(
        matches!(&events[..], [Event::Response { response, .. }] if response.headers()["x-sync"] == "kept"),
        "{events:?}"
    );
}

#[test]
fn rfc9113_8_4_promised_request_must_be_safe_cacheable_and_complete() {
    // §8.4, §8.4.1: a promised request that is not safe and cacheable, that announces
    // content, or that is not a complete request is a stream error PROTOCOL_ERROR on the
    // promised stream.
    let bad: &[&[(&str, &str)]] = &[
        &[(":method", "POST"), (":scheme", "https"), (":authority", "example.com"), (":path", "/")],
        &[
            (":method", "DELETE"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "/"),
        ],
        &[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "/"),
            ("content-length", "10"),
        ],
        &[(":method", "GET"), (":scheme", "https"), (":authority", "example.com")],
        &[(":method", "GET"), (":scheme", "https"), (":path", "/")],
        &[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "/"),
            (":status", "200"),
        ],
        &[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "/"),
            ("connection", "close"),
        ],
    ];
    let mut peer = push_client();
    let id = peer
        .conn
        .send_request(http::Request::post("https://example.com/").body(()).unwrap(), false)
        .unwrap();
    peer.frames();
    for (i, fields) in bad.iter().enumerate() {
        let promised = 2 + 2 * i as u32;
        let frame = promise(&mut peer, id, promised, fields);
        peer.send(frame);
        assert_eq!(
            peer.frames(),
            vec![reset_frame(promised, ErrorCode::PROTOCOL_ERROR)],
            "{fields:?}"
        );
        assert!(promises(&peer.events()).is_empty(), "{fields:?}");
    }
    // HEAD is safe and cacheable.
    let head =
        [(":method", "HEAD"), (":scheme", "https"), (":authority", "example.com"), (":path", "/")];
    let frame = promise(&mut peer, id, 100, &head);
    peer.send(frame);
    assert_eq!(promises(&peer.events()).len(), 1);
    peer.expect_quiet();
    peer.expect_alive();
}

#[test]
fn rfc9113_5_1_data_on_a_reserved_stream_is_protocol_error() {
    // §5.1: in reserved (remote) only HEADERS, RST_STREAM and PRIORITY may arrive; DATA
    // before the pushed response's head is a connection error PROTOCOL_ERROR.
    let mut peer = push_client();
    let id = open_get(&mut peer);
    let frame = promise(&mut peer, id, 2, PUSHED);
    peer.send(frame);
    peer.send(data(2, b"early", false));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_8_4_client_can_refuse_a_pushed_stream() {
    // §6.6: a client rejects a promised stream with RST_STREAM; what the server sent on it
    // meanwhile is ignored.
    let mut peer = push_client();
    let id = open_get(&mut peer);
    let frame = promise(&mut peer, id, 2, PUSHED);
    peer.send(frame);
    peer.events();
    peer.conn.reset(StreamId(2), ErrorCode::CANCEL).unwrap();
    assert_eq!(peer.frames(), vec![reset_frame(2, ErrorCode::CANCEL)]);
    let response = peer.response(2, "200", false);
    peer.send(response);
    peer.send(data(2, b"ignored", true));
    peer.expect_quiet();
    let events = peer.events();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Response { .. } | Event::Data { .. })),
        "{events:?}"
    );
    peer.expect_alive();
}

#[test]
fn rfc9113_5_1_2_pushed_responses_count_against_our_stream_limit() {
    // §5.1.2, §8.4: our SETTINGS_MAX_CONCURRENT_STREAMS limits concurrent pushed
    // responses; a HEADERS over it is a stream error (REFUSED_STREAM here).
    let mut config = Config::default();
    config.max_concurrent_streams = 2;
    let mut peer = push_client_with(config);
    let id = open_get(&mut peer);
    for promised in [2, 4] {
        let frame = promise(&mut peer, id, promised, PUSHED);
        peer.send(frame);
    }
    let response = peer.response(2, "200", false);
    peer.send(response);
    let frame = promise(&mut peer, id, 6, PUSHED);
    peer.send(frame);
    assert_eq!(promises(&peer.events()).len(), 3);
    let response = peer.response(4, "200", false);
    peer.send(response);
    peer.expect_quiet();
    assert_eq!(peer.conn.active_streams(), 3, "our request and two pushed responses");
    let response = peer.response(6, "200", false);
    peer.send(response);
    assert_eq!(peer.frames(), vec![reset_frame(6, ErrorCode::REFUSED_STREAM)]);
    let events = peer.events();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Response { stream_id: StreamId(6), .. })),
        "{events:?}"
    );
    peer.expect_alive();
}

#[test]
fn rfc9113_10_5_reserved_remote_streams_are_bounded() {
    // RFC 9113 §10.5: a client accepting push limits its reserved (remote) streams (here to
    // our SETTINGS_MAX_CONCURRENT_STREAMS); excess ones get a stream error ENHANCE_YOUR_CALM.
    let mut config = Config::default();
    config.max_concurrent_streams = 8;
    let mut peer = push_client_with(config);
    let id = open_get(&mut peer);
    for i in 0..8 {
        let frame = promise(&mut peer, id, 2 + 2 * i, PUSHED);
        peer.send(frame);
    }
    peer.expect_quiet();
    assert_eq!(promises(&peer.events()).len(), 8);
    let frame = promise(&mut peer, id, 18, PUSHED);
    peer.send(frame);
    assert_eq!(peer.frames(), vec![reset_frame(18, ErrorCode::ENHANCE_YOUR_CALM)]);
    assert!(promises(&peer.events()).is_empty());
    // Once a reserved stream is used and done, there is room again.
    let response = peer.response(2, "204", true);
    peer.send(response);
    peer.events();
    let frame = promise(&mut peer, id, 20, PUSHED);
    peer.send(frame);
    assert_eq!(promises(&peer.events()).len(), 1);
    peer.expect_quiet();
}
