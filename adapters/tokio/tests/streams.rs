//! Requests and responses over real loopback TCP: concurrency, large bodies through small
//! flow-control windows, trailers both ways, the concurrent-stream limit, 1xx responses.

mod support;

use bytes::Bytes;
use h2proto_tokio::server::Interim;
use h2proto_tokio::{Config, RecvBody, client};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::*;

/// Echoes the request body (streaming, with backpressure) on any path.
async fn echo(request: Request<RecvBody>) -> Response<RecvBody> {
    Response::new(request.into_body())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_requests_from_many_tasks_share_one_connection() {
    within(async {
        let addr = serve(Config::default(), echo).await;
        let (send, conn) = connect(addr, Config::default()).await;
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let send = send.clone();
                tokio::spawn(async move {
                    let body = format!("request number {i}");
                    let request = Request::post(url(addr, "/echo"))
                        .body(Full::new(Bytes::from(body.clone())));
                    let response = send.send_request(request.unwrap()).await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                    let got = response.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(got, body);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        drop(send);
        // Every handle gone: the client closes the connection gracefully.
        conn.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_mib_up_and_down_through_16_kib_windows() {
    within(async {
        let addr = serve(small_windows(), echo).await;
        let (send, _conn) = connect(addr, small_windows()).await;
        let data = pattern(8 << 20);
        let request = Request::post(url(addr, "/echo")).body(Full::new(data.clone())).unwrap();
        let response = send.send_request(request).await.unwrap();
        let mut body = response.into_body();
        let mut got = Vec::with_capacity(data.len());
        let mut frames = 0;
        while let Some(frame) = body.frame().await {
            let chunk = frame.unwrap().into_data().unwrap();
            assert!(chunk.len() <= 16 << 10, "a DATA frame never exceeds the frame size");
            got.extend_from_slice(&chunk);
            frames += 1;
        }
        assert_eq!(got.len(), data.len());
        assert!(got == data, "the echoed body is the uploaded one");
        assert!(frames >= (8 << 20) / (16 << 10), "the body arrived in window-sized pieces");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_mib_download_with_default_settings() {
    within(async {
        let addr = serve(Config::default(), |_req: Request<RecvBody>| async {
            Response::new(Full::new(pattern(8 << 20)))
        })
        .await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let request = Request::get(url(addr, "/big")).body(Empty::<Bytes>::new()).unwrap();
        let response = send.send_request(request).await.unwrap();
        let got = response.into_body().collect().await.unwrap().to_bytes();
        assert!(got == pattern(8 << 20));
    })
    .await;
}

fn trailers(name: &'static str, value: &'static str) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert(name, HeaderValue::from_static(value));
    map
}

#[tokio::test]
async fn trailers_travel_both_ways() {
    within(async {
        let addr = serve(Config::default(), |request: Request<RecvBody>| async move {
            // Read the whole request, trailers included.
            let collected = request.into_body().collect().await.unwrap();
            let got_trailers = collected.trailers().cloned().unwrap_or_default();
            let data = collected.to_bytes();
            let echo_trailer = got_trailers.get("x-client-sum").cloned();
            let frames = vec![
                Ok::<_, Infallible>(Frame::data(data)),
                Ok(Frame::trailers({
                    let mut t = trailers("x-server-status", "all good");
                    if let Some(v) = echo_trailer {
                        t.insert("x-echoed-sum", v);
                    }
                    t
                })),
            ];
            Response::new(StreamBody::new(futures_util::stream::iter(frames)))
        })
        .await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let frames = vec![
            Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"payload"))),
            Ok(Frame::trailers(trailers("x-client-sum", "1234"))),
        ];
        let request = Request::post(url(addr, "/t"))
            .header("te", "trailers")
            .body(StreamBody::new(futures_util::stream::iter(frames)))
            .unwrap();
        let response = send.send_request(request).await.unwrap();
        let collected = response.into_body().collect().await.unwrap();
        let got = collected.trailers().cloned().expect("response trailers");
        assert_eq!(collected.to_bytes(), "payload");
        assert_eq!(got["x-server-status"], "all good");
        assert_eq!(got["x-echoed-sum"], "1234");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_wait_for_the_servers_concurrent_stream_limit() {
    within(async {
        let mut config = Config::default();
        config.max_concurrent_streams = 2;
        let active = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (a, p) = (active.clone(), peak.clone());
        let addr = serve(config, move |_req: Request<RecvBody>| {
            let (active, peak) = (a.clone(), p.clone());
            async move {
                let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                // Hold the stream open a moment so requests pile up behind the limit.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                active.fetch_sub(1, Ordering::SeqCst);
                Response::new(Full::new(Bytes::from_static(b"ok")))
            }
        })
        .await;
        let (send, _conn) = connect(addr, Config::default()).await;
        // The first exchange brings the server's SETTINGS (the limit) to the client.
        let first = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        send.send_request(first).await.unwrap();
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let send = send.clone();
                tokio::spawn(async move {
                    let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new());
                    let response = send.send_request(request.unwrap()).await.unwrap();
                    response.into_body().collect().await.unwrap().to_bytes()
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), "ok", "no request was refused");
        }
        assert!(peak.load(Ordering::SeqCst) <= 2, "never more than 2 streams at once");
    })
    .await;
}

#[tokio::test]
async fn informational_responses_reach_the_callback_before_the_final_one() {
    within(async {
        let addr = serve(Config::default(), |request: Request<RecvBody>| async move {
            let interim = request.extensions().get::<Interim>().unwrap();
            let hints = Response::builder()
                .status(103)
                .header("link", "</style.css>; rel=preload")
                .body(())
                .unwrap();
            interim.send(hints).unwrap();
            Response::new(Full::new(Bytes::from_static(b"final")))
        })
        .await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        let log = seen.clone();
        client::on_informational(&mut request, move |head| {
            log.lock().unwrap().push((head.status(), head.headers()["link"].clone()));
        });
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, StatusCode::EARLY_HINTS);
        assert_eq!(seen[0].1, "</style.css>; rel=preload");
    })
    .await;
}

#[tokio::test]
async fn a_handler_that_panics_resets_its_stream_only() {
    within(async {
        let addr = serve(Config::default(), |request: Request<RecvBody>| async move {
            if request.uri().path() == "/panic" {
                panic!("handler failure (expected by the test)");
            }
            Response::new(Full::new(Bytes::from_static(b"fine")))
        })
        .await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let request = Request::get(url(addr, "/panic")).body(Empty::<Bytes>::new()).unwrap();
        let error = send.send_request(request).await.unwrap_err();
        assert_eq!(error.reset_code(), Some(h2proto_tokio::ErrorCode::INTERNAL_ERROR));
        assert!(!error.is_retryable());
        let request = Request::get(url(addr, "/ok")).body(Empty::<Bytes>::new()).unwrap();
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "fine");
    })
    .await;
}

/// A body of exact size (here `Full`) reaches the client with its content-length, declared
/// by the adapter; a stream of unknown length goes without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_bodies_carry_their_length_and_streamed_ones_do_not() {
    within(async {
        let handler = |request: Request<RecvBody>| async move {
            let body = if request.uri().path() == "/full" {
                Full::new(Bytes::from_static(b"twelve bytes")).boxed()
            } else {
                let chunks = [Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"some")))];
                StreamBody::new(futures_util::stream::iter(chunks)).boxed()
            };
            Response::new(body)
        };
        let addr = serve(Config::default(), handler).await;
        let (send, _conn) = connect(addr, Config::default()).await;
        for (path, length) in [("/full", Some("12")), ("/streamed", None)] {
            let request = Request::get(url(addr, path)).body(Empty::<Bytes>::new()).unwrap();
            let response = send.send_request(request).await.unwrap();
            let declared = response.headers().get("content-length").map(|v| v.to_str().unwrap());
            assert_eq!(declared, length, "{path}");
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body.len(), if path == "/full" { 12 } else { 4 });
        }
    })
    .await;
}
