//! One connection: a driver thread that owns the [`Connection`], fed by a reader thread and
//! draining into a writer thread.
//!
//! The driver blocks in exactly one place, `recv_timeout` on its inbox, bounded by the
//! core's [`poll_timeout`](Connection::poll_timeout). Everything reaches it as a [`Msg`]:
//! bytes from the reader, "written" from the writer, commands from clients, handlers and
//! bodies. Because it never blocks on the socket, a peer that stops reading cannot stall
//! timers or other streams, and two blocking endpoints cannot deadlock each other with
//! both sides stuck in `write`.
//!
//! Memory is bounded at every hop: the reader has [`READ_AHEAD`] reads in flight at most
//! (a credit comes back when the core has consumed one), the writer one batch (taken from
//! [`transmit`](Connection::transmit) only when the previous one is written), a streamed
//! body one chunk (its producer waits for a go-ahead), and received data a stream window
//! (credit is released only as the application reads).

use crate::body::{Chunk, RecvBody};
use crate::error::{Error, Timeout};
use crate::stats::{ConnectionHandle, ConnectionStats};
use bytes::{Buf, Bytes, BytesMut};
use h2proto::{Connection, ErrorCode, Event, StreamId, UserError};
use http::{HeaderMap, Request, Response};
use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

/// Bytes asked of the socket per read.
const READ_SIZE: usize = 64 << 10;
/// Reads handed to the driver and not yet consumed by the core.
const READ_AHEAD: usize = 4;
/// Slices per `write_vectored`.
const MAX_IOVECS: usize = 64;
/// Messages handled per wake-up before the output is looked at again.
const BATCH: usize = 64;
/// Bytes a streamed body reads at a time.
const CHUNK: usize = 32 << 10;

/// Where a response head goes (client).
pub(crate) type Reply = Sender<Result<Response<RecvBody>, Error>>;
/// A producer of a streamed body waits on this: `Some(id)` to read the next chunk, `None`
/// to stop.
pub(crate) type Go = Sender<Option<StreamId>>;
/// Where the answer to a PING of ours goes: the core's round-trip time, or why it was not
/// sent.
pub(crate) type PingReply = Sender<Result<Duration, Error>>;
/// What a server does with a new request: hand it to a worker.
pub(crate) type OnRequest = Box<dyn Fn(StreamId, Request<RecvBody>, Sender<Msg>) + Send>;

/// Everything the driver is told.
pub(crate) enum Msg {
    /// From the reader: bytes (empty at EOF) or a read error.
    Input(io::Result<Bytes>),
    /// From the writer: the last batch is out (or failed).
    Written(io::Result<()>),
    /// A `RecvBody` consumed `n` bytes.
    Release(StreamId, usize),
    /// A `RecvBody` was dropped before its end.
    BodyDropped(StreamId),
    /// The next chunk of a streamed body; the producer waits for a go-ahead.
    Data(StreamId, Bytes),
    /// A streamed body ended, with or without trailers.
    Finish(StreamId, Option<HeaderMap>),
    /// A body could not be produced (read error, handler panic): reset the stream.
    Abort(StreamId, ErrorCode),
    /// Client: open a stream.
    Request(Pending),
    /// Server: answer a stream.
    Respond(StreamId, Response<()>, Outgoing),
    /// Graceful shutdown (GOAWAY).
    Shutdown,
    /// A snapshot of the connection's counters and windows.
    Stats(Sender<ConnectionStats>),
    /// Send a PING and answer with its round-trip time once acknowledged.
    Ping(PingReply),
}

/// What follows the last data of a body.
#[derive(Clone)]
pub(crate) enum End {
    Stream,
    Trailers(HeaderMap),
}

/// A body on its way out.
pub(crate) struct Outgoing {
    /// Bytes not yet accepted by the core.
    pub(crate) data: Bytes,
    /// `None` while a producer streams more with `Msg::Data`.
    pub(crate) end: Option<End>,
    /// The producer's go-ahead channel, for a streamed body.
    pub(crate) go: Option<Go>,
}

impl Outgoing {
    pub(crate) fn full(data: Bytes, trailers: Option<HeaderMap>) -> Outgoing {
        Outgoing { data, end: Some(trailers.map_or(End::Stream, End::Trailers)), go: None }
    }

    pub(crate) fn streamed(go: Go) -> Outgoing {
        Outgoing { data: Bytes::new(), end: None, go: Some(go) }
    }

    /// Whether the head can carry END_STREAM.
    fn is_empty(&self) -> bool {
        self.data.is_empty() && matches!(self.end, Some(End::Stream))
    }

    /// The length of a whole body, before any of it was sent; `None` for a streamed one.
    fn known_length(&self) -> Option<u64> {
        self.go.is_none().then_some(self.data.len() as u64)
    }
}

/// Streams a reader's bytes to the driver, one chunk per go-ahead. Runs on the thread
/// that owns the reader.
pub(crate) fn pump(
    mut reader: Box<dyn Read + Send>,
    trailers: Option<HeaderMap>,
    driver: Sender<Msg>,
    go: Receiver<Option<StreamId>>,
) {
    let Ok(Some(id)) = go.recv() else { return };
    loop {
        let mut buf = vec![0; CHUNK];
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                let _ = driver.send(Msg::Abort(id, ErrorCode::INTERNAL_ERROR));
                return;
            }
        };
        if n == 0 {
            let _ = driver.send(Msg::Finish(id, trailers));
            return;
        }
        buf.truncate(n);
        if driver.send(Msg::Data(id, buf.into())).is_err() || !matches!(go.recv(), Ok(Some(_))) {
            return;
        }
    }
}

/// A request on its way to a stream.
pub(crate) struct Pending {
    pub(crate) head: Request<()>,
    pub(crate) body: Outgoing,
    pub(crate) reply: Reply,
    /// Its timeouts, timed by the driver.
    pub(crate) timers: Timers,
}

/// A request's timeouts (client; see `Builder::request_timeout` and
/// `Builder::stall_timeout`). The driver keeps them: it alone sees every byte of the
/// stream, and a timeout ends in a command to the core (RST_STREAM CANCEL).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timers {
    /// When the whole request must be over: sent, and its response received to the end.
    pub(crate) deadline: Option<Instant>,
    /// How long the response may go without a byte once the request is sent.
    pub(crate) stall: Option<Duration>,
}

/// The driver's view of one stream.
#[derive(Default)]
struct StreamIo {
    /// Client: the caller waiting for the response head.
    reply: Option<Reply>,
    /// Where received data goes; `None` when nobody reads it any more.
    body: Option<Sender<Chunk>>,
    recv_done: bool,
    /// Send side: bytes the core has not accepted yet, and what follows them.
    out: Bytes,
    end: Option<End>,
    go: Option<Go>,
    /// The producer waits for a go-ahead once `out` is accepted.
    owed: bool,
    send_done: bool,
    timers: Timers,
    /// When the stall clock last restarted: a byte of the response received or read by the
    /// application, or the request's end handed to the core.
    active: Option<Instant>,
    /// Bytes handed to the body and not read yet: while there are some, the application,
    /// not the server, is behind, and the stall clock does not run out.
    unread: usize,
}

impl StreamIo {
    /// When the next of this stream's timeouts passes, and which it is. The stall clock
    /// runs only once the request is sent, until the response's end, and while everything
    /// received has been read.
    fn expiry(&self) -> Option<(Instant, Timeout)> {
        let whole = self.timers.deadline.map(|at| (at, Timeout::Request));
        let stalled = match (self.timers.stall, self.active) {
            (Some(stall), Some(since)) if self.send_done && !self.recv_done && self.unread == 0 => {
                since.checked_add(stall).map(|at| (at, Timeout::Stalled))
            }
            _ => None,
        };
        [whole, stalled].into_iter().flatten().min_by_key(|(at, _)| *at)
    }

    /// Something moved on the response (or the request's end went out): the stall clock
    /// starts again.
    fn touch(&mut self) {
        if self.timers.stall.is_some() {
            self.active = Some(Instant::now());
        }
    }

    /// Hands received data to the body; false when nobody reads it any more.
    fn deliver(&mut self, data: Bytes) -> bool {
        let n = data.len();
        let Some(body) = &self.body else { return false };
        if body.send(Chunk::Data(data)).is_err() {
            return false;
        }
        self.unread += n;
        self.touch();
        true
    }

    fn fail(self, error: &Error) {
        if let Some(reply) = self.reply {
            let _ = reply.send(Err(error.clone()));
        } else if let (Some(body), false) = (self.body, self.recv_done) {
            let _ = body.send(Chunk::Failed(error.clone()));
        }
        if let Some(go) = self.go {
            let _ = go.send(None);
        }
    }
}

/// Role-specific state.
pub(crate) enum Side {
    Client { queued: VecDeque<Pending> },
    Server { on_request: OnRequest },
}

/// Owns the connection; see the module docs.
pub(crate) struct Driver {
    conn: Connection,
    side: Side,
    socket: TcpStream,
    inbox: Receiver<Msg>,
    /// A sender to our own inbox, for bodies and workers.
    me: Sender<Msg>,
    credits: Sender<()>,
    writer: Sender<Vec<Bytes>>,
    writing: bool,
    /// Input the core has not consumed yet (it pauses while output piles up).
    input: VecDeque<Bytes>,
    /// The transport failed; applied once the input before it is consumed.
    failure: Option<Error>,
    /// The reader hit EOF; handled once the input read before it is fed (`recv_eof`).
    eof: bool,
    streams: HashMap<StreamId, StreamIo>,
    /// The transport is gone: stop.
    dead: bool,
    /// When to give up flushing after the connection closed.
    linger: Option<Instant>,
    /// Where the number of streams in `streams` is published (server statistics).
    stream_gauge: Option<Arc<AtomicUsize>>,
    /// Client: set once the connection takes no new request (GOAWAY, closed, gone), so
    /// the next request goes to a fresh connection.
    retired: Option<Arc<AtomicBool>>,
    /// PINGs of the application waiting for their ACK, by payload.
    pings: Vec<([u8; 8], PingReply)>,
    /// The payload of the next application PING (a counter).
    next_ping: u64,
    /// The TLS session the socket's bytes go through, for `https://`.
    #[cfg(feature = "rustls")]
    tls: Option<crate::tls::Session>,
}

impl Driver {
    /// Sets up the reader and writer threads; `run` the result on the driver thread.
    pub(crate) fn new(
        socket: TcpStream,
        conn: Connection,
        side: Side,
    ) -> io::Result<(Driver, Sender<Msg>)> {
        let (me, inbox) = mpsc::channel();
        let (credits, credit_rx) = mpsc::channel();
        for _ in 0..READ_AHEAD {
            let _ = credits.send(());
        }
        let (writer, batches) = mpsc::channel();
        let (read_half, write_half) = (socket.try_clone()?, socket.try_clone()?);
        let to_driver = me.clone();
        thread::Builder::new()
            .name("h2-reader".into())
            .spawn(move || read_loop(read_half, to_driver, credit_rx))?;
        let to_driver = me.clone();
        thread::Builder::new()
            .name("h2-writer".into())
            .spawn(move || write_loop(write_half, batches, to_driver))?;
        let driver = Driver {
            conn,
            side,
            socket,
            inbox,
            me: me.clone(),
            credits,
            writer,
            writing: false,
            input: VecDeque::new(),
            failure: None,
            eof: false,
            streams: HashMap::new(),
            dead: false,
            linger: None,
            stream_gauge: None,
            retired: None,
            pings: Vec::new(),
            next_ping: 0,
            #[cfg(feature = "rustls")]
            tls: None,
        };
        Ok((driver, me))
    }

    /// Publishes the number of streams this connection holds state for into `gauge`,
    /// after every turn of the loop.
    pub(crate) fn publish_streams(&mut self, gauge: Arc<AtomicUsize>) {
        self.stream_gauge = Some(gauge);
    }

    /// Runs the connection over `session`: what the socket carries is TLS records.
    #[cfg(feature = "rustls")]
    pub(crate) fn use_tls(&mut self, session: crate::tls::Session) {
        self.tls = Some(session);
    }

    /// The plaintext of what the socket delivered (itself without TLS).
    fn decrypt(&mut self, bytes: Bytes) -> io::Result<Bytes> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = &mut self.tls {
            return tls.decrypt(&bytes);
        }
        Ok(bytes)
    }

    /// What to write for the core's output (itself without TLS).
    fn encrypt(&mut self, batch: Vec<Bytes>) -> io::Result<Vec<Bytes>> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = &mut self.tls {
            let records = tls.encrypt(batch.iter().map(|chunk| &chunk[..]))?;
            return Ok(if records.is_empty() { Vec::new() } else { vec![records.into()] });
        }
        Ok(batch)
    }

    /// Sets `flag` once the connection takes no new request (client).
    pub(crate) fn publish_retired(&mut self, flag: Arc<AtomicBool>) {
        self.retired = Some(flag);
    }

    fn retire(&self) {
        if let Some(flag) = &self.retired {
            flag.store(true, Ordering::Release);
        }
    }

    /// Drives the connection until it is closed and flushed, or the transport fails.
    pub(crate) fn run(mut self) {
        self.conn.handle_timeout(Instant::now());
        loop {
            self.step();
            if let Some(gauge) = &self.stream_gauge {
                gauge.store(self.streams.len(), Ordering::Relaxed);
            }
            // req 9113-5.4.1-2
            if self.dead || (self.conn.is_closed() && !self.writing) {
                break;
            }
            let deadline = [self.conn.poll_timeout(), self.linger, self.next_expiry()]
                .into_iter()
                .flatten()
                .min();
            let first = match deadline {
                Some(at) => {
                    match self.inbox.recv_timeout(at.saturating_duration_since(Instant::now())) {
                        Ok(msg) => Some(msg),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                None => self.inbox.recv().ok(),
            };
            let now = Instant::now();
            if self.linger.is_some_and(|at| at <= now) {
                break;
            }
            if let Some(msg) = first {
                self.handle(msg);
                for msg in self.inbox.try_iter().take(BATCH).collect::<Vec<_>>() {
                    self.handle(msg);
                }
            }
            self.conn.handle_timeout(now);
            self.expire(Instant::now());
        }
        self.retire();
        self.fail_all(&Error::closed());
        // Unblocks the reader and the writer; both then exit.
        let _ = self.socket.shutdown(Shutdown::Both);
    }

    /// Feeds input, dispatches events and starts a write, until nothing moves.
    fn step(&mut self) {
        loop {
            let fed = self.feed_input();
            while let Some(event) = self.conn.poll_event() {
                self.on_event(event);
            }
            // A stream may have closed without an event (our END_STREAM went out last).
            self.open_queued();
            self.start_write();
            if !fed || self.input.is_empty() {
                break;
            }
        }
        if self.eof && self.input.is_empty() && self.failure.is_none() {
            self.eof = false;
            self.recv_eof();
        }
        // Data that arrived before the failure has reached its bodies; now fail the rest.
        if let Some(error) = self.failure.take() {
            self.retire();
            self.fail_all(&error);
            self.dead = true;
        }
    }

    /// The peer closed its side, and everything it sent before is fed. After its GOAWAY
    /// with an error code the core ends the connection with that error (RFC 9113 §5.4.1:
    /// the sender of a connection error closes the transport next), and its
    /// `Event::Closed` fails the streams still open with it; otherwise the EOF is the
    /// transport's failure.
    fn recv_eof(&mut self) {
        let ended = self.conn.error().is_some();
        self.conn.recv_eof();
        if ended || self.conn.error().is_none() {
            self.failure = Some(Error::eof());
            return;
        }
        while let Some(event) = self.conn.poll_event() {
            self.on_event(event);
        }
    }

    /// Offers pending input to the core; returns whether it consumed any.
    fn feed_input(&mut self) -> bool {
        let mut fed = false;
        let now = Instant::now();
        while let Some(bytes) = self.input.pop_front() {
            match self.conn.recv(bytes.clone(), now) {
                Ok(n) if n == bytes.len() => {
                    fed = true;
                    let _ = self.credits.send(());
                }
                Ok(n) => {
                    // The core pauses until its output drains; keep the rest.
                    fed |= n > 0;
                    self.input.push_front(bytes.slice(n..));
                    break;
                }
                // The GOAWAY is queued and `Event::Closed` reports the error.
                Err(_) => {
                    self.input.clear();
                    break;
                }
            }
        }
        fed
    }

    /// Hands the core's pending output to the writer, unless a batch is in flight. The
    /// chunks are moved out without copying (`Transmit::copy_to_bytes` hands out its
    /// front chunk itself).
    fn start_write(&mut self) {
        if self.writing || self.dead {
            return;
        }
        let out = self.conn.transmit();
        let mut batch = Vec::new();
        while out.has_remaining() {
            let len = out.chunk().len();
            batch.push(out.copy_to_bytes(len));
        }
        let batch = match self.encrypt(batch) {
            Ok(batch) => batch,
            Err(e) => {
                self.failure.get_or_insert(Error::Transport(Arc::new(e)));
                return;
            }
        };
        if !batch.is_empty() {
            self.writing = self.writer.send(batch).is_ok();
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Input(Ok(bytes)) if bytes.is_empty() => self.eof = true,
            Msg::Input(Ok(bytes)) => match self.decrypt(bytes) {
                // One piece of plaintext per read, even empty: the reader's credit for it
                // comes back once the core has consumed it.
                Ok(plain) => self.input.push_back(plain),
                Err(e) => {
                    self.failure.get_or_insert(Error::Transport(Arc::new(e)));
                }
            },
            Msg::Input(Err(e)) | Msg::Written(Err(e)) => {
                self.failure.get_or_insert(Error::Transport(Arc::new(e)));
            }
            Msg::Written(Ok(())) => self.writing = false,
            Msg::Release(id, n) => {
                if let Some(s) = self.streams.get_mut(&id) {
                    s.unread = s.unread.saturating_sub(n);
                    s.touch();
                }
                let _ = self.conn.release_capacity(id, n);
            }
            Msg::BodyDropped(id) => self.body_dropped(id),
            Msg::Data(id, data) => {
                if let Some(s) = self.streams.get_mut(&id) {
                    s.out = data;
                    s.owed = true;
                }
                self.send_more(id);
            }
            Msg::Finish(id, trailers) => {
                if let Some(s) = self.streams.get_mut(&id) {
                    s.end = Some(trailers.map_or(End::Stream, End::Trailers));
                }
                self.send_more(id);
            }
            Msg::Abort(id, code) => {
                let _ = self.conn.reset(id, code);
            }
            Msg::Request(pending) => self.open(pending),
            Msg::Respond(id, head, body) => self.respond(id, head, body),
            Msg::Shutdown => self.conn.shutdown(),
            Msg::Stats(reply) => {
                let _ = reply.send(ConnectionStats::of(&self.conn));
            }
            Msg::Ping(reply) => self.ping(reply),
        }
    }

    /// Sends a PING of the application's (RFC 9113 §6.7). The core times it from the
    /// latest `now` it was given, so it is given the time first: the driver may have slept
    /// long on its inbox before this message came.
    fn ping(&mut self, reply: PingReply) {
        self.conn.handle_timeout(Instant::now());
        self.next_ping += 1;
        let payload = self.next_ping.to_be_bytes();
        match self.conn.ping(payload) {
            Ok(()) => self.pings.push((payload, reply)),
            Err(e) => {
                let _ = reply.send(Err(Error::User(e)));
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Request { stream_id, mut request, end_stream } => {
                let body = self.new_body(stream_id, end_stream);
                if let Side::Server { on_request } = &self.side {
                    // The handler's way to this connection's stats and PINGs.
                    request.extensions_mut().insert(ConnectionHandle::new(self.me.clone()));
                    on_request(stream_id, request.map(|()| body), self.me.clone());
                }
            }
            Event::Response { stream_id, response, end_stream } => {
                let body = self.new_body(stream_id, end_stream);
                if let Some(s) = self.streams.get_mut(&stream_id) {
                    s.touch();
                    if let Some(reply) = s.reply.take() {
                        let _ = reply.send(Ok(response.map(|()| body)));
                    }
                }
                self.forget_if_done(stream_id);
            }
            Event::Data { stream_id, end_stream } => {
                let mut s = self.streams.get_mut(&stream_id);
                while let Some(data) = self.conn.read_data(stream_id) {
                    let n = data.len();
                    if !s.as_deref_mut().is_some_and(|s| s.deliver(data)) {
                        // Nobody reads it: consumed on the spot.
                        let _ = self.conn.release_capacity(stream_id, n);
                    }
                }
                if end_stream {
                    self.recv_end(stream_id, None);
                }
            }
            Event::Trailers { stream_id, trailers } => self.recv_end(stream_id, Some(trailers)),
            Event::Reset { stream_id, error_code, initiator, retryable } => {
                let Some(s) = self.streams.remove(&stream_id) else { return };
                // `retryable`: the server refused it unprocessed (REFUSED_STREAM, or above a
                // GOAWAY's last stream id, RFC 9113 §8.7); the client's retry policy
                // decides whether to send it again.
                s.fail(&Error::Reset { code: error_code, initiator, retryable });
            }
            Event::SendCapacity { stream_id } => self.send_more(stream_id),
            Event::GoAway { .. } => self.retire(),
            Event::PingAck { payload } => {
                let Some(at) = self.pings.iter().position(|(p, _)| *p == payload) else { return };
                let (_, reply) = self.pings.swap_remove(at);
                // The core timed the round trip when it read the ACK.
                if let Some(rtt) = self.conn.rtt() {
                    let _ = reply.send(Ok(rtt));
                }
            }
            Event::Closed { error } => {
                self.retire();
                let error = error.map_or(Error::closed(), Error::Connection);
                self.fail_all(&error);
                let linger = self.conn.config().shutdown_timeout;
                self.linger = Some(Instant::now() + linger);
            }
            _ => {}
        }
    }

    /// A new received body for `id`, whose data is routed to it from now on.
    fn new_body(&mut self, id: StreamId, end_stream: bool) -> RecvBody {
        let (tx, rx) = mpsc::channel();
        let s = self.streams.entry(id).or_default();
        if end_stream {
            let _ = tx.send(Chunk::End(None));
            s.recv_done = true;
        }
        s.body = Some(tx);
        RecvBody::new(id, rx, self.me.clone())
    }

    fn recv_end(&mut self, id: StreamId, trailers: Option<HeaderMap>) {
        if let Some(s) = self.streams.get_mut(&id) {
            if let Some(body) = &s.body {
                let _ = body.send(Chunk::End(trailers));
            }
            s.recv_done = true;
        }
        self.forget_if_done(id);
    }

    fn body_dropped(&mut self, id: StreamId) {
        let client = matches!(self.side, Side::Client { .. });
        let Some(s) = self.streams.get_mut(&id) else { return };
        s.body = None;
        if client && !s.recv_done {
            // The response is no longer wanted (RFC 9113 §8.1: CANCEL).
            let _ = self.conn.reset(id, ErrorCode::CANCEL);
        }
        // A server keeps answering; the rest of the request is discarded as it arrives.
    }

    // ----- Sending -----

    fn open(&mut self, pending: Pending) {
        let Side::Client { queued } = &mut self.side else { return };
        if !self.conn.can_open_stream() && !self.conn.is_going_away() {
            // The peer's SETTINGS_MAX_CONCURRENT_STREAMS: wait for StreamsAvailable.
            queued.push_back(pending);
            return;
        }
        let Pending { head, body, reply, timers } = pending;
        if timers.deadline.is_some_and(|at| at <= Instant::now()) {
            // It timed out waiting for a stream; nothing went out.
            let _ = reply.send(Err(Error::TimedOut(Timeout::Request)));
            return;
        }
        // A whole body has a known length: the core declares it as content-length.
        let opened = match body.known_length() {
            Some(length) => self.conn.send_request_with_length(head, length, body.is_empty()),
            None => self.conn.send_request(head, body.is_empty()),
        };
        match opened {
            Ok(id) => {
                let s = self.streams.entry(id).or_default();
                s.reply = Some(reply);
                s.timers = timers;
                self.start_body(id, body);
            }
            Err(e) => {
                let error = match e {
                    // Nothing went out: the connection takes no new stream (RFC 9113 §8.7).
                    UserError::GoingAway | UserError::Closed | UserError::StreamIdsExhausted => {
                        self.retire();
                        Error::NotSent(Box::new(Error::User(e)))
                    }
                    e => Error::User(e),
                };
                let _ = reply.send(Err(error));
            }
        }
    }

    fn open_queued(&mut self) {
        loop {
            let Side::Client { queued } = &mut self.side else { return };
            if self.conn.can_open_stream() || self.conn.is_going_away() {
                let Some(pending) = queued.pop_front() else { return };
                self.open(pending);
            } else {
                return;
            }
        }
    }

    fn respond(&mut self, id: StreamId, head: Response<()>, body: Outgoing) {
        // A whole body has a known length: the core declares it as content-length.
        let sent = match body.known_length() {
            Some(length) => self.conn.send_response_with_length(id, head, length, body.is_empty()),
            None => self.conn.send_response(id, head, body.is_empty()),
        };
        match sent {
            Ok(()) => self.start_body(id, body),
            Err(_) => {
                if let Some(go) = body.go {
                    let _ = go.send(None);
                }
            }
        }
    }

    fn start_body(&mut self, id: StreamId, body: Outgoing) {
        let s = self.streams.entry(id).or_default();
        if body.is_empty() {
            s.send_done = true;
            s.touch();
            return self.forget_if_done(id);
        }
        s.owed = body.go.is_some();
        (s.out, s.end, s.go) = (body.data, body.end, body.go);
        self.send_more(id);
    }

    /// Offers a stream's pending bytes to the core, then its end; gives the producer its
    /// go-ahead once its chunk is accepted.
    fn send_more(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else { return };
        if s.send_done {
            return;
        }
        let mut ended = false;
        while !s.out.is_empty() {
            let last = matches!(s.end, Some(End::Stream));
            match self.conn.send_data(id, s.out.clone(), last) {
                // The core's buffers are full: `Event::SendCapacity` calls us again.
                Ok(0) => return,
                Ok(n) => {
                    s.out.advance(n);
                    ended = last && s.out.is_empty();
                }
                Err(_) => return self.stop_sending(id),
            }
        }
        let result = match s.end.take() {
            None => {
                if std::mem::take(&mut s.owed) {
                    if let Some(go) = &s.go {
                        let _ = go.send(Some(id));
                    }
                }
                return;
            }
            Some(End::Stream) if ended => Ok(0),
            Some(End::Stream) => self.conn.send_data(id, Bytes::new(), true),
            Some(End::Trailers(trailers)) => self.conn.send_trailers(id, trailers).map(|()| 0),
        };
        if result.is_err() {
            return self.stop_sending(id);
        }
        s.send_done = true;
        s.go = None;
        s.touch();
        self.forget_if_done(id);
    }

    /// The core refused data (the stream is gone): stop the producer.
    fn stop_sending(&mut self, id: StreamId) {
        if let Some(s) = self.streams.get_mut(&id) {
            if let Some(go) = s.go.take() {
                let _ = go.send(None);
            }
            s.out = Bytes::new();
            s.send_done = true;
        }
        self.forget_if_done(id);
    }

    fn forget_if_done(&mut self, id: StreamId) {
        if self.streams.get(&id).is_some_and(|s| s.recv_done && s.send_done && s.reply.is_none()) {
            self.streams.remove(&id);
        }
    }

    // ----- Timeouts (client) -----

    /// When the next request timeout passes: a stream's, or a queued request's. A server
    /// has none.
    fn next_expiry(&self) -> Option<Instant> {
        let Side::Client { queued } = &self.side else { return None };
        let streams = self.streams.values().filter_map(|s| s.expiry().map(|(at, _)| at));
        streams.chain(queued.iter().filter_map(|p| p.timers.deadline)).min()
    }

    /// Fails the requests whose timeout has passed with [`Error::TimedOut`]. A stream is
    /// reset with CANCEL (RFC 9113 §6.4, §7: no longer needed), so the server stops work
    /// on it and the connection carries on with the others; a request still queued for a
    /// stream is dropped unsent.
    fn expire(&mut self, now: Instant) {
        if matches!(self.side, Side::Server { .. }) {
            return;
        }
        let expired: Vec<(StreamId, Timeout)> = self
            .streams
            .iter()
            .filter_map(|(id, s)| s.expiry().filter(|(at, _)| *at <= now).map(|(_, t)| (*id, t)))
            .collect();
        for (id, timeout) in expired {
            // Forgotten first: the reset's own `Event::Reset` then finds nobody to tell.
            if let Some(s) = self.streams.remove(&id) {
                let _ = self.conn.reset(id, ErrorCode::CANCEL);
                s.fail(&Error::TimedOut(timeout));
            }
        }
        let late = |p: &Pending| p.timers.deadline.is_some_and(|at| at <= now);
        if let Side::Client { queued } = &mut self.side {
            if !queued.iter().any(late) {
                return;
            }
            let (late, waiting): (VecDeque<Pending>, VecDeque<Pending>) =
                std::mem::take(queued).into_iter().partition(late);
            *queued = waiting;
            for Pending { body, reply, .. } in late {
                let _ = reply.send(Err(Error::TimedOut(Timeout::Request)));
                if let Some(go) = body.go {
                    let _ = go.send(None);
                }
            }
        }
    }

    // ----- Endings -----

    /// Fails every stream, and every request still waiting to be opened.
    fn fail_all(&mut self, error: &Error) {
        for (_, reply) in self.pings.drain(..) {
            let _ = reply.send(Err(error.clone()));
        }
        for (_, s) in self.streams.drain() {
            s.fail(error);
        }
        if let Side::Client { queued } = &mut self.side {
            for Pending { body, reply, .. } in queued.drain(..) {
                // Queued for a stream, never sent.
                let _ = reply.send(Err(Error::NotSent(Box::new(error.clone()))));
                if let Some(go) = body.go {
                    let _ = go.send(None);
                }
            }
        }
    }
}

fn read_loop(mut socket: TcpStream, driver: Sender<Msg>, credits: Receiver<()>) {
    let mut buf = BytesMut::new();
    while credits.recv().is_ok() {
        buf.resize(READ_SIZE, 0);
        let result = loop {
            match socket.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => break result,
            }
        };
        let (msg, more) = match result {
            Ok(n) => {
                buf.truncate(n);
                (Msg::Input(Ok(buf.split().freeze())), n > 0)
            }
            Err(e) => (Msg::Input(Err(e)), false),
        };
        if driver.send(msg).is_err() || !more {
            return;
        }
    }
}

fn write_loop(mut socket: TcpStream, batches: Receiver<Vec<Bytes>>, driver: Sender<Msg>) {
    for batch in batches {
        let result = write_all_vectored(&mut socket, batch);
        let failed = result.is_err();
        if driver.send(Msg::Written(result)).is_err() || failed {
            return;
        }
    }
}

fn write_all_vectored(socket: &mut TcpStream, mut batch: Vec<Bytes>) -> io::Result<()> {
    let mut first = 0;
    while first < batch.len() {
        let slices: Vec<IoSlice<'_>> =
            batch[first..].iter().take(MAX_IOVECS).map(|b| IoSlice::new(b)).collect();
        let mut n = match socket.write_vectored(&slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        while n > 0 {
            let chunk = &mut batch[first];
            let step = n.min(chunk.len());
            chunk.advance(step);
            n -= step;
            if chunk.is_empty() {
                first += 1;
            }
        }
    }
    Ok(())
}
