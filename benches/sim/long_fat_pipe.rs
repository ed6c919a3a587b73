//! How long one large download takes over a simulated long fat pipe, with and without
//! `Config::adaptive_window`: the measurement behind that knob's default.
//!
//! Two cores talk over a virtual link with a one-way delay and a bandwidth (bytes are
//! serialized onto the link in order, then arrive a delay later), on a virtual clock: no
//! socket, no sleep, the same figures on every run. The server answers one GET with
//! `--size` bytes as fast as flow control lets it; the client reads as it arrives.
//!
//! ```text
//! cargo run --release --example long_fat_pipe -- --rtt-ms 100 --mbit 1000 --size-mib 256
//! ```

use bytes::Bytes;
use h2proto::{Config, Connection, Event, StreamId, buf_to_vec};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: long_fat_pipe [--rtt-ms MS] [--mbit MBIT] [--size-mib MIB] [--max-window-mib MIB]

Simulates one download over a link of the given round trip and bandwidth (virtual clock,
no sockets) with and without Config::adaptive_window, and prints the time each took.
Defaults: --rtt-ms 100 --mbit 1000 --size-mib 256 --max-window-mib 16";

/// One direction of the link: chunks in flight with their arrival times.
struct Wire {
    delay: Duration,
    /// Bytes per second.
    rate: u64,
    /// When the link is free to start serializing the next chunk.
    free_at: Instant,
    in_flight: VecDeque<(Instant, Bytes)>,
}

impl Wire {
    fn send(&mut self, now: Instant, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let start = self.free_at.max(now);
        let serialize = Duration::from_nanos(bytes.len() as u64 * 1_000_000_000 / self.rate);
        self.free_at = start + serialize;
        self.in_flight.push_back((self.free_at + self.delay, bytes.into()));
    }
}

struct Outcome {
    elapsed: Duration,
    pings: u64,
    window: u32,
}

fn download(config: &Config, rtt: Duration, rate: u64, size: usize) -> Outcome {
    let start = Instant::now();
    let mut now = start;
    let mut client = Connection::client(config.clone());
    let mut server = Connection::server(config.clone());
    client.handle_timeout(now);
    server.handle_timeout(now);
    let wire = |at| Wire { delay: rtt / 2, rate, free_at: at, in_flight: VecDeque::new() };
    let (mut up, mut down) = (wire(now), wire(now));
    let request = http::Request::get("http://sim/big").body(()).unwrap();
    let id = client.send_request(request, true).unwrap();
    let chunk = Bytes::from(vec![7u8; 64 << 10]);
    let mut left_to_send = size;
    let mut received = 0usize;
    let mut serving: Option<StreamId> = None;
    let mut pings = 0;
    loop {
        // The server offers body data as long as the core accepts it.
        if let Some(sid) = serving {
            while left_to_send > 0 {
                let n = left_to_send.min(chunk.len());
                let accepted = server.send_data(sid, chunk.slice(..n), n == left_to_send).unwrap();
                left_to_send -= accepted;
                if accepted < n {
                    break;
                }
            }
        }
        up.send(now, buf_to_vec(client.transmit()));
        down.send(now, buf_to_vec(server.transmit()));
        // The next arrival, either way.
        let next_up = up.in_flight.front().map(|c| c.0);
        let next_down = down.in_flight.front().map(|c| c.0);
        let to_server = match (next_up, next_down) {
            (Some(a), Some(b)) => a <= b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => panic!("the link went quiet at {received} of {size} bytes"),
        };
        let (at, bytes) =
            if to_server { up.in_flight.pop_front() } else { down.in_flight.pop_front() }.unwrap();
        now = now.max(at);
        if to_server {
            server.recv(bytes, now).unwrap();
            while let Some(event) = server.poll_event() {
                if let Event::Request { stream_id, .. } = event {
                    server.send_response(stream_id, http::Response::new(()), false).unwrap();
                    serving = Some(stream_id);
                }
            }
        } else {
            client.recv(bytes, now).unwrap();
            while let Some(event) = client.poll_event() {
                if let Event::Data { stream_id, end_stream } = event {
                    while let Some(data) = client.read_data(stream_id) {
                        received += data.len();
                    }
                    if end_stream && stream_id == id {
                        assert_eq!(received, size);
                        return Outcome {
                            elapsed: now - start,
                            pings,
                            window: client.stats().adaptive_window,
                        };
                    }
                }
            }
            pings = server.stats().pings_received;
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut rtt_ms, mut mbit, mut size_mib, mut max_mib) = (100u64, 1000u64, 256usize, 16u32);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<u64>().ok());
        match arg.as_str() {
            "--help" | "-h" => return println!("{USAGE}"),
            "--version" | "-V" => {
                return println!("long_fat_pipe {}", env!("CARGO_PKG_VERSION"));
            }
            "--rtt-ms" => rtt_ms = value().expect("--rtt-ms MS"),
            "--mbit" => mbit = value().expect("--mbit MBIT"),
            "--size-mib" => size_mib = value().expect("--size-mib MIB") as usize,
            "--max-window-mib" => max_mib = value().expect("--max-window-mib MIB") as u32,
            other => {
                eprintln!("unknown argument {other}\n{USAGE}");
                std::process::exit(2);
            }
        }
    }
    let rtt = Duration::from_millis(rtt_ms);
    let rate = mbit * 1_000_000 / 8;
    let size = size_mib << 20;
    println!(
        "{size_mib} MiB over {rtt_ms} ms RTT at {mbit} Mbit/s (BDP {:.1} MiB), virtual time:",
        (rate as f64 * rtt.as_secs_f64()) / f64::from(1 << 20)
    );
    for adaptive in [false, true] {
        let mut config = Config::default();
        config.adaptive_window = adaptive;
        config.max_adaptive_window = max_mib << 20;
        let out = download(&config, rtt, rate, size);
        let secs = out.elapsed.as_secs_f64();
        println!(
            "  adaptive_window {adaptive:5}: {secs:7.2} s, {:8.1} Mbit/s, PINGs {:3}, stream window {} KiB",
            size as f64 * 8.0 / secs / 1e6,
            out.pings,
            if adaptive { out.window >> 10 } else { config.initial_stream_window_size >> 10 },
        );
    }
}
