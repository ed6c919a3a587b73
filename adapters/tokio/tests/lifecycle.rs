//! Streams and connections that end early: resets, graceful shutdown, keepalive timeout,
//! a peer that disappears.

mod support;

use bytes::Bytes;
use h2proto_tokio::server::Server;
use h2proto_tokio::{Config, ErrorCode, ErrorKind, RecvBody, client};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, oneshot};

type Slot<T> = Arc<Mutex<Option<T>>>;

fn slot<T>(value: T) -> Slot<T> {
    Arc::new(Mutex::new(Some(value)))
}

fn take<T>(slot: &Slot<T>) -> T {
    slot.lock().unwrap().take().expect("used once")
}

#[tokio::test]
async fn dropping_a_response_body_mid_stream_resets_the_stream_on_the_server() {
    within(async {
        let (body_dropped_tx, body_dropped) = oneshot::channel();
        let (request_result_tx, request_result) = oneshot::channel();
        let slots = slot((body_dropped_tx, request_result_tx));
        let addr = serve(Config::default(), move |request: Request<RecvBody>| {
            let (dropped, result) = take(&slots);
            async move {
                // The request body is still open: watch what becomes of it.
                let mut request_body = request.into_body();
                tokio::spawn(async move {
                    let outcome = loop {
                        match request_body.frame().await {
                            Some(Ok(_)) => continue,
                            Some(Err(e)) => break Err(e),
                            None => break Ok(()),
                        }
                    };
                    let _ = result.send(outcome);
                });
                let (mut body, _) = CountingBody::new(usize::MAX, 16 << 10);
                body.dropped = Some(dropped);
                Response::new(body)
            }
        })
        .await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let request =
            Request::post(url(addr, "/stream")).body(PendingBody { dropped: None }).unwrap();
        let mut body = send.send_request(request).await.unwrap().into_body();
        body.frame().await.unwrap().unwrap();
        drop(body);
        body_dropped.await.expect("the server dropped the response body");
        let error = request_result.await.unwrap().expect_err("the request body was reset");
        assert_eq!(error.reset_code(), Some(ErrorCode::CANCEL));
        assert!(matches!(
            error.kind(),
            ErrorKind::Reset { initiator: h2proto_tokio::Initiator::Remote, .. }
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_requests_in_flight_and_refuses_new_ones() {
    within(async {
        let started = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let (s, r) = (started.clone(), release.clone());
        let handler = move |request: Request<RecvBody>| {
            let (started, release) = (s.clone(), r.clone());
            async move {
                if request.uri().path() == "/slow" {
                    started.notify_one();
                    release.notified().await;
                    return Response::new(Full::new(Bytes::from_static(b"finished")));
                }
                Response::new(Full::new(Bytes::from_static(b"ok")))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            Server::default()
                .serve_with_shutdown(listener, handler, async {
                    let _ = stop_rx.await;
                })
                .await
        });
        let (send, conn) = connect(addr, Config::default()).await;
        let slow = {
            let send = send.clone();
            tokio::spawn(async move {
                let request = Request::get(url(addr, "/slow")).body(Empty::<Bytes>::new());
                let response = send.send_request(request.unwrap()).await.unwrap();
                response.into_body().collect().await.unwrap().to_bytes()
            })
        };
        started.notified().await;
        stop_tx.send(()).unwrap();
        // Requests sent before the client learns of the GOAWAY may still be served; once it
        // has, they are refused as safe to retry.
        let refusal = loop {
            let request = Request::get(url(addr, "/new")).body(Empty::<Bytes>::new()).unwrap();
            match send.send_request(request).await {
                Ok(response) => assert_eq!(response.status(), 200),
                Err(error) => break error,
            }
            tokio::task::yield_now().await;
        };
        assert!(refusal.is_retryable(), "refused as retryable: {refusal}");
        release.notify_one();
        assert_eq!(slow.await.unwrap(), "finished", "the request in flight completed");
        server.await.unwrap().expect("serve_with_shutdown returns once connections closed");
        drop(send);
        conn.await.unwrap().expect("the client saw a clean close");
    })
    .await;
}

/// A server that completes the HTTP/2 handshake and then never answers anything.
async fn silent_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        // The client preface (24 bytes) then its SETTINGS: read at least the preface.
        let mut got = 0;
        while got < 24 {
            got += tcp.read(&mut buf[got..]).await.unwrap();
        }
        // Our (empty) SETTINGS and the ACK of the client's.
        tcp.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
        tcp.write_all(&[0, 0, 0, 4, 1, 0, 0, 0, 0]).await.unwrap();
        // Silence: read and ignore everything, PINGs included, keeping the socket open.
        while tcp.read(&mut buf).await.map(|n| n > 0).unwrap_or(false) {}
        std::future::pending::<()>().await;
    });
    addr
}

fn keepalive() -> Config {
    let mut config = Config::default();
    config.keepalive_interval = Some(Duration::from_millis(100));
    config.keepalive_timeout = Duration::from_millis(200);
    config
}

#[tokio::test]
async fn client_keepalive_detects_a_peer_that_went_silent() {
    within(async {
        let addr = silent_server().await;
        let (send, conn) = connect(addr, keepalive()).await;
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        let error = send.send_request(request).await.expect_err("no answer ever comes");
        assert!(!error.is_retryable(), "the request may have been processed: {error}");
        let error = conn.await.unwrap().expect_err("the connection ends with an error");
        let reason = error.connection_error().expect("a connection error").reason.clone();
        assert!(reason.contains("keepalive"), "{reason}");
    })
    .await;
}

#[tokio::test]
async fn server_keepalive_detects_a_client_that_went_silent() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let handler = |_req: Request<RecvBody>| async { Response::new(Empty::<Bytes>::new()) };
            Server::new(keepalive()).handshake(tcp, handler).await
        });
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(h2proto::PREFACE).await.unwrap();
        tcp.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap(); // SETTINGS
        tcp.write_all(&[0, 0, 0, 4, 1, 0, 0, 0, 0]).await.unwrap(); // ACK of the server's
        let error = server.await.unwrap().expect_err("the server gives up on the client");
        let reason = error.connection_error().expect("a connection error").reason.clone();
        assert!(reason.contains("keepalive"), "{reason}");
        drop(tcp);
    })
    .await;
}

#[tokio::test]
async fn a_server_that_disappears_mid_response_fails_the_body_without_hanging() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let handler = |_req: Request<RecvBody>| async {
                let mut body = CountingBody::new(usize::MAX, 1024).0;
                body.chunk = 1024;
                Response::new(body)
            };
            Server::default().handshake(tcp, handler).await
        });
        let (send, conn) = connect(addr, Config::default()).await;
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        let mut body = send.send_request(request).await.unwrap().into_body();
        body.frame().await.unwrap().unwrap();
        // The server's process "dies": its connection and socket are dropped.
        server.abort();
        let error = loop {
            match body.frame().await {
                Some(Ok(_)) => continue,
                Some(Err(e)) => break e,
                None => panic!("the body cannot end cleanly"),
            }
        };
        assert!(error.is_io(), "{error}");
        assert!(conn.await.unwrap().unwrap_err().is_io());
        // New requests fail at once.
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        assert!(send.send_request(request).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn a_client_that_disappears_mid_upload_fails_the_request_body() {
    within(async {
        let (result_tx, result) = oneshot::channel();
        let slots = slot(result_tx);
        let addr = serve(Config::default(), move |request: Request<RecvBody>| {
            let result = take(&slots);
            // The body is read in a task of its own: the handler itself is cancelled when
            // its connection dies.
            let body = request.into_body();
            tokio::spawn(async move {
                let _ = result.send(body.collect().await.map(|_| ()));
            });
            async move { Response::new(PendingBody { dropped: None }) }
        })
        .await;
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (send, conn) = client::handshake(tcp);
        let conn = tokio::spawn(conn);
        let (body, _) = CountingBody::new(usize::MAX, 1024);
        let progress = body.progress.clone();
        let request = Request::post(url(addr, "/upload")).body(body).unwrap();
        let pending = tokio::spawn(async move { send.send_request(request).await });
        // Once some of the body has left, the client "dies".
        progress.notified().await;
        conn.abort();
        let error = result.await.unwrap().expect_err("the upload cannot complete");
        assert!(error.is_io(), "{error}");
        assert!(pending.await.unwrap().is_err());
    })
    .await;
}

#[tokio::test]
async fn an_invalid_config_is_refused_before_serving() {
    // RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE below 16,384 is illegal on the wire.
    let mut config = Config::default();
    config.max_frame_size = 1000;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handler = |_: Request<RecvBody>| async { Response::new(Empty::<Bytes>::new()) };
    let error = within(Server::new(config).serve(listener, handler)).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("max_frame_size"), "{error}");
}
