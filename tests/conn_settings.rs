//! RFC 9113 §3.4 connection preface and §6.5 SETTINGS (§6.5.2 parameters, §6.5.3
//! synchronization), proven at the frame level for both roles.

mod support;

use bytes::Bytes;
use h2proto::frame::{
    Data, Frame, FrameType, HEADER_LEN, Ping, RawFrame, SettingId, Settings, StreamId, flags,
};
use h2proto::{Config, Connection, ErrorCode, Event, PREFACE, Role, UserError};
use std::time::Duration;
use support::*;

const ROLES: [Role; 2] = [Role::Server, Role::Client];

fn fresh(role: Role, config: Config) -> Peer {
    match role {
        Role::Server => Peer::server_with(config),
        Role::Client => Peer::client_with(config),
    }
}

fn zeros(n: usize) -> Bytes {
    Bytes::from(vec![0u8; n])
}

/// Client under test: asserts the connection failed with a connection error `code` and
/// reported it sticky.
#[track_caller]
fn expect_connection_error(peer: &mut Peer, code: ErrorCode) {
    peer.expect_goaway(code);
    let error = peer.last_result.clone().expect_err("recv reports the connection error");
    assert_eq!(error.code, code);
    assert_eq!(peer.conn.error().map(|e| e.code), Some(code));
}

// ----- §3.4 preface -----

#[test]
fn rfc9113_3_4_first_frame_not_settings_is_protocol_error() {
    // RFC 9113 §3.4: the preface's first frame must be SETTINGS (not even a SETTINGS ACK);
    // anything else is a connection error PROTOCOL_ERROR.
    for role in ROLES {
        for first in [
            Frame::Ping(Ping { ack: false, payload: [0; 8] }),
            Frame::Settings(Settings::ack()),
            Frame::WindowUpdate(window_update(0, 1000)),
        ] {
            let mut peer = fresh(role, Config::default());
            if role == Role::Server {
                peer.send_bytes(PREFACE);
            }
            peer.send(first.clone());
            expect_connection_error(&mut peer, ErrorCode::PROTOCOL_ERROR);
            assert!(
                !peer.frames().iter().any(|f| matches!(f, Frame::Ping(p) if p.ack)),
                "{role:?} {first:?}: nothing processed"
            );
        }
    }
}

#[test]
fn rfc9113_3_4_invalid_preface_is_protocol_error() {
    // RFC 9113 §3.4: an invalid client preface is a connection error PROTOCOL_ERROR.
    for bad in
        [&b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"[..], b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\r"]
    {
        let mut peer = Peer::server();
        peer.send_bytes(bad);
        expect_connection_error(&mut peer, ErrorCode::PROTOCOL_ERROR);
    }
    // Detected however it is split, as soon as a byte differs.
    let mut peer = Peer::server();
    peer.send_bytes(&PREFACE[..10]);
    assert!(peer.last_result.is_ok());
    peer.send_bytes(b"HTTP/1.1 junk");
    expect_connection_error(&mut peer, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_3_4_preface_in_any_chunking_is_accepted() {
    // RFC 9113 §3.4: the preface is a byte sequence; transport chunking does not matter.
    let mut peer = Peer::server();
    for byte in PREFACE.iter() {
        peer.send_bytes(&[*byte]);
        assert!(peer.last_result.is_ok());
    }
    peer.send(Settings::new());
    let frames = peer.frames();
    assert!(matches!(&frames[0], Frame::Settings(s) if !s.ack), "{frames:?}");
    assert!(frames.contains(&Frame::Settings(Settings::ack())), "{frames:?}");
}

#[test]
fn rfc9113_3_4_preface_timeout_closes_the_connection() {
    // RFC 9113 §3.4: the preface must arrive; a peer that sends nothing (or not all of it,
    // or no SETTINGS) within Config::preface_timeout is treated as an invalid preface.
    let partial: [&[u8]; 3] = [b"", &PREFACE[..10], PREFACE];
    for sent in partial {
        let mut peer = Peer::server();
        peer.send_bytes(sent);
        peer.frames();
        peer.advance(Duration::from_millis(4_999));
        peer.expect_silence();
        peer.advance(Duration::from_millis(1));
        peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
        assert!(peer.conn.is_closed());
        let events = peer.events();
        assert!(matches!(events.last(), Some(Event::Closed { error: Some(_) })), "{events:?}");
    }
    // A client waits for the server's SETTINGS just the same.
    let mut peer = Peer::client();
    peer.frames();
    peer.advance(Duration::from_secs(5));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    // In time, no timeout (this connection sends no request: that timeout is tested apart).
    let mut config = Config::default();
    config.first_request_timeout = None;
    for role in ROLES {
        let mut peer = fresh(role, config.clone());
        peer.advance(Duration::from_secs(4));
        peer.handshake();
        peer.advance(Duration::from_secs(4));
        peer.expect_silence();
    }
}

#[test]
fn rfc9113_3_4_our_preface_starts_with_settings() {
    // RFC 9113 §3.4: a client starts with the 24-octet magic and a SETTINGS frame; a server's
    // first frame is SETTINGS.
    for role in ROLES {
        let mut conn = match role {
            Role::Server => h2proto::Connection::server(Config::default()),
            Role::Client => h2proto::Connection::client(Config::default()),
        };
        let wire = h2proto::buf_to_vec(conn.transmit());
        let rest = match role {
            Role::Client => {
                assert_eq!(&wire[..PREFACE.len()], PREFACE);
                &wire[PREFACE.len()..]
            }
            Role::Server => &wire[..],
        };
        assert_eq!(rest[3], FrameType::SETTINGS.0, "{role:?}: first frame type");
        assert_eq!(rest[4] & flags::ACK, 0, "{role:?}: not an ACK");
        assert_eq!(&rest[5..9], &[0, 0, 0, 0], "{role:?}: stream 0");
    }
}

// ----- §6.5 SETTINGS frames -----

#[test]
fn rfc9113_6_5_every_settings_frame_is_acknowledged() {
    // RFC 9113 §6.5.3: each SETTINGS frame is answered with one SETTINGS frame with ACK set
    // (an empty SETTINGS too), once its values are applied.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.send(Settings::new());
        peer.send(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 10));
        peer.send(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 1_000));
        let frames = peer.frames();
        assert_eq!(frames, vec![Frame::Settings(Settings::ack()); 3], "{role:?}");
        let events = peer.events();
        assert_eq!(events.len(), 3, "{events:?}");
        assert!(events.iter().all(|e| matches!(e, Event::RemoteSettings { .. })), "{events:?}");
        assert_eq!(peer.conn.peer_settings().max_concurrent_streams, 10);
        assert_eq!(peer.conn.peer_settings().initial_window_size, 1_000);
    }
}

#[test]
fn rfc9113_6_5_2_unknown_settings_are_ignored_and_reported() {
    // RFC 9113 §6.5.2: a setting with an unknown identifier is ignored (the application may
    // still look at it in Event::RemoteSettings).
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        let before = *peer.conn.peer_settings();
        let settings = Settings::new().with(SettingId(0xff), 7).with(SettingId(0x4242), u32::MAX);
        peer.send(settings.clone());
        assert_eq!(peer.frames(), vec![Frame::Settings(Settings::ack())], "{role:?}");
        let events = peer.events();
        assert!(
            matches!(&events[..], [Event::RemoteSettings { settings: s }] if *s == settings),
            "{events:?}"
        );
        assert_eq!(*peer.conn.peer_settings(), before);
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_6_5_2_invalid_values_are_connection_errors() {
    // RFC 9113 §6.5.2 (and RFC 8441 §3, RFC 9218 §2.1): values outside a setting's range
    // are connection errors of the code the RFC names.
    let cases = [
        (SettingId::ENABLE_PUSH, 2, ErrorCode::PROTOCOL_ERROR),
        (SettingId::INITIAL_WINDOW_SIZE, 1 << 31, ErrorCode::FLOW_CONTROL_ERROR),
        (SettingId::INITIAL_WINDOW_SIZE, u32::MAX, ErrorCode::FLOW_CONTROL_ERROR),
        (SettingId::MAX_FRAME_SIZE, 16_383, ErrorCode::PROTOCOL_ERROR),
        (SettingId::MAX_FRAME_SIZE, 0, ErrorCode::PROTOCOL_ERROR),
        (SettingId::MAX_FRAME_SIZE, 1 << 24, ErrorCode::PROTOCOL_ERROR),
        (SettingId::ENABLE_CONNECT_PROTOCOL, 2, ErrorCode::PROTOCOL_ERROR),
        (SettingId::NO_RFC7540_PRIORITIES, 2, ErrorCode::PROTOCOL_ERROR),
    ];
    for role in ROLES {
        for (id, value, code) in cases {
            let mut peer = Peer::connected(role, Config::default());
            peer.send(Settings::new().with(id, value));
            expect_connection_error(&mut peer, code);
            assert!(
                !peer.events().iter().any(|e| matches!(e, Event::RemoteSettings { .. })),
                "{role:?} {id:?}={value}: not applied"
            );
        }
    }
}

#[test]
fn rfc9113_6_5_2_boundary_values_are_accepted() {
    // RFC 9113 §6.5.2: the extremes of each range are valid.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.send(
            Settings::new()
                .with(SettingId::ENABLE_PUSH, 0)
                .with(SettingId::INITIAL_WINDOW_SIZE, (1 << 31) - 1)
                .with(SettingId::MAX_FRAME_SIZE, (1 << 24) - 1)
                .with(SettingId::MAX_CONCURRENT_STREAMS, 0)
                .with(SettingId::HEADER_TABLE_SIZE, u32::MAX)
                .with(SettingId::MAX_HEADER_LIST_SIZE, 0),
        );
        assert_eq!(peer.frames(), vec![Frame::Settings(Settings::ack())], "{role:?}");
        peer.send(Settings::new().with(SettingId::MAX_FRAME_SIZE, 16_384));
        assert_eq!(peer.frames(), vec![Frame::Settings(Settings::ack())], "{role:?}");
        let settings = peer.conn.peer_settings();
        assert_eq!(settings.initial_window_size, (1 << 31) - 1);
        assert_eq!(settings.max_frame_size, 16_384);
        assert_eq!(settings.max_concurrent_streams, 0);
    }
}

#[test]
fn rfc9113_6_5_malformed_settings_frames_are_connection_errors() {
    // RFC 9113 §6.5: SETTINGS on a stream is PROTOCOL_ERROR; a length not a multiple of 6,
    // or an ACK with a payload, is FRAME_SIZE_ERROR.
    let on_stream = RawFrame::new(FrameType::SETTINGS, 1);
    let odd_length = RawFrame::new(FrameType::SETTINGS, 0).payload([0, 3, 0, 0, 0]);
    let ack_with_payload =
        RawFrame::new(FrameType::SETTINGS, 0).flags(flags::ACK).payload([0, 3, 0, 0, 0, 1]);
    for role in ROLES {
        for (raw, code) in [
            (&on_stream, ErrorCode::PROTOCOL_ERROR),
            (&odd_length, ErrorCode::FRAME_SIZE_ERROR),
            (&ack_with_payload, ErrorCode::FRAME_SIZE_ERROR),
        ] {
            let mut peer = Peer::connected(role, Config::default());
            peer.send_raw(raw.clone());
            expect_connection_error(&mut peer, code);
        }
    }
}

#[test]
fn rfc9113_6_5_3_values_are_processed_in_order() {
    // RFC 9113 §6.5.3: values are applied in the order they appear; with duplicates the
    // last one is in effect.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.send(
            Settings::new()
                .with(SettingId::INITIAL_WINDOW_SIZE, 100)
                .with(SettingId::MAX_CONCURRENT_STREAMS, 1)
                .with(SettingId::INITIAL_WINDOW_SIZE, 200)
                .with(SettingId::MAX_CONCURRENT_STREAMS, 7),
        );
        peer.frames();
        assert_eq!(peer.conn.peer_settings().initial_window_size, 200, "{role:?}");
        assert_eq!(peer.conn.peer_settings().max_concurrent_streams, 7);
        peer.open_stream(1);
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(200));
    }
}

// ----- §6.5.3 our settings take effect on ACK -----

#[test]
fn rfc9113_6_5_3_smaller_max_frame_size_applies_only_once_acknowledged() {
    // RFC 9113 §6.5.3: our new values apply once the peer acknowledges them; until then the
    // peer may still use the old ones (here a larger SETTINGS_MAX_FRAME_SIZE).
    for role in ROLES {
        let mut config = Config::default();
        config.max_frame_size = 32_768;
        let mut peer = Peer::connected(role, config);
        peer.open_stream(1);
        peer.send(Data::new(StreamId(1), zeros(20_000), false));
        peer.expect_silence();
        peer.conn.update_settings(Settings::new().with(SettingId::MAX_FRAME_SIZE, 16_384)).unwrap();
        let frames = peer.frames();
        assert!(
            matches!(&frames[..], [Frame::Settings(s)] if !s.ack && s.get(SettingId::MAX_FRAME_SIZE) == Some(16_384)),
            "{frames:?}"
        );
        // Not acknowledged yet: 20,000 bytes still fit.
        peer.send(Data::new(StreamId(1), zeros(20_000), false));
        peer.expect_silence();
        peer.send(Settings::ack());
        let events = peer.events();
        assert!(matches!(events.last(), Some(Event::SettingsAcked)), "{role:?}: {events:?}");
        peer.send(Data::new(StreamId(1), zeros(16_384), false));
        peer.expect_silence();
        peer.send(Data::new(StreamId(1), zeros(16_385), false));
        expect_connection_error(&mut peer, ErrorCode::FRAME_SIZE_ERROR);
    }
}

#[test]
fn rfc9113_6_5_3_larger_max_frame_size_applies_once_acknowledged() {
    // RFC 9113 §6.5.3: a larger SETTINGS_MAX_FRAME_SIZE of ours lets the peer send larger
    // frames once it has acknowledged it.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        peer.conn.update_settings(Settings::new().with(SettingId::MAX_FRAME_SIZE, 32_768)).unwrap();
        peer.frames();
        peer.send(Settings::ack());
        peer.send(Data::new(StreamId(1), zeros(32_768), false));
        peer.expect_silence();
        assert_eq!(peer.conn.read_data(StreamId(1)).map(|b| b.len()), Some(32_768), "{role:?}");
    }
}

fn probe_request(peer: &mut Peer, id: u32) -> h2proto::frame::Headers {
    peer.request(
        id,
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "example.com"),
            (":path", "/"),
            ("x-probe", "indexed-by-the-peer"),
        ],
        true,
    )
}

#[test]
fn rfc9113_6_5_3_smaller_header_table_size_applies_only_once_acknowledged() {
    // RFC 9113 §6.5.3 / RFC 7541 §4.2: until our smaller SETTINGS_HEADER_TABLE_SIZE is
    // acknowledged the peer's encoder may keep using its table; after the ACK its next
    // block must start with a table size update, or it is a COMPRESSION_ERROR.
    let mut peer = Peer::connected(Role::Server, Config::default());
    peer.conn.update_settings(Settings::new().with(SettingId::HEADER_TABLE_SIZE, 0)).unwrap();
    peer.frames();
    for id in [1, 3] {
        // The second block refers to the first's entry by index.
        let head = probe_request(&mut peer, id);
        peer.send(head);
        peer.expect_silence();
        let events = peer.events();
        assert!(
            matches!(&events[..], [Event::Request { request, .. }] if request.headers()["x-probe"] == "indexed-by-the-peer"),
            "{events:?}"
        );
    }
    peer.send(Settings::ack());
    peer.events();
    // The peer's encoder did not shrink its table: the block lacks the size update.
    let head = probe_request(&mut peer, 5);
    peer.send(head);
    expect_connection_error(&mut peer, ErrorCode::COMPRESSION_ERROR);

    // A peer that honours it: the size update comes first and all is well.
    let mut peer = Peer::connected(Role::Server, Config::default());
    peer.conn.update_settings(Settings::new().with(SettingId::HEADER_TABLE_SIZE, 0)).unwrap();
    peer.frames();
    peer.send(Settings::ack());
    peer.encoder.set_max_table_size(0);
    let head = probe_request(&mut peer, 1);
    assert_eq!(head.fragment[0], 0x20, "a size update to 0 opens the block");
    peer.send(head);
    peer.expect_silence();
    assert!(matches!(&peer.events()[..], [Event::SettingsAcked, Event::Request { .. }]));
}

#[test]
fn rfc9113_6_5_2_peer_header_table_size_makes_our_encoder_signal_a_size_update() {
    // RFC 9113 §6.5.2 / RFC 7541 §4.2: when the peer lowers SETTINGS_HEADER_TABLE_SIZE, our
    // next field block starts with a dynamic table size update within the new limit.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        // A first head with the default table: no size update.
        let first = match role {
            Role::Server => {
                let head = peer.get(1, "/");
                peer.send(head);
                peer.conn.send_response(StreamId(1), status(200), true).unwrap();
                peer.frames()
            }
            Role::Client => {
                peer.conn.send_request(get("http://example.com/a"), true).unwrap();
                peer.frames()
            }
        };
        let Some(Frame::Headers(h)) = first.first() else { panic!("{first:?}") };
        assert_ne!(h.fragment[0] & 0xe0, 0x20, "{role:?}: no size update yet");
        peer.decode(&h.fragment.clone());

        peer.send(Settings::new().with(SettingId::HEADER_TABLE_SIZE, 256));
        assert_eq!(peer.frames(), vec![Frame::Settings(Settings::ack())]);
        // The peer's decoder now allows 256 (its SETTINGS is acknowledged).
        peer.decoder.set_max_table_size(256);
        let next = match role {
            Role::Server => {
                let head = peer.get(3, "/");
                peer.send(head);
                let mut response = status(200);
                response.headers_mut().insert("x-custom", "value".parse().unwrap());
                peer.conn.send_response(StreamId(3), response, true).unwrap();
                peer.frames()
            }
            Role::Client => {
                let mut request = get("http://example.com/b");
                request.headers_mut().insert("x-custom", "value".parse().unwrap());
                peer.conn.send_request(request, true).unwrap();
                peer.frames()
            }
        };
        let Some(Frame::Headers(h)) = next.first() else { panic!("{next:?}") };
        // 256 as a 5-bit-prefix integer with the 001 pattern: 0x3f, 256 - 31 = 225 = 0xe1 0x01.
        assert_eq!(&h.fragment[..3], &[0x3f, 0xe1, 0x01], "{role:?}: size update to 256 first");
        let fields = peer.decode(&h.fragment.clone());
        assert!(fields.contains(&("x-custom".to_string(), "value".to_string())), "{fields:?}");
        assert_eq!(peer.decoder.max_table_size(), 256);
        assert!(peer.decoder.table_size() <= 256);
    }
}

#[test]
fn rfc9113_6_5_settings_ack_timeout_is_settings_timeout_error() {
    // RFC 9113 §6.5.3: without an ACK in reasonable time, the sender may end the connection
    // with SETTINGS_TIMEOUT (Config::settings_timeout, 10 s) — for the initial SETTINGS...
    for role in ROLES {
        let mut config = Config::default();
        config.idle_timeout = None;
        config.first_request_timeout = None;
        let mut peer = fresh(role, config.clone());
        peer.handshake_unacked(Settings::new());
        peer.advance(Duration::from_millis(9_999));
        peer.expect_silence();
        peer.advance(Duration::from_millis(1));
        expect_goaway_only(&mut peer, ErrorCode::SETTINGS_TIMEOUT);

        // ...and for a later one.
        let mut peer = Peer::connected(role, config.clone());
        peer.advance(Duration::from_secs(3));
        peer.conn
            .update_settings(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 5))
            .unwrap();
        peer.frames();
        peer.advance(Duration::from_millis(9_999));
        peer.expect_silence();
        peer.advance(Duration::from_millis(1));
        expect_goaway_only(&mut peer, ErrorCode::SETTINGS_TIMEOUT);

        // Acknowledged in time: nothing happens.
        let mut peer = Peer::connected(role, config.clone());
        peer.conn
            .update_settings(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 5))
            .unwrap();
        peer.frames();
        peer.advance(Duration::from_secs(9));
        peer.send(Settings::ack());
        peer.advance(Duration::from_secs(20));
        peer.expect_silence();
        assert!(!peer.conn.is_closed());
    }
}

#[track_caller]
fn expect_goaway_only(peer: &mut Peer, code: ErrorCode) {
    let frames = peer.frames();
    assert!(
        matches!(&frames[..], [Frame::GoAway(g)] if g.error_code == code),
        "expected GOAWAY {code:?} alone: {frames:?}"
    );
    assert_eq!(peer.conn.error().map(|e| e.code), Some(code));
    assert!(peer.conn.is_closed());
}

// ----- §6.5.2 role-specific settings -----

#[test]
fn rfc9113_6_5_2_client_receiving_enable_push_1_is_protocol_error() {
    // RFC 9113 §6.5.2: a server must not send SETTINGS_ENABLE_PUSH 1; a client receiving it
    // treats it as a connection error PROTOCOL_ERROR. A server may receive 0 or 1.
    let mut peer = Peer::connected(Role::Client, Config::default());
    peer.send(Settings::new().with(SettingId::ENABLE_PUSH, 0));
    assert_eq!(peer.frames(), vec![Frame::Settings(Settings::ack())]);
    peer.send(Settings::new().with(SettingId::ENABLE_PUSH, 1));
    expect_connection_error(&mut peer, ErrorCode::PROTOCOL_ERROR);

    let mut peer = Peer::connected(Role::Server, Config::default());
    for (value, enabled) in [(1, true), (0, false)] {
        peer.send(Settings::new().with(SettingId::ENABLE_PUSH, value));
        assert_eq!(peer.frames(), vec![Frame::Settings(Settings::ack())]);
        assert_eq!(peer.conn.peer_settings().enable_push, enabled);
    }
}

#[test]
fn rfc9113_6_5_2_server_cannot_enable_push_in_its_own_settings() {
    // RFC 9113 §6.5.2: a server must not send SETTINGS_ENABLE_PUSH 1.
    let mut peer = Peer::connected(Role::Server, Config::default());
    let refused = peer.conn.update_settings(Settings::new().with(SettingId::ENABLE_PUSH, 1));
    assert!(matches!(refused, Err(UserError::NotAllowed(_))), "{refused:?}");
    peer.expect_silence();
    let ours = Peer::server().handshake();
    assert!(
        ours.iter()
            .all(|f| !matches!(f, Frame::Settings(s) if s.get(SettingId::ENABLE_PUSH).is_some())),
        "{ours:?}"
    );
}

#[test]
fn rfc8441_3_enable_connect_protocol_cannot_be_withdrawn() {
    // RFC 8441 §3: once SETTINGS_ENABLE_CONNECT_PROTOCOL was 1 it must not become 0; we
    // treat a 1 -> 0 change as a connection error PROTOCOL_ERROR.
    let mut peer = Peer::connected(Role::Client, Config::default());
    peer.send(Settings::new().with(SettingId::ENABLE_CONNECT_PROTOCOL, 0));
    peer.send(Settings::new().with(SettingId::ENABLE_CONNECT_PROTOCOL, 1));
    peer.send(Settings::new().with(SettingId::ENABLE_CONNECT_PROTOCOL, 1));
    assert_eq!(peer.frames(), vec![Frame::Settings(Settings::ack()); 3]);
    assert!(peer.conn.peer_settings().enable_connect_protocol);
    peer.send(Settings::new().with(SettingId::ENABLE_CONNECT_PROTOCOL, 0));
    expect_connection_error(&mut peer, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_4_2_field_blocks_respect_the_peer_max_frame_size() {
    // RFC 9113 §4.2 / §6.5.2: no frame we send exceeds the peer's SETTINGS_MAX_FRAME_SIZE; a
    // large field block continues in CONTINUATION frames.
    for (limit, value_len) in [(16_384usize, 40_000), (20_000, 50_000)] {
        let mut peer = Peer::client();
        peer.handshake_with(Settings::new().with(SettingId::MAX_FRAME_SIZE, limit as u32));
        let mut request = get("http://example.com/");
        let value = "v".repeat(value_len);
        request.headers_mut().insert("x-large", value.parse().unwrap());
        peer.conn.send_request(request, true).unwrap();
        let wire = h2proto::buf_to_vec(peer.conn.transmit());
        // Walk the raw frame headers: every payload fits the limit.
        let mut at = 0;
        let mut kinds = Vec::new();
        while at < wire.len() {
            let len = u32::from_be_bytes([0, wire[at], wire[at + 1], wire[at + 2]]) as usize;
            assert!(len <= limit, "frame of {len} bytes over the {limit} limit");
            kinds.push(wire[at + 3]);
            at += HEADER_LEN + len;
        }
        assert_eq!(kinds[0], FrameType::HEADERS.0);
        assert!(kinds.len() >= 3 && kinds[1..].iter().all(|k| *k == FrameType::CONTINUATION.0));
    }
}

#[test]
fn rfc9113_6_5_2_a_config_that_would_send_illegal_settings_is_refused() {
    // RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE within 2^14..=2^24-1 and
    // SETTINGS_INITIAL_WINDOW_SIZE at most 2^31-1; a connection whose Config breaks either
    // would send a SETTINGS frame the peer must treat as a connection error.
    type BreakIt = fn(&mut Config);
    let cases: [(&str, BreakIt); 6] = [
        ("max_frame_size", |c| c.max_frame_size = 16_383),
        ("max_frame_size", |c| c.max_frame_size = 1 << 24),
        ("initial_stream_window_size", |c| c.initial_stream_window_size = 1 << 31),
        ("initial_connection_window_size", |c| c.initial_connection_window_size = u32::MAX),
        ("window_update_threshold", |c| c.window_update_threshold = 257),
        ("max_transmit_size", |c| c.max_transmit_size = 0),
    ];
    for (field, break_it) in cases {
        let mut config = Config::default();
        break_it(&mut config);
        for role in [Role::Client, Role::Server] {
            let error = Connection::try_new(role, config.clone()).err().expect(field);
            assert_eq!(error.field(), field);
            assert!(error.to_string().contains(field), "{error}");
        }
        let panic = std::panic::catch_unwind(|| Connection::server(config.clone()));
        assert!(panic.is_err(), "{field}: the infallible constructor refuses it too");
    }
    // The bounds themselves are allowed.
    let mut config = Config::default();
    config.max_frame_size = (1 << 24) - 1;
    config.initial_stream_window_size = (1 << 31) - 1;
    config.initial_connection_window_size = (1 << 31) - 1;
    config.window_update_threshold = 256;
    assert!(Connection::try_new(Role::Server, config).is_ok());
}
