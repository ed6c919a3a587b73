//! RFC 9113 §6.7 PING, proven at the frame level for both roles: answers, our own PINGs,
//! and keepalive over the virtual clock.

mod support;

use h2proto::frame::{Frame, FrameType, Ping, RawFrame, flags};
use h2proto::{Config, ConnectionErrorKind, ErrorCode, Event, Role, UserError};
use std::time::Duration;
use support::*;

const ROLES: [Role; 2] = [Role::Server, Role::Client];

fn ping(payload: [u8; 8]) -> Ping {
    Ping { ack: false, payload }
}

fn ack(payload: [u8; 8]) -> Ping {
    Ping { ack: true, payload }
}

/// Keepalive every 10 s, 20 s to answer; no idle (or first-request) timeout to get in the
/// way: these connections carry no request.
fn keepalive_config() -> Config {
    let mut config = Config::default();
    config.keepalive_interval = Some(Duration::from_secs(10));
    config.keepalive_timeout = Duration::from_secs(20);
    config.idle_timeout = None;
    config.first_request_timeout = None;
    config
}

/// The payloads of the non-ACK PINGs in `frames` (which must hold nothing else).
#[track_caller]
fn pings_sent(frames: &[Frame]) -> Vec<[u8; 8]> {
    frames
        .iter()
        .map(|f| match f {
            Frame::Ping(p) if !p.ack => p.payload,
            other => panic!("expected only PINGs, got {other:?}"),
        })
        .collect()
}

#[test]
fn rfc9113_6_7_ping_is_answered_with_ack_and_the_same_payload() {
    // RFC 9113 §6.7: a PING without ACK must be answered with a PING with ACK set and an
    // identical payload.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.send(ping(*b"12345678"));
        peer.send(ping([0xff; 8]));
        assert_eq!(
            peer.frames(),
            vec![Frame::Ping(ack(*b"12345678")), Frame::Ping(ack([0xff; 8]))],
            "{role:?}"
        );
        assert!(peer.events().is_empty());
    }
}

#[test]
fn rfc9113_6_7_ping_ack_is_not_answered() {
    // RFC 9113 §6.7: a PING with ACK must not be answered; an unsolicited one is ignored.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.send(ack(*b"unasked!"));
        peer.expect_silence();
        assert!(peer.events().is_empty(), "{role:?}: no PingAck for a PING we never sent");
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_6_7_our_ping_ack_is_reported() {
    // RFC 9113 §6.7: the ACK of our PING carries its payload back; the application hears of
    // it once, whatever the order of answers.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.conn.ping(*b"first..1").unwrap();
        peer.conn.ping(*b"second.2").unwrap();
        assert_eq!(pings_sent(&peer.frames()), vec![*b"first..1", *b"second.2"]);
        peer.send(ack(*b"second.2"));
        peer.send(ack(*b"first..1"));
        peer.send(ack(*b"first..1"));
        peer.expect_silence();
        let events = peer.events();
        assert!(
            matches!(&events[..], [Event::PingAck { payload: a }, Event::PingAck { payload: b }] if a == b"second.2" && b == b"first..1"),
            "{role:?}: {events:?}"
        );
    }
}

#[test]
fn rfc9113_6_7_ping_on_a_stream_or_of_wrong_length_is_a_connection_error() {
    // RFC 9113 §6.7: PING on a stream is PROTOCOL_ERROR; a length other than 8 is
    // FRAME_SIZE_ERROR.
    for role in ROLES {
        for (raw, code) in [
            (RawFrame::new(FrameType::PING, 1).payload([0u8; 8]), ErrorCode::PROTOCOL_ERROR),
            (RawFrame::new(FrameType::PING, 0).payload([0u8; 7]), ErrorCode::FRAME_SIZE_ERROR),
            (
                RawFrame::new(FrameType::PING, 0).flags(flags::ACK).payload([0u8; 9]),
                ErrorCode::FRAME_SIZE_ERROR,
            ),
        ] {
            let mut peer = Peer::connected(role, Config::default());
            peer.send_raw(raw);
            peer.expect_goaway(code);
            assert!(peer.last_result.is_err(), "{role:?}");
        }
    }
}

#[test]
fn ping_after_close_is_refused() {
    // A closed connection sends nothing more, PINGs included.
    let mut peer = Peer::connected(Role::Client, Config::default());
    peer.conn.close(ErrorCode::NO_ERROR, "done");
    peer.frames();
    assert_eq!(peer.conn.ping([1; 8]), Err(UserError::Closed));
    peer.expect_silence();
}

/// Steps the clock a second at a time until a keepalive PING goes out; returns after how
/// many seconds, and its payload.
#[track_caller]
fn wait_for_keepalive(peer: &mut Peer) -> (u64, [u8; 8]) {
    for elapsed in 1..=20 {
        peer.advance(Duration::from_secs(1));
        let sent = pings_sent(&peer.frames());
        if let [payload] = sent[..] {
            return (elapsed, payload);
        }
        assert!(sent.is_empty(), "{sent:?}");
    }
    panic!("no keepalive PING within two intervals");
}

#[test]
fn keepalive_pings_after_inactivity_and_keeps_an_answering_peer() {
    // Config::keepalive_interval: a PING once nothing was received for that long; an
    // answered PING keeps the connection and is not reported to the application.
    for role in ROLES {
        let mut peer = Peer::connected(role, keepalive_config());
        for _ in 0..5 {
            let (after, payload) = wait_for_keepalive(&mut peer);
            // Exactly one interval after the last frame received.
            assert_eq!(after, 10, "{role:?}");
            peer.advance(Duration::from_secs(3));
            peer.send(ack(payload));
            peer.expect_silence();
            assert!(peer.events().is_empty(), "{role:?}: keepalive ACKs are not PingAck events");
        }
        assert!(!peer.conn.is_closed() && peer.conn.error().is_none(), "{role:?}");
    }
}

#[test]
fn keepalive_is_not_sent_while_the_peer_is_active() {
    // The keepalive PING is for an idle connection: frames from the peer postpone it.
    for role in ROLES {
        let mut peer = Peer::connected(role, keepalive_config());
        for _ in 0..10 {
            peer.advance(Duration::from_secs(5));
            peer.send(ping(*b"activity"));
            assert_eq!(peer.frames(), vec![Frame::Ping(ack(*b"activity"))], "{role:?}");
        }
        let (after, _) = wait_for_keepalive(&mut peer);
        assert_eq!(after, 10, "{role:?}: one interval after the last frame received");
    }
}

#[test]
fn keepalive_closes_the_connection_when_the_ping_is_not_answered() {
    // Config::keepalive_timeout: an unanswered keepalive PING ends the connection.
    for role in ROLES {
        let mut peer = Peer::connected(role, keepalive_config());
        wait_for_keepalive(&mut peer);
        // Other frames are not the answer.
        peer.advance(Duration::from_secs(10));
        peer.send(ping(*b"not-ack!"));
        peer.send(ack(*b"othr-ack"));
        peer.frames();
        peer.advance(Duration::from_millis(9_999));
        peer.expect_silence();
        assert!(!peer.conn.is_closed());
        peer.advance(Duration::from_millis(1));
        let frames = peer.frames();
        assert!(
            matches!(&frames[..], [Frame::GoAway(g)] if g.error_code == ErrorCode::NO_ERROR),
            "{role:?}: {frames:?}"
        );
        assert!(peer.conn.is_closed());
        let error = peer.conn.error().expect("ended with an error").clone();
        assert_eq!(error.code, ErrorCode::NO_ERROR);
        assert_eq!(error.kind, ConnectionErrorKind::KeepaliveTimeout);
        assert!(error.is_keepalive_timeout() && error.kind.is_timeout());
        assert!(error.to_string().starts_with("keepalive timeout"), "{error}");
        let events = peer.events();
        assert!(
            matches!(events.last(), Some(Event::Closed { error: Some(e) }) if *e == error),
            "{events:?}"
        );
        assert_eq!(peer.conn.poll_timeout(), None);
    }
}

// ----- Round-trip time (Connection::rtt, Stats::ping_rtt) -----

/// Moves the peer's clock without firing timers: the time the next frame arrives.
fn later(peer: &mut Peer, by: Duration) {
    peer.now += by;
}

#[test]
fn rtt_is_measured_from_an_application_ping_to_its_ack() {
    // The ACK of a PING of ours is the round trip (RFC 9113 §6.7 "PING ... measuring a
    // minimal round-trip time"): timed from the latest clock before the PING to the `now` of
    // the recv that reads the ACK.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        assert_eq!(peer.conn.rtt(), None, "{role:?}: nothing measured yet");
        peer.conn.ping(*b"rtt-one!").unwrap();
        peer.conn.ping(*b"rtt-two!").unwrap();
        peer.frames();
        later(&mut peer, Duration::from_millis(30));
        peer.send(ack(*b"rtt-one!"));
        assert_eq!(peer.conn.rtt(), Some(Duration::from_millis(30)), "{role:?}");
        later(&mut peer, Duration::from_millis(12));
        peer.send(ack(*b"rtt-two!"));
        assert_eq!(peer.conn.rtt(), Some(Duration::from_millis(42)), "{role:?}: the latest");
        assert_eq!(peer.conn.stats().ping_rtt, peer.conn.rtt());
        // An ACK nobody asked for is no sample.
        later(&mut peer, Duration::from_millis(500));
        peer.send(ack(*b"rtt-one!"));
        assert_eq!(peer.conn.rtt(), Some(Duration::from_millis(42)), "{role:?}");
    }
}

#[test]
fn rtt_is_measured_by_the_keepalive_ping() {
    // A keepalive PING is timed too: an idle connection's pool learns its round trip.
    for role in ROLES {
        let mut peer = Peer::connected(role, keepalive_config());
        let (_, payload) = wait_for_keepalive(&mut peer);
        later(&mut peer, Duration::from_millis(250));
        peer.send(ack(payload));
        assert_eq!(peer.conn.rtt(), Some(Duration::from_millis(250)), "{role:?}");
        // The next one replaces the sample.
        let (_, payload) = wait_for_keepalive(&mut peer);
        later(&mut peer, Duration::from_millis(7));
        peer.send(ack(payload));
        assert_eq!(peer.conn.rtt(), Some(Duration::from_millis(7)), "{role:?}");
    }
}

#[test]
fn rtt_is_measured_by_the_shutdown_ping() {
    // A server's graceful shutdown PINGs the client (RFC 9113 §6.8); its ACK is a sample.
    let mut peer = Peer::connected(Role::Server, Config::default());
    peer.conn.shutdown();
    let payload = announced_shutdown(&peer.frames());
    later(&mut peer, Duration::from_millis(80));
    peer.send(ack(payload));
    assert_eq!(peer.conn.rtt(), Some(Duration::from_millis(80)));
}

#[test]
fn keepalive_timeout_fails_requests_in_flight_with_a_keepalive_timeout_error() {
    // A request waiting on a dead peer ends with the connection's typed error: no
    // `Reset` (no RST_STREAM reset it; before, it read as a NO_ERROR reset), and `Closed`
    // says "keepalive timeout" for every stream still open.
    let mut peer = Peer::connected(Role::Client, keepalive_config());
    peer.open_request(1, true);
    peer.open_request(3, false);
    peer.events();
    wait_for_keepalive(&mut peer);
    peer.advance(Duration::from_secs(20));
    let events = peer.events();
    assert!(!events.iter().any(|e| matches!(e, Event::Reset { .. })), "{events:?}");
    let [Event::Closed { error: Some(error) }] = &events[..] else { panic!("{events:?}") };
    assert!(error.is_keepalive_timeout(), "{error:?}");
    assert_eq!(peer.conn.active_streams(), 0);
    assert_eq!(peer.conn.read_data(h2proto::StreamId(1)), None);
}
