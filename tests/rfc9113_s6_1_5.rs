//! RFC 9113 §6.1-§6.5 requirements that the older suites (frame_rules, conn_settings,
//! conn_headers) left without a test of their own: the padding we write and the padding we
//! accept, what we send always naming a stream, field blocks we split, nothing sent after
//! the peer's RST_STREAM, no RST_STREAM for idle streams, and our own settings values.
//! Each test names the requirement ids it proves (conformance/requirements/9113-06a.toml).

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{
    Data, Frame, FrameType, HEADER_LEN, Headers, RawFrame, SettingId, Settings, flags,
};
use h2proto::{Config, ErrorCode, Event, Initiator, Role, StreamId, UserError};
use support::*;

const ROLES: [Role; 2] = [Role::Server, Role::Client];

fn trailers(name: &'static str, value: &str) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    map.insert(name, value.parse().unwrap());
    map
}

// ----- §6.1, §6.2 padding -----

#[test]
fn rfc9113_6_1_6_2_padding_we_write_is_zero_and_the_connection_sends_none() {
    // RFC 9113 §6.1, §6.2: padding octets are zero when sent (9113-6.1-2, 9113-6.2-1); the
    // connection itself pads nothing (our choice for the MAY of 9113-6.1-1).
    let mut wire = BytesMut::new();
    Data { pad_len: Some(9), ..Data::new(StreamId(1), Bytes::from_static(b"body"), true) }
        .encode(&mut wire);
    assert_eq!(wire.len(), HEADER_LEN + 1 + 4 + 9);
    assert_eq!(wire[3], FrameType::DATA.0);
    assert_ne!(wire[4] & flags::PADDED, 0);
    assert_eq!((wire[HEADER_LEN], &wire[HEADER_LEN + 1..HEADER_LEN + 5]), (9, &b"body"[..]));
    assert!(wire[HEADER_LEN + 5..].iter().all(|b| *b == 0), "{wire:?}");

    let fragment = Bytes::from_static(b"\x82\x86\x84");
    let headers = Headers { pad_len: Some(5), ..Headers::new(StreamId(3), fragment, true) };
    for split in [false, true] {
        let mut wire = BytesMut::new();
        if split {
            headers.encode_split(16_384, &mut wire);
        } else {
            headers.encode(&mut wire);
        }
        assert_eq!(wire.len(), HEADER_LEN + 1 + 3 + 5, "split {split}");
        assert_eq!(wire[HEADER_LEN], 5);
        assert!(wire[HEADER_LEN + 4..].iter().all(|b| *b == 0), "split {split}: {wire:?}");
    }

    // A whole exchange, both ways, bodies and trailers included: nothing padded.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        match role {
            Role::Server => {
                let head = peer.post(1, "/");
                peer.send(head);
                peer.conn.send_response(StreamId(1), status(200), false).unwrap();
            }
            Role::Client => peer.open_request(1, false),
        }
        peer.conn.send_data(StreamId(1), Bytes::from(vec![1u8; 40_000]), false).unwrap();
        peer.conn.send_trailers(StreamId(1), trailers("x-sum", "1")).unwrap();
        let frames = peer.frames();
        assert!(frames.len() >= 3, "{role:?}: {frames:?}");
        for frame in &frames {
            match frame {
                Frame::Data(d) => assert_eq!(d.pad_len, None, "{role:?}"),
                Frame::Headers(h) => assert_eq!(h.pad_len, None, "{role:?}"),
                _ => {}
            }
        }
    }
}

#[test]
fn rfc9113_6_1_6_2_non_zero_padding_is_accepted() {
    // RFC 9113 §6.1, §6.2: a receiver need not verify padding and may treat non-zero padding
    // as a connection error; we do not (9113-6.1-3, 9113-6.2-2): padded DATA and HEADERS
    // with padding bytes that are not zero are accepted.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        let mut payload = vec![3u8];
        payload.extend_from_slice(b"ab");
        payload.extend_from_slice(&[0xff; 3]);
        peer.send_raw(RawFrame::new(FrameType::DATA, 1).flags(flags::PADDED).payload(&payload));
        let block = peer.block(&[("x-trailer", "padded")]);
        let mut payload = vec![4u8];
        payload.extend_from_slice(&block);
        payload.extend_from_slice(&[0xaa; 4]);
        peer.send_raw(
            RawFrame::new(FrameType::HEADERS, 1)
                .flags(flags::PADDED | flags::END_HEADERS | flags::END_STREAM)
                .payload(&payload),
        );
        peer.expect_quiet();
        let events = peer.events();
        assert!(
            matches!(
                &events[..],
                [Event::Data { stream_id: StreamId(1), .. }, Event::Trailers { stream_id: StreamId(1), trailers }]
                    if trailers["x-trailer"] == "padded"
            ),
            "{role:?}: {events:?}"
        );
        assert_eq!(peer.conn.read_data(StreamId(1)).as_deref(), Some(&b"ab"[..]), "{role:?}");
        peer.expect_alive();
    }
}

// ----- §6.1, §6.2, §6.4 frames we send name a stream -----

#[test]
fn rfc9113_6_1_6_2_6_4_what_we_send_always_names_a_stream() {
    // RFC 9113 §6.1, §6.2, §6.4: DATA, HEADERS and RST_STREAM must be associated with a
    // stream (9113-6.1-4, 9113-6.2-5, 9113-6.4-3): asked to send them on stream 0, the
    // connection refuses and writes nothing.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        let zero = StreamId::ZERO;
        assert_eq!(
            peer.conn.send_data(zero, "x".into(), true),
            Err(UserError::UnknownStream(zero))
        );
        assert_eq!(
            peer.conn.send_trailers(zero, trailers("x-t", "1")),
            Err(UserError::UnknownStream(zero))
        );
        assert_eq!(peer.conn.reset(zero, ErrorCode::CANCEL), Err(UserError::UnknownStream(zero)));
        assert_eq!(peer.conn.release_capacity(zero, 10), Err(UserError::UnknownStream(zero)));
        match role {
            Role::Server => assert_eq!(
                peer.conn.send_response(zero, status(200), true),
                Err(UserError::UnknownStream(zero))
            ),
            // A client's first request goes on stream 1, never 0.
            Role::Client => {
                let first = peer.conn.send_request(get("http://example.com/"), true).unwrap();
                assert_eq!(first, StreamId(1));
                let frames = peer.frames();
                assert!(matches!(&frames[..], [Frame::Headers(h)] if h.stream_id == first));
            }
        }
        peer.expect_silence();
    }
}

// ----- §6.2 field blocks we split -----

#[test]
fn rfc9113_6_2_a_field_block_we_split_continues_at_once_on_its_stream() {
    // RFC 9113 §6.2: a HEADERS frame without END_HEADERS is followed by a CONTINUATION on the
    // same stream (9113-6.2-3): with several large heads and trailers queued among DATA of
    // two streams, every split block runs to its END_HEADERS with nothing in between.
    let large = "v".repeat(40_000);
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        match role {
            Role::Server => {
                let head = peer.post(1, "/");
                peer.send(head);
                let head = peer.get(3, "/");
                peer.send(head);
                let mut response = status(200);
                response.headers_mut().insert("x-large", large.parse().unwrap());
                peer.conn.send_response(StreamId(1), response.clone(), false).unwrap();
                peer.conn.send_data(StreamId(1), Bytes::from(vec![0u8; 50_000]), false).unwrap();
                peer.conn.send_response(StreamId(3), response, true).unwrap();
            }
            Role::Client => {
                let mut request = http::Request::post("http://example.com/up").body(()).unwrap();
                request.headers_mut().insert("x-large", large.parse().unwrap());
                assert_eq!(peer.conn.send_request(request, false), Ok(StreamId(1)));
                peer.conn.send_data(StreamId(1), Bytes::from(vec![0u8; 50_000]), false).unwrap();
                let mut request = get("http://example.com/");
                request.headers_mut().insert("x-large", large.parse().unwrap());
                assert_eq!(peer.conn.send_request(request, true), Ok(StreamId(3)));
            }
        }
        peer.conn.send_trailers(StreamId(1), trailers("x-large-trailer", &large)).unwrap();
        let frames = peer.frames();
        let mut open_block: Option<StreamId> = None;
        let mut blocks_split = 0;
        for frame in &frames {
            if let Some(id) = open_block {
                match frame {
                    Frame::Continuation(c) if c.stream_id == id => {
                        if c.end_headers {
                            open_block = None;
                        }
                    }
                    other => panic!("{role:?}: {other:?} inside the field block of {id:?}"),
                }
                continue;
            }
            match frame {
                Frame::Headers(h) if !h.end_headers => {
                    open_block = Some(h.stream_id);
                    blocks_split += 1;
                }
                Frame::Continuation(c) => panic!("{role:?}: CONTINUATION outside a block: {c:?}"),
                _ => {}
            }
        }
        assert_eq!(open_block, None, "{role:?}: the last block is complete");
        assert_eq!(blocks_split, 3, "{role:?}: two heads and the trailers were split");
    }
}

// ----- §6.4 RST_STREAM -----

#[test]
fn rfc9113_6_4_nothing_more_is_sent_on_a_stream_the_peer_reset() {
    // RFC 9113 §6.4: after receiving RST_STREAM we send nothing more on that stream but
    // PRIORITY, which we never send (9113-6.4-1): queued DATA and trailers are dropped, new
    // ones refused, and neither credit the peer grants nor data the application releases
    // brings out a frame for it.
    for role in ROLES {
        let mut peer = match role {
            Role::Server => Peer::server(),
            Role::Client => Peer::client(),
        };
        peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 0));
        match role {
            Role::Server => {
                let head = peer.post(1, "/");
                peer.send(head);
                peer.conn.send_response(StreamId(1), status(200), false).unwrap();
            }
            Role::Client => peer.open_request(1, false),
        }
        if role == Role::Client {
            let head = peer.response(1, "200", false);
            peer.send(head);
        }
        peer.send(data(1, b"partial", false));
        peer.conn.send_data(StreamId(1), Bytes::from(vec![2u8; 1_000]), false).unwrap();
        peer.conn.send_trailers(StreamId(1), trailers("x-t", "1")).unwrap();
        peer.frames();
        peer.events();

        peer.send(rst(1, ErrorCode::CANCEL));
        let events = peer.events();
        assert!(
            matches!(
                &events[..],
                [Event::Reset { stream_id: StreamId(1), initiator: Initiator::Remote, .. }]
            ),
            "{role:?}: {events:?}"
        );
        peer.send(window_update(1, 10_000));
        peer.send(window_update(0, 10_000));
        assert!(peer.conn.send_data(StreamId(1), "x".into(), true).is_err());
        assert!(peer.conn.send_trailers(StreamId(1), trailers("x-t", "2")).is_err());
        assert_eq!(
            peer.conn.reset(StreamId(1), ErrorCode::CANCEL),
            Err(UserError::UnknownStream(StreamId(1)))
        );
        assert_eq!(peer.conn.read_data(StreamId(1)), None, "unread data was dropped");
        assert_eq!(peer.conn.release_capacity(StreamId(1), 7), Ok(()));
        let frames = peer.frames();
        assert!(
            frames.iter().all(|f| f.stream_id() != StreamId(1)),
            "{role:?}: nothing on the reset stream: {frames:?}"
        );
        assert!(peer.last_result.is_ok(), "{role:?}");
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_6_4_reset_is_refused_for_an_idle_stream() {
    // RFC 9113 §6.4: RST_STREAM is never sent for an idle stream (9113-6.4-5): reset() on a
    // stream that was never opened, of either side's ids, is refused and writes nothing.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        for id in [1, 2, 5, 6] {
            assert_eq!(
                peer.conn.reset(StreamId(id), ErrorCode::CANCEL),
                Err(UserError::UnknownStream(StreamId(id))),
                "{role:?} {id}"
            );
        }
        peer.expect_silence();
        // Once open, the same call resets it.
        peer.open_stream(1);
        peer.conn.reset(StreamId(1), ErrorCode::CANCEL).unwrap();
        assert_eq!(peer.frames(), vec![Frame::RstStream(rst(1, ErrorCode::CANCEL))], "{role:?}");
        assert_eq!(
            peer.conn.reset(StreamId(3), ErrorCode::CANCEL),
            Err(UserError::UnknownStream(StreamId(3)))
        );
        peer.expect_silence();
    }
}

// ----- §6.5.2 our settings -----

#[test]
fn rfc9113_6_5_2_our_server_advertises_a_non_zero_stream_limit() {
    // RFC 9113 §6.5.2: servers should set SETTINGS_MAX_CONCURRENT_STREAMS to 0 only briefly,
    // and rather close the connection when they do not want requests (9113-6.5.2-9): ours
    // advertises Config::max_concurrent_streams (128 by default), and shutdown() says
    // GOAWAY instead of lowering the limit.
    let mut peer = Peer::server();
    let ours = peer.handshake();
    let Frame::Settings(settings) = &ours[0] else { panic!("{ours:?}") };
    assert_eq!(settings.get(SettingId::MAX_CONCURRENT_STREAMS), Some(128));
    assert_eq!(Config::default().max_concurrent_streams, 128);
    peer.conn.shutdown();
    let frames = peer.frames();
    assert!(
        frames.iter().any(|f| matches!(f, Frame::GoAway(g) if g.error_code == ErrorCode::NO_ERROR)),
        "{frames:?}"
    );
    assert!(!frames.iter().any(|f| matches!(f, Frame::Settings(_))), "{frames:?}");
}

#[test]
fn rfc9113_6_5_2_update_settings_refuses_values_out_of_range() {
    // RFC 9113 §6.5.2: the SETTINGS_MAX_FRAME_SIZE we advertise lies within 2^14..=2^24-1
    // (9113-6.5.2-11); update_settings checks every value before anything is sent.
    let bad = [
        (SettingId::MAX_FRAME_SIZE, (1 << 14) - 1),
        (SettingId::MAX_FRAME_SIZE, 1 << 24),
        (SettingId::MAX_FRAME_SIZE, 0),
        (SettingId::INITIAL_WINDOW_SIZE, 1 << 31),
        (SettingId::ENABLE_PUSH, 2),
    ];
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        for (id, value) in bad {
            let settings = Settings::new().with(SettingId::HEADER_TABLE_SIZE, 1024).with(id, value);
            assert!(
                matches!(peer.conn.update_settings(settings), Err(UserError::InvalidSetting(_))),
                "{role:?} {id:?}={value}"
            );
        }
        peer.expect_silence();
        for value in [1 << 14, (1 << 24) - 1] {
            let settings = Settings::new().with(SettingId::MAX_FRAME_SIZE, value);
            peer.conn.update_settings(settings.clone()).unwrap();
            assert_eq!(peer.frames(), vec![Frame::Settings(settings)], "{role:?}");
        }
    }
}

#[test]
fn rfc9113_6_5_2_our_header_list_limit_applies_from_the_start() {
    // RFC 9113 §6.5.2: a lower limit than the one in effect may be enforced for a request
    // (9113-6.5.2-13). Ours is exactly the SETTINGS_MAX_HEADER_LIST_SIZE we advertise, and it
    // holds from the first block, before the peer has acknowledged it (until then the value
    // in effect is still "unlimited").
    let mut config = Config::default();
    config.max_header_list_size = 1024;
    let big = "b".repeat(2000);

    let mut peer = Peer::server_with(config.clone());
    let ours = peer.handshake_unacked(Settings::new());
    assert!(
        matches!(&ours[0], Frame::Settings(s) if s.get(SettingId::MAX_HEADER_LIST_SIZE) == Some(1024)),
        "{ours:?}"
    );
    let head = peer.request(
        1,
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "example.com"),
            (":path", "/"),
            ("x-big", &big),
        ],
        true,
    );
    peer.send(head);
    let frames = peer.frames();
    assert!(
        matches!(&frames[..], [Frame::Headers(h)] if h.stream_id == StreamId(1) && h.end_stream),
        "a 431 answers it: {frames:?}"
    );
    assert!(!peer.events().iter().any(|e| matches!(e, Event::Request { .. })));
    // Within the limit, fine.
    let head = peer.get(3, "/");
    peer.send(head);
    assert!(peer.events().iter().any(|e| matches!(e, Event::Request { .. })));

    let mut peer = Peer::client_with(config);
    peer.handshake_unacked(Settings::new());
    peer.open_request(1, true);
    let block = peer.block(&[(":status", "200"), ("x-big", &big)]);
    peer.send(Headers::new(StreamId(1), block, true));
    assert_eq!(peer.frames(), vec![Frame::RstStream(rst(1, ErrorCode::PROTOCOL_ERROR))]);
    assert!(!peer.events().iter().any(|e| matches!(e, Event::Response { .. })));
}
