//! Interop with real peers over loopback: curl, nghttp and h2load against this crate's
//! server; this crate's client against nghttpd; hyper in both directions.
//!
//! The command-line tools come from the Debian packages `curl`, `nghttp2-client` and
//! `nghttp2-server`. A missing tool fails the test: interop is not optional.

mod support;

use bytes::Bytes;
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Output;
use support::*;

type Reply = Either<Full<Bytes>, RecvBody>;

/// The example server's behaviour: hello on any path, echo on `/echo`.
async fn hello_or_echo(request: Request<RecvBody>) -> Response<Reply> {
    if request.uri().path() == "/echo" {
        return Response::new(Either::Right(request.into_body()));
    }
    Response::new(Either::Left(Full::new(Bytes::from_static(b"hello\n"))))
}

/// Runs a tool to completion; panics (fails the test) if it cannot be started.
async fn run(program: &str, args: &[&str]) -> Output {
    let output = tokio::process::Command::new(program)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{program} must be installed to run this test: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A fresh directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "h2proto-tokio-{name}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_against_our_server() {
    within(async {
        let addr = serve(Config::default(), hello_or_echo).await;
        let out = run(
            "curl",
            &["-sS", "--http2-prior-knowledge", "-w", "%{http_version}", &url(addr, "/")],
        )
        .await;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n2");

        let dir = temp_dir("curl");
        let upload = dir.join("upload.bin");
        std::fs::write(&upload, pattern(3 << 20)).unwrap();
        let data = format!("@{}", upload.display());
        let out = run(
            "curl",
            &["-sS", "--http2-prior-knowledge", "--data-binary", &data, &url(addr, "/echo")],
        )
        .await;
        assert!(out.stdout == pattern(3 << 20), "curl got its 3 MiB upload echoed");
        std::fs::remove_dir_all(dir).unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nghttp_against_our_server() {
    within(async {
        let addr = serve(Config::default(), hello_or_echo).await;
        let out = run("nghttp", &[&url(addr, "/")]).await;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");

        let dir = temp_dir("nghttp");
        let upload = dir.join("upload.bin");
        std::fs::write(&upload, pattern(1 << 20)).unwrap();
        let upload = upload.display().to_string();
        let out = run("nghttp", &["-d", &upload, &url(addr, "/echo")]).await;
        assert!(out.stdout == pattern(1 << 20), "nghttp got its upload echoed");
        // Several requests multiplexed on one connection, with verbose frame checking.
        let out =
            run("nghttp", &["-nv", &url(addr, "/a"), &url(addr, "/b"), &url(addr, "/c")]).await;
        let log = String::from_utf8_lossy(&out.stdout);
        assert_eq!(log.matches(":status: 200").count(), 3, "{log}");
        std::fs::remove_dir_all(dir).unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2load_against_our_server() {
    within(async {
        let addr = serve(Config::default(), hello_or_echo).await;
        let out = run("h2load", &["-n", "5000", "-c", "4", "-m", "20", &url(addr, "/")]).await;
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(report.contains("5000 succeeded, 0 failed, 0 errored"), "{report}");
        assert!(report.contains("5000 2xx"), "{report}");
        // With request bodies, on the echo path.
        let dir = temp_dir("h2load");
        let upload = dir.join("upload.bin");
        std::fs::write(&upload, pattern(64 << 10)).unwrap();
        let upload = upload.display().to_string();
        let out = run(
            "h2load",
            &["-n", "500", "-c", "2", "-m", "10", "-d", &upload, &url(addr, "/echo")],
        )
        .await;
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(report.contains("500 succeeded, 0 failed, 0 errored"), "{report}");
        std::fs::remove_dir_all(dir).unwrap();
    })
    .await;
}

/// A free port for a server we start as a process.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Connects once the process listens (it cannot tell us when it does).
async fn connect_when_listening(addr: SocketAddr) -> tokio::net::TcpStream {
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(tcp) => return tcp,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_nghttpd() {
    within(async {
        let dir = temp_dir("nghttpd");
        std::fs::write(dir.join("small.txt"), "served by nghttpd\n").unwrap();
        std::fs::write(dir.join("big.bin"), pattern(4 << 20)).unwrap();
        let port = free_port();
        let docroot = dir.display().to_string();
        let mut nghttpd = tokio::process::Command::new("nghttpd")
            .args(["--no-tls", "-d", &docroot, &port.to_string()])
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("nghttpd must be installed to run this test: {e}"));
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let tcp = connect_when_listening(addr).await;
        let (send, conn) = h2proto_tokio::client::handshake_with(tcp, small_windows());
        let conn = tokio::spawn(conn);

        let get = |path: &str| Request::get(url(addr, path)).body(Empty::<Bytes>::new()).unwrap();
        let response = send.send_request(get("/small.txt")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "served by nghttpd\n");

        // 4 MiB through 16 KiB windows, and 50 requests at once.
        let response = send.send_request(get("/big.bin")).await.unwrap();
        assert!(response.into_body().collect().await.unwrap().to_bytes() == pattern(4 << 20));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let send = send.clone();
                let request = get("/small.txt");
                tokio::spawn(async move {
                    let response = send.send_request(request).await.unwrap();
                    response.into_body().collect().await.unwrap().to_bytes()
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), "served by nghttpd\n");
        }
        let response = send.send_request(get("/missing")).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        drop(send);
        conn.await.unwrap().unwrap();
        nghttpd.kill().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_a_hyper_server() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        |request: Request<hyper::body::Incoming>| async move {
                            let body = if request.uri().path() == "/echo" {
                                Either::Right(request.into_body())
                            } else {
                                Either::Left(Full::new(Bytes::from_static(b"hello from hyper")))
                            };
                            Ok::<_, std::convert::Infallible>(Response::new(body))
                        },
                    );
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tcp), service)
                        .await
                });
            }
        });
        let (send, _conn) = connect(addr, small_windows()).await;
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hello from hyper");

        let request = Request::post(url(addr, "/echo")).body(Full::new(pattern(2 << 20))).unwrap();
        let response = send.send_request(request).await.unwrap();
        assert!(response.into_body().collect().await.unwrap().to_bytes() == pattern(2 << 20));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hyper_client_against_our_server() {
    within(async {
        let addr = serve(small_windows(), hello_or_echo).await;
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(conn);
        let request =
            Request::get(url(addr, "/")).body(Either::Left(Empty::<Bytes>::new())).unwrap();
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hello\n");

        let request = Request::post(url(addr, "/echo"))
            .body(Either::Right(Full::new(pattern(2 << 20))))
            .unwrap();
        let response = send.send_request(request).await.unwrap();
        assert!(response.into_body().collect().await.unwrap().to_bytes() == pattern(2 << 20));
    })
    .await;
}
