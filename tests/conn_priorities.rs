//! RFC 9218 extensible priorities (the `priority` header, PRIORITY_UPDATE, scheduling) and
//! the deprecated RFC 7540 PRIORITY frame (RFC 9113 §5.3.2, §6.3), frame by frame.
//!
//! Scheduling tests queue several responses with bodies larger than a frame, with windows
//! wide open, and read the order of the DATA frames in a single `transmit`.

mod support;

use bytes::Bytes;
use h2proto::frame::{
    Frame, FrameType, Priority, PrioritySpec, PriorityUpdate, RawFrame, SettingId, Settings,
    StreamId,
};
use h2proto::{Config, ErrorCode, Event};
use support::*;

/// Bodies of three full frames each (the default SETTINGS_MAX_FRAME_SIZE is 16 KiB).
const BODY: usize = 3 * 16_384;

/// A server under test whose peer grants windows far larger than the bodies.
fn server_with(config: Config) -> Peer {
    let mut peer = Peer::server_with(config);
    peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 1 << 20));
    peer.send(window_update(0, 16 << 20));
    peer.expect_quiet();
    peer
}

fn server() -> Peer {
    server_with(Config::default())
}

/// Opens GET streams, each with an optional `priority` header.
fn open(peer: &mut Peer, streams: &[(u32, Option<&str>)]) {
    for &(id, priority) in streams {
        let mut fields = vec![
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "/"),
        ];
        fields.extend(priority.map(|p| ("priority", p)));
        let headers = peer.request(id, &fields, true);
        peer.send(headers);
    }
    let opened = peer.events().iter().filter(|e| matches!(e, Event::Request { .. })).count();
    assert_eq!(opened, streams.len());
}

/// Queues a 200 response with a `BODY`-byte body on each stream, in this order.
fn respond(peer: &mut Peer, ids: &[u32]) {
    for &id in ids {
        peer.conn.send_response(StreamId(id), status(200), false).unwrap();
        assert_eq!(
            peer.conn.send_data(StreamId(id), Bytes::from(vec![0; BODY]), true).unwrap(),
            BODY
        );
    }
}

/// The stream of each DATA frame, in the order written.
fn data_order(frames: &[Frame]) -> Vec<u32> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Data(d) => Some(d.stream_id.0),
            _ => None,
        })
        .collect()
}

/// Every stream's body went out whole, and ended.
#[track_caller]
fn assert_complete(frames: &[Frame], ids: &[u32]) {
    for &id in ids {
        let sent: usize = frames
            .iter()
            .filter_map(|f| match f {
                Frame::Data(d) if d.stream_id.0 == id => Some(d.data.len()),
                _ => None,
            })
            .sum();
        assert_eq!(sent, BODY, "stream {id}");
        assert!(
            frames
                .iter()
                .any(|f| matches!(f, Frame::Data(d) if d.stream_id.0 == id && d.end_stream)),
            "stream {id} ended"
        );
    }
}

fn update(id: u32, value: &'static str) -> PriorityUpdate {
    PriorityUpdate {
        prioritized_stream_id: StreamId(id),
        field_value: Bytes::from_static(value.as_bytes()),
    }
}

fn priority(id: u32, dependency: u32, weight: u16) -> Priority {
    Priority {
        stream_id: StreamId(id),
        spec: PrioritySpec { dependency: StreamId(dependency), exclusive: false, weight },
    }
}

fn priority_updates(events: &[Event]) -> Vec<(u32, u8, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PriorityUpdate { stream_id, urgency, incremental } => {
                Some((stream_id.0, *urgency, *incremental))
            }
            _ => None,
        })
        .collect()
}

// ----- RFC 9218 §4, §10: scheduling by urgency and incremental -----

#[test]
fn rfc9218_4_1_lower_urgency_value_is_served_first() {
    // RFC 9218 §4.1, §10: responses of higher urgency (smaller `u`) go before those of
    // lower urgency when both can be sent.
    let mut peer = server();
    open(&mut peer, &[(1, Some("u=7")), (3, None), (5, Some("u=0"))]);
    respond(&mut peer, &[1, 3, 5]);
    let frames = peer.frames();
    assert_eq!(data_order(&frames), vec![5, 5, 5, 3, 3, 3, 1, 1, 1]);
    assert_complete(&frames, &[1, 3, 5]);
}

#[test]
fn rfc9218_10_incremental_streams_share_round_robin() {
    // RFC 9218 §4.2, §10: incremental responses of one urgency share the bandwidth.
    let mut peer = server();
    open(&mut peer, &[(1, Some("u=2, i")), (3, Some("i, u=2")), (5, Some("u=2, i=?1"))]);
    respond(&mut peer, &[1, 3, 5]);
    let frames = peer.frames();
    assert_eq!(data_order(&frames), vec![1, 3, 5, 1, 3, 5, 1, 3, 5]);
    assert_complete(&frames, &[1, 3, 5]);
}

#[test]
fn rfc9218_10_non_incremental_streams_are_served_one_after_another() {
    // RFC 9218 §4.2, §10: non-incremental responses of one urgency are sent whole, one at
    // a time, in ascending stream id order (the order the client asked).
    let mut peer = server();
    open(&mut peer, &[(1, Some("u=3")), (3, Some("u=3, i=?0")), (5, Some("u=3"))]);
    // Queued out of order on purpose.
    respond(&mut peer, &[5, 1, 3]);
    let frames = peer.frames();
    assert_eq!(data_order(&frames), vec![1, 1, 1, 3, 3, 3, 5, 5, 5]);
    assert_complete(&frames, &[1, 3, 5]);
}

#[test]
fn rfc9218_4_default_priority_is_fair_round_robin() {
    // RFC 9218 §4: without a signal every stream has urgency 3; streams that sent no
    // signal take turns frame by frame.
    let mut peer = server();
    open(&mut peer, &[(1, None), (3, None), (5, None)]);
    respond(&mut peer, &[1, 3, 5]);
    let frames = peer.frames();
    assert_eq!(data_order(&frames), vec![1, 3, 5, 1, 3, 5, 1, 3, 5]);
    assert_complete(&frames, &[1, 3, 5]);
    // Unknown, out-of-range and mistyped parameters are ignored (§4), the rest applies.
    let mut peer = server();
    open(&mut peer, &[(1, Some("u=9, i")), (3, Some("u=x, i")), (5, Some("i, foo=bar"))]);
    respond(&mut peer, &[1, 3, 5]);
    assert_eq!(data_order(&peer.frames()), vec![1, 3, 5, 1, 3, 5, 1, 3, 5]);
}

#[test]
fn rfc9218_10_client_uploads_follow_urgency_too() {
    // RFC 9218 §4.1: the client schedules its own request bodies by the urgency it sent.
    let mut peer = Peer::client();
    peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 1 << 20));
    peer.send(window_update(0, 16 << 20));
    peer.frames();
    let post = |priority: &str| {
        http::Request::post("https://example.com/up").header("priority", priority).body(()).unwrap()
    };
    let low = peer.conn.send_request(post("u=6"), false).unwrap();
    let high = peer.conn.send_request(post("u=1"), false).unwrap();
    for id in [low, high] {
        peer.conn.send_data(id, Bytes::from(vec![0; BODY]), true).unwrap();
    }
    let frames = peer.frames();
    assert_eq!(data_order(&frames), vec![3, 3, 3, 1, 1, 1]);
    assert_complete(&frames, &[1, 3]);
}

// ----- RFC 9218 §7.1: PRIORITY_UPDATE -----

#[test]
fn rfc9218_7_1_priority_update_reorders_and_is_reported() {
    // RFC 9218 §7: PRIORITY_UPDATE reprioritizes a response; the application hears of it.
    let mut peer = server();
    open(&mut peer, &[(1, None), (3, None), (5, None)]);
    peer.send(update(5, "u=0"));
    assert_eq!(priority_updates(&peer.events()), vec![(5, 0, false)]);
    respond(&mut peer, &[1, 3, 5]);
    // And on a stream whose data is already queued.
    peer.send(update(1, "u=6"));
    assert_eq!(priority_updates(&peer.events()), vec![(1, 6, false)]);
    let frames = peer.frames();
    assert_eq!(data_order(&frames), vec![5, 5, 5, 3, 3, 3, 1, 1, 1]);
    assert_complete(&frames, &[1, 3, 5]);
}

#[test]
fn rfc9218_7_priority_update_carries_the_complete_priority() {
    // RFC 9218 §7: a PRIORITY_UPDATE carries all parameters; an omitted one takes its
    // default, not the value the request header gave.
    let mut peer = server();
    open(&mut peer, &[(1, Some("u=1, i")), (3, Some("u=1, i"))]);
    peer.send(update(1, "u=1"));
    assert_eq!(priority_updates(&peer.events()), vec![(1, 1, false)]);
    peer.send(update(3, "i"));
    assert_eq!(priority_updates(&peer.events()), vec![(3, 3, true)]);
    respond(&mut peer, &[3, 1]);
    // Stream 1 is now urgency 1, non-incremental; stream 3 urgency 3.
    assert_eq!(data_order(&peer.frames()), vec![1, 1, 1, 3, 3, 3]);
}

#[test]
fn rfc9218_7_1_priority_update_for_idle_stream_applies_when_it_opens() {
    // RFC 9218 §7.1: a PRIORITY_UPDATE may come before its stream opens; it is kept and
    // applied then, overriding the request's header.
    let mut peer = server();
    peer.send(update(5, "u=0"));
    peer.expect_quiet();
    assert_eq!(priority_updates(&peer.events()), vec![(5, 0, false)]);
    // The most recent frame for an idle stream replaces the earlier one.
    peer.send(update(3, "u=7")).send(update(3, "u=6, i"));
    assert_eq!(priority_updates(&peer.events()), vec![(3, 7, false), (3, 6, true)]);
    open(&mut peer, &[(1, None), (3, None), (5, Some("u=7"))]);
    respond(&mut peer, &[1, 3, 5]);
    let frames = peer.frames();
    assert_eq!(data_order(&frames), vec![5, 5, 5, 1, 1, 1, 3, 3, 3]);
    assert_complete(&frames, &[1, 3, 5]);
}

#[test]
fn rfc9218_7_1_too_many_idle_prioritized_streams_is_protocol_error() {
    // RFC 9218 §7.1: idle prioritized streams plus active ones must not exceed
    // SETTINGS_MAX_CONCURRENT_STREAMS; more is a connection error PROTOCOL_ERROR.
    let mut config = Config::default();
    config.max_concurrent_streams = 4;
    let mut peer = server_with(config);
    let post = |peer: &mut Peer, id| {
        let headers = peer.post(id, "/");
        peer.send(headers);
    };
    post(&mut peer, 1);
    post(&mut peer, 3);
    peer.send(update(5, "u=1")).send(update(7, "u=1"));
    peer.expect_quiet();
    peer.send(update(9, "u=1"));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);

    // Our own bound on remembered updates, below the concurrency limit.
    let mut config = Config::default();
    config.max_idle_priorities = 16;
    let mut peer = server_with(config);
    for i in 0..16 {
        peer.send(update(101 + 2 * i, "u=1"));
    }
    peer.expect_quiet();
    // Updating one already remembered does not take another slot.
    peer.send(update(101, "u=2"));
    peer.expect_quiet();
    peer.send(update(201, "u=1"));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9218_7_1_idle_priorities_of_skipped_streams_are_released() {
    // RFC 9113 §5.1.1: opening a higher stream closes the idle ones below it, so their
    // remembered priorities no longer count against RFC 9218 §7.1's bound.
    let mut peer = server();
    for round in 0..40u32 {
        let skipped = 4 * round + 1;
        peer.send(update(skipped, "u=1"));
        let headers = peer.get(skipped + 2, "/");
        peer.send(headers);
        peer.conn.send_response(StreamId(skipped + 2), status(204), true).unwrap();
        peer.expect_quiet();
    }
    peer.events();
    // Still room for a legitimate update.
    peer.send(update(1001, "u=1"));
    peer.expect_quiet();
    assert_eq!(priority_updates(&peer.events()), vec![(1001, 1, false)]);
}

#[test]
fn rfc9218_7_1_priority_update_for_closed_stream_is_discarded() {
    // RFC 9218 §7.1: servers can discard updates for closed streams.
    let mut peer = server();
    let headers = peer.get(1, "/");
    peer.send(headers);
    peer.conn.send_response(StreamId(1), status(204), true).unwrap();
    peer.frames();
    peer.events();
    peer.send(update(1, "u=0"));
    peer.expect_quiet();
    assert!(peer.events().is_empty());
    peer.expect_alive();
}

#[test]
fn rfc9218_7_1_priority_update_for_idle_push_stream_is_protocol_error() {
    // RFC 9218 §7.1: a PRIORITY_UPDATE for a push stream in the idle state is a
    // connection error PROTOCOL_ERROR (this server never pushes).
    let mut peer = server();
    peer.send(update(2, "u=0"));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9218_7_1_priority_update_received_by_client_is_protocol_error() {
    // RFC 9218 §7.1: servers must not send PRIORITY_UPDATE; a client receiving one
    // responds with a connection error PROTOCOL_ERROR.
    let mut peer = Peer::client();
    peer.handshake();
    let id = peer.conn.send_request(get("https://example.com/"), true).unwrap();
    peer.frames();
    peer.send(update(id.0, "u=0"));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9218_7_1_priority_update_on_a_stream_is_protocol_error() {
    // RFC 9218 §7.1: the frame's stream identifier must be 0; otherwise a connection
    // error PROTOCOL_ERROR.
    let mut peer = server();
    let headers = peer.post(1, "/");
    peer.send(headers);
    let frame = RawFrame::from_frame(&Frame::PriorityUpdate(update(1, "u=0"))).stream(1);
    peer.send_raw(frame);
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9218_7_1_priority_update_for_stream_zero_is_protocol_error() {
    // RFC 9218 §7.1: a prioritized stream id of 0 is a connection error PROTOCOL_ERROR.
    let mut peer = server();
    peer.send_raw(RawFrame::new(FrameType::PRIORITY_UPDATE, 0).payload(b"\0\0\0\0u=0"));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
    // Too short to hold a stream id at all.
    let mut peer = server();
    peer.send_raw(RawFrame::new(FrameType::PRIORITY_UPDATE, 0).payload([0, 0, 1]));
    peer.expect_goaway(ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn rfc9218_2_1_no_rfc7540_priorities_sent_and_validated() {
    // RFC 9218 §2.1: SETTINGS_NO_RFC7540_PRIORITIES goes in the first SETTINGS; a value
    // other than 0 or 1 is a connection error PROTOCOL_ERROR.
    let mut peer = Peer::server();
    let frames = peer.handshake();
    let Frame::Settings(settings) = &frames[0] else { panic!("{frames:?}") };
    assert_eq!(settings.get(SettingId::NO_RFC7540_PRIORITIES), Some(1));
    peer.send_raw(RawFrame::new(FrameType::SETTINGS, 0).payload([0, 9, 0, 0, 0, 2]));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);

    let mut peer = Peer::client();
    let frames = peer.handshake();
    let Frame::Settings(settings) = &frames[0] else { panic!("{frames:?}") };
    assert_eq!(settings.get(SettingId::NO_RFC7540_PRIORITIES), Some(1));
    peer.send_raw(RawFrame::new(FrameType::SETTINGS, 0).payload([0, 9, 0, 0, 0, 7]));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

// ----- RFC 9113 §5.3.2, §6.3: the deprecated PRIORITY frame -----

#[test]
fn rfc9113_6_3_priority_with_wrong_length_is_frame_size_error() {
    // §6.3: a PRIORITY frame of a length other than 5 is a stream error
    // FRAME_SIZE_ERROR.
    for len in [4, 6] {
        let mut peer = server();
        let headers = peer.post(1, "/");
        peer.send(headers);
        peer.events();
        peer.send_raw(RawFrame::new(FrameType::PRIORITY, 1).payload(vec![0; len]));
        assert_eq!(peer.frames(), vec![Frame::RstStream(rst(1, ErrorCode::FRAME_SIZE_ERROR))]);
        // On an idle stream as well: still only a stream error.
        peer.send_raw(RawFrame::new(FrameType::PRIORITY, 5).payload(vec![0; len]));
        assert_eq!(peer.frames(), vec![Frame::RstStream(rst(5, ErrorCode::FRAME_SIZE_ERROR))]);
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_5_3_1_priority_depending_on_itself_is_stream_error() {
    // §5.3.1: a stream cannot depend on itself: a stream error PROTOCOL_ERROR.
    let mut peer = server();
    let headers = peer.post(1, "/");
    peer.send(headers);
    peer.events();
    peer.send(priority(1, 1, 16));
    assert_eq!(peer.frames(), vec![Frame::RstStream(rst(1, ErrorCode::PROTOCOL_ERROR))]);
    // §5.1: PRIORITY is allowed on an idle stream, so this too is only a stream error.
    peer.send(priority(3, 3, 16));
    assert_eq!(peer.frames(), vec![Frame::RstStream(rst(3, ErrorCode::PROTOCOL_ERROR))]);
    peer.expect_alive();
}

#[test]
fn rfc9113_5_3_2_priority_frames_are_otherwise_ignored() {
    // §5.3.2: RFC 7540 priority signals are parsed and validated, then ignored; PRIORITY
    // is allowed in every state, idle and closed included (§5.1), and opens nothing.
    let mut peer = server();
    peer.send(priority(7, 0, 256)); // idle
    peer.expect_quiet();
    open(&mut peer, &[(1, None), (3, None), (5, None)]);
    assert!(peer.conn.active_streams() == 3);
    // Stream 5 depends exclusively on 1 with the least weight: no effect on scheduling.
    peer.send(Priority {
        stream_id: StreamId(5),
        spec: PrioritySpec { dependency: StreamId(1), exclusive: true, weight: 1 },
    });
    peer.send(priority(3, 1, 256));
    peer.expect_quiet();
    assert!(peer.events().is_empty(), "nothing to report");
    respond(&mut peer, &[1, 3, 5]);
    let frames = peer.frames();
    assert_eq!(data_order(&frames), vec![1, 3, 5, 1, 3, 5, 1, 3, 5]);
    peer.send(priority(1, 0, 16)); // closed
    peer.expect_quiet();
    // Stream 7 was only prioritized, never opened: it can still be opened.
    let headers = peer.get(7, "/");
    peer.send(headers);
    assert!(
        peer.events().iter().any(|e| matches!(e, Event::Request { stream_id: StreamId(7), .. }))
    );
    peer.expect_alive();
}

#[test]
fn rfc9113_6_3_priority_on_stream_zero_is_protocol_error() {
    // §6.3: a PRIORITY frame on stream 0 is a connection error PROTOCOL_ERROR.
    let mut peer = server();
    peer.send_raw(RawFrame::new(FrameType::PRIORITY, 0).payload([0, 0, 0, 1, 16]));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}
