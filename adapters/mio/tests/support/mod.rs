//! Test helpers: a watchdog, a server on an ephemeral port, and a hand-driven raw peer
//! (with the misbehaving servers made of it, in `raw_server`).
#![allow(dead_code)]

mod raw_server;

#[allow(unused_imports)] // not every test uses them
pub use raw_server::*;

use bytes::Bytes;
use h2proto::Config;
use h2proto_mio::{Body, Server, ShutdownHandle};
use http::{Request, Response};
use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::{self, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Ends the whole test process if the test is still running after `secs`: nothing hangs.
pub struct Watchdog(Option<Sender<()>>);

pub fn watchdog(secs: u64) -> Watchdog {
    let (tx, rx) = mpsc::channel::<()>();
    let name = thread::current().name().unwrap_or("test").to_string();
    thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(secs)) {
            eprintln!("watchdog: {name} still running after {secs} s");
            std::process::exit(101);
        }
    });
    Watchdog(Some(tx))
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.0.take());
    }
}

/// A mio server on 127.0.0.1:0, serving on a thread of its own.
pub struct TestServer {
    pub addr: SocketAddr,
    pub stop: ShutdownHandle,
    pub serving: Option<JoinHandle<io::Result<()>>>,
}

impl TestServer {
    pub fn start<H, B>(server: Server, handler: H) -> TestServer
    where
        H: Fn(Request<Bytes>) -> Response<B> + Send + Sync + 'static,
        B: Into<Body>,
    {
        let addr = server.local_addr().unwrap();
        let stop = server.shutdown_handle();
        let serving = Some(thread::spawn(move || server.serve(handler)));
        TestServer { addr, stop, serving }
    }

    pub fn hello_echo(config: Config) -> TestServer {
        TestServer::start(Server::bind("127.0.0.1:0").unwrap().config(config), hello_echo)
    }

    /// Shuts down gracefully and waits for `serve` to return.
    pub fn stop(mut self) {
        self.stop.shutdown();
        self.serving.take().unwrap().join().unwrap().unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.shutdown();
    }
}

/// hello / echo, the examples' handler.
pub fn hello_echo(request: Request<Bytes>) -> Response<Bytes> {
    match request.uri().path() {
        "/echo" => Response::new(request.into_body()),
        _ => Response::new(Bytes::from_static(b"hello")),
    }
}

pub fn small_windows() -> Config {
    let mut c = Config::default();
    c.initial_stream_window_size = 16 << 10;
    c.initial_connection_window_size = 16 << 10;
    c
}

pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ seed).collect()
}

/// A tunnel that sends back what it reads, reading the next piece only once the last one is
/// taken (so flow control paces the peer), and ends its direction after the peer's.
#[allow(dead_code)] // not every test uses it
pub fn echo_tunnel() -> Body {
    use bytes::Buf;
    let mut pending = Bytes::new();
    Body::tunnel(move |io: &mut h2proto_mio::TunnelIo<'_>| {
        loop {
            let sent = io.send(pending.clone());
            pending.advance(sent);
            if !pending.is_empty() {
                return;
            }
            match io.read() {
                Some(bytes) => pending = bytes,
                None => break,
            }
        }
        if io.is_read_closed() {
            io.close();
        }
    })
}
