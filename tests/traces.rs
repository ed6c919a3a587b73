//! Real HTTP/2 connections (curl, nghttp and h2load against nghttpd, recorded byte for
//! byte in ../shared/testdata/traces) replayed through the core in many chunkings: a server
//! fed the client's bytes sees exactly the recorded requests; a client that sent the same
//! requests, fed the server's bytes, sees every response complete.

use bytes::Bytes;
use h2proto::frame::StreamId;
use h2proto::{Config, Connection, Event};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn trace(name: &str) -> Bytes {
    let dir = std::env::var("H2PROTO_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"));
    let path = dir.join("traces").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).into()
}

/// Chunkings to try: whole, 1 byte, 7 bytes, 1000 bytes, and a fixed irregular pattern.
fn chunkings(len: usize) -> Vec<Vec<usize>> {
    let mut irregular = Vec::new();
    let (mut at, mut step) = (0, 1);
    while at < len {
        irregular.push(step.min(len - at));
        at += step;
        step = (step * 7 + 3) % 4099 + 1;
    }
    vec![vec![len], vec![1; len], split(len, 7), split(len, 1000), irregular]
}

fn split(len: usize, size: usize) -> Vec<usize> {
    (0..len).step_by(size).map(|at| size.min(len - at)).collect()
}

/// What a stream carried: method and path (server side) or status (client side), body.
#[derive(Debug, PartialEq, Eq, Default, Clone)]
struct Message {
    head: String,
    body: usize,
    ended: bool,
}

fn feed(
    conn: &mut Connection,
    bytes: &Bytes,
    chunks: &[usize],
    messages: &mut BTreeMap<u32, Message>,
) {
    let mut at = 0;
    let now = std::time::Instant::now();
    for &n in chunks {
        conn.recv(bytes.slice(at..at + n), now).expect("the trace is valid HTTP/2");
        at += n;
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Request { stream_id, request, end_stream } => {
                    let m = messages.entry(stream_id.0).or_default();
                    m.head = format!("{} {}", request.method(), request.uri().path());
                    m.ended |= end_stream;
                }
                Event::Response { stream_id, response, end_stream } => {
                    let m = messages.entry(stream_id.0).or_default();
                    m.head = response.status().as_str().to_string();
                    m.ended |= end_stream;
                }
                Event::Data { stream_id, end_stream } => {
                    let m = messages.entry(stream_id.0).or_default();
                    m.ended |= end_stream;
                }
                Event::Reset { stream_id, .. } => panic!("stream {stream_id} reset"),
                Event::Closed { error: Some(e) } => panic!("connection failed: {e}"),
                _ => {}
            }
        }
        let ids: Vec<u32> = messages.keys().copied().collect();
        for id in ids {
            while let Some(data) = conn.read_data(StreamId(id)) {
                messages.get_mut(&id).unwrap().body += data.len();
            }
        }
        // The peer in a trace reads everything we write.
        let _ = h2proto::buf_to_vec(conn.transmit());
    }
    assert_eq!(at, bytes.len());
}

fn server_replay(name: &str) -> BTreeMap<u32, Message> {
    let input = trace(&format!("{name}.client-to-server.bin"));
    let mut first = None;
    for chunks in chunkings(input.len()) {
        let mut server = Connection::server(Config::default());
        let mut messages = BTreeMap::new();
        feed(&mut server, &input, &chunks, &mut messages);
        match &first {
            None => first = Some(messages),
            Some(expected) => {
                assert_eq!(&messages, expected, "{name}: chunking changed the result")
            }
        }
    }
    first.unwrap()
}

fn client_replay(name: &str, requests: &[(&str, &str)]) -> BTreeMap<u32, Message> {
    let input = trace(&format!("{name}.server-to-client.bin"));
    let mut first = None;
    for chunks in chunkings(input.len()) {
        let mut client = Connection::client(Config::default());
        for (method, path) in requests {
            let request = http::Request::builder()
                .method(*method)
                .uri(format!("http://127.0.0.1:8080{path}"))
                .body(())
                .unwrap();
            client.send_request(request, *method == "GET").unwrap();
        }
        let mut messages = BTreeMap::new();
        feed(&mut client, &input, &chunks, &mut messages);
        match &first {
            None => first = Some(messages),
            Some(expected) => {
                assert_eq!(&messages, expected, "{name}: chunking changed the result")
            }
        }
    }
    first.unwrap()
}

fn msg(head: &str, body: usize) -> Message {
    Message { head: head.into(), body, ended: true }
}

#[test]
fn curl_get_server_side() {
    assert_eq!(server_replay("curl-get"), BTreeMap::from([(1, msg("GET /index.html", 0))]));
}

#[test]
fn curl_post_server_side() {
    assert_eq!(server_replay("curl-post"), BTreeMap::from([(1, msg("POST /index.html", 7))]));
}

#[test]
fn nghttp_multi_server_side() {
    let expected = BTreeMap::from([
        (13, msg("GET /index.html", 0)),
        (15, msg("GET /a1.css", 0)),
        (17, msg("GET /a2.css", 0)),
        (19, msg("GET /a3.css", 0)),
        (21, msg("GET /big.bin", 0)),
    ]);
    assert_eq!(server_replay("nghttp-multi"), expected);
}

#[test]
fn nghttp_upload_server_side() {
    assert_eq!(
        server_replay("nghttp-upload"),
        BTreeMap::from([(13, msg("POST /index.html", 200_000))])
    );
}

#[test]
fn h2load_server_side() {
    let expected: BTreeMap<u32, Message> =
        (0..100).map(|i| (2 * i + 1, msg("GET /a5.css", 0))).collect();
    assert_eq!(server_replay("h2load-m10"), expected);
}

#[test]
fn curl_get_client_side() {
    assert_eq!(
        client_replay("curl-get", &[("GET", "/index.html")]),
        BTreeMap::from([(1, msg("200", 9))])
    );
}

#[test]
fn curl_post_client_side() {
    assert_eq!(
        client_replay("curl-post", &[("POST", "/index.html")]),
        BTreeMap::from([(1, msg("200", 9))])
    );
}

/// nghttp used streams 3-11 for RFC 7540 priority groups, so its requests start at 13; our
/// client opens 1-11 first (never answered) to line the ids up.
fn nghttp_requests(real: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut requests = vec![("GET", "/placeholder"); 6];
    requests.extend_from_slice(real);
    requests
}

#[test]
fn nghttp_multi_client_side() {
    let requests = nghttp_requests(&[
        ("GET", "/index.html"),
        ("GET", "/a1.css"),
        ("GET", "/a2.css"),
        ("GET", "/a3.css"),
        ("GET", "/big.bin"),
    ]);
    let got: BTreeMap<u32, Message> =
        client_replay("nghttp-multi", &requests).into_iter().filter(|(id, _)| *id >= 13).collect();
    let expected = BTreeMap::from([
        (13, msg("200", 9)),
        (15, msg("200", 8)),
        (17, msg("200", 8)),
        (19, msg("200", 8)),
        (21, msg("200", 200_000)),
    ]);
    assert_eq!(got, expected);
}

#[test]
fn nghttp_upload_client_side() {
    let requests = nghttp_requests(&[("POST", "/index.html")]);
    let got: BTreeMap<u32, Message> =
        client_replay("nghttp-upload", &requests).into_iter().filter(|(id, _)| *id >= 13).collect();
    assert_eq!(got, BTreeMap::from([(13, msg("200", 9))]));
}

#[test]
fn h2load_client_side() {
    let requests = vec![("GET", "/a5.css"); 100];
    let expected: BTreeMap<u32, Message> = (0..100).map(|i| (2 * i + 1, msg("200", 8))).collect();
    assert_eq!(client_replay("h2load-m10", &requests), expected);
}
