//! The client's request path on one connection: backpressure (`ready`, `try_send_request`),
//! cancellation (RST_STREAM CANCEL when the caller drops the request or its response body,
//! RFC 9113 §8.1), content-length from an exact size hint (§8.1.1) and path-only URIs
//! completed from the connection's origin (§8.3.1).
//!
//! The server is the core itself, driven by hand over loopback, so the test sees exactly
//! which requests and RST_STREAM frames arrive.

#[path = "cli_support/early.rs"]
mod early;
mod support;

use bytes::Bytes;
use h2proto::{Connection, ErrorCode, Event, StreamId, buf_to_vec};
use h2proto_tokio::client::{self, Builder, SendRequest};
use h2proto_tokio::{Config, ErrorKind};
use http::{Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::within;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// How the server answers a request.
#[derive(Clone, Copy)]
enum Answer {
    /// Never: the request hangs until the client gives up.
    Never,
    /// The head and a first piece of the body, then nothing more.
    Partly,
    /// Not at all, and the connection begins a graceful shutdown (GOAWAY).
    GoAway,
}

/// What the server saw.
#[derive(Debug)]
enum Seen {
    Request(StreamId, Box<Request<()>>),
    Reset(StreamId, ErrorCode),
}

/// A server core on loopback allowing `max_streams` concurrent streams.
async fn server(max_streams: u32, answer: Answer) -> (SocketAddr, mpsc::UnboundedReceiver<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut config = Config::default();
        config.max_concurrent_streams = max_streams;
        let mut conn = Connection::server(config);
        conn.handle_timeout(Instant::now());
        let mut buf = vec![0; 64 << 10];
        loop {
            while let Some(event) = conn.poll_event() {
                match event {
                    Event::Request { stream_id, request, .. } => {
                        let _ = tx.send(Seen::Request(stream_id, Box::new(request)));
                        match answer {
                            Answer::Partly => {
                                conn.send_response(stream_id, Response::new(()), false).unwrap();
                                let first = Bytes::from_static(b"first");
                                conn.send_data(stream_id, first, false).unwrap();
                            }
                            Answer::GoAway => conn.shutdown(),
                            Answer::Never => {}
                        }
                    }
                    Event::Reset { stream_id, error_code, .. } => {
                        let _ = tx.send(Seen::Reset(stream_id, error_code));
                    }
                    Event::Data { stream_id, .. } => {
                        while let Some(data) = conn.read_data(stream_id) {
                            let _ = conn.release_capacity(stream_id, data.len());
                        }
                    }
                    _ => {}
                }
            }
            let out = buf_to_vec(conn.transmit());
            if !out.is_empty() && tcp.write_all(&out).await.is_err() {
                return;
            }
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let _ = conn.recv(Bytes::copy_from_slice(&buf[..n]), std::time::Instant::now());
                }
            }
        }
    });
    (addr, rx)
}

/// A client that assumes one stream until the server's SETTINGS say otherwise.
async fn client_with(addr: SocketAddr, max_pending: usize) -> SendRequest {
    let mut config = Config::default();
    config.initial_max_send_streams = 1;
    let (send, connection) =
        Builder::new().config(config).max_pending(max_pending).connect(addr).await.unwrap();
    tokio::spawn(connection);
    send
}

fn get(path: &str) -> Request<Empty<Bytes>> {
    Request::get(path).body(Empty::new()).unwrap()
}

async fn next(seen: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    seen.recv().await.expect("the server is running")
}

/// A request whose caller gives up before the response head is reset with CANCEL at
/// once, and its place serves the next request on a connection of one stream.
#[tokio::test]
async fn dropping_the_request_future_cancels_the_stream_and_frees_its_slot() {
    within(async {
        let (addr, mut seen) = server(1, Answer::Never).await;
        let mut send = client_with(addr, 0).await;
        let first = send.try_send_request(get("/first")).unwrap();
        let Seen::Request(id, request) = next(&mut seen).await else { panic!("a request") };
        assert_eq!(request.uri().path(), "/first");

        // The one stream is taken: the request comes back unsent.
        let refused = send.try_send_request(get("/second")).unwrap_err();
        assert!(matches!(refused.error().kind(), ErrorKind::Busy));
        assert_eq!(refused.into_request().uri(), "/second");

        drop(first);
        match next(&mut seen).await {
            Seen::Reset(reset, code) => assert_eq!((reset, code), (id, ErrorCode::CANCEL)),
            other => panic!("expected RST_STREAM, got {other:?}"),
        }
        send.ready().await.unwrap();
        let _third = send.try_send_request(get("/third")).unwrap();
        match next(&mut seen).await {
            Seen::Request(_, request) => assert_eq!(request.uri().path(), "/third"),
            other => panic!("expected the next request, got {other:?}"),
        }
    })
    .await;
}

/// `send_request` (the awaiting form) cancels the same way when its future is dropped,
/// e.g. by a timeout.
#[tokio::test]
async fn a_timed_out_send_request_cancels_its_stream() {
    within(async {
        let (addr, mut seen) = server(1, Answer::Never).await;
        let send = client_with(addr, 0).await;
        let waited = tokio::time::timeout(Duration::from_millis(100), send.send_request(get("/")));
        assert!(waited.await.is_err(), "the server never answers");
        let Seen::Request(id, _) = next(&mut seen).await else { panic!("a request") };
        match next(&mut seen).await {
            Seen::Reset(reset, code) => assert_eq!((reset, code), (id, ErrorCode::CANCEL)),
            other => panic!("expected RST_STREAM, got {other:?}"),
        }
        assert_eq!(send.in_flight(), 0);
    })
    .await;
}

/// A response body dropped mid-body cancels its stream and frees the slot.
#[tokio::test]
async fn dropping_the_response_body_mid_body_cancels_the_stream() {
    within(async {
        let (addr, mut seen) = server(1, Answer::Partly).await;
        let mut send = client_with(addr, 0).await;
        let response = send.try_send_request(get("/big")).unwrap().await.unwrap();
        let Seen::Request(id, _) = next(&mut seen).await else { panic!("a request") };
        let mut body = response.into_body();
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "first");
        assert!(send.try_send_request(get("/next")).is_err(), "the stream is still open");
        drop(body);
        match next(&mut seen).await {
            Seen::Reset(reset, code) => assert_eq!((reset, code), (id, ErrorCode::CANCEL)),
            other => panic!("expected RST_STREAM, got {other:?}"),
        }
        send.ready().await.unwrap();
        let _next = send.try_send_request(get("/next")).unwrap();
        assert!(matches!(next(&mut seen).await, Seen::Request(..)));
    })
    .await;
}

/// `max_pending` requests are accepted beyond the server's concurrency and opened as
/// streams free up; one more is handed back.
#[tokio::test]
async fn the_pending_bound_holds_beyond_the_peers_concurrency() {
    within(async {
        let (addr, mut seen) = server(1, Answer::Never).await;
        let mut send = client_with(addr, 2).await;
        let first = send.try_send_request(get("/1")).unwrap();
        let _second = send.try_send_request(get("/2")).unwrap();
        let _third = send.try_send_request(get("/3")).unwrap();
        assert!(send.try_send_request(get("/4")).is_err());
        assert_eq!(send.in_flight(), 3);
        let mut ready = Box::pin(std::future::poll_fn(|cx| send.poll_ready(cx)));
        assert!(futures_util::poll!(&mut ready).is_pending(), "full: not ready");
        drop(ready);
        assert!(matches!(next(&mut seen).await, Seen::Request(..)));
        drop(first);
        assert!(matches!(next(&mut seen).await, Seen::Reset(_, ErrorCode::CANCEL)));
        // The first waiting request takes the freed stream.
        match next(&mut seen).await {
            Seen::Request(_, request) => assert_eq!(request.uri().path(), "/2"),
            other => panic!("expected /2, got {other:?}"),
        }
    })
    .await;
}

/// A body of exact size is declared as content-length; one of unknown size is not.
#[tokio::test]
async fn content_length_comes_from_an_exact_size_hint() {
    within(async {
        let (addr, mut seen) = server(10, Answer::Never).await;
        let mut send = client_with(addr, 0).await;
        let full = Request::post("/full").body(Full::new(Bytes::from_static(b"hello"))).unwrap();
        let _a = send.try_send_request(full).unwrap();
        let Seen::Request(_, request) = next(&mut seen).await else { panic!("a request") };
        assert_eq!(request.headers()["content-length"], "5");

        send.ready().await.unwrap();
        let chunks = futures_util::stream::iter([Ok::<_, Infallible>(Frame::data(
            Bytes::from_static(b"streamed"),
        ))]);
        let streamed = Request::post("/streamed").body(StreamBody::new(chunks)).unwrap();
        let _b = send.try_send_request(streamed).unwrap();
        let Seen::Request(_, request) = next(&mut seen).await else { panic!("a request") };
        assert_eq!(request.uri().path(), "/streamed");
        assert!(request.headers().get("content-length").is_none());
    })
    .await;
}

/// `/path` goes to the connection's origin: `client::connect` sets `http://ADDR`.
#[tokio::test]
async fn a_path_only_uri_gets_the_connections_authority() {
    within(async {
        let (addr, mut seen) = server(10, Answer::Never).await;
        let (send, connection) = client::connect(addr).await.unwrap();
        tokio::spawn(connection);
        let _pending = tokio::spawn(async move { send.send_request(get("/where?x=1")).await });
        let Seen::Request(_, request) = next(&mut seen).await else { panic!("a request") };
        assert_eq!(request.uri().to_string(), format!("http://{addr}/where?x=1"));
    })
    .await;
}

/// RFC 9113 §8.1: the whole response arrives while a 1 MiB upload is stalled at the initial
/// window, with and without the server's RST_STREAM NO_ERROR after it: the client returns
/// status and body.
#[tokio::test]
async fn an_early_response_is_returned_while_the_upload_is_unfinished() {
    within(async {
        for reset in [false, true] {
            let (addr, heads) = early::early_server(reset);
            let (send, connection) = client::connect(addr).await.unwrap();
            tokio::spawn(connection);
            let body = Full::new(Bytes::from(vec![7u8; 1 << 20]));
            let response = send.send_request(Request::post("/up").body(body).unwrap()).await;
            let response = response.unwrap();
            assert_eq!(response.status(), 200, "reset: {reset}");
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, early::EARLY_ANSWER, "reset: {reset}");
            let head = heads.recv().unwrap();
            assert_eq!(head.headers()["content-length"], "1048576");
        }
    })
    .await;
}

/// Callers wait for a place instead of queueing: many `send_request`s on a connection of
/// one stream put one request on the wire and hold one slot; the rest wait in their own
/// futures.
#[tokio::test]
async fn waiting_requests_do_not_queue_in_the_connection() {
    within(async {
        let (addr, mut seen) = server(1, Answer::Never).await;
        let send = client_with(addr, 0).await;
        let waiting: Vec<_> = (0..10)
            .map(|i| {
                let send = send.clone();
                tokio::spawn(async move { send.send_request(get(&format!("/{i}"))).await })
            })
            .collect();
        assert!(matches!(next(&mut seen).await, Seen::Request(..)));
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(send.in_flight(), 1);
        assert!(seen.try_recv().is_err(), "only one request was sent");
        for task in waiting {
            task.abort();
        }
    })
    .await;
}

/// After the server's GOAWAY the connection takes no new request: `ready` fails and
/// `try_send_request` hands the request back, both as not sent (safe to send elsewhere).
#[tokio::test]
async fn after_goaway_ready_fails_and_requests_come_back() {
    within(async {
        let (addr, mut seen) = server(10, Answer::GoAway).await;
        let mut send = client_with(addr, 0).await;
        let _first = send.try_send_request(get("/first")).unwrap();
        assert!(matches!(next(&mut seen).await, Seen::Request(..)));
        // The GOAWAY arrives after the request was seen: wait until the handle knows.
        let error = loop {
            match send.ready().await {
                Err(e) => break e,
                Ok(()) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        };
        assert!(matches!(error.kind(), ErrorKind::NotSent) && error.is_retryable());
        assert!(send.is_closed());
        let refused = send.try_send_request(get("/late")).unwrap_err();
        assert!(matches!(refused.error().kind(), ErrorKind::NotSent));
        assert_eq!(refused.into_request().uri(), "/late");
    })
    .await;
}
