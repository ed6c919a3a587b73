//! One HTTP/2 server connection driven from *your* `mio::Poll`.
//!
//! [`Server`](crate::Server) owns its poll, its threads and its handler calls. An
//! application that already has an event loop — a proxy, a game server, a UDP service —
//! wants HTTP/2 as one more source in that loop instead: its own tokens, its own registry,
//! its own idea of when to answer. [`Connection`] is that: the same per-connection engine the
//! built-in loop runs (`conn.rs`, one piece of code for both), with the loop left to you.
//!
//! The contract, per connection:
//!
//! - [`register`](Connection::register) it with your token; pass every event for that token
//!   to [`ready`](Connection::ready) (or call [`readable`](Connection::readable) /
//!   [`writable`](Connection::writable) if you track readiness yourself);
//! - sleep in `poll` no longer than [`timeout`](Connection::timeout) says, and call
//!   [`handle_timeout`](Connection::handle_timeout) when it is due (the core's timers, and
//!   reads a busy connection left for later so it does not starve the rest of your loop);
//! - take whole requests with [`next_request`](Connection::next_request) and answer them with
//!   [`respond`](Connection::respond), at once or on a later turn;
//! - when [`is_closed`](Connection::is_closed), deregister and drop it.
//!
//! ```
//! use bytes::Bytes;
//! use h2proto_mio::{Body, Client, Config, Connection};
//! use http::{Request, Response};
//! use mio::net::TcpListener;
//! use mio::{Events, Interest, Poll, Token};
//! use std::time::{Duration, Instant};
//!
//! const LISTENER: Token = Token(0);
//! const H2: Token = Token(1);
//!
//! let mut poll = Poll::new()?;
//! let mut listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
//! poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
//! let addr = listener.local_addr()?;
//! let asking = std::thread::spawn(move || {
//!     let client = Client::connect(addr)?;
//!     Ok::<_, std::io::Error>(client.request(Request::get("/hi").body(Bytes::new()).unwrap())?)
//! });
//!
//! let mut events = Events::with_capacity(64);
//! let mut conn: Option<Connection> = None;
//! while !asking.is_finished() {
//!     // Wake for the connection's next deadline, or every 10 ms to see the client finish.
//!     let mut wait = Duration::from_millis(10);
//!     if let Some(at) = conn.as_ref().and_then(Connection::timeout) {
//!         wait = wait.min(at.saturating_duration_since(Instant::now()));
//!     }
//!     poll.poll(&mut events, Some(wait))?;
//!     for event in events.iter() {
//!         match event.token() {
//!             LISTENER => {
//!                 while let Ok((socket, _)) = listener.accept() {
//!                     let mut accepted = Connection::server(socket, Config::default())?;
//!                     accepted.register(poll.registry(), H2)?;
//!                     conn = Some(accepted);
//!                 }
//!             }
//!             _ => conn.as_mut().unwrap().ready(event),
//!         }
//!     }
//!     let Some(c) = conn.as_mut() else { continue };
//!     if c.timeout().is_some_and(|at| at <= Instant::now()) {
//!         c.handle_timeout(Instant::now());
//!     }
//!     while let Some((id, request)) = c.next_request() {
//!         let body = format!("hello from {}", request.uri().path());
//!         let _ = c.respond(id, Response::new(Body::from(body)));
//!     }
//! }
//! let response = asking.join().unwrap()?;
//! assert_eq!(response.body(), "hello from /hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Each connection keeps its own read buffers (up to 128 KiB while it reads, see
//! `read_arena.rs`); the built-in loop shares one set among all its connections.

use crate::conn::{Conn, Role};
use crate::read_arena::ReadArena;
use crate::{Body, DEFAULT_MAX_BODY};
use bytes::Bytes;
use h2proto::{Config, HeaderPool, StreamId, UserError};
use http::{Request, Response};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

/// Header maps one connection keeps for reuse between the heads it receives and sends.
const HEADER_POOL_LIMIT: usize = 8;

/// A server connection driven from the caller's own `mio::Poll` (see the module docs).
pub struct Connection {
    conn: Conn,
    arena: ReadArena,
    headers: HeaderPool,
    /// When the last drive ran: a connection with readiness left over is due again then.
    last_drive: Instant,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("streams", &self.conn.stream_count()).finish()
    }
}

impl Connection {
    /// A server connection over an accepted socket (non-blocking, as `mio` hands it out),
    /// with `config` (`auto_release_capacity` is always on: bodies are gathered as they
    /// arrive). Fails only on an invalid `config`.
    pub fn server(socket: TcpStream, mut config: Config) -> io::Result<Connection> {
        config.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        config.auto_release_capacity = true;
        let _ = socket.set_nodelay(true);
        let now = Instant::now();
        let h2 = h2proto::Connection::server(config);
        let role = Role::Queue(VecDeque::new());
        Ok(Connection {
            conn: Conn::new(socket, h2, role, DEFAULT_MAX_BODY, now),
            arena: ReadArena::default(),
            headers: HeaderPool::new(HEADER_POOL_LIMIT),
            last_drive: now,
        })
    }

    /// The largest request body gathered (default 16 MiB); a larger one is answered with
    /// 413 and the upload is stopped.
    pub fn max_body_size(mut self, bytes: usize) -> Connection {
        self.conn.set_max_body(bytes);
        self
    }

    /// Registers the socket with `registry` under `token`, for reading and writing.
    pub fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(self.conn.socket(), token, Interest::READABLE | Interest::WRITABLE)
    }

    /// Removes the socket from `registry` (before dropping a closed connection).
    pub fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.deregister(self.conn.socket())
    }

    /// Handles a readiness event of this connection's token: reads, answers the protocol,
    /// writes, as far as the socket allows.
    pub fn ready(&mut self, event: &mio::event::Event) {
        self.conn.note(event);
        self.drive(Instant::now());
    }

    /// The socket is readable (for loops that track readiness themselves).
    pub fn readable(&mut self) {
        self.conn.readable = true;
        self.drive(Instant::now());
    }

    /// The socket is writable (for loops that track readiness themselves).
    pub fn writable(&mut self) {
        self.conn.writable = true;
        self.drive(Instant::now());
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due at the latest: the core's next
    /// timer, the end of a closing connection's flush, or at once (an instant already past)
    /// when the last drive left readiness unused to let other sources have their turn.
    pub fn timeout(&self) -> Option<Instant> {
        if self.conn.is_hot() {
            return Some(self.last_drive);
        }
        self.conn.deadline()
    }

    /// Fires what is due at `now` and goes on with reading left for later.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.drive(now);
    }

    /// The next whole request (head, body, trailers in the extensions), with the stream to
    /// answer it on. Requests wait here until taken; a request whose stream the client
    /// resets meanwhile is dropped from the queue.
    pub fn next_request(&mut self) -> Option<(StreamId, Request<Bytes>)> {
        self.conn.next_request()
    }

    /// Answers the request of stream `id`, and writes what it can at once. The body is
    /// sent as flow control allows (the rest on later events); [`Body::tunnel`] answers a
    /// CONNECT. Fails if the stream is gone (reset by the client, or the connection ended)
    /// or was answered already.
    pub fn respond(
        &mut self,
        id: StreamId,
        response: Response<impl Into<Body>>,
    ) -> Result<(), UserError> {
        let answered = self.conn.answer(id, response.map(Into::into));
        self.drive(Instant::now());
        answered
    }

    /// Calls the [`Tunnel`](crate::Tunnel) of stream `id` now, for news from outside the
    /// connection (the backend socket of a proxy became readable, say), and writes what it
    /// sent. The loop calls a tunnel by itself only on its stream's news. Does nothing if
    /// the stream has no tunnel (any more).
    pub fn wake_tunnel(&mut self, id: StreamId) {
        self.conn.wake_tunnel(id);
        self.drive(Instant::now());
    }

    /// Begins a graceful shutdown: GOAWAY, then the connection closes once the requests
    /// taken are answered (or the core's shutdown timeout passes).
    pub fn shutdown(&mut self) {
        self.conn.shutdown();
        self.drive(Instant::now());
    }

    /// Whether the connection is over (closed and flushed, failed, or out of time to
    /// flush): deregister and drop it.
    pub fn is_closed(&self) -> bool {
        self.conn.is_done(Instant::now())
    }

    /// The socket, e.g. for its peer address.
    pub fn socket(&self) -> &TcpStream {
        self.conn.socket_ref()
    }

    /// The core connection, read-only: its [`Stats`](h2proto::Connection::stats), flow
    /// control windows ([`connection_send_window`](h2proto::Connection::connection_send_window),
    /// [`send_window`](h2proto::Connection::send_window),
    /// [`connection_recv_window`](h2proto::Connection::connection_recv_window),
    /// [`recv_window`](h2proto::Connection::recv_window)), the peer's settings and more.
    pub fn h2(&self) -> &h2proto::Connection {
        self.conn.h2()
    }

    /// The core's counters of frames, bytes, streams, resets and flow-control stalls on this
    /// connection.
    pub fn stats(&self) -> &h2proto::Stats {
        self.conn.h2().stats()
    }

    /// Sends a PING to measure the round trip to the peer (unless one sent this way is out
    /// already); the core times it and its answer updates [`rtt`](Self::rtt). Fails once
    /// the connection is closing.
    pub fn ping(&mut self) -> Result<(), UserError> {
        let now = Instant::now();
        let sent = self.conn.ping(now);
        self.drive(now);
        sent
    }

    /// The latest PING round trip measured on this connection: the core's
    /// [`Connection::rtt`](h2proto::Connection::rtt) (also
    /// [`Stats::ping_rtt`](h2proto::Stats::ping_rtt)), from a [`ping`](Self::ping) or one
    /// of the core's own PINGs (keepalive, shutdown). Timed on this loop's clock: from the
    /// moment the PING was handed to the core to the drive that read the answer.
    pub fn rtt(&self) -> Option<Duration> {
        self.conn.h2().rtt()
    }

    fn drive(&mut self, now: Instant) {
        self.conn.drive(now, &mut self.arena, &mut self.headers);
        self.last_drive = now;
    }
}
