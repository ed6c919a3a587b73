//! The server side: accept connections, run a [`Handler`] per request.
//!
//! The connection's task calls the handler and polls its future once in place: a handler
//! that answers without waiting (most do) costs no task, no channel message and no wakeup,
//! and its response leaves in the same write as its neighbours'. A handler that waits
//! (for the request body, a database, a timer) continues in a tokio task of its own, so
//! waiting handlers of one connection run on all cores. Work that computes for long before
//! its first `.await` belongs in `spawn_blocking` (as in any async code): until then it
//! holds up its connection. A waiting handler whose answer nobody wants any more (the
//! client reset its stream, the connection died or was dropped) is cancelled: its future
//! is dropped, as hyper does, so its guards and timers end with it. A handler returns
//! an `http::Response<B>` with any [`http_body::Body`] `B` (streaming, trailers), may send
//! informational (1xx) responses first through [`Interim`], and may turn a CONNECT stream
//! into a [`Tunnel`](crate::Tunnel). A body of exact size (`Full`, or any body whose
//! `size_hint` is exact) is sent with its `content-length` unless the response has one or
//! may not carry one (HEAD, 1xx, 204, 304, 2xx to CONNECT), as hyper does.
//!
//! ```no_run
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use h2proto_tokio::RecvBody;
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! h2proto_tokio::server::serve(listener, |_req: Request<RecvBody>| async {
//!     Response::new(Full::new(Bytes::from_static(b"hello\n")))
//! })
//! .await
//! # }
//! ```

use crate::body::boxed;
use crate::driver::{Command, Driver, HandlerFuture, Serve};
use crate::error::{BoxError, Error, ErrorKind};
use crate::{ConnectionStats, RecvBody};
use h2proto::{Config, StreamId};
use http::{Request, Response};
use http_body::Body;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

/// Answers requests. Implemented for every
/// `Fn(Request<RecvBody>) -> impl Future<Output = Response<B>>` closure.
pub trait Handler: Send + Sync + 'static {
    /// The response body.
    type Body: Body<Data = Self::Data, Error = Self::Error> + Send + 'static;
    /// The body's data.
    type Data: bytes::Buf + Send + 'static;
    /// The body's error.
    type Error: Into<BoxError>;
    /// The handler's future.
    type Future: Future<Output = Response<Self::Body>> + Send + 'static;

    /// Answers one request.
    fn call(&self, request: Request<RecvBody>) -> Self::Future;
}

impl<F, Fut, B> Handler for F
where
    F: Fn(Request<RecvBody>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send + 'static,
    B::Error: Into<BoxError>,
{
    type Body = B;
    type Data = B::Data;
    type Error = B::Error;
    type Future = Fut;

    fn call(&self, request: Request<RecvBody>) -> Fut {
        self(request)
    }
}

/// Erases a handler for the connection task.
fn spawner<H: Handler>(handler: Arc<H>) -> Serve {
    Arc::new(move |request| -> HandlerFuture { Box::pin(Erase { inner: handler.call(request) }) })
}

pin_project_lite::pin_project! {
    /// A handler's future with its response split for the connection task. Written out
    /// rather than as an `async` block, which would hold the response twice over: the
    /// boxed future stays the size of the handler's own.
    struct Erase<F> {
        #[pin]
        inner: F,
    }
}

impl<F, B> Future for Erase<F>
where
    F: Future<Output = Response<B>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = crate::driver::Answer;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (head, body) = std::task::ready!(self.project().inner.poll(cx)).into_parts();
        Poll::Ready((Response::from_parts(head, ()), boxed(body)))
    }
}

/// Sends informational (1xx) responses before the final one, e.g. `103 Early Hints` or
/// `100 Continue`, and leads to the request's [connection](Interim::connection). Found in
/// every request's extensions:
///
/// ```no_run
/// # fn f(request: http::Request<h2proto_tokio::RecvBody>) {
/// if let Some(interim) = request.extensions().get::<h2proto_tokio::server::Interim>() {
///     let hints = http::Response::builder().status(103).body(()).unwrap();
///     let _ = interim.send(hints);
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Interim {
    id: StreamId,
    tx: UnboundedSender<Command>,
}

impl Interim {
    pub(crate) fn new(id: StreamId, tx: UnboundedSender<Command>) -> Interim {
        Interim { id, tx }
    }

    /// The connection this request came on: its stats, its graceful shutdown. (Reached
    /// through this extension, which every request has, rather than one of its own: an
    /// extension more costs every request an allocation.)
    pub fn connection(&self) -> ConnectionHandle {
        ConnectionHandle::new(self.tx.clone())
    }

    /// Queues an informational response (status 100-199, not 101).
    pub fn send(&self, response: Response<()>) -> Result<(), Error> {
        if !response.status().is_informational() {
            return Err(Error::from(h2proto::UserError::InvalidMessage(
                "an interim response needs a 1xx status",
            )));
        }
        self.tx
            .send(Command::Interim { id: self.id, head: response })
            .map_err(|_| Error::new(ErrorKind::Closed))
    }
}

/// How long a graceful shutdown waits for connections to finish by default.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds server connections with a [`Config`], and serves listeners with a connection
/// limit and a drain deadline.
#[derive(Clone, Debug)]
pub struct Server {
    config: Config,
    max_connections: Option<usize>,
    drain_timeout: Option<Duration>,
}

impl Default for Server {
    fn default() -> Server {
        Server::new(Config::default())
    }
}

impl Server {
    /// A server with this configuration (e.g. `enable_connect_protocol` for WebSockets,
    /// `keepalive_interval`, windows), no connection limit and a drain deadline of
    /// [`DEFAULT_DRAIN_TIMEOUT`].
    pub fn new(config: Config) -> Server {
        Server { config, max_connections: None, drain_timeout: Some(DEFAULT_DRAIN_TIMEOUT) }
    }

    /// Serves at most `limit` connections at a time (at least one); TLS handshakes in
    /// progress count. At the limit the server stops accepting, as nginx does at
    /// `worker_connections` and Go's `netutil.LimitListener`: further connections wait in
    /// the kernel's accept backlog (see `listen(2)`; past it, new connections are refused
    /// or their SYNs dropped by the kernel) and are accepted as soon as one closes.
    pub fn max_connections(mut self, limit: usize) -> Server {
        self.max_connections = Some(limit.clamp(1, tokio::sync::Semaphore::MAX_PERMITS));
        self
    }

    /// How long a graceful shutdown of `serve_with_shutdown` waits for connections to
    /// finish (default [`DEFAULT_DRAIN_TIMEOUT`]; `None` waits as long as they take). Past
    /// it, the connections left are closed at once: their sockets close, their handlers
    /// are cancelled and their streams fail, so an endless response (an event stream, a
    /// client that stopped reading) cannot hold the shutdown forever.
    pub fn drain_timeout(mut self, timeout: Option<Duration>) -> Server {
        self.drain_timeout = timeout;
        self
    }

    /// Serves one connection over any transport. The returned future drives it to its end;
    /// spawn it or await it.
    pub fn handshake<I, H>(&self, io: I, handler: H) -> Connection<I>
    where
        I: AsyncRead + AsyncWrite + Unpin,
        H: Handler,
    {
        self.handshake_with(io, spawner(Arc::new(handler)))
    }

    fn handshake_with<I>(&self, io: I, spawn: Serve) -> Connection<I>
    where
        I: AsyncRead + AsyncWrite + Unpin,
    {
        let (driver, tx) = Driver::server(io, self.config.clone(), spawn);
        Connection { driver, tx }
    }

    /// Accepts connections until the listener fails for good. An accept error about one
    /// connection is skipped; a shortage (EMFILE: out of file descriptors, ENOBUFS, ENOMEM)
    /// pauses accepting for 10 ms, doubling up to 1 s while it lasts (with a `tracing`
    /// warning when that feature is on), as hyper, axum and Go's net/http do; only an error
    /// that says the listener is unusable (EINVAL) ends `serve`.
    pub async fn serve<H: Handler>(&self, listener: TcpListener, handler: H) -> io::Result<()> {
        self.serve_with_shutdown(listener, handler, std::future::pending()).await
    }

    /// Accepts connections until `signal` completes, then shuts every connection down
    /// gracefully (GOAWAY; requests in flight finish) and returns once all have closed, or
    /// once the [drain deadline](Self::drain_timeout) has passed and it closed the rest.
    pub async fn serve_with_shutdown<H, S>(
        &self,
        listener: TcpListener,
        handler: H,
        signal: S,
    ) -> io::Result<()>
    where
        H: Handler,
        S: Future<Output = ()>,
    {
        let spawn = spawner(Arc::new(handler));
        self.serve_each(listener, move |_: &Connected| spawn.clone(), h2c, signal).await
    }

    /// Like [`serve_with_shutdown`](Self::serve_with_shutdown) over TLS: each connection
    /// does the TLS handshake in its own task, bounded by the acceptor's handshake timeout
    /// (pass an `Arc<ServerConfig>` for the default), and is served only if ALPN chose `h2`.
    /// Every request carries the connection's [`TlsInfo`](crate::tls::TlsInfo) next to its
    /// [`Connected`].
    #[cfg(feature = "rustls")]
    pub async fn serve_tls_with_shutdown<H, S>(
        &self,
        listener: TcpListener,
        tls: impl Into<crate::tls::Acceptor>,
        handler: H,
        signal: S,
    ) -> io::Result<()>
    where
        H: Handler,
        S: Future<Output = ()>,
    {
        let spawn = spawner(Arc::new(handler));
        let acceptor = tls.into();
        let transport = move |tcp, spawn| over_tls(acceptor.clone(), tcp, spawn);
        self.serve_each(listener, move |_: &Connected| spawn.clone(), transport, signal).await
    }

    /// Accepts connections until `signal`, then drains them: the one loop behind every
    /// `serve` form. For each connection `make` gives the handler (from its [`Connected`],
    /// which every request then carries), and `transport` sets up what HTTP/2 runs on over
    /// the TCP stream (nothing for h2c, the TLS handshake), in the connection's own task;
    /// it may add to the handler (the [`TlsInfo`](crate::tls::TlsInfo) extension) or give
    /// up on the connection (`None`).
    async fn serve_each<M, T, Fut, I, S>(
        &self,
        listener: TcpListener,
        make: M,
        transport: T,
        signal: S,
    ) -> io::Result<()>
    where
        M: Fn(&Connected) -> Serve,
        T: Fn(TcpStream, Serve) -> Fut,
        Fut: Future<Output = Option<(I, Serve)>> + Send + 'static,
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        S: Future<Output = ()>,
    {
        // An invalid Config is the caller's error, told before the first connection.
        self.config.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let limit = self.max_connections.map(|n| Arc::new(tokio::sync::Semaphore::new(n)));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut tasks = JoinSet::new();
        // Accept errors in a row: the pause before the next accept, and when it ends.
        let mut backoff: Option<Duration> = None;
        let mut paused_until: Option<tokio::time::Instant> = None;
        tokio::pin!(signal);
        let result = loop {
            let next = async {
                // A place for the connection first: at the limit, it waits in the backlog.
                let permit = match &limit {
                    Some(limit) => Some(limit.clone().acquire_owned().await.expect("never closed")),
                    None => None,
                };
                if let Some(until) = paused_until {
                    tokio::time::sleep_until(until).await;
                }
                (listener.accept().await, permit)
            };
            tokio::select! {
                () = &mut signal => break Ok(()),
                (accepted, permit) = next => {
                    paused_until = None;
                    let (tcp, _peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(e) if is_connection_error(&e) => continue,
                        Err(e) if is_listener_error(&e) => break Err(e),
                        Err(e) => {
                            // Out of descriptors or memory: the connection waits in the
                            // backlog while others close.
                            let pause = backoff.map_or(ACCEPT_BACKOFF_MIN, |d| {
                                (d * 2).min(ACCEPT_BACKOFF_MAX)
                            });
                            backoff = Some(pause);
                            paused_until = Some(tokio::time::Instant::now() + pause);
                            crate::trace::accept_error(&e, pause);
                            continue;
                        }
                    };
                    backoff = None;
                    // A socket that no longer knows its peer has lost it already.
                    let Some(connected) = Connected::of(&tcp) else { continue };
                    let _ = tcp.set_nodelay(true);
                    let setup = transport(tcp, with_connected(make(&connected), connected));
                    let server = self.clone();
                    let mut stop = stop_rx.clone();
                    tasks.spawn(async move {
                        let _permit = permit;
                        let Some((io, spawn)) = setup.await else { return };
                        let mut conn = server.handshake_with(io, spawn);
                        #[cfg(feature = "tracing")]
                        conn.driver.trace.peer(_peer);
                        tokio::select! {
                            _ = &mut conn => return,
                            _ = stop.wait_for(|stop| *stop) => {}
                        }
                        conn.graceful_shutdown();
                        let _ = conn.await;
                    });
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        };
        drop(listener);
        let _ = stop_tx.send(true);
        let drain = async { while tasks.join_next().await.is_some() {} };
        match self.drain_timeout {
            None => drain.await,
            Some(deadline) => {
                if tokio::time::timeout(deadline, drain).await.is_err() {
                    crate::trace::drain_deadline(tasks.len());
                    // Dropping a connection closes its socket and cancels its handlers.
                    tasks.shutdown().await;
                }
            }
        }
        result
    }
}

/// Serves h2c (HTTP/2 with prior knowledge) on `listener` with the default [`Config`].
pub async fn serve<H: Handler>(listener: TcpListener, handler: H) -> io::Result<()> {
    Server::default().serve(listener, handler).await
}

/// Serves HTTP/2 over TLS on `listener` (ALPN `h2`, see [`crate::tls::server_config`]).
#[cfg(feature = "rustls")]
pub async fn serve_tls<H: Handler>(
    listener: TcpListener,
    tls: impl Into<crate::tls::Acceptor>,
    handler: H,
) -> io::Result<()> {
    Server::default().serve_tls_with_shutdown(listener, tls, handler, std::future::pending()).await
}

/// The first pause after an accept error that is not about one connection (EMFILE and the
/// like); it doubles with each error in a row up to [`ACCEPT_BACKOFF_MAX`] and starts over
/// after a connection is accepted, as hyper, axum and Go's net/http do.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// The longest pause between accepts while errors persist.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Accept errors that concern one connection only: the next accept is tried at once.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Accept errors that say the listener itself is unusable (EINVAL: it is not listening);
/// they end `serve`. Every other error (EMFILE, ENFILE, ENOBUFS, ENOMEM, ...) is a shortage
/// that passes: `serve` pauses and tries again.
fn is_listener_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidInput
}

/// One server connection. A future: poll it (spawn or await) to serve the connection; it
/// completes when the connection has closed, with `Err` if it ended with an error.
#[must_use = "the connection does nothing unless polled: spawn it or await it"]
pub struct Connection<I> {
    driver: Driver<I>,
    tx: UnboundedSender<Command>,
}

impl<I> Connection<I>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    /// Begins a graceful shutdown (RFC 9113 §6.8): GOAWAY, requests in flight finish, new
    /// ones are refused (the client may retry them elsewhere), then the connection closes.
    /// Keep polling the connection until it completes.
    pub fn graceful_shutdown(&mut self) {
        self.driver.shutdown();
    }

    /// A handle that can start the graceful shutdown from anywhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle { tx: self.tx.clone() }
    }

    /// The connection's counters and windows now (see [`ConnectionStats`]).
    pub fn stats(&self) -> ConnectionStats {
        self.driver.stats()
    }

    /// A handle on this connection for other tasks: snapshots of its stats, shutdown.
    pub fn handle(&self) -> ConnectionHandle {
        ConnectionHandle::new(self.tx.clone())
    }
}

impl<I> std::fmt::Debug for Connection<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("server::Connection").finish_non_exhaustive()
    }
}

impl<I> Future for Connection<I>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().driver.poll_drive(cx)
    }
}

/// A handle on a server connection for any task: [stats](ConnectionStats) snapshots and
/// the graceful shutdown. A handler finds the one of its request's connection through the
/// request's [`Interim`] extension; the application gets one from
/// [`Connection::handle`].
///
/// ```no_run
/// # async fn f(request: http::Request<h2proto_tokio::RecvBody>) {
/// use h2proto_tokio::server::Interim;
/// if let Some(interim) = request.extensions().get::<Interim>() {
///     if let Some(stats) = interim.connection().stats().await {
///         println!("{} frames received", stats.counters.frames_received);
///     }
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ConnectionHandle {
    tx: UnboundedSender<Command>,
}

impl ConnectionHandle {
    pub(crate) fn new(tx: UnboundedSender<Command>) -> ConnectionHandle {
        ConnectionHandle { tx }
    }

    /// A snapshot taken by the connection's task (`None` once the connection has ended).
    pub async fn stats(&self) -> Option<ConnectionStats> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx.send(Command::Stats(tx)).ok()?;
        rx.await.ok()
    }

    /// Sends a PING (RFC 9113 §6.7) and returns its round-trip time once the peer answers,
    /// also kept as [`ConnectionStats::rtt`]. `None` if the connection ends first or cannot
    /// send it (closing, or too many PINGs unanswered).
    pub async fn ping(&self) -> Option<Duration> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx.send(Command::Ping(tx)).ok()?;
        rx.await.ok()
    }

    /// Begins the graceful shutdown (see [`Connection::graceful_shutdown`]).
    pub fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown);
    }
}

/// Starts a connection's graceful shutdown from another task.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    tx: UnboundedSender<Command>,
}

impl ShutdownHandle {
    /// Begins the graceful shutdown (see [`Connection::graceful_shutdown`]).
    pub fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown);
    }
}

// ----- Per-connection information -----

/// The addresses of the TCP connection a request arrived on. [`Server::serve`] and its
/// variants (TLS included) insert it into every request's extensions:
///
/// ```no_run
/// # fn f(request: http::Request<h2proto_tokio::RecvBody>) {
/// use h2proto_tokio::server::Connected;
/// if let Some(conn) = request.extensions().get::<Connected>() {
///     println!("{} -> {}", conn.remote_addr, conn.local_addr);
/// }
/// # }
/// ```
///
/// A connection served with [`Server::handshake`] over a transport of the caller's has
/// none; attach what it knows with [`Server::handshake_with_extensions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connected {
    /// The peer's address.
    pub remote_addr: std::net::SocketAddr,
    /// Our end's address (which of several listening addresses was reached).
    pub local_addr: std::net::SocketAddr,
}

impl Connected {
    /// The addresses of an accepted TCP connection (`None` if the socket no longer knows
    /// them, e.g. the peer already left).
    pub fn of(tcp: &TcpStream) -> Option<Connected> {
        Some(Connected { remote_addr: tcp.peer_addr().ok()?, local_addr: tcp.local_addr().ok()? })
    }
}

/// Wraps a handler so that every request also carries the connection's [`Connected`]
/// (inserted as it is: cheaper than cloning a map of extensions for every request).
fn with_connected(spawn: Serve, connected: Connected) -> Serve {
    Arc::new(move |mut request| {
        request.extensions_mut().insert(connected);
        spawn(request)
    })
}

/// The h2c transport: HTTP/2 right on the TCP stream (with prior knowledge).
fn h2c(tcp: TcpStream, spawn: Serve) -> std::future::Ready<Option<(TcpStream, Serve)>> {
    std::future::ready(Some((tcp, spawn)))
}

/// The TLS transport: the acceptor's handshake (bounded in time), then HTTP/2 if ALPN
/// chose `h2`, with the handshake's [`TlsInfo`](crate::tls::TlsInfo) in every request.
#[cfg(feature = "rustls")]
async fn over_tls(
    acceptor: crate::tls::Acceptor,
    tcp: TcpStream,
    spawn: Serve,
) -> Option<(crate::tls::ServerTlsStream, Serve)> {
    // req 9113-3.3-1 (the acceptor refuses any ALPN but h2, or hands HTTP/1.1 to the
    // caller's HTTP/1 server: `tls::Acceptor::http1`)
    let (tls, info) = acceptor.accept_or_hand_off(tcp).await.ok()??;
    // req 9113-3.2-3
    Some((tls, with_tls_info(spawn, info)))
}

/// Wraps a handler so that every request also carries the connection's
/// [`TlsInfo`](crate::tls::TlsInfo) (a cheap clone: the details are shared).
#[cfg(feature = "rustls")]
fn with_tls_info(spawn: Serve, info: crate::tls::TlsInfo) -> Serve {
    Arc::new(move |mut request| {
        request.extensions_mut().insert(info.clone());
        spawn(request)
    })
}

/// Wraps a handler so that every request also carries a copy of `extensions`.
fn with_extensions(spawn: Serve, extensions: http::Extensions) -> Serve {
    if extensions.is_empty() {
        return spawn;
    }
    Arc::new(move |mut request| {
        request.extensions_mut().extend(extensions.clone());
        spawn(request)
    })
}

impl Server {
    /// Like [`handshake`](Self::handshake), and every request of the connection carries a
    /// clone of `extensions` (each value is cloned once per request, so keep them small or
    /// behind an `Arc`). This is how a caller that builds its own transport (TLS, a unix
    /// socket, a proxy protocol header) hands what it knows about the connection (peer
    /// address, SNI, ALPN, certificates) to the handler, as [`serve`](Self::serve) does
    /// with [`Connected`].
    ///
    /// ```no_run
    /// # async fn f(tcp: tokio::net::TcpStream) {
    /// use h2proto_tokio::server::{Connected, Server};
    /// #[derive(Clone)]
    /// struct Tenant(&'static str);
    /// let mut extensions = http::Extensions::new();
    /// extensions.insert(Tenant("blue"));
    /// if let Some(connected) = Connected::of(&tcp) {
    ///     extensions.insert(connected);
    /// }
    /// let handler = |request: http::Request<h2proto_tokio::RecvBody>| async move {
    ///     let tenant = request.extensions().get::<Tenant>().map_or("none", |t| t.0);
    ///     http::Response::new(http_body_util::Full::new(bytes::Bytes::from(tenant)))
    /// };
    /// let _ = Server::default().handshake_with_extensions(tcp, extensions, handler).await;
    /// # }
    /// ```
    pub fn handshake_with_extensions<I, H>(
        &self,
        io: I,
        extensions: http::Extensions,
        handler: H,
    ) -> Connection<I>
    where
        I: AsyncRead + AsyncWrite + Unpin,
        H: Handler,
    {
        self.handshake_with(io, with_extensions(spawner(Arc::new(handler)), extensions))
    }

    /// Like [`serve_with_shutdown`](Self::serve_with_shutdown) with a handler made for each
    /// connection by `make`, from the connection's [`Connected`]: the form of hyper's
    /// "make service", for per-connection state such as axum's `ConnectInfo` (see
    /// [`crate::service`]).
    pub async fn serve_make_with_shutdown<M, H, S>(
        &self,
        listener: TcpListener,
        make: M,
        signal: S,
    ) -> io::Result<()>
    where
        M: Fn(&Connected) -> H,
        H: Handler,
        S: Future<Output = ()>,
    {
        self.serve_each(
            listener,
            move |conn: &Connected| spawner(Arc::new(make(conn))),
            h2c,
            signal,
        )
        .await
    }

    /// [`serve_make_with_shutdown`](Self::serve_make_with_shutdown) over TLS, as
    /// [`serve_tls_with_shutdown`](Self::serve_tls_with_shutdown) serves one handler: the
    /// handler is made for each connection from its [`Connected`] when it is accepted, and
    /// every request also carries the connection's [`TlsInfo`](crate::tls::TlsInfo) (SNI,
    /// ALPN, client certificates). Shutdown and drain are those of the other forms.
    #[cfg(feature = "rustls")]
    pub async fn serve_make_tls_with_shutdown<M, H, S>(
        &self,
        listener: TcpListener,
        tls: impl Into<crate::tls::Acceptor>,
        make: M,
        signal: S,
    ) -> io::Result<()>
    where
        M: Fn(&Connected) -> H,
        H: Handler,
        S: Future<Output = ()>,
    {
        let acceptor = tls.into();
        let transport = move |tcp, spawn| over_tls(acceptor.clone(), tcp, spawn);
        let make = move |conn: &Connected| spawner(Arc::new(make(conn)));
        self.serve_each(listener, make, transport, signal).await
    }
}
