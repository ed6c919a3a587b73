//! First end-to-end checks of the connection: handshake, one exchange both ways.

mod support;

use h2proto::frame::{Frame, SettingId, StreamId};
use h2proto::{ErrorCode, Event};
use support::*;

#[test]
fn rfc9113_3_4_server_handshake_settings_and_ack() {
    let mut peer = Peer::server();
    let frames = peer.handshake();
    let Frame::Settings(settings) = &frames[0] else {
        panic!("first frame must be SETTINGS: {frames:?}")
    };
    assert!(!settings.ack);
    assert_eq!(settings.get(SettingId::MAX_CONCURRENT_STREAMS), Some(128));
    assert!(
        frames.iter().any(|f| matches!(f, Frame::Settings(s) if s.ack)),
        "our SETTINGS acked: {frames:?}"
    );
    assert!(frames.iter().any(|f| matches!(f, Frame::WindowUpdate(w) if w.stream_id.is_zero())));
    peer.expect_alive();
}

#[test]
fn server_answers_a_get() {
    let mut peer = Peer::server();
    peer.handshake();
    let get = peer.get(1, "/hello");
    peer.send(get);
    let events = peer.events();
    let Some(Event::Request { stream_id, request, end_stream }) = events.into_iter().next() else {
        panic!()
    };
    assert_eq!((stream_id, request.uri().path(), end_stream), (StreamId(1), "/hello", true));
    peer.conn.send_response(stream_id, status(200), false).unwrap();
    assert_eq!(peer.conn.send_data(stream_id, "hi there".into(), true).unwrap(), 8);
    let frames = peer.frames();
    let Frame::Headers(h) = &frames[0] else { panic!("{frames:?}") };
    let fields = peer.decode(&h.fragment.clone());
    assert_eq!(fields, vec![(":status".to_string(), "200".to_string())]);
    assert!(matches!(&frames[1], Frame::Data(d) if &d.data[..] == b"hi there" && d.end_stream));
}

#[test]
fn pair_exchanges_request_and_response() {
    let mut pair = Pair::new();
    let id = pair.client.send_request(get("http://example.com/x"), true).unwrap();
    pair.drive();
    let events = pair.take_server_events();
    assert!(matches!(&events[..], [Event::Request { end_stream: true, .. }]), "{events:?}");
    pair.server.send_response(id, status(200), false).unwrap();
    pair.server.send_data(id, "0123456789abc".into(), true).unwrap();
    pair.drive();
    let events = pair.take_client_events();
    assert!(matches!(&events[0], Event::Response { end_stream: false, .. }), "{events:?}");
    assert!(matches!(&events[1], Event::Data { end_stream: true, .. }), "{events:?}");
    assert_eq!(Pair::read_all(&mut pair.client, id), b"0123456789abc");
    assert_eq!(pair.client.active_streams(), 0);
    assert_eq!(pair.server.active_streams(), 0);
}

#[test]
fn rfc9113_5_1_idle_data_is_connection_error() {
    let mut peer = Peer::server();
    peer.handshake();
    peer.send(data(1, b"x", true));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}
