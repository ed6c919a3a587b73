//! Fairness on one thread: what a well-behaved client's latency becomes while another
//! connection floods the same server at full speed.
//!
//! A server that drives many connections from one thread (h2proto's mio loop, a tokio
//! current-thread runtime) is fair only if it bounds the work it does for one connection
//! before it turns to the others. This module measures that from outside, against any
//! server: a probe connection sends one small GET at a time, at a steady pace, and records
//! each response's latency, first alone (the baseline), then while flooders send one of
//! three kinds of legal but costly traffic as fast as the socket takes it:
//!
//! - [`Flood::Headers`]: requests whose field blocks fill most of the default 64 KiB header
//!   list, Huffman-coded, split over HEADERS and CONTINUATION frames;
//! - [`Flood::Continuation`]: small requests cut into as many CONTINUATION frames as the
//!   default limit lets through (a frame header's worth of work for a few bytes);
//! - [`Flood::Data`]: request bodies sent one byte per DATA frame.
//!
//! Every flood stays within the default `Config` limits, so a server cannot simply refuse
//! it: it has to serve it and the probe side by side. A flood connection that is closed
//! anyway is opened again (and counted). Latencies are reported, never asserted: timings on
//! shared machines are measurements, not tests (`benches/fairness.sh` runs this against the
//! mio and tokio reference servers pinned to one core).

use crate::peer::Peer;
use bytes::{BufMut, BytesMut};
use h2proto::PREFACE;
use h2proto::hpack::{Encoder, FieldRef};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A kind of flood traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flood {
    /// Requests with field blocks of about 48 KiB over HEADERS + 2 CONTINUATION frames.
    Headers,
    /// Small requests cut into HEADERS + 30 CONTINUATION frames of a few bytes each.
    Continuation,
    /// Request bodies of one byte per DATA frame.
    Data,
}

impl Flood {
    /// Every kind, in the order a report lists them.
    pub const ALL: [Flood; 3] = [Flood::Headers, Flood::Continuation, Flood::Data];

    /// The kind's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Flood::Headers => "headers",
            Flood::Continuation => "continuation",
            Flood::Data => "data",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Flood> {
        Flood::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What one scenario measured.
#[derive(Debug)]
pub struct Scenario {
    /// The flood that ran beside the probe (`None`: the baseline).
    pub flood: Option<Flood>,
    /// Latency of every probe request that got its whole response, in order.
    pub latencies: Vec<Duration>,
    /// Probe requests that failed (reset, closed, no answer within the wait).
    pub probe_errors: u64,
    /// Bytes the flooders wrote.
    pub flood_bytes: u64,
    /// Flood connections opened (more than the flooder count: the server closed some).
    pub flood_connections: u64,
    /// Why the server closed flood connections: each distinct GOAWAY (code and debug data).
    pub closes: Vec<String>,
    /// How long the scenario ran.
    pub elapsed: Duration,
}

impl Scenario {
    /// The `q` quantile (0.0..=1.0) of the probe's latencies, or `None` without any.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let last = sorted.len().checked_sub(1)?;
        sorted.get(((last as f64) * q).round() as usize).copied()
    }
}

/// How a scenario runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The server under test.
    pub target: SocketAddr,
    /// How long each scenario runs.
    pub duration: Duration,
    /// Flood connections per flooded scenario.
    pub flooders: usize,
    /// Pause between the end of one probe response and the next probe request.
    pub probe_interval: Duration,
}

/// Runs the probe alone (`flood: None`) or beside `flooders` connections of `flood`.
pub fn run(options: &Options, flood: Option<Flood>) -> Result<Scenario, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let bytes = Arc::new(AtomicU64::new(0));
    let connections = Arc::new(AtomicU64::new(0));
    let closes = Arc::new(Mutex::new(Vec::new()));
    let flooders: Vec<_> = flood
        .into_iter()
        .flat_map(|kind| std::iter::repeat_n(kind, options.flooders))
        .map(|kind| {
            let (target, stop) = (options.target, stop.clone());
            let (bytes, connections) = (bytes.clone(), connections.clone());
            let closes = closes.clone();
            std::thread::spawn(move || {
                flood_until(kind, target, &stop, &bytes, &connections, &closes)
            })
        })
        .collect();
    // Give the flood a moment to reach full speed before the probe starts.
    if flood.is_some() {
        std::thread::sleep(Duration::from_millis(200));
    }
    let probed = probe(options);
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        let _ = flooder.join();
    }
    let (latencies, probe_errors, elapsed) = probed?;
    Ok(Scenario {
        flood,
        latencies,
        probe_errors,
        flood_bytes: bytes.load(Ordering::Relaxed),
        flood_connections: connections.load(Ordering::Relaxed),
        closes: std::mem::take(&mut *closes.lock().unwrap_or_else(|e| e.into_inner())),
        elapsed,
    })
}

/// The well-behaved client: one GET at a time on one connection, for `options.duration`.
fn probe(options: &Options) -> Result<(Vec<Duration>, u64, Duration), String> {
    let wait = Duration::from_secs(5);
    let authority = options.target.to_string();
    let connect = || -> Result<Peer, String> {
        let mut peer = Peer::connect(options.target, &authority, "/", wait)
            .map_err(|f| format!("probe connection: {}", f.observed))?;
        peer.handshake().map_err(|f| format!("probe handshake: {}", f.observed))?;
        Ok(peer)
    };
    let mut peer = connect()?;
    let (mut latencies, mut errors, mut stream) = (Vec::new(), 0, 1u32);
    let started = Instant::now();
    while started.elapsed() < options.duration {
        let sent = Instant::now();
        peer.get(stream);
        match peer.expect_response(stream) {
            Ok(response) if response.status == 200 => latencies.push(sent.elapsed()),
            _ => {
                errors += 1;
                peer = connect()?;
                stream = 1;
                continue;
            }
        }
        stream += 2;
        std::thread::sleep(options.probe_interval);
    }
    Ok((latencies, errors, started.elapsed()))
}

/// One flooder: opens a connection, floods it until `stop`, opens another if the server
/// closes it.
fn flood_until(
    kind: Flood,
    target: SocketAddr,
    stop: &AtomicBool,
    bytes: &AtomicU64,
    connections: &AtomicU64,
    closes: &Arc<Mutex<Vec<String>>>,
) {
    let traffic = Traffic::new(kind, &target.to_string());
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut sock) = TcpStream::connect(target) else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        connections.fetch_add(1, Ordering::Relaxed);
        let _ = sock.set_nodelay(true);
        let _ = sock.set_write_timeout(Some(Duration::from_secs(5)));
        // Drain whatever the server sends, so its answers never hold it back, and count
        // the streams it ends: the flood keeps below the server's concurrency limit, as
        // any client must (RFC 9113 §5.1.2).
        let ended = Arc::new(AtomicU64::new(0));
        if let Ok(reader) = sock.try_clone() {
            let (closes, ended) = (closes.clone(), ended.clone());
            std::thread::spawn(move || drain(reader, &closes, &ended));
        }
        if sock.write_all(&traffic.opening()).is_err() {
            continue;
        }
        let (mut stream, mut sent) = (1u32, 0u64);
        let mut batch = BytesMut::with_capacity(256 << 10);
        'connection: while !stop.load(Ordering::Relaxed) {
            batch.clear();
            while batch.len() < 128 << 10 && sent - ended.load(Ordering::Relaxed) < MAX_IN_FLIGHT {
                traffic.request(stream, &mut batch);
                stream += 2;
                sent += 1;
                if stream > (1 << 31) - 1000 {
                    break 'connection;
                }
            }
            if batch.is_empty() {
                std::thread::yield_now();
                continue;
            }
            if sock.write_all(&batch).is_err() {
                break 'connection;
            }
            bytes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        let _ = sock.shutdown(std::net::Shutdown::Both);
    }
}

/// Reads and drops the server's frames; notes why the server closed the connection (the
/// error code and debug data of its GOAWAY) in `closes`, once per distinct reason.
fn drain(mut reader: TcpStream, closes: &Mutex<Vec<String>>, ended: &AtomicU64) {
    let mut buf = BytesMut::with_capacity(128 << 10);
    let mut chunk = vec![0; 64 << 10];
    while let Ok(n @ 1..) = reader.read(&mut chunk) {
        buf.extend_from_slice(&chunk[..n]);
        while buf.len() >= 9 {
            let len = usize::from(buf[0]) << 16 | usize::from(buf[1]) << 8 | usize::from(buf[2]);
            if buf.len() < 9 + len {
                break;
            }
            let frame = buf.split_to(9 + len);
            // A stream ends with END_STREAM on HEADERS or DATA, or with RST_STREAM.
            let end_stream = matches!(frame[3], 0x0 | 0x1) && frame[4] & END_STREAM != 0;
            if end_stream || frame[3] == 0x3 {
                ended.fetch_add(1, Ordering::Relaxed);
            }
            // GOAWAY (RFC 9113 §6.8): last stream id, error code, debug data.
            if frame[3] == 0x7 && len >= 8 {
                let code = u32::from_be_bytes([frame[13], frame[14], frame[15], frame[16]]);
                let debug = String::from_utf8_lossy(&frame[17..]);
                let reason = format!("{:?} {debug:?}", h2proto::ErrorCode(code));
                let mut closes = closes.lock().unwrap_or_else(|e| e.into_inner());
                if !closes.contains(&reason) {
                    closes.push(reason);
                }
            }
        }
    }
}

/// Pre-encoded flood traffic: a field block that needs no HPACK state (no table
/// references, no insertions), so the same bytes serve every request.
struct Traffic {
    kind: Flood,
    block: Vec<u8>,
}

/// Requests a flood connection keeps open at once: below the default
/// SETTINGS_MAX_CONCURRENT_STREAMS of 100.
const MAX_IN_FLIGHT: u64 = 90;

const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const DATA: u8 = 0x0;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

impl Traffic {
    fn new(kind: Flood, authority: &str) -> Traffic {
        let method = if kind == Flood::Data { "POST" } else { "GET" };
        let path = if kind == Flood::Data { "/sink" } else { "/" };
        let mut fields: Vec<(String, String)> = vec![
            (":method".into(), method.into()),
            (":scheme".into(), "http".into()),
            (":path".into(), path.into()),
            (":authority".into(), authority.into()),
        ];
        let (count, len) = match kind {
            // About 48 KiB of list size: 90 fields of ~530 bytes (RFC 7541 §4.1 counts 32
            // more per field); Huffman-coded, as an attacker would send them.
            Flood::Headers => (90, 480),
            // About 1 KiB, enough to cut into 31 frames of a few dozen bytes.
            Flood::Continuation => (8, 100),
            Flood::Data => (0, 0),
        };
        for i in 0..count {
            let value: String =
                (0..len).map(|j| char::from(b'a' + ((i * 7 + j * 13) % 26) as u8)).collect();
            fields.push((format!("x-flood-{i:02}"), value));
        }
        // A table of size 0 makes every block self-contained (RFC 7541 §4.2: the size
        // update it opens with is allowed at the start of any block).
        let mut encoder = Encoder::new();
        encoder.set_max_table_size(0);
        encoder.set_use_huffman(true);
        let mut block = BytesMut::new();
        encoder.encode(
            fields.iter().map(|(n, v)| FieldRef::new(n.as_bytes(), v.as_bytes())),
            &mut block,
        );
        Traffic { kind, block: block.to_vec() }
    }

    /// The preface and SETTINGS that open a flood connection: the largest windows, so the
    /// server's answers are never held back by flow control, then the ACK of the server's
    /// SETTINGS (sent without waiting for them: every server sends its SETTINGS first).
    fn opening(&self) -> Vec<u8> {
        let mut out = BytesMut::new();
        out.put_slice(PREFACE);
        frame_header(&mut out, 6, 0x4, 0, 0);
        out.put_u16(0x4); // SETTINGS_INITIAL_WINDOW_SIZE
        out.put_u32((1 << 31) - 1);
        frame_header(&mut out, 0, 0x4, 0x1, 0);
        frame_header(&mut out, 4, 0x8, 0, 0);
        out.put_u32((1 << 31) - 1 - 65_535);
        out.to_vec()
    }

    /// Appends one request on `stream`.
    fn request(&self, stream: u32, out: &mut BytesMut) {
        match self.kind {
            Flood::Headers => self.split_block(stream, 16_384, out),
            Flood::Continuation => {
                let chunk = self.block.len().div_ceil(31);
                self.split_block(stream, chunk, out);
            }
            Flood::Data => {
                frame_header(out, self.block.len(), HEADERS, END_HEADERS, stream);
                out.put_slice(&self.block);
                // 4,000 bytes, well inside the default 64 KiB stream window, which the
                // server's /sink gives back as it reads.
                for i in 0..4_000 {
                    let flags = if i == 3_999 { END_STREAM } else { 0 };
                    frame_header(out, 1, DATA, flags, stream);
                    out.put_u8(b'x');
                }
            }
        }
    }

    /// The block as HEADERS (END_STREAM) and CONTINUATION frames of `chunk` bytes.
    fn split_block(&self, stream: u32, chunk: usize, out: &mut BytesMut) {
        let pieces: Vec<&[u8]> = self.block.chunks(chunk).collect();
        for (i, piece) in pieces.iter().enumerate() {
            let last = if i + 1 == pieces.len() { END_HEADERS } else { 0 };
            let (kind, flags) =
                if i == 0 { (HEADERS, END_STREAM | last) } else { (CONTINUATION, last) };
            frame_header(out, piece.len(), kind, flags, stream);
            out.put_slice(piece);
        }
    }
}

/// A 9-octet frame header (RFC 9113 §4.1).
fn frame_header(out: &mut BytesMut, len: usize, kind: u8, flags: u8, stream: u32) {
    out.put_uint(len as u64, 3);
    out.put_u8(kind);
    out.put_u8(flags);
    out.put_u32(stream);
}

/// The report's table: one row per scenario, latencies in milliseconds.
pub fn table(scenarios: &[Scenario]) -> String {
    let ms =
        |d: Option<Duration>| d.map_or("-".into(), |d| format!("{:.2}", d.as_secs_f64() * 1e3));
    let mut out = format!(
        "{:<14}{:>8}{:>9}{:>9}{:>9}{:>9}{:>8}{:>11}{:>8}\n",
        "flood", "probes", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "flood MB/s", "conns"
    );
    for s in scenarios {
        let rate = s.flood_bytes as f64 / s.elapsed.as_secs_f64() / 1e6;
        out.push_str(&format!(
            "{:<14}{:>8}{:>9}{:>9}{:>9}{:>9}{:>8}{:>11.1}{:>8}\n",
            s.flood.map_or("none", Flood::name),
            s.latencies.len(),
            ms(s.quantile(0.5)),
            ms(s.quantile(0.95)),
            ms(s.quantile(0.99)),
            ms(s.quantile(1.0)),
            s.probe_errors,
            rate,
            s.flood_connections,
        ));
        for close in &s.closes {
            out.push_str(&format!(
                "  {} flood connection closed: {close}\n",
                s.flood.map_or("none", Flood::name)
            ));
        }
    }
    out
}
