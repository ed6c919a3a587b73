//! The connection task: one per connection, the only owner of the core's `Connection`.
//!
//! Handles (`SendRequest`, bodies, responders) talk to it through one channel of small
//! [`Command`]s (unbounded, but a client's requests are bounded before they enter it: each
//! holds a slot, see `slots.rs`; the other commands are bounded by the streams); it answers through per-stream state (`RecvShared`, a oneshot for a
//! response head). No lock is shared by all streams: a handle only ever touches its own
//! stream's state, so many tasks on many cores use one connection without contending (the
//! connection-wide mutex of hyperium/h2 is what this avoids).
//!
//! Each wakeup runs the same steps, in the order the core asks for:
//!
//! 1. commands from handles (open, respond, pull more data, cancel, shut down);
//! 2. bodies to send, polled only while their stream can take more (`FuturesUnordered`,
//!    so only woken bodies are polled);
//! 3. input: one read of up to 64 KiB, handed to `recv` as `Bytes` (DATA stays zero-copy);
//!    what `recv` does not consume waits until output has drained;
//! 4. `handle_timeout(now)`;
//! 5. events, routed to the streams' handles (received DATA moves to the body queues); a
//!    server's handler is polled once in place and spawned only if it has to wait, and a
//!    response body is sent in place while its frames are ready and taken whole;
//! 6. output: `transmit()` written with vectored writes (`chunks_vectored` + `advance`);
//! 7. the timer, re-armed from `poll_timeout()`; once the core has ended the connection,
//!    the same timer bounds the wait for a socket that takes nothing more (a peer that
//!    stopped reading cannot hold a finished connection's task and socket).
//!
//! It loops while anything made progress, then sleeps until the socket, a handle, a body
//! or the timer wakes it.

mod streams;

use crate::body::{BoxBody, RecvBody};
use crate::error::{Error, ErrorKind};
use crate::slots::{Slot, Slots};
use bytes::{Buf, Bytes, BytesMut};
use futures_util::future::Abortable;
use futures_util::stream::FuturesUnordered;
use h2proto::{Config, Connection, Origin, StreamId};
use http::{Request, Response};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use streams::{Entry, Pump, fail_entry};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, WeakUnboundedSender};
use tokio::sync::oneshot;
use tokio::time::Sleep;

/// Bytes of a fresh read arena.
const READ_SIZE: usize = 64 << 10;
/// Below this much spare room, a fresh read arena is allocated.
const MIN_READ_ROOM: usize = 8 << 10;

/// Header maps a runtime thread keeps for reuse (a few hundred bytes each).
const HEADER_POOL_LIMIT: usize = 64;

/// Slices per vectored write.
const MAX_IOVECS: usize = 64;
/// Bytes copied into one write for transports without vectored writes (TLS).
const STAGING_SIZE: usize = 64 << 10;
/// Body frames sent in place (ready and taken whole) before the body joins the pump set.
const INLINE_FRAMES: usize = 16;
/// Rounds of the loop before yielding to the runtime.
const MAX_ROUNDS: usize = 32;
/// Input bytes fed to the core in one turn before the task yields to the runtime. One
/// read's worth: a peer that keeps its socket full (huge field blocks, DATA one byte per
/// frame) gets one read processed, then every other connection of this thread its turn,
/// so one flood cannot stall the others (measure: `benches/fairness.sh`).
const INPUT_PER_TURN: usize = READ_SIZE;
/// Commands taken per round.
const MAX_COMMANDS: usize = 256;

thread_local! {
    /// What every connection polled on this thread reads into: a buffer filled front to
    /// back, each read split off as `Bytes` that the core keeps only as long as it needs.
    /// Shared, so an idle connection holds no read buffer: a hundred connections cost one
    /// 64 KiB arena per runtime thread, not a hundred.
    static READ_ARENA: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());

    /// Header maps shared by the connections polled on this thread: the maps of heads sent
    /// serve the heads received next, whichever connection they belong to.
    static HEADER_POOL: std::cell::RefCell<h2proto::HeaderPool> =
        std::cell::RefCell::new(h2proto::HeaderPool::new(HEADER_POOL_LIMIT));
}

/// Ends a turn that still has work: the task is woken again only after the runtime has
/// polled its I/O driver (the wake-up is deferred, as `tokio::task::yield_now` does), so
/// connections whose sockets became readable meanwhile run first. A plain `wake_by_ref`
/// would put the task straight back in the run queue, and a current-thread runtime looks
/// for I/O only every few dozen tasks: a flooding connection would run again and again
/// before anyone else's input is even seen.
fn yield_to_runtime(cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
    let yielded = std::pin::pin!(tokio::task::yield_now()).poll(cx);
    debug_assert!(yielded.is_pending(), "the first poll of yield_now always yields");
    Poll::Pending
}

/// Reads once from `io` into `buf` (an arena), returning what was read.
fn poll_read_into<I: AsyncRead + Unpin>(
    io: &mut I,
    cx: &mut Context<'_>,
    buf: &mut BytesMut,
) -> Poll<io::Result<Bytes>> {
    if buf.capacity() - buf.len() < MIN_READ_ROOM {
        *buf = BytesMut::with_capacity(READ_SIZE);
    }
    tokio_util::io::poll_read_buf(Pin::new(io), cx, buf).map_ok(|_| buf.split().freeze())
}

/// A callback for informational (1xx) responses of one request.
pub(crate) type OnInformational = Arc<dyn Fn(&Response<()>) + Send + Sync>;

pub(crate) use crate::exchange::ResponseTx;

/// Server: what a handler answers, erased: the response head and its body (`None` when the
/// head ends the stream).
pub(crate) type Answer = (Response<()>, Option<BoxBody>);

/// Server: a handler's future, erased.
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// Server: calls the handler for a request. The connection task polls the future once in
/// place and spawns it only if it has to wait.
pub(crate) type Serve = Arc<dyn Fn(Request<RecvBody>) -> HandlerFuture + Send + Sync>;

/// A message from a handle to the connection task.
pub(crate) enum Command {
    /// Client: open a request stream (the request waits in its exchange).
    Open(ResponseTx),
    /// Client: the caller dropped the response future of request `key` before the head.
    Cancel(u64),
    /// Server: the handler's response.
    Respond { id: StreamId, head: Response<()>, body: Option<BoxBody> },
    /// Server: an informational (1xx) response.
    Interim { id: StreamId, head: Response<()> },
    /// Server: the handler ended (or panicked) without responding.
    HandlerGone(StreamId),
    /// A body's reader consumed this many bytes: release them to flow control.
    Release(StreamId, usize),
    /// Bodies that ended consumed [`body::RELEASE_BATCH`](crate::body::RELEASE_BATCH) bytes
    /// or more of connection credit (see `body::Deferred`): release them now.
    ReleaseDeferred,
    /// A body was dropped before its end.
    RecvDropped(StreamId),
    /// Begin a graceful shutdown.
    Shutdown,
    /// Client: the last `SendRequest` was dropped; close once the streams in flight end.
    HandlesGone,
    /// A snapshot of the connection's counters and windows.
    Stats(oneshot::Sender<crate::ConnectionStats>),
    /// Send a PING; the round-trip time comes back when it is answered.
    Ping(oneshot::Sender<Duration>),
}

/// A PING of ours waiting for its ACK: who wants its round-trip time. The core times it
/// (`Connection::rtt`); the driver only remembers whom to tell.
struct PendingPing {
    payload: [u8; 8],
    answer: oneshot::Sender<Duration>,
}

/// Client: a request waiting to be opened, taken from its exchange.
pub(crate) struct Open {
    pub(crate) head: Request<()>,
    pub(crate) body: Option<BoxBody>,
    pub(crate) respond: ResponseTx,
    pub(crate) informational: Option<OnInformational>,
    /// Names the request for `Command::Cancel`.
    pub(crate) key: u64,
    /// Its place on the connection, held until the stream is forgotten.
    pub(crate) slot: Slot,
}

impl Open {
    /// The request `respond`'s exchange carries (`None` if it was taken already).
    pub(crate) fn take(respond: ResponseTx) -> Option<Open> {
        let key = respond.key()?;
        let crate::exchange::Outgoing { head, body, informational, slot } =
            respond.take_request()?;
        Some(Open { head, body, respond, informational, key, slot })
    }
}

/// Server: how a handler task answers. Dropped without answering, it resets the stream.
pub(crate) struct Responder {
    id: StreamId,
    tx: UnboundedSender<Command>,
    done: bool,
}

impl Responder {
    pub(crate) fn respond(mut self, head: Response<()>, body: Option<BoxBody>) {
        self.done = true;
        let _ = self.tx.send(Command::Respond { id: self.id, head, body });
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.tx.send(Command::HandlerGone(self.id));
        }
    }
}

/// The driver's handle on the command channel: the server keeps it open (it hands out
/// senders for every new request); the client holds it weakly, so the connection closes
/// once the application dropped every handle.
enum Tx {
    Strong(UnboundedSender<Command>),
    Weak(WeakUnboundedSender<Command>),
}

impl Tx {
    fn get(&self) -> Option<UnboundedSender<Command>> {
        match self {
            Tx::Strong(tx) => Some(tx.clone()),
            Tx::Weak(tx) => tx.upgrade(),
        }
    }
}

enum RoleState {
    Client {
        /// Requests waiting for a free stream (MAX_CONCURRENT_STREAMS) or for the server's
        /// SETTINGS (extended CONNECT), in order.
        /// Requests waiting for a stream, in their exchanges (taken out as they open).
        pending: VecDeque<ResponseTx>,
        /// The handles' view of how many requests the connection takes.
        slots: Arc<Slots>,
    },
    Server {
        serve: Serve,
        /// Requests with a body whose handler starts once the current batch of events has
        /// been handed out, so the DATA that came in the same read is already in its body: a
        /// handler that awaits its body (as tonic's do) then usually answers in its first
        /// poll instead of in a task of its own. At most one per stream opened by one read
        /// (MAX_CONCURRENT_STREAMS bounds it); emptied at the end of every batch.
        deferred: Vec<streams::StartHandler>,
    },
}

/// The connection task's state. See the module docs.
pub(crate) struct Driver<I> {
    io: I,
    conn: Connection,
    rx: UnboundedReceiver<Command>,
    tx: Tx,
    role: RoleState,
    /// Keyed with FxHash (a multiplication): SipHash's resistance to chosen keys buys
    /// nothing here, the map holds only the streams in flight, which the core bounds by
    /// MAX_CONCURRENT_STREAMS, and the peer must open ids in increasing order (RFC 9113
    /// §5.1.1).
    entries: FxHashMap<StreamId, Entry>,
    pumps: FuturesUnordered<Abortable<Pump>>,
    /// Connection credit of finished bodies, released each round (see `body::Deferred`).
    deferred: crate::body::Deferred,
    /// Read into when the thread's arena is already borrowed: a transport whose
    /// `poll_read` drives another connection on this thread inline (an in-memory pipe
    /// polled in place, say) would otherwise find the arena taken.
    read_buf: BytesMut,
    /// Input `recv` did not consume yet.
    input: Option<Bytes>,
    read_closed: bool,
    /// Input bytes fed to the core in the current turn (see [`INPUT_PER_TURN`]).
    fed_this_turn: usize,
    vectored: bool,
    staging: BytesMut,
    needs_flush: bool,
    timer: Pin<Box<Sleep>>,
    timer_at: Option<std::time::Instant>,
    /// The peer's first SETTINGS arrived.
    got_settings: bool,
    /// The command channel closed (client: every handle is gone).
    handles_gone: bool,
    /// The core reported `Event::Closed`.
    closed: bool,
    close_result: Result<(), Error>,
    /// The core's `ping_rtt_samples` already handed on (client: see `publish_rtt`).
    rtt_samples_seen: u64,
    /// After `Event::Closed`: when to stop trying to write the last frames (see
    /// [`Driver::poll_final_flush`]).
    final_flush_until: Option<std::time::Instant>,
    shutting_down: bool,
    result: Option<Result<(), Error>>,
    /// Server: request handlers that had to wait were spawned this round. Their responses
    /// come back through the command channel; writing before they had a chance to run sends
    /// them in a trickle of small writes instead of one.
    handlers_spawned: bool,
    /// Client: response heads held back while the events of their read are handed out, so
    /// that a body which came whole in the same read (its only DATA, END_STREAM) goes out
    /// with its head, without a shared queue (see `Driver::hold_head`). In the order the
    /// heads came, which is usually the order of their DATA.
    held: VecDeque<(StreamId, Response<()>)>,
    /// PINGs sent for their round-trip time, oldest first (the core bounds how many).
    pings: VecDeque<PendingPing>,
    next_ping: u64,
    /// The connection's span and the core's counters last reported.
    #[cfg(feature = "tracing")]
    pub(crate) trace: crate::trace::ConnTrace,
}

impl<I> Driver<I>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    /// Client: returns the driver and the sender for `SendRequest`.
    pub(crate) fn client(
        io: I,
        config: Config,
        origin: Option<Origin>,
        slots: Arc<Slots>,
    ) -> (Driver<I>, UnboundedSender<Command>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let weak = tx.downgrade();
        let mut conn = Connection::client(adapt(config));
        if let Some(origin) = origin {
            conn.set_origin(origin);
        }
        let driver = Driver::new(
            io,
            conn,
            rx,
            Tx::Weak(weak),
            RoleState::Client { pending: VecDeque::new(), slots },
        );
        (driver, tx)
    }

    /// Server: returns the driver and a sender for shutdown handles.
    pub(crate) fn server(
        io: I,
        config: Config,
        serve: Serve,
    ) -> (Driver<I>, UnboundedSender<Command>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let conn = Connection::server(adapt(config));
        let driver = Driver::new(
            io,
            conn,
            rx,
            Tx::Strong(tx.clone()),
            RoleState::Server { serve, deferred: Vec::new() },
        );
        (driver, tx)
    }

    fn new(
        io: I,
        mut conn: Connection,
        rx: UnboundedReceiver<Command>,
        tx: Tx,
        role: RoleState,
    ) -> Self {
        conn.handle_timeout(tokio::time::Instant::now().into_std());
        let vectored = io.is_write_vectored();
        #[cfg(feature = "tracing")]
        let trace = crate::trace::ConnTrace::new(match role {
            RoleState::Client { .. } => "client",
            RoleState::Server { .. } => "server",
        });
        Driver {
            io,
            conn,
            rx,
            tx,
            role,
            entries: FxHashMap::default(),
            pumps: FuturesUnordered::new(),
            deferred: crate::body::Deferred::default(),
            read_buf: BytesMut::new(),
            input: None,
            read_closed: false,
            fed_this_turn: 0,
            vectored,
            staging: BytesMut::new(),
            needs_flush: false,
            timer: Box::pin(tokio::time::sleep_until(tokio::time::Instant::now())),
            timer_at: None,
            got_settings: false,
            handles_gone: false,
            closed: false,
            close_result: Ok(()),
            final_flush_until: None,
            rtt_samples_seen: 0,
            shutting_down: false,
            handlers_spawned: false,
            held: VecDeque::new(),
            result: None,
            pings: VecDeque::new(),
            next_ping: 0,
            #[cfg(feature = "tracing")]
            trace,
        }
    }

    /// The connection's counters and windows now.
    pub(crate) fn stats(&self) -> crate::ConnectionStats {
        crate::ConnectionStats::of(&self.conn)
    }

    /// Sends a PING (RFC 9113 §6.7) whose ACK tells the round-trip time. Dropped (the
    /// caller learns nothing) if the core refuses it: closing, or too many unanswered.
    pub(crate) fn ping(&mut self, answer: oneshot::Sender<Duration>) {
        // The core times the PING from the latest `now` it was given: give it the time of
        // sending, not of the turn's start (the task may have slept long before this).
        self.conn.handle_timeout(tokio::time::Instant::now().into_std());
        self.next_ping += 1;
        let payload = self.next_ping.to_be_bytes();
        if self.conn.ping(payload).is_ok() {
            self.pings.push_back(PendingPing { payload, answer });
        }
    }

    /// The peer answered one of our PINGs: the core has measured its round trip.
    pub(crate) fn ping_answered(&mut self, payload: [u8; 8]) {
        let Some(at) = self.pings.iter().position(|p| p.payload == payload) else { return };
        let Some(ping) = self.pings.remove(at) else { return };
        let rtt = self.conn.rtt().unwrap_or_default();
        crate::trace::ping_rtt(rtt);
        // The caller gets this sample; `publish_rtt` is for the PINGs nobody asked for.
        self.rtt_samples_seen = self.conn.stats().ping_rtt_samples;
        let _ = ping.answer.send(rtt);
    }

    /// Client: a round trip measured by a PING of the connection's own (keepalive, adaptive
    /// window) goes to the handles' listener (the pool's metrics).
    fn publish_rtt(&mut self) {
        let RoleState::Client { slots, .. } = &self.role else { return };
        let samples = self.conn.stats().ping_rtt_samples;
        if samples == self.rtt_samples_seen {
            return;
        }
        self.rtt_samples_seen = samples;
        if let Some(rtt) = self.conn.rtt() {
            crate::trace::ping_rtt(rtt);
            slots.rtt_measured(rtt);
        }
    }

    /// Begins a graceful shutdown (RFC 9113 §6.8): the core sends GOAWAY, lets streams in
    /// flight finish, and closes.
    pub(crate) fn shutdown(&mut self) {
        self.conn.shutdown();
    }

    /// Drives the connection; ready when it has closed. The thread's header pool is the
    /// connection's while it is polled (see [`h2proto::HeaderPool`]), unless a connection
    /// further up this thread's stack holds it already (a handler driving another
    /// connection in place): then it goes without.
    pub(crate) fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        #[cfg(feature = "tracing")]
        let _span = self.trace.span.clone().entered();
        HEADER_POOL.with(|pool| match pool.try_borrow_mut() {
            Ok(mut pool) => {
                std::mem::swap(self.conn.header_pool(), &mut pool);
                let result = self.poll_turn(cx);
                std::mem::swap(self.conn.header_pool(), &mut pool);
                result
            }
            Err(_) => self.poll_turn(cx),
        })
    }

    fn poll_turn(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if let Some(result) = &self.result {
            return Poll::Ready(result.clone());
        }
        if self.shutting_down {
            return self.poll_close(cx);
        }
        self.fed_this_turn = 0;
        for _ in 0..MAX_ROUNDS {
            let mut progress = self.poll_commands(cx);
            progress |= self.poll_pumps(cx);
            // Tokio's clock, so a runtime with paused time (tests) drives the timers too.
            let now = tokio::time::Instant::now().into_std();
            match self.poll_input(cx, now) {
                Ok(p) => progress |= p,
                Err(e) => return self.fail_io(e),
            }
            self.conn.handle_timeout(now);
            progress |= self.drain_events(cx);
            self.publish_rtt();
            if std::mem::take(&mut self.handlers_spawned) {
                // Yield once so the new handlers run first; their responses then leave
                // together with whatever else is queued, in one vectored write.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            match self.poll_output(cx) {
                Ok(p) => progress |= p,
                Err(e) => return self.fail_io(e),
            }
            // Writing frames queued DATA, which can free send capacity.
            progress |= self.drain_events(cx);
            #[cfg(feature = "tracing")]
            self.trace.after_turn(&self.conn);
            // req 9113-5.4.1-2
            if self.conn.is_closed() && self.staging.is_empty() && !self.needs_flush {
                self.shutting_down = true;
                return self.poll_close(cx);
            }
            if self.fed_this_turn >= INPUT_PER_TURN {
                return yield_to_runtime(cx);
            }
            if !progress {
                if self.poll_timer(cx) {
                    continue;
                }
                if self.poll_final_flush(cx) {
                    // The socket goes with the driver; the kernel has what was written.
                    return self.end_closed();
                }
                return Poll::Pending;
            }
        }
        yield_to_runtime(cx)
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // The peer may be gone already; a failed shutdown changes nothing. One that cannot
        // be written (TLS close_notify to a peer that stopped reading) is waited for only
        // as long as the last frames would be.
        if Pin::new(&mut self.io).poll_shutdown(cx).is_pending() && !self.poll_final_flush(cx) {
            return Poll::Pending;
        }
        self.end_closed()
    }

    /// Ends the driver with the result the core's close left (`Ok` unless it was an error).
    fn end_closed(&mut self) -> Poll<Result<(), Error>> {
        let result = std::mem::replace(&mut self.close_result, Ok(()));
        self.result = Some(result.clone());
        Poll::Ready(result)
    }

    /// The transport failed or reached EOF: every stream still waiting gets the error.
    ///
    /// The connection still ends `Ok` when nothing was lost: at EOF with nothing waiting,
    /// and after any I/O error once the close is graceful (RFC 9113 §6.8: a GOAWAY without
    /// error sent or received, no stream open, nothing waiting). A peer may close its end
    /// as soon as it has sent or seen a GOAWAY and has no streams left, so what we still
    /// had to write (our own GOAWAY, its answer) meets a broken pipe or a reset: a normal
    /// end of an idle connection, not a failure.
    fn fail_io(&mut self, e: io::Error) -> Poll<Result<(), Error>> {
        let eof = e.kind() == io::ErrorKind::UnexpectedEof;
        let graceful = self.conn.is_going_away()
            && self.conn.error().is_none()
            && self.conn.active_streams() == 0;
        let error = Error::io(e);
        let affected = self.finish_all(&error);
        // Once the core has ended the connection (`Event::Closed`), its reason is the
        // connection's result, not the transport's failure that followed.
        let was_closed = std::mem::replace(&mut self.closed, true);
        let result = if was_closed && !affected {
            std::mem::replace(&mut self.close_result, Ok(()))
        } else if (eof || graceful) && !affected {
            Ok(())
        } else {
            Err(error)
        };
        self.result = Some(result.clone());
        Poll::Ready(result)
    }

    // ----- Input -----

    /// Reads once and feeds the core. `Err` for a transport error or EOF.
    fn poll_input(&mut self, cx: &mut Context<'_>, now: std::time::Instant) -> io::Result<bool> {
        if let Some(rest) = self.input.take() {
            return Ok(self.feed(rest, now));
        }
        if self.read_closed {
            return Ok(false);
        }
        let io = &mut self.io;
        let read = READ_ARENA.with(|arena| match arena.try_borrow_mut() {
            Ok(mut arena) => poll_read_into(io, cx, &mut arena),
            Err(_) => poll_read_into(io, cx, &mut self.read_buf),
        });
        match read {
            Poll::Pending => Ok(false),
            Poll::Ready(Ok(bytes)) if bytes.is_empty() => {
                self.read_closed = true;
                if self.closed {
                    return Ok(true);
                }
                // After the peer's error GOAWAY its EOF ends the connection with that error
                // (the core's `Event::Closed`, handled next), not as a bare EOF.
                self.conn.recv_eof();
                if self.conn.error().is_some() {
                    return Ok(true);
                }
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed by the peer"))
            }
            Poll::Ready(Ok(bytes)) => {
                self.feed(bytes, now);
                Ok(true)
            }
            Poll::Ready(Err(e)) => Err(e),
        }
    }

    fn feed(&mut self, bytes: Bytes, now: std::time::Instant) -> bool {
        let len = bytes.len();
        self.fed_this_turn += len;
        match self.conn.recv(bytes.clone(), now) {
            Ok(n) if n < len => {
                self.input = Some(bytes.slice(n..));
                n > 0
            }
            Ok(_) => true,
            Err(e) => {
                // A connection error: the GOAWAY is queued and `Event::Closed` follows.
                crate::trace::protocol_error(&e);
                self.read_closed = true;
                true
            }
        }
    }

    // ----- Output -----

    fn poll_output(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let mut wrote = false;
        loop {
            let n = if self.vectored {
                let transmit = self.conn.transmit();
                if !transmit.has_remaining() {
                    break;
                }
                let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                let count = transmit.chunks_vectored(&mut slices);
                match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]) {
                    Poll::Pending => break,
                    Poll::Ready(Err(e)) => return Err(e),
                    Poll::Ready(Ok(n)) => {
                        transmit.advance(n);
                        n
                    }
                }
            } else {
                if self.staging.is_empty() {
                    let transmit = self.conn.transmit();
                    if !transmit.has_remaining() {
                        break;
                    }
                    while self.staging.len() < STAGING_SIZE && transmit.has_remaining() {
                        let chunk = transmit.chunk();
                        let n = chunk.len().min(STAGING_SIZE - self.staging.len());
                        self.staging.extend_from_slice(&chunk[..n]);
                        transmit.advance(n);
                    }
                }
                match Pin::new(&mut self.io).poll_write(cx, &self.staging) {
                    Poll::Pending => break,
                    Poll::Ready(Err(e)) => return Err(e),
                    Poll::Ready(Ok(n)) => {
                        self.staging.advance(n);
                        n
                    }
                }
            };
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            wrote = true;
            self.needs_flush = true;
        }
        if self.needs_flush {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => {}
            }
        }
        Ok(wrote)
    }

    // ----- Time -----

    /// `true` once the core has ended the connection and its last frames (the GOAWAY) have
    /// not been written within `Config::shutdown_timeout`: a peer that stopped reading. The
    /// core is done with it (its streams have failed already); what is left is a socket,
    /// which must not be held forever. The blocking and mio adapters linger as long.
    fn poll_final_flush(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.closed {
            return false;
        }
        let at = *self.final_flush_until.get_or_insert_with(|| {
            tokio::time::Instant::now().into_std() + self.conn.config().shutdown_timeout
        });
        if self.timer_at != Some(at) {
            self.timer.as_mut().reset(tokio::time::Instant::from_std(at));
            self.timer_at = Some(at);
        }
        self.timer.as_mut().poll(cx).is_ready()
    }

    /// Arms the timer from the core; `true` if it has fired.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.conn.poll_timeout() else { return false };
        if self.timer_at != Some(at) {
            self.timer.as_mut().reset(tokio::time::Instant::from_std(at));
            self.timer_at = Some(at);
        }
        self.timer.as_mut().poll(cx).is_ready()
    }
}

impl<I> Drop for Driver<I> {
    fn drop(&mut self) {
        // Handles waiting on this connection learn that it is gone.
        let error = Error::new(ErrorKind::Closed);
        if let RoleState::Client { pending, slots } = &mut self.role {
            slots.close();
            for respond in pending.drain(..) {
                let _ = respond.send(Err(Error::new(ErrorKind::NotSent)));
            }
        }
        for (_, entry) in self.entries.drain() {
            fail_entry(entry, &error);
        }
    }
}

/// The adapter's settings on top of the caller's configuration: receive credit is
/// released by the bodies as the application reads (see `body.rs`), never by the core on
/// its own.
fn adapt(mut config: Config) -> Config {
    config.auto_release_capacity = false;
    config
}
