//! The chaos run of the adapters whose clients block (`blocking`, `mio`): their
//! `tests/chaos.rs` include this file and `chaos_proxy.rs` with `#[path]` and give it
//! their client, their echo request and their server's counts.
//!
//! `CONNECTIONS` connections through the [`ChaosProxy`], `BATCH` at a time, each with
//! `REQUESTS` concurrent echo requests of random bodies; every request must end (the right
//! echo or an error, always the echo on a clean connection), and afterwards the server's
//! live connections, open streams and handler guards must all return to zero.

use super::chaos_proxy::{ChaosProxy, Fault, Rng, check_outcomes, fault_of};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

pub const SEED: u64 = 0x5eed_0017;
/// Connections, each with `REQUESTS` concurrent requests; `BATCH` connections at a time.
pub const CONNECTIONS: usize = 32;
pub const BATCH: usize = 8;
pub const REQUESTS: usize = 4;
pub const MAX_BODY: usize = 48 << 10;

/// A keepalive short enough that a vanished peer is given up on within about a second,
/// and patient enough that a loaded machine does not lose a clean connection to it.
pub fn keepalive() -> h2proto::Config {
    let mut c = h2proto::Config::default();
    c.keepalive_interval = Some(Duration::from_millis(200));
    c.keepalive_timeout = Duration::from_millis(1000);
    c
}

/// Counts a live request on the server until dropped.
pub struct Guard(Arc<AtomicUsize>);

impl Guard {
    pub fn new(live: &Arc<AtomicUsize>) -> Guard {
        live.fetch_add(1, Ordering::SeqCst);
        Guard(live.clone())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn body(rng: &mut Rng) -> Vec<u8> {
    let len = rng.range(0, MAX_BODY);
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// The run against the server at `addr`. `connect` opens a client through the proxy;
/// `echo` sends one request (`Ok(true)` echoed, `Ok(false)` ended with an error, `Err` a
/// wrong echo); `counts` reads the server's (live connections, open streams); `live` is
/// what the handlers' guards count.
pub fn run<C>(
    addr: SocketAddr,
    connect: impl Fn(SocketAddr) -> C,
    echo: fn(&C, Vec<u8>) -> Result<bool, String>,
    counts: impl Fn() -> (usize, usize) + Send + Sync + 'static,
    live: &Arc<AtomicUsize>,
) where
    C: Clone + Send + 'static,
{
    let proxy = ChaosProxy::start(addr, SEED);
    let counts = Arc::new(counts);
    // The largest counts seen while requests run: the counts above zero are real.
    let peak = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let running = Arc::new(AtomicUsize::new(1));
    let sampler = {
        let (peak, running, counts) = (peak.clone(), running.clone(), counts.clone());
        thread::spawn(move || {
            while running.load(Ordering::SeqCst) == 1 {
                let (connections, streams) = counts();
                peak.0.fetch_max(connections, Ordering::SeqCst);
                peak.1.fetch_max(streams, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let mut rng = Rng::new(SEED);

    // (fault, requests answered, requests failed) per connection.
    let mut outcomes = Vec::new();
    for batch in 0..CONNECTIONS / BATCH {
        // Connected one after another, so the proxy's accept order gives each its fault.
        let clients: Vec<(Fault, C)> =
            (0..BATCH).map(|i| (fault_of(batch * BATCH + i), connect(proxy.addr))).collect();
        let runs: Vec<_> = clients
            .into_iter()
            .map(|(fault, client)| {
                let bodies: Vec<Vec<u8>> = (0..REQUESTS).map(|_| body(&mut rng)).collect();
                thread::spawn(move || {
                    let requests: Vec<_> = bodies
                        .into_iter()
                        .map(|sent| {
                            let client = client.clone();
                            thread::spawn(move || echo(&client, sent))
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
    let left = || {
        let (connections, streams) = counts();
        (connections, streams, live.load(Ordering::SeqCst))
    };
    while left() != (0, 0, 0) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(left(), (0, 0, 0), "(connections, streams, handlers) left on the server");

    assert_eq!(outcomes.len(), CONNECTIONS);
    check_outcomes(&proxy, &outcomes, REQUESTS);
}
