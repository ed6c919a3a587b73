//! HTTP/2 embedded in an event loop that serves something else too: one thread, one
//! `mio::Poll`, an HTTP/2 listener and a plain TCP echo listener, each connection under a
//! token of this loop. The HTTP/2 connections are [`h2proto_mio::Connection`]s driven by
//! this loop's events and deadlines; the echo connections are ordinary sockets.
//!
//! ```text
//! cargo run -p h2proto-mio --example mio-embed -- --addr 127.0.0.1:8080 --echo-addr 127.0.0.1:8081
//! curl --http2-prior-knowledge http://127.0.0.1:8080/stats
//! nc 127.0.0.1 8081
//! ```
//!
//! Routes: `/echo` answers with the request body, `/stats` with this connection's core
//! counters, window and round trip (a PING measures it as the connection opens), anything
//! else with "hello". The tests drive [`Services`] directly.

use h2proto_mio::{Body, Config, Connection};
use http::{Request, Response};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: mio-embed [--addr HOST:PORT] [--echo-addr HOST:PORT]

Serves HTTP/2 (cleartext, prior knowledge) on --addr (default 127.0.0.1:8080) and a TCP
echo on --echo-addr (default 127.0.0.1:8081), both from one mio::Poll on one thread, in
the foreground until killed.

  --addr HOST:PORT       the HTTP/2 listener (/echo, /stats, anything else: hello)
  --echo-addr HOST:PORT  the echo listener
  --help                 this text
  --version              the version";

const H2_LISTENER: Token = Token(0);
const ECHO_LISTENER: Token = Token(1);
/// The longest sleep in `poll`, so [`Services::run`] sees its stop flag.
const MAX_WAIT: Duration = Duration::from_millis(100);

/// One echo connection: what was read and is not yet written back.
struct Echo {
    socket: TcpStream,
    pending: Vec<u8>,
    at: usize,
    closed: bool,
}

impl Echo {
    /// Writes back what is pending, then reads more, until the socket would block either
    /// way. Reading waits while a write is pending, so a peer that does not read its echo
    /// is paced by TCP and costs at most one buffer here.
    fn pump(&mut self) {
        let mut buf = [0; 16 << 10];
        while !self.closed {
            while self.at < self.pending.len() {
                match self.socket.write(&self.pending[self.at..]) {
                    Ok(n) => self.at += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => self.closed = true,
                }
                if self.closed {
                    return;
                }
            }
            match self.socket.read(&mut buf) {
                Ok(0) => self.closed = true,
                Ok(n) => {
                    self.pending.clear();
                    self.pending.extend_from_slice(&buf[..n]);
                    self.at = 0;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.closed = true,
            }
        }
    }
}

/// Both services and the loop that runs them.
pub struct Services {
    poll: Poll,
    h2_listener: TcpListener,
    echo_listener: TcpListener,
    h2: HashMap<Token, Connection>,
    echo: HashMap<Token, Echo>,
    next_token: usize,
}

impl Services {
    /// Binds both listeners (port 0 picks a free port).
    pub fn bind(h2_addr: SocketAddr, echo_addr: SocketAddr) -> io::Result<Services> {
        let poll = Poll::new()?;
        let mut h2_listener = TcpListener::bind(h2_addr)?;
        let mut echo_listener = TcpListener::bind(echo_addr)?;
        poll.registry().register(&mut h2_listener, H2_LISTENER, Interest::READABLE)?;
        poll.registry().register(&mut echo_listener, ECHO_LISTENER, Interest::READABLE)?;
        let (h2, echo) = (HashMap::new(), HashMap::new());
        Ok(Services { poll, h2_listener, echo_listener, h2, echo, next_token: 2 })
    }

    /// The HTTP/2 and the echo addresses.
    pub fn addrs(&self) -> io::Result<(SocketAddr, SocketAddr)> {
        Ok((self.h2_listener.local_addr()?, self.echo_listener.local_addr()?))
    }

    /// Open connections: HTTP/2 and echo.
    pub fn connections(&self) -> (usize, usize) {
        (self.h2.len(), self.echo.len())
    }

    /// Runs until `stop` is set (checked at least every 100 ms).
    pub fn run(&mut self, stop: &AtomicBool) -> io::Result<()> {
        let mut events = Events::with_capacity(256);
        while !stop.load(Ordering::Relaxed) {
            // Sleep until the earliest HTTP/2 deadline (a past one: at once).
            let now = Instant::now();
            let earliest = self.h2.values().filter_map(Connection::timeout).min();
            let wait = earliest.map_or(MAX_WAIT, |at| at.saturating_duration_since(now));
            match self.poll.poll(&mut events, Some(wait.min(MAX_WAIT))) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => result?,
            }
            for event in events.iter() {
                match event.token() {
                    H2_LISTENER => self.accept_h2()?,
                    ECHO_LISTENER => self.accept_echo()?,
                    token => {
                        if let Some(conn) = self.h2.get_mut(&token) {
                            conn.ready(event);
                        } else if let Some(echo) = self.echo.get_mut(&token) {
                            echo.pump();
                        }
                    }
                }
            }
            self.serve_h2(Instant::now());
            self.echo.retain(|_, echo| !echo.closed);
        }
        Ok(())
    }

    /// Fires due deadlines, answers every request waiting, and drops closed connections.
    fn serve_h2(&mut self, now: Instant) {
        let registry = self.poll.registry();
        self.h2.retain(|_, conn| {
            if conn.timeout().is_some_and(|at| at <= now) {
                conn.handle_timeout(now);
            }
            while let Some((id, request)) = conn.next_request() {
                let response = handle(conn, request);
                let _ = conn.respond(id, response);
            }
            let closed = conn.is_closed();
            if closed {
                let _ = conn.deregister(registry);
            }
            !closed
        });
    }

    fn accept_h2(&mut self) -> io::Result<()> {
        loop {
            match self.h2_listener.accept() {
                Ok((socket, _)) => {
                    let token = self.token();
                    let mut conn = Connection::server(socket, Config::default())?;
                    conn.register(self.poll.registry(), token)?;
                    // Measures the round trip once, for `/stats`.
                    let _ = conn.ping();
                    self.h2.insert(token, conn);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Out of descriptors, say: the next connection retries.
                Err(_) => return Ok(()),
            }
        }
    }

    fn accept_echo(&mut self) -> io::Result<()> {
        loop {
            match self.echo_listener.accept() {
                Ok((mut socket, _)) => {
                    let token = self.token();
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    self.poll.registry().register(&mut socket, token, interest)?;
                    let echo = Echo { socket, pending: Vec::new(), at: 0, closed: false };
                    self.echo.insert(token, echo);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Ok(()),
            }
        }
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }
}

/// The HTTP/2 routes.
fn handle(conn: &Connection, request: Request<bytes::Bytes>) -> Response<Body> {
    match request.uri().path() {
        "/echo" => Response::new(Body::from(request.into_body())),
        "/stats" => {
            let stats = conn.stats();
            let rtt = conn.rtt().map_or("unknown".into(), |rtt| rtt.as_micros().to_string());
            let text = format!(
                "frames_received {}\nframes_sent {}\nstreams_opened_remote {}\n\
                 connection_send_window {}\nrtt_micros {rtt}\n",
                stats.frames_received,
                stats.frames_sent,
                stats.streams_opened_remote,
                conn.h2().connection_send_window(),
            );
            Response::new(Body::from(text))
        }
        _ => Response::new(Body::from("hello")),
    }
}

/// The addresses from the command line, or `Err(exit code)` after printing help, the
/// version or a usage error.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<(SocketAddr, SocketAddr), i32> {
    let mut addrs: [SocketAddr; 2] =
        ["127.0.0.1:8080".parse().unwrap(), "127.0.0.1:8081".parse().unwrap()];
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--help" | "-h" => {
                println!("{USAGE}");
                return Err(0);
            }
            "--version" | "-V" => {
                println!("mio-embed {}", env!("CARGO_PKG_VERSION"));
                return Err(0);
            }
            "--addr" => 0,
            "--echo-addr" => 1,
            _ => {
                eprintln!("mio-embed: unknown argument {arg}\n{USAGE}");
                return Err(2);
            }
        };
        match args.next().map(|value| value.parse()) {
            Some(Ok(addr)) => addrs[slot] = addr,
            _ => {
                eprintln!("mio-embed: {arg} needs HOST:PORT\n{USAGE}");
                return Err(2);
            }
        }
    }
    Ok((addrs[0], addrs[1]))
}

fn main() {
    let (h2_addr, echo_addr) = match parse_args(std::env::args().skip(1)) {
        Ok(addrs) => addrs,
        Err(code) => std::process::exit(code),
    };
    let mut services = match Services::bind(h2_addr, echo_addr) {
        Ok(services) => services,
        Err(e) => {
            eprintln!("mio-embed: {e}");
            std::process::exit(1);
        }
    };
    if let Ok((h2, echo)) = services.addrs() {
        eprintln!("HTTP/2 on http://{h2}, TCP echo on {echo}, one thread");
    }
    if let Err(e) = services.run(&AtomicBool::new(false)) {
        eprintln!("mio-embed: {e}");
        std::process::exit(1);
    }
}
