//! RFC 9113 §6.6 to §7, the statements the older suites left unproven: PUSH_PROMISE as a
//! field block (padding, CONTINUATION, the ENABLE_PUSH setting in effect), the bytes of the
//! PINGs we write and when the ACK goes out, what a GOAWAY sender still processes, frames
//! exempt from flow control, the empty END_STREAM DATA, a lowered initial window, the field
//! blocks we continue, and unknown error codes. Each test names the section it proves.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{
    Continuation, Data, Frame, FrameDecoder, FrameHeader, FrameType, HEADER_LEN, Headers, Ping,
    Priority, PrioritySpec, PushPromise, RawFrame, SettingId, Settings, StreamId, flags,
};
use h2proto::hpack::Decoder;
use h2proto::{Config, ErrorCode, Event, Initiator, Role, buf_to_vec};
use support::*;

const ROLES: [Role; 2] = [Role::Server, Role::Client];

const PUSHED: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":authority", "example.com"),
    (":path", "/style.css"),
];

/// A client under test that accepts pushes, the handshake done.
fn push_client() -> Peer {
    let mut config = Config::default();
    config.enable_push = true;
    Peer::connected(Role::Client, config)
}

/// Client under test: sends a GET (END_STREAM) and drops what it wrote.
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

fn promised_ids(events: &[Event]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PushPromise { promised_id, .. } => Some(promised_id.0),
            _ => None,
        })
        .collect()
}

/// The frame headers in `wire`, in order (payloads skipped).
fn heads(wire: &[u8]) -> Vec<FrameHeader> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + HEADER_LEN <= wire.len() {
        let head: &[u8; HEADER_LEN] = wire[at..at + HEADER_LEN].try_into().unwrap();
        let head = FrameHeader::decode(head);
        at += HEADER_LEN + head.length as usize;
        out.push(head);
    }
    assert_eq!(at, wire.len(), "whole frames");
    out
}

fn decode_all(wire: &[u8]) -> Vec<Frame> {
    let mut decoder = FrameDecoder::new();
    decoder.set_max_frame_size(1 << 24);
    decoder.extend(wire);
    std::iter::from_fn(|| decoder.next_frame().expect("valid frames")).collect()
}

// ----- §6.6 PUSH_PROMISE -----

#[test]
fn rfc9113_6_6_push_promise_padding_we_encode_is_zero() {
    // RFC 9113 §6.6: padding octets are zero when sending. The connection never pushes;
    // the frame codec, which writes any PUSH_PROMISE a caller builds, pads with zeros,
    // whole or split into CONTINUATIONs.
    let frame = PushPromise {
        stream_id: StreamId(1),
        promised_id: StreamId(2),
        fragment: Bytes::from_static(&[0x82, 0x86, 0x84]),
        end_headers: true,
        pad_len: Some(9),
    };
    let mut wire = BytesMut::new();
    frame.encode(&mut wire);
    // Header, Pad Length, Promised Stream ID, the fragment, then the padding.
    assert_eq!(wire.len(), HEADER_LEN + 1 + 4 + 3 + 9);
    assert_eq!(wire[HEADER_LEN], 9);
    assert!(wire[wire.len() - 9..].iter().all(|&b| b == 0), "{wire:?}");

    let mut split = BytesMut::new();
    PushPromise { fragment: Bytes::from(vec![0x82; 100]), ..frame }.encode_split(40, &mut split);
    let Frame::PushPromise(first) = &decode_all(&split)[0] else { panic!("{split:?}") };
    let first_len = HEADER_LEN + 1 + 4 + first.fragment.len() + 9;
    assert!(split[first_len - 9..first_len].iter().all(|&b| b == 0), "{split:?}");
}

#[test]
fn rfc9113_6_6_a_split_push_promise_is_followed_by_continuations_on_its_stream() {
    // RFC 9113 §6.6: a PUSH_PROMISE without END_HEADERS is followed by CONTINUATION frames
    // of the same stream; END_HEADERS is on the last one only.
    let frame = PushPromise {
        stream_id: StreamId(5),
        promised_id: StreamId(8),
        fragment: Bytes::from((0..250u8).collect::<Vec<_>>()),
        end_headers: true,
        pad_len: None,
    };
    let mut wire = BytesMut::new();
    frame.encode_split(64, &mut wire);
    let frames = decode_all(&wire);
    assert!(frames.len() >= 4, "{frames:?}");
    let Frame::PushPromise(head) = &frames[0] else { panic!("{frames:?}") };
    assert!(!head.end_headers);
    let mut block = head.fragment.to_vec();
    for (i, f) in frames[1..].iter().enumerate() {
        let Frame::Continuation(c) = f else { panic!("{frames:?}") };
        assert_eq!(c.stream_id, StreamId(5));
        assert_eq!(c.end_headers, i == frames.len() - 2, "END_HEADERS on the last only");
        block.extend_from_slice(&c.fragment);
    }
    assert_eq!(block, frame.fragment);
}

#[test]
fn rfc9113_6_6_non_zero_padding_is_accepted() {
    // RFC 9113 §6.6: a receiver MAY treat non-zero padding as an error; we do not inspect
    // padding, so a padded PUSH_PROMISE with garbage padding is accepted.
    let mut peer = push_client();
    let id = open_get(&mut peer);
    let block = peer.block(PUSHED);
    let raw = RawFrame::new(FrameType::PUSH_PROMISE, id.0)
        .flags(flags::END_HEADERS | flags::PADDED)
        .payload([4u8])
        .append(2u32.to_be_bytes())
        .append(&block)
        .append([0xde, 0xad, 0xbe, 0xef]);
    peer.send_raw(raw);
    peer.expect_quiet();
    assert_eq!(promised_ids(&peer.events()), vec![2]);
    peer.expect_alive();
}

#[test]
fn rfc9113_6_6_frame_inside_a_push_promise_block_is_protocol_error() {
    // RFC 9113 §6.6: after a PUSH_PROMISE without END_HEADERS, any frame but a
    // CONTINUATION of the same stream is a connection error PROTOCOL_ERROR.
    let interlopers: Vec<(&str, Frame)> = vec![
        ("PING", Frame::Ping(Ping { ack: false, payload: [0; 8] })),
        ("DATA on the associated stream", Frame::Data(data(1, b"x", false))),
        (
            "HEADERS on the promised stream",
            Frame::Headers(Headers::new(StreamId(2), vec![0x88], true)),
        ),
        (
            "CONTINUATION of the promised stream",
            Frame::Continuation(Continuation {
                stream_id: StreamId(2),
                fragment: Bytes::new(),
                end_headers: true,
            }),
        ),
        ("WINDOW_UPDATE", Frame::WindowUpdate(window_update(0, 10))),
        (
            "PRIORITY on the associated stream",
            Frame::Priority(Priority {
                stream_id: StreamId(1),
                spec: PrioritySpec { dependency: StreamId::ZERO, exclusive: false, weight: 16 },
            }),
        ),
    ];
    for (what, frame) in interlopers {
        let mut peer = push_client();
        let id = open_get(&mut peer);
        let mut first = promise(&mut peer, id, 2, PUSHED);
        first.fragment = first.fragment.slice(..2);
        first.end_headers = false;
        peer.send(first);
        peer.expect_silence();
        peer.send(frame);
        peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
        assert!(peer.last_result.is_err(), "{what}");
        assert!(promised_ids(&peer.events()).is_empty(), "{what}");
    }
}

#[test]
fn rfc9113_6_6_malformed_push_promise_is_a_connection_error() {
    // RFC 9113 §6.6: a PUSH_PROMISE on stream 0, or whose padding is as long as the payload
    // or longer, is a connection error PROTOCOL_ERROR, also when push is enabled.
    let bad = [
        ("stream 0", RawFrame::new(FrameType::PUSH_PROMISE, 0).flags(flags::END_HEADERS)),
        (
            "padding over the payload",
            RawFrame::new(FrameType::PUSH_PROMISE, 1)
                .flags(flags::END_HEADERS | flags::PADDED)
                .payload([8u8]),
        ),
    ];
    for (what, raw) in bad {
        let mut peer = push_client();
        let id = open_get(&mut peer);
        assert_eq!(id, StreamId(1));
        let block = peer.block(PUSHED);
        let raw = if what == "stream 0" {
            raw.payload(2u32.to_be_bytes()).append(&block)
        } else {
            // 8 bytes of padding for 4 + 3 bytes of rest.
            raw.append(2u32.to_be_bytes()).append([0x82, 0x86, 0x84])
        };
        peer.send_raw(raw);
        peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
        assert!(peer.last_result.is_err(), "{what}");
        assert!(promised_ids(&peer.events()).is_empty(), "{what}");
    }
}

#[test]
fn rfc9113_6_6_the_acknowledged_enable_push_decides() {
    // RFC 9113 §6.6: once our SETTINGS_ENABLE_PUSH = 0 is acknowledged, PUSH_PROMISE is a
    // connection error PROTOCOL_ERROR; before the ACK the server may not have seen it yet.
    let mut peer = push_client();
    let id = peer.conn.send_request(get("https://example.com/"), false).unwrap();
    peer.frames();
    peer.conn.update_settings(Settings::new().with(SettingId::ENABLE_PUSH, 0)).unwrap();
    let frames = peer.frames();
    assert!(
        matches!(&frames[..], [Frame::Settings(s)] if s.get(SettingId::ENABLE_PUSH) == Some(0)),
        "{frames:?}"
    );
    let frame = promise(&mut peer, id, 2, PUSHED);
    peer.send(frame);
    peer.expect_quiet();
    assert_eq!(promised_ids(&peer.events()), vec![2], "in flight before the ACK");
    peer.send(Settings::ack());
    peer.events();
    let frame = promise(&mut peer, id, 4, PUSHED);
    peer.send(frame);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    assert!(promised_ids(&peer.events()).is_empty());

    // And the other way: a client that starts with push disabled and enables it takes
    // pushes once the server has acknowledged.
    let mut peer = Peer::connected(Role::Client, Config::default());
    let id = open_get(&mut peer);
    peer.conn.update_settings(Settings::new().with(SettingId::ENABLE_PUSH, 1)).unwrap();
    peer.frames();
    peer.send(Settings::ack());
    let frame = promise(&mut peer, id, 2, PUSHED);
    peer.send(frame);
    peer.expect_quiet();
    assert_eq!(promised_ids(&peer.events()), vec![2]);
}

// ----- §6.7 PING -----

#[test]
fn rfc9113_6_7_pings_we_write_carry_8_octets() {
    // RFC 9113 §6.7: PING frames contain 8 octets of opaque data, ours and our ACKs alike,
    // keepalive PINGs included.
    for role in ROLES {
        let mut config = Config::default();
        config.keepalive_interval = Some(std::time::Duration::from_secs(1));
        config.idle_timeout = None;
        let mut peer = Peer::connected(role, config);
        peer.conn.ping(*b"ours....").unwrap();
        peer.send(Ping { ack: false, payload: *b"theirs.." });
        let mut wire = buf_to_vec(peer.conn.transmit());
        // The keepalive PING comes one to two intervals after the last frame received.
        for _ in 0..3 {
            peer.advance(std::time::Duration::from_secs(1));
            wire.extend(buf_to_vec(peer.conn.transmit()));
        }
        let pings: Vec<FrameHeader> =
            heads(&wire).into_iter().filter(|h| h.kind == FrameType::PING).collect();
        assert_eq!(pings.len(), 3, "{role:?}: ours, the ACK, a keepalive: {pings:?}");
        assert!(pings.iter().all(|h| h.length == 8 && h.stream_id.is_zero()), "{pings:?}");
        assert_eq!(pings.iter().filter(|h| h.has(flags::ACK)).count(), 1);
    }
}

#[test]
fn rfc9113_6_7_ping_ack_goes_out_before_queued_data() {
    // RFC 9113 §6.7: PING responses SHOULD be given higher priority than any other frame:
    // the ACK is written at once, ahead of DATA that waits to be framed.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        if role == Role::Server {
            peer.conn.send_response(StreamId(1), status(200), false).unwrap();
            peer.frames();
        }
        assert_eq!(
            peer.conn.send_data(StreamId(1), Bytes::from(vec![0; 40_000]), false),
            Ok(40_000)
        );
        peer.send(Ping { ack: false, payload: *b"urgent!!" });
        let frames = peer.frames();
        assert_eq!(frames[0], Frame::Ping(Ping { ack: true, payload: *b"urgent!!" }), "{role:?}");
        let data: usize = frames[1..]
            .iter()
            .map(|f| match f {
                Frame::Data(d) => d.data.len(),
                other => panic!("{role:?}: {other:?}"),
            })
            .sum();
        assert_eq!(data, 40_000);
    }
}

// ----- §6.8 GOAWAY -----

#[test]
fn rfc9113_6_8_frames_above_our_goaway_keep_hpack_and_the_connection_window() {
    // RFC 9113 §6.8: after our final GOAWAY, the streams above it are ignored, but their
    // HEADERS and CONTINUATION frames are still decoded (HPACK stays in sync) and their
    // DATA still counts toward the connection window (and is credited back).
    let mut config = Config::default();
    config.initial_connection_window_size = 65_535;
    let mut peer = Peer::connected(Role::Server, config);
    peer.open_stream(1);
    peer.conn.shutdown();
    let payload = announced_shutdown(&peer.frames());
    peer.send(Ping { ack: true, payload });
    assert_eq!(peer.expect_goaway(ErrorCode::NO_ERROR).last_stream_id, StreamId(1));

    // Stream 3, above the GOAWAY: a head in HEADERS + CONTINUATION that inserts a field.
    let block = peer.block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":authority", "example.com"),
        (":path", "/late"),
        ("x-sync", "kept"),
    ]);
    let mut head = Headers::new(StreamId(3), block.slice(..4), false);
    head.end_headers = false;
    peer.send(head);
    peer.send(Continuation {
        stream_id: StreamId(3),
        fragment: block.slice(4..),
        end_headers: true,
    });
    // Its body: the whole connection window, credited back as it is discarded.
    let mut credited = 0;
    for len in [16_384, 16_384, 16_384, 16_383] {
        peer.send(Data::new(StreamId(3), Bytes::from(vec![3; len]), false));
        for f in peer.frames() {
            match f {
                Frame::WindowUpdate(w) if w.stream_id.is_zero() => credited += w.increment,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(peer.last_result.is_ok(), "{:?}", peer.last_result);
    assert_eq!(credited, 65_535, "every discarded byte counted and credited back");
    assert!(peer.events().is_empty(), "stream 3 is ignored");

    // Stream 1's trailers refer to the entry stream 3's block inserted.
    let trailers = peer.block(&[("x-sync", "kept")]);
    assert!(Decoder::new().decode(&trailers, |_| {}).is_err(), "needs the dynamic table");
    peer.send(Headers::new(StreamId(1), trailers, true));
    peer.expect_quiet();
    let events = peer.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Trailers { trailers, .. } if trailers["x-sync"] == "kept")),
        "{events:?}"
    );
}

#[test]
fn rfc9113_6_8_push_promise_after_our_goaway_is_still_decoded() {
    // RFC 9113 §6.8: PUSH_PROMISE frames are processed after our GOAWAY far enough to keep
    // the field section compression state in sync.
    let mut peer = push_client();
    let id = open_get(&mut peer);
    peer.conn.shutdown();
    assert_eq!(peer.expect_goaway(ErrorCode::NO_ERROR).last_stream_id, StreamId::ZERO);
    let frame = promise(&mut peer, id, 2, &[PUSHED, &[("x-sync", "kept")]].concat());
    peer.send(frame);
    peer.events();
    let block = peer.block(&[(":status", "200"), ("x-sync", "kept")]);
    assert!(Decoder::new().decode(&block, |_| {}).is_err(), "needs the dynamic table");
    peer.send(Headers::new(id, block, true));
    let events = peer.events();
    assert!(
        events.iter().any(|e| matches!(e, Event::Response { response, .. } if response.headers()["x-sync"] == "kept")),
        "{events:?}"
    );
}

#[test]
fn rfc9113_6_8_our_goaway_debug_data_is_our_own_reason() {
    // RFC 9113 §6.8: endpoints MAY append opaque data to GOAWAY. Ours is a fixed text that
    // names the reason of a connection error (never bytes of the peer's); a graceful
    // shutdown adds none.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.send_raw(RawFrame::new(FrameType::PING, 1).payload(*b"secret!!"));
        let goaway = peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
        assert_eq!(&goaway.debug_data[..], b"PING frame on a stream", "{role:?}");

        let mut peer = Peer::connected(role, Config::default());
        peer.conn.shutdown();
        let goaway = peer.expect_goaway(ErrorCode::NO_ERROR);
        assert!(goaway.debug_data.is_empty(), "{role:?}");
    }
}

// ----- §6.9 WINDOW_UPDATE -----

#[test]
fn rfc9113_6_9_frames_exempt_from_flow_control_are_processed_with_no_window() {
    // RFC 9113 §6.9: frames other than DATA are accepted and processed however little of
    // the receive windows is left: here none at all.
    for role in ROLES {
        let mut config = Config::default();
        config.initial_connection_window_size = 65_535;
        config.initial_stream_window_size = 65_535;
        config.auto_release_capacity = false;
        let mut peer = Peer::connected(role, config);
        peer.open_stream(1);
        for len in [16_384, 16_384, 16_384, 16_383] {
            peer.send(Data::new(StreamId(1), Bytes::from(vec![1; len]), false));
        }
        peer.expect_silence();
        // Both windows are empty now.
        peer.send(Ping { ack: false, payload: *b"no-room!" });
        peer.send(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 50));
        peer.send(window_update(0, 1_000));
        peer.send(window_update(1, 1_000));
        let frames = peer.frames();
        assert_eq!(
            frames,
            vec![
                Frame::Ping(Ping { ack: true, payload: *b"no-room!" }),
                Frame::Settings(Settings::ack())
            ],
            "{role:?}"
        );
        assert_eq!(peer.conn.connection_send_window(), 65_535 + 1_000);
        // A new stream's head, and trailers that end stream 1.
        if role == Role::Server {
            let head = peer.get(3, "/more");
            peer.send(head);
        } else {
            let id = peer.conn.send_request(get("http://example.com/more"), true).unwrap();
            peer.frames();
            let head = peer.response(id.0, "204", true);
            peer.send(head);
        }
        let trailers = peer.block(&[("x-checksum", "1")]);
        peer.send(Headers::new(StreamId(1), trailers, true));
        peer.expect_quiet();
        let events = peer.events();
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::Request { stream_id: StreamId(3), .. }
                    | Event::Response { stream_id: StreamId(3), .. }
            )),
            "{role:?}: {events:?}"
        );
        assert!(events.iter().any(|e| matches!(e, Event::Trailers { stream_id: StreamId(1), .. })));
        // The windows really were empty: one more byte of DATA overruns them.
        if role == Role::Server {
            peer.conn.send_response(StreamId(3), status(200), false).unwrap();
            peer.frames();
        }
        peer.send(data(3, b"x", false));
        peer.expect_goaway(ErrorCode::FLOW_CONTROL_ERROR);
    }
}

#[test]
fn rfc9113_6_9_data_in_error_still_counts_toward_the_connection_window() {
    // RFC 9113 §6.9: a flow-controlled frame counts against the connection window even when
    // it is in error (a stream error, or discarded): exactly the bytes left fit, one more is
    // a connection error FLOW_CONTROL_ERROR.
    type Setup = fn(&mut Peer) -> u32;
    let half_closed_remote: Setup = |peer| {
        let head = peer.get(9, "/");
        peer.send(head);
        9
    };
    let reset_by_us: Setup = |peer| {
        let head = peer.post(9, "/");
        peer.send(head);
        peer.conn.reset(StreamId(9), ErrorCode::CANCEL).unwrap();
        9
    };
    let reset_by_peer: Setup = |peer| {
        let head = peer.post(9, "/");
        peer.send(head);
        peer.send(rst(9, ErrorCode::CANCEL));
        9
    };
    // Stream 5 has 50 bytes of its window left.
    let over_stream_window: Setup = |_| 5;
    let cases: [(&str, Setup, Option<ErrorCode>); 4] = [
        ("half-closed (remote)", half_closed_remote, Some(ErrorCode::STREAM_CLOSED)),
        ("reset by us", reset_by_us, None),
        ("reset by the peer", reset_by_peer, Some(ErrorCode::STREAM_CLOSED)),
        ("over the stream window", over_stream_window, Some(ErrorCode::FLOW_CONTROL_ERROR)),
    ];
    for (what, setup, reset) in cases {
        for extra in [0, 1] {
            let mut config = Config::default();
            config.initial_connection_window_size = 65_535;
            config.initial_stream_window_size = 16_384;
            config.auto_release_capacity = false;
            let mut peer = Peer::connected(Role::Server, config);
            // Four streams take all but 100 bytes of the connection window (never read).
            for (id, len) in [(1, 16_384), (3, 16_384), (5, 16_334), (7, 16_333)] {
                let head = peer.post(id, "/");
                peer.send(head);
                peer.send(Data::new(StreamId(id), Bytes::from(vec![1; len]), false));
            }
            peer.expect_silence();
            let id = setup(&mut peer);
            peer.frames();
            peer.events();
            peer.send(Data::new(StreamId(id), Bytes::from(vec![9; 100 + extra]), false));
            if extra == 1 {
                peer.expect_goaway(ErrorCode::FLOW_CONTROL_ERROR);
                assert!(peer.last_result.is_err(), "{what}");
                continue;
            }
            match reset {
                Some(code) => peer.expect_reset(id, code),
                None => peer.expect_quiet(),
            }
            assert!(peer.last_result.is_ok(), "{what}: {:?}", peer.last_result);
        }
    }
}

// ----- §6.9.1 The flow-control window -----

#[test]
fn rfc9113_6_9_1_empty_end_stream_data_needs_no_window() {
    // RFC 9113 §6.9.1: a DATA frame of zero length with END_STREAM MAY be sent with no space
    // in either window; we send it, while data waits for credit.
    for role in ROLES {
        let mut peer = match role {
            Role::Server => Peer::server(),
            Role::Client => Peer::client(),
        };
        peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 0));
        // Stream 1 ends with an empty DATA frame; stream 3 has a byte to send and waits.
        for id in [1, 3] {
            peer.open_stream(id);
            if role == Role::Server {
                peer.conn.send_response(StreamId(id), status(200), false).unwrap();
                peer.frames();
            }
        }
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(0));
        assert_eq!(peer.conn.send_data(StreamId(3), Bytes::from_static(b"x"), true), Ok(1));
        assert_eq!(peer.conn.send_data(StreamId(1), Bytes::new(), true), Ok(0));
        let frames = peer.frames();
        assert!(
            matches!(&frames[..], [Frame::Data(d)] if d.stream_id == StreamId(1) && d.data.is_empty() && d.end_stream),
            "{role:?}: {frames:?}"
        );
    }
}

// ----- §6.9.3 Reducing the stream window size -----

#[test]
fn rfc9113_6_9_3_a_lowered_initial_window_applies_on_ack_and_streams_go_on() {
    // RFC 9113 §6.9.3: after we lower SETTINGS_INITIAL_WINDOW_SIZE, data sent against the
    // old window before the peer saw our SETTINGS is accepted. Once acknowledged, a stream
    // whose window went negative is not reset: reading gives credit back until the window
    // is the new size, and only data beyond that is a stream error FLOW_CONTROL_ERROR.
    for role in ROLES {
        let mut config = Config::default();
        config.initial_stream_window_size = 65_535;
        let mut peer = Peer::connected(role, config);
        peer.open_stream(1);
        peer.conn
            .update_settings(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 10_000))
            .unwrap();
        peer.frames();
        // In flight before the peer processed the SETTINGS: 30,000 bytes, over the new size.
        for _ in 0..3 {
            peer.send(Data::new(StreamId(1), Bytes::from(vec![1; 10_000]), false));
        }
        peer.expect_silence();
        peer.send(Settings::ack());
        peer.expect_silence();
        // The stream's window is now 10,000 - 65,535 + 35,535 = -20,000: the stream lives on.
        let mut read = 0;
        while let Some(chunk) = peer.conn.read_data(StreamId(1)) {
            read += chunk.len();
        }
        assert_eq!(read, 30_000, "{role:?}");
        let credit: u32 = peer
            .frames()
            .iter()
            .filter_map(|f| match f {
                Frame::WindowUpdate(w) if w.stream_id == StreamId(1) => Some(w.increment),
                Frame::WindowUpdate(_) => None,
                other => panic!("{role:?}: {other:?}"),
            })
            .sum();
        assert_eq!(credit, 30_000, "{role:?}: back to the new initial window, 10,000");
        peer.send(Data::new(StreamId(1), Bytes::from(vec![1; 10_000]), false));
        peer.expect_silence();
        peer.send(data(1, b"x", false));
        peer.expect_reset(1, ErrorCode::FLOW_CONTROL_ERROR);
    }
}

// ----- §6.10 CONTINUATION -----

#[test]
fn rfc9113_6_10_the_field_blocks_we_continue_stay_on_their_stream() {
    // RFC 9113 §6.10: a CONTINUATION we send follows a HEADERS or CONTINUATION without
    // END_HEADERS, is on that frame's stream (never 0), and is followed by another
    // CONTINUATION until the one with END_HEADERS.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        let big = "v".repeat(40_000);
        let id = if role == Role::Server {
            let head = peer.get(1, "/");
            peer.send(head);
            peer.events();
            let mut response = status(200);
            response.headers_mut().insert("x-big", big.parse().unwrap());
            peer.conn.send_response(StreamId(1), response, true).unwrap();
            StreamId(1)
        } else {
            let mut request = get("http://example.com/");
            request.headers_mut().insert("x-big", big.parse().unwrap());
            peer.conn.send_request(request, true).unwrap()
        };
        let wire = buf_to_vec(peer.conn.transmit());
        let heads = heads(&wire);
        assert!(heads.len() >= 3, "{role:?}: {heads:?}");
        assert_eq!(heads[0].kind, FrameType::HEADERS);
        assert!(!heads[0].has(flags::END_HEADERS));
        for (i, h) in heads.iter().enumerate().skip(1) {
            assert_eq!((h.kind, h.stream_id), (FrameType::CONTINUATION, id), "{role:?}: {heads:?}");
            assert_eq!(h.has(flags::END_HEADERS), i == heads.len() - 1, "{role:?}: {heads:?}");
        }
    }
}

#[test]
fn rfc9113_6_10_frame_after_a_continuation_without_end_headers_is_protocol_error() {
    // RFC 9113 §6.10: after a CONTINUATION without END_HEADERS, any other frame, or a
    // CONTINUATION of another stream, is a connection error PROTOCOL_ERROR.
    let interlopers: Vec<(&str, Frame)> = vec![
        ("PING", Frame::Ping(Ping { ack: false, payload: [0; 8] })),
        ("DATA on the same stream", Frame::Data(data(1, b"x", false))),
        ("HEADERS on another stream", Frame::Headers(Headers::new(StreamId(3), vec![0x82], true))),
        ("SETTINGS", Frame::Settings(Settings::new())),
        ("RST_STREAM on the same stream", Frame::RstStream(rst(1, ErrorCode::CANCEL))),
        (
            "CONTINUATION on another stream",
            Frame::Continuation(Continuation {
                stream_id: StreamId(3),
                fragment: Bytes::new(),
                end_headers: true,
            }),
        ),
    ];
    for role in ROLES {
        for (what, frame) in &interlopers {
            let mut peer = Peer::connected(role, Config::default());
            let block = if role == Role::Server {
                peer.block(&[
                    (":method", "GET"),
                    (":scheme", "http"),
                    (":authority", "example.com"),
                    (":path", "/"),
                ])
            } else {
                peer.open_request(1, true);
                peer.block(&[(":status", "200"), ("x-filler", "0123456789")])
            };
            let mut head = Headers::new(StreamId(1), block.slice(..2), true);
            head.end_headers = false;
            peer.send(head);
            peer.send(Continuation {
                stream_id: StreamId(1),
                fragment: block.slice(2..4),
                end_headers: false,
            });
            peer.expect_silence();
            peer.send(frame.clone());
            peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
            assert!(peer.last_result.is_err(), "{role:?}: {what}");
            let events = peer.events();
            assert!(
                !events.iter().any(|e| matches!(e, Event::Request { .. } | Event::Response { .. })),
                "{role:?}: {what}: {events:?}"
            );
        }
    }
}

#[test]
fn rfc9113_6_10_continuation_on_stream_0_is_a_connection_error() {
    // RFC 9113 §6.10: a CONTINUATION on stream 0 is a connection error PROTOCOL_ERROR, in
    // a field block or outside one.
    for role in ROLES {
        for in_block in [false, true] {
            let mut peer = Peer::connected(role, Config::default());
            if in_block {
                let block = if role == Role::Server {
                    let head = peer.get(1, "/");
                    head.fragment
                } else {
                    peer.open_request(1, true);
                    peer.block(&[(":status", "200")])
                };
                let mut head = Headers::new(StreamId(1), block, true);
                head.end_headers = false;
                peer.send(head);
                peer.expect_silence();
            }
            peer.send_raw(RawFrame::new(FrameType::CONTINUATION, 0).flags(flags::END_HEADERS));
            peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
            assert!(peer.last_result.is_err(), "{role:?}, in a block: {in_block}");
        }
    }
}

// ----- §7 Error codes -----

#[test]
fn rfc9113_7_unknown_error_codes_act_like_internal_error() {
    // RFC 9113 §7: unknown error codes trigger nothing special; we treat them as
    // INTERNAL_ERROR (the MAY), reporting the code as received.
    let unknown = ErrorCode(0xdead);
    for role in ROLES {
        // RST_STREAM: the stream is reset, not retryable, the connection lives on.
        let mut outcomes = Vec::new();
        for code in [ErrorCode::INTERNAL_ERROR, unknown] {
            let mut peer = Peer::connected(role, Config::default());
            peer.open_stream(1);
            peer.send(rst(1, code));
            peer.expect_silence();
            let events = peer.events();
            let [
                Event::Reset {
                    stream_id: StreamId(1),
                    error_code,
                    initiator: Initiator::Remote,
                    retryable,
                },
            ] = &events[..]
            else {
                panic!("{role:?}: {events:?}")
            };
            assert_eq!(*error_code, code);
            assert_eq!(peer.conn.active_streams(), 0);
            peer.expect_alive();
            outcomes.push(*retryable);
        }
        assert_eq!(outcomes, vec![false, false], "{role:?}");

        // GOAWAY with nothing left to finish (a client's stream 1 is above last id 0, so
        // refused): the connection ends, the code reported; all we send is our own GOAWAY
        // NO_ERROR (§6.8), the same for both codes.
        let mut outcomes = Vec::new();
        for code in [ErrorCode::INTERNAL_ERROR, unknown] {
            let mut peer = Peer::connected(role, Config::default());
            if role == Role::Client {
                peer.open_stream(1);
            }
            peer.send(goaway(0, code));
            let error = peer.last_result.clone().expect_err("the connection ended");
            assert_eq!((error.code, error.initiator), (code, Initiator::Remote));
            let frames = peer.frames();
            assert!(
                matches!(&frames[..], [Frame::GoAway(g)] if g.error_code == ErrorCode::NO_ERROR),
                "{role:?}: {frames:?}"
            );
            assert!(peer.conn.is_closed());
            let events = peer.events();
            let shape: Vec<&str> = events
                .iter()
                .map(|e| match e {
                    Event::GoAway { error_code, .. } if *error_code == code => "goaway",
                    Event::Reset { stream_id: StreamId(1), .. } => "reset",
                    Event::Closed { error: Some(e) } if e.code == code => "closed",
                    other => panic!("{role:?}: {other:?}"),
                })
                .collect();
            outcomes.push(shape);
        }
        assert_eq!(outcomes[0], outcomes[1], "{role:?}");
    }
}
