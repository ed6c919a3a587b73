//! The pooled `Client` shared by many tasks against real peers on loopback: nghttpd and a
//! hyper server, each limiting concurrent streams so the pool must add connections and
//! queue (RFC 9113 §6.5.2).

mod support;

use bytes::Bytes;
use h2proto_tokio::pool::Client;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::*;

const TASKS: usize = 16;
const PER_TASK: usize = 20;

/// `TASKS` tasks share `client`, each sending `PER_TASK` GETs to `path` in turn; every
/// response must be 200 with `expected`.
async fn hammer(client: &Client, addr: SocketAddr, path: &'static str, expected: &'static str) {
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..PER_TASK {
                    let request =
                        Request::get(url(addr, path)).body(Empty::<Bytes>::new()).unwrap();
                    let response = client.request(request).await.unwrap();
                    assert_eq!(response.status(), 200);
                    let body = response.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(body, expected);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_share_one_client_against_a_hyper_server_with_4_streams() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        |_: Request<hyper::body::Incoming>| async move {
                            let body = Full::new(Bytes::from_static(b"hello from hyper"));
                            Ok::<_, std::convert::Infallible>(Response::new(body))
                        },
                    );
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .max_concurrent_streams(4)
                        .serve_connection(TokioIo::new(tcp), service)
                        .await
                });
            }
        });
        let client = Client::builder().max_connections_per_origin(3).build();
        hammer(&client, addr, "/", "hello from hyper").await;
        // 16 tasks, 4 streams a connection: one is not enough, three are the bound.
        let connections = accepted.load(Ordering::SeqCst);
        assert!(
            (2..=3).contains(&connections),
            "extra connections, within the bound: {connections}"
        );
        let metrics = client.metrics();
        assert_eq!(metrics.connects as usize, connections);
        assert!(metrics.waits > 0, "requests queued for a stream: {metrics:?}");
        assert_eq!(metrics.connect_failures, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_share_one_client_against_nghttpd_with_2_streams() {
    within(async {
        let dir = std::env::temp_dir().join(format!("h2proto-pool-nghttpd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("small.txt"), "served by nghttpd\n").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let docroot = dir.display().to_string();
        let mut nghttpd = tokio::process::Command::new("nghttpd")
            .args(["--no-tls", "-m", "2", "-d", &docroot, &port.to_string()])
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("nghttpd must be installed to run this test: {e}"));
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        // Wait until it listens (a process cannot tell us).
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let client = Client::builder().max_connections_per_origin(4).build();
        hammer(&client, addr, "/small.txt", "served by nghttpd\n").await;
        // 16 tasks, 2 streams a connection: the pool grows to its bound of 4 and queues.
        // (Requests sent before nghttpd's SETTINGS arrived may be refused with
        // REFUSED_STREAM: those are retried, RFC 9113 §8.7.)
        let metrics = client.metrics();
        assert!((2..=4).contains(&metrics.connects), "{metrics:?}");
        assert!(metrics.waits > 0, "{metrics:?}");
        assert_eq!(metrics.connect_failures, 0);
        nghttpd.kill().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    })
    .await;
}
