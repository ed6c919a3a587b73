//! Chaos through the retrying client: thousands of requests from many threads, each batch
//! sharing one [`Client`], through a loopback proxy that splits every write at random
//! offsets and breaks connections mid-frame: RST (ECONNRESET), EOF, or a peer that vanishes
//! with its streams open (see `adapters/chaos_proxy.rs`; the n-th connection gets the n-th
//! fault, so the faults cycle as the client reconnects and as batches start).
//!
//! Every request must end: the right echo, or an error typed by this crate (an
//! [`h2proto_blocking::Error`], with whether a retry is safe). The server counts each
//! request id it processed: none twice (a request that may have been processed is never
//! sent again; one that was not is, RFC 9113 §8.7). Afterwards nothing is left: the
//! server's connections and streams ([`h2proto_blocking::ServerStats`]) and the handlers'
//! bodies (counted by guards) return to zero, and every connection the proxy saw was one
//! the clients opened. Handlers answer after a delay of up to 3 ms (by request id).

mod support;

#[path = "../../chaos_proxy.rs"]
mod chaos_proxy;

use chaos_proxy::{ChaosProxy, FAULTS, Fault, Rng};
use h2proto_blocking::{Body, Client, Error, RequestBody, Server};
use http::{Request, Response};
use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use support::watchdog;

const SEED: u64 = 0x5eed_0015;
/// Batches, each with its own `Client` shared by `THREADS` threads of `PER_THREAD`
/// requests: 2,048 requests.
const BATCHES: usize = 16;
const THREADS: usize = 8;
const PER_THREAD: usize = 16;
const MAX_BODY: usize = 16 << 10;

/// A keepalive short enough that a vanished peer is given up on within about a second.
fn keepalive() -> h2proto::Config {
    let mut c = h2proto::Config::default();
    c.keepalive_interval = Some(Duration::from_millis(200));
    c.keepalive_timeout = Duration::from_millis(1000);
    c
}

/// Counts a live request on the server until dropped.
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

/// The echoed body, streamed; it holds the request's guard until the server drops it.
struct Echo {
    data: io::Cursor<Vec<u8>>,
    _guard: Guard,
}

impl Read for Echo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.data.read(buf)
    }
}

#[derive(Debug, Default)]
struct Tally {
    echoed: usize,
    failed: usize,
    retry_safe: usize,
}

/// One request; `Err` only for what must never happen (a wrong echo, an untyped error).
fn echo_once(
    client: &Client,
    id: usize,
    sent: Vec<u8>,
    tally: &Mutex<Tally>,
) -> Result<(), String> {
    let request =
        Request::post("/echo").header("x-request-id", id.to_string()).body(sent.clone()).unwrap();
    let result = client.request(request).and_then(|r| r.into_body().read_to_vec());
    let mut tally = tally.lock().unwrap();
    match result {
        Ok(got) if got == sent => tally.echoed += 1,
        Ok(got) => {
            return Err(format!("request {id}: {} bytes echoed as {}", sent.len(), got.len()));
        }
        Err(e) => {
            let typed = e.get_ref().and_then(|e| e.downcast_ref::<Error>());
            let typed = typed.ok_or_else(|| format!("request {id}: untyped error {e:?}"))?;
            tally.failed += 1;
            tally.retry_safe += usize::from(typed.is_retry_safe());
        }
    }
    Ok(())
}

#[test]
fn chaos_through_the_retrying_client_processes_nothing_twice_and_leaves_nothing() {
    let _w = watchdog(180);
    let live = Arc::new(AtomicUsize::new(0));
    let processed: Arc<Mutex<HashMap<usize, usize>>> = Arc::default();
    let server = Server::bind("127.0.0.1:0").unwrap().workers(8).config(keepalive());
    let addr = server.local_addr().unwrap();
    let (stop, stats) = (server.shutdown_handle(), server.stats());
    let serving = {
        let (live, processed) = (live.clone(), processed.clone());
        thread::spawn(move || {
            server.serve(move |request: Request<RequestBody>| {
                let guard = Guard::new(&live);
                let id: usize =
                    request.headers()["x-request-id"].to_str().unwrap().parse().unwrap();
                *processed.lock().unwrap().entry(id).or_default() += 1;
                // Answers overtake each other.
                thread::sleep(Duration::from_micros((id as u64 * 7919) % 3000));
                let data = request.into_body().read_to_vec().unwrap_or_default();
                Response::new(Body::from_reader(Echo {
                    data: io::Cursor::new(data),
                    _guard: guard,
                }))
            })
        })
    };
    let proxy = ChaosProxy::start(addr, SEED);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut rng = Rng::new(SEED);
    let mut connects = 0;
    for batch in 0..BATCHES {
        let client = Client::connect_with(proxy.addr, keepalive()).unwrap();
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (client, tally) = (client.clone(), tally.clone());
                let first = (batch * THREADS + t) * PER_THREAD;
                let bodies: Vec<Vec<u8>> = (0..PER_THREAD)
                    .map(|_| (0..rng.range(0, MAX_BODY)).map(|i| (i % 251) as u8).collect())
                    .collect();
                thread::spawn(move || {
                    for (i, body) in bodies.into_iter().enumerate() {
                        echo_once(&client, first + i, body, &tally)?;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap_or_else(|e| panic!("batch {batch}: {e}"));
        }
        connects += client.connects();
    }
    let tally = tally.lock().unwrap();
    eprintln!("{tally:?}, {connects} connections");
    let total = BATCHES * THREADS * PER_THREAD;
    assert_eq!(tally.echoed + tally.failed, total, "every request ended: {tally:?}");
    assert!(tally.failed > 0 && tally.echoed > total / 2, "{tally:?}");

    // Nothing processed twice, and everything echoed was processed.
    let processed = processed.lock().unwrap();
    let twice: Vec<_> = processed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "processed more than once: {twice:?}");
    assert!(processed.len() >= tally.echoed, "{} processed, {tally:?}", processed.len());

    // Every fault happened, and every proxied connection was one a client opened.
    let c = &proxy.counts;
    for fault in FAULTS.into_iter().filter(|f| *f != Fault::Clean) {
        assert!(c.mid_frame(fault) > 0, "no {fault:?} inside a frame: {c:?}");
    }
    assert_eq!(c.accepted.load(Ordering::Relaxed) as u64, connects);
    assert!(c.partial_writes.load(Ordering::Relaxed) > 0);

    // Nothing is left once the faulty connections have been given up on.
    let deadline = Instant::now() + Duration::from_secs(20);
    let left = || (stats.connections(), stats.open_streams(), live.load(Ordering::SeqCst));
    while left() != (0, 0, 0) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(left(), (0, 0, 0), "(connections, streams, handlers) left on the server");
    stop.shutdown();
    serving.join().unwrap().unwrap();
}
