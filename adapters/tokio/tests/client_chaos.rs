//! Chaos through the pooled client (`pool::Client`): thousands of requests from many
//! tasks, each batch sharing one `Client`, through a loopback proxy that splits every write
//! at random offsets and breaks connections mid-frame: RST (ECONNRESET), EOF, or a peer
//! that vanishes with its streams open (see `adapters/chaos_proxy.rs`; the n-th connection
//! gets the n-th fault, so faults cycle as the pool reconnects and as batches start).
//!
//! Every request ends: the right echo, or a `ClientError` (typed, with whether a retry is
//! safe). The server counts each request id it processed: none twice (RFC 9113 §8.7: what
//! may have been processed is never sent again). Afterwards nothing is left: the server's
//! connection futures (each completes only when its driver has ended) and the handlers'
//! bodies (counted by guards) return to zero once every `Client` is dropped, and every
//! connection the proxy saw was one a pool opened. Handlers answer after a delay of up to
//! 3 ms (by request id), so answers overtake each other.

mod support;

#[path = "../../chaos_proxy.rs"]
mod chaos_proxy;

use bytes::Bytes;
use chaos_proxy::{ChaosProxy, FAULTS, Fault, Rng};
use h2proto_tokio::pool::{Client, replayable};
use h2proto_tokio::server::Server;
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::within;

const SEED: u64 = 0x5eed_0015;
/// Batches, each with its own `Client` shared by `TASKS` tasks of `PER_TASK` requests:
/// 2,048 requests.
const BATCHES: usize = 16;
const TASKS: usize = 16;
const PER_TASK: usize = 8;
const MAX_BODY: usize = 16 << 10;

fn keepalive() -> Config {
    let mut c = Config::default();
    c.keepalive_interval = Some(Duration::from_millis(200));
    c.keepalive_timeout = Duration::from_millis(1000);
    c
}

/// Counts something live until dropped.
struct Guard(Arc<AtomicUsize>);

impl Guard {
    fn new(live: &Arc<AtomicUsize>) -> Guard {
        live.fetch_add(1, Ordering::SeqCst);
        Guard(live.clone())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug, Default)]
struct Tally {
    echoed: usize,
    failed: usize,
    retry_safe: usize,
}

async fn echo_once(client: &Client, url: &str, id: usize, sent: Bytes, tally: &Mutex<Tally>) {
    let request = Request::post(url)
        .header("x-request-id", id.to_string())
        .body(Full::new(sent.clone()))
        .unwrap();
    let result = match client.request(replayable(request)).await {
        Ok(response) => {
            response.into_body().collect().await.map(|b| b.to_bytes()).map_err(|_| None)
        }
        Err(e) => Err(Some(e.is_safe_to_retry())),
    };
    let mut tally = tally.lock().unwrap();
    match result {
        Ok(got) => {
            assert_eq!(got, sent, "request {id}: a wrong echo");
            tally.echoed += 1;
        }
        Err(safe) => {
            tally.failed += 1;
            tally.retry_safe += usize::from(safe == Some(true));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_through_the_pool_processes_nothing_twice_and_leaves_nothing() {
    within(chaos()).await;
}

async fn chaos() {
    let live = Arc::new(AtomicUsize::new(0));
    let server_conns = Arc::new(AtomicUsize::new(0));
    let processed: Arc<Mutex<HashMap<usize, usize>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepting = {
        let (live, server_conns, processed) =
            (live.clone(), server_conns.clone(), processed.clone());
        tokio::spawn(async move {
            let server = Server::new(keepalive());
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let _ = tcp.set_nodelay(true);
                let (live, processed) = (live.clone(), processed.clone());
                let handler = move |request: Request<RecvBody>| {
                    let guard = Guard::new(&live);
                    let id: usize =
                        request.headers()["x-request-id"].to_str().unwrap().parse().unwrap();
                    *processed.lock().unwrap().entry(id).or_default() += 1;
                    let delay = Duration::from_micros((id as u64 * 7919) % 3000);
                    async move {
                        tokio::time::sleep(delay).await;
                        let data = match request.into_body().collect().await {
                            Ok(all) => all.to_bytes(),
                            Err(_) => Bytes::new(),
                        };
                        drop(guard);
                        Response::new(Full::new(data))
                    }
                };
                let conn = server.handshake(tcp, handler);
                let counted = Guard::new(&server_conns);
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(counted);
                });
            }
        })
    };
    let proxy = ChaosProxy::start(addr, SEED);
    let url: Arc<str> = format!("http://{}/echo", proxy.addr).into();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut rng = Rng::new(SEED);
    let (mut connects, mut retries) = (0, 0);
    for batch in 0..BATCHES {
        let client = Client::builder().config(keepalive()).jitter_seed(SEED + batch as u64).build();
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let (client, tally, url) = (client.clone(), tally.clone(), url.clone());
                let first = (batch * TASKS + t) * PER_TASK;
                let bodies: Vec<Bytes> = (0..PER_TASK)
                    .map(|_| (0..rng.range(0, MAX_BODY)).map(|i| (i % 251) as u8).collect())
                    .collect();
                tokio::spawn(async move {
                    for (i, body) in bodies.into_iter().enumerate() {
                        echo_once(&client, &url, first + i, body, &tally).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let metrics = client.metrics();
        connects += metrics.connects;
        retries += metrics.retries;
        drop(client);
    }
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    eprintln!("{tally:?}, {connects} connects, {retries} retries");
    let total = BATCHES * TASKS * PER_TASK;
    assert_eq!(tally.echoed + tally.failed, total, "every request ended: {tally:?}");
    assert!(tally.failed > 0 && tally.echoed > total / 2, "{tally:?}");

    let processed = processed.lock().unwrap().clone();
    let twice: Vec<_> = processed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "processed more than once: {twice:?}");
    assert!(processed.len() >= tally.echoed, "{} processed, {tally:?}", processed.len());

    let c = &proxy.counts;
    for fault in FAULTS.into_iter().filter(|f| *f != Fault::Clean) {
        assert!(c.mid_frame(fault) > 0, "no {fault:?} inside a frame: {c:?}");
    }
    assert!(c.partial_writes.load(Ordering::Relaxed) > 0);
    assert_eq!(c.accepted.load(Ordering::Relaxed) as u64, connects, "every connect proxied");

    // Nothing is left once the faulty connections have been given up on.
    let deadline = Instant::now() + Duration::from_secs(20);
    let left = || (server_conns.load(Ordering::SeqCst), live.load(Ordering::SeqCst));
    while left() != (0, 0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left(), (0, 0), "(server connections, handlers) left");
    accepting.abort();
    drop(proxy);
}
