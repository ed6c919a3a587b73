//! A loopback proxy that breaks HTTP/2 connections on purpose, for the adapters' chaos
//! tests (`adapters/<adapter>/tests/chaos.rs` include this file with `#[path]`).
//!
//! Every connection accepted on 127.0.0.1 is forwarded to the server, and every chunk read
//! is written on in pieces cut at random byte offsets (partial writes: frames arrive split
//! anywhere, sometimes a few bytes at a time). The n-th connection then suffers the fault
//! `FAULTS[n % 4]`, after a random number of bytes in a random direction, so the cut almost
//! always falls inside a frame (counted, see [`Counts`]):
//!
//! - [`Fault::Clean`]: nothing more; every request on it must succeed.
//! - [`Fault::Reset`]: both sockets closed with SO_LINGER 0, which sends RST to each side
//!   (ECONNRESET mid-frame).
//! - [`Fault::Eof`]: both sockets shut down: each side reads EOF, one of them mid-frame.
//! - [`Fault::Vanish`]: from that byte on nothing is forwarded either way and no socket is
//!   closed: the peer is gone with its streams open, and only a keepalive PING unanswered
//!   ends the connection. The proxy reads and drops whatever still comes until each side
//!   closes.
//!
//! Randomness is a seeded xorshift, so a failing run can be replayed with its seed.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The checks every chaos run ends with, over (fault, answered, failed) per connection:
/// a clean connection answered all of its `requests`, some fault broke a request in
/// flight, every connection went through the proxy, writes were split, and every fault
/// cut inside a frame at least once.
pub fn check_outcomes(proxy: &ChaosProxy, outcomes: &[(Fault, usize, usize)], requests: usize) {
    for (fault, answered, failed) in outcomes {
        if *fault == Fault::Clean {
            assert_eq!((*answered, *failed), (requests, 0), "a clean connection failed requests");
        }
    }
    let failed: usize = outcomes.iter().map(|o| o.2).sum();
    assert!(failed > 0, "no fault broke a request in flight: {outcomes:?}");
    let c = &proxy.counts;
    assert_eq!(c.accepted.load(Ordering::Relaxed), outcomes.len());
    assert!(c.partial_writes.load(Ordering::Relaxed) > 0);
    for fault in FAULTS.into_iter().filter(|f| *f != Fault::Clean) {
        assert!(c.mid_frame(fault) > 0, "no {fault:?} cut inside a frame: {c:?}");
    }
}

/// What happens to one proxied connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Clean,
    Reset,
    Eof,
    Vanish,
}

/// The faults, by connection number modulo 4.
pub const FAULTS: [Fault; 4] = [Fault::Clean, Fault::Reset, Fault::Eof, Fault::Vanish];

/// The fault of the `n`-th connection (0-based) the proxy accepts.
pub fn fault_of(n: usize) -> Fault {
    FAULTS[n % FAULTS.len()]
}

/// A tiny xorshift64* generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded (a zero seed is replaced, xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
}

/// What the proxy did, for the tests to check that the faults really happened.
#[derive(Debug, Default)]
pub struct Counts {
    /// Connections accepted.
    pub accepted: AtomicUsize,
    /// Faults applied, by kind (index as in [`FAULTS`]).
    pub applied: [AtomicUsize; 4],
    /// Faults applied with the cut inside a frame (not on a frame boundary).
    pub mid_frame: [AtomicUsize; 4],
    /// Writes that carried only part of a chunk read.
    pub partial_writes: AtomicUsize,
}

impl Counts {
    pub fn applied(&self, fault: Fault) -> usize {
        self.applied[fault as usize].load(Ordering::Relaxed)
    }

    pub fn mid_frame(&self, fault: Fault) -> usize {
        self.mid_frame[fault as usize].load(Ordering::Relaxed)
    }
}

/// The running proxy. Dropping it stops accepting; connections already broken by
/// [`Fault::Vanish`] stay open until their ends close them.
pub struct ChaosProxy {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
    accepting: Option<JoinHandle<()>>,
}

impl ChaosProxy {
    /// Proxies 127.0.0.1:<free port> to `upstream`.
    pub fn start(upstream: SocketAddr, seed: u64) -> ChaosProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (counts.clone(), stop.clone());
        let accepting = thread::spawn(move || {
            for (n, client) in listener.incoming().enumerate() {
                if s.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else { continue };
                c.accepted.fetch_add(1, Ordering::Relaxed);
                let rng = Rng::new(seed ^ (n as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                connection(client, server, fault_of(n), rng, c.clone());
            }
        });
        ChaosProxy { addr, counts, stop, accepting: Some(accepting) }
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accepting.take() {
            let _ = t.join();
        }
    }
}

/// Where a byte stream stands in its frames: so a cut can be told from a frame boundary.
struct FrameTracker {
    /// Bytes of the client preface still to come (client to server only).
    preface: usize,
    header: Vec<u8>,
    payload_left: usize,
}

impl FrameTracker {
    fn new(client_to_server: bool) -> FrameTracker {
        let preface = if client_to_server { 24 } else { 0 };
        FrameTracker { preface, header: Vec::with_capacity(9), payload_left: 0 }
    }

    fn advance(&mut self, mut bytes: &[u8]) {
        let skip = self.preface.min(bytes.len());
        self.preface -= skip;
        bytes = &bytes[skip..];
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let n = self.payload_left.min(bytes.len());
                self.payload_left -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (9 - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.header.len() == 9 {
                let h = &self.header;
                self.payload_left =
                    (usize::from(h[0]) << 16) | (usize::from(h[1]) << 8) | usize::from(h[2]);
                self.header.clear();
            }
        }
    }

    fn at_boundary(&self) -> bool {
        self.preface == 0 && self.header.is_empty() && self.payload_left == 0
    }
}

/// The state both directions of one connection share.
struct Link {
    client: TcpStream,
    server: TcpStream,
    fault: Fault,
    /// The direction and byte offset of the fault (`true`: client to server).
    cut_c2s: bool,
    cut_at: usize,
    /// The fault happened: both directions stop forwarding.
    broken: AtomicBool,
    counts: Arc<Counts>,
    rng: Mutex<Rng>,
}

fn connection(
    client: TcpStream,
    server: TcpStream,
    fault: Fault,
    mut rng: Rng,
    counts: Arc<Counts>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let cut_c2s = rng.next_u64() % 2 == 0;
    // Past the preface and the SETTINGS exchange, anywhere in the first requests or
    // responses (the tests send up to a few hundred KiB each way).
    let cut_at = rng.range(40, 60_000);
    let link = Arc::new(Link {
        client,
        server,
        fault,
        cut_c2s,
        cut_at,
        broken: AtomicBool::new(false),
        counts,
        rng: Mutex::new(rng),
    });
    for c2s in [true, false] {
        let link = link.clone();
        thread::spawn(move || pump(&link, c2s));
    }
}

/// Forwards one direction until EOF, an error or the fault.
fn pump(link: &Link, c2s: bool) {
    let (mut from, mut to) =
        if c2s { (&link.client, &link.server) } else { (&link.server, &link.client) };
    let mut tracker = FrameTracker::new(c2s);
    let mut forwarded = 0usize;
    let mut buf = vec![0; 16 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if link.broken.load(Ordering::Relaxed) {
            if link.fault == Fault::Vanish {
                continue; // a black hole: read and drop until this side closes
            }
            break;
        }
        let mut chunk = &buf[..n];
        let cut_here = link.fault != Fault::Clean
            && link.cut_c2s == c2s
            && forwarded + chunk.len() > link.cut_at;
        if cut_here {
            chunk = &chunk[..link.cut_at - forwarded];
        }
        if write_in_pieces(link, &mut to, chunk).is_err() {
            break;
        }
        tracker.advance(chunk);
        forwarded += chunk.len();
        if cut_here {
            apply_fault(link, tracker.at_boundary());
            if link.fault == Fault::Vanish {
                continue;
            }
            return;
        }
    }
    if link.broken.load(Ordering::Relaxed) {
        // The fault decides how the sockets end: a FIN now would spoil a reset, and a
        // vanished peer sends nothing (the other side may still wait for its keepalive).
        return;
    }
    // An end or error of one side ends the other direction too, as a proxy would.
    let _ = to.shutdown(Shutdown::Write);
}

fn write_in_pieces(link: &Link, to: &mut &TcpStream, mut chunk: &[u8]) -> io::Result<()> {
    while !chunk.is_empty() {
        let (len, pause) = {
            let mut rng = link.rng.lock().unwrap();
            let len = match rng.next_u64() % 4 {
                0 => rng.range(1, 9.min(chunk.len())),
                1 => rng.range(1, chunk.len()),
                _ => chunk.len(),
            };
            (len, rng.next_u64() % 4 == 0)
        };
        if len < chunk.len() {
            link.counts.partial_writes.fetch_add(1, Ordering::Relaxed);
        }
        to.write_all(&chunk[..len])?;
        chunk = &chunk[len..];
        if pause && !chunk.is_empty() {
            // Lets the receiver read the piece on its own.
            thread::sleep(Duration::from_micros(300));
        }
    }
    Ok(())
}

fn apply_fault(link: &Link, at_boundary: bool) {
    if link.broken.swap(true, Ordering::Relaxed) {
        return;
    }
    let i = link.fault as usize;
    link.counts.applied[i].fetch_add(1, Ordering::Relaxed);
    if !at_boundary {
        link.counts.mid_frame[i].fetch_add(1, Ordering::Relaxed);
    }
    match link.fault {
        Fault::Clean | Fault::Vanish => {}
        Fault::Reset => {
            for socket in [&link.client, &link.server] {
                let _ = socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO));
                // Wakes the other direction's read without sending anything; the last
                // close, with linger 0, then sends RST.
                let _ = socket.shutdown(Shutdown::Read);
            }
        }
        Fault::Eof => {
            for socket in [&link.client, &link.server] {
                let _ = socket.shutdown(Shutdown::Both);
            }
        }
    }
}
