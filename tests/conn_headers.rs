//! Field blocks and HTTP message semantics, frame by frame, for both roles: HPACK context
//! (RFC 9113 §4.3), HEADERS + CONTINUATION (§6.2, §6.10), messages (§8.1), fields (§8.2),
//! request pseudo-headers (§8.3), CONNECT (§8.5) and extended CONNECT (RFC 8441).
//!
//! The test plays the peer with explicit frames and asserts the exact frames and events
//! that come back. A malformed message must cost one stream, never the connection, so
//! every such test ends by proving the connection still answers.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{
    Continuation, Data, Frame, FrameType, Headers, PrioritySpec, RawFrame, SettingId, Settings,
    StreamId,
};
use h2proto::hpack::{Decoder, FieldRef};
use h2proto::{Config, ErrorCode, Event, Initiator, Protocol, UserError};
use support::*;

const GET: &[(&str, &str)] =
    &[(":method", "GET"), (":scheme", "https"), (":authority", "example.com"), (":path", "/")];
const POST: &[(&str, &str)] =
    &[(":method", "POST"), (":scheme", "https"), (":authority", "example.com"), (":path", "/")];

fn server() -> Peer {
    let mut peer = Peer::server();
    peer.handshake();
    peer
}

fn client() -> Peer {
    let mut peer = Peer::client();
    peer.handshake();
    peer
}

/// `base` followed by `extra`.
fn with<'a>(base: &[(&'a str, &'a str)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(extra).copied().collect()
}

/// Client under test: sends a request and drops what it wrote.
fn open(peer: &mut Peer, request: http::Request<()>, end_stream: bool) -> StreamId {
    let id = peer.conn.send_request(request, end_stream).unwrap();
    peer.frames();
    id
}

fn open_get(peer: &mut Peer) -> StreamId {
    open(peer, get("https://example.com/"), true)
}

/// A HEADERS frame whose block continues in CONTINUATION frames.
fn headers_open(id: u32, fragment: impl Into<Bytes>, end_stream: bool) -> Headers {
    let mut headers = Headers::new(StreamId(id), fragment, end_stream);
    headers.end_headers = false;
    headers
}

fn continuation(id: u32, fragment: impl Into<Bytes>, end_headers: bool) -> Continuation {
    Continuation { stream_id: StreamId(id), fragment: fragment.into(), end_headers }
}

fn reset_frame(id: u32, code: ErrorCode) -> Frame {
    Frame::RstStream(rst(id, code))
}

/// The request events, in order.
fn requests(events: Vec<Event>) -> Vec<(StreamId, http::Request<()>, bool)> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Request { stream_id, request, end_stream } => {
                Some((stream_id, request, end_stream))
            }
            _ => None,
        })
        .collect()
}

/// The single request event among `events`.
#[track_caller]
fn one_request(events: Vec<Event>) -> (StreamId, http::Request<()>, bool) {
    let mut all = requests(events);
    assert_eq!(all.len(), 1, "expected one request");
    all.remove(0)
}

/// The response and informational events, as (stream, status, informational, end_stream).
fn responses(events: &[Event]) -> Vec<(StreamId, u16, bool, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Informational { stream_id, response } => {
                Some((*stream_id, response.status().as_u16(), true, false))
            }
            Event::Response { stream_id, response, end_stream } => {
                Some((*stream_id, response.status().as_u16(), false, *end_stream))
            }
            _ => None,
        })
        .collect()
}

fn has_message_event(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(
            e,
            Event::Request { .. }
                | Event::Response { .. }
                | Event::Informational { .. }
                | Event::Trailers { .. }
        )
    })
}

/// The fields of the only HEADERS frame in `frames`, decoded with the peer's decoder.
#[track_caller]
fn sent_fields(peer: &mut Peer, frames: &[Frame]) -> Vec<(String, String)> {
    let blocks: Vec<Bytes> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Headers(h) => Some(h.fragment.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(blocks.len(), 1, "expected one HEADERS frame: {frames:?}");
    peer.decode(&blocks[0])
}

fn owned(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

/// Whether a block can only be decoded with the dynamic table built by earlier blocks.
fn needs_dynamic_table(block: &Bytes) -> bool {
    Decoder::new().decode(block, |_| {}).is_err()
}

/// Server under test: the request is malformed, so it costs stream `id` alone.
#[track_caller]
fn assert_request_malformed(peer: &mut Peer, id: u32, fields: &[(&str, &str)]) {
    let headers = peer.request(id, fields, true);
    peer.send(headers);
    assert_eq!(peer.frames(), vec![reset_frame(id, ErrorCode::PROTOCOL_ERROR)], "{fields:?}");
    assert!(peer.last_result.is_ok(), "{fields:?}: {:?}", peer.last_result);
    let events = peer.events();
    assert!(!has_message_event(&events), "{fields:?} was accepted: {events:?}");
}

/// Client under test: the response is malformed, so it costs its stream alone.
#[track_caller]
fn assert_response_malformed(peer: &mut Peer, fields: &[(&str, &str)]) {
    let id = open_get(peer);
    let block = peer.block(fields);
    peer.send(Headers::new(id, block, true));
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)], "{fields:?}");
    assert!(peer.last_result.is_ok(), "{fields:?}: {:?}", peer.last_result);
    let events = peer.events();
    assert!(!has_message_event(&events), "{fields:?} was accepted: {events:?}");
}

/// A valid request after the bad ones: the connection and its HPACK context still work.
#[track_caller]
fn assert_server_still_serves(peer: &mut Peer, id: u32) {
    peer.expect_alive();
    let headers = peer.request(id, GET, true);
    peer.send(headers);
    let (stream_id, request, _) = one_request(peer.events());
    assert_eq!((stream_id, request.uri().path()), (StreamId(id), "/"));
}

#[track_caller]
fn assert_client_still_works(peer: &mut Peer) {
    peer.expect_alive();
    let id = open_get(peer);
    let response = peer.response(id.0, "200", true);
    peer.send(response);
    assert_eq!(responses(&peer.events()), vec![(id, 200, false, true)]);
}

// ----- §4.3: one HPACK context per connection -----

/// Hand-written blocks (they insert into the dynamic table behind the peer encoder's back,
/// so tests using them use no other block).
mod raw {
    /// `:method GET, :scheme http, :path /, :authority example.com` without indexing.
    pub const GET: &[u8] = b"\x82\x86\x84\x01\x0bexample.com";
    /// The same with POST.
    pub const POST: &[u8] = b"\x83\x86\x84\x01\x0bexample.com";
    /// `x-sync: kept`, inserted into the dynamic table (literal with incremental indexing).
    pub const INSERT: &[u8] = b"\x40\x06x-sync\x04kept";
    /// A reference to the newest dynamic table entry (index 62).
    pub const NEWEST: &[u8] = b"\xbe";

    pub fn block(parts: &[&[u8]]) -> bytes::Bytes {
        parts.concat().into()
    }
}

#[test]
fn rfc9113_4_3_undecodable_block_is_compression_error() {
    // §4.3: a field block that cannot be decompressed is a connection error
    // COMPRESSION_ERROR, whatever the stream.
    let garbage: &[(&str, &[u8])] = &[
        ("index 0", b"\x80"),
        ("index past the tables", b"\x82\xff\x00"),
        ("integer overflow", b"\xff\xff\xff\xff\xff\xff\xff\x7f"),
        ("truncated string", b"\x41\x85abc"),
        ("Huffman padding not EOS", b"\x00\x81\x00\x01a"),
        ("size update after a field", b"\x82\x3f\xe1\x1f"),
        ("size update above SETTINGS_HEADER_TABLE_SIZE", b"\x3f\xe2\x1f\x82"),
    ];
    for (what, block) in garbage {
        let mut peer = server();
        peer.send(Headers::new(StreamId(1), Bytes::from_static(block), true));
        peer.expect_goaway(ErrorCode::COMPRESSION_ERROR);
        assert!(peer.last_result.is_err(), "{what}");
        assert!(!has_message_event(&peer.events()), "{what}");

        let mut peer = client();
        let id = open_get(&mut peer);
        peer.send(Headers::new(id, Bytes::from_static(block), true));
        peer.expect_goaway(ErrorCode::COMPRESSION_ERROR);
        assert!(!has_message_event(&peer.events()), "{what}");
    }
}

#[test]
fn rfc9113_4_3_garbage_on_a_closed_stream_is_still_compression_error() {
    // §4.3: blocks on closed streams are decoded too, so their errors end the connection.
    let mut peer = server();
    let headers = peer.request(1, POST, false);
    peer.send(headers);
    peer.events();
    peer.conn.reset(StreamId(1), ErrorCode::CANCEL).unwrap();
    assert_eq!(peer.frames(), vec![reset_frame(1, ErrorCode::CANCEL)]);
    peer.send(Headers::new(StreamId(1), Bytes::from_static(b"\x80"), true));
    peer.expect_goaway(ErrorCode::COMPRESSION_ERROR);
}

#[test]
fn rfc9113_4_3_block_on_a_refused_stream_is_still_decoded() {
    // §4.3: a refused stream's block still updates the HPACK context; a later block that
    // refers to what it inserted decodes.
    let mut config = Config::default();
    config.max_concurrent_streams = 1;
    let mut peer = Peer::server_with(config);
    peer.handshake();
    peer.send(Headers::new(StreamId(1), raw::block(&[raw::POST]), false));
    assert_eq!(requests(peer.events()).len(), 1);
    // Stream 3 is over the limit: refused, but its insertion is kept.
    peer.send(Headers::new(StreamId(3), raw::block(&[raw::GET, raw::INSERT]), true));
    assert_eq!(peer.frames(), vec![reset_frame(3, ErrorCode::REFUSED_STREAM)]);
    assert!(requests(peer.events()).is_empty());
    // Finish stream 1 so stream 5 fits.
    peer.send(data(1, b"", true));
    peer.conn.send_response(StreamId(1), status(204), true).unwrap();
    peer.frames();
    peer.events();
    let block = raw::block(&[raw::GET, raw::NEWEST]);
    assert!(needs_dynamic_table(&block));
    peer.send(Headers::new(StreamId(5), block, true));
    let (id, request, _) = one_request(peer.events());
    assert_eq!(id, StreamId(5));
    assert_eq!(request.headers()["x-sync"], "kept");
    peer.expect_quiet();
}

#[test]
fn rfc9113_4_3_block_on_a_stream_we_reset_is_still_decoded() {
    // §4.3 with §5.1: frames after our RST_STREAM are ignored, but their field blocks
    // still update the HPACK context.
    let mut peer = server();
    peer.send(Headers::new(StreamId(1), raw::block(&[raw::POST]), false));
    peer.events();
    peer.conn.reset(StreamId(1), ErrorCode::CANCEL).unwrap();
    peer.frames();
    peer.events();
    // Trailers that crossed our RST_STREAM: ignored, yet decoded.
    peer.send(Headers::new(StreamId(1), raw::block(&[raw::INSERT]), true));
    peer.expect_quiet();
    assert!(peer.events().is_empty());
    peer.send(Headers::new(StreamId(3), raw::block(&[raw::GET, raw::NEWEST]), true));
    let (_, request, _) = one_request(peer.events());
    assert_eq!(request.headers()["x-sync"], "kept");

    // The client side: a response crossing our RST_STREAM.
    let mut peer = client();
    let first = open_get(&mut peer);
    peer.conn.reset(first, ErrorCode::CANCEL).unwrap();
    assert_eq!(peer.frames(), vec![reset_frame(first.0, ErrorCode::CANCEL)]);
    peer.events();
    peer.send(Headers::new(first, raw::block(&[b"\x88", raw::INSERT]), true));
    peer.expect_quiet();
    assert!(peer.events().is_empty());
    let second = open_get(&mut peer);
    peer.send(Headers::new(second, raw::block(&[b"\x88", raw::NEWEST]), true));
    let events = peer.events();
    let Some(Event::Response { stream_id, response, .. }) = events.first() else {
        panic!("{events:?}")
    };
    assert_eq!(*stream_id, second);
    assert_eq!(response.headers()["x-sync"], "kept");
}

#[test]
fn rfc9113_4_3_block_above_our_goaway_is_still_decoded() {
    // §4.3 with §6.8: streams above our final GOAWAY are ignored, their blocks decoded.
    let mut peer = server();
    peer.send(Headers::new(StreamId(1), raw::block(&[raw::POST]), false));
    peer.events();
    peer.conn.shutdown();
    let payload = announced_shutdown(&peer.frames());
    peer.send(h2proto::frame::Ping { ack: true, payload });
    let goaway = peer.expect_goaway(ErrorCode::NO_ERROR);
    assert_eq!(goaway.last_stream_id, StreamId(1));
    peer.send(Headers::new(StreamId(3), raw::block(&[raw::GET, raw::INSERT]), true));
    peer.expect_quiet();
    assert!(requests(peer.events()).is_empty(), "stream 3 is above the GOAWAY");
    // Trailers on stream 1 refer to the entry stream 3 inserted.
    peer.send(Headers::new(StreamId(1), raw::block(&[raw::NEWEST]), true));
    let events = peer.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Trailers { trailers, .. } if trailers["x-sync"] == "kept")),
        "{events:?}"
    );
}

// ----- §6.2, §6.10: HEADERS and CONTINUATION -----

#[test]
fn rfc9113_6_10_field_block_assembled_from_continuations() {
    // §6.10: a field block is HEADERS without END_HEADERS plus CONTINUATIONs up to the
    // one with END_HEADERS; nothing is delivered before the block is complete.
    let mut peer = server();
    let block = peer.block(&with(GET, &[("x-long", &"v".repeat(100))]));
    let (a, rest) = block.split_at(10);
    let (b, c) = rest.split_at(40);
    let mut first = headers_open(1, Bytes::copy_from_slice(a), true);
    first.pad_len = Some(7);
    peer.send(first);
    assert!(peer.events().is_empty(), "nothing before END_HEADERS");
    peer.send(continuation(1, Bytes::copy_from_slice(b), false));
    assert!(peer.events().is_empty(), "nothing before END_HEADERS");
    peer.send(continuation(1, Bytes::copy_from_slice(c), true));
    let (id, request, end_stream) = one_request(peer.events());
    assert_eq!((id, request.uri().path(), end_stream), (StreamId(1), "/", true));
    assert_eq!(request.headers()["x-long"], "v".repeat(100));
    peer.expect_quiet();

    let mut peer = client();
    let id = open_get(&mut peer);
    let block = peer.block(&[(":status", "200"), ("x-long", &"w".repeat(100))]);
    let (a, b) = block.split_at(5);
    peer.send(headers_open(id.0, Bytes::copy_from_slice(a), false));
    assert!(peer.events().is_empty(), "nothing before END_HEADERS");
    peer.send(continuation(id.0, Bytes::copy_from_slice(b), true));
    let events = peer.events();
    assert_eq!(responses(&events), vec![(id, 200, false, false)]);
    let Some(Event::Response { response, .. }) = events.first() else { panic!("{events:?}") };
    assert_eq!(response.headers()["x-long"], "w".repeat(100));
}

#[test]
fn rfc9113_6_2_end_stream_on_headers_with_later_continuation() {
    // §6.2: END_STREAM is carried by the HEADERS frame even when CONTINUATIONs follow;
    // the stream is half-closed once the block ends.
    let mut peer = server();
    let block = peer.block(GET);
    let (a, b) = block.split_at(3);
    peer.send(headers_open(1, Bytes::copy_from_slice(a), true));
    peer.send(continuation(1, Bytes::copy_from_slice(b), true));
    let (_, _, end_stream) = one_request(peer.events());
    assert!(end_stream);
    // The stream is half-closed (remote): more DATA is a STREAM_CLOSED stream error.
    peer.send(data(1, b"late", false));
    assert_eq!(peer.frames(), vec![reset_frame(1, ErrorCode::STREAM_CLOSED)]);

    let mut peer = client();
    let id = open_get(&mut peer);
    let block = peer.block(&[(":status", "200"), ("x-a", "1")]);
    let (a, b) = block.split_at(1);
    peer.send(headers_open(id.0, Bytes::copy_from_slice(a), true));
    peer.send(continuation(id.0, Bytes::copy_from_slice(b), true));
    assert_eq!(responses(&peer.events()), vec![(id, 200, false, true)]);
    assert_eq!(peer.conn.active_streams(), 0, "both sides ended stream {id}");
}

#[test]
fn rfc9113_6_10_interleaved_frame_in_field_block_is_protocol_error() {
    // §6.10: between HEADERS without END_HEADERS and its last CONTINUATION, any other
    // frame, or a frame on another stream, is a connection error PROTOCOL_ERROR.
    let interlopers: Vec<(&str, Frame)> = vec![
        ("PING", Frame::Ping(h2proto::frame::Ping { ack: false, payload: [0; 8] })),
        ("DATA on the same stream", Frame::Data(data(1, b"x", false))),
        ("HEADERS on another stream", Frame::Headers(Headers::new(StreamId(3), vec![0x82], true))),
        ("SETTINGS", Frame::Settings(Settings::new())),
        ("WINDOW_UPDATE", Frame::WindowUpdate(window_update(0, 100))),
        ("RST_STREAM on the same stream", Frame::RstStream(rst(1, ErrorCode::CANCEL))),
        ("CONTINUATION on another stream", Frame::Continuation(continuation(3, vec![0x82], true))),
    ];
    for (what, frame) in interlopers {
        let mut peer = server();
        let block = peer.block(GET);
        peer.send(headers_open(1, block, true));
        peer.send(frame.clone());
        peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
        assert!(peer.last_result.is_err(), "{what}");
        assert!(!has_message_event(&peer.events()), "{what}");

        let mut peer = client();
        let id = open_get(&mut peer);
        assert_eq!(id, StreamId(1));
        let block = peer.block(&[(":status", "200")]);
        peer.send(headers_open(1, block, false));
        peer.send(frame);
        peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
        assert!(!has_message_event(&peer.events()), "{what}");
    }
    // An unknown frame type, otherwise ignored (§5.5), is no exception.
    let mut peer = server();
    let block = peer.block(GET);
    peer.send(headers_open(1, block, true));
    peer.send_raw(RawFrame::new(FrameType(0xfa), 0).payload(b"ext"));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_6_10_continuation_without_headers_is_protocol_error() {
    // §6.10: a CONTINUATION must follow HEADERS, PUSH_PROMISE or CONTINUATION without
    // END_HEADERS; otherwise a connection error PROTOCOL_ERROR.
    let mut peer = server();
    peer.send(continuation(1, vec![0x82], true));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);

    let mut peer = server();
    let headers = peer.get(1, "/");
    peer.send(headers);
    peer.send(continuation(1, vec![0x82], true));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);

    let mut peer = client();
    let id = open_get(&mut peer);
    let response = peer.response(id.0, "200", false);
    peer.send(response);
    peer.send(continuation(id.0, vec![0x88], true));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_6_10_continuation_on_another_stream_is_protocol_error() {
    // §6.10: each CONTINUATION must be on the stream of the block it continues.
    let mut peer = server();
    let block = peer.block(GET);
    let (a, b) = block.split_at(2);
    peer.send(headers_open(1, Bytes::copy_from_slice(a), true));
    peer.send(continuation(3, Bytes::copy_from_slice(b), true));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);

    let mut peer = client();
    let first = open_get(&mut peer);
    let _second = open_get(&mut peer);
    peer.send(headers_open(first.0, vec![0x88], false));
    peer.send(continuation(3, Bytes::new(), true));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_5_3_1_headers_depending_on_itself_resets_but_keeps_hpack_in_sync() {
    // §5.3.1: a stream depending on itself is a stream error PROTOCOL_ERROR; §4.3: its
    // block is still decoded, so what it inserted is there for the next block.
    for split in [false, true] {
        let mut peer = server();
        let block = peer.block(&with(GET, &[("x-sync", "kept")]));
        let mut headers = Headers::new(StreamId(1), block.clone(), true);
        headers.priority =
            Some(PrioritySpec { dependency: StreamId(1), exclusive: false, weight: 16 });
        if split {
            headers.fragment = block.slice(..4);
            headers.end_headers = false;
            peer.send(headers);
            peer.send(continuation(1, block.slice(4..), true));
        } else {
            peer.send(headers);
        }
        assert_eq!(peer.frames(), vec![reset_frame(1, ErrorCode::PROTOCOL_ERROR)], "split {split}");
        assert!(requests(peer.events()).is_empty(), "split {split}");
        let later = peer.request(3, &with(GET, &[("x-sync", "kept")]), true);
        assert!(needs_dynamic_table(&later.fragment), "the encoder refers to its table");
        peer.send(later);
        let (id, request, _) = one_request(peer.events());
        assert_eq!(id, StreamId(3), "split {split}");
        assert_eq!(request.headers()["x-sync"], "kept", "split {split}");
    }

    // A response HEADERS depending on itself: the same stream error on the client.
    let mut peer = client();
    let id = open_get(&mut peer);
    let block = peer.block(&[(":status", "200"), ("x-sync", "kept")]);
    let mut headers = Headers::new(id, block, true);
    headers.priority = Some(PrioritySpec { dependency: id, exclusive: true, weight: 1 });
    peer.send(headers);
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)]);
    assert!(!has_message_event(&peer.events()));
    let next = open_get(&mut peer);
    let block = peer.block(&[(":status", "200"), ("x-sync", "kept")]);
    assert!(needs_dynamic_table(&block));
    peer.send(Headers::new(next, block, true));
    let events = peer.events();
    assert!(
        matches!(&events[..], [Event::Response { response, .. }] if response.headers()["x-sync"] == "kept"),
        "{events:?}"
    );
}

// ----- §8.1: HTTP message framing -----

#[test]
fn rfc9113_8_1_trailers_without_end_stream_are_malformed() {
    // §8.1: a HEADERS frame after the body must carry END_STREAM; without it the message
    // is malformed (stream error PROTOCOL_ERROR).
    let mut peer = server();
    let headers = peer.request(1, POST, false);
    peer.send(headers);
    peer.send(data(1, b"abc", false));
    peer.events();
    let trailers = peer.request(1, &[("x-checksum", "1")], false);
    peer.send(trailers);
    assert_eq!(peer.frames(), vec![reset_frame(1, ErrorCode::PROTOCOL_ERROR)]);
    let events = peer.events();
    assert!(!events.iter().any(|e| matches!(e, Event::Trailers { .. })), "{events:?}");
    assert_server_still_serves(&mut peer, 3);

    let mut peer = client();
    let id = open_get(&mut peer);
    let response = peer.response(id.0, "200", false);
    peer.send(response);
    peer.send(Data::new(id, "body", false));
    peer.events();
    let block = peer.block(&[("x-checksum", "1")]);
    peer.send(Headers::new(id, block, false));
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)]);
    let events = peer.events();
    assert!(!events.iter().any(|e| matches!(e, Event::Trailers { .. })), "{events:?}");
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_1_trailers_with_end_stream_end_the_message() {
    // §8.1: trailers are a field block with END_STREAM after the content.
    let mut peer = client();
    let id = open_get(&mut peer);
    let response = peer.response(id.0, "200", false);
    peer.send(response);
    peer.send(Data::new(id, "body", false));
    let block = peer.block(&[("grpc-status", "0")]);
    peer.send(Headers::new(id, block, true));
    let events = peer.events();
    assert!(
        matches!(&events[..], [
            Event::Response { end_stream: false, .. },
            Event::Data { end_stream: false, .. },
            Event::Trailers { trailers, .. },
        ] if trailers["grpc-status"] == "0"),
        "{events:?}"
    );
    assert_eq!(peer.conn.read_data(id).as_deref(), Some(&b"body"[..]));
    peer.expect_quiet();
}

#[test]
fn rfc9113_8_1_informational_responses_then_final() {
    // §8.1: a response is zero or more 1xx heads, then the final head; the client
    // reports each 1xx on its own.
    let mut peer = client();
    let id =
        open(&mut peer, http::Request::post("https://example.com/up").body(()).unwrap(), false);
    let continue_ = peer.response(id.0, "100", false);
    peer.send(continue_);
    let block = peer.block(&[(":status", "103"), ("link", "</style.css>; rel=preload")]);
    peer.send(Headers::new(id, block, false));
    let events = peer.events();
    assert_eq!(responses(&events), vec![(id, 100, true, false), (id, 103, true, false)]);
    let Some(Event::Informational { response, .. }) = events.get(1) else { panic!("{events:?}") };
    assert_eq!(response.headers()["link"], "</style.css>; rel=preload");
    let ok = peer.response(id.0, "200", true);
    peer.send(ok);
    assert_eq!(responses(&peer.events()), vec![(id, 200, false, true)]);
    peer.expect_quiet();

    // The server sends them the same way.
    let mut peer = server();
    let headers = peer.request(1, POST, false);
    peer.send(headers);
    peer.events();
    peer.conn.send_response(StreamId(1), status(100), false).unwrap();
    peer.conn.send_response(StreamId(1), status(200), true).unwrap();
    let frames = peer.frames();
    let statuses: Vec<(Vec<(String, String)>, bool)> = frames
        .iter()
        .map(|f| match f {
            Frame::Headers(h) => (h.fragment.clone(), h.end_stream),
            other => panic!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(block, end)| (peer.decode(&block), end))
        .collect();
    assert_eq!(
        statuses,
        vec![(owned(&[(":status", "100")]), false), (owned(&[(":status", "200")]), true)]
    );
}

#[test]
fn rfc9113_8_1_informational_with_end_stream_is_malformed() {
    // §8.1: a 1xx HEADERS frame cannot carry END_STREAM; receiving one is malformed.
    let mut peer = client();
    let id = open_get(&mut peer);
    let response = peer.response(id.0, "103", true);
    peer.send(response);
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)]);
    assert!(!has_message_event(&peer.events()));
    assert_client_still_works(&mut peer);

    // And the server refuses to send one.
    let mut peer = server();
    let headers = peer.get(1, "/");
    peer.send(headers);
    peer.events();
    assert!(matches!(
        peer.conn.send_response(StreamId(1), status(103), true),
        Err(UserError::InvalidMessage(_))
    ));
    assert!(peer.frames().is_empty());
}

#[test]
fn rfc9113_8_6_switching_protocols_is_refused_both_ways() {
    // §8.6: HTTP/2 has no 101 (Switching Protocols): received, it is malformed; the
    // server cannot send it.
    let mut peer = client();
    assert_response_malformed(&mut peer, &[(":status", "101")]);
    assert_client_still_works(&mut peer);

    let mut peer = server();
    let headers = peer.get(1, "/");
    peer.send(headers);
    peer.events();
    assert!(matches!(
        peer.conn.send_response(StreamId(1), status(101), false),
        Err(UserError::InvalidMessage(_))
    ));
    assert!(peer.frames().is_empty());
}

#[test]
fn rfc9113_8_1_data_before_response_headers_is_malformed() {
    // §8.1: a message starts with its header section; DATA before the final response
    // head (even after a 1xx) is malformed.
    let mut peer = client();
    let id = open_get(&mut peer);
    peer.send(Data::new(id, "early", false));
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)]);
    assert!(!peer.events().iter().any(|e| matches!(e, Event::Data { .. })));

    let id = open_get(&mut peer);
    let info = peer.response(id.0, "100", false);
    peer.send(info);
    peer.send(Data::new(id, "early", false));
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)]);
    assert!(!peer.events().iter().any(|e| matches!(e, Event::Data { .. })));
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_1_1_content_length_must_match_data() {
    // §8.1.1: content-length that differs from the sum of DATA payloads (too much or too
    // little) makes the message malformed.
    let mut peer = server();
    let cl5 = with(POST, &[("content-length", "5")]);
    // Too little: END_STREAM after 3 of 5 bytes.
    let headers = peer.request(1, &cl5, false);
    peer.send(headers);
    peer.send(data(1, b"abc", true));
    assert_eq!(peer.frames(), vec![reset_frame(1, ErrorCode::PROTOCOL_ERROR)]);
    // Too much: caught at the frame that goes over, before END_STREAM.
    let headers = peer.request(3, &cl5, false);
    peer.send(headers);
    peer.send(data(3, b"abc", false));
    peer.expect_quiet();
    peer.send(data(3, b"def", false));
    assert_eq!(peer.frames(), vec![reset_frame(3, ErrorCode::PROTOCOL_ERROR)]);
    // Non-zero content-length with END_STREAM on the HEADERS: no content at all.
    let headers = peer.request(5, &cl5, true);
    peer.send(headers);
    assert_eq!(peer.frames(), vec![reset_frame(5, ErrorCode::PROTOCOL_ERROR)]);
    // Too little, ended by trailers.
    let headers = peer.request(7, &cl5, false);
    peer.send(headers);
    peer.send(data(7, b"abc", false));
    let trailers = peer.request(7, &[("x-t", "1")], true);
    peer.send(trailers);
    assert_eq!(peer.frames(), vec![reset_frame(7, ErrorCode::PROTOCOL_ERROR)]);
    let events = peer.events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Data { end_stream: true, .. } | Event::Trailers { .. })),
        "{events:?}"
    );
    // Exact: accepted.
    let headers = peer.request(11, &cl5, false);
    peer.send(headers);
    peer.send(data(11, b"abc", false)).send(data(11, b"de", true));
    peer.expect_quiet();
    let events = peer.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Data { stream_id: StreamId(11), end_stream: true })),
        "{events:?}"
    );
    assert_eq!(Pair::read_all(&mut peer.conn, StreamId(11)), b"abcde");
    assert_server_still_serves(&mut peer, 13);

    let mut peer = client();
    for (body, end) in [(&b"abc"[..], true), (&b"abcdef"[..], false)] {
        let id = open_get(&mut peer);
        let block = peer.block(&[(":status", "200"), ("content-length", "5")]);
        peer.send(Headers::new(id, block, false));
        peer.send(Data::new(id, Bytes::from_static(body), end));
        assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)], "{body:?}");
        let events = peer.events();
        assert!(
            !events.iter().any(|e| matches!(e, Event::Data { end_stream: true, .. })),
            "{events:?}"
        );
    }
    let id = open_get(&mut peer);
    let block = peer.block(&[(":status", "200"), ("content-length", "5")]);
    peer.send(Headers::new(id, block, true));
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)]);
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_1_1_conflicting_content_length_values_are_malformed() {
    // §8.1.1 (RFC 9110 §8.6): a content-length that is not one valid number is malformed.
    let mut peer = server();
    let cases: &[&[(&str, &str)]] = &[
        &[("content-length", "abc")],
        &[("content-length", "-1")],
        &[("content-length", "")],
        &[("content-length", "5"), ("content-length", "6")],
    ];
    for (i, extra) in cases.iter().enumerate() {
        assert_request_malformed(&mut peer, 1 + 2 * i as u32, &with(POST, extra));
    }
    assert_server_still_serves(&mut peer, 99);
}

#[test]
fn rfc9113_8_1_1_head_response_content_length_without_body() {
    // §8.1.1: a response defined to have no content (to HEAD, or 204/304) may carry a
    // non-zero content-length with no DATA.
    let mut peer = client();
    let head = http::Request::head("https://example.com/big").body(()).unwrap();
    let id = open(&mut peer, head, true);
    let block = peer.block(&[(":status", "200"), ("content-length", "1000")]);
    peer.send(Headers::new(id, block, true));
    assert_eq!(responses(&peer.events()), vec![(id, 200, false, true)]);
    peer.expect_quiet();

    // Ended by an empty DATA frame instead: still no content, still fine.
    let head = http::Request::head("https://example.com/big").body(()).unwrap();
    let id = open(&mut peer, head, true);
    let block = peer.block(&[(":status", "200"), ("content-length", "1000")]);
    peer.send(Headers::new(id, block, false));
    peer.send(Data::new(id, Bytes::new(), true));
    let events = peer.events();
    assert_eq!(responses(&events), vec![(id, 200, false, false)]);
    assert!(events.iter().any(|e| matches!(e, Event::Data { end_stream: true, .. })), "{events:?}");
    peer.expect_quiet();

    // Content in a response to HEAD is malformed.
    let head = http::Request::head("https://example.com/big").body(()).unwrap();
    let id = open(&mut peer, head, true);
    let response = peer.response(id.0, "200", false);
    peer.send(response);
    peer.send(Data::new(id, "x", true));
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)]);
}

#[test]
fn rfc9113_8_1_1_no_content_statuses_204_and_304() {
    // §8.1.1 / RFC 9110 §15.3.5, §15.4.5: 204 and 304 have no content; content-length
    // may describe the selected representation.
    let mut peer = client();
    for (status, cl) in [("204", None), ("304", Some("1234")), ("204", Some("0"))] {
        let id = open_get(&mut peer);
        let mut fields = vec![(":status", status)];
        fields.extend(cl.map(|v| ("content-length", v)));
        let block = peer.block(&fields);
        peer.send(Headers::new(id, block, true));
        assert_eq!(responses(&peer.events()), vec![(id, status.parse().unwrap(), false, true)]);
        peer.expect_quiet();
    }
    // A 204 with content is malformed.
    let id = open_get(&mut peer);
    let response = peer.response(id.0, "204", false);
    peer.send(response);
    peer.send(Data::new(id, "x", true));
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)]);
    let events = peer.events();
    assert!(!events.iter().any(|e| matches!(e, Event::Data { .. })), "{events:?}");
    assert_client_still_works(&mut peer);
}

// ----- §8.2: HTTP fields -----

#[test]
fn rfc9113_8_2_1_invalid_field_names_are_malformed() {
    // §8.2.1: names must be lowercase, without controls, SP, DEL, non-ASCII or a colon.
    let names = ["X-Upper", "x-Upper", "x y", "x\0y", "x\ty", "x\x7fy", "x:y", ""];
    let mut peer = server();
    for (i, name) in names.iter().enumerate() {
        assert_request_malformed(&mut peer, 1 + 2 * i as u32, &with(GET, &[(name, "1")]));
    }
    // A byte above 0x7e, which no &str can hold.
    let mut block = BytesMut::new();
    let mut fields: Vec<FieldRef<'_>> =
        GET.iter().map(|(n, v)| FieldRef::new(n.as_bytes(), v.as_bytes())).collect();
    fields.push(FieldRef::new(b"x-\xff", b"1"));
    peer.encoder.encode(fields, &mut block);
    peer.send(Headers::new(StreamId(101), block.freeze(), true));
    assert_eq!(peer.frames(), vec![reset_frame(101, ErrorCode::PROTOCOL_ERROR)]);
    assert_server_still_serves(&mut peer, 103);

    let mut peer = client();
    for name in names {
        assert_response_malformed(&mut peer, &[(":status", "200"), (name, "1")]);
    }
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_2_1_invalid_field_values_are_malformed() {
    // §8.2.1: values must not contain NUL, CR or LF, nor start or end with SP or HTAB;
    // pseudo-header values included.
    let values = ["a\0b", "a\rb", "a\nb", "\r\n", " a", "a ", "\ta", "a\t", " "];
    let mut peer = server();
    let mut id = 1;
    for value in values {
        assert_request_malformed(&mut peer, id, &with(GET, &[("x-v", value)]));
        id += 2;
    }
    // Every request pseudo-header, with each forbidden octet inside and each kind of
    // whitespace at either end.
    for pseudo in 0..GET.len() {
        let base = GET[pseudo].1;
        let (head, tail) = base.split_at(1);
        let bad = [
            format!("{head}\0{tail}"),
            format!("{head}\r{tail}"),
            format!("{head}\n{tail}"),
            format!(" {base}"),
            format!("{base} "),
            format!("\t{base}"),
            format!("{base}\t"),
        ];
        for value in &bad {
            let mut fields = GET.to_vec();
            fields[pseudo].1 = value;
            assert_request_malformed(&mut peer, id, &fields);
            id += 2;
        }
    }
    assert_server_still_serves(&mut peer, id);

    let mut peer = client();
    for value in values {
        assert_response_malformed(&mut peer, &[(":status", "200"), ("x-v", value)]);
    }
    for status in ["200 ", " 200", "\t200", "200\t", "2\r0", "20\0"] {
        assert_response_malformed(&mut peer, &[(":status", status)]);
    }
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_2_2_connection_specific_fields_are_malformed() {
    // §8.2.2: connection-specific fields (connection, keep-alive, proxy-connection,
    // transfer-encoding, upgrade) make a message malformed.
    let fields = [
        ("connection", "keep-alive"),
        ("keep-alive", "timeout=5"),
        ("proxy-connection", "keep-alive"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "websocket"),
    ];
    let mut peer = server();
    for (i, field) in fields.iter().enumerate() {
        assert_request_malformed(&mut peer, 1 + 2 * i as u32, &with(GET, &[*field]));
    }
    assert_server_still_serves(&mut peer, 99);

    let mut peer = client();
    for field in fields {
        assert_response_malformed(&mut peer, &[(":status", "200"), field]);
    }
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_2_2_te_other_than_trailers_is_malformed() {
    // §8.2.2: `te` may appear in a request only with the value "trailers".
    let mut peer = server();
    assert_request_malformed(&mut peer, 1, &with(GET, &[("te", "gzip")]));
    assert_request_malformed(&mut peer, 3, &with(GET, &[("te", "trailers, deflate")]));
    let headers = peer.request(5, &with(GET, &[("te", "trailers")]), true);
    peer.send(headers);
    let (_, request, _) = one_request(peer.events());
    assert_eq!(request.headers()["te"], "trailers");
    peer.expect_quiet();
}

#[test]
fn rfc9113_8_3_pseudo_header_fields_after_regular_fields_are_malformed() {
    // §8.3: all pseudo-header fields come before regular fields.
    let mut peer = server();
    let fields = [
        (":method", "GET"),
        (":scheme", "https"),
        ("x-a", "1"),
        (":authority", "example.com"),
        (":path", "/"),
    ];
    assert_request_malformed(&mut peer, 1, &fields);
    assert_server_still_serves(&mut peer, 3);

    let mut peer = client();
    assert_response_malformed(&mut peer, &[("x-a", "1"), (":status", "200")]);
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_3_unknown_pseudo_header_fields_are_malformed() {
    // §8.3: only the pseudo-header fields defined for the message kind are allowed;
    // unknown ones and those of the other kind make it malformed.
    let mut peer = server();
    assert_request_malformed(&mut peer, 1, &with(GET, &[(":foo", "bar")]));
    assert_request_malformed(&mut peer, 3, &with(GET, &[(":status", "200")]));
    assert_request_malformed(&mut peer, 5, &with(GET, &[(":protocol", "websocket")]));
    assert_server_still_serves(&mut peer, 7);

    let mut peer = client();
    assert_response_malformed(&mut peer, &[(":status", "200"), (":foo", "bar")]);
    assert_response_malformed(&mut peer, &[(":status", "200"), (":path", "/")]);
    assert_response_malformed(&mut peer, &[(":method", "GET"), (":status", "200")]);
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_3_repeated_pseudo_header_fields_are_malformed() {
    // §8.3.1, §8.3.2: each pseudo-header field appears at most once.
    let mut peer = server();
    let mut id = 1;
    for dup in
        [(":method", "GET"), (":scheme", "https"), (":authority", "example.com"), (":path", "/x")]
    {
        let mut fields = GET.to_vec();
        fields.insert(1, dup);
        assert_request_malformed(&mut peer, id, &fields);
        id += 2;
    }
    assert_server_still_serves(&mut peer, id);

    let mut peer = client();
    assert_response_malformed(&mut peer, &[(":status", "200"), (":status", "204")]);
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_1_pseudo_header_fields_in_trailers_are_malformed() {
    // §8.1: trailers carry no pseudo-header fields.
    let mut peer = server();
    for (id, pseudo) in [(1, (":path", "/")), (3, (":status", "200"))] {
        let headers = peer.request(id, POST, false);
        peer.send(headers);
        peer.events();
        let trailers = peer.request(id, &[pseudo, ("x-t", "1")], true);
        peer.send(trailers);
        assert_eq!(peer.frames(), vec![reset_frame(id, ErrorCode::PROTOCOL_ERROR)]);
        let events = peer.events();
        assert!(!events.iter().any(|e| matches!(e, Event::Trailers { .. })), "{events:?}");
    }
    assert_server_still_serves(&mut peer, 5);

    let mut peer = client();
    let id = open_get(&mut peer);
    let response = peer.response(id.0, "200", false);
    peer.send(response);
    peer.events();
    let block = peer.block(&[(":status", "200")]);
    peer.send(Headers::new(id, block, true));
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)]);
    assert!(!peer.events().iter().any(|e| matches!(e, Event::Trailers { .. })));
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_2_2_connection_specific_fields_in_trailers_are_malformed() {
    // §8.2.2 applies to every field section, trailers included.
    let mut peer = server();
    let headers = peer.request(1, POST, false);
    peer.send(headers);
    peer.events();
    let trailers = peer.request(1, &[("transfer-encoding", "chunked")], true);
    peer.send(trailers);
    assert_eq!(peer.frames(), vec![reset_frame(1, ErrorCode::PROTOCOL_ERROR)]);
    assert_server_still_serves(&mut peer, 3);
}

#[test]
fn rfc9113_8_2_3_cookie_crumbs_joined_on_receive() {
    // §8.2.3: several cookie fields are concatenated with "; " into one.
    let mut peer = server();
    let headers = peer.request(
        1,
        &with(GET, &[("cookie", "a=1"), ("x-other", "o"), ("cookie", "b=2"), ("cookie", "c=3")]),
        true,
    );
    peer.send(headers);
    let (_, request, _) = one_request(peer.events());
    let cookies: Vec<_> = request.headers().get_all("cookie").iter().collect();
    assert_eq!(cookies, vec!["a=1; b=2; c=3"]);
    assert_eq!(request.headers()["x-other"], "o");
}

#[test]
fn rfc9113_8_2_3_cookie_split_into_crumbs_on_send() {
    // §8.2.3: a sender may split a cookie into one field per crumb, for compression.
    let mut peer = client();
    let request = http::Request::get("https://example.com/")
        .header("cookie", "a=1; b=2;c=3")
        .body(())
        .unwrap();
    open_request_and_check(&mut peer, request, |fields| {
        let crumbs: Vec<&str> =
            fields.iter().filter(|(n, _)| n == "cookie").map(|(_, v)| v.as_str()).collect();
        assert_eq!(crumbs, vec!["a=1", "b=2", "c=3"]);
    });

    // End to end: split by the client, joined by the server.
    let mut pair = Pair::new();
    let request = http::Request::get("https://example.com/")
        .header("cookie", "session=0123456789abcdef0123; theme=dark")
        .body(())
        .unwrap();
    pair.client.send_request(request, true).unwrap();
    pair.drive();
    let (_, request, _) = one_request(pair.take_server_events());
    assert_eq!(request.headers()["cookie"], "session=0123456789abcdef0123; theme=dark");
}

fn open_request_and_check(
    peer: &mut Peer,
    request: http::Request<()>,
    check: impl FnOnce(&[(String, String)]),
) {
    peer.conn.send_request(request, true).unwrap();
    let frames = peer.frames();
    let fields = sent_fields(peer, &frames);
    check(&fields);
}

// ----- §8.3.1: request pseudo-header fields -----

#[test]
fn rfc9113_8_3_1_missing_or_empty_required_pseudo_headers_are_malformed() {
    // §8.3.1: :method, :scheme and :path are required (CONNECT aside); :path is never
    // empty for http(s).
    let mut peer = server();
    let cases: &[&[(&str, &str)]] = &[
        &[(":scheme", "https"), (":authority", "example.com"), (":path", "/")],
        &[(":method", "GET"), (":authority", "example.com"), (":path", "/")],
        &[(":method", "GET"), (":scheme", "https"), (":authority", "example.com")],
        &[(":method", "GET"), (":scheme", "https"), (":authority", "example.com"), (":path", "")],
        &[],
    ];
    for (i, fields) in cases.iter().enumerate() {
        assert_request_malformed(&mut peer, 1 + 2 * i as u32, fields);
    }
    assert_server_still_serves(&mut peer, 99);

    let mut peer = client();
    assert_response_malformed(&mut peer, &[("x-no-status", "1")]);
    for bad in ["20", "2000", "abc", ""] {
        assert_response_malformed(&mut peer, &[(":status", bad)]);
    }
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_8_3_1_authority_and_host_must_agree() {
    // §8.3.1: a host field that differs from :authority makes the request malformed.
    let mut peer = server();
    assert_request_malformed(&mut peer, 1, &with(GET, &[("host", "evil.example")]));
    let headers = peer.request(3, &with(GET, &[("host", "example.com")]), true);
    peer.send(headers);
    let (_, request, _) = one_request(peer.events());
    assert_eq!(request.uri().authority().map(|a| a.as_str()), Some("example.com"));
    peer.expect_quiet();
}

#[test]
fn rfc9113_8_3_1_empty_authority_is_no_authority_and_host_must_still_agree() {
    // §8.3.1: an empty :authority leaves the URI without an authority (origin form), and a
    // host field beside it must agree with it as with any other :authority; an empty host
    // alone stands for no authority either.
    let mut peer = server();
    let fields = [(":method", "GET"), (":scheme", "https"), (":authority", ""), (":path", "/e")];
    let headers = peer.request(1, &fields, true);
    peer.send(headers);
    let (_, request, _) = one_request(peer.events());
    assert_eq!((request.uri().authority(), request.uri().path()), (None, "/e"));
    assert_request_malformed(&mut peer, 3, &with(&fields, &[("host", "example.com")]));
    let fields = [(":method", "GET"), (":scheme", "https"), (":path", "/h"), ("host", "")];
    let headers = peer.request(5, &fields, true);
    peer.send(headers);
    let (_, request, _) = one_request(peer.events());
    assert_eq!((request.uri().authority(), request.uri().path()), (None, "/h"));
    peer.expect_quiet();
}

#[test]
fn rfc9113_8_3_1_host_alone_serves_as_authority() {
    // §8.3.1: without :authority, the host field supplies the authority.
    let mut peer = server();
    let fields = [
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/p?q=1"),
        ("host", "example.org:8443"),
    ];
    let headers = peer.request(1, &fields, true);
    peer.send(headers);
    let (_, request, _) = one_request(peer.events());
    assert_eq!(request.uri().to_string(), "https://example.org:8443/p?q=1");
    peer.expect_quiet();
}

#[test]
fn rfc9113_8_3_1_client_sends_host_as_authority() {
    // §8.3.1: a client puts the authority in :authority (taken from a host field when the
    // URI has none) rather than in a host field.
    let mut peer = client();
    let request = http::Request::get("/rel?q").header("host", "h.example").body(()).unwrap();
    open_request_and_check(&mut peer, request, |fields| {
        assert_eq!(
            fields,
            owned(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":authority", "h.example"),
                (":path", "/rel?q")
            ])
        );
    });
    // A URI without a path is sent with :path "/".
    open_request_and_check(&mut peer, get("http://example.com"), |fields| {
        assert!(fields.contains(&(":path".into(), "/".into())), "{fields:?}");
    });
}

#[test]
fn rfc9113_8_3_1_client_refuses_userinfo_in_authority() {
    // §8.3.1: :authority must not include the deprecated userinfo for http(s) URIs.
    let mut peer = client();
    let request = get("https://user:secret@example.com/");
    assert!(matches!(peer.conn.send_request(request, true), Err(UserError::InvalidMessage(_))));
    assert!(peer.frames().is_empty(), "nothing written");
    assert_eq!(peer.conn.send_request(get("https://example.com/"), true).unwrap(), StreamId(1));
}

// ----- §8.5: CONNECT -----

#[test]
fn rfc9113_8_5_connect_has_only_method_and_authority() {
    // §8.5: a CONNECT request carries :method and :authority only; :scheme or :path make
    // it malformed, as does a missing :authority.
    let mut peer = server();
    let headers =
        peer.request(1, &[(":method", "CONNECT"), (":authority", "proxy.example:443")], false);
    peer.send(headers);
    let (id, request, end_stream) = one_request(peer.events());
    assert_eq!((id, request.method(), end_stream), (StreamId(1), &http::Method::CONNECT, false));
    assert_eq!(request.uri().authority().map(|a| a.as_str()), Some("proxy.example:443"));
    assert!(request.uri().scheme().is_none() && request.extensions().get::<Protocol>().is_none());
    peer.expect_quiet();
    let cases: &[&[(&str, &str)]] = &[
        &[(":method", "CONNECT"), (":scheme", "https"), (":authority", "proxy.example:443")],
        &[(":method", "CONNECT"), (":authority", "proxy.example:443"), (":path", "/")],
        &[(":method", "CONNECT")],
    ];
    for (i, fields) in cases.iter().enumerate() {
        assert_request_malformed(&mut peer, 3 + 2 * i as u32, fields);
    }
    assert_server_still_serves(&mut peer, 99);

    // The client sends exactly :method and :authority.
    let mut peer = client();
    let request = http::Request::connect("proxy.example:443").body(()).unwrap();
    open_request_and_check(&mut peer, request, |fields| {
        assert_eq!(fields, owned(&[(":method", "CONNECT"), (":authority", "proxy.example:443")]));
    });
}

#[test]
fn rfc8441_4_protocol_needs_enable_connect_protocol() {
    // RFC 8441 §3, §4: :protocol is understood only by a server that sent
    // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; otherwise it is an unknown pseudo-header.
    let websocket = [
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "https"),
        (":path", "/chat"),
        (":authority", "example.com"),
    ];
    let mut peer = server();
    assert_request_malformed(&mut peer, 1, &websocket);

    let mut config = Config::default();
    config.enable_connect_protocol = true;
    let mut peer = Peer::server_with(config);
    let frames = peer.handshake();
    let Frame::Settings(settings) = &frames[0] else { panic!("{frames:?}") };
    assert_eq!(settings.get(SettingId::ENABLE_CONNECT_PROTOCOL), Some(1));
    let headers = peer.request(1, &websocket, false);
    peer.send(headers);
    let (_, request, end_stream) = one_request(peer.events());
    assert!(!end_stream);
    assert_eq!(request.method(), http::Method::CONNECT);
    assert_eq!(request.uri().to_string(), "https://example.com/chat");
    assert_eq!(request.extensions().get::<Protocol>(), Some(&Protocol::from("websocket")));
    peer.expect_quiet();
    // :protocol on another method; extended CONNECT without :scheme, :path or :authority.
    let mut id = 3;
    let mut get_with_protocol = GET.to_vec();
    get_with_protocol.push((":protocol", "websocket"));
    assert_request_malformed(&mut peer, id, &get_with_protocol);
    for missing in [":scheme", ":path", ":authority"] {
        id += 2;
        let fields: Vec<_> = websocket.iter().copied().filter(|(n, _)| *n != missing).collect();
        assert_request_malformed(&mut peer, id, &fields);
    }
    assert_server_still_serves(&mut peer, 99);
}

#[test]
fn rfc8441_3_client_sends_extended_connect_only_once_allowed() {
    // RFC 8441 §3: a client may use extended CONNECT only after the server's
    // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; before, nothing is sent.
    let websocket = || {
        let mut request = http::Request::connect("https://example.com/chat").body(()).unwrap();
        request.extensions_mut().insert(Protocol::from("websocket"));
        request
    };
    let mut peer = client();
    assert!(matches!(peer.conn.send_request(websocket(), false), Err(UserError::NotAllowed(_))));
    assert!(peer.frames().is_empty(), "nothing written");
    peer.send(Settings::new().with(SettingId::ENABLE_CONNECT_PROTOCOL, 1));
    assert!(peer.conn.peer_settings().enable_connect_protocol);
    peer.frames();
    // :protocol goes with CONNECT only.
    let mut not_connect = get("https://example.com/chat");
    not_connect.extensions_mut().insert(Protocol::from("websocket"));
    assert!(matches!(
        peer.conn.send_request(not_connect, false),
        Err(UserError::InvalidMessage(_))
    ));
    assert!(peer.frames().is_empty(), "nothing written");
    let id = peer.conn.send_request(websocket(), false).unwrap();
    assert_eq!(id, StreamId(1), "the refused attempt used no stream id");
    let frames = peer.frames();
    assert!(matches!(&frames[..], [Frame::Headers(h)] if !h.end_stream), "{frames:?}");
    let fields = sent_fields(&mut peer, &frames);
    assert_eq!(
        fields,
        owned(&[
            (":method", "CONNECT"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "/chat"),
            (":protocol", "websocket"),
        ])
    );
}

#[test]
fn rfc8441_3_enable_connect_protocol_cannot_be_withdrawn() {
    // RFC 8441 §3: after 1, a value of 0 must not be sent; the value is 0 or 1.
    let mut peer = client();
    peer.send(Settings::new().with(SettingId::ENABLE_CONNECT_PROTOCOL, 1));
    peer.send(Settings::new().with(SettingId::ENABLE_CONNECT_PROTOCOL, 0));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);

    let mut peer = client();
    peer.send_raw(RawFrame::new(FrameType::SETTINGS, 0).payload([0, 8, 0, 0, 0, 2]));
    peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
}

// ----- Sending side -----

/// A peer that refuses to send connection-specific fields instead of leaving them out.
fn strict(mut peer: Peer) -> Peer {
    peer.handshake();
    peer
}

fn strict_config() -> Config {
    let mut config = Config::default();
    config.strip_connection_fields = false;
    config
}

#[test]
fn rfc9113_8_2_2_refuses_to_send_connection_specific_fields() {
    // §8.2.2: an endpoint must not generate connection-specific fields (or `te` other than
    // "trailers"); with `strip_connection_fields` off the command fails and nothing is
    // written.
    let mut peer = strict(Peer::client_with(strict_config()));
    for (name, value) in [
        ("connection", "close"),
        ("keep-alive", "5"),
        ("proxy-connection", "close"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "h2c"),
        ("te", "gzip"),
        ("x-space", " padded"),
    ] {
        let request =
            http::Request::get("https://example.com/").header(name, value).body(()).unwrap();
        assert!(
            matches!(peer.conn.send_request(request, true), Err(UserError::InvalidMessage(_))),
            "{name}"
        );
        assert!(peer.frames().is_empty(), "{name}: nothing written");
    }
    let request =
        http::Request::get("https://example.com/").header("te", "trailers").body(()).unwrap();
    assert_eq!(peer.conn.send_request(request, true).unwrap(), StreamId(1), "no id was used up");
    let frames = peer.frames();
    assert!(sent_fields(&mut peer, &frames).contains(&("te".into(), "trailers".into())));

    let mut peer = strict(Peer::server_with(strict_config()));
    let headers = peer.request(1, POST, false);
    peer.send(headers);
    peer.events();
    let response =
        http::Response::builder().status(200).header("connection", "close").body(()).unwrap();
    assert!(matches!(
        peer.conn.send_response(StreamId(1), response, false),
        Err(UserError::InvalidMessage(_))
    ));
    assert!(peer.frames().is_empty(), "nothing written");
    peer.conn.send_response(StreamId(1), status(200), false).unwrap();
    let mut trailers = http::HeaderMap::new();
    trailers.insert("transfer-encoding", "chunked".parse().unwrap());
    assert!(matches!(
        peer.conn.send_trailers(StreamId(1), trailers),
        Err(UserError::InvalidMessage(_))
    ));
    // Only the valid response went out, and its block decodes: HPACK state is intact.
    let frames = peer.frames();
    assert_eq!(sent_fields(&mut peer, &frames), owned(&[(":status", "200")]));
}

#[test]
fn rfc9113_8_2_2_leaves_connection_specific_fields_out_by_default() {
    // §8.2.2: by default a message we send goes out without its connection-specific
    // fields (a proxy forwarding an HTTP/1.1 message), and they are counted.
    let forbidden = [
        ("connection", "close"),
        ("keep-alive", "5"),
        ("proxy-connection", "close"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "h2c"),
        ("te", "gzip"),
    ];
    let mut peer = client();
    let mut request = http::Request::get("https://example.com/").header("x-kept", "1");
    for (name, value) in forbidden {
        request = request.header(name, value);
    }
    peer.conn.send_request(request.body(()).unwrap(), true).unwrap();
    let frames = peer.frames();
    let fields = sent_fields(&mut peer, &frames);
    assert!(fields.contains(&("x-kept".into(), "1".into())), "{fields:?}");
    for (name, _) in forbidden {
        assert!(fields.iter().all(|(n, _)| n != name), "{name} left out: {fields:?}");
    }
    assert_eq!(peer.conn.stats().connection_fields_stripped, 6);

    let mut peer = server();
    let headers = peer.request(1, POST, false);
    peer.send(headers);
    peer.events();
    let response = http::Response::builder()
        .status(200)
        .header("connection", "keep-alive")
        .header("keep-alive", "timeout=5")
        .header("transfer-encoding", "chunked")
        .body(())
        .unwrap();
    peer.conn.send_response(StreamId(1), response, false).unwrap();
    let frames = peer.frames();
    assert_eq!(sent_fields(&mut peer, &frames), owned(&[(":status", "200")]));
    let mut trailers = http::HeaderMap::new();
    trailers.insert("transfer-encoding", "chunked".parse().unwrap());
    trailers.insert("x-checksum", "abc".parse().unwrap());
    peer.conn.send_trailers(StreamId(1), trailers).unwrap();
    let frames = peer.frames();
    assert_eq!(sent_fields(&mut peer, &frames), owned(&[("x-checksum", "abc")]));
    assert_eq!(peer.conn.stats().connection_fields_stripped, 4);
}

// ----- §8.2.2 / RFC 6585: header list size -----

#[test]
fn rfc9113_8_2_2_request_over_max_header_list_size_gets_431() {
    // §6.5.2, §8.2.2: a request head over our SETTINGS_MAX_HEADER_LIST_SIZE is answered
    // with 431 and the rest of the request refused with RST_STREAM NO_ERROR; the
    // connection, and its HPACK context, live on.
    let mut config = Config::default();
    config.max_header_list_size = 1024;
    let mut peer = Peer::server_with(config);
    let frames = peer.handshake();
    let Frame::Settings(settings) = &frames[0] else { panic!("{frames:?}") };
    assert_eq!(settings.get(SettingId::MAX_HEADER_LIST_SIZE), Some(1024));
    let big = "b".repeat(2000);
    let headers = peer.request(1, &with(POST, &[("x-big", &big)]), false);
    peer.send(headers);
    let frames = peer.frames();
    assert!(
        matches!(&frames[..], [Frame::Headers(h), Frame::RstStream(r)]
            if h.stream_id == StreamId(1) && h.end_stream && *r == rst(1, ErrorCode::NO_ERROR)),
        "{frames:?}"
    );
    assert_eq!(sent_fields(&mut peer, &frames), owned(&[(":status", "431")]));
    let events = peer.events();
    assert!(requests(events).is_empty());
    peer.send(data(1, b"ignored", true));
    peer.expect_quiet();

    // With END_STREAM the 431 ends the exchange; no RST_STREAM is needed.
    let headers = peer.request(3, &with(GET, &[("x-big", &big)]), true);
    peer.send(headers);
    let frames = peer.frames();
    assert!(
        matches!(&frames[..], [Frame::Headers(h)] if h.stream_id == StreamId(3) && h.end_stream),
        "{frames:?}"
    );
    assert!(requests(peer.events()).is_empty());

    // The next request's block refers to entries the refused ones inserted.
    let headers = peer.request(5, GET, true);
    assert!(needs_dynamic_table(&headers.fragment));
    peer.send(headers);
    let (id, _, _) = one_request(peer.events());
    assert_eq!(id, StreamId(5));
    assert_eq!(peer.conn.active_streams(), 1);
    peer.expect_alive();
}

#[test]
fn rfc9113_6_5_2_response_over_max_header_list_size_resets_the_stream() {
    // §6.5.2: the client too bounds the header lists it accepts; the stream is reset,
    // the connection lives on.
    let mut config = Config::default();
    config.max_header_list_size = 1024;
    let mut peer = Peer::client_with(config);
    peer.handshake();
    let id = open_get(&mut peer);
    let block = peer.block(&[(":status", "200"), ("x-big", &"b".repeat(2000))]);
    peer.send(Headers::new(id, block, true));
    assert_eq!(peer.frames(), vec![reset_frame(id.0, ErrorCode::PROTOCOL_ERROR)]);
    let events = peer.events();
    assert!(
        matches!(&events[..], [Event::Reset { initiator: Initiator::Local, .. }]),
        "{events:?}"
    );
    assert_client_still_works(&mut peer);
}

#[test]
fn rfc9113_6_2_headers_with_valid_priority_fields_are_otherwise_ignored() {
    // §5.3.2: the deprecated priority fields of HEADERS are parsed, then ignored.
    let mut peer = server();
    let block = peer.block(GET);
    let mut headers = Headers::new(StreamId(1), block, true);
    headers.priority = Some(PrioritySpec { dependency: StreamId(0), exclusive: true, weight: 256 });
    peer.send(headers);
    let (id, _, _) = one_request(peer.events());
    assert_eq!(id, StreamId(1));
    peer.expect_quiet();
}

/// Repeated fields arrive as indexes into the peer's dynamic table, and the server checks a
/// table entry once and reuses the result: a repeat must come out the same every time — a
/// valid field intact, an invalid one refused (§8.2.1), a special one (`host`) still
/// checked against the rest of the message.
#[test]
fn repeated_indexed_fields_keep_their_outcome() {
    let mut peer = server();
    let mut id = 1;
    for round in 0..3 {
        let fields = with(GET, &[("user-agent", "probe/1.0"), ("x-tag", "blue")]);
        let headers = peer.request(id, &fields, true);
        peer.send(headers);
        let (_, request, _) = one_request(peer.events());
        let got: Vec<_> =
            request.headers().iter().map(|(n, v)| (n.as_str(), v.to_str().unwrap())).collect();
        assert_eq!(got, [("user-agent", "probe/1.0"), ("x-tag", "blue")], "round {round}");
        peer.frames();
        id += 2;

        assert_request_malformed(&mut peer, id, &with(GET, &[("x-bad", "a\0b")]));
        id += 2;

        // A host that disagrees with :authority (§8.3.1), sent from the table after round 0.
        assert_request_malformed(&mut peer, id, &with(GET, &[("host", "other.example")]));
        id += 2;
    }
    peer.expect_alive();
}

#[test]
fn rfc9113_10_5_1_heads_over_the_peers_max_header_list_size_are_not_sent() {
    // RFC 9113 §6.5.2, §10.5.1: SETTINGS_MAX_HEADER_LIST_SIZE announces the largest field
    // section the peer accepts (name + value + 32 per field). A larger head would only be
    // refused there: the command fails before anything is sent.
    let limit = Settings::new().with(SettingId::MAX_HEADER_LIST_SIZE, 200);
    let big = http::HeaderValue::from_bytes(&[b'v'; 300]).unwrap();
    let too_large =
        Err(UserError::InvalidMessage("head larger than the peer's SETTINGS_MAX_HEADER_LIST_SIZE"));

    // Client: a request head.
    let mut peer = Peer::client();
    peer.handshake_with(limit.clone());
    let mut request = get("http://example.com/");
    request.headers_mut().insert("x-big", big.clone());
    assert_eq!(peer.conn.send_request(request, true), too_large.clone().map(|()| StreamId(1)));
    peer.expect_silence();
    // A small one still goes, on the first stream id.
    assert_eq!(peer.conn.send_request(get("http://example.com/"), true), Ok(StreamId(1)));

    // Server: a response head and trailers; the content-length we add counts too.
    let mut peer = Peer::server();
    peer.handshake_with(limit);
    peer.open_stream(1);
    let mut response = status(200);
    response.headers_mut().insert("x-big", big.clone());
    assert_eq!(peer.conn.send_response(StreamId(1), response, false), too_large);
    peer.expect_silence();
    let mut response = status(200);
    let fits = http::HeaderValue::from_bytes(&[b'v'; 90]).unwrap(); // 42 + 5 + 90 + 32
    response.headers_mut().insert("x-big", fits.clone());
    assert_eq!(
        peer.conn.send_response_with_length(StreamId(1), response.clone(), 1 << 40, false),
        too_large,
        "with content-length (14 + 13 + 32) it no longer fits"
    );
    assert_eq!(peer.conn.send_response(StreamId(1), response, false), Ok(()));
    peer.frames();
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-big", big);
    assert_eq!(peer.conn.send_trailers(StreamId(1), trailers), too_large);
    peer.expect_silence();
}

#[test]
fn rfc9113_8_3_1_request_targets_and_case_insensitive_tokens() {
    // Each request: its :method, its other fields, and whether it is well-formed.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
    let cases: &[Case<'_>] = &[
        // §8.2.2: `te: trailers` is a token, so any case (RFC 9110 §10.1.4).
        (
            "GET",
            &[
                (":scheme", "https"),
                (":authority", "a.example"),
                (":path", "/"),
                ("te", "Trailers"),
            ],
            true,
        ),
        // §8.3.1: host and :authority agree when they name the same host in any case.
        (
            "GET",
            &[
                (":scheme", "https"),
                (":authority", "a.example"),
                (":path", "/"),
                ("host", "A.Example"),
            ],
            true,
        ),
        // ... and every host field must agree, not just the last.
        (
            "GET",
            &[
                (":scheme", "https"),
                (":authority", "a.example"),
                (":path", "/"),
                ("host", "b.example"),
                ("host", "a.example"),
            ],
            false,
        ),
        // §8.3.1: an http(s) :path is origin-form, or `*` for OPTIONS only.
        ("GET", &[(":scheme", "https"), (":authority", "a.example"), (":path", "foo")], false),
        ("GET", &[(":scheme", "https"), (":authority", "a.example"), (":path", "?q")], false),
        ("GET", &[(":scheme", "http"), (":authority", "a.example"), (":path", "*")], false),
        ("OPTIONS", &[(":scheme", "https"), (":authority", "a.example"), (":path", "*")], true),
        // §8.3.1: no userinfo in an http(s) :authority.
        ("GET", &[(":scheme", "https"), (":authority", "user@a.example"), (":path", "/")], false),
        ("GET", &[(":scheme", "https"), (":path", "/"), ("host", "user@a.example")], false),
    ];
    for (method, rest, valid) in cases {
        let mut peer = Peer::server();
        peer.handshake();
        let mut fields = vec![(":method", *method)];
        fields.extend_from_slice(rest);
        let head = peer.request(1, &fields, true);
        peer.send(head);
        let events = peer.events();
        if *valid {
            peer.expect_quiet();
            assert!(matches!(&events[..], [Event::Request { .. }]), "{fields:?}: {events:?}");
        } else {
            peer.expect_reset(1, ErrorCode::PROTOCOL_ERROR);
            assert!(!events.iter().any(|e| matches!(e, Event::Request { .. })), "{fields:?}");
        }
    }
}

#[test]
fn rfc9113_8_3_1_a_target_with_a_query_but_no_path_is_sent_origin_form() {
    // §8.3.1: an http(s) :path is origin-form; `http://example.com?q` has the path "" and the
    // query "q", so :path is "/?q", never "?q".
    let mut peer = Peer::client();
    peer.handshake();
    let request = http::Request::get("http://example.com?q=1").body(()).unwrap();
    peer.conn.send_request(request, true).unwrap();
    let frames = peer.frames();
    let Some(Frame::Headers(h)) = frames.first() else { panic!("{frames:?}") };
    let fields = peer.decode(&h.fragment.clone());
    assert!(fields.contains(&(":path".to_string(), "/?q=1".to_string())), "{fields:?}");
}
