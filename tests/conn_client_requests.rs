//! The request head a client sends: the target completed from the connection's origin
//! (RFC 9113 §8.3.1) and a known body length declared as content-length (§8.1.1, RFC 9110
//! §8.6).
//!
//! The test plays the server with explicit frames and decodes the HEADERS block the client
//! under test wrote; the last tests run a real server core against it.

mod support;

use bytes::Bytes;
use h2proto::frame::{Frame, StreamId};
use h2proto::{Event, Origin};
use http::{Method, Request};
use support::*;

fn client() -> Peer {
    let mut peer = Peer::client();
    peer.handshake();
    peer
}

fn origin(uri: &str) -> Origin {
    Origin::of(&uri.parse().unwrap()).unwrap()
}

fn request(method: Method, uri: &str) -> Request<()> {
    Request::builder().method(method).uri(uri).body(()).unwrap()
}

/// The fields of the one HEADERS frame the client wrote.
fn sent_head(peer: &mut Peer) -> Vec<(String, String)> {
    let frames = peer.frames();
    let blocks: Vec<Bytes> = frames
        .into_iter()
        .filter_map(|f| match f {
            Frame::Headers(h) => Some(h.fragment),
            _ => None,
        })
        .collect();
    assert_eq!(blocks.len(), 1, "one HEADERS frame");
    peer.decode(&blocks[0])
}

fn field<'a>(head: &'a [(String, String)], name: &str) -> Option<&'a str> {
    head.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

// ----- The target: §8.3.1 -----

/// A path-only request on a connection with an origin gets the origin's `:scheme` and
/// `:authority`, in the pseudo-header order of §8.3.
#[test]
fn a_path_only_request_is_completed_from_the_origin() {
    let mut peer = client();
    peer.conn.set_origin(origin("http://127.0.0.1:8080"));
    assert_eq!(peer.conn.origin(), Some(&origin("http://127.0.0.1:8080")));
    peer.conn.send_request(request(Method::GET, "/status?x=1"), true).unwrap();
    assert_eq!(
        sent_head(&mut peer),
        pairs(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "127.0.0.1:8080"),
            (":path", "/status?x=1"),
        ])
    );
}

/// An absolute URI is its own target: the origin does not override it.
#[test]
fn an_absolute_uri_is_sent_as_it_is() {
    let mut peer = client();
    peer.conn.set_origin(origin("http://127.0.0.1:8080"));
    peer.conn.send_request(request(Method::GET, "https://example.com/a"), true).unwrap();
    let head = sent_head(&mut peer);
    assert_eq!(field(&head, ":scheme"), Some("https"));
    assert_eq!(field(&head, ":authority"), Some("example.com"));
    assert_eq!(field(&head, ":path"), Some("/a"));
}

/// A `host` header the caller set names the authority (it becomes `:authority`, §8.3.1),
/// ahead of the connection's origin; the scheme still comes from the origin.
#[test]
fn a_host_header_wins_over_the_origin() {
    let mut peer = client();
    peer.conn.set_origin(origin("https://203.0.113.7:443"));
    let mut req = request(Method::GET, "/");
    req.headers_mut().insert("host", "example.org".parse().unwrap());
    peer.conn.send_request(req, true).unwrap();
    let head = sent_head(&mut peer);
    assert_eq!(field(&head, ":scheme"), Some("https"));
    assert_eq!(field(&head, ":authority"), Some("example.org"));
    assert_eq!(field(&head, "host"), None, "host is carried as :authority only");
}

/// Without an origin, a path-only request keeps the old behaviour: `https` and no
/// `:authority` (the connection has nothing better to say).
#[test]
fn without_an_origin_a_path_only_request_has_no_authority() {
    let mut peer = client();
    peer.conn.send_request(request(Method::GET, "/"), true).unwrap();
    let head = sent_head(&mut peer);
    assert_eq!(field(&head, ":scheme"), Some("https"));
    assert_eq!(field(&head, ":authority"), None);
}

/// §8.5: a CONNECT request to `/`-less authority form is not touched by the origin: its
/// own authority is the tunnel's target.
#[test]
fn connect_keeps_its_own_authority() {
    let mut peer = client();
    peer.conn.set_origin(origin("http://127.0.0.1:8080"));
    peer.conn.send_request(request(Method::CONNECT, "example.com:443"), false).unwrap();
    assert_eq!(
        sent_head(&mut peer),
        pairs(&[(":method", "CONNECT"), (":authority", "example.com:443")])
    );
}

// ----- content-length: §8.1.1, RFC 9110 §8.6 -----

#[test]
fn a_known_length_is_declared_as_content_length() {
    let mut peer = client();
    peer.conn
        .send_request_with_length(request(Method::POST, "http://example.com/up"), 1234, false)
        .unwrap();
    let head = sent_head(&mut peer);
    assert_eq!(field(&head, "content-length"), Some("1234"));
    assert_eq!(head.iter().filter(|(n, _)| n == "content-length").count(), 1);
}

/// The caller's own content-length is sent, not a second one.
#[test]
fn the_heads_own_content_length_wins() {
    let mut peer = client();
    let mut req = request(Method::PUT, "http://example.com/up");
    req.headers_mut().insert("content-length", "7".parse().unwrap());
    peer.conn.send_request_with_length(req, 99, false).unwrap();
    let head = sent_head(&mut peer);
    let lengths: Vec<_> = head.iter().filter(|(n, _)| n == "content-length").collect();
    assert_eq!(lengths, [&("content-length".to_string(), "7".to_string())]);
}

/// An empty body: declared for a method whose content means something (POST), left out
/// for one that defines none (GET, ...).
#[test]
fn an_empty_body_is_declared_only_where_content_is_expected() {
    for (method, expected) in [
        (Method::POST, Some("0")),
        (Method::PUT, Some("0")),
        (Method::GET, None),
        (Method::HEAD, None),
        (Method::DELETE, None),
        (Method::OPTIONS, None),
    ] {
        let mut peer = client();
        peer.conn
            .send_request_with_length(request(method.clone(), "http://example.com/"), 0, true)
            .unwrap();
        let head = sent_head(&mut peer);
        assert_eq!(field(&head, "content-length"), expected, "{method}");
    }
    // A GET that does carry a body declares it.
    let mut peer = client();
    peer.conn
        .send_request_with_length(request(Method::GET, "http://example.com/"), 3, false)
        .unwrap();
    assert_eq!(field(&sent_head(&mut peer), "content-length"), Some("3"));
}

/// §8.5: a tunnel has no length, so CONNECT never gets one.
#[test]
fn connect_gets_no_content_length() {
    let mut peer = client();
    peer.conn
        .send_request_with_length(request(Method::CONNECT, "example.com:443"), 10, false)
        .unwrap();
    assert_eq!(field(&sent_head(&mut peer), "content-length"), None);
}

// ----- Against a server core -----

/// The server receives the completed target and the declared length, and the body that
/// matches it (§8.1.1: the server checks DATA against content-length).
#[test]
fn the_server_sees_the_origin_and_the_length() {
    let mut pair = Pair::new();
    pair.client.set_origin(origin("http://localhost:9000"));
    let id =
        pair.client.send_request_with_length(request(Method::POST, "/upload"), 5, false).unwrap();
    pair.client.send_data(id, Bytes::from_static(b"hello"), true).unwrap();
    pair.drive();
    let mut seen = None;
    for event in pair.take_server_events() {
        if let Event::Request { stream_id, request, .. } = event {
            seen = Some((stream_id, request));
        }
    }
    let (stream_id, request) = seen.expect("the server got the request");
    assert_eq!(stream_id, StreamId(1));
    assert_eq!(request.uri().to_string(), "http://localhost:9000/upload");
    assert_eq!(request.headers()["content-length"], "5");
    assert_eq!(Pair::read_all(&mut pair.server, stream_id), b"hello");
}

/// A declared length the body then breaks is caught by the server: the stream is reset
/// with PROTOCOL_ERROR (§8.1.1), which shows the header reached it as sent.
#[test]
fn a_body_shorter_than_declared_is_malformed_at_the_server() {
    let mut pair = Pair::new();
    let id = pair
        .client
        .send_request_with_length(request(Method::POST, "http://localhost/"), 10, false)
        .unwrap();
    pair.client.send_data(id, Bytes::from_static(b"short"), true).unwrap();
    pair.drive();
    let reset = pair.take_client_events().into_iter().any(|e| {
        matches!(e, Event::Reset { stream_id, error_code, .. }
            if stream_id == id && error_code == h2proto::ErrorCode::PROTOCOL_ERROR)
    });
    assert!(reset, "the server resets the malformed request");
}

// ----- An early response: §8.1 -----

/// A server may answer before the request body is complete and then reset the stream with
/// NO_ERROR to stop the upload (§8.1). When the response's DATA and the RST_STREAM arrive
/// in one read, the data reported in `Event::Data` is still there to read after the reset.
#[test]
fn a_complete_response_survives_the_reset_that_follows_it() {
    let mut pair = Pair::new();
    let id = pair.client.send_request(request(Method::POST, "http://a/up"), false).unwrap();
    pair.client.send_data(id, Bytes::from(vec![0u8; 100]), false).unwrap();
    pair.drive();
    pair.server.send_response(id, status(200), false).unwrap();
    pair.server.send_data(id, Bytes::from_static(b"early"), true).unwrap();
    let mut wire = h2proto::buf_to_vec(pair.server.transmit());
    pair.server.reset(id, h2proto::ErrorCode::NO_ERROR).unwrap();
    wire.extend(h2proto::buf_to_vec(pair.server.transmit()));
    pair.client.recv(Bytes::from(wire), pair.now).unwrap();
    let events: Vec<Event> = std::iter::from_fn(|| pair.client.poll_event()).collect();
    assert!(
        matches!(
            events[..],
            [
                Event::Response { .. },
                Event::Data { end_stream: true, .. },
                Event::Reset { error_code: h2proto::ErrorCode::NO_ERROR, .. },
            ]
        ),
        "{events:?}"
    );
    assert_eq!(Pair::read_all(&mut pair.client, id), b"early");
    // Read, the stream is forgotten; the upload can no longer send.
    assert!(pair.client.read_data(id).is_none());
    assert!(pair.client.send_data(id, Bytes::from_static(b"more"), true).is_err());
}

/// Data of a message the peer had not finished is dropped on its reset, as before: an
/// incomplete response is no response.
#[test]
fn an_incomplete_response_is_dropped_on_reset() {
    let mut pair = Pair::new();
    let id = pair.client.send_request(request(Method::GET, "http://a/"), true).unwrap();
    pair.drive();
    pair.server.send_response(id, status(200), false).unwrap();
    pair.server.send_data(id, Bytes::from_static(b"part"), false).unwrap();
    let mut wire = h2proto::buf_to_vec(pair.server.transmit());
    pair.server.reset(id, h2proto::ErrorCode::INTERNAL_ERROR).unwrap();
    wire.extend(h2proto::buf_to_vec(pair.server.transmit()));
    pair.client.recv(Bytes::from(wire), pair.now).unwrap();
    while pair.client.poll_event().is_some() {}
    assert!(pair.client.read_data(id).is_none());
}
