//! The chaos run of a client that blocks its caller and heals itself (the mio adapter's
//! `tests/chaos.rs` includes this file and `chaos_proxy.rs` with `#[path]` and gives it its
//! client, its echo request and its server's counts).
//!
//! `BATCHES` clients one after another, each shared by `THREADS` threads sending
//! `PER_THREAD` echo requests of random bodies one after another, through the
//! [`ChaosProxy`], which gives its n-th connection the n-th fault. A client replaces a
//! broken connection, so which client gets which connection (and fault) is not known in
//! advance: the outcomes are put down to connections afterwards, from where the server
//! saw each request. For that a [`Tap`] sits between the proxy and the server: the proxy
//! connects upstream one connection at a time, in the order it accepted them, so the tap's
//! accept order numbers them as the proxy does; the server's handler reports each request
//! id with its peer address ([`Chaos::processed`]), which the tap maps to that number.
//!
//! The run proves: every request ends, echoed right or with the client's typed error; no
//! request is processed twice (what may have been processed is never sent again, RFC 9113
//! §8.7); every request processed on a clean connection was answered; faults broke
//! requests the server had processed; every connection the proxy saw is one a client
//! opened; and afterwards the server's live connections, open streams and handler guards
//! all return to zero.

use super::chaos_proxy::{ChaosProxy, FAULTS, Fault, Rng, fault_of};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub const SEED: u64 = 0x5eed_0017;
/// Clients, one after another, each shared by `THREADS` threads of `PER_THREAD` requests.
pub const BATCHES: usize = 8;
pub const THREADS: usize = 8;
pub const PER_THREAD: usize = 8;
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

/// What the server saw, for putting outcomes down to connections.
#[derive(Debug, Default)]
pub struct Chaos {
    /// The tap's connections to the server, by their local address: the proxy's number.
    upstream: Mutex<HashMap<SocketAddr, usize>>,
    /// Request id -> the proxy's numbers of the connections it was processed on.
    processed: Mutex<HashMap<usize, Vec<usize>>>,
}

impl Chaos {
    pub fn new() -> Arc<Chaos> {
        Arc::default()
    }

    /// The server's handler got request `id` from `peer` (its connection's remote
    /// address).
    pub fn processed(&self, id: usize, peer: SocketAddr) {
        let n = self.upstream.lock().unwrap().get(&peer).copied();
        let n = n.unwrap_or_else(|| panic!("request {id} from {peer}, not the tap"));
        self.processed.lock().unwrap().entry(id).or_default().push(n);
    }
}

/// Forwards the proxy's connections to the server, numbering them in accept order (see the
/// module docs). An end or a reset on one side is passed on to the other.
pub struct Tap {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accepting: Option<JoinHandle<()>>,
}

impl Tap {
    fn start(server: SocketAddr, chaos: &Arc<Chaos>) -> Tap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (chaos, count, stopped) = (chaos.clone(), accepted.clone(), stop.clone());
        let accepting = thread::spawn(move || {
            for (n, proxied) in listener.incoming().enumerate() {
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                let (Ok(proxied), Ok(upstream)) = (proxied, TcpStream::connect(server)) else {
                    continue;
                };
                let _ = (proxied.set_nodelay(true), upstream.set_nodelay(true));
                let local = upstream.local_addr().unwrap();
                // Known before the server can see a byte of it.
                chaos.upstream.lock().unwrap().insert(local, n);
                count.fetch_add(1, Ordering::Relaxed);
                let (proxied, upstream) = (Arc::new(proxied), Arc::new(upstream));
                for (from, to) in [(&proxied, &upstream), (&upstream, &proxied)] {
                    let (from, to) = (from.clone(), to.clone());
                    thread::spawn(move || forward(&from, &to));
                }
            }
        });
        Tap { addr, accepted, stop, accepting: Some(accepting) }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accepting.take() {
            let _ = t.join();
        }
    }
}

/// Copies `from` to `to` until an end (passed on as an end) or an error (passed on as a
/// reset: both sockets are closed with SO_LINGER 0 once both directions stop).
fn forward(from: &TcpStream, to: &TcpStream) {
    let mut buf = vec![0; 16 << 10];
    loop {
        match (&*from).read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) if (&*to).write_all(&buf[..n]).is_ok() => {}
            Ok(_) | Err(_) => {
                for socket in [from, to] {
                    let _ = socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO));
                    // Wakes the other direction's read; the last close sends RST.
                    let _ = socket.shutdown(Shutdown::Read);
                }
                return;
            }
        }
    }
}

fn body(rng: &mut Rng) -> Vec<u8> {
    let len = rng.range(0, MAX_BODY);
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// How one request ended, as the test's `echo` tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Echoed,
    /// The client's typed error, and whether it says a retry is safe.
    Failed {
        retry_safe: bool,
    },
}

/// The run against the server at `server`, whose handler reports to `chaos`. `connect`
/// opens a client through the proxy and `connects` says how many connections it opened;
/// `echo` sends request `id` (`Err` only for what must never happen: a wrong echo, an
/// untyped error); `counts` reads the server's (live connections, open streams); `live` is
/// what the handlers' guards count.
pub fn run<C>(
    chaos: &Arc<Chaos>,
    server: SocketAddr,
    connect: impl Fn(SocketAddr) -> C,
    connects: fn(&C) -> u64,
    echo: fn(&C, usize, Vec<u8>) -> Result<Outcome, String>,
    counts: impl Fn() -> (usize, usize) + Send + Sync + 'static,
    live: &Arc<AtomicUsize>,
) where
    C: Clone + Send + 'static,
{
    let tap = Tap::start(server, chaos);
    let proxy = ChaosProxy::start(tap.addr, SEED);
    let counts = Arc::new(counts);
    // The largest counts seen while requests run: the counts above zero are real.
    let peak = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, running, counts) = (peak.clone(), running.clone(), counts.clone());
        thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                let (connections, streams) = counts();
                peak.0.fetch_max(connections, Ordering::SeqCst);
                peak.1.fetch_max(streams, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let mut rng = Rng::new(SEED);
    let mut outcomes: HashMap<usize, Outcome> = HashMap::new();
    let mut opened = 0;
    for batch in 0..BATCHES {
        let client = connect(proxy.addr);
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let client = client.clone();
                let first = (batch * THREADS + t) * PER_THREAD;
                let bodies: Vec<Vec<u8>> = (0..PER_THREAD).map(|_| body(&mut rng)).collect();
                thread::spawn(move || {
                    let sent = bodies.into_iter().enumerate();
                    sent.map(|(i, body)| Ok((first + i, echo(&client, first + i, body)?)))
                        .collect::<Result<Vec<_>, String>>()
                })
            })
            .collect();
        for t in threads {
            let ended = t.join().unwrap().unwrap_or_else(|e| panic!("batch {batch}: {e}"));
            outcomes.extend(ended);
        }
        opened += connects(&client);
    }
    running.store(false, Ordering::SeqCst);
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

    check(chaos, &proxy, &tap, &outcomes, opened);
}

/// The checks over the outcomes, each request put down to the connection it was processed
/// on (see the module docs).
fn check(
    chaos: &Chaos,
    proxy: &ChaosProxy,
    tap: &Tap,
    outcomes: &HashMap<usize, Outcome>,
    opened: u64,
) {
    let total = BATCHES * THREADS * PER_THREAD;
    assert_eq!(outcomes.len(), total, "every request ended");
    let processed = chaos.processed.lock().unwrap();
    let twice: Vec<_> = processed.iter().filter(|(_, on)| on.len() > 1).collect();
    assert!(twice.is_empty(), "processed more than once: {twice:?}");
    for (id, outcome) in outcomes {
        if *outcome == Outcome::Echoed {
            assert!(processed.contains_key(id), "request {id} echoed, never processed");
        }
    }

    // (answered, failed) of the requests processed on each connection, by the proxy's number.
    let mut by_conn: HashMap<usize, (usize, usize)> = HashMap::new();
    for (id, on) in processed.iter() {
        let tally = by_conn.entry(on[0]).or_default();
        match outcomes[id] {
            Outcome::Echoed => tally.0 += 1,
            Outcome::Failed { .. } => tally.1 += 1,
        }
    }
    for (n, (answered, failed)) in &by_conn {
        if fault_of(*n) == Fault::Clean {
            assert_eq!(*failed, 0, "clean connection {n}: {answered} answered, {failed} failed");
        }
    }
    let broken: usize =
        by_conn.iter().filter(|(n, _)| fault_of(**n) != Fault::Clean).map(|c| c.1.1).sum();
    assert!(broken > 0, "no fault broke a request the server processed: {by_conn:?}");
    let failed = outcomes.values().filter(|o| **o != Outcome::Echoed).count();
    let safe = outcomes.values().filter(|o| **o == Outcome::Failed { retry_safe: true }).count();
    eprintln!(
        "{} echoed, {failed} failed ({safe} safe to retry), {opened} connections",
        total - failed
    );
    assert!(total - failed > total / 2, "most requests are echoed");

    // Every connection went through the proxy and the tap, and each was one a client opened;
    // writes were split, and every fault cut inside a frame at least once.
    let c = &proxy.counts;
    assert_eq!(c.accepted.load(Ordering::Relaxed) as u64, opened);
    assert_eq!(tap.accepted.load(Ordering::Relaxed) as u64, opened);
    assert!(c.partial_writes.load(Ordering::Relaxed) > 0);
    for fault in FAULTS.into_iter().filter(|f| *f != Fault::Clean) {
        assert!(c.mid_frame(fault) > 0, "no {fault:?} cut inside a frame: {c:?}");
    }
}
