//! Chaos: many requests through a loopback proxy that splits every write at random offsets
//! and breaks connections mid-frame: RST (ECONNRESET), EOF, or a peer that vanishes with
//! its streams open (see `adapters/chaos_proxy.rs`). Every request must end (a response
//! with the right body, or an error; on an unbroken connection always the response), and
//! afterwards nothing may be left on either side: the server's and the client's connection
//! futures (each completes only when its driver has ended, streams and all) and the
//! handlers' requests and response bodies (counted by guards) all return to zero.

mod support;

#[path = "../../chaos_proxy.rs"]
mod chaos_proxy;

use bytes::Bytes;
use chaos_proxy::{ChaosProxy, Rng, check_outcomes, fault_of};
use h2proto_tokio::server::Server;
use h2proto_tokio::{Config, RecvBody, client};
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use support::within;

const SEED: u64 = 0x5eed_0017;
/// Connections, each with `REQUESTS` concurrent requests; `BATCH` connections at a time.
const CONNECTIONS: usize = 32;
const BATCH: usize = 8;
const REQUESTS: usize = 4;
const MAX_BODY: usize = 48 << 10;
/// Longer than any request takes, faults included (a run takes about 6 s in all).
const STUCK: Duration = Duration::from_secs(25);

/// A keepalive short enough that a vanished peer is given up on within about a second,
/// and patient enough that a loaded machine does not lose a clean connection to it.
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

/// The echoed body, in pieces; it holds the request's guard until the server drops it.
struct Echo {
    data: Bytes,
    _guard: Guard,
}

impl Body for Echo {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let n = self.data.len().min(10_000);
        Poll::Ready((n > 0).then(|| Ok(Frame::data(self.data.split_to(n)))))
    }
}

fn body(rng: &mut Rng) -> Bytes {
    let len = rng.range(0, MAX_BODY);
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// One request: `Ok(true)` echoed correctly, `Ok(false)` ended with an error.
async fn echo_once(send: client::SendRequest, url: String, sent: Bytes) -> Result<bool, String> {
    let request = Request::post(url).body(Full::new(sent.clone())).unwrap();
    let Ok(response) = send.send_request(request).await else { return Ok(false) };
    let Ok(got) = response.into_body().collect().await else { return Ok(false) };
    let got = got.to_bytes();
    if got != sent {
        return Err(format!("echo of {} bytes came back as {} other bytes", sent.len(), got.len()));
    }
    Ok(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_proxy_faults_end_every_stream_and_connection() {
    within(chaos()).await;
}

async fn chaos() {
    let live = Arc::new(AtomicUsize::new(0));
    let server_conns = Arc::new(AtomicUsize::new(0));
    let client_conns = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepting = {
        let (live, server_conns) = (live.clone(), server_conns.clone());
        tokio::spawn(async move {
            let server = Server::new(keepalive());
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let _ = tcp.set_nodelay(true);
                let live = live.clone();
                let handler = move |request: Request<RecvBody>| {
                    let guard = Guard::new(&live);
                    async move {
                        let data = match request.into_body().collect().await {
                            Ok(all) => all.to_bytes(),
                            Err(_) => Bytes::new(),
                        };
                        Response::new(Echo { data, _guard: guard })
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
    let mut rng = Rng::new(SEED);
    let url = format!("http://{}/echo", proxy.addr);

    // The largest counts seen while requests run: the counts above zero are real.
    let peak = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let sampler = {
        let (peak, server_conns, live) = (peak.clone(), server_conns.clone(), live.clone());
        tokio::spawn(async move {
            loop {
                peak.0.fetch_max(server_conns.load(Ordering::SeqCst), Ordering::SeqCst);
                peak.1.fetch_max(live.load(Ordering::SeqCst), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };

    // (fault, requests answered, requests failed) per connection.
    let mut outcomes = Vec::new();
    for batch in 0..CONNECTIONS / BATCH {
        let mut runs = Vec::new();
        for i in 0..BATCH {
            // Connected one after another, so the proxy's accept order gives each its fault.
            let fault = fault_of(batch * BATCH + i);
            let tcp = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
            tcp.set_nodelay(true).unwrap();
            let (send, conn) = client::handshake_with(tcp, keepalive());
            let counted = Guard::new(&client_conns);
            tokio::spawn(async move {
                let _ = conn.await;
                drop(counted);
            });
            let requests: Vec<_> = (0..REQUESTS)
                .map(|_| tokio::spawn(echo_once(send.clone(), url.clone(), body(&mut rng))))
                .collect();
            runs.push((fault, send, requests));
        }
        for (i, (fault, send, requests)) in runs.into_iter().enumerate() {
            let mut results = Vec::new();
            for request in requests {
                // Every request ends within a few keepalive timeouts; one that does not is
                // a bug, told with what its connection still holds.
                let Ok(result) = tokio::time::timeout(STUCK, request).await else {
                    panic!(
                        "a request on {fault:?} connection {} never ended; the connection: \
                         {:?}; (server connections, handlers, client connections) live: {:?}; \
                         proxy: {:?}",
                        batch * BATCH + i,
                        send.stats().await,
                        (
                            server_conns.load(Ordering::SeqCst),
                            live.load(Ordering::SeqCst),
                            client_conns.load(Ordering::SeqCst)
                        ),
                        proxy.counts,
                    )
                };
                let result = result.unwrap();
                results.push(result.unwrap_or_else(|e| panic!("{fault:?} connection: {e}")));
            }
            let answered = results.iter().filter(|ok| **ok).count();
            outcomes.push((fault, answered, results.len() - answered));
        }
    }
    sampler.abort();
    let (peak_conns, peak_live) = (peak.0.load(Ordering::SeqCst), peak.1.load(Ordering::SeqCst));
    assert!(peak_conns > 0 && peak_live > 0, "never counted");

    // Nothing is left once the faulty connections have been given up on.
    let deadline = Instant::now() + Duration::from_secs(20);
    let counts = || {
        let load = |n: &Arc<AtomicUsize>| n.load(Ordering::SeqCst);
        (load(&server_conns), load(&live), load(&client_conns))
    };
    while counts() != (0, 0, 0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(counts(), (0, 0, 0), "(server connections, handlers, client connections) left");

    assert_eq!(outcomes.len(), CONNECTIONS);
    check_outcomes(&proxy, &outcomes, REQUESTS);
    accepting.abort();
    drop(proxy);
}
