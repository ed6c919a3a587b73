//! Pool checkout under contention (issue 15: "well under a microsecond; no lock shared by
//! every request on the hot path"): many tasks on a two-thread runtime take a stream of a
//! pooled connection and give it back, as every request does, against one client. The
//! connection is real (a server on loopback) and warmed up so its lane keeps free streams;
//! nothing is sent during the measurement, so it is the checkout alone.
//!
//! `cargo bench -p h2proto-tokio --bench pool_checkout` (under `flock
//! /work/notes/bench.lock` on a shared machine).

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use h2proto_tokio::RecvBody;
use h2proto_tokio::pool::Client;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Tasks checking out at once.
const TASKS: u64 = 64;
/// Streams the warm-up leaves with the connection's lane.
const WARM: usize = 128;

fn checkout(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (client, uri) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = |_: Request<RecvBody>| async { Response::new(Full::new(Bytes::new())) };
        tokio::spawn(h2proto_tokio::server::serve(listener, handler));
        let client = Client::builder().max_connections_per_origin(1).build();
        let uri: http::Uri = format!("http://{addr}/").parse().unwrap();
        // Concurrent requests: their streams stay with the lane as credits.
        let requests = (0..WARM).map(|_| {
            let request = Request::get(uri.clone()).body(Empty::<Bytes>::new()).unwrap();
            let client = client.clone();
            async move {
                let response = client.request(request).await.unwrap();
                response.into_body().collect().await.unwrap();
            }
        });
        futures_util::future::join_all(requests).await;
        assert!(client.bench_checkout(&uri).is_some(), "the lane keeps free streams");
        (client, uri)
    });
    let mut group = c.benchmark_group("pool");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("checkout_64_tasks_2_threads", |b| {
        b.iter_custom(|iters| {
            let per_task = iters.div_ceil(TASKS);
            runtime.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let client = client.clone();
                        let uri = uri.clone();
                        tokio::spawn(async move {
                            for i in 0..per_task {
                                let lease = client.bench_checkout(&uri).expect("a free stream");
                                black_box(&lease);
                                drop(lease);
                                if i % 32 == 31 {
                                    // Let the other tasks of this thread interleave.
                                    tokio::task::yield_now().await;
                                }
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                // Time per checkout: all tasks' checkouts over the wall time of the two
                // threads, scaled to `iters`.
                start.elapsed().mul_f64(iters as f64 / (per_task * TASKS) as f64)
            })
        })
    });
    group.finish();
}

criterion_group!(benches, checkout);
criterion_main!(benches);
