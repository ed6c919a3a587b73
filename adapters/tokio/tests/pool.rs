//! The pooled `Client` over loopback against servers started here: sharing, extra
//! connections under MAX_CONCURRENT_STREAMS 1, GOAWAY mid-flight and REFUSED_STREAM
//! retried without duplicates (RFC 9113 §8.7), and the circuit breaker around a server
//! that is down and comes back.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{Data, Frame, FrameDecoder, GoAway, Headers, RstStream, Settings, StreamId};
use h2proto::{ErrorCode, PREFACE};
use h2proto_tokio::pool::{
    Backoff, BreakerConfig, CheckoutError, Client, ClientErrorKind, Verdict, replayable,
};
use h2proto_tokio::server::Server;
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// A server that counts the connections it accepts and serves each with `handler`.
async fn counting_server<F, Fut>(config: Config, handler: F) -> (SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(Request<RecvBody>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let server = Server::new(config);
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(server.handshake(tcp, handler.clone()));
        }
    });
    (addr, accepted)
}

/// A counting server that answers every request with `body`.
async fn answering(body: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
    counting_server(Config::default(), move |_: Request<RecvBody>| async move {
        Response::new(Full::new(Bytes::from(body)))
    })
    .await
}

fn get(addr: SocketAddr, path: &str) -> Request<Empty<Bytes>> {
    Request::get(url(addr, path)).body(Empty::new()).unwrap()
}

async fn body_of(response: Response<h2proto_tokio::pool::ResponseBody>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_share_one_client_and_one_connection() {
    within(async {
        let (addr, accepted) =
            counting_server(Config::default(), |request: Request<RecvBody>| async move {
                Response::new(Full::new(Bytes::from(request.uri().path().to_owned())))
            })
            .await;
        let client = Client::new();
        let mut tasks = Vec::new();
        for task in 0..20 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    let path = format!("/{task}/{i}");
                    let response = client.request(get(addr, &path)).await.unwrap();
                    assert_eq!(response.status(), 200);
                    assert_eq!(body_of(response).await, path);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "20 concurrent requests fit one connection");
        let metrics = client.metrics();
        assert_eq!(metrics.connects, 1);
        assert_eq!(metrics.hits + metrics.misses, 500);
    })
    .await;
}

#[tokio::test]
async fn the_client_is_a_tower_service() {
    use tower_service::Service;
    within(async {
        let (addr, _) = answering("svc").await;
        let mut client = Client::new();
        std::future::poll_fn(|cx| Service::<Request<Empty<Bytes>>>::poll_ready(&mut client, cx))
            .await
            .unwrap();
        let response = client.call(get(addr, "/")).await.unwrap();
        assert_eq!(body_of(response).await, "svc");
    })
    .await;
}

/// RFC 9113 §6.5.2: with SETTINGS_MAX_CONCURRENT_STREAMS 1 each connection carries one
/// request; the client opens a second (its per-origin bound) and queues the third.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrent_streams_1_forces_a_second_connection_then_queueing() {
    within(async {
        let gate = Arc::new(Semaphore::new(0));
        let active = Arc::new(AtomicUsize::new(0));
        let mut config = Config::default();
        config.max_concurrent_streams = 1;
        let (g, a) = (gate.clone(), active.clone());
        let (addr, accepted) = counting_server(config, move |_: Request<RecvBody>| {
            let (gate, active) = (g.clone(), a.clone());
            async move {
                active.fetch_add(1, Ordering::SeqCst);
                gate.acquire().await.unwrap().forget();
                Response::new(Full::new(Bytes::from("ok")))
            }
        })
        .await;
        let client = Client::builder().max_connections_per_origin(2).build();
        let wait_active = |n: usize| {
            let active = active.clone();
            async move {
                while active.load(Ordering::SeqCst) < n {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        };
        let mut requests = Vec::new();
        for n in 1..=3 {
            let client = client.clone();
            requests.push(tokio::spawn(async move { client.request(get(addr, "/")).await }));
            if n < 3 {
                wait_active(n).await;
            }
        }
        // The third waits in the pool: two connections, both full.
        while client.metrics().waiting < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert_eq!(active.load(Ordering::SeqCst), 2, "one request per connection");
        gate.add_permits(3);
        for request in requests {
            let response = request.await.unwrap().unwrap();
            assert_eq!(body_of(response).await, "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "the third reused a connection");
        assert_eq!(client.metrics().connects, 2);
    })
    .await;
}

// ---- a frame-level server, for exact GOAWAY and REFUSED_STREAM --------------------------

/// What a raw connection does with the requests it receives.
#[derive(Clone, Copy)]
enum Script {
    /// Answers every request.
    Serve,
    /// After `after` requests, sends GOAWAY with the id of the `keep`-th request as
    /// last_stream_id and `code`, answers those at or below it, and closes.
    GoAway { after: usize, keep: usize, code: ErrorCode },
    /// Refuses the first request with REFUSED_STREAM, answers the rest.
    RefuseFirst,
}

/// Paths the server processed (answered), in order; a path twice is a duplicate.
type Processed = Arc<Mutex<Vec<String>>>;

/// Accepts connections; the first follows `first`, later ones serve normally.
async fn raw_server(first: Script) -> (SocketAddr, Processed) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let processed = Processed::default();
    let log = processed.clone();
    tokio::spawn(async move {
        let mut script = first;
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(raw_connection(tcp, script, log.clone()));
            script = Script::Serve;
        }
    });
    (addr, processed)
}

async fn send(tcp: &mut TcpStream, frame: Frame) {
    let mut wire = BytesMut::new();
    frame.encode(&mut wire);
    let _ = tcp.write_all(&wire).await;
}

/// `:status: 200` is entry 8 of HPACK's static table (RFC 7541 Appendix A).
fn ok(stream: StreamId) -> Frame {
    Frame::Headers(Headers::new(stream, Bytes::from_static(&[0x88]), true))
}

async fn raw_connection(mut tcp: TcpStream, script: Script, processed: Processed) {
    let mut preface = [0u8; 24];
    if tcp.read_exact(&mut preface).await.is_err() || &preface != PREFACE {
        return;
    }
    send(&mut tcp, Frame::Settings(Settings::new())).await;
    send(&mut tcp, Frame::Settings(Settings::ack())).await;
    let mut decoder = FrameDecoder::new();
    let mut hpack = h2proto::hpack::Decoder::new();
    let mut buf = vec![0u8; 16 << 10];
    let mut received: Vec<(StreamId, String)> = Vec::new();
    let mut refused = false;
    loop {
        let n = tcp.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        decoder.extend(&buf[..n]);
        while let Ok(Some(frame)) = decoder.next_frame() {
            let Frame::Headers(headers) = frame else { continue };
            let mut path = String::new();
            hpack
                .decode(&headers.fragment, |field| {
                    if &field.name[..] == b":path" {
                        path = String::from_utf8_lossy(&field.value).into_owned();
                    }
                })
                .unwrap();
            let id = headers.stream_id;
            match script {
                Script::Serve => {
                    processed.lock().unwrap().push(path);
                    send(&mut tcp, ok(id)).await;
                }
                Script::RefuseFirst if !refused => {
                    refused = true;
                    send(&mut tcp, Frame::RstStream(RstStream::new(id, ErrorCode::REFUSED_STREAM)))
                        .await;
                }
                Script::RefuseFirst => {
                    processed.lock().unwrap().push(path);
                    send(&mut tcp, ok(id)).await;
                }
                Script::GoAway { after, keep, code } => {
                    received.push((id, path));
                    if received.len() == after {
                        let last = received[keep - 1].0;
                        send(&mut tcp, Frame::GoAway(GoAway::new(last, code))).await;
                        for (id, path) in &received[..keep] {
                            processed.lock().unwrap().push(path.clone());
                            send(&mut tcp, ok(*id)).await;
                        }
                        let _ = tcp.shutdown().await;
                        return;
                    }
                }
            }
        }
    }
}

/// Sends `n` GETs at once (each waits in the pool until the first connection is up, so
/// all go out on it together) and returns their results by path.
async fn burst(
    client: &Client,
    addr: SocketAddr,
    n: usize,
) -> HashMap<String, Result<u16, String>> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let client = client.clone();
        let path = format!("/r{i}");
        tasks.push(tokio::spawn(async move {
            let result = client.request(get(addr, &path)).await;
            (path, result.map(|r| r.status().as_u16()).map_err(|e| e.to_string()))
        }));
    }
    let mut results = HashMap::new();
    for task in tasks {
        let (path, result) = task.await.unwrap();
        results.insert(path, result);
    }
    results
}

fn assert_no_duplicates(processed: &Processed, n: usize) {
    let mut seen = processed.lock().unwrap().clone();
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), before, "a request was processed twice: {seen:?}");
    assert_eq!(seen.len(), n, "every request processed once: {seen:?}");
}

/// RFC 9113 §6.8 / §8.7: streams above GOAWAY's last_stream_id were not processed and are
/// retried on a new connection, once each; nothing the server processed arrives twice.
async fn goaway_mid_flight(code: ErrorCode) -> HashMap<String, Result<u16, String>> {
    let (addr, processed) = raw_server(Script::GoAway { after: 4, keep: 2, code }).await;
    let client = Client::new();
    let results = burst(&client, addr, 4).await;
    // r0..r3 go out in order on the first connection as streams 1, 3, 5, 7; the GOAWAY
    // keeps 1 and 3.
    for path in ["/r2", "/r3"] {
        assert_eq!(results[path], Ok(200), "{path}: above last_stream_id, retried");
    }
    assert_no_duplicates(&processed, 4);
    let metrics = client.metrics();
    assert_eq!(metrics.retries, 2, "the two above last_stream_id, once each");
    assert_eq!(metrics.connects, 2, "one replacement connection");
    results
}

#[tokio::test]
async fn graceful_goaway_mid_flight_retries_only_what_was_not_processed() {
    within(async {
        let results = goaway_mid_flight(ErrorCode::NO_ERROR).await;
        for path in ["/r0", "/r1"] {
            assert_eq!(results[path], Ok(200), "{path}: at or below last_stream_id, completes");
        }
    })
    .await;
}

/// With an error code too: "activity on streams numbered lower than or equal to the last
/// stream identifier might still complete successfully" (RFC 9113 §6.8), so the streams the
/// server completes after its GOAWAY are the caller's; only those above are retried.
#[tokio::test]
async fn goaway_with_an_error_code_mid_flight_retries_only_what_was_not_processed() {
    within(async {
        let results = goaway_mid_flight(ErrorCode::INTERNAL_ERROR).await;
        for path in ["/r0", "/r1"] {
            assert_eq!(results[path], Ok(200), "{path}: at or below last_stream_id, completes");
        }
    })
    .await;
}

#[tokio::test]
async fn refused_stream_is_retried_once_and_processed_once() {
    within(async {
        let (addr, processed) = raw_server(Script::RefuseFirst).await;
        let client = Client::new();
        let response = client.request(get(addr, "/only")).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_no_duplicates(&processed, 1);
        assert_eq!(client.metrics().retries, 1);
    })
    .await;
}

#[tokio::test]
async fn a_refused_body_is_replayed_only_when_marked_replayable() {
    within(async {
        let (addr, processed) = raw_server(Script::RefuseFirst).await;
        let client = Client::new();
        let body = || Full::new(Bytes::from_static(b"payload"));
        let once = Request::post(url(addr, "/once")).body(body()).unwrap();
        let error = client.request(once).await.unwrap_err();
        assert!(error.is_safe_to_retry(), "refused: not processed ({error})");
        assert!(
            matches!(
                error.kind(),
                ClientErrorKind::Request { verdict: Verdict::SafeButNotReplayable, .. }
            ),
            "{error:?}"
        );
        let (addr2, processed2) = raw_server(Script::RefuseFirst).await;
        let twice = replayable(Request::post(url(addr2, "/twice")).body(body()).unwrap());
        assert_eq!(client.request(twice).await.unwrap().status(), 200);
        assert_no_duplicates(&processed, 0);
        assert_no_duplicates(&processed2, 1);
    })
    .await;
}

/// A request that may have been processed (the connection dropped after it was sent,
/// without GOAWAY) is not retried, and the error says a retry is not safe.
#[tokio::test]
async fn a_request_that_may_have_been_processed_is_not_retried() {
    within(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut preface = [0u8; 24];
                    let _ = tcp.read_exact(&mut preface).await;
                    send(&mut tcp, Frame::Settings(Settings::new())).await;
                    send(&mut tcp, Frame::Settings(Settings::ack())).await;
                    let mut decoder = FrameDecoder::new();
                    let mut buf = vec![0u8; 16 << 10];
                    loop {
                        let n = tcp.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        decoder.extend(&buf[..n]);
                        while let Ok(Some(frame)) = decoder.next_frame() {
                            if matches!(frame, Frame::Headers(_)) {
                                return; // drop the connection with the request in flight
                            }
                        }
                    }
                });
            }
        });
        let client = Client::new();
        let error = client.request(get(addr, "/")).await.unwrap_err();
        assert!(!error.is_safe_to_retry(), "{error}");
        assert!(
            matches!(error.kind(), ClientErrorKind::Request { verdict: Verdict::NotSafe, .. }),
            "{error:?}"
        );
        assert_eq!(client.metrics().retries, 0);
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "no second attempt");
    })
    .await;
}

#[tokio::test]
async fn a_full_queue_fails_fast() {
    within(async {
        let gate = Arc::new(Semaphore::new(0));
        let mut config = Config::default();
        config.max_concurrent_streams = 1;
        let g = gate.clone();
        let (addr, _) = counting_server(config, move |_: Request<RecvBody>| {
            let gate = g.clone();
            async move {
                gate.acquire().await.unwrap().forget();
                Response::new(Full::new(Bytes::new()))
            }
        })
        .await;
        let client =
            Client::builder().max_connections_per_origin(1).max_waiting_per_origin(1).build();
        let first = tokio::spawn({
            let client = client.clone();
            async move { client.request(get(addr, "/1")).await.map(|r| r.status()) }
        });
        while client.metrics().hits + client.metrics().misses < 1 || client.metrics().connected < 1
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Teach the pool the limit: the second request meets a full connection and waits.
        let second = tokio::spawn({
            let client = client.clone();
            async move { client.request(get(addr, "/2")).await.map(|r| r.status()) }
        });
        while client.metrics().waiting < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let error = client.request(get(addr, "/3")).await.unwrap_err();
        assert!(matches!(error.kind(), ClientErrorKind::Pool(CheckoutError::QueueFull)), "{error}");
        assert!(error.is_safe_to_retry());
        gate.add_permits(2);
        assert_eq!(first.await.unwrap().unwrap(), 200);
        assert_eq!(second.await.unwrap().unwrap(), 200);
    })
    .await;
}

#[tokio::test]
async fn the_breaker_opens_on_a_server_that_is_down_and_closes_when_it_is_back() {
    within(async {
        // A port with nothing listening.
        let addr = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let client = Client::builder()
            .backoff(Backoff { base: Duration::from_millis(1), max: Duration::from_millis(5) })
            .breaker(BreakerConfig { failure_threshold: 3, cool_down: Duration::from_millis(300) })
            .build();
        for _ in 0..3 {
            let error = client.request(get(addr, "/")).await.unwrap_err();
            assert!(matches!(error.kind(), ClientErrorKind::Connect(_)), "{error}");
            assert!(error.is_safe_to_retry());
        }
        let error = client.request(get(addr, "/")).await.unwrap_err();
        let retry_after = error.retry_after().expect("breaker open: fails fast");
        assert_eq!(client.metrics().connects, 3, "no connect while open");
        // The server comes back on the same port.
        let listener = TcpListener::bind(addr).await.unwrap();
        tokio::spawn(async move {
            Server::new(Config::default())
                .serve(listener, |_: Request<RecvBody>| async {
                    Response::new(Full::new(Bytes::from("back")))
                })
                .await
        });
        tokio::time::sleep(retry_after).await;
        let response = client.request(get(addr, "/")).await.unwrap();
        assert_eq!(body_of(response).await, "back");
        let m = client.metrics();
        assert_eq!((m.breaker_opened, m.breaker_half_opened, m.breaker_closed), (1, 1, 1));
        assert_eq!(m.breaker_rejections, 1);
        assert_eq!(m.connect_failures, 3);
    })
    .await;
}

#[tokio::test]
async fn idle_connections_are_closed_and_reopened_on_demand() {
    within(async {
        let (addr, accepted) = answering("x").await;
        let client = Client::builder().idle_timeout(Some(Duration::from_millis(100))).build();
        let response = client.request(get(addr, "/")).await.unwrap();
        body_of(response).await;
        while client.metrics().closed_by(h2proto_tokio::pool::CloseReason::IdleTimeout) < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let response = client.request(get(addr, "/")).await.unwrap();
        body_of(response).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    })
    .await;
}

#[tokio::test]
async fn https_without_a_tls_configuration_is_a_clear_error() {
    within(async {
        let client = Client::new();
        let request = Request::get("https://localhost:1/").body(Empty::<Bytes>::new()).unwrap();
        let error = client.request(request).await.unwrap_err();
        assert!(matches!(error.kind(), ClientErrorKind::TlsUnavailable), "{error}");
        assert_eq!(client.metrics().connects, 0);
    })
    .await;
}

/// `https://` through rustls with ALPN `h2`, trusting a CA made here; SNI and the
/// certificate name come from the URI's host.
#[cfg(feature = "rustls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_origins_use_tls_with_a_custom_ca() {
    use h2proto_tokio::tls::{self, rustls};
    within(async {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = certified.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let server_tls = tls::server_config(vec![cert.clone()], key).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(h2proto_tokio::server::serve_tls(
            listener,
            server_tls,
            |request: Request<RecvBody>| async move {
                Response::new(Full::new(Bytes::from(format!("tls {}", request.uri().path()))))
            },
        ));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client = Client::builder().tls(tls::client_config(roots).unwrap()).build();
        for path in ["/a", "/b"] {
            let uri = format!("https://localhost:{port}{path}");
            let response = client
                .request(Request::get(uri).body(Empty::<Bytes>::new()).unwrap())
                .await
                .unwrap();
            assert_eq!(body_of(response).await, format!("tls {path}"));
        }
        assert_eq!(client.metrics().connects, 1);
        // A name the certificate does not carry fails the handshake: a connect error.
        let uri = format!("https://127.0.0.1:{port}/");
        let error = client.request(Request::get(uri).body(Empty::<Bytes>::new()).unwrap()).await;
        assert!(matches!(error.unwrap_err().kind(), ClientErrorKind::Connect(_)));
    })
    .await;
}

/// A handler that answers `/ok` at once, sends only the head for `/head-only` (its body
/// never comes), and never answers anything else.
async fn hanging_server(config: Config) -> (SocketAddr, Arc<AtomicUsize>) {
    counting_server(config, |request: Request<RecvBody>| async move {
        match request.uri().path() {
            "/ok" => Response::new(Full::new(Bytes::from("ok"))),
            _ => std::future::pending().await,
        }
    })
    .await
}

/// The whole-request timeout bounds a request the server never answers; the request's
/// stream is given back (RST_STREAM CANCEL), so the next request uses the same connection
/// even under MAX_CONCURRENT_STREAMS 1.
#[tokio::test]
async fn the_request_timeout_fails_the_request_and_frees_its_stream() {
    within(async {
        let mut config = Config::default();
        config.max_concurrent_streams = 1;
        let (addr, accepted) = hanging_server(config).await;
        let client = Client::builder()
            .max_connections_per_origin(1)
            .request_timeout(Some(Duration::from_millis(200)))
            .build();
        let error = client.request(get(addr, "/never")).await.unwrap_err();
        assert!(matches!(error.kind(), ClientErrorKind::Timeout), "{error}");
        assert!(!error.is_safe_to_retry(), "it was sent: it may have been processed");
        let response = client.request(get(addr, "/ok")).await.unwrap();
        assert_eq!(body_of(response).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    })
    .await;
}

/// A raw server that answers each request with a head and `chunk`, then stays silent
/// (it never answers PINGs either).
async fn silent_after_head(chunk: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut preface = [0u8; 24];
                let _ = tcp.read_exact(&mut preface).await;
                send(&mut tcp, Frame::Settings(Settings::new())).await;
                send(&mut tcp, Frame::Settings(Settings::ack())).await;
                let mut decoder = FrameDecoder::new();
                let mut buf = vec![0u8; 16 << 10];
                loop {
                    let n = tcp.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    decoder.extend(&buf[..n]);
                    while let Ok(Some(frame)) = decoder.next_frame() {
                        if let Frame::Headers(h) = frame {
                            let head =
                                Headers::new(h.stream_id, Bytes::from_static(&[0x88]), false);
                            send(&mut tcp, Frame::Headers(head)).await;
                            if !chunk.is_empty() {
                                let data = Data::new(h.stream_id, Bytes::from_static(chunk), false);
                                send(&mut tcp, Frame::Data(data)).await;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// A body that stops mid-way fails after the body timeout instead of hanging.
#[tokio::test]
async fn a_stalled_body_fails_after_the_body_timeout() {
    within(async {
        let addr = silent_after_head(b"first").await;
        let client = Client::builder().body_timeout(Some(Duration::from_millis(200))).build();
        let response = client.request(get(addr, "/")).await.unwrap();
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "first");
        let error = body.frame().await.unwrap().unwrap_err();
        assert!(matches!(error.kind(), ClientErrorKind::BodyStalled), "{error}");
        assert!(body.frame().await.is_none(), "and stays ended");
    })
    .await;
}

/// RFC 9113 §6.7: a server that stops answering PINGs is detected by the keepalive within
/// its timeout; the request in flight fails with a typed error (it may have been
/// processed), and the pool replaces the connection.
#[tokio::test]
async fn a_server_that_stops_answering_pings_is_detected() {
    within(async {
        let addr = silent_after_head(b"").await;
        let client = Client::builder()
            .keepalive(Some(Duration::from_millis(100)), Duration::from_millis(200))
            .body_timeout(None)
            .build();
        let response = client.request(get(addr, "/")).await.unwrap();
        let error = response.into_body().frame().await.unwrap().unwrap_err();
        assert!(matches!(error.kind(), ClientErrorKind::Body(_)), "{error}");
        assert!(!error.is_safe_to_retry());
        while client.metrics().closed_by(h2proto_tokio::pool::CloseReason::Error) < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = client.request(get(addr, "/")).await.unwrap();
        assert_eq!(client.metrics().connects, 2, "a fresh connection");
    })
    .await;
}

/// A URI with only a path goes to the default origin and is sent with its `:scheme` and
/// `:authority` (as tonic's generated clients send requests).
#[tokio::test]
async fn path_only_requests_go_to_the_default_origin() {
    within(async {
        let (addr, _) =
            counting_server(Config::default(), |request: Request<RecvBody>| async move {
                let authority =
                    request.uri().authority().map(|a| a.to_string()).unwrap_or_default();
                Response::new(Full::new(Bytes::from(format!(
                    "{} {authority}",
                    request.uri().path()
                ))))
            })
            .await;
        let origin =
            h2proto_tokio::pool::Origin::from_uri(&url(addr, "/").parse().unwrap()).unwrap();
        let client = Client::builder().default_origin(origin).build();
        let request = Request::get("/svc/Method").body(Empty::<Bytes>::new()).unwrap();
        let response = client.request(request).await.unwrap();
        assert_eq!(body_of(response).await, format!("/svc/Method {addr}"));
        let error = Client::new()
            .request(Request::get("/svc/Method").body(Empty::<Bytes>::new()).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(error.kind(), ClientErrorKind::Uri(_)), "{error}");
    })
    .await;
}

/// The client is shared across tasks and threads; its futures and bodies move between
/// threads (a compile-time check).
#[test]
fn the_client_its_futures_and_bodies_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<Client>();
    send_sync::<h2proto_tokio::pool::ClientError>();
    fn body_is_send<T: http_body::Body + Send>() {}
    body_is_send::<h2proto_tokio::pool::ResponseBody>();
    let client = Client::new();
    let future =
        client.request(Request::get("http://127.0.0.1:1/").body(Empty::<Bytes>::new()).unwrap());
    send(&future);
}

#[tokio::test]
async fn keepalive_round_trips_reach_the_metrics() {
    within(async {
        let (addr, accepted) = answering("x").await;
        // No health checks: only the connection's own keepalive PINGs can be measured.
        let client = Client::builder()
            .keepalive(Some(Duration::from_millis(50)), Duration::from_secs(5))
            .build();
        body_of(client.request(get(addr, "/")).await.unwrap()).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while client.metrics().ping_samples < 2 {
            assert!(tokio::time::Instant::now() < deadline, "no keepalive sample");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let metrics = client.metrics();
        let rtt = metrics.last_ping_rtt.expect("a keepalive round trip");
        assert!(rtt > Duration::ZERO, "the core's measured round trip, not a placeholder");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn a_long_idle_connection_is_checked_with_a_ping_and_its_rtt_reported() {
    within(async {
        let (addr, accepted) = answering("x").await;
        let client = Client::builder().check_after_idle(Some(Duration::from_millis(20))).build();
        body_of(client.request(get(addr, "/")).await.unwrap()).await;
        assert_eq!(client.metrics().last_ping_rtt, None, "no check yet");
        // Idle past the check and past the lanes' sweep (their credits go back to the
        // pool), the next request waits for the PING (RFC 9113 §8.7) on the same connection.
        tokio::time::sleep(Duration::from_millis(300)).await;
        body_of(client.request(get(addr, "/")).await.unwrap()).await;
        let metrics = client.metrics();
        assert_eq!(metrics.ping_samples, 1);
        let rtt = metrics.last_ping_rtt.expect("the check's round trip");
        assert!(rtt > Duration::ZERO, "the core's measured round trip, not a placeholder");
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "the checked connection served it");
    })
    .await;
}
