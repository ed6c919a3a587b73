//! RFC 9113 §8 (HTTP semantics) rules that `conn_headers.rs` and `conn_push.rs` leave
//! unproven: what we send (field block framing, trailers, names, pseudo-header fields and
//! the request target), a complete response followed by RST_STREAM NO_ERROR, an early
//! response, and CONNECT streams that carry no more field blocks.
//!
//! Each test plays the peer with explicit frames, as in `conn_headers.rs`, and is named
//! for the section it proves; the requirement ids are in `conformance/requirements/`.

mod support;

use bytes::Bytes;
use h2proto::frame::{Data, Frame, Headers, StreamId};
use h2proto::{ErrorCode, Event, Initiator, UserError};
use support::*;

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

/// The decoded field blocks of the HEADERS frames in `frames` (each block whole, in one
/// frame), in order: the peer's decoder sees them as the connection's encoder made them.
fn blocks(peer: &mut Peer, frames: &[Frame]) -> Vec<Vec<(String, String)>> {
    let fragments: Vec<Bytes> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Headers(h) => {
                assert!(h.end_headers, "a block split in CONTINUATION: {frames:?}");
                Some(h.fragment.clone())
            }
            _ => None,
        })
        .collect();
    fragments.iter().map(|b| peer.decode(b)).collect()
}

/// The one field block sent by `send`, decoded.
#[track_caller]
fn sent_block(peer: &mut Peer) -> Vec<(String, String)> {
    let frames = peer.frames();
    let mut all = blocks(peer, &frames);
    assert_eq!(all.len(), 1, "{frames:?}");
    all.remove(0)
}

fn names(fields: &[(String, String)]) -> Vec<&str> {
    fields.iter().map(|(n, _)| n.as_str()).collect()
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

/// §8.3: pseudo-header fields first, each at most once; true if the block has them so.
fn pseudo_first_and_unique(fields: &[(String, String)]) -> bool {
    let first_regular = fields.iter().position(|(n, _)| !n.starts_with(':'));
    let pseudo: Vec<&str> = names(fields).into_iter().filter(|n| n.starts_with(':')).collect();
    let mut unique = pseudo.clone();
    unique.sort_unstable();
    unique.dedup();
    first_regular.is_none_or(|at| pseudo.len() == at) && unique.len() == pseudo.len()
}

/// A value of `len` characters that Huffman coding cannot shrink much.
fn incompressible(len: usize) -> String {
    (0..len).map(|i| char::from(b'!' + (i * 7 % 90) as u8)).collect()
}

/// Asserts that in `frames` every HEADERS without END_HEADERS is followed directly by
/// CONTINUATION frames of the same stream up to the one with END_HEADERS; returns how
/// many field blocks were split.
#[track_caller]
fn assert_blocks_contiguous(frames: &[Frame]) -> usize {
    let mut open: Option<StreamId> = None;
    let mut split = 0;
    for frame in frames {
        match (open, frame) {
            (Some(id), Frame::Continuation(c)) if c.stream_id == id => {
                if c.end_headers {
                    open = None;
                }
            }
            (Some(id), other) => panic!("{other:?} inside the field block of stream {id:?}"),
            (None, Frame::Headers(h)) if !h.end_headers => {
                open = Some(h.stream_id);
                split += 1;
            }
            (None, Frame::Continuation(c)) => panic!("CONTINUATION outside a block: {c:?}"),
            (None, _) => {}
        }
    }
    assert!(open.is_none(), "a field block was left open: {frames:?}");
    split
}

#[test]
fn rfc9113_8_1_field_block_frames_are_never_interleaved() {
    // §8.1: no other frame, of any stream, comes between a HEADERS frame and its
    // CONTINUATION frames, even with DATA of another stream waiting to go out.
    let big = incompressible(40_000);

    // Server: a response body on stream 1 is queued when stream 3's long head is sent.
    let mut peer = server();
    let head = peer.request(1, POST, true);
    peer.send(head);
    let head = peer.get(3, "/");
    peer.send(head);
    peer.events();
    peer.conn.send_response(StreamId(1), status(200), false).unwrap();
    peer.conn.send_data(StreamId(1), Bytes::from(vec![b'd'; 30_000]), true).unwrap();
    let response = http::Response::builder().status(200).header("x-big", &big).body(()).unwrap();
    peer.conn.send_response(StreamId(3), response, true).unwrap();
    let frames = peer.frames();
    assert!(frames.iter().any(|f| matches!(f, Frame::Data(d) if d.stream_id == StreamId(1))));
    assert_eq!(assert_blocks_contiguous(&frames), 1, "{frames:?}");

    // Client: an upload on stream 1 is queued when stream 3's long head is sent.
    let mut peer = client();
    let upload = http::Request::post("https://example.com/up").body(()).unwrap();
    let first = peer.conn.send_request(upload, false).unwrap();
    peer.conn.send_data(first, Bytes::from(vec![b'u'; 30_000]), true).unwrap();
    let request = http::Request::get("https://example.com/").header("x-big", &big).body(());
    peer.conn.send_request(request.unwrap(), true).unwrap();
    let frames = peer.frames();
    assert!(frames.iter().any(|f| matches!(f, Frame::Data(d) if d.stream_id == first)));
    assert_eq!(assert_blocks_contiguous(&frames), 1, "{frames:?}");
}

#[test]
fn rfc9113_8_1_sent_trailers_carry_no_pseudo_header_fields() {
    // §8.1, §8.3: trailers are regular fields only. A trailer map cannot even hold a
    // pseudo-header name, and what is sent decodes to regular fields alone.
    assert!(http::HeaderName::from_bytes(b":status").is_err());
    assert!(http::HeaderName::from_bytes(b":path").is_err());
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", "0".parse().unwrap());
    trailers.insert("x-checksum", "abc".parse().unwrap());

    let mut peer = server();
    let head = peer.request(1, POST, true);
    peer.send(head);
    peer.events();
    peer.conn.send_response(StreamId(1), status(200), false).unwrap();
    peer.conn.send_trailers(StreamId(1), trailers.clone()).unwrap();
    let frames = peer.frames();
    let all = blocks(&mut peer, &frames);
    assert_eq!(all.len(), 2, "{frames:?}");
    assert_eq!(pairs(&all[1]), [("grpc-status", "0"), ("x-checksum", "abc")]);
    assert!(matches!(frames.last(), Some(Frame::Headers(h)) if h.end_stream), "{frames:?}");

    let mut peer = client();
    let upload = http::Request::post("https://example.com/up").body(()).unwrap();
    let id = peer.conn.send_request(upload, false).unwrap();
    peer.conn.send_trailers(id, trailers).unwrap();
    let frames = peer.frames();
    let all = blocks(&mut peer, &frames);
    assert_eq!(all.len(), 2, "{frames:?}");
    assert_eq!(pairs(&all[1]), [("grpc-status", "0"), ("x-checksum", "abc")]);
}

#[test]
fn rfc9113_8_1_reset_no_error_after_the_response_keeps_it() {
    // §8.1: a server that has sent its whole response may ask the client to stop sending
    // the request with RST_STREAM NO_ERROR; the client keeps the response, body included,
    // even when the reset arrives before the application has read it.
    let mut peer = client();
    let upload = http::Request::post("https://example.com/up").body(()).unwrap();
    let id = peer.conn.send_request(upload, false).unwrap();
    peer.conn.send_data(id, Bytes::from_static(b"part of the upload"), false).unwrap();
    peer.frames();
    let block = peer.block(&[(":status", "413"), ("content-length", "8")]);
    peer.send(Headers::new(id, block, false));
    peer.send(Data::new(id, "too big!", true));
    peer.send(rst(id.0, ErrorCode::NO_ERROR));
    peer.expect_quiet();
    let events = peer.events();
    assert!(
        matches!(&events[..], [
            Event::Response { response, end_stream: false, .. },
            Event::Data { end_stream: true, .. },
            Event::Reset { error_code: ErrorCode::NO_ERROR, initiator: Initiator::Remote, .. },
        ] if response.status() == 413),
        "{events:?}"
    );
    assert_eq!(Pair::read_all(&mut peer.conn, id), b"too big!");
    // The request is over: nothing more may be sent on the stream.
    assert!(peer.conn.send_data(id, Bytes::from_static(b"more"), true).is_err());
    assert!(peer.frames().is_empty());
    peer.expect_alive();

    // The same in memory, end to end: the server answers before reading the upload.
    let mut pair = Pair::new();
    let upload = http::Request::post("https://example.com/up").body(()).unwrap();
    let id = pair.client.send_request(upload, false).unwrap();
    pair.drive();
    pair.take_server_events();
    pair.server.send_response(id, status(200), false).unwrap();
    pair.server.send_data(id, Bytes::from_static(b"early answer"), true).unwrap();
    pair.drive();
    // The client has not read the body yet when the reset comes.
    pair.server.reset(id, ErrorCode::NO_ERROR).unwrap();
    pair.drive();
    let events = pair.take_client_events();
    assert!(
        events.iter().any(|e| matches!(e, Event::Reset { error_code: ErrorCode::NO_ERROR, .. })),
        "{events:?}"
    );
    assert_eq!(Pair::read_all(&mut pair.client, id), b"early answer");
}

#[test]
fn rfc9113_8_1_1_server_may_answer_before_the_request_ends() {
    // §8.1.1: a server may send its final response before the whole request arrived; the
    // rest of the request is still received.
    let mut peer = server();
    let head = peer.request(1, POST, false);
    peer.send(head);
    peer.send(data(1, b"first ", false));
    peer.events();
    peer.conn.send_response(StreamId(1), status(202), true).unwrap();
    let frames = peer.frames();
    assert!(matches!(&frames[..], [Frame::Headers(h)] if h.end_stream), "{frames:?}");
    peer.send(data(1, b"second", true));
    peer.expect_quiet();
    let events = peer.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Data { stream_id: StreamId(1), end_stream: true })),
        "{events:?}"
    );
    assert_eq!(Pair::read_all(&mut peer.conn, StreamId(1)), b"first second");
    assert_eq!(peer.conn.active_streams(), 0);
}

#[test]
fn rfc9113_8_2_sent_field_names_are_lowercase() {
    // §8.2: field names go out in lowercase, however the application wrote them.
    let mut peer = client();
    let request = http::Request::get("https://example.com/")
        .header("X-Custom-Name", "v")
        .header("Accept-Language", "en")
        .body(())
        .unwrap();
    peer.conn.send_request(request, true).unwrap();
    let fields = sent_block(&mut peer);
    assert!(fields.contains(&("x-custom-name".into(), "v".into())), "{fields:?}");
    assert!(fields.contains(&("accept-language".into(), "en".into())), "{fields:?}");

    let mut peer = server();
    let head = peer.get(1, "/");
    peer.send(head);
    peer.events();
    let response = http::Response::builder()
        .status(200)
        .header("Content-Type", "text/plain")
        .header("X-Request-ID", "7")
        .body(())
        .unwrap();
    peer.conn.send_response(StreamId(1), response, true).unwrap();
    let fields = sent_block(&mut peer);
    for (name, _) in &fields {
        assert!(!name.bytes().any(|b| b.is_ascii_uppercase()), "{fields:?}");
    }
    assert_eq!(names(&fields), [":status", "content-type", "x-request-id"]);
}

#[test]
fn rfc9113_8_3_sent_pseudo_header_fields_come_first() {
    // §8.3, §8.3.2: a sent block has its pseudo-header fields before every regular field,
    // each once, only those of its kind; every response, interim ones too, has :status.
    let mut peer = server();
    let head = peer.get(1, "/");
    peer.send(head);
    peer.events();
    let early = http::Response::builder().status(103).header("link", "</a.css>").body(());
    peer.conn.send_response(StreamId(1), early.unwrap(), false).unwrap();
    let response = http::Response::builder()
        .status(200)
        .header("x-a", "1")
        .header("cache-control", "no-store")
        .body(())
        .unwrap();
    peer.conn.send_response_with_length(StreamId(1), response, 4, false).unwrap();
    let frames = peer.frames();
    let all = blocks(&mut peer, &frames);
    assert_eq!(all.len(), 2, "{frames:?}");
    assert_eq!(pairs(&all[0]), [(":status", "103"), ("link", "</a.css>")]);
    assert_eq!(
        pairs(&all[1]),
        [(":status", "200"), ("x-a", "1"), ("cache-control", "no-store"), ("content-length", "4")]
    );

    let mut peer = client();
    let request = http::Request::post("https://example.com/p?q=1")
        .header("priority", "u=1")
        .header("content-type", "text/plain")
        .body(())
        .unwrap();
    peer.conn.send_request(request, false).unwrap();
    let fields = sent_block(&mut peer);
    assert!(pseudo_first_and_unique(&fields), "{fields:?}");
    assert_eq!(
        pairs(&fields),
        [
            (":method", "POST"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "/p?q=1"),
            ("priority", "u=1"),
            ("content-type", "text/plain"),
        ]
    );
}

#[test]
fn rfc9113_8_3_1_client_without_authority_sends_no_authority() {
    // §8.3.1: a request with no authority information carries no :authority.
    let mut peer = client();
    peer.conn.send_request(get("/only/a/path"), true).unwrap();
    let fields = sent_block(&mut peer);
    assert_eq!(
        pairs(&fields),
        [(":method", "GET"), (":scheme", "https"), (":path", "/only/a/path")]
    );
}

#[test]
fn rfc9113_8_3_1_client_never_sends_a_host_field() {
    // §8.3.1: a client sends no host field that differs from :authority; ours sends none
    // at all, the authority goes in :authority alone.
    let mut peer = client();
    let request =
        http::Request::get("https://a.example/").header("host", "b.example").body(()).unwrap();
    peer.conn.send_request(request, true).unwrap();
    let fields = sent_block(&mut peer);
    assert_eq!(
        pairs(&fields),
        [(":method", "GET"), (":scheme", "https"), (":authority", "a.example"), (":path", "/")]
    );
}

#[test]
fn rfc9113_8_3_1_options_asterisk_form() {
    // §8.3.1: a server-wide OPTIONS (no path) is sent with :path "*"; the server takes it.
    let mut pair = Pair::new();
    let request = http::Request::options("*").header("host", "example.com").body(()).unwrap();
    let id = pair.client.send_request(request, true).unwrap();
    pair.drive();
    let events = pair.take_server_events();
    let Some(Event::Request { request, .. }) = events.first() else { panic!("{events:?}") };
    assert_eq!(request.method(), http::Method::OPTIONS);
    assert_eq!(request.uri().path(), "*");
    assert_eq!(request.uri().authority().map(|a| a.as_str()), Some("example.com"));
    assert_eq!(id, StreamId(1));

    let mut peer = client();
    let request = http::Request::options("*").header("host", "example.com").body(()).unwrap();
    peer.conn.send_request(request, true).unwrap();
    let fields = sent_block(&mut peer);
    assert_eq!(
        pairs(&fields),
        [
            (":method", "OPTIONS"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "*")
        ]
    );
}

#[test]
fn rfc9113_8_5_headers_on_a_connected_stream_is_a_stream_error() {
    // §8.5: after the CONNECT request and its 2xx, the stream carries DATA (and stream
    // management frames) only; a HEADERS frame on it is a stream error.
    let connect = [(":method", "CONNECT"), (":authority", "upstream.example:443")];
    let mut peer = server();
    let head = peer.request(1, &connect, false);
    peer.send(head);
    peer.events();
    peer.conn.send_response(StreamId(1), status(200), false).unwrap();
    peer.frames();
    peer.send(data(1, b"tunnelled bytes", false));
    peer.expect_quiet();
    let trailers = peer.request(1, &[("x-t", "1")], true);
    peer.send(trailers);
    assert_eq!(peer.frames(), vec![Frame::RstStream(rst(1, ErrorCode::PROTOCOL_ERROR))]);
    let events = peer.events();
    assert!(!events.iter().any(|e| matches!(e, Event::Trailers { .. })), "{events:?}");
    // The connection, and its HPACK context, live on.
    let head = peer.get(3, "/");
    peer.send(head);
    let events = peer.events();
    assert!(matches!(&events[..], [Event::Request { stream_id: StreamId(3), .. }]), "{events:?}");

    let mut peer = client();
    let request = http::Request::connect("upstream.example:443").body(()).unwrap();
    let id = peer.conn.send_request(request, false).unwrap();
    peer.frames();
    let response = peer.response(id.0, "200", false);
    peer.send(response);
    peer.send(Data::new(id, "tunnelled bytes", false));
    peer.expect_quiet();
    let block = peer.block(&[("x-t", "1")]);
    peer.send(Headers::new(id, block, true));
    assert_eq!(peer.frames(), vec![Frame::RstStream(rst(id.0, ErrorCode::PROTOCOL_ERROR))]);
    let events = peer.events();
    assert!(!events.iter().any(|e| matches!(e, Event::Trailers { .. })), "{events:?}");
    peer.expect_alive();

    // A plain request's trailers are still trailers.
    let mut peer = server();
    let head = peer.request(1, POST, false);
    peer.send(head);
    let trailers = peer.request(1, &[("x-t", "1")], true);
    peer.send(trailers);
    peer.expect_quiet();
    assert!(peer.events().iter().any(|e| matches!(e, Event::Trailers { .. })));
}

#[test]
fn rfc9113_8_5_no_trailers_on_a_connect_stream() {
    // §8.5: we send no HEADERS frame on a CONNECT stream after its heads: trailers are
    // refused there, and nothing is written.
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-t", "1".parse().unwrap());

    let mut peer = client();
    let request = http::Request::connect("upstream.example:443").body(()).unwrap();
    let id = peer.conn.send_request(request, false).unwrap();
    peer.frames();
    assert!(matches!(
        peer.conn.send_trailers(id, trailers.clone()),
        Err(UserError::InvalidState(..))
    ));
    assert!(peer.frames().is_empty(), "nothing written");
    // DATA is what the tunnel carries.
    peer.conn.send_data(id, Bytes::from_static(b"bytes"), true).unwrap();
    let frames = peer.frames();
    assert!(matches!(&frames[..], [Frame::Data(d)] if d.end_stream), "{frames:?}");

    let mut peer = server();
    let head = peer.request(1, &[(":method", "CONNECT"), (":authority", "u.example:443")], false);
    peer.send(head);
    peer.events();
    peer.conn.send_response(StreamId(1), status(200), false).unwrap();
    peer.frames();
    assert!(matches!(
        peer.conn.send_trailers(StreamId(1), trailers),
        Err(UserError::InvalidState(..))
    ));
    assert!(peer.frames().is_empty(), "nothing written");
}
