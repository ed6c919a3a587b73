//! The blocking client against the blocking server over loopback TCP: concurrency, big
//! bodies through small windows, backpressure, trailers, resets, graceful shutdown.

mod support;

use h2proto_blocking::{Body, Client, Config, Error, ErrorCode, Initiator, RequestBody};
use http::{HeaderMap, HeaderValue, Request, Response};
use std::io::{self, Read};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use support::*;

fn reset_code(e: &io::Error) -> Option<(ErrorCode, Initiator)> {
    match e.get_ref()?.downcast_ref::<Error>()? {
        Error::Reset { code, initiator, .. } => Some((*code, *initiator)),
        _ => None,
    }
}

#[test]
fn hello_and_echo() {
    let _w = watchdog(30);
    let server = TestServer::start(Config::default(), 2, hello_echo);
    let client = Client::connect(server.addr).unwrap();
    let response = client.request(Request::get("/anything").body(()).unwrap()).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.into_body().read_to_vec().unwrap(), b"hello");
    let response = client.request(Request::post("/echo").body("ping").unwrap()).unwrap();
    assert_eq!(response.into_body().read_to_vec().unwrap(), b"ping");
    drop(client);
    server.stop();
}

#[test]
fn concurrent_streams_from_many_threads_share_one_connection() {
    // 16 threads x 25 requests over one Client; the server allows 8 streams at once, so
    // requests also wait for SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2).
    let _w = watchdog(60);
    let mut config = Config::default();
    config.max_concurrent_streams = 8;
    let server = TestServer::start(config, 4, hello_echo);
    let client = Client::connect(server.addr).unwrap();
    thread::scope(|s| {
        for t in 0..16u8 {
            let client = client.clone();
            s.spawn(move || {
                for i in 0..25usize {
                    let body = pattern(1000 + i * 97, t);
                    let request = Request::post("/echo").body(body.clone()).unwrap();
                    let response = client.request(request).unwrap();
                    assert_eq!(response.into_body().read_to_vec().unwrap(), body);
                }
            });
        }
    });
    drop(client);
    server.stop();
}

#[test]
fn eight_mib_up_and_down_through_16k_windows() {
    // Both directions at once: /echo streams the upload back while it arrives, through
    // 16 KiB stream and connection windows on both sides (RFC 9113 §5.2, §6.9).
    let _w = watchdog(120);
    let server = TestServer::start(small_windows(), 2, hello_echo);
    let client = Client::connect_with(server.addr, small_windows()).unwrap();
    let len = 8 << 20;
    let (upload, _) = Counting::new(len);
    let request = Request::post("/echo").body(Body::from_reader(upload)).unwrap();
    let response = client.request(request).unwrap();
    let echoed = response.into_body().read_to_vec().unwrap();
    assert_eq!(echoed.len(), len);
    assert!(echoed.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8), "corrupted");

    // And a whole 8 MiB `Vec` body one way, 8 MiB back.
    let body = pattern(len, 7);
    let response = client.request(Request::post("/echo").body(body.clone()).unwrap()).unwrap();
    assert!(response.into_body().read_to_vec().unwrap() == body);
    drop(client);
    server.stop();
}

/// Bytes that may be in flight between a producer and a reader that stopped: the peer's
/// 16 KiB window, the sender's 64 KiB stream buffer, a 32 KiB chunk being offered, and one
/// unreleased received chunk; doubled for slack. A transfer that buffered without bound
/// would exceed it by megabytes.
const IN_FLIGHT_BOUND: usize = (2 * (16 + 64 + 32 + 16)) << 10;

fn bounded_sender() -> Config {
    let mut c = small_windows();
    c.max_send_buffer_per_stream = 64 << 10;
    c
}

/// Reads `body` slowly, checking at every step that the producer is at most
/// `IN_FLIGHT_BOUND` ahead of what was consumed.
fn read_slowly(mut body: impl Read, produced: &Progress, len: usize) {
    // Let the pipeline fill up: the producer runs until flow control stops it.
    produced.wait_for(16 << 10);
    thread::sleep(Duration::from_millis(100)); // room for a runaway; not a synchronization
    assert!(produced.get() <= IN_FLIGHT_BOUND, "ran ahead: {} bytes", produced.get());
    let mut consumed = 0;
    let mut buf = vec![0; 4096];
    loop {
        let n = body.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(buf[..n].iter().enumerate().all(|(i, b)| *b == ((consumed + i) % 251) as u8));
        consumed += n;
        let ahead = produced.get() - consumed;
        assert!(ahead <= IN_FLIGHT_BOUND, "{ahead} bytes ahead of the reader at {consumed}");
    }
    assert_eq!(consumed, len);
}

#[test]
fn slow_response_reader_holds_back_the_server() {
    // RFC 9113 §5.2: the client releases window only as its application reads, so a
    // server streaming 8 MiB produces only what fits the window and its send buffer.
    let _w = watchdog(120);
    let len = 8 << 20;
    let produced = Arc::new(Mutex::new(None));
    let slot = produced.clone();
    let server = TestServer::start(bounded_sender(), 2, move |_req: Request<RequestBody>| {
        let (reader, progress) = Counting::new(len);
        *slot.lock().unwrap() = Some(progress);
        Response::new(Body::from_reader(reader))
    });
    let client = Client::connect_with(server.addr, small_windows()).unwrap();
    let response = client.request(Request::get("/big").body(()).unwrap()).unwrap();
    let progress = produced.lock().unwrap().clone().unwrap();
    read_slowly(response.into_body(), &progress, len);
    drop(client);
    server.stop();
}

#[test]
fn slow_request_reader_holds_back_the_client() {
    // The same the other way: a handler reading an 8 MiB upload slowly.
    let _w = watchdog(120);
    let len = 8 << 20;
    let (upload, progress) = Counting::new(len);
    let progress_in_handler = progress.clone();
    let server = TestServer::start(small_windows(), 2, move |req: Request<RequestBody>| {
        read_slowly(req.into_body(), &progress_in_handler, len);
        Response::new(Body::from("done"))
    });
    let client = Client::connect_with(server.addr, bounded_sender()).unwrap();
    let request = Request::post("/upload").body(Body::from_reader(upload)).unwrap();
    let response = client.request(request).unwrap();
    assert_eq!(response.into_body().read_to_vec().unwrap(), b"done");
    assert_eq!(progress.get(), len);
    drop(client);
    server.stop();
}

#[test]
fn trailers_both_ways() {
    // RFC 9113 §8.1: trailers end a body after its data, in both directions.
    let _w = watchdog(30);
    let server = TestServer::start(Config::default(), 2, |req: Request<RequestBody>| {
        let mut body = req.into_body();
        let data = body.read_to_vec().unwrap();
        let got = body.trailers().and_then(|t| t.get("x-checksum")).cloned();
        let mut trailers = HeaderMap::new();
        trailers.insert("x-request-trailer", got.unwrap_or(HeaderValue::from_static("none")));
        trailers.insert("x-length", data.len().into());
        Response::new(Body::from_reader(io::Cursor::new(data)).with_trailers(trailers))
    });
    let client = Client::connect(server.addr).unwrap();
    let mut trailers = HeaderMap::new();
    trailers.insert("x-checksum", HeaderValue::from_static("abc"));
    let body = Body::from(pattern(100_000, 1)).with_trailers(trailers);
    let response = client.request(Request::post("/t").body(body).unwrap()).unwrap();
    let mut body = response.into_body();
    assert!(body.trailers().is_none(), "trailers come after the data");
    assert_eq!(body.read_to_vec().unwrap(), pattern(100_000, 1));
    let trailers = body.trailers().expect("trailers after EOF");
    assert_eq!(trailers["x-request-trailer"], "abc");
    assert_eq!(trailers["x-length"], "100000");
    drop(client);
    server.stop();
}

/// A reader that fails after `ok` bytes.
struct FailAfter(usize);

impl Read for FailAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0 == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.0);
        buf[..n].fill(b'x');
        self.0 -= n;
        Ok(n)
    }
}

#[test]
fn resets_surface_as_errors_and_cancel_stops_the_producer() {
    let _w = watchdog(60);
    let (cancelled_tx, cancelled) = mpsc::channel();
    let cancelled_tx = Mutex::new(cancelled_tx);
    let server = TestServer::start(small_windows(), 4, move |req: Request<RequestBody>| {
        match req.uri().path() {
            // A body that fails: the stream is reset (INTERNAL_ERROR).
            "/fail" => Response::new(Body::from_reader(FailAfter(50_000))),
            "/panic" => panic!("handler panics on purpose"),
            // An endless body; reports when the adapter stops reading it.
            _ => {
                let (reader, progress) = Counting::new(usize::MAX);
                cancelled_tx.lock().unwrap().send(progress).unwrap();
                Response::new(Body::from_reader(reader))
            }
        }
    });
    let client = Client::connect_with(server.addr, small_windows()).unwrap();

    let response = client.request(Request::get("/fail").body(()).unwrap()).unwrap();
    let error = response.into_body().read_to_vec().unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(reset_code(&error), Some((ErrorCode::INTERNAL_ERROR, Initiator::Remote)));

    let error = client.request(Request::get("/panic").body(()).unwrap()).unwrap_err();
    assert_eq!(reset_code(&error), Some((ErrorCode::INTERNAL_ERROR, Initiator::Remote)));

    // Dropping a response body mid-way resets the stream (CANCEL); the server stops
    // producing and drops the reader.
    let response = client.request(Request::get("/endless").body(()).unwrap()).unwrap();
    let mut body = response.into_body();
    let mut buf = vec![0; 100_000];
    body.read_exact(&mut buf).unwrap();
    drop(body);
    let progress = cancelled.recv().unwrap();
    progress.wait_dropped();
    assert!(progress.get() < 1 << 20, "produced {} after the cancel", progress.get());

    // The connection is still fine.
    let response = client.request(Request::get("/fail").body(()).unwrap()).unwrap();
    assert_eq!(response.status(), 200);
    drop(response);
    drop(client);
    server.stop();
}

#[test]
fn graceful_shutdown_finishes_streams_in_flight() {
    // RFC 9113 §6.8: after shutdown begins, the request in flight completes, then the
    // connection closes and `serve` returns; afterwards the next request looks for a fresh
    // connection, which is refused.
    let _w = watchdog(60);
    let (gate_tx, gate) = mpsc::channel::<()>();
    let gate = Mutex::new(Some(gate));
    let (started_tx, started) = mpsc::channel();
    let started_tx = Mutex::new(started_tx);
    let mut server = TestServer::start(Config::default(), 2, move |_req: Request<RequestBody>| {
        let gate = gate.lock().unwrap().take().unwrap();
        started_tx.lock().unwrap().send(()).unwrap();
        // The body waits for the gate, then streams "late".
        let reader = io::Read::chain(Gate(Some(gate)), &b"late"[..]);
        Response::new(Body::from_reader(reader))
    });
    let client = Client::connect(server.addr).unwrap();
    let in_flight = {
        let client = client.clone();
        thread::spawn(move || {
            let response = client.request(Request::get("/slow").body(()).unwrap()).unwrap();
            response.into_body().read_to_vec().unwrap()
        })
    };
    started.recv().unwrap();
    server.stop.shutdown();
    gate_tx.send(()).unwrap();
    assert_eq!(in_flight.join().unwrap(), b"late");
    server.serving.take().unwrap().join().unwrap().unwrap();
    let error = client.request(Request::get("/").body(()).unwrap()).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    assert!(std::net::TcpStream::connect(server.addr).is_err(), "still accepting");
}

/// Blocks the first read until the gate opens, then reads as empty.
struct Gate(Option<mpsc::Receiver<()>>);

impl Read for Gate {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        if let Some(gate) = self.0.take() {
            let _ = gate.recv();
        }
        Ok(0)
    }
}

#[test]
fn an_invalid_config_is_refused_before_serving() {
    // RFC 9113 §6.5.2: SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 is illegal on the wire.
    let mut config = Config::default();
    config.initial_stream_window_size = 1 << 31;
    let server = h2proto_blocking::Server::bind("127.0.0.1:0").unwrap().config(config);
    let error = server.serve(hello_echo).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("initial_stream_window_size"), "{error}");
}
