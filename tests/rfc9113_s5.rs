//! RFC 9113 §5 requirements that the older suites (conn_streams, conn_flow_control,
//! conn_goaway) left without a test of their own: what we may send in reserved (remote) and
//! closed states, late frames after our RST_STREAM whatever the signals and the clock, the
//! configured connection window, prompt processing, stream errors escalated on idle streams,
//! and unknown frame types. Each test names the requirement ids it proves
//! (conformance/requirements/9113-05.toml).

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{Frame, FrameType, Headers, Ping, PushPromise, RawFrame, SettingId, Settings};
use h2proto::{Config, ErrorCode, Event, Role, StreamId, UserError};
use std::time::Duration;
use support::*;

const ROLES: [Role; 2] = [Role::Server, Role::Client];

/// The frames among `frames` that name stream `id`.
fn on_stream(frames: &[Frame], id: u32) -> Vec<&Frame> {
    frames.iter().filter(|f| f.stream_id() == StreamId(id)).collect()
}

/// Stream `id` closed by END_STREAM both ways, with `body` received and not yet read.
fn closed_with_unread_body(peer: &mut Peer, id: u32, body: &'static [u8]) {
    match peer.conn.role() {
        Role::Server => {
            let head = peer.post(id, "/upload");
            peer.send(head);
            peer.send(data(id, body, true));
            peer.conn.send_response(StreamId(id), status(200), false).unwrap();
            assert_eq!(peer.conn.send_data(StreamId(id), "done".into(), true), Ok(4));
        }
        Role::Client => {
            peer.open_request(id, false);
            assert_eq!(peer.conn.send_data(StreamId(id), "up".into(), true), Ok(2));
            let head = peer.response(id, "200", false);
            peer.send(head);
            peer.send(data(id, body, true));
        }
    }
    let frames = peer.frames();
    assert!(matches!(frames.last(), Some(Frame::Data(d)) if d.end_stream), "{frames:?}");
    peer.expect_quiet();
    peer.events();
    assert_eq!(peer.conn.active_streams(), 0, "stream {id} is closed");
}

// ----- §5.1 what we may send per state -----

#[test]
fn rfc9113_5_1_reserved_remote_we_send_only_rst_stream() {
    // RFC 9113 §5.1 reserved (remote): we send nothing but RST_STREAM, WINDOW_UPDATE or
    // PRIORITY on a stream the server promised (9113-5.1-6).
    let mut config = Config::default();
    config.enable_push = true;
    let mut peer = Peer::connected(Role::Client, config);
    peer.open_request(1, true);
    let head = peer.response(1, "200", false);
    peer.send(head);
    let fragment = peer.block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "example.com"),
        (":path", "/pushed"),
    ]);
    peer.send(PushPromise {
        stream_id: StreamId(1),
        promised_id: StreamId(2),
        fragment,
        end_headers: true,
        pad_len: None,
    });
    peer.expect_silence();
    let events = peer.events();
    assert!(
        events.iter().any(|e| matches!(e, Event::PushPromise { promised_id: StreamId(2), .. })),
        "{events:?}"
    );

    // No DATA, no trailers, no WINDOW_UPDATE on the reserved stream.
    let pushed = StreamId(2);
    assert!(matches!(
        peer.conn.send_data(pushed, "x".into(), true),
        Err(UserError::InvalidState(StreamId(2), _))
    ));
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-t", "1".parse().unwrap());
    assert!(matches!(
        peer.conn.send_trailers(pushed, trailers),
        Err(UserError::InvalidState(StreamId(2), _))
    ));
    assert_eq!(peer.conn.release_capacity(pushed, 1_000), Ok(()));
    assert_eq!(peer.conn.send_capacity(pushed), 0);
    peer.expect_silence();

    // RST_STREAM is allowed: it refuses the push.
    peer.conn.reset(pushed, ErrorCode::CANCEL).unwrap();
    assert_eq!(peer.frames(), vec![Frame::RstStream(rst(2, ErrorCode::CANCEL))]);
    peer.expect_alive();
}

#[test]
fn rfc9113_5_1_nothing_is_sent_on_a_closed_stream() {
    // RFC 9113 §5.1 closed: once a stream is closed, no frame but PRIORITY goes out on it
    // (9113-5.1-9) — not DATA, trailers, a head, RST_STREAM, nor a WINDOW_UPDATE when the
    // application reads and releases what arrived before the close.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        closed_with_unread_body(&mut peer, 1, b"last words");
        let id = StreamId(1);
        assert!(matches!(
            peer.conn.send_data(id, "more".into(), true),
            Err(UserError::InvalidState(..) | UserError::UnknownStream(_))
        ));
        assert!(matches!(
            peer.conn.send_trailers(id, http::HeaderMap::new()),
            Err(UserError::InvalidState(..) | UserError::UnknownStream(_))
        ));
        assert_eq!(peer.conn.reset(id, ErrorCode::CANCEL), Err(UserError::UnknownStream(id)));
        if role == Role::Server {
            assert!(peer.conn.send_response(id, status(500), true).is_err());
        }
        assert_eq!(peer.conn.read_data(id).as_deref(), Some(&b"last words"[..]));
        assert_eq!(peer.conn.read_data(id), None);
        assert_eq!(peer.conn.release_capacity(id, 10), Ok(()));
        let frames = peer.frames();
        assert!(on_stream(&frames, 1).is_empty(), "{role:?}: {frames:?}");
        assert!(
            frames.iter().all(|f| matches!(f, Frame::WindowUpdate(w) if w.stream_id.is_zero())),
            "{role:?}: only connection credit may go out: {frames:?}"
        );
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_5_1_late_frames_after_our_reset_stay_ignored_whatever_signals_or_time() {
    // RFC 9113 §5.1: after our RST_STREAM, frames the peer sent before seeing it are
    // discarded. We do not take the MAY of using later signals to make them errors
    // (9113-5.1-12), use no timer for it (9113-5.1-13), and never send a second RST_STREAM
    // however late they come (9113-5.4.2-3).
    for role in ROLES {
        let mut config = Config::default();
        config.idle_timeout = None;
        let mut peer = Peer::connected(role, config);
        peer.open_stream(1);
        peer.conn.reset(StreamId(1), ErrorCode::CANCEL).unwrap();
        assert_eq!(peer.frames(), vec![Frame::RstStream(rst(1, ErrorCode::CANCEL))]);
        peer.events();

        // Every signal that the peer has seen our RST_STREAM: a PING answered, our new
        // SETTINGS acknowledged, a newer stream opened and used.
        peer.expect_alive();
        peer.conn
            .update_settings(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 50))
            .unwrap();
        peer.frames();
        peer.send(Settings::ack());
        peer.open_stream(3);
        peer.send(data(3, b"newer stream", false));
        peer.expect_quiet();
        peer.events();
        // And an hour.
        peer.advance(Duration::from_secs(3600));
        peer.expect_silence();

        peer.send(data(1, b"late", false));
        let block = peer.block(&[("x-late", "1")]);
        peer.send(Headers::new(StreamId(1), block, true));
        peer.send(window_update(1, 100));
        peer.send(rst(1, ErrorCode::CANCEL));
        let frames = peer.frames();
        assert!(on_stream(&frames, 1).is_empty(), "{role:?}: no answer on stream 1: {frames:?}");
        assert!(!frames.iter().any(|f| matches!(f, Frame::GoAway(_))), "{role:?}: {frames:?}");
        assert!(peer.last_result.is_ok(), "{role:?}: {:?}", peer.last_result);
        assert!(peer.events().is_empty(), "{role:?}");
        peer.expect_alive();
    }
}

// ----- §5.2 flow control -----

#[test]
fn rfc9113_5_2_1_the_configured_connection_window_is_announced_and_enforced() {
    // RFC 9113 §5.2.1: a receiver may choose its windows (9113-5.2.1-1): the connection
    // window of Config::initial_connection_window_size is announced with a WINDOW_UPDATE
    // right after our SETTINGS, and it is exactly what the peer may send.
    for role in ROLES {
        let mut config = Config::default();
        config.initial_connection_window_size = 100_000;
        let mut peer = match role {
            Role::Server => Peer::server_with(config),
            Role::Client => Peer::client_with(config),
        };
        let ours = peer.handshake();
        assert!(matches!(&ours[0], Frame::Settings(s) if !s.ack), "{role:?}: {ours:?}");
        assert_eq!(ours[1], Frame::WindowUpdate(window_update(0, 100_000 - 65_535)), "{role:?}");
        peer.open_stream(1);
        let full = Bytes::from(vec![0u8; 16_384]);
        for _ in 0..6 {
            peer.send(h2proto::frame::Data::new(StreamId(1), full.clone(), false));
        }
        peer.send(h2proto::frame::Data::new(StreamId(1), vec![0u8; 100_000 - 6 * 16_384], false));
        peer.expect_silence();
        peer.send(data(1, b"!", false));
        peer.expect_goaway(ErrorCode::FLOW_CONTROL_ERROR);
    }
}

#[test]
fn rfc9113_5_2_2_every_frame_is_processed_in_the_call_that_delivers_it() {
    // RFC 9113 §5.2.2: frames are read and acted upon as soon as they arrive (9113-5.2.2-1):
    // a WINDOW_UPDATE that arrives with other frames in one read frees the blocked DATA at
    // once, and every frame of that read has been processed when `recv` returns.
    for role in ROLES {
        let mut peer = match role {
            Role::Server => Peer::server(),
            Role::Client => Peer::client(),
        };
        peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 0));
        let mut wire = BytesMut::new();
        match role {
            Role::Server => {
                let head = peer.post(1, "/");
                peer.send(head);
                peer.conn.send_response(StreamId(1), status(200), false).unwrap();
                let next = peer.get(3, "/next");
                Frame::Headers(next).encode(&mut wire);
            }
            Role::Client => {
                peer.open_request(1, false);
                let head = peer.response(1, "200", false);
                Frame::Headers(head).encode(&mut wire);
            }
        }
        assert_eq!(peer.conn.send_data(StreamId(1), "0123456789".into(), true), Ok(10));
        peer.frames();
        peer.events();
        Frame::Ping(Ping { ack: false, payload: *b"promptly" }).encode(&mut wire);
        Frame::WindowUpdate(window_update(1, 10)).encode(&mut wire);
        peer.send_bytes(&wire);
        assert_eq!(peer.last_result, Ok(wire.len()), "{role:?}: every byte consumed");
        let events = peer.events();
        let head_seen = events.iter().any(|e| match e {
            Event::Request { stream_id, .. } => *stream_id == StreamId(3),
            Event::Response { stream_id, .. } => *stream_id == StreamId(1),
            _ => false,
        });
        assert!(head_seen, "{role:?}: {events:?}");
        let frames = peer.frames();
        assert!(
            frames
                .iter()
                .any(|f| matches!(f, Frame::Ping(p) if p.ack && p.payload == *b"promptly")),
            "{role:?}: {frames:?}"
        );
        assert!(
            frames.iter().any(
                |f| matches!(f, Frame::Data(d) if d.stream_id == StreamId(1) && d.data.len() == 10 && d.end_stream)
            ),
            "{role:?}: {frames:?}"
        );
    }
}

// ----- §5.4.1 connection errors -----

#[test]
fn rfc9113_5_4_1_stream_errors_on_idle_streams_become_connection_errors() {
    // RFC 9113 §5.4.1: an endpoint may treat a stream error as a connection error
    // (9113-5.4.1-3). We do for a stream that is still idle (§5.1 idle admits only HEADERS
    // and PRIORITY, 9113-5.1-1): a WINDOW_UPDATE of 0 there ends the connection, while on an
    // open stream it only resets that stream.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        peer.send(window_update(1, 0));
        peer.expect_reset(1, ErrorCode::PROTOCOL_ERROR);
        peer.expect_alive();
        for idle in [5, 6] {
            let mut peer = Peer::connected(role, Config::default());
            peer.send(window_update(idle, 0));
            peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
            assert!(peer.last_result.is_err(), "{role:?} {idle}");
            assert!(
                !peer.frames().iter().any(|f| matches!(f, Frame::RstStream(_))),
                "{role:?} {idle}: no RST_STREAM for an idle stream"
            );
        }
    }
}

// ----- §5.5 extending HTTP/2 -----

#[test]
fn rfc9113_5_5_unknown_frame_types_are_discarded_in_every_state() {
    // RFC 9113 §5.5: frames of unknown types are discarded (9113-5.5-2), whatever their
    // flags and stream, idle streams included: no answer, no state change; unknown values
    // are ignored (9113-5.5-1). The application still sees them.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        let unknown = |id: u32| RawFrame::new(FrameType(0xfa), id).flags(0xff).payload(b"ext");
        for id in [0, 1, 7, 6] {
            peer.send_raw(unknown(id));
        }
        peer.expect_silence();
        let events = peer.events();
        let seen: Vec<u32> = events
            .iter()
            .map(|e| match e {
                Event::UnknownFrame(u) if u.kind == FrameType(0xfa) => u.stream_id.0,
                other => panic!("{role:?}: {other:?}"),
            })
            .collect();
        assert_eq!(seen, vec![0, 1, 7, 6], "{role:?}");
        // Stream 1 is still open...
        peer.send(data(1, b"still open", false));
        peer.expect_silence();
        assert!(
            matches!(&peer.events()[..], [Event::Data { stream_id: StreamId(1), .. }]),
            "{role:?}"
        );
        // ...and stream 7 still idle: a lower id can still be opened before it.
        match role {
            Role::Server => {
                for id in [3, 7] {
                    let head = peer.get(id, "/");
                    peer.send(head);
                    peer.expect_silence();
                    let events = peer.events();
                    assert!(
                        matches!(&events[..], [Event::Request { stream_id, .. }] if *stream_id == StreamId(id)),
                        "{events:?}"
                    );
                }
            }
            Role::Client => peer.open_request(3, true),
        }
        peer.expect_alive();
    }
}
