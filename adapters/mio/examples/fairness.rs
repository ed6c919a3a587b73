//! Fairness on one loop thread: does a flooding connection starve a well-behaved one?
//!
//! Starts a one-thread mio server in this process, then measures a well-behaved client's
//! request latency (sequential GETs) alone and next to flooding connections, one kind of
//! flood at a time, and prints p50/p95/p99 for each. The loop bounds the reads of one
//! connection per turn (`READS_PER_TURN` in `conn.rs`), so a flood should cost the
//! well-behaved client a turn's worth of the flooder's work, not all of it. A benchmark:
//! run it by hand (`flock /work/notes/bench.lock` on shared machines), never in tests.
//!
//! Floods, each from `--flooders` connections writing as fast as the socket takes (and
//! reading and discarding whatever comes back):
//!
//! - `fields`: requests whose header blocks are ~12 KiB of literal fields, back to back;
//! - `continuation`: a HEADERS without END_HEADERS followed by CONTINUATION frames of one
//!   field each, until the server ends the connection; then again on a new one;
//! - `dribble`: one upload in DATA frames of one byte each.
//!
//! ```text
//! cargo run --release -p h2proto-mio --example mio-fairness -- --requests 2000
//! ```

use bytes::Bytes;
use h2proto_mio::{Client, Server};
use http::{Request, Response};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str =
    "usage: mio-fairness [--requests N] [--flooders N] [--flood fields|continuation|dribble]...

Measures a well-behaved client's latency on a one-thread mio server, alone and next to
each flood (all three unless --flood is given), and prints p50/p95/p99.

  --requests N   sequential GETs per measurement (default 2000)
  --flooders N   flooding connections per flood (default 2)
  --flood KIND   a flood to run (repeatable)
  --help         this text
  --version      the version";

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A frame: 9-byte header, then the payload (RFC 9113 §4.1).
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const SETTINGS: u8 = 4;
const CONTINUATION: u8 = 9;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;

/// A literal field without indexing, new name, no Huffman (RFC 7541 §6.2.2).
fn literal(block: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    block.push(0);
    block.push(name.len() as u8);
    block.extend_from_slice(name);
    block.push(value.len() as u8);
    block.extend_from_slice(value);
}

/// `:method` (GET or POST), `:scheme http`, `:path`, `:authority localhost`.
fn request_head(post: bool, path: &[u8]) -> Vec<u8> {
    // Static table: 2 = GET, 3 = POST, 6 = http (RFC 7541 Appendix A).
    let mut block = vec![if post { 0x83 } else { 0x82 }, 0x86];
    block.push(0x04); // :path, literal without indexing, indexed name 4
    block.push(path.len() as u8);
    block.extend_from_slice(path);
    block.push(0x01); // :authority, literal without indexing, indexed name 1
    block.push(9);
    block.extend_from_slice(b"localhost");
    block
}

/// The bytes a flooding connection writes, over and over, after its preface.
fn flood_unit(kind: &str, stream: &mut u32) -> Vec<u8> {
    let id = *stream;
    match kind {
        "fields" => {
            *stream += 2;
            let mut block = request_head(false, b"/");
            for i in 0..100u8 {
                literal(&mut block, format!("x-filler-{i:03}").as_bytes(), &[b'v'; 100]);
            }
            frame(HEADERS, END_HEADERS | END_STREAM, id, &block)
        }
        "continuation" => {
            let mut out = frame(HEADERS, 0, id, &request_head(false, b"/"));
            for i in 0..64u8 {
                let mut field = Vec::new();
                literal(&mut field, b"x-more", &[b'a' + i % 26; 60]);
                out.extend_from_slice(&frame(CONTINUATION, 0, id, &field));
            }
            out
        }
        _ => frame(DATA, 0, id, b"x"),
    }
}

/// One flooding connection until `stop`: writes units as fast as the socket takes them,
/// reconnecting whenever the server ends the connection.
fn flood(addr: SocketAddr, kind: &'static str, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut socket) = TcpStream::connect(addr) else { return };
        let mut reader = socket.try_clone().expect("clone");
        let draining = thread::spawn(move || {
            let mut buf = vec![0; 64 << 10];
            while let Ok(1..) = reader.read(&mut buf) {}
        });
        let mut start = PREFACE.to_vec();
        start.extend_from_slice(&frame(SETTINGS, 0, 0, &[]));
        let mut stream = 1;
        if kind == "dribble" {
            start.extend_from_slice(&frame(HEADERS, END_HEADERS, 1, &request_head(true, b"/sink")));
        }
        let mut ok = socket.write_all(&start).is_ok();
        while ok && !stop.load(Ordering::Relaxed) {
            ok = socket.write_all(&flood_unit(kind, &mut stream)).is_ok();
        }
        let _ = socket.shutdown(std::net::Shutdown::Both);
        let _ = draining.join();
    }
}

/// Sequential GET latencies of one well-behaved client, sorted.
fn measure(addr: SocketAddr, requests: usize) -> Vec<Duration> {
    let client = Client::connect(addr).expect("connect");
    let mut latencies: Vec<Duration> = (0..requests)
        .filter_map(|_| {
            let started = Instant::now();
            let request = Request::get("/").body(Bytes::new()).ok()?;
            client.request(request).ok().map(|_| started.elapsed())
        })
        .collect();
    latencies.sort();
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> String {
    if sorted.is_empty() {
        return "-".into();
    }
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    format!("{:.0} µs", sorted[i].as_secs_f64() * 1e6)
}

fn report(label: &str, sorted: &[Duration], requests: usize) {
    println!(
        "{label:<24} {:>4}/{requests} ok  p50 {:>9}  p95 {:>9}  p99 {:>9}",
        sorted.len(),
        percentile(sorted, 0.50),
        percentile(sorted, 0.95),
        percentile(sorted, 0.99),
    );
}

struct Args {
    requests: usize,
    flooders: usize,
    floods: Vec<&'static str>,
}

fn parse_args() -> Result<Args, i32> {
    let mut parsed = Args { requests: 2000, flooders: 2, floods: Vec::new() };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--help" | "-h" => {
                println!("{USAGE}");
                return Err(0);
            }
            "--version" | "-V" => {
                println!("mio-fairness {}", env!("CARGO_PKG_VERSION"));
                return Err(0);
            }
            _ => {}
        }
        let value = args.next().unwrap_or_default();
        match (arg.as_str(), value.as_str()) {
            ("--requests", n) if n.parse::<usize>().is_ok() => parsed.requests = n.parse().unwrap(),
            ("--flooders", n) if n.parse::<usize>().is_ok() => parsed.flooders = n.parse().unwrap(),
            ("--flood", "fields") => parsed.floods.push("fields"),
            ("--flood", "continuation") => parsed.floods.push("continuation"),
            ("--flood", "dribble") => parsed.floods.push("dribble"),
            _ => {
                eprintln!("mio-fairness: bad argument {arg} {value}\n{USAGE}");
                return Err(2);
            }
        }
    }
    if parsed.floods.is_empty() {
        parsed.floods = vec!["fields", "continuation", "dribble"];
    }
    Ok(parsed)
}

fn main() -> std::io::Result<()> {
    let args = match parse_args() {
        Ok(args) => args,
        Err(code) => std::process::exit(code),
    };
    let server = Server::bind("127.0.0.1:0")?.threads(1);
    let addr = server.local_addr()?;
    let shutdown = server.shutdown_handle();
    let serving = thread::spawn(move || {
        server.serve(|request: Request<Bytes>| match request.uri().path() {
            "/sink" => Response::new(Bytes::from_static(b"done")),
            _ => Response::new(Bytes::from_static(b"hello")),
        })
    });

    println!("one mio loop thread on {addr}; {} sequential GETs per row", args.requests);
    report("alone", &measure(addr, args.requests), args.requests);
    for kind in args.floods {
        let stop = Arc::new(AtomicBool::new(false));
        let flooders: Vec<_> = (0..args.flooders)
            .map(|_| {
                let stop = stop.clone();
                thread::spawn(move || flood(addr, kind, stop))
            })
            .collect();
        // Let the flood get going before measuring.
        thread::sleep(Duration::from_millis(200));
        let label = format!("with {} x {kind}", args.flooders);
        report(&label, &measure(addr, args.requests), args.requests);
        stop.store(true, Ordering::Relaxed);
        for f in flooders {
            let _ = f.join();
        }
    }
    shutdown.shutdown();
    serving.join().unwrap_or_else(|_| Err(std::io::Error::other("server panicked")))
}
