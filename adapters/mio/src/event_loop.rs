//! The loop: one thread, one `mio::Poll`, a listener and any number of connections.
//!
//! Each turn: wait in `poll` no longer than the earliest connection timer (zero when a
//! connection still has readiness left from its last turn), note which sockets are ready,
//! run commands from other threads, then [`drive`](Conn::drive) every connection that has
//! news or a due timer, and drop the finished ones.
//!
//! A turn costs in proportion to the connections that have something to do, not to all of
//! them: the ones to drive are queued as their news arrives, and every connection's next
//! deadline waits in one ordered set, updated after each drive (only a drive changes it).
//! Ten thousand idle keep-alive connections cost a busy loop nothing per turn.
//!
//! A client loop has one more timer: the end of a reconnect backoff while requests wait
//! for a connect (`reconnect.rs`), after which they are dispatched again, or the request
//! timeout of one of them, which fails it. (The requests' timers on a connection are that
//! connection's deadlines, see `timeouts.rs`.)

use crate::Handler;
use crate::builder::Options;
use crate::client::{Counters, Outgoing};
use crate::conn::{Conn, Role};
use crate::error::{Error, ErrorKind};
use crate::read_arena::ReadArena;
use crate::reconnect::Reconnect;
use crate::tls_layer::TlsLayer;
use h2proto::pool::RetryPolicy;
use h2proto::{Config, Connection, HeaderPool, Origin, Stats};
use http::uri::{Authority, Scheme};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use rustc_hash::FxHashMap;
use std::collections::{BTreeSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

/// A TLS session whose handshake is done (none without the `rustls` feature).
#[cfg(feature = "rustls")]
pub(crate) type Session = crate::tls::Session;
#[cfg(not(feature = "rustls"))]
pub(crate) type Session = std::convert::Infallible;

/// Header maps a loop keeps for reuse (a few hundred bytes each): enough for a burst of
/// heads from many connections in one turn.
const HEADER_POOL_LIMIT: usize = 64;

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// What other threads ask of a loop.
pub(crate) enum Cmd {
    /// A client request, for the connection that takes new requests.
    Request(Box<Outgoing>),
    /// Send back the core's counters summed over the loop's connections, live and ended.
    Stats(Sender<Stats>),
    /// Client: send back the core's counters of the connection that takes new requests,
    /// if it is still there.
    ClientStats(Sender<Option<Stats>>),
    Shutdown,
}

/// A handle to a loop from other threads: a channel plus a waker.
#[derive(Clone, Debug)]
pub(crate) struct Remote {
    tx: Sender<Cmd>,
    waker: Arc<Waker>,
}

impl Remote {
    /// Hands a command to the loop; gives it back if the loop is gone.
    pub(crate) fn send(&self, cmd: Cmd) -> Result<(), Cmd> {
        self.tx.send(cmd).map_err(|e| e.0)?;
        let _ = self.waker.wake();
        Ok(())
    }
}

struct Listener {
    socket: TcpListener,
    config: Config,
    handler: Arc<Handler>,
    max_body: usize,
    /// Whether requests carry their peer's address ([`crate::RemoteAddr`]).
    remote_addr: bool,
}

/// The client a loop serves: where its connections go, how they are made and healed, and
/// the one that takes new requests.
pub(crate) struct ClientSide {
    addr: SocketAddr,
    config: Config,
    max_body: usize,
    retry: RetryPolicy,
    counters: Arc<Counters>,
    current: Option<Token>,
    /// The fresh connection being established: how it goes feeds `reconnect`.
    connecting: Option<Token>,
    connect_timeout: Duration,
    /// How long a response may stall (`ClientBuilder::stall_timeout`).
    stall_timeout: Option<Duration>,
    /// When a fresh connection may be opened: the core's breaker and backoff.
    reconnect: Reconnect,
    /// Whether a connection that ended is replaced (see `Client::connect_single`).
    replace: bool,
    /// TLS for every connection (`https://`).
    #[cfg(feature = "rustls")]
    tls: Option<crate::tls::Settings>,
    /// The client is gone: the loop ends once its connections are done (requests still
    /// being retried may open one more, which closes once they are answered).
    closing: bool,
}

impl ClientSide {
    pub(crate) fn new(
        addr: SocketAddr,
        options: Options,
        max_body: usize,
        counters: &Arc<Counters>,
    ) -> ClientSide {
        let Options { mut config, retry, connect_timeout, stall_timeout, backoff, breaker, .. } =
            options;
        // Bodies are gathered whole as they arrive: reading them releases the window.
        config.auto_release_capacity = true;
        let reconnect = Reconnect::new(breaker, backoff, options.max_waiting, options.seed);
        ClientSide {
            addr,
            config,
            max_body,
            retry,
            counters: counters.clone(),
            current: None,
            connecting: None,
            connect_timeout,
            stall_timeout,
            reconnect,
            replace: options.replace,
            closing: false,
            #[cfg(feature = "rustls")]
            tls: options.tls,
        }
    }

    /// The server's name, when the connections speak TLS.
    fn tls_host(&self) -> Option<String> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = &self.tls {
            return Some(tls.host());
        }
        None
    }

    /// A replacement connection's TLS layer, its handshake to come (`None` for cleartext).
    fn tls_layer(&self) -> io::Result<Option<TlsLayer>> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = &self.tls {
            return crate::tls::Session::start(tls).map(|s| Some(TlsLayer::handshaking(s)));
        }
        Ok(None)
    }

    /// A client connection (not connected yet, or connecting) to this side's address.
    fn conn(&self) -> io::Result<(Connection, Role)> {
        let invalid = |e| io::Error::new(io::ErrorKind::InvalidInput, e);
        let (scheme, authority) = match self.tls_host() {
            // Requests naming only a path go to the server named, over TLS.
            Some(host) if self.addr.port() == 443 => (Scheme::HTTPS, host),
            Some(host) => (Scheme::HTTPS, format!("{host}:{}", self.addr.port())),
            // Else to the address connected to, over cleartext.
            None => (Scheme::HTTP, self.addr.to_string()),
        };
        let authority = Authority::try_from(authority).map_err(invalid)?;
        let mut h2 = Connection::client(self.config.clone());
        h2.set_origin(Origin::new(scheme, authority));
        let role = Role::Client { queued: VecDeque::new(), retry: self.retry, again: Vec::new() };
        Ok((h2, role))
    }
}

struct Entry {
    conn: Conn,
    /// Waiting in `Loop::pending` for its next drive.
    pending: bool,
    /// The deadline it has in `Loop::timers`, as of its last drive.
    deadline: Option<Instant>,
}

impl Entry {
    /// Queues this connection (`token`) on `pending` for a drive, once.
    fn queue(&mut self, token: Token, pending: &mut Vec<Token>) {
        if !std::mem::replace(&mut self.pending, true) {
            pending.push(token);
        }
    }
}

/// A loop's live counts, published at the end of each turn for other threads to read.
#[derive(Debug, Default)]
pub(crate) struct LoopStats {
    pub(crate) connections: AtomicUsize,
    pub(crate) streams: AtomicUsize,
}

pub(crate) struct Loop {
    poll: Poll,
    commands: Receiver<Cmd>,
    remote: Remote,
    listener: Option<Listener>,
    client: Option<ClientSide>,
    /// Keyed by tokens the loop hands out one after the other: nothing a peer picks, so
    /// SipHash's protection would buy nothing, and a turn looks a connection up several
    /// times (FxHash is one multiplication).
    conns: FxHashMap<Token, Entry>,
    /// Connections to drive this turn: news from `poll` or a command, a due timer, or
    /// readiness left over from the last turn.
    pending: Vec<Token>,
    /// Every connection's next deadline, earliest first.
    timers: BTreeSet<(Instant, Token)>,
    next_token: usize,
    /// What every connection of this loop reads into.
    arena: ReadArena,
    /// Header maps shared by the loop's connections, lent to each for its turn.
    headers: HeaderPool,
    /// Streams the connections hold, kept up to date by `drive`.
    streams: usize,
    stats: Option<Arc<LoopStats>>,
    /// The core counters of the connections that have ended, summed as each one goes.
    ended: Stats,
}

impl Loop {
    pub(crate) fn new() -> io::Result<Loop> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (tx, commands) = mpsc::channel();
        let remote = Remote { tx, waker };
        Ok(Loop {
            poll,
            commands,
            remote,
            listener: None,
            client: None,
            conns: FxHashMap::default(),
            pending: Vec::new(),
            timers: BTreeSet::new(),
            next_token: 2,
            arena: ReadArena::default(),
            headers: HeaderPool::new(HEADER_POOL_LIMIT),
            streams: 0,
            stats: None,
            ended: Stats::default(),
        })
    }

    /// Publishes the loop's connection and stream counts into `stats` after every turn.
    pub(crate) fn publish_stats(&mut self, stats: Arc<LoopStats>) {
        self.stats = Some(stats);
    }

    pub(crate) fn remote(&self) -> Remote {
        self.remote.clone()
    }

    /// Serves connections accepted from `socket` (non-blocking) with `handler`; with
    /// `remote_addr`, each request carries its peer's address.
    pub(crate) fn listen(
        &mut self,
        socket: std::net::TcpListener,
        mut config: Config,
        handler: Arc<Handler>,
        max_body: usize,
        remote_addr: bool,
    ) -> io::Result<()> {
        let mut socket = TcpListener::from_std(socket);
        self.poll.registry().register(&mut socket, LISTENER, Interest::READABLE)?;
        // Bodies are gathered whole as they arrive: reading them releases the window.
        config.auto_release_capacity = true;
        self.listener = Some(Listener { socket, config, handler, max_body, remote_addr });
        Ok(())
    }

    /// Serves `client` (until [`Cmd::Shutdown`]), its first connection over `socket`
    /// (connected, non-blocking).
    pub(crate) fn client(
        &mut self,
        mut client: ClientSide,
        socket: std::net::TcpStream,
        session: Option<Session>,
    ) -> io::Result<()> {
        let (h2, role) = client.conn()?;
        let socket = TcpStream::from_std(socket);
        let mut conn = Conn::new(socket, h2, role, client.max_body, Instant::now());
        if let Some(layer) = session.map(TlsLayer::established) {
            conn.use_tls(layer);
        }
        conn.set_stall_timeout(client.stall_timeout);
        let token = self.add(conn)?;
        client.counters.connects.fetch_add(1, Ordering::Relaxed);
        client.current = Some(token);
        self.client = Some(client);
        Ok(())
    }

    /// Client: hands a request to the connection that takes new requests. With none (the
    /// last one is going away or gone), the breaker and backoff decide: a fresh connection
    /// now, a wait until the backoff is over, or a fast failure while the breaker is open.
    fn dispatch(&mut self, out: Outgoing) {
        let closed = || Error::not_sent(Error::new(ErrorKind::Closed));
        let Some(client) = &mut self.client else { return (out.callback)(Err(closed())) };
        let current = client
            .current
            .filter(|token| self.conns.get(token).is_some_and(|entry| entry.conn.takes_requests()));
        let token = match current {
            Some(token) => token,
            None if !client.replace => return (out.callback)(Err(closed())),
            None => {
                let now = Instant::now();
                match client.reconnect.gate(now) {
                    Err(e) => return (out.callback)(Err(e)),
                    Ok(false) => return client.reconnect.wait(out),
                    Ok(true) => {}
                }
                match self.replace_connection(now) {
                    Ok(token) => token,
                    Err(e) => {
                        if let Some(client) = &mut self.client {
                            client.reconnect.failed(now);
                        }
                        return (out.callback)(Err(Error::new(ErrorKind::Connect(Arc::new(e)))));
                    }
                }
            }
        };
        if let Some(entry) = self.conns.get_mut(&token) {
            entry.conn.request(out);
            entry.queue(token, &mut self.pending);
        }
    }

    /// Client: opens a fresh connection (a non-blocking connect: the loop does not wait,
    /// and the connect timeout is one of the connection's deadlines) to take new requests.
    /// The one it replaces finishes its streams, then closes.
    fn replace_connection(&mut self, now: Instant) -> io::Result<Token> {
        let Some(client) = &mut self.client else { return Err(io::ErrorKind::NotConnected.into()) };
        let (h2, role) = client.conn()?;
        let tls = client.tls_layer()?;
        let socket = TcpStream::connect(client.addr)?;
        let _ = socket.set_nodelay(true);
        let (max_body, closing, old) = (client.max_body, client.closing, client.current.take());
        let (connect_timeout, stall_timeout) = (client.connect_timeout, client.stall_timeout);
        client.counters.connects.fetch_add(1, Ordering::Relaxed);
        if let Some((old, entry)) = old.and_then(|old| Some((old, self.conns.get_mut(&old)?))) {
            entry.conn.shutdown();
            entry.queue(old, &mut self.pending);
        }
        let mut conn = Conn::connecting(socket, h2, role, max_body, connect_timeout, now);
        if let Some(tls) = tls {
            conn.use_tls(tls);
        }
        conn.set_stall_timeout(stall_timeout);
        let token = self.add(conn)?;
        if let Some(client) = &mut self.client {
            client.current = Some(token);
            client.connecting = Some(token);
        }
        if let Some(entry) = self.conns.get_mut(&token) {
            if closing {
                // Only for requests being retried after the client went: it closes once
                // they are answered.
                entry.conn.shutdown();
            }
        }
        Ok(token)
    }

    /// Client: after a drive of `token`, tells the breaker and backoff how the connect went
    /// if it was the fresh connection being established.
    fn connect_outcome(&mut self, token: Token, established: bool, done: bool, now: Instant) {
        let Some(client) = &mut self.client else { return };
        if client.connecting != Some(token) || !(established || done) {
            return;
        }
        client.connecting = None;
        match established {
            true => client.reconnect.connected(),
            false => client.reconnect.failed(now),
        }
    }

    /// Client: the requests that waited for a connect go, once one may start (those whose
    /// request timeout passed first fail).
    fn dispatch_waiting(&mut self, now: Instant) {
        let Some(client) = &mut self.client else { return };
        if !client.reconnect.is_waiting() {
            return;
        }
        client.reconnect.expire(now);
        for out in client.reconnect.take_due(now) {
            self.dispatch(out);
        }
    }

    fn add(&mut self, mut conn: Conn) -> io::Result<Token> {
        let token = Token(self.next_token);
        self.next_token += 1;
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.poll.registry().register(conn.socket(), token, interest)?;
        // Driven in this turn, like any connection with news.
        self.conns.insert(token, Entry { conn, pending: true, deadline: None });
        self.pending.push(token);
        Ok(token)
    }

    /// Runs until the listener is shut down (or there was none) and every connection has
    /// ended.
    pub(crate) fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(256);
        while self.listener.is_some()
            || self.client.as_ref().is_some_and(|c| !c.closing || c.reconnect.is_waiting())
            || !self.conns.is_empty()
        {
            let timeout = if !self.pending.is_empty() {
                Some(Duration::ZERO)
            } else {
                let backoff = self.client.as_ref().and_then(|c| c.reconnect.deadline());
                let earliest = self.timers.first().map(|&(at, _)| at);
                let earliest = earliest.into_iter().chain(backoff).min();
                earliest.map(|at| at.saturating_duration_since(Instant::now()))
            };
            match self.poll.poll(&mut events, timeout) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => result?,
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(),
                    WAKER => self.run_commands(),
                    token => {
                        let Some(entry) = self.conns.get_mut(&token) else { continue };
                        entry.conn.note(event);
                        entry.queue(token, &mut self.pending);
                    }
                }
            }
            let now = Instant::now();
            while let Some(&(at, token)) = self.timers.first() {
                if at > now {
                    break;
                }
                self.timers.pop_first();
                if let Some(entry) = self.conns.get_mut(&token) {
                    entry.deadline = None;
                    entry.queue(token, &mut self.pending);
                }
            }
            for token in std::mem::take(&mut self.pending) {
                self.drive(token, now);
            }
            self.dispatch_waiting(now);
            if let Some(stats) = &self.stats {
                stats.connections.store(self.conns.len(), Ordering::Relaxed);
                stats.streams.store(self.streams, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Drives one connection, then files it again: gone if it is finished, otherwise under
    /// its new deadline, and queued for the next turn if readiness is left over.
    fn drive(&mut self, token: Token, now: Instant) {
        let Some(entry) = self.conns.get_mut(&token) else { return };
        entry.pending = false;
        let streams_before = entry.conn.stream_count();
        entry.conn.drive(now, &mut self.arena, &mut self.headers);
        let again = entry.conn.take_again();
        self.streams = self.streams + entry.conn.stream_count() - streams_before;
        let done = entry.conn.is_done(now);
        let established = entry.conn.established();
        let deadline = if done { None } else { entry.conn.deadline() };
        if entry.deadline != deadline {
            if let Some(old) = entry.deadline {
                self.timers.remove(&(old, token));
            }
            if let Some(new) = deadline {
                self.timers.insert((new, token));
            }
            entry.deadline = deadline;
        }
        if done {
            if let Some(mut entry) = self.conns.remove(&token) {
                self.streams -= entry.conn.stream_count();
                self.ended.accumulate(entry.conn.h2().stats());
                let _ = self.poll.registry().deregister(entry.conn.socket());
            }
        } else if entry.conn.is_hot() {
            entry.queue(token, &mut self.pending);
        }
        self.connect_outcome(token, established, done, now);
        // Requests the server did not process, to send again (RFC 9113 §8.7).
        for out in again {
            if let Some(client) = &self.client {
                client.counters.retries.fetch_add(1, Ordering::Relaxed);
            }
            self.dispatch(out);
        }
    }

    fn accept(&mut self) {
        loop {
            let Some(listener) = &self.listener else { return };
            match listener.socket.accept() {
                Ok((socket, peer)) => {
                    let _ = socket.set_nodelay(true);
                    let h2 = Connection::server(listener.config.clone());
                    let role = Role::Server(listener.handler.clone());
                    let (max_body, remote_addr) = (listener.max_body, listener.remote_addr);
                    let mut conn = Conn::new(socket, h2, role, max_body, Instant::now());
                    if remote_addr {
                        conn.set_remote_addr(peer);
                    }
                    let _ = self.add(conn);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // WouldBlock: all accepted. Anything else (out of descriptors, say): the
                // next connection retries.
                Err(_) => return,
            }
        }
    }

    fn run_commands(&mut self) {
        while let Ok(cmd) = self.commands.try_recv() {
            match cmd {
                Cmd::Request(out) => self.dispatch(*out),
                Cmd::Stats(reply) => {
                    let mut total = self.ended.clone();
                    for entry in self.conns.values() {
                        total.accumulate(entry.conn.h2().stats());
                    }
                    let _ = reply.send(total);
                }
                Cmd::ClientStats(reply) => {
                    let current = self.client.as_ref().and_then(|client| client.current);
                    let entry = current.and_then(|token| self.conns.get(&token));
                    let _ = reply.send(entry.map(|entry| entry.conn.h2().stats().clone()));
                }
                Cmd::Shutdown => {
                    // Stop accepting; GOAWAY everywhere; `run` returns once all are closed.
                    if let Some(mut listener) = self.listener.take() {
                        let _ = self.poll.registry().deregister(&mut listener.socket);
                    }
                    if let Some(client) = &mut self.client {
                        client.closing = true;
                    }
                    for (&token, entry) in &mut self.conns {
                        entry.conn.shutdown();
                        entry.queue(token, &mut self.pending);
                    }
                }
            }
        }
    }
}
