//! Test helpers: a watchdog, a server on an ephemeral port, and a hand-driven raw peer
//! (with the misbehaving servers made of it, in `raw_server`).
#![allow(dead_code)]

mod raw_server;

#[allow(unused_imports)] // not every test uses them
pub use raw_server::*;

use bytes::Bytes;
use h2proto::{Config, Connection, Event};
use h2proto_mio::{Body, Server, ShutdownHandle};
use http::{Request, Response};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{self, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

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

/// A peer driven by hand: an h2proto core over a blocking socket, so a test can make it
/// misbehave (go silent, vanish).
pub struct RawPeer {
    pub conn: Connection,
    pub socket: TcpStream,
}

impl RawPeer {
    pub fn new(socket: TcpStream, conn: Connection) -> RawPeer {
        socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut peer = RawPeer { conn, socket };
        peer.conn.handle_timeout(Instant::now());
        peer
    }

    pub fn flush(&mut self) {
        let out = h2proto::buf_to_vec(self.conn.transmit());
        self.socket.write_all(&out).unwrap();
    }

    /// Exchanges bytes until `until` accepts an event; returns the events seen.
    pub fn run_until(&mut self, mut until: impl FnMut(&Event) -> bool) -> Vec<Event> {
        let mut seen = Vec::new();
        let mut buf = vec![0; 64 << 10];
        loop {
            self.flush();
            while let Some(event) = self.conn.poll_event() {
                let done = until(&event);
                seen.push(event);
                if done {
                    self.flush();
                    return seen;
                }
            }
            match self.socket.read(&mut buf) {
                Ok(0) => panic!("peer closed; events so far: {seen:?}"),
                Ok(n) => {
                    self.conn.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now()).unwrap();
                }
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Closes like a server that is done: FIN after everything written, then reads until the
    /// peer's EOF (at most 2 s), so no unread input turns the close into a RST that would
    /// discard what the peer has not read yet.
    pub fn close_gracefully(self) {
        let _ = self.socket.shutdown(std::net::Shutdown::Write);
        let _ = self.socket.set_read_timeout(Some(Duration::from_secs(2)));
        let mut buf = [0; 4096];
        while matches!((&self.socket).read(&mut buf), Ok(n) if n > 0) {}
    }

    /// Stays silent (writes nothing, not even ACKs) and reads to EOF; returns the events
    /// the peer's frames caused.
    pub fn silent_until_eof(&mut self) -> Vec<Event> {
        self.socket.set_read_timeout(None).unwrap();
        let mut events = Vec::new();
        let mut buf = vec![0; 64 << 10];
        while let Ok(n @ 1..) = self.socket.read(&mut buf) {
            let _ = self.conn.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now());
            events.extend(std::iter::from_fn(|| self.conn.poll_event()));
        }
        events
    }
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
