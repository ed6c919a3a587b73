//! Test helpers: a watchdog, a server on an ephemeral port, a hand-driven raw peer (and
//! the misbehaving servers made of it, in `raw_server`), and counting readers.
#![allow(dead_code)]

mod raw_server;
#[allow(unused_imports)] // Not every test uses them.
pub use raw_server::*;

use h2proto::Config;
use h2proto_blocking::{Body, RequestBody, Server, ShutdownHandle};
use http::{Request, Response};
use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex};
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

/// A server on 127.0.0.1:0, serving on a thread of its own.
pub struct TestServer {
    pub addr: SocketAddr,
    pub stop: ShutdownHandle,
    pub serving: Option<JoinHandle<io::Result<()>>>,
}

impl TestServer {
    pub fn start<H, B>(config: Config, workers: usize, handler: H) -> TestServer
    where
        H: Fn(Request<RequestBody>) -> Response<B> + Send + Sync + 'static,
        B: Into<Body>,
    {
        let server = Server::bind("127.0.0.1:0").unwrap().workers(workers).config(config);
        let addr = server.local_addr().unwrap();
        let stop = server.shutdown_handle();
        let serving = Some(thread::spawn(move || server.serve(handler)));
        TestServer { addr, stop, serving }
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
pub fn hello_echo(request: Request<RequestBody>) -> Response<Body> {
    match request.uri().path() {
        "/echo" => Response::new(Body::from_reader(request.into_body())),
        _ => Response::new(Body::from("hello")),
    }
}

pub fn small_windows() -> Config {
    let mut c = Config::default();
    c.initial_stream_window_size = 16 << 10;
    c.initial_connection_window_size = 16 << 10;
    c
}

/// A deterministic body of `len` bytes.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ seed).collect()
}

/// A reader of `len` pattern bytes that counts what has been read from it.
pub struct Counting {
    pub produced: Arc<Progress>,
    len: usize,
    pos: usize,
}

/// A counter that can be waited on.
#[derive(Default)]
pub struct Progress {
    n: Mutex<usize>,
    changed: Condvar,
    pub drops: AtomicUsize,
}

impl Progress {
    pub fn get(&self) -> usize {
        *self.n.lock().unwrap()
    }

    fn add(&self, k: usize) {
        *self.n.lock().unwrap() += k;
        self.changed.notify_all();
    }

    /// Waits until the count reaches `at_least`.
    pub fn wait_for(&self, at_least: usize) {
        let mut n = self.n.lock().unwrap();
        while *n < at_least {
            n = self.changed.wait(n).unwrap();
        }
    }
}

impl Counting {
    pub fn new(len: usize) -> (Counting, Arc<Progress>) {
        let produced = Arc::new(Progress::default());
        (Counting { produced: produced.clone(), len, pos: 0 }, produced)
    }
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.len - self.pos);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = ((self.pos + i) % 251) as u8;
        }
        self.pos += n;
        self.produced.add(n);
        Ok(n)
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        self.produced.drops.fetch_add(1, Ordering::SeqCst);
        self.produced.changed.notify_all();
    }
}

impl Progress {
    /// Waits until the reader has been dropped.
    pub fn wait_dropped(&self) {
        let mut n = self.n.lock().unwrap();
        while self.drops.load(Ordering::SeqCst) == 0 {
            n = self.changed.wait(n).unwrap();
        }
    }
}
