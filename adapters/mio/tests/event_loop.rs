//! The mio server and client over loopback TCP: many connections on one loop, many
//! streams per connection, SO_REUSEPORT threads, big bodies through small windows,
//! streamed bodies and backpressure, trailers, resets, graceful shutdown.

mod support;

use bytes::Bytes;
use h2proto::ErrorCode;
use h2proto_mio::{Body, Client, Config, ErrorKind, Server, Trailers};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use std::collections::HashSet;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use support::*;

fn post(path: &str, body: impl Into<Bytes>) -> Request<Bytes> {
    Request::post(path).body(body.into()).unwrap()
}

fn get(path: &str) -> Request<Bytes> {
    Request::get(path).body(Bytes::new()).unwrap()
}

#[test]
fn hello_and_echo() {
    let _w = watchdog(30);
    let server = TestServer::hello_echo(Config::default());
    let client = Client::connect(server.addr).unwrap();
    let response = client.request(get("/anything")).unwrap();
    assert_eq!((response.status(), response.body().as_ref()), (StatusCode::OK, &b"hello"[..]));
    assert_eq!(client.request(post("/echo", "ping")).unwrap().body(), "ping");
    drop(client);
    server.stop();
}

#[test]
fn one_loop_serves_many_connections_and_streams_at_once() {
    // 8 clients (8 connections) on one server loop, each used from 4 threads, plus 200
    // callbacks in flight on one more connection.
    let _w = watchdog(60);
    let server = TestServer::hello_echo(Config::default());
    thread::scope(|s| {
        for c in 0..8u8 {
            let client = Client::connect(server.addr).unwrap();
            for t in 0..4u8 {
                let client = client.clone();
                s.spawn(move || {
                    for i in 0..20 {
                        let body = pattern(500 + i * 131, c * 4 + t);
                        let response = client.request(post("/echo", body.clone())).unwrap();
                        assert_eq!(response.body(), &body);
                    }
                });
            }
        }
    });
    let client = Client::connect(server.addr).unwrap();
    // One exchange first, so the server's SETTINGS (128 concurrent streams) are known:
    // requests beyond the limit then wait in the client instead of being refused.
    assert_eq!(client.request(get("/")).unwrap().body(), "hello");
    let (done, results) = mpsc::channel();
    for i in 0..200usize {
        let done = done.clone();
        let body = Bytes::from(i.to_string());
        client.send(post("/echo", body.clone()), move |r| done.send((r.unwrap(), body)).unwrap());
    }
    drop(done);
    let mut n = 0;
    for (response, sent) in results {
        assert_eq!(response.body(), &sent);
        n += 1;
    }
    assert_eq!(n, 200);
    drop(client);
    server.stop();
}

#[test]
fn reuseport_threads_share_the_connections() {
    // Four loops, four SO_REUSEPORT listeners on one port: the kernel spreads connections
    // over them (by hash of the 4-tuple; 32 connections all on one of 4 is ~2^-62).
    let _w = watchdog(60);
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let seen_in_handler = seen.clone();
    let server = Server::bind("127.0.0.1:0").unwrap().threads(4);
    let server = TestServer::start(server, move |_: Request<Bytes>| {
        seen_in_handler.lock().unwrap().insert(thread::current().id());
        Response::new(Bytes::from_static(b"hi"))
    });
    for _ in 0..32 {
        let client = Client::connect(server.addr).unwrap();
        assert_eq!(client.request(get("/")).unwrap().body(), "hi");
    }
    assert!(seen.lock().unwrap().len() > 1, "all connections on one loop");
    server.stop();
}

#[test]
fn eight_mib_up_and_down_through_16k_windows() {
    let _w = watchdog(120);
    let server = TestServer::hello_echo(small_windows());
    let client = Client::connect_with(server.addr, small_windows()).unwrap();
    let body = pattern(8 << 20, 3);
    let response = client.request(post("/echo", body.clone())).unwrap();
    assert!(response.body() == &body[..], "echo differs");
    drop(client);
    server.stop();
}

/// An endless or finite source of 16 KiB chunks that counts what was pulled from it and
/// reports when it is dropped.
struct Source {
    pulled: Arc<AtomicUsize>,
    left: usize,
    dropped: Option<mpsc::Sender<()>>,
}

impl Iterator for Source {
    type Item = Bytes;
    fn next(&mut self) -> Option<Bytes> {
        let n = self.left.min(16 << 10);
        if n == 0 {
            return None;
        }
        let at = self.pulled.fetch_add(n, Ordering::SeqCst);
        self.left -= n;
        Some((at..at + n).map(|i| (i % 251) as u8).collect())
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Some(dropped) = self.dropped.take() {
            let _ = dropped.send(());
        }
    }
}

/// The peer's 16 KiB window, 64 KiB of send buffer, a 16 KiB chunk, one unreleased 16 KiB
/// chunk at the reader; doubled. Buffering without bound would be megabytes over.
const IN_FLIGHT_BOUND: usize = (2 * (16 + 64 + 16 + 16)) << 10;

#[test]
fn streamed_body_is_pulled_only_as_fast_as_a_slow_client_reads() {
    // RFC 9113 §5.2: with a 16 KiB window and a client that reads slowly, the server pulls
    // chunks of its 8 MiB body only as the window reopens.
    let _w = watchdog(120);
    let len = 8 << 20;
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let mut config = Config::default();
    config.max_send_buffer_per_stream = 64 << 10;
    let server = Server::bind("127.0.0.1:0").unwrap().config(config);
    let server = TestServer::start(server, move |_: Request<Bytes>| {
        let source = Source { pulled: counter.clone(), left: len, dropped: None };
        Response::new(Body::from_chunks(source))
    });
    let client = h2proto_blocking::Client::connect_with(server.addr, small_windows()).unwrap();
    let response = client.request(Request::get("/big").body(()).unwrap()).unwrap();
    let mut body = response.into_body();
    while pulled.load(Ordering::SeqCst) < 16 << 10 {
        thread::yield_now();
    }
    thread::sleep(Duration::from_millis(100)); // room for a runaway; not a synchronization
    let ahead = pulled.load(Ordering::SeqCst);
    assert!(ahead <= IN_FLIGHT_BOUND, "pulled {ahead} bytes before any read");
    let (mut consumed, mut buf) = (0, vec![0; 4096]);
    loop {
        let n = body.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(buf[..n].iter().enumerate().all(|(i, b)| *b == ((consumed + i) % 251) as u8));
        consumed += n;
        let ahead = pulled.load(Ordering::SeqCst) - consumed;
        assert!(ahead <= IN_FLIGHT_BOUND, "{ahead} bytes ahead of the reader at {consumed}");
    }
    assert_eq!(consumed, len);
    drop(client);
    server.stop();
}

#[test]
fn trailers_both_ways() {
    // RFC 9113 §8.1: trailers after the body, carried as a `Trailers` extension.
    let _w = watchdog(30);
    let server = Server::bind("127.0.0.1:0").unwrap();
    let server = TestServer::start(server, |req: Request<Bytes>| {
        let got = req.extensions().get::<Trailers>().and_then(|t| t.0.get("x-checksum"));
        let mut trailers = HeaderMap::new();
        trailers.insert("x-request-trailer", got.cloned().unwrap_or(HeaderValue::from_static("-")));
        trailers.insert("x-length", req.body().len().into());
        let mut response = Response::new(req.body().clone());
        response.extensions_mut().insert(Trailers(trailers));
        response
    });
    let client = Client::connect(server.addr).unwrap();
    let mut request = post("/t", pattern(100_000, 1));
    let mut trailers = HeaderMap::new();
    trailers.insert("x-checksum", HeaderValue::from_static("abc"));
    request.extensions_mut().insert(Trailers(trailers));
    let response = client.request(request).unwrap();
    assert_eq!(response.body(), &pattern(100_000, 1));
    let trailers = &response.extensions().get::<Trailers>().expect("trailers").0;
    assert_eq!(trailers["x-request-trailer"], "abc");
    assert_eq!(trailers["x-length"], "100000");
    drop(client);
    server.stop();
}

#[test]
fn panics_reset_oversized_bodies_get_413_and_cancels_drop_the_source() {
    let _w = watchdog(60);
    let (dropped_tx, dropped) = mpsc::channel();
    let dropped_tx = Mutex::new(dropped_tx);
    let server =
        Server::bind("127.0.0.1:0").unwrap().max_body_size(1 << 20).config(small_windows());
    let server = TestServer::start(server, move |req: Request<Bytes>| match req.uri().path() {
        "/panic" => panic!("handler panics on purpose"),
        "/endless" => {
            let dropped = Some(dropped_tx.lock().unwrap().clone());
            let source = Source { pulled: Arc::default(), left: usize::MAX, dropped };
            Response::new(Body::from_chunks(source))
        }
        _ => Response::new(Body::from("ok")),
    });
    let client = Client::connect(server.addr).unwrap();
    let error = client.request(get("/panic")).unwrap_err();
    // RFC 9113 §5.4.2: the panicking handler's stream is reset with INTERNAL_ERROR, which
    // says the request may have been processed.
    assert!(
        matches!(
            error.kind(),
            ErrorKind::Reset { code: ErrorCode::INTERNAL_ERROR, retryable: false, .. }
        ),
        "{error:?}"
    );
    assert!(!error.is_retry_safe());

    let response = client.request(post("/upload", vec![0; 2 << 20])).unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(client.request(get("/")).unwrap().body(), "ok", "the connection lives on");

    // A client that stops reading and drops the body resets the stream (CANCEL): the
    // server drops the endless source.
    let blocking = h2proto_blocking::Client::connect(server.addr).unwrap();
    let response = blocking.request(Request::get("/endless").body(()).unwrap()).unwrap();
    let mut body = response.into_body();
    body.read_exact(&mut [0; 50_000]).unwrap();
    drop(body);
    dropped.recv().unwrap();
    drop((client, blocking));
    server.stop();
}

#[test]
fn graceful_shutdown_finishes_streams_in_flight() {
    // RFC 9113 §6.8: a response still streaming when shutdown begins completes; then
    // `serve` returns and the port is closed.
    let _w = watchdog(60);
    let mut server =
        TestServer::start(Server::bind("127.0.0.1:0").unwrap(), |_: Request<Bytes>| {
            let source = Source { pulled: Arc::default(), left: 4 << 20, dropped: None };
            Response::new(Body::from_chunks(source))
        });
    let client = h2proto_blocking::Client::connect_with(server.addr, small_windows()).unwrap();
    let response = client.request(Request::get("/").body(()).unwrap()).unwrap();
    let mut body = response.into_body();
    body.read_exact(&mut [0; 1000]).unwrap();
    server.stop.shutdown();
    assert_eq!(body.read_to_vec().unwrap().len(), (4 << 20) - 1000);
    server.serving.take().unwrap().join().unwrap().unwrap();
    assert!(client.request(Request::get("/").body(()).unwrap()).is_err());
    assert!(std::net::TcpStream::connect(server.addr).is_err(), "still accepting");
}

#[test]
fn dropping_the_client_lets_sent_requests_finish() {
    // The last clone dropped begins a graceful close (GOAWAY) only after the requests
    // already handed over are on their streams; their callbacks still get responses.
    let _w = watchdog(30);
    let server = TestServer::hello_echo(Config::default());
    let client = Client::connect(server.addr).unwrap();
    let (done, results) = mpsc::channel();
    for i in 0..20usize {
        let done = done.clone();
        client.send(post("/echo", i.to_string()), move |r| done.send(r).unwrap());
    }
    drop((client, done));
    assert_eq!(results.iter().filter(|r| r.as_ref().is_ok_and(|r| r.status() == 200)).count(), 20);
    server.stop();
}

#[test]
fn an_invalid_config_is_refused_before_serving() {
    // RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE above 2^24-1 is illegal on the wire.
    let mut config = Config::default();
    config.max_frame_size = 1 << 24;
    let server = Server::bind("127.0.0.1:0").unwrap().config(config);
    let error = server.serve(hello_echo).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("max_frame_size"), "{error}");
}

#[test]
fn the_handler_gets_the_peer_address_when_the_server_is_asked_for_it() {
    let _w = watchdog(30);
    for on in [true, false] {
        let handler = |request: Request<Bytes>| {
            let peer = request.extensions().get::<h2proto_mio::RemoteAddr>();
            Response::new(Bytes::from(peer.map(|a| a.0.to_string()).unwrap_or_default()))
        };
        let server =
            TestServer::start(Server::bind("127.0.0.1:0").unwrap().remote_addr(on), handler);
        let socket = std::net::TcpStream::connect(server.addr).unwrap();
        let local = socket.local_addr().unwrap();
        let mut peer = RawPeer::new(socket, h2proto::Connection::client(Config::default()));
        let request = Request::get(format!("http://{}/", server.addr)).body(()).unwrap();
        let id = peer.conn.send_request(request, true).unwrap();
        peer.run_until(|e| {
            use h2proto::Event;
            matches!(e, Event::Data { .. } | Event::Response { end_stream: true, .. })
        });
        let body: Vec<u8> = std::iter::from_fn(|| peer.conn.read_data(id)).flatten().collect();
        let expected = if on { local.to_string() } else { String::new() };
        assert_eq!(String::from_utf8(body).unwrap(), expected);
        drop(peer);
        server.stop();
    }
}
