//! Every limit in `Config`, enforced against a peer that pushes it: the known HTTP/2
//! attacks (rapid reset, CONTINUATION flood, HPACK bomb, SETTINGS/PING/PRIORITY/empty-frame
//! floods, reset floods, a peer that does not read) are answered with GOAWAY
//! ENHANCE_YOUR_CALM or with backpressure, never with growth; timeouts fire on the virtual
//! clock; `Stats` counts what happened.
//!
//! The peer's clock does not move unless a test advances it, so token buckets hold exactly
//! their burst: the limits are exact, not timing-dependent.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{
    Continuation, Frame, FrameType, Headers, Ping, Priority, PrioritySpec, PriorityUpdate,
    RawFrame, RstStream, SettingId, Settings, StreamId, Unknown,
};
use h2proto::{Config, ErrorCode, Event, RateLimit};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;
use support::*;

// ----- Allocation accounting, per thread (tests run in parallel) -----

struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + layout.size()));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let grown = new_size.saturating_sub(layout.size());
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + grown));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated by this thread while running `f`.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(Cell::get);
    let out = f();
    (out, ALLOCATED.with(Cell::get) - before)
}

// ----- Helpers -----

fn server_with(config: Config) -> Peer {
    let mut peer = Peer::server_with(config);
    peer.handshake();
    peer
}

fn server() -> Peer {
    server_with(Config::default())
}

fn ping(n: u64) -> Ping {
    Ping { ack: false, payload: n.to_be_bytes() }
}

fn continuation(id: u32, fragment: impl Into<Bytes>, end_headers: bool) -> Continuation {
    Continuation { stream_id: StreamId(id), fragment: fragment.into(), end_headers }
}

fn headers_open(id: u32, fragment: impl Into<Bytes>) -> Headers {
    let mut headers = Headers::new(StreamId(id), fragment, true);
    headers.end_headers = false;
    headers
}

fn priority(id: u32) -> Priority {
    Priority {
        stream_id: StreamId(id),
        spec: PrioritySpec { dependency: StreamId(0), exclusive: false, weight: 16 },
    }
}

fn wire(frames: impl IntoIterator<Item = Frame>) -> Bytes {
    let mut out = BytesMut::new();
    for frame in frames {
        frame.encode(&mut out);
    }
    out.freeze()
}

/// Asserts the connection ended with GOAWAY ENHANCE_YOUR_CALM and reported it.
#[track_caller]
fn assert_calm(peer: &mut Peer) {
    peer.expect_goaway(ErrorCode::ENHANCE_YOUR_CALM);
    let error = peer.last_result.clone().expect_err("recv reports the connection error");
    assert_eq!(error.code, ErrorCode::ENHANCE_YOUR_CALM);
    assert!(peer.events().iter().any(|e| matches!(e, Event::Closed { error: Some(_) })));
}

fn count_requests(events: &[Event]) -> usize {
    events.iter().filter(|e| matches!(e, Event::Request { .. })).count()
}

// ----- Rapid reset (CVE-2023-44487) -----

#[test]
fn rfc9113_10_5_rapid_reset_flood_is_enhance_your_calm() {
    // RFC 9113 §10.5; CVE-2023-44487: streams opened and reset before we answer cost work
    // for nothing; past `remote_reset_rate` the connection ends with ENHANCE_YOUR_CALM.
    let mut peer = server();
    let burst = Config::default().remote_reset_rate.burst;
    for i in 0..burst {
        let id = 2 * i + 1;
        let headers = peer.get(id, "/");
        peer.send(headers).send(rst(id, ErrorCode::CANCEL));
        assert!(peer.last_result.is_ok(), "reset {i} of the burst");
        peer.events();
    }
    peer.expect_quiet();
    let id = 2 * burst + 1;
    let headers = peer.get(id, "/");
    peer.send(headers).send(rst(id, ErrorCode::CANCEL));
    let goaway = peer.expect_goaway(ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(goaway.last_stream_id, StreamId(id));
    let stats = peer.conn.stats();
    assert_eq!(stats.streams_opened_remote, u64::from(burst) + 1);
    assert_eq!(stats.resets_received, u64::from(burst) + 1);
    assert_eq!(stats.resets_received_early, u64::from(burst) + 1);
}

#[test]
fn rfc9113_10_5_browser_like_cancels_are_not_punished() {
    // CVE-2023-44487 mitigation must not hit normal clients: a few dozen cancels at once,
    // or a steady rate under `remote_reset_rate.per_second`, keep the connection.
    let mut peer = server();
    let mut id = 1;
    for _ in 0..40 {
        let headers = peer.get(id, "/");
        peer.send(headers).send(rst(id, ErrorCode::CANCEL));
        id += 2;
    }
    peer.expect_alive();
    // Twenty seconds of 40 cancels per second: 800 in all, four times the burst.
    for _ in 0..20 {
        peer.advance(Duration::from_secs(1));
        for _ in 0..40 {
            let headers = peer.get(id, "/");
            peer.send(headers).send(rst(id, ErrorCode::CANCEL));
            id += 2;
        }
        peer.events();
        peer.expect_quiet();
    }
    peer.expect_alive();
    assert_eq!(peer.conn.stats().resets_received_early, 840);
}

#[test]
fn rfc9113_10_5_resets_after_the_response_started_are_not_rapid_resets() {
    // RFC 9113 §10.5: only streams reset before we answered count as rapid resets; a
    // cancelled download is normal.
    let mut config = Config::default();
    config.remote_reset_rate = RateLimit::new(2, 1);
    let mut peer = server_with(config);
    for i in 0..10 {
        let id = 2 * i + 1;
        let headers = peer.get(id, "/");
        peer.send(headers);
        peer.conn.send_response(StreamId(id), status(200), false).unwrap();
        peer.send(rst(id, ErrorCode::CANCEL));
    }
    peer.expect_quiet();
    assert_eq!(peer.conn.stats().resets_received, 10);
    assert_eq!(peer.conn.stats().resets_received_early, 0);
    peer.expect_alive();
}

// ----- CONTINUATION flood (CVE-2024-27316 and kin) -----

#[test]
fn rfc9113_10_5_1_continuation_flood_is_enhance_your_calm() {
    // RFC 9113 §10.5: a field block is buffered whole; past `max_continuation_frames`
    // CONTINUATIONs the connection ends.
    let max = Config::default().max_continuation_frames;
    let fields: Vec<(String, String)> = (0..20).map(|i| (format!("x-{i}"), "v".into())).collect();
    let mut all = vec![
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/"),
    ];
    all.extend(fields.iter().map(|(n, v)| (n.as_str(), v.as_str())));

    // Exactly the limit: accepted.
    let mut peer = server();
    let block = peer.block(&all);
    assert!(block.len() > max as usize + 1);
    let pieces: Vec<Bytes> = (0..=max as usize)
        .map(|i| {
            let end = if i == max as usize { block.len() } else { i + 1 };
            block.slice(i..end)
        })
        .collect();
    peer.send(headers_open(1, pieces[0].clone()));
    for (i, piece) in pieces[1..].iter().enumerate() {
        peer.send(continuation(1, piece.clone(), i + 1 == max as usize));
    }
    assert_eq!(count_requests(&peer.events()), 1);
    peer.expect_quiet();

    // One more: the connection ends, before the block is complete.
    let mut peer = server();
    let block = peer.block(&all);
    peer.send(headers_open(1, block.slice(..1)));
    for i in 1..=max as usize {
        peer.send(continuation(1, block.slice(i..i + 1), false));
    }
    peer.expect_quiet();
    peer.send(continuation(1, block.slice(max as usize + 1..max as usize + 2), false));
    assert_calm(&mut peer);

    // Empty CONTINUATIONs (the endless variant) hit the same limit.
    let mut peer = server();
    let block = peer.block(&all);
    peer.send(headers_open(1, block));
    for _ in 0..max {
        peer.send(continuation(1, Bytes::new(), false));
    }
    peer.expect_quiet();
    peer.send(continuation(1, Bytes::new(), false));
    assert_calm(&mut peer);
}

#[test]
fn rfc9113_10_5_1_over_long_field_block_is_enhance_your_calm() {
    // RFC 9113 §10.5.1: the compressed block is bounded (twice SETTINGS_MAX_HEADER_LIST_SIZE,
    // at least 64 KiB) while it is being buffered, not once it is complete.
    let limit = 2 * Config::default().max_header_list_size as usize;
    let chunk = Bytes::from(vec![0x82u8; 16_384]);
    let mut peer = server();
    peer.send(headers_open(1, chunk.clone()));
    let mut total = chunk.len();
    while total + chunk.len() <= limit {
        peer.send(continuation(1, chunk.clone(), false));
        total += chunk.len();
    }
    assert!(peer.frames().is_empty(), "{total} bytes buffered, at the limit");
    assert!(peer.last_result.is_ok());
    peer.send(continuation(1, chunk, false));
    assert_calm(&mut peer);

    // A smaller header list limit gives a smaller bound, but never below 64 KiB.
    let mut config = Config::default();
    config.max_header_list_size = 1024;
    let mut peer = server_with(config);
    let chunk = Bytes::from(vec![0x82u8; 16_384]);
    peer.send(headers_open(1, chunk.clone()));
    for _ in 0..3 {
        peer.send(continuation(1, chunk.clone(), false));
    }
    assert!(peer.last_result.is_ok(), "64 KiB buffered");
    peer.send(continuation(1, Bytes::from_static(b"\x82"), false));
    assert_calm(&mut peer);
}

// ----- HPACK bomb -----

/// A request block that inserts a 4 KiB entry and then refers to it `refs` times.
fn hpack_bomb(refs: usize) -> Bytes {
    let mut block = BytesMut::from(&b"\x82\x86\x84\x01\x0bexample.com\x40\x06x-bomb"[..]);
    h2proto::hpack::integer::encode(4000, 7, 0, &mut block);
    block.extend_from_slice(&[b'a'; 4000]);
    block.extend(std::iter::repeat_n(0xbe, refs));
    block.freeze()
}

#[test]
fn rfc9113_10_5_1_hpack_bomb_is_refused_without_spending_memory() {
    // RFC 9113 §10.5.1, RFC 7541 §7.3: a 4 KiB entry referenced 3,000 times would decode
    // to 12 MB; decoding stops admitting fields at SETTINGS_MAX_HEADER_LIST_SIZE, the
    // request is refused with 431, and the connection keeps a synchronized table.
    let mut peer = server();
    let bomb = hpack_bomb(3000);
    assert!(bomb.len() < 16_384, "one frame");
    let mut frame = BytesMut::new();
    Frame::Headers(Headers::new(StreamId(1), bomb, true)).encode(&mut frame);
    let frame = frame.freeze();
    let (result, allocated) = allocated_by(|| peer.conn.recv(frame.clone(), peer.now));
    assert_eq!(result, Ok(frame.len()));
    assert!(allocated < 64 << 10, "decoding the bomb allocated {allocated} bytes");
    let frames = peer.frames();
    let [Frame::Headers(answer)] = &frames[..] else { panic!("{frames:?}") };
    assert!(answer.end_stream);
    let fragment = answer.fragment.clone();
    assert_eq!(peer.decode(&fragment), vec![(":status".to_string(), "431".to_string())]);
    let events = peer.events();
    assert_eq!(count_requests(&events), 0, "no request event: {events:?}");

    // The entry is in the table: a request that refers to it once is fine.
    let block = Bytes::from_static(b"\x82\x86\x84\x01\x0bexample.com\xbe");
    peer.send(Headers::new(StreamId(3), block, true));
    let events = peer.events();
    let Some(Event::Request { request, .. }) = events.first() else { panic!("{events:?}") };
    assert_eq!(request.headers()["x-bomb"].len(), 4000);
    peer.expect_alive();
}

// ----- Control frame floods -----

#[test]
fn rfc9113_10_5_settings_flood_is_enhance_your_calm() {
    // RFC 9113 §10.5; CVE-2019-9515: SETTINGS past `settings_rate` end the connection.
    let mut peer = server();
    let rate = Config::default().settings_rate;
    // The handshake's SETTINGS took one token.
    for _ in 1..rate.burst {
        peer.send(Settings::new().with(SettingId::MAX_FRAME_SIZE, 16_384));
    }
    let acks = peer.frames().iter().filter(|f| matches!(f, Frame::Settings(s) if s.ack)).count();
    assert_eq!(acks, rate.burst as usize - 1);
    assert!(peer.last_result.is_ok());
    peer.send(Settings::new());
    assert_calm(&mut peer);
    assert_eq!(peer.conn.stats().settings_received, u64::from(rate.burst) + 1);

    // The bucket refills at `per_second`.
    let mut peer = server();
    for _ in 1..rate.burst {
        peer.send(Settings::new());
    }
    peer.advance(Duration::from_secs(1));
    for _ in 0..rate.per_second {
        peer.send(Settings::new());
    }
    peer.expect_quiet();
    peer.send(Settings::new());
    assert_calm(&mut peer);
}

#[test]
fn rfc9113_10_5_ping_flood_is_enhance_your_calm() {
    // RFC 9113 §10.5; CVE-2019-9512: PINGs past `ping_rate` end the connection.
    let mut peer = server();
    let burst = Config::default().ping_rate.burst;
    for i in 0..burst {
        peer.send(ping(u64::from(i)));
    }
    let acks = peer.frames().iter().filter(|f| matches!(f, Frame::Ping(p) if p.ack)).count();
    assert_eq!(acks, burst as usize);
    assert!(peer.last_result.is_ok());
    peer.send(ping(0));
    assert_calm(&mut peer);
    assert_eq!(peer.conn.stats().pings_received, u64::from(burst) + 1);
}

#[test]
fn rfc9113_10_5_priority_flood_is_enhance_your_calm() {
    // RFC 9113 §10.5; CVE-2019-9513: PRIORITY and PRIORITY_UPDATE frames together are
    // bounded by `priority_rate`.
    let mut peer = server();
    let burst = Config::default().priority_rate.burst;
    let headers = peer.post(1, "/");
    peer.send(headers);
    for i in 0..burst / 2 {
        peer.send(priority(3 + 2 * i));
        peer.send(PriorityUpdate {
            prioritized_stream_id: StreamId(1),
            field_value: Bytes::from_static(b"u=2"),
        });
        peer.events();
    }
    peer.expect_quiet();
    peer.send(priority(1));
    assert_calm(&mut peer);
}

#[test]
fn rfc9113_10_5_empty_data_flood_is_enhance_your_calm() {
    // RFC 9113 §10.5; CVE-2019-9518: DATA frames that carry nothing and end nothing are
    // bounded by `empty_frame_rate`.
    let mut peer = server();
    let burst = Config::default().empty_frame_rate.burst;
    let headers = peer.post(1, "/");
    peer.send(headers);
    for _ in 0..burst {
        peer.send(data(1, b"", false));
    }
    peer.expect_quiet();
    assert_eq!(peer.conn.stats().empty_frames_received, u64::from(burst));
    peer.send(data(1, b"", false));
    assert_calm(&mut peer);
    assert_eq!(peer.conn.stats().empty_frames_received, u64::from(burst) + 1);

    // An empty DATA with END_STREAM is a normal way to end a body: not counted.
    let mut peer = server();
    for i in 0..burst + 10 {
        let headers = peer.post(2 * i + 1, "/");
        peer.send(headers).send(data(2 * i + 1, b"", true));
        peer.conn.send_response(StreamId(2 * i + 1), status(204), true).unwrap();
        peer.events();
    }
    peer.expect_quiet();
    assert_eq!(peer.conn.stats().empty_frames_received, 0);
}

#[test]
fn rfc9113_10_5_window_updates_on_closed_streams_flood_is_enhance_your_calm() {
    // RFC 9113 §5.1, §10.5: WINDOW_UPDATE on a closed stream is allowed, ignored, and
    // counted against `empty_frame_rate`.
    let mut peer = server();
    let burst = Config::default().empty_frame_rate.burst;
    let headers = peer.get(1, "/");
    peer.send(headers);
    peer.conn.send_response(StreamId(1), status(204), true).unwrap();
    peer.frames();
    peer.events();
    for _ in 0..burst {
        peer.send(window_update(1, 1));
    }
    peer.expect_quiet();
    peer.send(window_update(1, 1));
    assert_calm(&mut peer);
}

#[test]
fn rfc9113_10_5_locally_generated_reset_flood_is_enhance_your_calm() {
    // CVE-2019-9514: every malformed request costs us an RST_STREAM; past
    // `local_reset_rate` the connection ends.
    let mut peer = server();
    let burst = Config::default().local_reset_rate.burst;
    for i in 0..burst {
        let id = 2 * i + 1;
        let headers = peer.request(id, &[(":method", "GET"), ("Bad-Name", "x")], true);
        peer.send(headers);
        assert_eq!(peer.frames(), vec![Frame::RstStream(rst(id, ErrorCode::PROTOCOL_ERROR))]);
    }
    assert_eq!(peer.conn.stats().resets_sent_protocol, u64::from(burst));
    let headers = peer.request(2 * burst + 1, &[(":method", "GET")], true);
    peer.send(headers);
    let frames = peer.frames();
    assert!(
        matches!(&frames[..], [Frame::GoAway(g)] if g.error_code == ErrorCode::ENHANCE_YOUR_CALM),
        "no RST_STREAM past the limit, only GOAWAY: {frames:?}"
    );
    assert_eq!(peer.conn.stats().resets_sent_protocol, u64::from(burst));
}

#[test]
fn rfc9113_5_1_2_refused_streams_count_as_local_resets() {
    // RFC 9113 §5.1.2: streams over SETTINGS_MAX_CONCURRENT_STREAMS are refused with
    // REFUSED_STREAM; a peer that keeps opening them hits `local_reset_rate`.
    let mut config = Config::default();
    config.max_concurrent_streams = 2;
    config.local_reset_rate = RateLimit::new(10, 1);
    let mut peer = server_with(config);
    for id in [1, 3] {
        let headers = peer.post(id, "/");
        peer.send(headers);
    }
    assert_eq!(count_requests(&peer.events()), 2);
    for i in 0..10 {
        let id = 5 + 2 * i;
        let headers = peer.post(id, "/");
        peer.send(headers);
        assert_eq!(peer.frames(), vec![Frame::RstStream(rst(id, ErrorCode::REFUSED_STREAM))]);
    }
    assert_eq!(count_requests(&peer.events()), 0);
    assert_eq!(peer.conn.stats().resets_sent_refused, 10);
    assert_eq!(peer.conn.active_streams(), 2);
    let headers = peer.post(25, "/");
    peer.send(headers);
    assert_calm(&mut peer);
}

// ----- A peer that does not read -----

#[test]
fn rfc9113_10_5_peer_not_reading_control_frames_pauses_input() {
    // CVE-2019-9512/-9515: each PING we must answer queues an ACK; once
    // `max_pending_control_frames` wait unread, `recv` consumes no more input, and it
    // resumes once the output has been taken.
    let mut config = Config::default();
    config.max_pending_control_frames = 16;
    config.ping_rate = RateLimit::new(1_000_000, 0);
    let mut peer = server_with(config);
    let before = peer.conn.stats().bytes_received;
    let input = wire((0..3000).map(|i| Frame::Ping(ping(i))));
    let frame_len = 17;
    // Without taking the output, only 16 PINGs are consumed however often we offer more.
    let consumed = peer.conn.recv(input.clone(), peer.now).unwrap();
    assert_eq!(consumed, 16 * frame_len);
    assert_eq!(peer.conn.recv(input.slice(consumed..), peer.now).unwrap(), 0);
    assert_eq!(peer.conn.stats().pings_received, 16);
    let mut rest = input.slice(consumed..);
    let mut acks = 0;
    let mut rounds = 0;
    loop {
        let frames = peer.frames();
        assert!(frames.len() <= 16, "at most 16 ACKs queued: {}", frames.len());
        for frame in &frames {
            let Frame::Ping(p) = frame else { panic!("{frame:?}") };
            assert!(p.ack);
            assert_eq!(u64::from_be_bytes(p.payload), acks, "ACKs in order");
            acks += 1;
        }
        if rest.is_empty() {
            break;
        }
        let n = peer.conn.recv(rest.clone(), peer.now).unwrap();
        assert!(n > 0, "input resumes once the output was taken");
        rest = rest.slice(n..);
        rounds += 1;
    }
    assert_eq!(acks, 3000);
    assert_eq!(rounds, 3000 / 16);
    assert_eq!(peer.conn.stats().pings_received, 3000);
    // Bytes offered again after a pause count once.
    assert_eq!(peer.conn.stats().bytes_received - before, input.len() as u64);
    peer.expect_alive();
}

#[test]
fn rfc9113_10_5_application_not_taking_events_pauses_input() {
    // RFC 9113 §10.5 (bounded state): events the application has not taken are bounded
    // too; input waits.
    let mut config = Config::default();
    config.max_pending_control_frames = 16;
    let mut peer = server_with(config);
    let unknown = |i: u8| {
        Frame::Unknown(Unknown {
            kind: FrameType(0xfa),
            flags: 0,
            stream_id: StreamId(0),
            payload: Bytes::from(vec![i; 100]),
        })
    };
    let input = wire((0..100).map(unknown));
    let consumed = peer.conn.recv(input.clone(), peer.now).unwrap();
    assert_eq!(consumed, 16 * 109);
    assert_eq!(peer.conn.recv(input.slice(consumed..), peer.now).unwrap(), 0);
    let events = peer.events();
    assert_eq!(events.len(), 16);
    let n = peer.conn.recv(input.slice(consumed..), peer.now).unwrap();
    assert_eq!(n, 16 * 109, "resumes once events are taken");
}

// ----- Closed-stream memory -----

#[test]
fn rfc9113_5_1_closed_stream_memory_is_bounded() {
    // RFC 9113 §5.1: after our RST_STREAM, late frames are ignored; only
    // `max_closed_streams` closings are remembered, older streams get STREAM_CLOSED.
    let mut config = Config::default();
    config.max_closed_streams = 2;
    let mut peer = server_with(config);
    for id in [1, 3, 5] {
        let headers = peer.post(id, "/");
        peer.send(headers);
        peer.conn.reset(StreamId(id), ErrorCode::CANCEL).unwrap();
    }
    peer.frames();
    peer.events();
    peer.send(data(5, b"late", false)).send(data(3, b"late", false));
    peer.expect_quiet();
    peer.send(data(1, b"late", false));
    assert_eq!(peer.frames(), vec![Frame::RstStream(rst(1, ErrorCode::STREAM_CLOSED))]);
}

// ----- Frame size -----

#[test]
fn rfc9113_4_2_frame_over_max_frame_size_is_frame_size_error() {
    // RFC 9113 §4.2: a frame larger than our SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR
    // (a connection error for HEADERS, and here for DATA too), before it is buffered.
    let mut peer = server();
    let headers = peer.post(1, "/");
    peer.send(headers);
    let mut frame = RawFrame::new(FrameType::DATA, 1).payload(vec![0; 16_385]).to_bytes();
    // The header alone is enough to refuse it.
    let head = frame.split_to(9);
    peer.send_bytes(&head);
    peer.expect_goaway(ErrorCode::FRAME_SIZE_ERROR);

    let mut config = Config::default();
    config.max_frame_size = 32_768;
    let mut peer = server_with(config);
    let headers = peer.post(1, "/");
    peer.send(headers);
    peer.send(h2proto::frame::Data::new(StreamId(1), vec![7u8; 32_768], true));
    peer.expect_quiet();
    let events = peer.events();
    assert!(events.iter().any(|e| matches!(e, Event::Data { end_stream: true, .. })), "{events:?}");
}

// ----- Send side: buffers and output are bounded -----

#[test]
fn rfc9113_10_5_send_buffers_are_bounded_when_the_peer_grants_no_window() {
    // RFC 9113 §10.5: a peer that never opens its windows cannot make us buffer more than
    // `max_send_buffer_per_stream` per stream and `max_send_buffer` in all.
    let config = Config::default();
    let (per_stream, total) =
        (config.max_send_buffer_per_stream as usize, config.max_send_buffer as usize);
    let mut peer = Peer::server();
    peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 0));
    let streams = total / per_stream + 4;
    let mut accepted = 0;
    for i in 0..streams as u32 {
        let id = StreamId(2 * i + 1);
        let headers = peer.get(id.0, "/");
        peer.send(headers);
        peer.conn.send_response(id, status(200), false).unwrap();
        let n = peer.conn.send_data(id, Bytes::from(vec![0; 1 << 20]), true).unwrap();
        assert!(n <= per_stream, "stream {id}: {n}");
        accepted += n;
    }
    assert_eq!(accepted, total);
    let frames = peer.frames();
    assert!(!frames.iter().any(|f| matches!(f, Frame::Data(_))), "no window, no DATA");
    // Credit lets data flow and the application hears there is room again.
    peer.send(window_update(0, 1 << 30)).send(window_update(1, 1 << 20));
    let frames = peer.frames();
    assert!(frames.iter().any(|f| matches!(f, Frame::Data(d) if d.stream_id == StreamId(1))));
    assert!(
        peer.events().iter().any(|e| matches!(e, Event::SendCapacity { stream_id: StreamId(1) })),
        "room again on stream 1"
    );
}

#[test]
fn rfc9113_10_5_transmit_prepares_at_most_max_transmit_size() {
    // RFC 9113 §10.5: `max_transmit_size` bounds the output framed at once, whatever the
    // peer's windows allow.
    let max = Config::default().max_transmit_size as usize;
    let mut peer = Peer::server();
    peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 1 << 30));
    peer.send(window_update(0, 1 << 30));
    for i in 0..8 {
        let id = StreamId(2 * i + 1);
        let headers = peer.get(id.0, "/");
        peer.send(headers);
        peer.conn.send_response(id, status(200), false).unwrap();
        peer.conn.send_data(id, Bytes::from(vec![0; 200 << 10]), true).unwrap();
    }
    peer.frames();
    let len = peer.conn.transmit().len();
    assert!(len >= max && len < max + 16_384 + 9, "{len}");
}

// ----- Timeouts -----

#[test]
fn rfc9113_10_5_1_header_block_timeout_is_enhance_your_calm() {
    // RFC 9113 §10.5: a field block left open ties up the connection (nothing may be
    // interleaved); past `header_block_timeout` from its HEADERS the connection ends,
    // however slowly CONTINUATIONs keep dripping in.
    let timeout = Config::default().header_block_timeout.unwrap();
    let mut peer = server();
    let block = peer.block(&[(":method", "GET"), (":scheme", "https"), (":path", "/")]);
    peer.send(headers_open(1, block.slice(..1)));
    assert_eq!(peer.conn.poll_timeout(), Some(peer.now + timeout));
    peer.advance(timeout / 2);
    peer.send(continuation(1, block.slice(1..2), false));
    peer.advance(timeout / 2 - Duration::from_millis(1));
    assert!(peer.frames().is_empty(), "not yet");
    peer.advance(Duration::from_millis(1));
    peer.expect_goaway(ErrorCode::ENHANCE_YOUR_CALM);
    assert!(peer.conn.is_closed());

    // A block finished in time disarms the timer.
    let mut peer = server();
    let block = peer.block(&[(":method", "GET"), (":scheme", "https"), (":path", "/")]);
    peer.send(headers_open(1, block.slice(..1)));
    peer.advance(timeout / 2);
    peer.send(continuation(1, block.slice(1..), true));
    assert_eq!(count_requests(&peer.events()), 1);
    peer.advance(timeout * 2);
    peer.expect_alive();
}

#[test]
fn header_block_deadline_counts_from_the_time_its_bytes_arrived() {
    // The clock moves with the bytes: after a long quiet period with no `handle_timeout`,
    // a block begun at `recv(.., now)` is timed from `now`, not from the last timer call.
    let timeout = Config::default().header_block_timeout.unwrap();
    let mut peer = server();
    let block = peer.block(&[(":method", "GET"), (":scheme", "https"), (":path", "/")]);
    peer.now += timeout + Duration::from_secs(2); // quiet: no handle_timeout in between
    peer.send(headers_open(1, block.slice(..1)));
    assert_eq!(peer.conn.poll_timeout(), Some(peer.now + timeout));
    peer.now += Duration::from_millis(50);
    peer.conn.handle_timeout(peer.now);
    peer.send(continuation(1, block.slice(1..), true));
    assert_eq!(count_requests(&peer.events()), 1);
    peer.expect_alive();

    // An earlier time than one already seen never moves the clock back.
    let then = peer.now;
    peer.conn.recv(bytes::Bytes::new(), then - Duration::from_secs(60)).unwrap();
    let block = peer.block(&[(":method", "GET"), (":scheme", "https"), (":path", "/")]);
    peer.send(headers_open(3, block.slice(..1)));
    assert_eq!(peer.conn.poll_timeout(), Some(then + timeout));
}

#[test]
fn rfc9113_9_1_idle_timeout_closes_with_no_error() {
    // RFC 9113 §6.8, §9.1: a connection with no stream and no traffic for
    // `idle_timeout` is closed gracefully with GOAWAY NO_ERROR, exactly that long after
    // the last frame received (here the handshake).
    let timeout = Config::default().idle_timeout.unwrap();
    let mut config = Config::default();
    config.first_request_timeout = None; // tested apart, below
    let mut peer = server_with(config);
    peer.advance(timeout - Duration::from_millis(1));
    assert!(peer.frames().is_empty(), "the handshake was activity in this period");
    peer.advance(Duration::from_millis(1));
    peer.expect_goaway(ErrorCode::NO_ERROR);
    assert!(peer.conn.is_closed());
    // A clean close: nothing went wrong, so there is no error to report.
    assert_eq!(peer.conn.error(), None);
    assert!(peer.events().iter().any(|e| matches!(e, Event::Closed { error: None })));

    // A frame half-way moves the deadline to a whole period after it.
    let mut config = Config::default();
    config.first_request_timeout = None;
    let mut peer = server_with(config);
    peer.advance(timeout / 2);
    peer.expect_alive();
    peer.advance(timeout - Duration::from_millis(1));
    peer.expect_quiet();
    assert!(!peer.conn.is_closed());
    peer.advance(Duration::from_millis(1));
    peer.expect_goaway(ErrorCode::NO_ERROR);

    // Traffic keeps it open.
    let mut config = Config::default();
    config.first_request_timeout = None;
    let mut peer = server_with(config);
    for _ in 0..5 {
        peer.advance(timeout - Duration::from_millis(1));
        peer.expect_alive();
    }
    // So does an open stream, however quiet.
    let headers = peer.post(1, "/");
    peer.send(headers);
    for _ in 0..4 {
        peer.advance(timeout);
    }
    peer.expect_quiet();
    assert!(!peer.conn.is_closed());
}

#[test]
fn rfc9113_9_1_idle_timeout_counts_from_the_last_stream_closing() {
    // RFC 9113 §9.1: the idle period begins when the connection has no stream left, even
    // when the peer sent nothing since. A slow response (its stream closes as it is sent)
    // is followed by exactly one idle period, not by what is left of a check that found
    // the stream still open.
    let idle = Config::default().idle_timeout.unwrap();
    let mut config = Config::default();
    config.first_request_timeout = None;
    let mut peer = server_with(config);
    let head = peer.get(1, "/");
    peer.send(head);
    peer.advance(idle);
    peer.expect_quiet();
    peer.advance(idle / 2);
    peer.conn.send_response(StreamId(1), status(200), true).unwrap();
    assert_eq!(peer.conn.active_streams(), 0);
    peer.frames();
    peer.advance(idle - Duration::from_millis(1));
    peer.expect_quiet();
    assert!(!peer.conn.is_closed(), "closed before a whole idle period without streams");
    peer.advance(Duration::from_millis(1));
    let goaway = peer.expect_goaway(ErrorCode::NO_ERROR);
    assert_eq!(&goaway.debug_data[..], b"idle timeout");
}

#[test]
fn rfc9113_3_4_preface_timeout_ends_a_silent_connection() {
    // RFC 9113 §3.4: the preface and SETTINGS open the connection; a client that never
    // sends them (slowloris) is dropped after `preface_timeout`.
    let timeout = Config::default().preface_timeout.unwrap();
    let mut peer = Peer::server();
    peer.frames();
    peer.advance(timeout - Duration::from_millis(1));
    assert!(peer.frames().is_empty());
    peer.advance(Duration::from_millis(1));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_6_5_3_settings_timeout_is_settings_timeout_error() {
    // RFC 9113 §6.5.3: SETTINGS not acknowledged in time may end the connection with
    // SETTINGS_TIMEOUT.
    let timeout = Config::default().settings_timeout.unwrap();
    let mut config = Config::default();
    config.first_request_timeout = None; // shorter: tested apart
    let mut peer = Peer::server_with(config);
    peer.send_bytes(h2proto::PREFACE).send(Settings::new());
    peer.frames();
    peer.advance(timeout - Duration::from_millis(1));
    peer.expect_alive();
    peer.advance(Duration::from_millis(1));
    peer.expect_goaway(ErrorCode::SETTINGS_TIMEOUT);
}

#[test]
fn stats_count_what_happened() {
    // RFC 9113 §10.5 asks implementations to track use of features: `Stats` follows
    // frames, bytes, streams and resets both ways.
    let mut peer = server();
    let before = peer.conn.stats().clone();
    let headers = peer.post(1, "/");
    peer.send(headers).send(data(1, b"hello", true));
    peer.conn.send_response(StreamId(1), status(200), false).unwrap();
    peer.conn.send_data(StreamId(1), Bytes::from_static(b"world!"), true).unwrap();
    let headers = peer.get(3, "/");
    peer.send(headers);
    peer.conn.reset(StreamId(3), ErrorCode::CANCEL).unwrap();
    peer.send(ping(1));
    let frames = peer.frames();
    let after = peer.conn.stats().clone();
    assert_eq!(after.frames_received - before.frames_received, 4);
    assert_eq!(after.frames_sent - before.frames_sent, frames.len() as u64);
    assert_eq!(after.data_received - before.data_received, 5);
    assert_eq!(after.data_sent - before.data_sent, 6);
    assert_eq!(after.streams_opened_remote - before.streams_opened_remote, 2);
    assert_eq!(after.resets_sent_local - before.resets_sent_local, 1);
    assert_eq!(after.pings_received - before.pings_received, 1);
    assert_eq!(after.resets_received, 0);
}

#[test]
fn rfc9113_10_5_unsolicited_ping_acks_are_a_flood_past_the_budget() {
    // RFC 9113 §6.7 has ACKs for PINGs we never sent ignored; §10.5 lets a flood of
    // frames that do nothing be answered with ENHANCE_YOUR_CALM.
    let mut config = Config::default();
    config.empty_frame_rate = RateLimit::new(10, 0);
    let mut peer = server_with(config);
    for i in 0..10 {
        peer.send(Ping { ack: true, payload: [i; 8] });
    }
    peer.expect_quiet();
    peer.send(Ping { ack: true, payload: [99; 8] });
    peer.expect_goaway(ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn rfc9113_8_1_1_more_distinct_names_than_a_header_map_holds_is_malformed_not_a_panic() {
    // `http::HeaderMap` holds at most 24,576 distinct names and panics past them on
    // `append`. With a list limit raised high enough to let 30,000 fields in, the request
    // must be malformed (§8.1.1: a stream error PROTOCOL_ERROR), whatever the Config.
    let mut config = Config::default();
    config.max_header_list_size = 4 << 20;
    config.max_continuation_frames = 64;
    let mut peer = server_with(config);
    let mut fields: Vec<(String, String)> = vec![
        (":method".into(), "GET".into()),
        (":scheme".into(), "https".into()),
        (":path".into(), "/".into()),
    ];
    fields.extend((0..30_000).map(|i| (format!("x{i}"), String::new())));
    peer.encoder.set_max_table_size(0); // literals only: nothing grows the table
    let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let block = peer.block(&fields);
    let pieces: Vec<Bytes> = block.chunks(16_000).map(Bytes::copy_from_slice).collect();
    assert!(pieces.len() > 2 && pieces.len() < 64, "{} frames", pieces.len());
    peer.send(headers_open(1, pieces[0].clone()));
    for (i, piece) in pieces.iter().enumerate().skip(1) {
        peer.send(continuation(1, piece.clone(), i == pieces.len() - 1));
    }
    peer.expect_reset(1, ErrorCode::PROTOCOL_ERROR);
    assert_eq!(count_requests(&peer.events()), 0);
}

#[test]
fn rfc9113_8_2_2_431_answers_to_a_peer_that_does_not_read_are_bounded_like_control_frames() {
    // A request head over our list limit is answered with 431 (RFC 6585, §10.5.1). Each
    // oversized request can cost the peer a few bytes (an indexed field from its dynamic
    // table), so the answers are output the peer provokes: once
    // `max_pending_control_frames` wait unread, no more input is consumed.
    let mut config = Config::default();
    config.max_header_list_size = 200;
    config.max_pending_control_frames = 16;
    config.local_reset_rate = RateLimit::new(1_000_000, 0);
    let mut peer = server_with(config);
    let big = "v".repeat(300);
    let fields =
        [(":method", "GET"), (":scheme", "https"), (":path", "/"), ("x-big", big.as_str())];
    let mut frames = Vec::new();
    for i in 0..200u32 {
        let block = peer.block(&fields); // from the second on: a few indexed bytes
        frames.push(Frame::Headers(Headers::new(StreamId(2 * i + 1), block, true)));
    }
    let input = wire(frames);
    let consumed = peer.conn.recv(input.clone(), peer.now).unwrap();
    assert!(consumed < input.len(), "the peer does not read: input pauses");
    let out = peer.frames();
    let answers = out.iter().filter(|f| matches!(f, Frame::Headers(_))).count();
    assert!((1..=16).contains(&answers), "{answers} answers queued unread");
    assert!(!out.iter().any(|f| matches!(f, Frame::GoAway(_))), "{out:?}");
}

#[test]
fn a_connection_that_sends_no_request_is_closed_sooner_than_an_idle_one() {
    // A connection that never sends a request holds a slot for nothing: it has its own
    // shorter timeout, and ends like an idle one, with GOAWAY NO_ERROR and no error.
    let timeout = Config::default().first_request_timeout.unwrap();
    assert!(timeout < Config::default().idle_timeout.unwrap());
    let mut peer = server();
    peer.advance(timeout - Duration::from_millis(1));
    peer.expect_alive();
    peer.advance(Duration::from_millis(1));
    let goaway = peer.expect_goaway(ErrorCode::NO_ERROR);
    assert_eq!(&goaway.debug_data[..], b"no request in time");
    assert!(peer.conn.is_closed());
    assert_eq!(peer.conn.error(), None);

    // One request in time, and the idle timeout (a whole period after the stream ended)
    // is what applies from then on.
    let idle = Config::default().idle_timeout.unwrap();
    let mut peer = server();
    peer.advance(timeout / 2);
    let head = peer.get(1, "/");
    peer.send(head);
    peer.conn.send_response(StreamId(1), status(200), true).unwrap();
    peer.frames();
    peer.advance(timeout);
    peer.expect_alive();
    // The PING was the last frame received.
    peer.advance(idle - Duration::from_millis(1));
    peer.expect_quiet();
    assert!(!peer.conn.is_closed());
    peer.advance(Duration::from_millis(1));
    let goaway = peer.expect_goaway(ErrorCode::NO_ERROR);
    assert_eq!(&goaway.debug_data[..], b"idle timeout");
}

// ----- Protocol glitches -----

/// A server with a glitch budget of `burst` and no refill; the other budgets out of the way.
fn glitch_budget(burst: u32) -> Peer {
    let mut config = Config::default();
    config.glitch_rate = RateLimit::new(burst, 0);
    config.local_reset_rate = RateLimit::new(1_000_000, 0);
    config.max_header_list_size = 200;
    server_with(config)
}

/// Sends `n` times what `glitch` sends, then once more: the budget of `n` is spent and the
/// connection ends with ENHANCE_YOUR_CALM, not before.
#[track_caller]
fn exhaust(n: u32, what: &str, mut glitch: impl FnMut(&mut Peer, u32)) {
    let mut peer = glitch_budget(n);
    for i in 0..n {
        glitch(&mut peer, i);
        assert!(peer.last_result.is_ok(), "{what}: ended after {i} glitches");
        peer.frames();
        peer.events();
    }
    assert_eq!(peer.conn.stats().glitches, u64::from(n), "{what}");
    glitch(&mut peer, n);
    let goaway = peer.expect_goaway(ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(&goaway.debug_data[..], b"too many protocol glitches", "{what}");
}

#[test]
fn glitches_of_every_kind_draw_on_one_budget() {
    let get = |peer: &mut Peer, id: u32| {
        let head = peer.get(id, "/");
        peer.send(head);
    };
    // RST_STREAM on a stream already closed (answered and forgotten).
    exhaust(5, "reset of a closed stream", |peer, i| {
        let id = 2 * i + 1;
        get(peer, id);
        peer.conn.send_response(StreamId(id), status(200), true).unwrap();
        peer.send(RstStream::new(StreamId(id), ErrorCode::CANCEL));
    });
    // Unknown frame types (§5.5: ignored, but each one costs an event).
    exhaust(5, "unknown frame", |peer, _| {
        peer.send_raw(RawFrame::new(FrameType(0xfa), 0).payload(b"grease"));
    });
    // GOAWAY after GOAWAY (the first is free).
    exhaust(5, "repeated GOAWAY", |peer, i| {
        if i == 0 {
            // An open stream keeps the connection alive through the GOAWAYs.
            let head = peer.post(1, "/");
            peer.send(head);
            peer.send(goaway(0, ErrorCode::NO_ERROR));
        }
        peer.send(goaway(0, ErrorCode::NO_ERROR));
    });
    // A field block on a stream we reset.
    exhaust(5, "HEADERS on a stream we reset", |peer, i| {
        if i == 0 {
            let head = peer.post(1, "/");
            peer.send(head);
            peer.conn.reset(StreamId(1), ErrorCode::CANCEL).unwrap();
        }
        let block = peer.block(&[("x-trailer", "1")]);
        peer.send(Headers::new(StreamId(1), block, true));
    });
    // Malformed requests (each also a stream error; both count once together).
    exhaust(5, "malformed request", |peer, i| {
        let head = peer.request(2 * i + 1, &[(":method", "GET"), (":path", "/")], true);
        peer.send(head);
    });
    // Request heads over the list limit (431).
    exhaust(5, "oversized head", |peer, i| {
        let big = "v".repeat(300);
        let fields =
            [(":method", "GET"), (":scheme", "https"), (":path", "/"), ("x", big.as_str())];
        let head = peer.request(2 * i + 1, &fields, true);
        peer.send(head);
    });
}

#[test]
fn a_block_of_hundreds_of_empty_fields_is_a_glitch() {
    let mut config = Config::default();
    config.glitch_rate = RateLimit::new(3, 0);
    let mut peer = server_with(config);
    let mut fields = vec![(":method", "GET"), (":scheme", "https"), (":path", "/")];
    fields.extend(std::iter::repeat_n(("accept-charset", ""), 600)); // one byte each
    for i in 0..3 {
        let head = peer.request(2 * i + 1, &fields, true);
        peer.send(head);
        peer.expect_quiet();
    }
    assert_eq!(peer.conn.stats().glitches, 3);
    let head = peer.request(7, &fields, true);
    peer.send(head);
    peer.expect_goaway(ErrorCode::ENHANCE_YOUR_CALM);
    // A few dozen fields, as browsers send, are nothing.
    let mut peer = server();
    fields.truncate(3 + 60);
    for i in 0..50 {
        let head = peer.request(2 * i + 1, &fields, true);
        peer.send(head);
    }
    peer.expect_quiet();
    assert_eq!(peer.conn.stats().glitches, 0);
}

#[test]
fn an_unknown_frame_event_pins_no_input() {
    let mut peer = server();
    let mut wire = BytesMut::new();
    RawFrame::new(FrameType(0xfa), 0).payload(b"grease").encode(&mut wire);
    let wire = wire.freeze();
    let range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
    peer.conn.recv(wire.clone(), peer.now).unwrap();
    let events = peer.events();
    let Some(Event::UnknownFrame(f)) = events.first() else { panic!("{events:?}") };
    assert_eq!(&f.payload[..], b"grease");
    assert!(!range.contains(&(f.payload.as_ptr() as usize)), "a slice of the input");
}

#[test]
fn one_settings_frame_tells_of_new_streams_once_however_many_entries_it_repeats() {
    // Each raised MAX_CONCURRENT_STREAMS entry used to push its own StreamsAvailable, past
    // the event limit that pauses input.
    let mut peer = Peer::client();
    peer.handshake_with(Settings::new().with(SettingId::MAX_CONCURRENT_STREAMS, 1));
    let request = http::Request::get("http://example.com/").body(()).unwrap();
    peer.conn.send_request(request, true).unwrap();
    let request = http::Request::get("http://example.com/").body(()).unwrap();
    assert!(peer.conn.send_request(request, true).is_err(), "limit reached");
    peer.frames();
    let mut settings = Settings::new();
    for n in 2..2000 {
        settings = settings.with(SettingId::MAX_CONCURRENT_STREAMS, n);
    }
    peer.send(settings);
    let events = peer.events();
    let told = events.iter().filter(|e| matches!(e, Event::StreamsAvailable)).count();
    assert_eq!(told, 1, "{} events", events.len());
}

#[test]
fn a_browser_like_session_stays_far_inside_the_glitch_budget() {
    // What browsers do that counts as a glitch: a GREASE frame of an unknown type once per
    // connection, and RST_STREAM CANCEL on streams whose response already ended (navigating
    // away mid-page). Twenty page loads of 100 requests in a minute, a fifth of each page
    // cancelled after its response ended: 401 glitches against a budget of 1,000 plus 33 a
    // second.
    let mut peer = server();
    peer.send_raw(RawFrame::new(FrameType(0x0b), 0).payload(b"GREASE!"));
    let mut id = 1;
    for _ in 0..20 {
        let first = id;
        for _ in 0..100 {
            let head = peer.get(id, "/asset");
            peer.send(head);
            peer.conn.send_response(StreamId(id), status(200), false).unwrap();
            peer.conn.send_data(StreamId(id), Bytes::from_static(b"body"), true).unwrap();
            id += 2;
        }
        peer.frames();
        peer.events();
        for cancelled in (first..id).step_by(10) {
            peer.send(RstStream::new(StreamId(cancelled), ErrorCode::CANCEL));
        }
        peer.advance(Duration::from_secs(3));
    }
    peer.expect_quiet();
    let glitches = peer.conn.stats().glitches;
    assert_eq!(glitches, 1 + 20 * 20);
}
