//! RFC 9113 §5.1 stream states, §5.1.1 stream identifiers and §5.1.2 stream concurrency,
//! proven at the frame level for both roles: the test plays the peer with explicit frames
//! and asserts the exact frames and events that come back. The last test checks the state
//! table itself against an expectation written independently from §5.1's prose.

mod support;

use bytes::Bytes;
use h2proto::frame::{
    Continuation, Frame, Headers, Priority, PrioritySpec, PushPromise, SettingId, Settings,
    StreamId,
};
use h2proto::state::{EVENTS, Event as StreamEvent, Outcome, STATES, State, TABLE};
use h2proto::{Config, ErrorCode, Event, Initiator, Role, UserError};
use support::*;

const ROLES: [Role; 2] = [Role::Server, Role::Client];

// ----- Setting streams up in a given state -----

/// A connection under test in `role`, handshake done.
fn connected(role: Role) -> Peer {
    Peer::connected(role, Config::default())
}

fn connected_with(role: Role, config: Config) -> Peer {
    Peer::connected(role, config)
}

fn request(peer: &mut Peer, id: u32, end_stream: bool) {
    peer.open_request(id, end_stream);
}

fn open(peer: &mut Peer, id: u32) {
    peer.open_stream(id);
}

/// Stream `id` half-closed (remote): the peer ended its side, ours is open.
fn half_closed_remote(peer: &mut Peer, id: u32) {
    match peer.conn.role() {
        Role::Server => {
            let head = peer.get(id, "/");
            peer.send(head);
        }
        Role::Client => {
            request(peer, id, false);
            let head = peer.response(id, "200", true);
            peer.send(head);
        }
    }
    peer.expect_silence();
    peer.events();
}

/// Stream `id` half-closed (local): we ended our side, the peer's is open (its head sent).
fn half_closed_local(peer: &mut Peer, id: u32) {
    match peer.conn.role() {
        Role::Server => {
            let head = peer.post(id, "/");
            peer.send(head);
            peer.conn.send_response(StreamId(id), status(200), true).unwrap();
        }
        Role::Client => {
            request(peer, id, true);
            let head = peer.response(id, "200", false);
            peer.send(head);
        }
    }
    peer.frames();
    peer.events();
}

/// Stream `id` closed by END_STREAM both ways.
fn closed_by_end_stream(peer: &mut Peer, id: u32) {
    match peer.conn.role() {
        Role::Server => {
            let head = peer.get(id, "/");
            peer.send(head);
            peer.conn.send_response(StreamId(id), status(200), true).unwrap();
        }
        Role::Client => {
            request(peer, id, true);
            let head = peer.response(id, "200", true);
            peer.send(head);
        }
    }
    peer.frames();
    peer.events();
}

/// Stream `id` closed by the peer's RST_STREAM.
fn closed_by_peer_reset(peer: &mut Peer, id: u32) {
    open(peer, id);
    peer.send(rst(id, ErrorCode::CANCEL));
    peer.expect_silence();
    let events = peer.events();
    assert!(
        matches!(&events[..], [Event::Reset { stream_id, error_code: ErrorCode::CANCEL, initiator: Initiator::Remote, retryable: false }] if *stream_id == StreamId(id)),
        "{events:?}"
    );
}

/// Stream `id` closed by our RST_STREAM.
fn closed_by_our_reset(peer: &mut Peer, id: u32) {
    open(peer, id);
    peer.conn.reset(StreamId(id), ErrorCode::CANCEL).unwrap();
    let frames = peer.frames();
    assert_eq!(frames, vec![Frame::RstStream(rst(id, ErrorCode::CANCEL))]);
    peer.events();
}

/// A HEADERS frame carrying a trailer section (ends the stream) with a field the peer's
/// HPACK encoder indexes, so a later block refers to it by index.
fn probe_trailers(peer: &mut Peer, id: u32) -> Headers {
    let block = peer.block(&[("x-probe", "hpack-sync")]);
    Headers::new(StreamId(id), block, true)
}

/// A message head that repeats the probe field: it decodes only if the connection decoded
/// the block that indexed it (§4.3: every field block updates the shared HPACK context).
fn head_with_probe(peer: &mut Peer, id: u32) -> Headers {
    match peer.conn.role() {
        Role::Server => peer.request(
            id,
            &[
                (":method", "GET"),
                (":scheme", "http"),
                (":authority", "example.com"),
                (":path", "/"),
                ("x-probe", "hpack-sync"),
            ],
            true,
        ),
        Role::Client => {
            let block = peer.block(&[(":status", "200"), ("x-probe", "hpack-sync")]);
            Headers::new(StreamId(id), block, true)
        }
    }
}

/// Checks that `head_with_probe` on stream `id` decoded and carried the probe field.
#[track_caller]
fn expect_probe_decoded(peer: &mut Peer, id: u32) {
    let events = peer.events();
    let headers = events.iter().find_map(|e| match e {
        Event::Request { stream_id, request, .. } if *stream_id == StreamId(id) => {
            Some(request.headers().clone())
        }
        Event::Response { stream_id, response, .. } if *stream_id == StreamId(id) => {
            Some(response.headers().clone())
        }
        _ => None,
    });
    let headers = headers.unwrap_or_else(|| panic!("no message head on {id}: {events:?}"));
    assert_eq!(headers["x-probe"], "hpack-sync");
}

fn priority(id: u32) -> Priority {
    Priority {
        stream_id: StreamId(id),
        spec: PrioritySpec { dependency: StreamId::ZERO, exclusive: false, weight: 16 },
    }
}

fn continuation(id: u32) -> Continuation {
    Continuation {
        stream_id: StreamId(id),
        fragment: Bytes::from_static(b"\x82"),
        end_headers: true,
    }
}

// ----- §5.1 idle -----

#[test]
fn rfc9113_5_1_idle_data_is_connection_protocol_error() {
    // RFC 9113 §5.1: on an idle stream only HEADERS and PRIORITY may be received; DATA is a
    // connection error PROTOCOL_ERROR (both our own and the peer's idle ids).
    for role in ROLES {
        for id in [1, 2, 7] {
            let mut peer = connected(role);
            peer.send(data(id, b"x", false));
            let goaway = peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
            assert_eq!(goaway.last_stream_id, StreamId::ZERO, "{role:?} {id}");
        }
    }
}

#[test]
fn rfc9113_5_1_idle_rst_stream_is_connection_protocol_error() {
    // RFC 9113 §5.1 / §6.4: RST_STREAM on an idle stream is a connection error PROTOCOL_ERROR.
    for role in ROLES {
        for id in [1, 2, 7] {
            let mut peer = connected(role);
            peer.send(rst(id, ErrorCode::CANCEL));
            peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
            assert!(peer.last_result.is_err(), "{role:?} {id}");
        }
    }
}

#[test]
fn rfc9113_5_1_idle_window_update_is_connection_protocol_error() {
    // RFC 9113 §5.1: WINDOW_UPDATE on an idle stream is a connection error PROTOCOL_ERROR.
    for role in ROLES {
        for id in [1, 2, 7] {
            let mut peer = connected(role);
            peer.send(window_update(id, 100));
            peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
            assert!(peer.last_result.is_err(), "{role:?} {id}");
        }
    }
}

#[test]
fn rfc9113_5_1_idle_continuation_is_connection_protocol_error() {
    // RFC 9113 §5.1 / §6.10: a CONTINUATION on an idle stream (no field block open) is a
    // connection error PROTOCOL_ERROR.
    for role in ROLES {
        for id in [1, 2, 7] {
            let mut peer = connected(role);
            peer.send(continuation(id));
            peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
            assert!(peer.last_result.is_err(), "{role:?} {id}");
        }
    }
}

#[test]
fn rfc9113_5_1_idle_headers_on_a_server_initiated_stream_is_connection_protocol_error() {
    // RFC 9113 §5.1: HEADERS on an idle stream that the server would initiate (even id) is a
    // connection error PROTOCOL_ERROR — for a client receiving it from the server...
    let mut peer = connected(Role::Client);
    let head = peer.response(2, "200", true);
    peer.send(head);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    // ...and a client receiving a response on one of its own ids it never opened.
    let mut peer = connected(Role::Client);
    let head = peer.response(1, "200", true);
    peer.send(head);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_5_1_idle_priority_is_allowed_and_does_not_open_the_stream() {
    // RFC 9113 §5.1: PRIORITY may be received on an idle stream; it changes no state.
    let mut peer = connected(Role::Server);
    peer.send(priority(5));
    peer.send(priority(2));
    peer.expect_silence();
    assert!(peer.events().is_empty());
    // Stream 5 is still idle: stream 3 may open first, then 5.
    for id in [3, 5] {
        let head = peer.get(id, "/");
        peer.send(head);
        peer.expect_silence();
        let events = peer.events();
        assert!(
            matches!(&events[..], [Event::Request { stream_id, .. }] if *stream_id == StreamId(id)),
            "{events:?}"
        );
    }

    let mut peer = connected(Role::Client);
    peer.send(priority(1));
    peer.send(priority(2));
    peer.expect_silence();
    assert!(peer.events().is_empty());
    request(&mut peer, 1, true);
}

// ----- §5.1 reserved (remote) -----

fn reserved_remote() -> Peer {
    let mut config = Config::default();
    config.enable_push = true;
    let mut peer = connected_with(Role::Client, config);
    half_closed_local(&mut peer, 1);
    let block = peer.block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "example.com"),
        (":path", "/pushed"),
    ]);
    peer.send(PushPromise {
        stream_id: StreamId(1),
        promised_id: StreamId(2),
        fragment: block,
        end_headers: true,
        pad_len: None,
    });
    peer.expect_silence();
    let events = peer.events();
    assert!(
        matches!(&events[..], [Event::PushPromise { promised_id: StreamId(2), .. }]),
        "{events:?}"
    );
    peer
}

#[test]
fn rfc9113_5_1_reserved_remote_accepts_headers_rst_stream_and_priority() {
    // RFC 9113 §5.1: in reserved (remote), HEADERS moves the stream to half-closed (local);
    // RST_STREAM closes it; PRIORITY is allowed.
    let mut peer = reserved_remote();
    peer.send(priority(2));
    let head = peer.response(2, "200", false);
    peer.send(head);
    peer.send(data(2, b"pushed body", true));
    peer.expect_silence();
    let events = peer.events();
    assert!(
        matches!(
            &events[..],
            [
                Event::Response { stream_id: StreamId(2), .. },
                Event::Data { stream_id: StreamId(2), end_stream: true }
            ]
        ),
        "{events:?}"
    );

    let mut peer = reserved_remote();
    peer.send(rst(2, ErrorCode::CANCEL));
    peer.expect_silence();
    let events = peer.events();
    assert!(
        matches!(
            &events[..],
            [Event::Reset {
                stream_id: StreamId(2),
                error_code: ErrorCode::CANCEL,
                initiator: Initiator::Remote,
                ..
            }]
        ),
        "{events:?}"
    );
}

#[test]
fn rfc9113_5_1_reserved_remote_data_is_connection_protocol_error() {
    // RFC 9113 §5.1: in reserved (remote), anything but HEADERS, RST_STREAM or PRIORITY is a
    // connection error PROTOCOL_ERROR: DATA...
    let mut peer = reserved_remote();
    peer.send(data(2, b"early", false));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_5_1_reserved_remote_window_update_is_connection_protocol_error() {
    // RFC 9113 §5.1: ...and WINDOW_UPDATE (the peer may not send it in reserved (local)).
    let mut peer = reserved_remote();
    peer.send(window_update(2, 100));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

// ----- §5.1 half-closed (remote) -----

#[test]
fn rfc9113_5_1_half_closed_remote_data_is_stream_closed_error() {
    // RFC 9113 §5.1: in half-closed (remote), DATA is a stream error STREAM_CLOSED.
    for role in ROLES {
        let mut peer = connected(role);
        half_closed_remote(&mut peer, 1);
        peer.send(data(1, b"late", false));
        peer.expect_reset(1, ErrorCode::STREAM_CLOSED);
        let events = peer.events();
        assert!(
            matches!(
                &events[..],
                [Event::Reset {
                    stream_id: StreamId(1),
                    error_code: ErrorCode::STREAM_CLOSED,
                    initiator: Initiator::Local,
                    retryable: false
                }]
            ),
            "{role:?}: {events:?}"
        );
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_5_1_half_closed_remote_headers_is_stream_closed_error() {
    // RFC 9113 §5.1: in half-closed (remote), HEADERS is a stream error STREAM_CLOSED; its
    // block still updates the HPACK context (§4.3).
    for role in ROLES {
        let mut peer = connected(role);
        half_closed_remote(&mut peer, 1);
        let trailers = probe_trailers(&mut peer, 1);
        peer.send(trailers);
        peer.expect_reset(1, ErrorCode::STREAM_CLOSED);
        peer.events();
        if role == Role::Client {
            request(&mut peer, 3, true);
        }
        let head = head_with_probe(&mut peer, 3);
        peer.send(head);
        peer.expect_quiet();
        expect_probe_decoded(&mut peer, 3);
    }
}

#[test]
fn rfc9113_5_1_half_closed_remote_accepts_window_update_priority_and_rst_stream() {
    // RFC 9113 §5.1: in half-closed (remote), WINDOW_UPDATE, PRIORITY and RST_STREAM are
    // allowed; the WINDOW_UPDATE still credits our send window.
    for role in ROLES {
        let mut peer = connected(role);
        half_closed_remote(&mut peer, 1);
        let before = peer.conn.send_window(StreamId(1)).unwrap();
        peer.send(window_update(1, 1000));
        peer.send(priority(1));
        peer.expect_silence();
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(before + 1000), "{role:?}");
        peer.send(rst(1, ErrorCode::CANCEL));
        // No RST_STREAM in answer to a RST_STREAM (§5.4.2).
        peer.expect_silence();
        let events = peer.events();
        assert!(
            matches!(
                &events[..],
                [Event::Reset {
                    stream_id: StreamId(1),
                    error_code: ErrorCode::CANCEL,
                    initiator: Initiator::Remote,
                    ..
                }]
            ),
            "{role:?}: {events:?}"
        );
        assert_eq!(peer.conn.active_streams(), 0);
    }
}

// ----- §5.1 half-closed (local) -----

#[test]
fn rfc9113_5_1_half_closed_local_receives_data_and_closes_on_end_stream() {
    // RFC 9113 §5.1: in half-closed (local) every frame may be received; END_STREAM from the
    // peer closes the stream.
    for role in ROLES {
        let mut peer = connected(role);
        half_closed_local(&mut peer, 1);
        assert_eq!(peer.conn.active_streams(), 1);
        peer.send(priority(1));
        peer.send(window_update(1, 10));
        peer.send(data(1, b"body", true));
        peer.expect_silence();
        let events = peer.events();
        assert!(
            matches!(&events[..], [Event::Data { stream_id: StreamId(1), end_stream: true }]),
            "{role:?}: {events:?}"
        );
        assert_eq!(peer.conn.read_data(StreamId(1)).as_deref(), Some(&b"body"[..]));
        assert_eq!(peer.conn.active_streams(), 0, "{role:?}: closed");
        assert_eq!(
            peer.conn.send_data(StreamId(1), "x".into(), false),
            Err(UserError::UnknownStream(StreamId(1)))
        );
    }
}

// ----- §5.1 closed -----

#[test]
fn rfc9113_5_1_closed_by_peer_reset_data_is_stream_closed_error() {
    // RFC 9113 §5.1 / §6.1: after receiving RST_STREAM, DATA is a stream error STREAM_CLOSED;
    // PRIORITY and a repeated RST_STREAM are not answered (no RST_STREAM for a RST_STREAM).
    for role in ROLES {
        let mut peer = connected(role);
        closed_by_peer_reset(&mut peer, 1);
        peer.send(priority(1));
        peer.send(rst(1, ErrorCode::CANCEL));
        peer.expect_silence();
        peer.send(data(1, b"late", false));
        peer.expect_reset(1, ErrorCode::STREAM_CLOSED);
        // Having answered with RST_STREAM, what the peer had in flight is now ignored
        // (§5.1: frames after our RST_STREAM), so resets do not ping-pong.
        peer.send(data(1, b"later", false));
        peer.expect_silence();
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_5_1_closed_by_peer_reset_headers_is_stream_closed_error() {
    // RFC 9113 §5.1: after receiving RST_STREAM, HEADERS is a stream error STREAM_CLOSED.
    for role in ROLES {
        let mut peer = connected(role);
        closed_by_peer_reset(&mut peer, 1);
        let trailers = probe_trailers(&mut peer, 1);
        peer.send(trailers);
        peer.expect_reset(1, ErrorCode::STREAM_CLOSED);
        peer.events();
        if role == Role::Client {
            request(&mut peer, 3, true);
        }
        let head = head_with_probe(&mut peer, 3);
        peer.send(head);
        peer.expect_quiet();
        expect_probe_decoded(&mut peer, 3);
    }
}

#[test]
fn rfc9113_5_1_closed_by_end_stream_data_is_connection_stream_closed_error() {
    // RFC 9113 §5.1: after END_STREAM both ways, DATA is treated as a connection error
    // STREAM_CLOSED.
    for role in ROLES {
        let mut peer = connected(role);
        closed_by_end_stream(&mut peer, 1);
        peer.send(data(1, b"late", false));
        let goaway = peer.expect_goaway(ErrorCode::STREAM_CLOSED);
        let last = if role == Role::Server { 1 } else { 0 };
        assert_eq!(goaway.last_stream_id, StreamId(last), "{role:?}");
        assert!(peer.last_result.is_err());
    }
}

#[test]
fn rfc9113_5_1_closed_by_end_stream_headers_is_connection_stream_closed_error() {
    // RFC 9113 §5.1: after END_STREAM both ways, HEADERS is treated as a connection error
    // STREAM_CLOSED.
    for role in ROLES {
        let mut peer = connected(role);
        closed_by_end_stream(&mut peer, 1);
        let trailers = probe_trailers(&mut peer, 1);
        peer.send(trailers);
        peer.expect_goaway(ErrorCode::STREAM_CLOSED);
        assert!(peer.last_result.is_err(), "{role:?}");
    }
}

#[test]
fn rfc9113_5_1_closed_by_end_stream_accepts_window_update_rst_stream_and_priority() {
    // RFC 9113 §5.1: after END_STREAM, WINDOW_UPDATE and RST_STREAM may still arrive for a
    // short while (the peer had not seen our END_STREAM) and PRIORITY always may: no error.
    for role in ROLES {
        let mut peer = connected(role);
        closed_by_end_stream(&mut peer, 1);
        peer.send(window_update(1, 100));
        peer.send(priority(1));
        peer.send(rst(1, ErrorCode::NO_ERROR));
        peer.expect_silence();
        assert!(peer.events().is_empty(), "{role:?}");
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_5_1_closed_by_our_reset_late_frames_are_ignored() {
    // RFC 9113 §5.1: after sending RST_STREAM, frames the peer sent before seeing it are
    // minimally processed (HPACK updated) and discarded: no error, no answer, no event.
    for role in ROLES {
        let mut peer = connected(role);
        closed_by_our_reset(&mut peer, 1);
        peer.send(data(1, b"in flight", false));
        peer.send(window_update(1, 100));
        peer.send(priority(1));
        let trailers = probe_trailers(&mut peer, 1);
        peer.send(trailers);
        peer.send(rst(1, ErrorCode::CANCEL));
        peer.expect_silence();
        assert!(peer.events().is_empty(), "{role:?}");
        if role == Role::Client {
            request(&mut peer, 3, true);
        }
        let head = head_with_probe(&mut peer, 3);
        peer.send(head);
        peer.expect_quiet();
        expect_probe_decoded(&mut peer, 3);
    }
}

#[test]
fn rfc9113_5_1_closed_by_our_reset_data_still_counts_for_the_connection_window() {
    // RFC 9113 §5.1: DATA discarded after our RST_STREAM still counts toward the connection
    // window, so we must give that credit back with WINDOW_UPDATE on stream 0.
    for role in ROLES {
        let mut config = Config::default();
        // 65,535: no initial connection WINDOW_UPDATE, so the peer's credit is exactly that.
        config.initial_connection_window_size = 65_535;
        let mut peer = connected_with(role, config);
        closed_by_our_reset(&mut peer, 1);
        let frame = Bytes::from(vec![7u8; 16_384]);
        let frames_sent = 8; // 128 KiB: twice the connection window.
        let mut credited = 0;
        for _ in 0..frames_sent {
            peer.send(h2proto::frame::Data::new(StreamId(1), frame.clone(), false));
            assert!(peer.last_result.is_ok(), "{role:?}: {:?}", peer.last_result);
            for f in peer.frames() {
                match f {
                    Frame::WindowUpdate(w) if w.stream_id.is_zero() => credited += w.increment,
                    other => panic!("{role:?}: unexpected {other:?}"),
                }
            }
        }
        assert_eq!(credited, frames_sent * 16_384, "{role:?}: every discarded byte re-credited");
        assert!(peer.events().is_empty());
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_5_1_closed_by_our_reset_push_promise_is_processed_and_refused() {
    // RFC 9113 §5.1: a PUSH_PROMISE on a stream we reset is still processed (its block
    // decoded, the promised stream reserved); we then refuse the push with RST_STREAM.
    let mut config = Config::default();
    config.enable_push = true;
    let mut peer = connected_with(Role::Client, config);
    closed_by_our_reset(&mut peer, 1);
    let fragment = peer.block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "example.com"),
        (":path", "/pushed"),
        ("x-probe", "hpack-sync"),
    ]);
    peer.send(PushPromise {
        stream_id: StreamId(1),
        promised_id: StreamId(2),
        fragment,
        end_headers: true,
        pad_len: None,
    });
    peer.expect_reset(2, ErrorCode::CANCEL);
    assert!(peer.events().iter().all(|e| !matches!(e, Event::PushPromise { .. })));
    // The promised stream is no longer idle (a response on it is discarded, not a
    // PROTOCOL_ERROR), and the HPACK context stayed in sync.
    let head = peer.response(2, "200", true);
    peer.send(head);
    peer.expect_silence();
    request(&mut peer, 3, true);
    let head = head_with_probe(&mut peer, 3);
    peer.send(head);
    peer.expect_quiet();
    expect_probe_decoded(&mut peer, 3);
}

#[test]
fn rfc9113_5_1_priority_is_allowed_in_every_state() {
    // RFC 9113 §5.1: PRIORITY can be received in any stream state.
    for role in ROLES {
        let mut peer = connected(role);
        open(&mut peer, 1);
        half_closed_remote(&mut peer, 3);
        half_closed_local(&mut peer, 5);
        closed_by_end_stream(&mut peer, 7);
        closed_by_peer_reset(&mut peer, 9);
        closed_by_our_reset(&mut peer, 11);
        // Idle: one of ours and one of the peer's.
        for id in [1, 3, 5, 7, 9, 11, 13, 14] {
            peer.send(priority(id));
        }
        peer.expect_silence();
        assert!(peer.events().is_empty(), "{role:?}");
        peer.expect_alive();
    }
    let mut peer = reserved_remote();
    peer.send(priority(2));
    peer.expect_silence();
    peer.expect_alive();
}

// ----- §5.1.1 stream identifiers -----

#[test]
fn rfc9113_5_1_1_even_stream_id_from_client_is_protocol_error() {
    // RFC 9113 §5.1.1: clients open odd-numbered streams only.
    let mut peer = connected(Role::Server);
    let head = peer.get(2, "/");
    peer.send(head);
    let goaway = peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    assert_eq!(goaway.last_stream_id, StreamId::ZERO);
    assert!(peer.events().iter().all(|e| !matches!(e, Event::Request { .. })));
}

#[test]
fn rfc9113_5_1_1_decreasing_stream_id_is_protocol_error() {
    // RFC 9113 §5.1.1: a new stream's id must exceed every id the peer opened before; an
    // unexpected id is a connection error PROTOCOL_ERROR.
    let mut peer = connected(Role::Server);
    let head = peer.get(5, "/");
    peer.send(head);
    peer.expect_quiet();
    let head = peer.get(3, "/");
    peer.send(head);
    let goaway = peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    assert_eq!(goaway.last_stream_id, StreamId(5));
    let events = peer.events();
    assert!(!events.iter().any(|e| matches!(e, Event::Request { stream_id: StreamId(3), .. })));
}

#[test]
fn rfc9113_5_1_1_reused_stream_id_is_connection_error() {
    // RFC 9113 §5.1.1: stream ids cannot be reused. Reopening a stream we remember as closed
    // by END_STREAM is a connection error STREAM_CLOSED (§5.1 closed)...
    let mut peer = connected(Role::Server);
    closed_by_end_stream(&mut peer, 1);
    let head = peer.get(1, "/");
    peer.send(head);
    peer.expect_goaway(ErrorCode::STREAM_CLOSED);

    // ...and one long forgotten is an unexpected id: PROTOCOL_ERROR.
    let mut config = Config::default();
    config.max_closed_streams = 1;
    let mut peer = connected_with(Role::Server, config);
    closed_by_end_stream(&mut peer, 1);
    closed_by_end_stream(&mut peer, 3);
    let head = peer.get(1, "/");
    peer.send(head);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_5_1_1_skipped_stream_ids_are_closed() {
    // RFC 9113 §5.1.1: opening stream 5 closes the lower idle streams 1 and 3: they are no
    // longer idle (no PROTOCOL_ERROR for WINDOW_UPDATE/RST_STREAM), and DATA on them is a
    // stream error STREAM_CLOSED (§6.1).
    let mut peer = connected(Role::Server);
    let head = peer.get(5, "/");
    peer.send(head);
    peer.events();
    peer.send(window_update(3, 10));
    peer.send(rst(1, ErrorCode::CANCEL));
    peer.expect_silence();
    peer.send(data(3, b"x", false));
    peer.expect_reset(3, ErrorCode::STREAM_CLOSED);
    peer.expect_alive();
}

#[test]
fn rfc9113_5_1_1_client_uses_increasing_odd_stream_ids() {
    // RFC 9113 §5.1.1: a client opens odd ids, each greater than all it opened before; a
    // refused attempt does not use one up.
    let mut peer = Peer::client();
    peer.handshake_with(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 3));
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(peer.conn.send_request(get("http://example.com/"), false).unwrap().0);
    }
    assert_eq!(
        peer.conn.send_request(get("http://example.com/"), false),
        Err(UserError::ConcurrencyLimit)
    );
    let frames = peer.frames();
    let sent: Vec<u32> = frames
        .iter()
        .map(|f| match f {
            Frame::Headers(h) => h.stream_id.0,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sent, vec![1, 3, 5]);
    assert_eq!(ids, sent);
    peer.send(rst(3, ErrorCode::CANCEL));
    peer.events();
    assert_eq!(peer.conn.send_request(get("http://example.com/"), true), Ok(StreamId(7)));
}

#[test]
fn rfc9113_5_1_1_push_promise_must_promise_a_new_even_stream() {
    // RFC 9113 §5.1.1 / §6.6: a promised stream id must be a new server id (even, above all
    // promised before); otherwise a connection error PROTOCOL_ERROR.
    let promise = |peer: &mut Peer, promised: u32| {
        let fragment = peer.block(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "example.com"),
            (":path", "/p"),
        ]);
        PushPromise {
            stream_id: StreamId(1),
            promised_id: StreamId(promised),
            fragment,
            end_headers: true,
            pad_len: None,
        }
    };
    // Stream 2 is promised; an odd promised id is not a server stream.
    let mut peer = reserved_remote();
    let frame = promise(&mut peer, 3);
    peer.send(frame);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    // 4 is a fine next promise; 2 again is not.
    let mut peer = reserved_remote();
    let frame = promise(&mut peer, 4);
    peer.send(frame);
    peer.expect_quiet();
    peer.events();
    let frame = promise(&mut peer, 2);
    peer.send(frame);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

// ----- §5.1.2 stream concurrency -----

#[test]
fn rfc9113_5_1_2_server_refuses_streams_over_its_limit_as_retryable() {
    // RFC 9113 §5.1.2: HEADERS that exceed our advertised MAX_CONCURRENT_STREAMS is a stream
    // error; REFUSED_STREAM tells the client it is safe to retry (§8.7). Open and both
    // half-closed states count.
    let mut config = Config::default();
    config.max_concurrent_streams = 2;
    let mut peer = connected_with(Role::Server, config);
    open(&mut peer, 1);
    half_closed_remote(&mut peer, 3); // a GET: half-closed (remote) counts too
    assert_eq!(peer.conn.active_streams(), 2);
    let head = peer.get(5, "/");
    peer.send(head);
    peer.expect_reset(5, ErrorCode::REFUSED_STREAM);
    let events = peer.events();
    assert!(
        matches!(
            &events[..],
            [Event::Reset {
                stream_id: StreamId(5),
                error_code: ErrorCode::REFUSED_STREAM,
                initiator: Initiator::Local,
                retryable: true
            }]
        ),
        "{events:?}"
    );
    assert_eq!(peer.conn.active_streams(), 2);
    // Half-closed (local) still counts.
    peer.conn.send_response(StreamId(1), status(200), true).unwrap();
    peer.frames();
    let head = peer.get(7, "/");
    peer.send(head);
    peer.expect_reset(7, ErrorCode::REFUSED_STREAM);
    peer.events();
    // Once a stream closes, a new one is accepted.
    peer.conn.send_response(StreamId(3), status(200), true).unwrap();
    peer.frames();
    let head = peer.get(9, "/");
    peer.send(head);
    peer.expect_quiet();
    let events = peer.events();
    assert!(matches!(&events[..], [Event::Request { stream_id: StreamId(9), .. }]), "{events:?}");
}

#[test]
fn rfc9113_5_1_an_idle_stream_we_reset_is_closed_and_cannot_be_opened() {
    // RFC 9113 §5.3.1: a PRIORITY frame making a stream depend on itself is a stream
    // error; on an idle stream our RST_STREAM closes it (§5.1). HEADERS on it later must
    // not open it as a new request: like any frame after our RST_STREAM, it is ignored
    // (its block still decoded, §4.3), and higher streams still open normally.
    let mut peer = connected_with(Role::Server, Config::default());
    let self_dependent = Priority {
        stream_id: StreamId(5),
        spec: PrioritySpec { dependency: StreamId(5), exclusive: false, weight: 16 },
    };
    peer.send(self_dependent);
    peer.expect_reset(5, ErrorCode::PROTOCOL_ERROR);
    peer.events();
    let head = peer.get(5, "/");
    peer.send(head);
    peer.expect_quiet();
    let events = peer.events();
    assert!(!events.iter().any(|e| matches!(e, Event::Request { .. })), "{events:?}");
    // DATA on it is a frame after our RST_STREAM too: ignored, not "DATA on an idle stream".
    peer.send(h2proto::frame::Data::new(StreamId(5), Bytes::from_static(b"x"), true));
    peer.expect_quiet();
    // The HPACK context stayed in step: the next request decodes and opens.
    let head = peer.get(7, "/");
    peer.send(head);
    let events = peer.events();
    assert!(matches!(&events[..], [Event::Request { stream_id: StreamId(7), .. }]), "{events:?}");
}

#[test]
fn rfc9113_5_1_2_a_limit_changed_by_update_settings_applies_once_acknowledged() {
    // RFC 9113 §6.5.3: our new SETTINGS_MAX_CONCURRENT_STREAMS binds the peer from its ACK
    // on; streams over it are refused (§5.1.2). Raising it again lets more in.
    let mut peer = connected_with(Role::Server, Config::default());
    peer.conn.update_settings(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 1)).unwrap();
    peer.frames();
    // Before the ACK the old limit (128) holds: the peer cannot know the new one yet.
    open(&mut peer, 1);
    open(&mut peer, 3);
    peer.expect_quiet();
    peer.send(Settings::ack());
    peer.events();
    let head = peer.get(5, "/");
    peer.send(head);
    peer.expect_reset(5, ErrorCode::REFUSED_STREAM);
    peer.events();
    // Two open, limit 1: still refused after one closes.
    peer.conn.reset(StreamId(1), ErrorCode::CANCEL).unwrap();
    peer.frames();
    let head = peer.get(7, "/");
    peer.send(head);
    peer.expect_reset(7, ErrorCode::REFUSED_STREAM);
    peer.events();
    // Raised to 4 and acknowledged: accepted again.
    peer.conn.update_settings(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 4)).unwrap();
    peer.frames();
    peer.send(Settings::ack());
    peer.events();
    let head = peer.get(9, "/");
    peer.send(head);
    peer.expect_quiet();
    let events = peer.events();
    assert!(matches!(&events[..], [Event::Request { stream_id: StreamId(9), .. }]), "{events:?}");
}

#[test]
fn rfc9113_5_1_2_closed_streams_with_unread_data_count_against_the_limit() {
    // A stream the peer ended (HEADERS + 1 byte + END_STREAM) and we answered is closed,
    // but its byte waits for the application: the stream stays in memory. Such streams
    // count against our limit until read, or a peer could make millions of them (bounded
    // only by the connection window, 1 byte each).
    let mut config = Config::default();
    config.max_concurrent_streams = 4;
    let mut peer = connected_with(Role::Server, config);
    let post_one_byte = |peer: &mut Peer, id: u32| {
        let head = peer.post(id, "/upload");
        peer.send(head);
        peer.send(h2proto::frame::Data::new(StreamId(id), Bytes::from_static(b"x"), true));
    };
    for id in [1, 3, 5, 7] {
        post_one_byte(&mut peer, id);
        peer.conn.send_response(StreamId(id), status(200), true).unwrap();
    }
    peer.frames();
    peer.events();
    assert_eq!(peer.conn.active_streams(), 0, "all four are closed");
    post_one_byte(&mut peer, 9);
    peer.expect_reset(9, ErrorCode::REFUSED_STREAM);
    peer.events();
    // Reading one stream's data frees its place.
    assert_eq!(peer.conn.read_data(StreamId(1)).as_deref(), Some(&b"x"[..]));
    assert_eq!(peer.conn.read_data(StreamId(1)), None);
    peer.frames();
    post_one_byte(&mut peer, 11);
    peer.expect_quiet();
    let events = peer.events();
    assert!(matches!(&events[0], Event::Request { stream_id: StreamId(11), .. }), "{events:?}");
}

#[test]
fn rfc9113_5_1_2_client_respects_the_peer_limit_and_learns_when_streams_free_up() {
    // RFC 9113 §5.1.2: an endpoint must not exceed the peer's MAX_CONCURRENT_STREAMS; the
    // application hears when a stream closes and when the peer raises the limit.
    let mut peer = Peer::client();
    peer.handshake_with(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 2));
    request(&mut peer, 1, true); // half-closed (local): counts
    request(&mut peer, 3, false);
    assert!(!peer.conn.can_open_stream());
    assert_eq!(
        peer.conn.send_request(get("http://example.com/"), true),
        Err(UserError::ConcurrencyLimit)
    );
    peer.expect_silence();
    assert!(peer.events().is_empty());

    // A stream closes: one may open again.
    let head = peer.response(1, "204", true);
    peer.send(head);
    let events = peer.events();
    assert!(matches!(events.last(), Some(Event::StreamsAvailable)), "{events:?}");
    assert!(peer.conn.can_open_stream());
    request(&mut peer, 5, false);
    assert_eq!(
        peer.conn.send_request(get("http://example.com/"), true),
        Err(UserError::ConcurrencyLimit)
    );

    // The peer raises its limit.
    peer.send(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 3));
    let events = peer.events();
    assert!(
        matches!(
            &events[..],
            [Event::StreamsAvailable, Event::RemoteSettings { .. }]
                | [Event::RemoteSettings { .. }, Event::StreamsAvailable]
        ),
        "{events:?}"
    );
    let frames = peer.frames();
    assert_eq!(frames, vec![Frame::Settings(Settings::ack())]);
    request(&mut peer, 7, true);
    assert_eq!(
        peer.conn.send_request(get("http://example.com/"), true),
        Err(UserError::ConcurrencyLimit)
    );

    // Lowered below the streams in flight: they go on, no new ones.
    peer.send(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 0));
    peer.frames();
    peer.events();
    assert_eq!(
        peer.conn.send_request(get("http://example.com/"), true),
        Err(UserError::ConcurrencyLimit)
    );
    peer.send(rst(3, ErrorCode::CANCEL));
    peer.events();
    assert_eq!(
        peer.conn.send_request(get("http://example.com/"), true),
        Err(UserError::ConcurrencyLimit)
    );
    let head = peer.response(5, "200", false);
    peer.send(head);
    peer.send(data(5, b"still flowing", false));
    peer.expect_silence();
    let events = peer.events();
    assert!(
        matches!(
            &events[..],
            [
                Event::Response { stream_id: StreamId(5), .. },
                Event::Data { stream_id: StreamId(5), .. }
            ]
        ),
        "{events:?}"
    );
}

// ----- §5.1 the state table -----

/// What §5.1 says each (state, event) does, written from the RFC's prose, independently of
/// the crate's table. "Send" events the state forbids are `Refused` (nothing goes out);
/// "recv" events it forbids are the error the RFC names.
fn rfc_5_1(state: State, event: StreamEvent) -> Outcome {
    use Outcome::Next;
    use State::*;
    use StreamEvent::*;
    let protocol_error = Outcome::ConnectionError(ErrorCode::PROTOCOL_ERROR);
    let stream_closed = Outcome::StreamError(ErrorCode::STREAM_CLOSED);
    let refused = Outcome::Refused;
    match (state, event) {
        // PUSH_PROMISE events are about the promised stream, which must be idle (§5.1.1,
        // §6.6): promising any other stream is a connection error PROTOCOL_ERROR.
        (Idle, SendPushPromise) => Next(ReservedLocal),
        (Idle, RecvPushPromise) => Next(ReservedRemote),
        (_, SendPushPromise) => refused,
        (_, RecvPushPromise) => protocol_error,
        // RST_STREAM is never sent on an idle stream and is a PROTOCOL_ERROR when received
        // there (§6.4); from every other state either side's RST_STREAM closes the stream.
        // In closed, sending it is how stream errors on closed streams are reported (§5.4.2)
        // and receiving it is a late frame to ignore.
        (Idle, SendReset) => refused,
        (Idle, RecvReset) => protocol_error,
        (_, SendReset | RecvReset) => Next(Closed),
        // idle: HEADERS opens; receiving anything but HEADERS/PRIORITY is PROTOCOL_ERROR.
        (Idle, SendHeaders | RecvHeaders) => Next(Open),
        (Idle, SendData | SendEndStream) => refused,
        (Idle, RecvData | RecvEndStream) => protocol_error,
        // reserved (local): we may send HEADERS (-> half-closed (remote)); the peer may send
        // only RST_STREAM, PRIORITY, WINDOW_UPDATE.
        (ReservedLocal, SendHeaders) => Next(HalfClosedRemote),
        (ReservedLocal, SendData | SendEndStream) => refused,
        (ReservedLocal, RecvHeaders | RecvData | RecvEndStream) => protocol_error,
        // reserved (remote): receiving HEADERS -> half-closed (local); we may send only
        // RST_STREAM, WINDOW_UPDATE, PRIORITY.
        (ReservedRemote, RecvHeaders) => Next(HalfClosedLocal),
        (ReservedRemote, SendHeaders | SendData | SendEndStream) => refused,
        (ReservedRemote, RecvData | RecvEndStream) => protocol_error,
        // open: anything goes; END_STREAM half-closes the sender's side.
        (Open, SendHeaders | RecvHeaders | SendData | RecvData) => Next(Open),
        (Open, SendEndStream) => Next(HalfClosedLocal),
        (Open, RecvEndStream) => Next(HalfClosedRemote),
        // half-closed (local): we send nothing but WINDOW_UPDATE/PRIORITY/RST_STREAM; we
        // receive anything; the peer's END_STREAM closes.
        (HalfClosedLocal, SendHeaders | SendData | SendEndStream) => refused,
        (HalfClosedLocal, RecvHeaders | RecvData) => Next(HalfClosedLocal),
        (HalfClosedLocal, RecvEndStream) => Next(Closed),
        // half-closed (remote): we may send anything, our END_STREAM closes; what the peer
        // sends beyond WINDOW_UPDATE/PRIORITY/RST_STREAM is a stream error STREAM_CLOSED.
        (HalfClosedRemote, SendHeaders | SendData) => Next(HalfClosedRemote),
        (HalfClosedRemote, SendEndStream) => Next(Closed),
        (HalfClosedRemote, RecvHeaders | RecvData | RecvEndStream) => stream_closed,
        // closed: we send nothing but PRIORITY; DATA (and HEADERS) received on a closed
        // stream is a STREAM_CLOSED error (§6.1) — the connection refines how closed.
        (Closed, SendHeaders | SendData | SendEndStream) => refused,
        (Closed, RecvHeaders | RecvData | RecvEndStream) => stream_closed,
    }
}

/// Every state once; the match makes the compiler check nothing is missing.
fn state_ordinal(state: State) -> usize {
    match state {
        State::Idle => 0,
        State::ReservedLocal => 1,
        State::ReservedRemote => 2,
        State::Open => 3,
        State::HalfClosedLocal => 4,
        State::HalfClosedRemote => 5,
        State::Closed => 6,
    }
}

fn event_ordinal(event: StreamEvent) -> usize {
    use StreamEvent::*;
    match event {
        SendHeaders => 0,
        RecvHeaders => 1,
        SendPushPromise => 2,
        RecvPushPromise => 3,
        SendData => 4,
        RecvData => 5,
        SendEndStream => 6,
        RecvEndStream => 7,
        SendReset => 8,
        RecvReset => 9,
    }
}

#[test]
fn rfc9113_5_1_state_table_is_total_and_matches_the_rfc() {
    // RFC 9113 §5.1: every (state, event) pair has exactly the outcome §5.1 prescribes.
    let mut states: Vec<usize> = STATES.iter().map(|s| state_ordinal(*s)).collect();
    states.sort_unstable();
    assert_eq!(states, (0..7).collect::<Vec<_>>(), "STATES lists every state once");
    let mut events: Vec<usize> = EVENTS.iter().map(|e| event_ordinal(*e)).collect();
    events.sort_unstable();
    assert_eq!(events, (0..10).collect::<Vec<_>>(), "EVENTS lists every event once");
    assert_eq!(TABLE.len(), STATES.len());
    let mut mismatches = Vec::new();
    for (i, state) in STATES.iter().enumerate() {
        assert_eq!(TABLE[i].len(), EVENTS.len());
        for (j, event) in EVENTS.iter().enumerate() {
            let got = state.on(*event);
            assert_eq!(got, TABLE[i][j], "State::on agrees with TABLE[{i}][{j}]");
            let want = rfc_5_1(*state, *event);
            if got != want {
                mismatches.push(format!("{state:?} x {event:?}: table {got:?}, RFC {want:?}"));
            }
            // Nothing ever returns to idle.
            assert_ne!(got, Outcome::Next(State::Idle), "{state:?} x {event:?}");
        }
    }
    assert!(mismatches.is_empty(), "state table disagrees with §5.1:\n{}", mismatches.join("\n"));
}

// §5.1.2: until the server's SETTINGS arrive, a client assumes the configured default
// (100) rather than no limit, so early requests are not refused by a stricter server.
#[test]
fn rfc9113_5_1_2_client_assumes_initial_max_send_streams_before_settings() {
    let mut config = Config::default();
    config.initial_max_send_streams = 2;
    let mut client = h2proto::Connection::client(config);
    assert!(client.send_request(get("https://example.com/1"), false).is_ok());
    assert!(client.send_request(get("https://example.com/2"), false).is_ok());
    assert!(!client.can_open_stream());
    assert_eq!(
        client.send_request(get("https://example.com/3"), false),
        Err(h2proto::UserError::ConcurrencyLimit)
    );
}

// §6.5.2: a pool tells the assumed limit from the peer's own (`peer_settings_received`).
#[test]
fn rfc9113_6_5_2_a_pool_can_tell_the_peers_limit_from_the_assumed_one() {
    let mut config = Config::default();
    config.initial_max_send_streams = 2;
    let mut peer = Peer::client_with(config);
    assert!(!peer.conn.peer_settings_received());
    assert_eq!(peer.conn.peer_settings().max_concurrent_streams, 2, "assumed");
    peer.handshake_with(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 7));
    assert!(peer.conn.peer_settings_received());
    assert_eq!(peer.conn.peer_settings().max_concurrent_streams, 7, "the peer's");
}

// §5.1.2: a client that only looked at `can_open_stream` still hears when a slot frees.
#[test]
fn rfc9113_5_1_2_streams_available_after_a_close_at_the_limit() {
    let mut peer = connected(Role::Client);
    peer.send(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 1));
    peer.frames();
    peer.events();
    let id = peer.conn.send_request(get("https://example.com/"), true).unwrap();
    assert!(!peer.conn.can_open_stream());
    let response = peer.response(id.0, "204", true);
    peer.send(response);
    let events = peer.events();
    assert!(events.iter().any(|e| matches!(e, Event::StreamsAvailable)), "{events:?}");
    assert!(peer.conn.can_open_stream());
}
