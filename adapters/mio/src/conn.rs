//! One connection on the loop: a non-blocking socket, an h2proto [`Connection`], and the
//! bodies being gathered or sent.
//!
//! [`Conn::drive`] is the whole recipe for embedding h2proto in an event loop: read until
//! `WouldBlock` (or a short read) into [`recv`](Connection::recv), fire timers, handle
//! events, write
//! [`transmit`](Connection::transmit) with `write_vectored` until `WouldBlock` — and repeat
//! while anything moved, because each step can unblock another (written output lets a
//! paused `recv` continue, a WINDOW_UPDATE read lets more DATA go out).
//!
//! A fresh client connection comes before that recipe: while its non-blocking connect is
//! under way only a write is tried (the socket refuses it until connected) and the connect
//! deadline watched ([`Conn::connecting`]); the core gets its first clock once the
//! connection is there, so its own timers never count the time spent on the SYN.
//!
//! A client connection also times its requests (`timeouts.rs`): their earliest timer is
//! one of its deadlines, and each turn, after the events, the requests whose timeout
//! passed fail ([`expire`](Conn::expire)).

use crate::client::{Outgoing, settle};
use crate::error::{Error, ErrorKind, Timeout};
use crate::read_arena::ReadArena;
use crate::timeouts::{Deadlines, Due, StreamTimers};
use crate::tls_layer::TlsLayer;
use crate::tunnel::{Ends, Tunnel, TunnelIo};
use crate::{Body, Handler, RemoteAddr, Trailers};
use bytes::{Buf, Bytes, BytesMut};
use h2proto::pool::RetryPolicy;
use h2proto::{Connection, ErrorCode, Event, HeaderPool, StreamId, UserError};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use mio::net::TcpStream;
use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSlice, Write};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most room reserved for a body on the strength of its declared length alone.
const MAX_RESERVE: usize = 1 << 20;

/// Reads per `drive`, all rounds of it together, before other connections get their turn:
/// a peer that keeps its socket readable (a flood) is queued again for the next loop turn
/// instead of holding the loop. One read (64 KiB, the arena's read size) as in the tokio
/// driver: 64 KiB of one-byte DATA frames is already 6,500 frames to process, and 16
/// reads of them kept a well-behaved neighbour waiting for one turn's worth of ms
/// (`benches/fairness.sh`). A peer that fills no read (most) is unaffected.
const READS_PER_TURN: usize = 1;
/// Slices per `write_vectored`.
const MAX_IOVECS: usize = 64;

/// What a connection serves or asks.
pub(crate) enum Role {
    /// The built-in loop's server: the handler answers each request as it is whole.
    Server(Arc<Handler>),
    /// A user-driven server ([`crate::Connection`]): whole requests wait here to be taken
    /// and answered (at most one per open stream: a reset stream's request is dropped).
    Queue(VecDeque<(StreamId, Request<Bytes>)>),
    /// A client connection: requests waiting for a stream, the core's retry policy, and
    /// the requests to send again elsewhere (the loop takes them after each drive).
    Client { queued: VecDeque<Outgoing>, retry: RetryPolicy, again: Vec<Outgoing> },
}

/// A stream's bodies: the one being gathered and the one being sent.
#[derive(Default)]
struct Stream {
    request: Option<Request<()>>,
    response: Option<Response<()>>,
    body: BytesMut,
    trailers: Option<HeaderMap>,
    /// Client: the request this stream carries, kept until its response is whole (to send
    /// it again if the server did not process it, see [`settle`]).
    client: Option<Outgoing>,
    /// Send side: bytes the core has not accepted yet, the chunks still to come, trailers.
    out: Bytes,
    chunks: Option<Box<dyn Iterator<Item = Bytes> + Send>>,
    out_trailers: Option<HeaderMap>,
    sending: bool,
    /// A CONNECT stream: its DATA is the tunnel's, read by the tunnel (once there is one),
    /// never gathered.
    connect: bool,
    tunnel: Option<Box<dyn Tunnel>>,
    ends: Ends,
    /// Client: the request's timers (see `timeouts.rs`).
    timers: StreamTimers,
}

impl Stream {
    /// Adds received data to the body being gathered. The first piece sizes the buffer
    /// from the declared content-length (at most `max`, and [`MAX_RESERVE`] before any
    /// more has arrived), so a body of known length is copied once and never moved to grow.
    fn gather(&mut self, data: &[u8], max: usize) {
        if self.body.capacity() == 0 {
            let headers = match (&self.request, &self.response) {
                (Some(request), _) => Some(request.headers()),
                (None, Some(response)) => Some(response.headers()),
                (None, None) => None,
            };
            let declared = headers.and_then(declared_length).unwrap_or(0);
            self.body.reserve(declared.min(max).min(MAX_RESERVE).max(data.len()));
        }
        self.body.extend_from_slice(data);
    }
}

/// The content-length a head declares (the core has checked it against the DATA received).
fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers.get(http::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

pub(crate) struct Conn {
    socket: TcpStream,
    h2: Connection,
    role: Role,
    max_body: usize,
    streams: HashMap<StreamId, Stream>,
    /// Readiness not yet used up (mio is edge-triggered: we must read/write to
    /// `WouldBlock`, or read short, before it reports the socket again).
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// The peer closed its side or the socket has an error: read on to EOF or the error
    /// even after a short read (see [`read`](Self::read)).
    pub(crate) read_to_end: bool,
    /// Input the core paused on (its output must drain first).
    input: Option<Bytes>,
    /// The transport failed or hit EOF.
    dead: Option<io::Error>,
    /// The peer's EOF ended the connection with the error of its GOAWAY (see
    /// [`recv_eof`](Self::recv_eof)): nothing more to read, the last output may still go.
    read_closed: bool,
    /// After the connection ended: how long to try to flush its last frames.
    linger: Option<Instant>,
    /// A graceful shutdown was asked for; it begins once queued requests are sent.
    closing: bool,
    /// Some bytes reached the socket: the connection was established (a fresh client
    /// connection that fails before is a failed connect, see [`fail_all`](Self::fail_all)).
    wrote: bool,
    /// The peer's SETTINGS arrived: an HTTP/2 peer is there.
    handshaken: bool,
    /// A fresh client connection: the connect timeout and when it runs out, until the
    /// first bytes reach the socket (see [`connecting`](Self::connecting)).
    connect_by: Option<(Instant, Duration)>,
    /// Server: the peer's address, put in every request's extensions when set.
    remote_addr: Option<SocketAddr>,
    /// The payload of our measuring PING while it is out (the core times it), and how
    /// many were sent (the next payload).
    ping: Option<[u8; 8]>,
    pings: u64,
    /// What the socket carries is TLS records (`https://`).
    tls: Option<Box<TlsLayer>>,
    /// Client: the requests' timers, earliest first.
    deadlines: Deadlines,
}

impl Conn {
    /// A connection over a connected socket; the core's clock starts at `now`.
    pub(crate) fn new(
        socket: TcpStream,
        h2: Connection,
        role: Role,
        max_body: usize,
        now: Instant,
    ) -> Conn {
        let mut conn = Conn::unclocked(socket, h2, role, max_body);
        conn.h2.handle_timeout(now);
        conn
    }

    /// Client: a connection over a socket whose non-blocking connect is under way. It must
    /// complete within `timeout` from `now`; past it, the connection fails with
    /// [`ErrorKind::ConnectTimeout`] (and so do the requests given to it). Until it
    /// completes the core has no clock, so its timers (the preface timeout, keepalive)
    /// count from the moment the connection is there, not from the SYN.
    pub(crate) fn connecting(
        socket: TcpStream,
        h2: Connection,
        role: Role,
        max_body: usize,
        timeout: Duration,
        now: Instant,
    ) -> Conn {
        let mut conn = Conn::unclocked(socket, h2, role, max_body);
        conn.connect_by = Some((now.checked_add(timeout).unwrap_or(now), timeout));
        // Nothing can be read before the connect completes; the first edge says when.
        conn.readable = false;
        conn
    }

    fn unclocked(socket: TcpStream, h2: Connection, role: Role, max_body: usize) -> Conn {
        Conn {
            socket,
            h2,
            role,
            max_body,
            streams: HashMap::new(),
            readable: true,
            writable: true,
            read_to_end: false,
            input: None,
            dead: None,
            read_closed: false,
            linger: None,
            closing: false,
            wrote: false,
            handshaken: false,
            connect_by: None,
            remote_addr: None,
            ping: None,
            pings: 0,
            tls: None,
            deadlines: Deadlines::default(),
        }
    }

    /// Client: the socket carries TLS (`https://`) through `layer`.
    pub(crate) fn use_tls(&mut self, layer: TlsLayer) {
        self.tls = Some(Box::new(layer));
    }

    pub(crate) fn socket(&mut self) -> &mut TcpStream {
        &mut self.socket
    }

    pub(crate) fn socket_ref(&self) -> &TcpStream {
        &self.socket
    }

    pub(crate) fn h2(&self) -> &Connection {
        &self.h2
    }

    pub(crate) fn set_max_body(&mut self, bytes: usize) {
        self.max_body = bytes;
    }

    /// Client: how long a response may go without a frame (`ClientBuilder::stall_timeout`).
    pub(crate) fn set_stall_timeout(&mut self, stall: Option<Duration>) {
        self.deadlines.stall = stall;
    }

    /// Notes the readiness a `poll` event reports (mio is edge-triggered: it is used up
    /// only by reading or writing to `WouldBlock`).
    pub(crate) fn note(&mut self, event: &mio::event::Event) {
        self.readable |= event.is_readable() || event.is_read_closed() || event.is_error();
        self.writable |= event.is_writable() || event.is_write_closed();
        self.read_to_end |= event.is_read_closed() || event.is_error();
    }

    /// When this connection needs `drive` again at the latest.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let connect = self.connect_by.map(|(at, _)| at);
        let handshake = self.tls.as_ref().and_then(|tls| tls.deadline());
        let timers = self.deadlines.next();
        [self.h2.poll_timeout(), self.linger, connect, handshake, timers]
            .into_iter()
            .flatten()
            .min()
    }

    /// Server: requests on this connection carry `addr` as their [`RemoteAddr`].
    pub(crate) fn set_remote_addr(&mut self, addr: SocketAddr) {
        self.remote_addr = Some(addr);
    }

    /// Whether the connection was established as HTTP/2: the peer's SETTINGS arrived
    /// (what the circuit breaker counts as a successful connect; a server that accepts TCP
    /// and then fails, or is no HTTP/2 server, counts as a failure). The TCP connect is
    /// done once bytes reached the socket (a socket still connecting refuses them with
    /// `WouldBlock`); the core's `preface_timeout` bounds the wait for SETTINGS after it.
    pub(crate) fn established(&self) -> bool {
        self.handshaken
    }

    /// Whether readiness is left over (a turn ended before `WouldBlock`).
    pub(crate) fn is_hot(&self) -> bool {
        self.readable && self.input.is_none() && self.dead.is_none() && !self.read_closed
    }

    /// Whether the connection is over: closed and flushed, dead, or out of linger time.
    pub(crate) fn is_done(&self, now: Instant) -> bool {
        // req 9113-5.4.1-2
        self.dead.is_some() || self.h2.is_closed() || self.linger.is_some_and(|at| at <= now)
    }

    /// Streams this connection holds state for (statistics).
    pub(crate) fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Client: queues a request for a stream.
    pub(crate) fn request(&mut self, out: Outgoing) {
        match &mut self.role {
            Role::Client { queued, .. } => {
                let deadline = out.deadline;
                queued.push_back(out);
                if let Some(at) = deadline {
                    self.arm_queued(at);
                }
            }
            Role::Server(_) | Role::Queue(_) => {
                (out.callback)(Err(Error::new(ErrorKind::Request(UserError::WrongRole))));
            }
        }
    }

    /// Client: whether new requests may go here (not ending, not going away, ids left).
    pub(crate) fn takes_requests(&self) -> bool {
        self.dead.is_none()
            && self.linger.is_none()
            && !self.closing
            && !self.h2.is_going_away()
            && !self.h2.stream_ids_exhausted()
    }

    /// Client: the requests that failed here unprocessed and are to be sent again.
    pub(crate) fn take_again(&mut self) -> Vec<Outgoing> {
        match &mut self.role {
            Role::Client { again, .. } if !again.is_empty() => std::mem::take(again),
            _ => Vec::new(),
        }
    }

    /// Queue role: the next whole request waiting to be answered.
    pub(crate) fn next_request(&mut self) -> Option<(StreamId, Request<Bytes>)> {
        match &mut self.role {
            Role::Queue(requests) => requests.pop_front(),
            _ => None,
        }
    }

    /// Queue role: answers a request taken from [`next_request`](Self::next_request).
    pub(crate) fn answer(
        &mut self,
        id: StreamId,
        response: Response<Body>,
    ) -> Result<(), UserError> {
        let answered = self.respond(id, response);
        self.settle_connect(id);
        answered
    }

    /// Lets the tunnel of stream `id` move what it can now, on news from outside the
    /// connection.
    pub(crate) fn wake_tunnel(&mut self, id: StreamId) {
        self.drive_tunnel(id);
    }

    /// Sends a PING to measure the round trip, unless one of ours is out; the core times it
    /// from `now` (given to it first: its clock is otherwise the last drive's) and
    /// publishes the answer as [`Connection::rtt`].
    pub(crate) fn ping(&mut self, now: Instant) -> Result<(), UserError> {
        if self.ping.is_some() {
            return Ok(());
        }
        self.h2.handle_timeout(now);
        let payload = (self.pings + 1).to_be_bytes();
        self.h2.ping(payload)?;
        self.pings += 1;
        self.ping = Some(payload);
        Ok(())
    }

    pub(crate) fn shutdown(&mut self) {
        self.closing = true;
    }

    /// Moves everything that can move now (see the module docs). The loop's header pool is
    /// this connection's for the turn (see [`h2proto::HeaderPool`]).
    pub(crate) fn drive(&mut self, now: Instant, arena: &mut ReadArena, headers: &mut HeaderPool) {
        std::mem::swap(self.h2.header_pool(), headers);
        self.turn(now, arena);
        std::mem::swap(self.h2.header_pool(), headers);
    }

    fn turn(&mut self, now: Instant, arena: &mut ReadArena) {
        if self.connect_by.is_some() && !self.connect(now) {
            // Requests waiting for the connect time out too.
            self.expire(now);
            return;
        }
        if let Some(timeout) = self.tls.as_ref().and_then(|tls| tls.expired(now)) {
            // The TLS handshake took longer than the connect may: the same failure.
            self.dead = Some(io::ErrorKind::TimedOut.into());
            return self.fail_all(Error::new(ErrorKind::ConnectTimeout { timeout }));
        }
        let mut reads = READS_PER_TURN;
        loop {
            let mut moved = self.read(arena, now, &mut reads);
            self.h2.handle_timeout(now);
            while let Some(event) = self.h2.poll_event() {
                moved = true;
                self.on_event(event, now);
            }
            // After the events: a frame that came with this turn counts as progress.
            moved |= self.expire(now);
            self.open_queued(now);
            let queued = matches!(&self.role, Role::Client { queued, .. } if !queued.is_empty());
            if self.closing && !queued {
                self.h2.shutdown();
            }
            moved |= self.write();
            if !moved || self.dead.is_some() {
                break;
            }
        }
        if let Some(e) = &self.dead {
            let e = io::Error::new(e.kind(), e.to_string());
            // A TLS handshake that failed (an untrusted certificate, no ALPN h2) is a
            // failed connect: nothing of the core's left.
            let established = self.wrote && self.tls.as_ref().is_none_or(|t| t.is_handshaken());
            let error = match established {
                true => Error::io(e),
                false => Error::new(ErrorKind::Connect(Arc::new(e))),
            };
            self.fail_all(error);
        }
    }

    /// Client, while the non-blocking connect is under way: tries to write (the core's
    /// preface), which a socket still connecting refuses with `WouldBlock`. Returns whether
    /// the connect completed (the turn goes on, and the core's clock starts); fails the
    /// connection when the connect failed or its time is up.
    fn connect(&mut self, now: Instant) -> bool {
        self.write();
        if self.wrote {
            if let (Some(tls), Some((_, timeout))) = (&mut self.tls, self.connect_by) {
                tls.arm(now, timeout);
            }
            self.connect_by = None;
            return true;
        }
        let error = match (&self.dead, self.connect_by) {
            (Some(e), _) => {
                let e = io::Error::new(e.kind(), e.to_string());
                Error::new(ErrorKind::Connect(Arc::new(e)))
            }
            (None, Some((at, timeout))) if at <= now => {
                self.dead = Some(io::ErrorKind::TimedOut.into());
                Error::new(ErrorKind::ConnectTimeout { timeout })
            }
            (None, _) => return false,
        };
        self.fail_all(error);
        false
    }

    /// Reads into the core until `WouldBlock` or a short read, EOF, a paused `recv` or the
    /// turn's read budget (`reads`) is spent.
    ///
    /// A read that returns less than it was offered has emptied the socket's receive
    /// queue: with edge-triggered readiness, bytes arriving later raise a new event, so
    /// asking again would only earn `WouldBlock` for a syscall. Only a peer's FIN or a
    /// socket error, which the same event may carry, is read on to the end.
    ///
    /// Reads go into the loop's [`ReadArena`].
    fn read(&mut self, arena: &mut ReadArena, now: Instant, reads: &mut usize) -> bool {
        let mut moved = false;
        if let Some(input) = self.input.take() {
            moved = self.feed(input, now);
        }
        while *reads > 0 {
            if !self.readable || self.input.is_some() || self.dead.is_some() || self.read_closed {
                break;
            }
            *reads -= 1;
            match arena.read(&mut self.socket) {
                Ok(None) => self.recv_eof(),
                Ok(Some(bytes)) => {
                    if bytes.len() < arena.room() && !self.read_to_end {
                        self.readable = false;
                    }
                    let Some(tls) = &mut self.tls else {
                        moved |= self.feed(bytes, now);
                        continue;
                    };
                    match tls.decrypt(&bytes) {
                        // Handshake records only, say: what they ask to send is written next.
                        Ok(plain) if plain.is_empty() => moved = true,
                        Ok(plain) => moved |= self.feed(plain, now),
                        Err(e) => self.dead = Some(e),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.dead = Some(e),
            }
        }
        moved
    }

    /// The peer closed its side; everything it sent before is fed (a read waits for the
    /// core to take the input it paused on). After its GOAWAY with an error code the core
    /// ends the connection with that error (RFC 9113 §5.4.1: the sender of a connection
    /// error closes the transport next), and its `Event::Closed` fails the streams still
    /// open with it; otherwise the EOF is the transport's failure.
    fn recv_eof(&mut self) {
        let ended = self.h2.error().is_some();
        self.h2.recv_eof();
        if ended || self.h2.error().is_none() {
            self.dead = Some(io::ErrorKind::UnexpectedEof.into());
        } else {
            self.read_closed = true;
        }
    }

    /// Hands bytes to the core; keeps what it did not consume yet.
    fn feed(&mut self, bytes: Bytes, now: Instant) -> bool {
        match self.h2.recv(bytes.clone(), now) {
            Ok(n) if n < bytes.len() => {
                self.input = Some(bytes.slice(n..));
                n > 0
            }
            // On a connection error the GOAWAY is queued and `Event::Closed` follows.
            Ok(_) | Err(_) => true,
        }
    }

    /// Writes the core's output with vectored writes until `WouldBlock` or it is empty. A
    /// short write is retried rather than taken for a full socket: on loopback and fast
    /// links the peer drains the buffer meanwhile, and waiting for the next writable event
    /// instead measurably slows large responses.
    fn write(&mut self) -> bool {
        if self.tls.is_some() {
            return self.write_tls();
        }
        let mut moved = false;
        while self.writable && self.dead.is_none() {
            let out = self.h2.transmit();
            if !out.has_remaining() {
                break;
            }
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let n = out.chunks_vectored(&mut slices);
            match self.socket.write_vectored(&slices[..n]) {
                Ok(0) => self.dead = Some(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    out.advance(n);
                    (moved, self.wrote) = (true, true);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.dead = Some(e),
            }
        }
        moved
    }

    /// [`write`](Self::write) through TLS: the core's output becomes records, written
    /// until `WouldBlock` or none is left (the records a write did not take go first next
    /// time).
    fn write_tls(&mut self) -> bool {
        let mut moved = false;
        let Some(tls) = &mut self.tls else { return false };
        while self.writable && self.dead.is_none() {
            if tls.pending().is_empty() {
                let out = self.h2.transmit();
                let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                let n = out.chunks_vectored(&mut slices);
                let taken: usize = slices[..n].iter().map(|s| s.len()).sum();
                // Handshake messages rustls has waiting come out even with nothing new.
                if let Err(e) = tls.encrypt(slices[..n].iter().map(|s| &**s)) {
                    self.dead = Some(e);
                    break;
                }
                out.advance(taken);
                if tls.pending().is_empty() {
                    break;
                }
            }
            match self.socket.write(tls.pending()) {
                Ok(0) => self.dead = Some(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    tls.wrote(n);
                    (moved, self.wrote) = (true, true);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.dead = Some(e),
            }
        }
        moved
    }

    fn on_event(&mut self, event: Event, now: Instant) {
        match event {
            Event::Request { stream_id, request, end_stream } => {
                if end_stream {
                    // Whole already (a GET, say): answered without any per-stream state.
                    self.serve(stream_id, request, Bytes::new());
                } else if request.method() == Method::CONNECT {
                    // RFC 9113 §8.5: the body is the tunnel's, so the handler answers the
                    // head alone; DATA waits in the core until a tunnel reads it.
                    let s = Stream { connect: true, ..Stream::default() };
                    self.streams.insert(stream_id, s);
                    self.serve(stream_id, request, Bytes::new());
                    if let Role::Server(_) = self.role {
                        self.settle_connect(stream_id);
                    }
                } else {
                    self.streams.entry(stream_id).or_default().request = Some(request);
                }
            }
            Event::Response { stream_id, response, end_stream } => {
                if let Some(s) = self.streams.get_mut(&stream_id) {
                    s.response = Some(response);
                    s.timers.progress(now);
                }
                if end_stream {
                    self.complete(stream_id);
                }
            }
            Event::Data { stream_id, end_stream } => {
                // A stream only being answered (a CONNECT refused with a streamed body, say)
                // has nobody to gather for.
                let waiting =
                    |s: &&mut Stream| s.connect || s.request.is_some() || s.client.is_some();
                let mut s = self.streams.get_mut(&stream_id).filter(waiting);
                if let Some(tunnel) = s.as_mut().filter(|s| s.connect) {
                    tunnel.ends.peer |= end_stream;
                    return self.drive_tunnel(stream_id);
                }
                // Read it all even for a stream we gave up on: reading releases the window.
                while let Some(data) = self.h2.read_data(stream_id) {
                    if let Some(s) = &mut s {
                        s.gather(&data, self.max_body);
                    }
                }
                let Some(s) = s else { return };
                s.timers.progress(now);
                if s.body.len() > self.max_body {
                    return self.too_large(stream_id);
                }
                if end_stream {
                    self.complete(stream_id);
                }
            }
            Event::Trailers { stream_id, trailers } => {
                if let Some(s) = self.streams.get_mut(&stream_id) {
                    s.trailers = Some(trailers);
                }
                self.complete(stream_id);
            }
            Event::Reset { stream_id, error_code, initiator, retryable } => {
                if let Role::Queue(requests) = &mut self.role {
                    requests.retain(|(id, _)| *id != stream_id);
                }
                let Some(s) = self.streams.remove(&stream_id) else { return };
                let Some(out) = s.client else { return };
                // Streams reset because the connection ended report why it ended; those
                // the peer did not process (§8.7) say so.
                let kind = match self.h2.error() {
                    Some(e) if !retryable => ErrorKind::Connection(e.clone()),
                    _ => ErrorKind::Reset { code: error_code, initiator, retryable },
                };
                self.settle(out, Error::new(kind));
            }
            Event::SendCapacity { stream_id } => self.send_more(stream_id, now),
            Event::Closed { error } => {
                self.linger = Some(now + self.h2.config().shutdown_timeout);
                self.fail_all(Error::new(error.map_or(ErrorKind::Closed, ErrorKind::Connection)));
            }
            // Our measuring PING is answered: another may go.
            Event::PingAck { payload } if self.ping == Some(payload) => self.ping = None,
            // The peer's first SETTINGS: the HTTP/2 handshake is done (RFC 9113 §3.4).
            Event::RemoteSettings { .. } => self.handshaken = true,
            _ => {}
        }
    }

    /// A message arrived whole: call the handler (server) or the callback (client).
    fn complete(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else { return };
        let body = std::mem::take(&mut s.body).freeze();
        let trailers = s.trailers.take();
        if let Some(out) = s.client.take() {
            let mut response = s.response.take().unwrap_or_default().map(|()| body);
            if let Some(trailers) = trailers {
                response.extensions_mut().insert(Trailers(trailers));
            }
            if !s.sending {
                self.streams.remove(&id);
            }
            return (out.callback)(Ok(response));
        }
        let Some(mut request) = s.request.take() else { return };
        if let Some(trailers) = trailers {
            request.extensions_mut().insert(Trailers(trailers));
        }
        // The response keeps its own state, and only while its body is being sent.
        self.streams.remove(&id);
        self.serve(id, request, body);
    }

    /// Server: runs the handler on a whole request and sends its response.
    fn serve(&mut self, id: StreamId, mut head: Request<()>, body: Bytes) {
        if let Some(addr) = self.remote_addr {
            head.extensions_mut().insert(RemoteAddr(addr));
        }
        let handler = match &mut self.role {
            Role::Server(handler) => handler,
            Role::Queue(requests) => return requests.push_back((id, head.map(|()| body))),
            Role::Client { .. } => return,
        };
        // The closure borrows the head and joins it to its body only as the handler's
        // argument: the request is not moved through `catch_unwind` (a few hundred bytes
        // copied, twice, per request otherwise).
        let mut head = Some(head);
        let call = || head.take().map(|head| handler(head.map(|()| body)));
        match catch_unwind(AssertUnwindSafe(call)) {
            Ok(Some(response)) => {
                let _ = self.respond(id, response);
            }
            Ok(None) => {}
            Err(_) => {
                let _ = self.h2.reset(id, ErrorCode::INTERNAL_ERROR);
            }
        }
    }

    /// Server: sends the response head and as much of its body as the core takes now; the
    /// stream is remembered only if some of the body has to wait for send capacity.
    fn respond(&mut self, id: StreamId, response: Response<Body>) -> Result<(), UserError> {
        let (mut parts, body) = response.into_parts();
        let Body { full: mut out, chunks, tunnel } = body;
        if let Some(tunnel) = tunnel {
            return self.open_tunnel(id, Response::from_parts(parts, ()), tunnel);
        }
        let trailers = parts.extensions.remove::<Trailers>().map(|t| t.0);
        let empty = out.is_empty() && chunks.is_none() && trailers.is_none();
        let head = Response::from_parts(parts, ());
        // A whole body has a known length: the core declares it as content-length.
        let sent = match chunks {
            None => self.h2.send_response_with_length(id, head, out.len() as u64, empty),
            Some(_) => self.h2.send_response(id, head, empty),
        };
        sent?;
        if empty {
            return Ok(());
        }
        if chunks.is_none() && trailers.is_none() {
            // A whole body, offered at once: the stream needs state here only if the core
            // cannot take all of it now.
            let n = self.h2.send_data(id, out.clone(), true)?;
            if n == out.len() {
                return Ok(());
            }
            out.advance(n);
            // Flow control took what it allows: the rest waits for `Event::SendCapacity`
            // (offering it again now would only be refused).
            let s = Stream { out, sending: true, ..Stream::default() };
            self.streams.insert(id, s);
            return Ok(());
        }
        let mut s =
            Stream { out, chunks, out_trailers: trailers, sending: true, ..Stream::default() };
        pump(&mut self.h2, id, &mut s);
        if s.sending {
            self.streams.insert(id, s);
        }
        Ok(())
    }

    /// Server: answers with the head alone, leaving the stream open both ways, and hands
    /// the stream to `tunnel` (first called at once, to send a greeting if it likes).
    fn open_tunnel(
        &mut self,
        id: StreamId,
        head: Response<()>,
        tunnel: Box<dyn Tunnel>,
    ) -> Result<(), UserError> {
        if let Err(e) = self.h2.send_response(id, head, false) {
            self.streams.remove(&id);
            return Err(e);
        }
        // A tunnel on a request that came whole (not CONNECT) has nothing more to read.
        let ends = match self.streams.remove(&id) {
            Some(s) if s.connect => s.ends,
            _ => Ends { peer: true, local: false },
        };
        let s = Stream { connect: true, tunnel: Some(tunnel), ends, ..Stream::default() };
        self.streams.insert(id, s);
        self.drive_tunnel(id);
        Ok(())
    }

    /// Lets a stream's tunnel move what it can; forgets the stream once it has ended both
    /// ways (reading what the tunnel left, so the core forgets it too). A tunnel that
    /// panics resets its stream with INTERNAL_ERROR.
    fn drive_tunnel(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else { return };
        let Some(tunnel) = s.tunnel.as_mut() else { return };
        let mut io = TunnelIo::new(&mut self.h2, id, &mut s.ends);
        if catch_unwind(AssertUnwindSafe(|| tunnel.drive(&mut io))).is_err() {
            let _ = self.h2.reset(id, ErrorCode::INTERNAL_ERROR);
            self.streams.remove(&id);
        } else if s.ends.peer && s.ends.local {
            self.streams.remove(&id);
            while self.h2.read_data(id).is_some() {}
        }
    }

    /// After a CONNECT was answered: if not with a tunnel (a refusal, say), the stream's
    /// DATA is nobody's; what came is read (releasing its window) and what comes is dropped.
    fn settle_connect(&mut self, id: StreamId) {
        if self.streams.get(&id).is_some_and(|s| s.connect && s.tunnel.is_none()) {
            self.streams.remove(&id);
            while self.h2.read_data(id).is_some() {}
        }
    }

    /// A body went over `max_body`: the server answers 413 and stops the upload; the
    /// client cancels the stream.
    fn too_large(&mut self, id: StreamId) {
        let Some(s) = self.streams.remove(&id) else { return };
        if let Some(out) = s.client {
            let _ = self.h2.reset(id, ErrorCode::CANCEL);
            return (out.callback)(Err(Error::new(ErrorKind::BodyTooLarge)));
        }
        let status = Response::builder().status(StatusCode::PAYLOAD_TOO_LARGE).body(());
        let _ = self.h2.send_response(id, status.unwrap_or_default(), true);
        // req 9113-8.1-6
        // RFC 9113 §8.1: after a complete response, NO_ERROR asks the client to stop sending.
        let _ = self.h2.reset(id, ErrorCode::NO_ERROR);
    }

    /// Resumes sending a stream's body (see [`pump`]); forgets the stream once nothing of it
    /// is awaited any more. A client request whose end is handed over at `now` starts its
    /// stall clock.
    fn send_more(&mut self, id: StreamId, now: Instant) {
        let Some(s) = self.streams.get_mut(&id) else { return };
        if s.tunnel.is_some() {
            return self.drive_tunnel(id);
        }
        pump(&mut self.h2, id, s);
        if s.sending {
            return;
        }
        if s.client.is_some() {
            if self.deadlines.stall.is_some() && s.timers.quiet_since.is_none() {
                s.timers.start_stall(self.deadlines.stall, now);
                self.arm_stream(id);
            }
        } else if s.response.is_none() {
            self.streams.remove(&id);
        }
    }

    /// Client: opens streams for queued requests while the peer allows (while going away,
    /// the core refuses each, and [`settle`] sends it elsewhere).
    fn open_queued(&mut self, now: Instant) {
        loop {
            let Role::Client { queued, .. } = &mut self.role else { return };
            if queued.is_empty() || !(self.h2.can_open_stream() || self.h2.is_going_away()) {
                return;
            }
            let Some(mut out) = queued.pop_front() else { return };
            let (head, body, chunks, trailers) = out.open();
            let empty = body.is_empty() && chunks.is_none() && trailers.is_none();
            // A whole body has a known length: the core declares it as content-length.
            let sent = match chunks {
                None => self.h2.send_request_with_length(head, body.len() as u64, empty),
                Some(_) => self.h2.send_request(head, empty),
            };
            match sent {
                Ok(id) => {
                    let s = self.streams.entry(id).or_default();
                    let deadline = out.deadline;
                    s.client = Some(out);
                    (s.out, s.chunks, s.out_trailers, s.sending) = (body, chunks, trailers, !empty);
                    s.timers.deadline = deadline;
                    if deadline.is_some() {
                        self.arm_stream(id);
                    }
                    self.send_more(id, now);
                }
                // Nothing was written: this connection takes no new streams.
                Err(
                    e @ (UserError::GoingAway | UserError::StreamIdsExhausted | UserError::Closed),
                ) => {
                    out.unopen(chunks);
                    self.settle(out, Error::not_sent(Error::new(ErrorKind::Request(e))));
                }
                Err(e) => (out.callback)(Err(Error::new(ErrorKind::Request(e)))),
            }
        }
    }

    /// Client: a request failed with `error`; the core's retry policy decides whether it
    /// goes again (on the loop's connection for new requests) or its caller gets the error.
    fn settle(&mut self, out: Outgoing, error: Error) {
        let Role::Client { retry, again, .. } = &mut self.role else { return };
        again.extend(settle(retry, out, error));
    }

    /// Client: files stream `id`'s next expiry in the heap, unless its live entry is no
    /// later (a later one would be stale at once: the live entry pops first and re-arms).
    fn arm_stream(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else { return };
        let Some((at, _)) = s.timers.expiry(self.deadlines.stall) else { return };
        if s.timers.armed.is_some_and(|armed| armed <= at) {
            return;
        }
        s.timers.armed = Some(at);
        self.deadlines.push(at, Due::Stream(id));
        self.compact_deadlines();
    }

    /// Client: files `at`, a queued request's deadline, unless the queue's live entry is
    /// no later.
    fn arm_queued(&mut self, at: Instant) {
        if self.deadlines.queued.is_some_and(|armed| armed <= at) {
            return;
        }
        self.deadlines.queued = Some(at);
        self.deadlines.push(at, Due::Queued);
        self.compact_deadlines();
    }

    /// Rebuilds the heap of timers from the live entries once most are stale: its memory
    /// stays bounded by the streams (at most one live entry each, and one for the queue).
    fn compact_deadlines(&mut self) {
        if !self.deadlines.is_oversized(self.streams.len() + 1) {
            return;
        }
        let queued = self.deadlines.queued.map(|at| (at, Due::Queued));
        let streams = self.streams.iter().filter(|(_, s)| s.client.is_some());
        let streams = streams.filter_map(|(id, s)| Some((s.timers.armed?, Due::Stream(*id))));
        self.deadlines.rebuild(streams.chain(queued));
    }

    /// Client: fails the requests whose timeout has passed at `now` with
    /// [`ErrorKind::TimedOut`]. A stream is reset with CANCEL (RFC 9113 §7: the response
    /// is no longer wanted), so the server stops work on it and the connection carries on
    /// with the others; a request still queued for a stream is dropped unsent. Returns
    /// whether any failed. Costs nothing while no timer is due.
    fn expire(&mut self, now: Instant) -> bool {
        let mut expired = false;
        while let Some((at, due)) = self.deadlines.pop(now) {
            match due {
                Due::Stream(id) => expired |= self.expire_stream(id, at, now),
                Due::Queued if self.deadlines.queued == Some(at) => {
                    self.deadlines.queued = None;
                    expired |= self.expire_queued(now);
                }
                // Stale: superseded by an earlier entry.
                Due::Queued => {}
            }
        }
        expired
    }

    /// Client: the entry `at` of stream `id` came due at `now`: the request fails if one of
    /// its timeouts has passed, else its entry goes back at its real expiry (the response
    /// made progress since it was filed). Skipped if stale.
    fn expire_stream(&mut self, id: StreamId, at: Instant, now: Instant) -> bool {
        let Some(s) = self.streams.get_mut(&id) else { return false };
        if s.timers.armed != Some(at) || s.client.is_none() {
            return false;
        }
        s.timers.armed = None;
        match s.timers.expiry(self.deadlines.stall) {
            Some((when, which)) if when <= now => {
                // Forgotten first: the reset's own `Event::Reset` then finds nobody to tell.
                let out = self.streams.remove(&id).and_then(|s| s.client);
                let _ = self.h2.reset(id, ErrorCode::CANCEL);
                if let Some(out) = out {
                    (out.callback)(Err(Error::new(ErrorKind::TimedOut(which))));
                }
                true
            }
            Some(_) => {
                self.arm_stream(id);
                false
            }
            None => false,
        }
    }

    /// Client: the queue's entry came due at `now`: the queued requests whose deadline has
    /// passed fail unsent, and the queue's entry goes back at the next deadline.
    fn expire_queued(&mut self, now: Instant) -> bool {
        let Role::Client { queued, .. } = &mut self.role else { return false };
        let late = |out: &Outgoing| out.deadline.is_some_and(|at| at <= now);
        let mut expired = VecDeque::new();
        if queued.iter().any(late) {
            let waiting;
            (expired, waiting) = std::mem::take(queued).into_iter().partition(late);
            *queued = waiting;
        }
        let next = queued.iter().filter_map(|out| out.deadline).min();
        let any = !expired.is_empty();
        for out in expired {
            let timed_out = Error::new(ErrorKind::TimedOut(Timeout::Request));
            (out.callback)(Err(Error::not_sent(timed_out)));
        }
        if let Some(at) = next {
            self.arm_queued(at);
        }
        any
    }

    /// Fails every request waiting for a response or for a stream: those on streams with
    /// `error`, those never sent as not sent (RFC 9113 §8.7: safe to send again). On a
    /// connection that never wrote a byte (a fresh connection whose connect failed) they
    /// all fail with `error` and go nowhere else: the server is not reachable now.
    fn fail_all(&mut self, error: Error) {
        let queued: Vec<_> = match &mut self.role {
            Role::Client { queued, .. } => queued.drain(..).collect(),
            Role::Server(_) => Vec::new(),
            // Nobody can be answered any more.
            Role::Queue(requests) => {
                requests.clear();
                Vec::new()
            }
        };
        let waiting: Vec<_> = self.streams.drain().filter_map(|(_, s)| s.client).collect();
        let connect_failed =
            matches!(error.kind(), ErrorKind::Connect(_) | ErrorKind::ConnectTimeout { .. });
        for out in waiting {
            match connect_failed {
                true => (out.callback)(Err(error.clone())),
                false => self.settle(out, error.clone()),
            }
        }
        for out in queued {
            match connect_failed {
                true => (out.callback)(Err(error.clone())),
                false => self.settle(out, Error::not_sent(error.clone())),
            }
        }
    }
}

/// Offers a stream's body to the core: pending bytes, then further chunks, then the end
/// (END_STREAM or trailers). Stops when the core accepts less (backpressure);
/// `Event::SendCapacity` resumes it. Chunks are pulled only as they are needed. `s.sending`
/// is false once the whole body is handed over (or the stream can no longer send).
fn pump(h2: &mut Connection, id: StreamId, s: &mut Stream) {
    while s.sending {
        if s.out.is_empty() {
            match s.chunks.as_mut().map(|chunks| chunks.next()) {
                Some(Some(chunk)) => s.out = chunk,
                _ => {
                    s.chunks = None;
                    s.sending = false;
                    let _ = match s.out_trailers.take() {
                        Some(trailers) => h2.send_trailers(id, trailers),
                        None => h2.send_data(id, Bytes::new(), true).map(drop),
                    };
                }
            }
            continue;
        }
        let last = s.chunks.is_none() && s.out_trailers.is_none();
        match h2.send_data(id, s.out.clone(), last) {
            Ok(n) => s.out.advance(n),
            Err(_) => s.sending = false,
        }
        if !s.out.is_empty() {
            return;
        }
        if last {
            s.sending = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body of declared length lands in one buffer sized up front: later pieces never
    /// move it. Without a declared length (or beyond the limits) it grows as data comes.
    #[test]
    fn a_declared_body_is_gathered_in_place() {
        let head = |length: &str| {
            let request = Request::builder().header("content-length", length).body(());
            Stream { request: Some(request.unwrap()), ..Stream::default() }
        };
        let mut s = head("10000");
        s.gather(&[1; 100], 1 << 20);
        let start = s.body.as_ptr();
        assert!(s.body.capacity() >= 10_000);
        for _ in 0..99 {
            s.gather(&[2; 100], 1 << 20);
        }
        assert_eq!((s.body.len(), s.body.as_ptr()), (10_000, start));

        // Reserved only up to the body limit, and only what is declared.
        let mut s = head("10000");
        s.gather(&[1; 100], 1000);
        assert!(s.body.capacity() < 10_000);
        let mut s = Stream::default();
        s.gather(&[1; 100], 1 << 20);
        assert!(s.body.capacity() < 10_000);
    }
}
