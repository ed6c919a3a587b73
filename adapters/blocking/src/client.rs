//! The client: multiplexed connections shared by every clone and every thread, with the
//! core's retry policy ([`h2proto::pool::RetryPolicy`], the one the tokio pool uses).
//!
//! The shared state is one slot: the current connection, and whether a caller is opening
//! its replacement. Its lock is held only to look at the slot, never across a connect: the
//! first caller to find the connection retired connects (bounded by the connect timeout)
//! with the lock released, and the callers that come while it does wait for that attempt's
//! result, for no longer than their own connect timeout. One connect per outage, and no
//! caller stuck behind a connect that hangs.

use crate::body::{Body, Kind, RecvBody};
use crate::driver::{Driver, Msg, Outgoing, Pending, Side, Timers, pump};
use crate::error::Error;
use crate::stats::{ConnectionHandle, ConnectionStats};
use h2proto::pool::{Failure, NotProcessed, RetryPolicy, Verdict};
use h2proto::{Config, Connection, ErrorCode, Origin, Protocol, UserError};
use http::uri::{Authority, Scheme};
use http::{Request, Response};
use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How long a connect may take unless [`Builder::connect_timeout`] says otherwise: 10 s,
/// as the tokio adapter's pool.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a response may go without a byte unless [`Builder::stall_timeout`] says
/// otherwise: 60 s, as the tokio adapter's body timeout. A server silent that long, with
/// room in the flow-control window to send, is stuck or gone.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The request timeout of one request, in place of [`Builder::request_timeout`]: put it
/// among the request's extensions (`None` for no bound).
///
/// ```no_run
/// use h2proto_blocking::{Client, RequestTimeout};
/// use std::time::Duration;
///
/// let client = Client::connect("127.0.0.1:8080")?;
/// let mut request = http::Request::get("/slow").body(())?;
/// request.extensions_mut().insert(RequestTimeout(Some(Duration::from_secs(2))));
/// let response = client.request(request)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<Duration>);

/// An HTTP/2 client of one server: cleartext with prior knowledge (h2c), or TLS with ALPN
/// `h2` when made with `Builder::tls` (feature `rustls`).
///
/// `Client` is `Clone + Send + Sync`: clones share one connection at a time, and any
/// number of threads may have requests in flight at once, each on its own stream.
/// Requests beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS wait for a stream to
/// finish.
///
/// Retries follow RFC 9113 §8.7 through the core's [`RetryPolicy`], the same as the tokio
/// pool's: a request the server certainly did not process (REFUSED_STREAM, above a
/// GOAWAY's last stream id, or never sent because the connection was going away or gone)
/// is sent again when its body is in memory, at most [`RetryPolicy::max_retries`] times;
/// on a fresh connection when the one it failed on takes no new requests (GOAWAY, closed),
/// else on the same one. When it is not sent again the error is
/// [`Error::NotRetried`](crate::Error::NotRetried) with the reason, and
/// [`Error::is_retry_safe`](crate::Error::is_retry_safe) is true. Any other failure may
/// have been processed and is never retried. When the last clone is dropped the connection
/// ends gracefully (GOAWAY) once the responses still being read are done.
///
/// A connection that ended (GOAWAY, a connection error, the core's timeouts such as
/// [`Config::idle_timeout`]) is replaced by the next request, with a connect bounded by
/// [`Builder::connect_timeout`]; while one caller connects, the others wait for its result
/// rather than for a lock.
///
/// A request that takes too long in all ([`Builder::request_timeout`], [`RequestTimeout`])
/// or whose response stops coming ([`Builder::stall_timeout`]) fails with
/// [`Error::TimedOut`](crate::Error::TimedOut); the connection's driver times both, resets
/// the stream with CANCEL and keeps the connection for the other requests.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    addr: SocketAddr,
    config: Config,
    retry: RetryPolicy,
    connect_timeout: Duration,
    request_timeout: Option<Duration>,
    stall_timeout: Option<Duration>,
    tls: Option<Tls>,
    slot: Mutex<Slot>,
    /// Signalled when a connect attempt ends.
    connected: Condvar,
    connects: AtomicU64,
    retries: AtomicU64,
}

/// The current connection and its replacement under way.
#[derive(Debug)]
struct Slot {
    current: Conn,
    /// A caller is connecting, with the lock released.
    connecting: bool,
    /// Connect attempts ended so far, to tell the one waited for has ended.
    attempts: u64,
    /// Why the latest attempt failed, for the callers that waited for it.
    failure: Option<Error>,
}

impl Inner {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Configures a [`Client`]: its [`Config`], retry policy and timeouts.
///
/// ```no_run
/// use h2proto_blocking::Client;
/// use std::time::Duration;
///
/// let client = Client::builder()
///     .connect_timeout(Duration::from_secs(3))
///     .request_timeout(Some(Duration::from_secs(30)))
///     .stall_timeout(Some(Duration::from_secs(5)))
///     .connect("127.0.0.1:8080")?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    config: Config,
    retry: RetryPolicy,
    connect_timeout: Duration,
    request_timeout: Option<Duration>,
    stall_timeout: Option<Duration>,
    tls: Option<Tls>,
}

#[cfg(feature = "rustls")]
use crate::tls::Settings as Tls;
/// Without the `rustls` feature there is no TLS to configure.
#[cfg(not(feature = "rustls"))]
#[derive(Clone, Debug)]
enum Tls {}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            config: Config::default(),
            retry: RetryPolicy::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: None,
            stall_timeout: Some(DEFAULT_STALL_TIMEOUT),
            tls: None,
        }
    }
}

impl Builder {
    /// The configuration of each connection. Receive capacity is always released as
    /// bodies are read (`auto_release_capacity` is turned off), so a slow reader slows the
    /// server.
    pub fn config(mut self, config: Config) -> Builder {
        self.config = config;
        self
    }

    /// Which unprocessed requests are sent again (RFC 9113 §8.7). Default
    /// [`RetryPolicy::default`].
    pub fn retry(mut self, retry: RetryPolicy) -> Builder {
        self.retry = retry;
        self
    }

    /// How long a TCP connect may take, the first and every reconnect, and as long again
    /// the TLS handshake after it; a request whose connection cannot be made in time fails
    /// with [`Error::Connect`] of kind `ErrorKind::TimedOut`. Default
    /// [`DEFAULT_CONNECT_TIMEOUT`] (10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Builder {
        self.connect_timeout = timeout;
        self
    }

    /// How long a whole request may take: from the call to [`Client::request`] (a connect
    /// it waits for included) through sending it and its response head to the last byte of
    /// its response body. When it passes, the request (or the body's `read`) fails with
    /// [`Error::TimedOut`]`(`[`Timeout::Request`]`)`, kind `ErrorKind::TimedOut`; its stream
    /// is reset with CANCEL (RFC 9113 §7) so the server stops, and the connection goes on
    /// serving the other requests. Retries of an unprocessed request (RFC 9113 §8.7) share
    /// the one deadline.
    ///
    /// Default `None`: no bound. A whole-request bound must fit the largest transfer the
    /// application makes over its slowest link, which only the application knows; a
    /// server that stops sending is caught without it by the
    /// [`stall_timeout`](Self::stall_timeout), and a dead connection by the core's
    /// keepalive when it is on ([`Config::keepalive_interval`]).
    ///
    /// [`Timeout::Request`]: crate::Timeout::Request
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Builder {
        self.request_timeout = timeout;
        self
    }

    /// How long a response may go without a byte: counted from the moment the request is
    /// sent (its end handed to the connection), and from each byte of the response head
    /// or body received or read since, until the response's end. The clock does not run
    /// out while received bytes wait to be read: then the application, not the server, is
    /// behind. A response that keeps trickling bytes never trips it, however slow. When it
    /// passes, as for [`request_timeout`](Self::request_timeout): [`Error::TimedOut`]`(`
    /// [`Timeout::Stalled`]`)`, the stream reset with CANCEL, the connection kept.
    ///
    /// Default [`DEFAULT_STALL_TIMEOUT`] (60 s); `None` turns it off (long polling, a
    /// server that answers only when something happens).
    ///
    /// [`Timeout::Stalled`]: crate::Timeout::Stalled
    pub fn stall_timeout(mut self, timeout: Option<Duration>) -> Builder {
        self.stall_timeout = timeout;
        self
    }

    /// Speaks TLS (`https://`) with `config`, sending `server_name` as SNI and verifying
    /// the server's certificate for it; only ALPN `h2` is offered (RFC 9113 §3.3), and a
    /// server that chooses none fails the connection. Requests naming only a path go to
    /// `https://server_name[:port]`. Feature `rustls`.
    #[cfg(feature = "rustls")]
    pub fn tls(
        mut self,
        config: std::sync::Arc<rustls::ClientConfig>,
        server_name: &str,
    ) -> io::Result<Builder> {
        self.tls = Some(Tls::new(config, server_name)?);
        Ok(self)
    }

    /// Connects to `addr` (each of its addresses in turn, each within the connect
    /// timeout); later connections go to the address that answered.
    pub fn connect(self, addr: impl ToSocketAddrs) -> io::Result<Client> {
        let Builder { mut config, retry, connect_timeout, request_timeout, stall_timeout, tls } =
            self;
        config.auto_release_capacity = false;
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        let socket = dial(&addrs, connect_timeout)?;
        let addr = socket.peer_addr()?;
        let conn = open(socket, &config, tls.as_ref(), connect_timeout)
            .map_err(|e| io::Error::from(Error::Connect(Arc::new(e))))?;
        let slot = Slot { current: conn, connecting: false, attempts: 0, failure: None };
        let inner = Inner {
            addr,
            config,
            retry,
            connect_timeout,
            request_timeout,
            stall_timeout,
            tls,
            slot: Mutex::new(slot),
            connected: Condvar::new(),
            connects: AtomicU64::new(1),
            retries: AtomicU64::new(0),
        };
        Ok(Client { inner: Arc::new(inner) })
    }
}

/// One connection's driver, and whether it still takes new requests.
#[derive(Clone, Debug)]
struct Conn {
    driver: Sender<Msg>,
    retired: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(slot) = self.slot.get_mut() {
            let _ = slot.current.driver.send(Msg::Shutdown);
        }
    }
}

impl Client {
    /// A [`Builder`] with the defaults: [`Config::default`], [`RetryPolicy::default`],
    /// [`DEFAULT_CONNECT_TIMEOUT`], no request timeout, [`DEFAULT_STALL_TIMEOUT`].
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Connects to `addr` with the defaults (see [`builder`](Self::builder)).
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<Client> {
        Client::builder().connect(addr)
    }

    /// Connects to `addr` with `config` (see [`Builder::config`]).
    pub fn connect_with(addr: impl ToSocketAddrs, config: Config) -> io::Result<Client> {
        Client::builder().config(config).connect(addr)
    }

    /// Connects to `addr` with `config`, retrying unprocessed requests as `retry` says.
    pub fn connect_with_retry(
        addr: impl ToSocketAddrs,
        config: Config,
        retry: RetryPolicy,
    ) -> io::Result<Client> {
        Client::builder().config(config).retry(retry).connect(addr)
    }

    /// A snapshot of the current connection: the core's counters, its send window, the
    /// latest PING round-trip time. `None` when it has ended (the next request opens
    /// another). Never connects.
    pub fn stats(&self) -> Option<ConnectionStats> {
        self.handle().stats()
    }

    /// Sends a PING on the current connection and returns the round-trip time the core
    /// measured (see [`ConnectionHandle::ping`]). Never connects.
    pub fn ping(&self, timeout: Duration) -> io::Result<Duration> {
        self.handle().ping(timeout)
    }

    /// The current connection, retired or not.
    fn handle(&self) -> ConnectionHandle {
        ConnectionHandle::new(self.inner.slot().current.driver.clone())
    }

    /// Connections opened so far (the first included).
    pub fn connects(&self) -> u64 {
        self.inner.connects.load(Ordering::Relaxed)
    }

    /// Requests sent again because the server had not processed them.
    pub fn retries(&self) -> u64 {
        self.inner.retries.load(Ordering::Relaxed)
    }

    /// Sends a request and waits for the response head; the body is read from the
    /// returned [`ResponseBody`](crate::ResponseBody).
    ///
    /// A URI without scheme and authority (`/path`) is sent as `http://` to the address
    /// connected to. A body given as a reader is streamed from a thread of its own, so
    /// the response can be read while the request is still being sent (it cannot be
    /// replayed, so it is never retried); a body in memory is declared as
    /// `content-length`.
    ///
    /// An `https://` URI is refused (`ErrorKind::Unsupported`) by a client without TLS:
    /// sending it over cleartext would expose what the caller meant to protect.
    ///
    /// The builder's [`request_timeout`](Builder::request_timeout) and
    /// [`stall_timeout`](Builder::stall_timeout) bound this call and the reads of the
    /// returned body; either ends in [`Error::TimedOut`](crate::Error::TimedOut).
    ///
    /// A [`RequestTimeout`] among the request's extensions replaces the builder's request
    /// timeout for this request.
    pub fn request<B: Into<Body>>(&self, request: Request<B>) -> io::Result<Response<RecvBody>> {
        let (parts, body) = request.into_parts();
        let timeout =
            parts.extensions.get::<RequestTimeout>().map_or(self.inner.request_timeout, |t| t.0);
        let timers = Timers {
            deadline: timeout.and_then(|t| Instant::now().checked_add(t)),
            stall: self.inner.stall_timeout,
        };
        if parts.uri.scheme() == Some(&Scheme::HTTPS) && self.inner.tls.is_none() {
            return Err(no_tls());
        }
        let Body { kind, trailers } = body.into();
        let head = Request::from_parts(parts, ());
        let data = match kind {
            Kind::Full(data) => data,
            Kind::Reader(reader) => {
                // Streamed from a thread of its own, and sent once: it cannot be replayed.
                let conn = self.connection(timers.deadline)?;
                let (go, go_rx) = mpsc::channel();
                let driver = conn.driver.clone();
                thread::Builder::new()
                    .name("h2-upload".into())
                    .spawn(move || pump(reader, trailers, driver, go_rx))?;
                return self
                    .attempt(&conn, head, Outgoing::streamed(go), timers)
                    .map_err(|error| self.give_up(error, false, 0));
            }
        };
        let mut retries = 0;
        loop {
            let conn = self.connection(timers.deadline)?;
            let out = Outgoing::full(data.clone(), trailers.clone());
            let error = match self.attempt(&conn, copy_head(&head), out, timers) {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            let failure = classify(&error);
            if self.inner.retry.verdict(failure, true, retries) != Verdict::Retry {
                return Err(self.give_up(error, true, retries));
            }
            retries += 1;
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The error for a request not sent again, with the policy's reason when the server
    /// had not processed it.
    fn give_up(&self, error: Error, replayable: bool, retries: u32) -> io::Error {
        match self.inner.retry.verdict(classify(&error), replayable, retries) {
            Verdict::NotSafe | Verdict::Retry => error.into(),
            verdict => Error::NotRetried { error: Box::new(error), verdict }.into(),
        }
    }

    /// One attempt on `conn`.
    fn attempt(
        &self,
        conn: &Conn,
        head: Request<()>,
        body: Outgoing,
        timers: Timers,
    ) -> Result<Response<RecvBody>, Error> {
        let (reply, response) = mpsc::channel();
        let pending = Pending { head, body, reply, timers };
        if conn.driver.send(Msg::Request(pending)).is_err() {
            conn.retired.store(true, Ordering::Release);
            return Err(Error::NotSent(Box::new(Error::closed())));
        }
        response.recv().map_err(|_| Error::closed())?
    }

    /// The connection for the next request: the current one, or a fresh one when it takes
    /// no new requests (see the module docs for who connects and who waits). A connect
    /// ends by the request's `deadline` too, when there is one.
    fn connection(&self, deadline: Option<Instant>) -> Result<Conn, Error> {
        let inner = &*self.inner;
        let mut limit = inner.connect_timeout;
        if let Some(at) = deadline {
            limit = limit.min(at.saturating_duration_since(Instant::now()));
            if limit.is_zero() {
                return Err(Error::TimedOut(crate::Timeout::Request));
            }
        }
        let deadline = Instant::now() + limit;
        let mut slot = inner.slot();
        loop {
            if !slot.current.retired.load(Ordering::Acquire) {
                return Ok(slot.current.clone());
            }
            if !slot.connecting {
                break;
            }
            // Another caller is connecting: its result is ours too.
            let attempt = slot.attempts;
            while slot.connecting && slot.attempts == attempt {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let e = io::Error::new(io::ErrorKind::TimedOut, "connect timed out");
                    return Err(Error::Connect(Arc::new(e)));
                }
                slot = inner
                    .connected
                    .wait_timeout(slot, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            if let (Some(failure), true) = (&slot.failure, slot.attempts != attempt) {
                if slot.current.retired.load(Ordering::Acquire) {
                    return Err(failure.clone());
                }
            }
        }
        slot.connecting = true;
        drop(slot);
        let fresh = dial(&[inner.addr], limit).and_then(|socket| {
            open(socket, &inner.config, inner.tls.as_ref(), limit)
                .map_err(|e| Error::Connect(Arc::new(e)).into())
        });
        let mut slot = inner.slot();
        slot.connecting = false;
        slot.attempts += 1;
        let result = match fresh {
            Ok(fresh) => {
                slot.failure = None;
                inner.connects.fetch_add(1, Ordering::Relaxed);
                let old = std::mem::replace(&mut slot.current, fresh.clone());
                // It finishes its streams, then closes.
                let _ = old.driver.send(Msg::Shutdown);
                Ok(fresh)
            }
            Err(e) => {
                let error = connect_error(e);
                slot.failure = Some(error.clone());
                Err(error)
            }
        };
        drop(slot);
        inner.connected.notify_all();
        result
    }
}

/// Connects to the first of `addrs` that answers within `timeout` each.
fn dial(addrs: &[SocketAddr], timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
    for addr in addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(socket) => return Ok(socket),
            Err(e) => last = e,
        }
    }
    Err(Error::Connect(Arc::new(last)).into())
}

/// The typed error inside an `io::Error` from `dial` or `open`.
fn connect_error(e: io::Error) -> Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(typed) => typed.clone(),
        None => Error::Connect(Arc::new(e)),
    }
}

/// Starts a driver for a connected socket, after the TLS handshake (within `timeout`) if
/// there is TLS.
fn open(
    mut socket: TcpStream,
    config: &Config,
    tls: Option<&Tls>,
    timeout: Duration,
) -> io::Result<Conn> {
    socket.set_nodelay(true)?;
    let peer = socket.peer_addr()?;
    // Requests naming only a path go to the address connected to over cleartext, or to
    // the server's name over TLS.
    let (scheme, authority) = match tls {
        None => (Scheme::HTTP, peer.to_string()),
        #[cfg(feature = "rustls")]
        Some(tls) if peer.port() == 443 => (Scheme::HTTPS, tls.host()),
        #[cfg(feature = "rustls")]
        Some(tls) => (Scheme::HTTPS, format!("{}:{}", tls.host(), peer.port())),
        #[cfg(not(feature = "rustls"))]
        Some(tls) => match *tls {},
    };
    let authority = Authority::try_from(authority)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut conn = Connection::client(config.clone());
    conn.set_origin(Origin::new(scheme, authority));
    let side = Side::Client { queued: VecDeque::new() };
    #[cfg(feature = "rustls")]
    let session =
        tls.map(|tls| crate::tls::Session::client(tls, &mut socket, timeout)).transpose()?;
    #[cfg(not(feature = "rustls"))]
    let _ = (&mut socket, timeout);
    let (mut driver, tx) = Driver::new(socket, conn, side)?;
    #[cfg(feature = "rustls")]
    if let Some(session) = session {
        driver.use_tls(session);
    }
    let retired = Arc::new(AtomicBool::new(false));
    driver.publish_retired(retired.clone());
    thread::Builder::new().name("h2-client".into()).spawn(move || driver.run())?;
    Ok(Conn { driver: tx, retired })
}

/// RFC 9113 §8.7 from what the connection reported: refused, above the GOAWAY's last
/// stream id, or never sent are not processed; anything else may have been.
fn classify(error: &Error) -> Failure {
    match error {
        Error::NotSent(_) => Failure::NotProcessed(NotProcessed::NotSent),
        Error::Reset { retryable: true, code, .. } if *code == ErrorCode::REFUSED_STREAM => {
            Failure::NotProcessed(NotProcessed::Refused)
        }
        Error::Reset { retryable: true, .. } => Failure::NotProcessed(NotProcessed::AboveGoAway),
        // Refused by the core before anything was written.
        Error::User(UserError::GoingAway | UserError::StreamIdsExhausted) => {
            Failure::NotProcessed(NotProcessed::NotSent)
        }
        _ => Failure::MayHaveBeenProcessed,
    }
}

/// A copy of a request head, to send it again.
fn copy_head(head: &Request<()>) -> Request<()> {
    let mut copy = Request::new(());
    *copy.method_mut() = head.method().clone();
    *copy.uri_mut() = head.uri().clone();
    *copy.version_mut() = head.version();
    *copy.headers_mut() = head.headers().clone();
    if let Some(protocol) = head.extensions().get::<Protocol>() {
        copy.extensions_mut().insert(protocol.clone());
    }
    copy
}

/// The error for an `https://` request on a client without TLS.
fn no_tls() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "https:// needs TLS: a client made with Builder::tls (feature `rustls`); this one \
         speaks h2c (http://)",
    )
}
