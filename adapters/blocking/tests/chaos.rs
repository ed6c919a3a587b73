//! Chaos: many requests through a loopback proxy that splits every write at random offsets
//! and breaks connections mid-frame: RST (ECONNRESET), EOF, or a peer that vanishes with
//! its streams open (see `adapters/chaos_proxy.rs`). Every request must end (a response
//! with the right body, or an error; on an unbroken connection always the response), and
//! afterwards nothing may be left: the server's live connections and the streams they hold
//! ([`h2proto_blocking::ServerStats`]) and the handlers' requests and response bodies
//! (counted by guards) all return to zero.

mod support;

#[path = "../../chaos_proxy.rs"]
mod chaos_proxy;

use chaos_proxy::{ChaosProxy, FAULTS, Fault, Rng, fault_of};
use h2proto_blocking::{Body, Client, Config, RequestBody, Server};
use http::{Request, Response};
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use support::watchdog;

const SEED: u64 = 0x5eed_0017;
/// Connections, each with `REQUESTS` concurrent requests; `BATCH` connections at a time.
const CONNECTIONS: usize = 32;
const BATCH: usize = 8;
const REQUESTS: usize = 4;
const MAX_BODY: usize = 48 << 10;

/// A keepalive short enough that a vanished peer is given up on within about a second,
/// and patient enough that a loaded machine does not lose a clean connection to it.
fn keepalive() -> Config {
    let mut c = Config::default();
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

fn body(rng: &mut Rng) -> Vec<u8> {
    let len = rng.range(0, MAX_BODY);
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// One request: `Ok(true)` echoed correctly, `Ok(false)` ended with an error.
fn echo_once(client: &Client, sent: Vec<u8>) -> Result<bool, String> {
    let request = Request::post("/echo").body(sent.clone()).unwrap();
    let Ok(response) = client.request(request) else { return Ok(false) };
    let Ok(got) = response.into_body().read_to_vec() else { return Ok(false) };
    if got != sent {
        return Err(format!("echo of {} bytes came back as {} other bytes", sent.len(), got.len()));
    }
    Ok(true)
}

#[test]
fn chaos_proxy_faults_end_every_stream_and_connection() {
    let _w = watchdog(120);
    let live = Arc::new(AtomicUsize::new(0));
    let handler_live = live.clone();
    let server = Server::bind("127.0.0.1:0").unwrap().workers(8).config(keepalive());
    let addr = server.local_addr().unwrap();
    let (stop, stats) = (server.shutdown_handle(), server.stats());
    let serving = thread::spawn(move || {
        server.serve(move |request: Request<RequestBody>| {
            let guard = Guard::new(&handler_live);
            let data = request.into_body().read_to_vec().unwrap_or_default();
            Response::new(Body::from_reader(Echo { data: io::Cursor::new(data), _guard: guard }))
        })
    });
    let proxy = ChaosProxy::start(addr, SEED);
    // The largest counts seen while requests run: the counts above zero are real.
    let peak = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let running = Arc::new(AtomicUsize::new(1));
    let sampler = {
        let (peak, running, stats) = (peak.clone(), running.clone(), stats.clone());
        thread::spawn(move || {
            while running.load(Ordering::SeqCst) == 1 {
                peak.0.fetch_max(stats.connections(), Ordering::SeqCst);
                peak.1.fetch_max(stats.open_streams(), Ordering::SeqCst);
                thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let mut rng = Rng::new(SEED);

    // (fault, requests answered, requests failed) per connection.
    let mut outcomes = Vec::new();
    for batch in 0..CONNECTIONS / BATCH {
        // Connected one after another, so the proxy's accept order gives each its fault.
        let clients: Vec<(Fault, Client)> = (0..BATCH)
            .map(|i| {
                let n = batch * BATCH + i;
                (fault_of(n), Client::connect_with(proxy.addr, keepalive()).unwrap())
            })
            .collect();
        let runs: Vec<_> = clients
            .into_iter()
            .map(|(fault, client)| {
                let bodies: Vec<Vec<u8>> = (0..REQUESTS).map(|_| body(&mut rng)).collect();
                thread::spawn(move || {
                    let requests: Vec<_> = bodies
                        .into_iter()
                        .map(|sent| {
                            let client = client.clone();
                            thread::spawn(move || echo_once(&client, sent))
                        })
                        .collect();
                    let results: Vec<_> = requests.into_iter().map(|r| r.join().unwrap()).collect();
                    (fault, results)
                })
            })
            .collect();
        for run in runs {
            let (fault, results) = run.join().unwrap();
            let results: Result<Vec<bool>, String> = results.into_iter().collect();
            let results = results.unwrap_or_else(|e| panic!("{fault:?} connection: {e}"));
            let answered = results.iter().filter(|ok| **ok).count();
            outcomes.push((fault, answered, results.len() - answered));
        }
    }

    running.store(0, Ordering::SeqCst);
    sampler.join().unwrap();
    assert!(
        peak.0.load(Ordering::SeqCst) > 0 && peak.1.load(Ordering::SeqCst) > 0,
        "never counted"
    );

    // Nothing is left once the faulty connections have been given up on.
    let deadline = Instant::now() + Duration::from_secs(20);
    let counts = || (stats.connections(), stats.open_streams(), live.load(Ordering::SeqCst));
    while counts() != (0, 0, 0) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(counts(), (0, 0, 0), "(connections, streams, handlers) left on the server");

    for (fault, answered, failed) in &outcomes {
        if *fault == Fault::Clean {
            assert_eq!((*answered, *failed), (REQUESTS, 0), "a clean connection failed requests");
        }
    }
    let failed: usize = outcomes.iter().map(|o| o.2).sum();
    assert!(failed > 0, "no fault broke a request in flight: {outcomes:?}");
    let c = &proxy.counts;
    assert_eq!(c.accepted.load(Ordering::Relaxed), CONNECTIONS);
    assert!(c.partial_writes.load(Ordering::Relaxed) > 0);
    for fault in FAULTS.into_iter().filter(|f| *f != Fault::Clean) {
        assert!(c.mid_frame(fault) > 0, "no {fault:?} cut inside a frame: {c:?}");
    }
    drop(proxy);
    stop.shutdown();
    serving.join().unwrap().unwrap();
}
