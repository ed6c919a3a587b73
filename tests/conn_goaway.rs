//! RFC 9113 §6.8 GOAWAY and §5.4.1 connection errors, proven at the frame level for both
//! roles: graceful shutdown in two steps, what a received GOAWAY does to streams, and
//! the sticky end of a connection that failed.

mod support;

use bytes::Bytes;
use h2proto::frame::{Frame, FrameType, GoAway, Ping, RawFrame, Settings, StreamId};
use h2proto::{Config, ConnectionErrorKind, ErrorCode, Event, Initiator, Role, UserError};
use std::time::Duration;
use support::*;

const ROLES: [Role; 2] = [Role::Server, Role::Client];

#[track_caller]
fn only_goaway(frames: &[Frame]) -> GoAway {
    match frames {
        [Frame::GoAway(g)] => g.clone(),
        _ => panic!("expected a single GOAWAY, got {frames:?}"),
    }
}

#[track_caller]
fn expect_closed_cleanly(peer: &mut Peer) {
    assert!(peer.conn.is_closed(), "connection should be closed");
    assert!(peer.conn.error().is_none());
    let events = peer.events();
    assert!(matches!(events.last(), Some(Event::Closed { error: None })), "{events:?}");
}

fn request_ids(events: &[Event]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Request { stream_id, .. } => Some(stream_id.0),
            _ => None,
        })
        .collect()
}

// ----- §6.8 graceful shutdown -----

#[test]
fn rfc9113_6_8_server_graceful_shutdown_announces_then_sends_the_last_stream_id() {
    // RFC 9113 §6.8: a graceful shutdown sends GOAWAY with 2^31-1 and a PING, then, once the
    // PING comes back (streams in flight have arrived), GOAWAY with the last stream id
    // processed. Streams up to it finish; later ones are ignored; then the connection ends.
    let mut peer = Peer::connected(Role::Server, Config::default());
    let head = peer.get(1, "/");
    peer.send(head);
    assert_eq!(request_ids(&peer.events()), vec![1]);

    peer.conn.shutdown();
    let payload = announced_shutdown(&peer.frames());
    assert!(peer.conn.is_going_away() && !peer.conn.is_closed());

    // The client had stream 3 in flight: it is still processed.
    let head = peer.post(3, "/");
    peer.send(head);
    peer.send(data(3, b"body", true));
    peer.expect_silence();
    assert_eq!(request_ids(&peer.events()), vec![3]);

    peer.send(Ping { ack: true, payload });
    let goaway = only_goaway(&peer.frames());
    assert_eq!((goaway.last_stream_id, goaway.error_code), (StreamId(3), ErrorCode::NO_ERROR));

    // Stream 5 arrives after the final GOAWAY: ignored, body included.
    let head = peer.post(5, "/");
    peer.send(head);
    peer.send(data(5, b"ignored", true));
    peer.expect_silence();
    assert!(peer.events().is_empty());

    // Streams 1 and 3 finish; then the connection closes.
    peer.conn.send_response(StreamId(1), status(200), true).unwrap();
    peer.frames();
    assert!(!peer.conn.is_closed());
    while peer.conn.read_data(StreamId(3)).is_some() {}
    peer.conn.send_response(StreamId(3), status(200), false).unwrap();
    peer.conn.send_data(StreamId(3), "bye".into(), true).unwrap();
    let frames = peer.frames();
    assert!(
        matches!(&frames[..], [Frame::Headers(_), Frame::Data(d)] if d.end_stream),
        "{frames:?}"
    );
    expect_closed_cleanly(&mut peer);
}

#[test]
fn rfc9113_6_8_the_shutdown_ping_cannot_be_acknowledged_before_it_is_seen() {
    // The first phase of a graceful shutdown ends with the ACK of our PING: a peer that
    // could guess its payload could end it early. Every connection has its own payload,
    // even two made from one Config, and an ACK of anything else is not it.
    let config = Config::default();
    let mut payloads = Vec::new();
    for _ in 0..2 {
        let mut peer = Peer::connected(Role::Server, config.clone());
        let head = peer.get(1, "/");
        peer.send(head);
        peer.conn.shutdown();
        let payload = announced_shutdown(&peer.frames());
        for guess in [*b"h2p-shut", *b"h2p-live", [0; 8], payload.map(|b| !b)] {
            peer.send(Ping { ack: true, payload: guess });
        }
        assert!(
            !peer.frames().iter().any(|f| matches!(f, Frame::GoAway(_))),
            "a guessed ACK ended the first phase"
        );
        peer.send(Ping { ack: true, payload });
        assert_eq!(only_goaway(&peer.frames()).last_stream_id, StreamId(1));
        payloads.push(payload);
    }
    assert_ne!(payloads[0], payloads[1], "two connections, one payload");
    // With the same entropy and the same start time, the same payload (determinism).
    let mut fixed = Config::default();
    fixed.entropy = 7;
    let start = std::time::Instant::now();
    let shutdown_ping = |config: &Config| {
        let mut conn = h2proto::Connection::server(config.clone());
        conn.handle_timeout(start);
        conn.shutdown();
        h2proto::buf_to_vec(conn.transmit())
    };
    assert_eq!(shutdown_ping(&fixed), shutdown_ping(&fixed));
}

#[test]
fn rfc9113_6_8_server_sends_final_goaway_after_shutdown_timeout_without_ping_ack() {
    // RFC 9113 §6.8: the final GOAWAY follows after a reasonable time even if the PING is
    // never answered (Config::shutdown_timeout).
    let mut peer = Peer::connected(Role::Server, Config::default());
    let head = peer.get(1, "/");
    peer.send(head);
    peer.events();
    peer.conn.shutdown();
    announced_shutdown(&peer.frames());
    peer.advance(Duration::from_millis(4_999));
    peer.expect_silence();
    peer.advance(Duration::from_millis(1));
    let goaway = only_goaway(&peer.frames());
    assert_eq!((goaway.last_stream_id, goaway.error_code), (StreamId(1), ErrorCode::NO_ERROR));
    peer.conn.send_response(StreamId(1), status(204), true).unwrap();
    peer.frames();
    expect_closed_cleanly(&mut peer);
}

#[test]
fn rfc9113_6_8_server_shutdown_without_streams_closes_after_the_final_goaway() {
    // RFC 9113 §6.8: with nothing in flight the connection ends right after the final GOAWAY.
    let mut peer = Peer::connected(Role::Server, Config::default());
    peer.conn.shutdown();
    let payload = announced_shutdown(&peer.frames());
    assert!(!peer.conn.is_closed(), "requests may still be in flight");
    peer.send(Ping { ack: true, payload });
    let goaway = only_goaway(&peer.frames());
    assert_eq!(goaway.last_stream_id, StreamId::ZERO);
    expect_closed_cleanly(&mut peer);
}

#[test]
fn rfc9113_6_8_client_shutdown_finishes_its_streams_then_closes() {
    // RFC 9113 §6.8: a client's GOAWAY names the last server stream it processed (none
    // here); it opens no new stream, and ends once its streams have finished.
    let mut peer = Peer::connected(Role::Client, Config::default());
    peer.open_request(1, true);
    peer.conn.shutdown();
    let goaway = only_goaway(&peer.frames());
    assert_eq!((goaway.last_stream_id, goaway.error_code), (StreamId::ZERO, ErrorCode::NO_ERROR));
    assert_eq!(peer.conn.send_request(get("http://example.com/"), true), Err(UserError::GoingAway));
    assert!(!peer.conn.is_closed());
    let head = peer.response(1, "200", false);
    peer.send(head);
    peer.send(data(1, b"done", true));
    peer.expect_silence();
    assert_eq!(peer.conn.read_data(StreamId(1)).as_deref(), Some(&b"done"[..]));
    expect_closed_cleanly(&mut peer);
}

// ----- §6.8 receiving GOAWAY -----

#[test]
fn rfc9113_6_8_received_goaway_stops_new_streams_and_refuses_those_above_last_id() {
    // RFC 9113 §6.8 / §8.7: after GOAWAY no new stream may be opened; streams above its last
    // stream id were not processed and may be retried; those up to it complete.
    let mut peer = Peer::connected(Role::Client, Config::default());
    for id in [1, 3, 5] {
        peer.open_request(id, true);
    }
    peer.send(GoAway {
        last_stream_id: StreamId(1),
        error_code: ErrorCode::NO_ERROR,
        debug_data: Bytes::from_static(b"maintenance"),
    });
    peer.expect_silence();
    let events = peer.events();
    assert!(
        matches!(&events[0], Event::GoAway { last_stream_id: StreamId(1), error_code: ErrorCode::NO_ERROR, debug_data } if debug_data == "maintenance"),
        "{events:?}"
    );
    let mut refused: Vec<u32> = events[1..]
        .iter()
        .map(|e| match e {
            Event::Reset { stream_id, initiator: Initiator::Remote, retryable: true, .. } => {
                stream_id.0
            }
            other => panic!("{other:?}"),
        })
        .collect();
    refused.sort_unstable();
    assert_eq!(refused, vec![3, 5]);
    assert!(peer.conn.is_going_away() && !peer.conn.can_open_stream());
    assert_eq!(peer.conn.send_request(get("http://example.com/"), true), Err(UserError::GoingAway));
    peer.expect_silence();

    // Stream 1 still completes; then the connection is done, and we say so (§6.8: a
    // receiver of GOAWAY still sends one before it closes; we processed none of its
    // streams).
    let head = peer.response(1, "200", true);
    peer.send(head);
    let ours = only_goaway(&peer.frames());
    assert_eq!((ours.last_stream_id, ours.error_code), (StreamId::ZERO, ErrorCode::NO_ERROR));
    let events = peer.events();
    assert!(matches!(&events[0], Event::Response { stream_id: StreamId(1), .. }), "{events:?}");
    assert!(matches!(events.last(), Some(Event::Closed { error: None })), "{events:?}");
    assert!(peer.conn.is_closed());
}

#[test]
fn rfc9113_6_8_a_second_goaway_with_a_lower_last_id_refuses_more_streams() {
    // RFC 9113 §6.8: a graceful shutdown's GOAWAY (2^31-1) refuses nothing; the next one's
    // lower last stream id refuses the streams above it.
    let mut peer = Peer::connected(Role::Client, Config::default());
    peer.open_request(1, true);
    peer.open_request(3, true);
    peer.send(goaway(StreamId::MAX.0, ErrorCode::NO_ERROR));
    let events = peer.events();
    assert!(matches!(&events[..], [Event::GoAway { .. }]), "{events:?}");
    assert_eq!(peer.conn.send_request(get("http://example.com/"), true), Err(UserError::GoingAway));
    peer.send(goaway(1, ErrorCode::NO_ERROR));
    let events = peer.events();
    assert!(
        matches!(
            &events[..],
            [
                Event::GoAway { last_stream_id: StreamId(1), .. },
                Event::Reset { stream_id: StreamId(3), retryable: true, .. }
            ]
        ),
        "{events:?}"
    );
    peer.expect_silence();
}

#[test]
fn rfc9113_6_8_server_receiving_goaway_finishes_streams_then_closes() {
    // RFC 9113 §6.8: GOAWAY from a client lets the streams it opened finish.
    let mut peer = Peer::connected(Role::Server, Config::default());
    let head = peer.get(1, "/");
    peer.send(head);
    peer.send(goaway(0, ErrorCode::NO_ERROR));
    peer.expect_silence();
    let events = peer.events();
    assert!(matches!(&events[..], [Event::Request { .. }, Event::GoAway { .. }]), "{events:?}");
    assert!(!peer.conn.is_closed());
    peer.conn.send_response(StreamId(1), status(200), true).unwrap();
    let frames = peer.frames();
    // The response, then our own GOAWAY (§6.8) naming the last stream we processed.
    assert!(
        matches!(&frames[..], [Frame::Headers(h), Frame::GoAway(g)]
            if h.end_stream && g.last_stream_id == StreamId(1) && g.error_code == ErrorCode::NO_ERROR),
        "{frames:?}"
    );
    expect_closed_cleanly(&mut peer);
}

#[test]
fn rfc9113_6_8_goaway_with_an_error_lets_streams_up_to_the_last_id_complete() {
    // RFC 9113 §6.8: "activity on streams numbered lower than or equal to the last stream
    // identifier might still complete successfully", whatever the code; streams above it
    // were not processed (retryable, §8.7). The connection then ends with the peer's error,
    // after our own GOAWAY (§6.8 SHOULD).
    let mut peer = Peer::connected(Role::Client, Config::default());
    for id in [1, 3, 5] {
        peer.open_request(id, true);
    }
    peer.send(GoAway {
        last_stream_id: StreamId(1),
        error_code: ErrorCode::INTERNAL_ERROR,
        debug_data: Bytes::from_static(b"boom"),
    });
    assert!(peer.last_result.is_ok(), "stream 1 may still complete: {:?}", peer.last_result);
    peer.expect_silence();
    let events = peer.events();
    assert!(
        matches!(
            &events[0],
            Event::GoAway {
                last_stream_id: StreamId(1),
                error_code: ErrorCode::INTERNAL_ERROR,
                ..
            }
        ),
        "{events:?}"
    );
    let mut refused: Vec<u32> = events[1..]
        .iter()
        .map(|e| match e {
            Event::Reset {
                stream_id,
                error_code: ErrorCode::REFUSED_STREAM,
                initiator: Initiator::Remote,
                retryable: true,
            } => stream_id.0,
            other => panic!("{other:?}"),
        })
        .collect();
    refused.sort_unstable();
    assert_eq!(refused, vec![3, 5], "above the last stream id: not processed");
    assert!(peer.conn.is_going_away() && !peer.conn.is_closed());
    assert_eq!(peer.conn.send_request(get("http://example.com/"), true), Err(UserError::GoingAway));

    // The server completes stream 1: its response is the caller's.
    let head = peer.response(1, "200", false);
    peer.send(head);
    peer.send(data(1, b"done", true));
    let ours = only_goaway(&peer.frames());
    assert_eq!((ours.last_stream_id, ours.error_code), (StreamId::ZERO, ErrorCode::NO_ERROR));
    let events = peer.events();
    assert!(matches!(&events[0], Event::Response { stream_id: StreamId(1), .. }), "{events:?}");
    assert!(matches!(&events[1], Event::Data { stream_id: StreamId(1), end_stream: true }));
    assert_eq!(peer.conn.read_data(StreamId(1)).as_deref(), Some(&b"done"[..]));
    let Some(Event::Closed { error: Some(error) }) = events.last() else { panic!("{events:?}") };
    assert_eq!(
        (error.code, error.initiator, error.kind),
        (ErrorCode::INTERNAL_ERROR, Initiator::Remote, ConnectionErrorKind::GoAway)
    );
    assert_eq!(error.reason, "boom");
    assert!(peer.conn.is_closed());
    assert_eq!(peer.conn.error(), Some(error));
}

#[test]
fn rfc9113_5_4_1_eof_after_an_error_goaway_ends_the_connection_with_the_peers_error() {
    // RFC 9113 §5.4.1: the endpoint that sends a connection error's GOAWAY then closes the
    // transport. Its EOF, with a stream at or below the last id still open, ends the
    // connection with the error it announced, not as a bare end of input.
    let mut peer = Peer::connected(Role::Client, Config::default());
    peer.open_request(1, true);
    peer.send(GoAway {
        last_stream_id: StreamId(1),
        error_code: ErrorCode::INTERNAL_ERROR,
        debug_data: Bytes::from_static(b"boom"),
    });
    peer.events();
    assert!(!peer.conn.is_closed(), "stream 1 may still complete");
    peer.conn.recv_eof();
    let events = peer.events();
    let [Event::Closed { error: Some(error) }] = &events[..] else { panic!("{events:?}") };
    assert_eq!(
        (error.code, error.initiator, error.kind),
        (ErrorCode::INTERNAL_ERROR, Initiator::Remote, ConnectionErrorKind::GoAway)
    );
    assert_eq!(error.reason, "boom");
    assert_eq!(peer.conn.error(), Some(error));
    assert_eq!(peer.conn.active_streams(), 0);
    peer.conn.recv_eof();
    assert!(peer.events().is_empty(), "reported once");

    // Without an error GOAWAY, EOF is the adapter's to report: the core changes nothing.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        peer.conn.recv_eof();
        assert!(peer.events().is_empty(), "{role:?}");
        assert_eq!(peer.conn.active_streams(), 1, "{role:?}");
        assert!(peer.conn.error().is_none(), "{role:?}");
    }
}

#[test]
fn rfc9113_6_8_goaway_with_an_error_and_nothing_left_ends_the_connection_at_once() {
    // RFC 9113 §6.8 / §5.4.1: with no stream at or below the last id, an error GOAWAY ends
    // the connection in the call that read it; we answer with our GOAWAY and nothing else.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        if role == Role::Client {
            peer.open_request(1, true);
        }
        peer.send(goaway(0, ErrorCode::ENHANCE_YOUR_CALM));
        let error = peer.last_result.clone().expect_err("the connection ended");
        assert_eq!(
            (error.code, error.initiator, error.kind),
            (ErrorCode::ENHANCE_YOUR_CALM, Initiator::Remote, ConnectionErrorKind::GoAway)
        );
        let ours = only_goaway(&peer.frames());
        assert_eq!(ours.error_code, ErrorCode::NO_ERROR, "{role:?}");
        let events = peer.events();
        assert!(matches!(&events[0], Event::GoAway { .. }), "{events:?}");
        if role == Role::Client {
            assert!(
                matches!(&events[1], Event::Reset { stream_id: StreamId(1), retryable: true, .. }),
                "{events:?}"
            );
        }
        assert!(
            matches!(events.last(), Some(Event::Closed { error: Some(e) }) if *e == error),
            "{role:?}: {events:?}"
        );
        assert!(peer.conn.is_closed());
        peer.expect_silence_after_close();
    }
}

#[test]
fn rfc9113_6_8_a_server_answers_the_requests_of_a_client_that_sent_an_error_goaway() {
    // RFC 9113 §6.8: a client's GOAWAY names the last *server-initiated* stream; the
    // client's own requests are the server's to finish, error code or not.
    let mut peer = Peer::connected(Role::Server, Config::default());
    for id in [1, 3] {
        let head = peer.get(id, "/");
        peer.send(head);
    }
    peer.send(goaway(0, ErrorCode::INTERNAL_ERROR));
    assert!(peer.last_result.is_ok());
    peer.events();
    for id in [1, 3] {
        peer.conn.send_response(StreamId(id), status(204), true).unwrap();
    }
    let frames = peer.frames();
    assert!(
        matches!(&frames[..], [Frame::Headers(a), Frame::Headers(b), Frame::GoAway(g)]
            if a.end_stream && b.end_stream && g.last_stream_id == StreamId(3)),
        "{frames:?}"
    );
    let events = peer.events();
    let Some(Event::Closed { error: Some(error) }) = events.last() else { panic!("{events:?}") };
    assert_eq!((error.code, error.kind), (ErrorCode::INTERNAL_ERROR, ConnectionErrorKind::GoAway));
}

#[test]
fn rfc9113_6_8_goaway_on_a_stream_is_protocol_error() {
    // RFC 9113 §6.8: GOAWAY applies to the connection; on a stream it is a connection error
    // PROTOCOL_ERROR.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.send_raw(RawFrame::new(FrameType::GOAWAY, 1).payload([0, 0, 0, 0, 0, 0, 0, 0]));
        peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
        assert!(peer.last_result.is_err(), "{role:?}");
    }
}

// ----- §5.4.1 connection errors -----

#[test]
fn rfc9113_5_4_1_connection_error_goaway_names_the_last_processed_stream() {
    // RFC 9113 §5.4.1 / §6.8: the GOAWAY of a connection error carries the highest stream id
    // of the peer's that we processed.
    let mut peer = Peer::connected(Role::Server, Config::default());
    peer.open_stream(1);
    peer.open_stream(3);
    peer.conn.send_response(StreamId(1), status(200), true).unwrap();
    peer.frames();
    peer.send(data(7, b"idle stream", false));
    let goaway = peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    assert_eq!(goaway.last_stream_id, StreamId(3));

    // A client processed no stream of the server's...
    let mut peer = Peer::connected(Role::Client, Config::default());
    peer.open_stream(1);
    peer.send(data(3, b"idle stream", false));
    let goaway = peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    assert_eq!(goaway.last_stream_id, StreamId::ZERO);

    // ...unless it accepted a push.
    let mut config = Config::default();
    config.enable_push = true;
    let mut peer = Peer::connected(Role::Client, config);
    peer.open_stream(1);
    let fragment = peer.block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "example.com"),
        (":path", "/pushed"),
    ]);
    peer.send(h2proto::frame::PushPromise {
        stream_id: StreamId(1),
        promised_id: StreamId(2),
        fragment,
        end_headers: true,
        pad_len: None,
    });
    peer.expect_silence();
    peer.send(window_update(0, 0));
    let goaway = peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    assert_eq!(goaway.last_stream_id, StreamId(2));
}

#[test]
fn rfc9113_6_8_connection_error_after_final_goaway_does_not_raise_the_last_stream_id() {
    // RFC 9113 §6.8: the last stream id of successive GOAWAYs must not increase; streams we
    // ignored after the final GOAWAY were not processed.
    let mut peer = Peer::connected(Role::Server, Config::default());
    peer.open_stream(1);
    peer.conn.shutdown();
    let payload = announced_shutdown(&peer.frames());
    peer.send(Ping { ack: true, payload });
    assert_eq!(only_goaway(&peer.frames()).last_stream_id, StreamId(1));
    let head = peer.get(3, "/");
    peer.send(head);
    peer.expect_silence();
    peer.send(window_update(0, 0));
    let goaway = peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    assert_eq!(goaway.last_stream_id, StreamId(1));
}

#[test]
fn rfc9113_5_4_1_connection_error_is_sticky_and_only_goaway_is_written() {
    // RFC 9113 §5.4.1: after a connection error the endpoint sends GOAWAY and nothing else
    // (no DATA queued before it, no answer to later input); `recv` keeps returning the error.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        if role == Role::Server {
            peer.conn.send_response(StreamId(1), status(200), false).unwrap();
        }
        // More data than the 65,535-byte windows: some stays queued.
        peer.conn.send_data(StreamId(1), Bytes::from(vec![1u8; 100_000]), true).unwrap();
        peer.frames();
        assert!(peer.conn.wants_write() || peer.conn.send_window(StreamId(1)) == Some(0));
        peer.send(window_update(0, 0));
        let goaway = only_goaway(&peer.frames());
        assert_eq!(goaway.error_code, ErrorCode::PROTOCOL_ERROR);
        let error = peer.last_result.clone().expect_err("connection error");
        assert_eq!((error.code, error.initiator), (ErrorCode::PROTOCOL_ERROR, Initiator::Local));
        // Stream 1 ends with the connection: `Closed` carries the error for it (no RST_STREAM
        // reset it, so no `Reset` event).
        let events = peer.events();
        assert!(
            matches!(&events[..], [Event::Closed { error: Some(e) }] if *e == error),
            "{role:?}: {events:?}"
        );
        assert_eq!(error.kind, ConnectionErrorKind::Protocol);

        // Everything after: the same error, no output, no events.
        peer.send(Ping { ack: false, payload: [1; 8] });
        assert_eq!(peer.last_result, Err(error.clone()));
        peer.send(window_update(1, 100_000));
        peer.send(window_update(0, 100_000));
        peer.send(Settings::new());
        assert_eq!(peer.last_result, Err(error.clone()));
        assert_eq!(peer.conn.ping([2; 8]), Err(UserError::Closed));
        assert_eq!(peer.conn.update_settings(Settings::new()), Err(UserError::Closed));
        assert_eq!(peer.conn.send_data(StreamId(1), "x".into(), true), Err(UserError::Closed));
        if role == Role::Client {
            assert_eq!(
                peer.conn.send_request(get("http://example.com/"), true),
                Err(UserError::Closed)
            );
        } else {
            assert_eq!(
                peer.conn.send_response(StreamId(1), status(200), true),
                Err(UserError::Closed)
            );
        }
        peer.conn.shutdown();
        peer.advance(Duration::from_secs(60));
        assert!(
            h2proto::buf_to_vec(peer.conn.transmit()).is_empty(),
            "{role:?}: nothing but GOAWAY"
        );
        assert!(peer.events().is_empty());
        assert!(peer.conn.is_closed());
        assert_eq!(peer.conn.poll_timeout(), None);
        assert_eq!(peer.conn.error(), Some(&error));
    }
}

trait AfterClose {
    fn expect_silence_after_close(&mut self);
}

impl AfterClose for Peer {
    /// Closed: later input is not answered and nothing is written.
    #[track_caller]
    fn expect_silence_after_close(&mut self) {
        self.send(Ping { ack: false, payload: [9; 8] });
        let frames = self.frames();
        assert!(frames.is_empty(), "{frames:?}");
        assert!(self.events().is_empty());
    }
}
