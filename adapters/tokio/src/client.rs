//! The client side: open a connection, send requests on it from any number of tasks.
//!
//! [`handshake`] returns a [`SendRequest`] (cheap to clone, `Send`, usable from many tasks
//! at once) and the [`Connection`] future that must be spawned (or otherwise polled) for
//! anything to happen. [`Builder`] sets the knobs.
//!
//! Backpressure: a connection takes as many requests as the server's
//! SETTINGS_MAX_CONCURRENT_STREAMS allows plus [`Builder::max_pending`] waiting for a
//! stream (default 0). [`SendRequest::ready`] / [`poll_ready`](SendRequest::poll_ready)
//! reserve a place, [`try_send_request`](SendRequest::try_send_request) hands the request
//! back when there is none, and [`send_request`](SendRequest::send_request) waits for one;
//! nothing queues without bound.
//!
//! Cancellation: dropping a [`ResponseFuture`] before the response head, or the
//! [`RecvBody`] before its end, resets the stream with CANCEL at once (RFC 9113 §8.1) and
//! frees its place for the next request.
//!
//! A body of exact size (`size_hint().exact()`, e.g. `Full`) is declared as
//! `content-length`; a URI naming only a path (`/status`) is sent to the connection's
//! origin ([`Builder::origin`]; [`connect`] and `tls::connect` set it).
//!
//! Informational (1xx) responses are passed to a callback set with [`on_informational`].
//! When the server refuses a request without processing it (GOAWAY above its stream,
//! REFUSED_STREAM) or the connection was going away before it could be sent, the error
//! says so: [`Error::is_retryable`].

use crate::body::{boxed, pipe};
use crate::driver::{Command, Driver, OnInformational};
use crate::error::{BoxError, Error, ErrorKind};
use crate::exchange::{Outgoing, ResponseRx, exchange};
use crate::slots::{Slot, Slots};
use crate::{ConnectionStats, RecvBody, Tunnel};
use h2proto::{Config, Origin};
use http::uri::{Authority, Scheme};
use http::{Request, Response};
use http_body::Body;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

/// Starts an HTTP/2 client connection over `io` (h2c with prior knowledge, or a TLS stream
/// that negotiated `h2`), with the default [`Config`].
pub fn handshake<I>(io: I) -> (SendRequest, Connection<I>)
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    Builder::new().handshake(io)
}

/// [`handshake`] with a configuration.
pub fn handshake_with<I>(io: I, config: Config) -> (SendRequest, Connection<I>)
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    Builder::new().config(config).handshake(io)
}

/// Connects over TCP (with `TCP_NODELAY`) and starts an h2c connection whose origin is
/// `http://` and the address connected to.
pub async fn connect(
    addr: impl ToSocketAddrs,
) -> std::io::Result<(SendRequest, Connection<TcpStream>)> {
    Builder::new().connect(addr).await
}

/// The knobs of one client connection.
///
/// ```
/// # async fn f(io: tokio::io::DuplexStream) {
/// use h2proto_tokio::client::Builder;
/// let origin = h2proto::Origin::of(&"http://example.com".parse().unwrap()).unwrap();
/// let (send, connection) = Builder::new().max_pending(8).origin(origin).handshake(io);
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder {
    config: Config,
    max_pending: usize,
    origin: Option<Origin>,
}

impl Builder {
    /// The defaults: [`Config::default`], no request waiting beyond the server's
    /// concurrency, no origin.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The core's configuration (limits, windows, timeouts).
    pub fn config(mut self, config: Config) -> Builder {
        self.config = config;
        self
    }

    /// How many requests the connection accepts beyond the server's
    /// SETTINGS_MAX_CONCURRENT_STREAMS, to be opened as streams finish. Default 0: a
    /// connection is "ready" only when a request can be opened at once, so a pool sees
    /// that it is full and opens another. Requests beyond it wait in
    /// [`SendRequest::ready`] or [`SendRequest::send_request`], or are handed back by
    /// [`SendRequest::try_send_request`].
    pub fn max_pending(mut self, max_pending: usize) -> Builder {
        self.max_pending = max_pending;
        self
    }

    /// The origin the connection talks to: requests whose URI names only a path are sent
    /// with its `:scheme` and `:authority` ([`h2proto::Connection::set_origin`]).
    pub fn origin(mut self, origin: Origin) -> Builder {
        self.origin = Some(origin);
        self
    }

    /// Starts the connection over `io`.
    pub fn handshake<I>(self, io: I) -> (SendRequest, Connection<I>)
    where
        I: AsyncRead + AsyncWrite + Unpin,
    {
        let slots = Slots::new(self.config.initial_max_send_streams, self.max_pending);
        let (driver, tx) = Driver::client(io, self.config, self.origin, slots.clone());
        let alive = Arc::new(Alive(tx.clone()));
        let send = SendRequest { tx, slots, reserved: None, acquiring: None, _alive: alive };
        (send, Connection { driver })
    }

    /// Connects over TCP (with `TCP_NODELAY`) and starts an h2c connection; without an
    /// origin set, the origin is `http://` and the address connected to.
    pub async fn connect(
        mut self,
        addr: impl ToSocketAddrs,
    ) -> std::io::Result<(SendRequest, Connection<TcpStream>)> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        if self.origin.is_none() {
            let authority = Authority::try_from(tcp.peer_addr()?.to_string())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            self.origin = Some(Origin::new(Scheme::HTTP, authority));
        }
        Ok(self.handshake(tcp))
    }
}

/// Calls `callback` with each informational (1xx) response to `request`, before the final
/// response. The callback runs on the connection task: keep it short.
pub fn on_informational<B>(
    request: &mut Request<B>,
    callback: impl Fn(&Response<()>) + Send + Sync + 'static,
) {
    request.extensions_mut().insert(Informational(Arc::new(callback)));
}

#[derive(Clone)]
struct Informational(OnInformational);

/// A slot being waited for by [`SendRequest::poll_ready`].
type Acquiring = Pin<Box<dyn Future<Output = Result<Slot, Error>> + Send + Sync>>;

/// Sends requests on one connection. Clone it freely: every clone talks to the same
/// connection task through a channel, without a shared lock. A clone starts without the
/// place its original may have reserved with [`ready`](Self::ready).
pub struct SendRequest {
    tx: UnboundedSender<Command>,
    slots: Arc<Slots>,
    /// A place reserved by `ready`/`poll_ready` for the next `try_send_request`.
    reserved: Option<Slot>,
    acquiring: Option<Acquiring>,
    _alive: Arc<Alive>,
}

impl Clone for SendRequest {
    fn clone(&self) -> SendRequest {
        SendRequest {
            tx: self.tx.clone(),
            slots: self.slots.clone(),
            reserved: None,
            acquiring: None,
            _alive: self._alive.clone(),
        }
    }
}

impl std::fmt::Debug for SendRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendRequest")
            .field("in_use", &self.slots.in_use())
            .field("reserved", &self.reserved.is_some())
            .finish_non_exhaustive()
    }
}

/// Shared by all clones of a `SendRequest`: when the last one goes, the connection task
/// starts closing (bodies still being read keep their streams until they end).
#[derive(Debug)]
struct Alive(UnboundedSender<Command>);

impl Drop for Alive {
    fn drop(&mut self) {
        let _ = self.0.send(Command::HandlesGone);
    }
}

/// A request [`SendRequest::try_send_request`] could not send now, handed back with why.
#[derive(Debug)]
pub struct TrySendError<T> {
    error: Error,
    request: T,
}

impl<T> TrySendError<T> {
    /// Why: [`ErrorKind::NotSent`] when the connection takes no new requests (send it on
    /// another), [`ErrorKind::Busy`] when it is full for now.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The request, unsent.
    pub fn into_request(self) -> T {
        self.request
    }
}

impl<T> std::fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<T: std::fmt::Debug> std::error::Error for TrySendError<T> {}

impl SendRequest {
    /// Calls `listener` with each round trip the connection measures with a PING of its
    /// own (keepalive, adaptive window; not [`ping`](Self::ping)'s, whose caller gets it).
    /// Set once; for the pool's metrics.
    pub(crate) fn on_rtt(&self, listener: impl Fn(Duration) + Send + Sync + 'static) {
        self.slots.on_rtt(listener);
    }

    /// Polls for a place for one request, reserved for this handle's next
    /// [`try_send_request`](Self::try_send_request). Ready at once while the connection is
    /// below its bound; `Err` ([`ErrorKind::NotSent`], retryable) once it takes no new
    /// requests (GOAWAY, closed).
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.slots.is_closed() {
            self.reserved = None;
            self.acquiring = None;
            return Poll::Ready(Err(Error::new(ErrorKind::NotSent)));
        }
        if self.reserved.is_some() {
            return Poll::Ready(Ok(()));
        }
        if let Some(slot) = self.slots.try_acquire() {
            self.reserved = Some(slot);
            self.acquiring = None;
            return Poll::Ready(Ok(()));
        }
        let acquiring =
            self.acquiring.get_or_insert_with(|| Box::pin(self.slots.clone().acquire()));
        let result = std::task::ready!(acquiring.as_mut().poll(cx));
        self.acquiring = None;
        Poll::Ready(result.map(|slot| self.reserved = Some(slot)))
    }

    /// Waits for a place for one request (see [`poll_ready`](Self::poll_ready)).
    pub async fn ready(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_ready(cx)).await
    }

    /// Sends a request now, or hands it back: with the place [`ready`](Self::ready)
    /// reserved, or a free one. The returned future resolves to the response head;
    /// dropping it cancels the request (RST_STREAM CANCEL once it is open).
    // The request comes back by value, as it went in: boxing it would allocate on the path
    // a pool takes whenever a connection is full.
    #[allow(clippy::result_large_err)]
    pub fn try_send_request<B>(
        &mut self,
        request: Request<B>,
    ) -> Result<ResponseFuture, TrySendError<Request<B>>>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        if self.slots.is_closed() || self.tx.is_closed() {
            self.reserved = None;
            return Err(TrySendError { error: Error::new(ErrorKind::NotSent), request });
        }
        let Some(slot) = self.reserved.take().or_else(|| self.slots.try_acquire()) else {
            return Err(TrySendError { error: Error::new(ErrorKind::Busy), request });
        };
        Ok(self.start(request, slot))
    }

    /// [`try_send_request`](Self::try_send_request) through a shared handle: only a free
    /// place (no reservation), for the pool, whose lanes share one handle per connection.
    #[allow(clippy::result_large_err)]
    pub(crate) fn try_send<B>(
        &self,
        request: Request<B>,
    ) -> Result<ResponseFuture, TrySendError<Request<B>>>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        if self.slots.is_closed() || self.tx.is_closed() {
            return Err(TrySendError { error: Error::new(ErrorKind::NotSent), request });
        }
        let Some(slot) = self.slots.try_acquire() else {
            return Err(TrySendError { error: Error::new(ErrorKind::Busy), request });
        };
        Ok(self.start(request, slot))
    }

    /// Sends a request and waits for the response head; waits first for a place while the
    /// connection is full (see the module docs). The body is sent as the server's flow
    /// control allows; it may end with trailers. Dropping the future cancels the request.
    ///
    /// An error for a request the server did not process says so ([`Error::is_retryable`]).
    #[allow(clippy::manual_async_fn)] // on purpose: see the comment inside
    pub fn send_request<B>(
        &self,
        request: Request<B>,
    ) -> impl Future<Output = Result<Response<RecvBody>, Error>> + use<'_, B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        // An `async` block, not an `async fn`: the latter would keep the request twice in
        // the future (as captured and as a local), 640 bytes instead of 376.
        async move {
            let slot = self.slots.clone().acquire().await?;
            self.start(request, slot).await
        }
    }

    fn start<B>(&self, request: Request<B>, slot: Slot) -> ResponseFuture
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let mut head = Request::from_parts(parts, ());
        let body = boxed(body);
        let informational = head.extensions_mut().remove::<Informational>().map(|i| i.0);
        let key = self.slots.next_key();
        let (respond, response) = exchange(key, Outgoing { head, body, informational, slot });
        let sent = self.tx.send(Command::Open(respond)).is_ok();
        ResponseFuture { response: sent.then_some(response), key, tx: self.tx.clone(), done: !sent }
    }

    /// Opens a CONNECT stream and returns the response head with a [`Tunnel`] over the
    /// stream's DATA (RFC 9113 §8.5). For extended CONNECT (RFC 8441, e.g. WebSockets over
    /// HTTP/2), put an [`h2proto::Protocol`] in the request's extensions; the request waits
    /// for the server's SETTINGS to know whether it allows it.
    ///
    /// The tunnel is usable when the status is 2xx; otherwise it reads the error body.
    pub async fn connect(&self, request: Request<()>) -> Result<(Response<()>, Tunnel), Error> {
        let (writer, body) = pipe();
        let (parts, ()) = request.into_parts();
        let response = self.send_request(Request::from_parts(parts, body)).await?;
        let (parts, recv) = response.into_parts();
        Ok((Response::from_parts(parts, ()), Tunnel::from_parts(recv, writer)))
    }

    /// Whether the connection task has ended, or takes no new requests.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed() || self.slots.is_closed()
    }

    /// Requests this connection holds now: waiting for a stream or in flight.
    pub fn in_flight(&self) -> usize {
        self.slots.in_use()
    }

    /// A snapshot of the connection's counters and windows, taken by its task (`None` once
    /// the connection has ended). The same as the server's
    /// [`ConnectionHandle::stats`](crate::server::ConnectionHandle::stats).
    pub async fn stats(&self) -> Option<ConnectionStats> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Stats(tx)).ok()?;
        rx.await.ok()
    }

    /// Sends a PING (RFC 9113 §6.7) and returns its round-trip time once the server
    /// answers, as the core measured it (also kept as [`ConnectionStats::rtt`]). `None` if
    /// the connection ends first or cannot send it (closing, or too many PINGs unanswered).
    pub async fn ping(&self) -> Option<Duration> {
        self.ping_command().await
    }

    /// [`ping`](Self::ping) as a future that does not keep the connection open (it holds
    /// no handle): the pool's check of an idle connection.
    pub(crate) fn ping_command(&self) -> impl Future<Output = Option<Duration>> + Send + 'static {
        let tx = self.tx.clone();
        async move {
            let (answer, rx) = oneshot::channel();
            tx.send(Command::Ping(answer)).ok()?;
            rx.await.ok()
        }
    }
}

/// The response head to a request of [`SendRequest::try_send_request`]. Dropped before it
/// resolves, it cancels the request: a request still waiting is forgotten, an open stream
/// is reset with CANCEL and its place freed.
#[must_use = "dropping the future cancels the request"]
pub struct ResponseFuture {
    response: Option<ResponseRx>,
    key: u64,
    tx: UnboundedSender<Command>,
    done: bool,
}

impl std::fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").field("done", &self.done).finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<RecvBody>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(response) = &mut this.response else {
            this.done = true;
            return Poll::Ready(Err(Error::new(ErrorKind::NotSent)));
        };
        let result = std::task::ready!(response.poll(cx));
        this.done = true;
        Poll::Ready(result.unwrap_or_else(|| Err(Error::new(ErrorKind::Closed))))
    }
}

impl Drop for ResponseFuture {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.tx.send(Command::Cancel(self.key));
        }
    }
}

/// The client connection's task: a future that moves bytes, events and timers until the
/// connection closes. Spawn it; it completes with `Err` if the connection failed.
///
/// Once every [`SendRequest`] clone is dropped, it closes the connection gracefully
/// (GOAWAY): responses in flight still complete and their bodies can still be read.
#[must_use = "the connection does nothing unless polled: spawn it or await it"]
pub struct Connection<I> {
    driver: Driver<I>,
}

impl<I> std::fmt::Debug for Connection<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("client::Connection").finish_non_exhaustive()
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
