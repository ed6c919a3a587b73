//! The user-driven [`Connection`](h2proto_mio::Connection) in a loop that serves something
//! else too: the `mio-embed` example's [`Services`] serving HTTP/2 and a TCP echo from one
//! `mio::Poll` on one thread, both at once.

mod support;

#[path = "../examples/embed.rs"]
#[allow(dead_code)] // the example's `main`
mod embed;

use bytes::Bytes;
use embed::Services;
use h2proto_mio::Client;
use http::Request;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use support::{pattern, watchdog};

/// Round trips on both services, interleaved on one echo connection and one HTTP/2
/// connection, while other echo connections move 1 MiB each in parallel: every response
/// and every echoed byte is right, and the HTTP/2 connection's own core counters, window
/// and PING round trip (`/stats`) are there, counting the streams it served.
#[test]
fn one_poll_serves_http2_and_a_tcp_echo_at_once() {
    let _w = watchdog(60);
    let any = "127.0.0.1:0".parse().unwrap();
    let mut services = Services::bind(any, any).unwrap();
    let (h2_addr, echo_addr) = services.addrs().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let serving = thread::spawn(move || {
        services.run(&stopping).unwrap();
        services
    });

    // Bulk echo traffic alongside, each connection writing and reading on two threads.
    let bulk: Vec<_> = (0..3u8)
        .map(|seed| {
            thread::spawn(move || {
                let data = pattern(1 << 20, seed);
                let mut socket = TcpStream::connect(echo_addr).unwrap();
                let mut writer = socket.try_clone().unwrap();
                let sent = data.clone();
                let writing = thread::spawn(move || writer.write_all(&sent).unwrap());
                let mut back = vec![0; data.len()];
                socket.read_exact(&mut back).unwrap();
                writing.join().unwrap();
                assert!(back == data, "echo {seed} came back different");
            })
        })
        .collect();

    let client = Client::connect(h2_addr).unwrap();
    let mut echo = TcpStream::connect(echo_addr).unwrap();
    let requests = 40;
    for i in 0..requests {
        let body = Bytes::from(pattern(100_000 + i, i as u8));
        let response = client.request(Request::post("/echo").body(body.clone()).unwrap()).unwrap();
        assert_eq!(response.body(), &body, "request {i}");

        let line = format!("line {i}\n");
        echo.write_all(line.as_bytes()).unwrap();
        let mut back = vec![0; line.len()];
        echo.read_exact(&mut back).unwrap();
        assert_eq!(back, line.as_bytes());
    }
    let hello = client.request(Request::get("/").body(Bytes::new()).unwrap()).unwrap();
    assert_eq!(hello.body(), "hello");

    // The connection's core Stats, read by the loop that drives it.
    let stats = client.request(Request::get("/stats").body(Bytes::new()).unwrap()).unwrap();
    let stats = std::str::from_utf8(stats.body()).unwrap().to_string();
    let field = |name: &str| -> u64 {
        let line = stats.lines().find(|l| l.starts_with(name)).expect(name);
        line[name.len()..].trim().parse().unwrap()
    };
    assert_eq!(field("streams_opened_remote "), requests as u64 + 2, "{stats}");
    assert!(field("frames_received ") > requests as u64, "{stats}");
    // The PING sent at accept was answered before the second request (it came first on the
    // wire); the client reads every response, so the window it gives is open.
    assert!(stats.contains("rtt_micros ") && !stats.contains("rtt_micros unknown"), "{stats}");
    assert!(field("connection_send_window ") > 0, "{stats}");

    for b in bulk {
        b.join().unwrap();
    }
    drop((client, echo));
    stop.store(true, Ordering::Relaxed);
    serving.join().unwrap();
}

/// `--help` and `--version` answer with exit status 0; a bad address is a usage error.
#[test]
fn the_example_parses_its_command_line() {
    let args = |list: &[&str]| embed::parse_args(list.iter().map(|s| s.to_string()));
    assert_eq!(args(&["--help"]), Err(0));
    assert_eq!(args(&["--version"]), Err(0));
    assert_eq!(args(&["--addr", "nowhere"]), Err(2));
    let (h2, echo) = args(&["--addr", "127.0.0.1:9000", "--echo-addr", "127.0.0.1:9001"]).unwrap();
    assert_eq!((h2.port(), echo.port()), (9000, 9001));
}
