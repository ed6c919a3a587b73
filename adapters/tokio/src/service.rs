//! tower services on h2proto-tokio: axum, tonic and tower-http run unchanged.
//!
//! The ecosystem speaks `tower::Service<http::Request<_>>`; the server speaks [`Handler`].
//! [`ServiceHandler`] is the bridge, in the spirit of hyper-util's `TowerToHyperService`:
//! a service that takes `Request<RecvBody>` and answers `Response<B>` with any
//! [`http_body::Body`] `B` becomes a handler, so every knob of [`Server`] applies to it
//! (its [`Config`](crate::Config), graceful shutdown, TLS, [`Connected`] in the
//! extensions).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use h2proto_tokio::service::ServiceHandler;
//! let router = axum::Router::new().route("/", axum::routing::get(|| async { "hello\n" }));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! h2proto_tokio::server::serve(listener, ServiceHandler::new(router)).await
//! # }
//! ```
//!
//! # Choices, and why
//!
//! - **Readiness**: each request clones the service, waits for `poll_ready` on the clone,
//!   then calls it, as tower's contract asks (hyper-util does the same). A clone is cheap
//!   for the services this is meant for (axum's `Router` and tonic's servers are `Arc`s
//!   inside), and a clone per request is what lets a connection run its requests
//!   concurrently without a lock. The future is polled once in place by the connection
//!   task like any handler's, so a service that is ready and answers at once costs no task.
//! - **Errors**: a service error (from `poll_ready` or from the call) becomes an empty
//!   `500 Internal Server Error`: the client learns the request failed with a status every
//!   HTTP client understands, and the connection goes on. hyper resets the stream with
//!   INTERNAL_ERROR instead; both are clean, a status is easier to read. The error itself
//!   is dropped: a service that wants another answer turns its errors into responses
//!   (axum's `HandleErrorLayer`, tonic's `Status`), which axum and tonic do anyway (their
//!   error type is `Infallible`). An error of the response *body* resets the stream with
//!   INTERNAL_ERROR, as for any handler: the head is gone by then.
//! - **`Sync`**: a [`Handler`] is shared by the connections, so the service must be
//!   `Send + Sync`. tower's `BoxCloneService` is not `Sync`: use `BoxCloneSyncService`.
//!   A `!Send` service runs through [`LocalHandler`] (below).
//!
//! # Per-connection information, axum's `ConnectInfo`
//!
//! Every request served by [`Server::serve`] and its variants carries
//! [`Connected`] (peer and local address). axum's `ConnectInfo<T>` extractor reads an
//! `Extension<ConnectInfo<T>>` that hyper users get from
//! `into_make_service_with_connect_info`. Here a handler is made per connection, from its
//! [`Connected`], with [`serve_make`] (or [`Server::serve_make_with_shutdown`]):
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use axum::extract::ConnectInfo;
//! use axum::{Extension, Router, routing::get};
//! use h2proto_tokio::server::Connected;
//! use std::net::SocketAddr;
//!
//! let router = Router::new()
//!     .route("/ip", get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! h2proto_tokio::service::serve_make(listener, move |conn: &Connected| {
//!     // tower's `Layer` for axum's `Extension`: no routes are rebuilt per connection.
//!     tower::Layer::layer(&Extension(ConnectInfo(conn.remote_addr)), router.clone())
//! })
//! .await
//! # }
//! ```
//!
//! Over TLS the same `make` goes to [`serve_make_tls`] (or
//! [`Server::serve_make_tls_with_shutdown`], with graceful shutdown and the drain deadline
//! of the h2c form), and every request also carries the connection's
//! [`TlsInfo`](crate::tls::TlsInfo) (SNI, ALPN, client certificates), which axum reads as
//! `Extension<TlsInfo>`: the Router is the same for both.
//!
//! Where one handler serves every connection (`Server::serve_tls_with_shutdown`, say), a
//! layer does the same from the [`Connected`] in the request, e.g.
//! `axum::middleware::map_request` with
//!
//! ```
//! # use axum::extract::{ConnectInfo, Request};
//! # use h2proto_tokio::server::Connected;
//! async fn connect_info(mut request: Request) -> Request {
//!     if let Some(conn) = request.extensions().get::<Connected>().copied() {
//!         request.extensions_mut().insert(ConnectInfo(conn.remote_addr));
//!     }
//!     request
//! }
//! ```
//!
//! A caller with its own transport (TLS, unix sockets) attaches its own per-connection
//! extensions with [`Server::handshake_with_extensions`].
//!
//! # `!Send` services
//!
//! The connection task may run on any worker of the runtime and moves a handler that has
//! to wait into a task of its own (`tokio::spawn`), and response bodies are polled by the
//! connection task: the driver's handler, future and body types are `Send`, and making them
//! generic over `Send` would reach through the whole driver. So a `!Send` service runs next
//! to it instead: [`LocalHandler`] keeps the service in a task on the current
//! [`LocalSet`](tokio::task::LocalSet), hands it each request over a channel, runs each call
//! in a `spawn_local` task, and pumps its `!Send` response body into a `Send` one, one frame
//! at a time (so backpressure holds). That costs a task and two channel messages per
//! request. The local task stops when the server drops the request's handler future
//! (before the response head) or the response body (after it): a reset stream cancels
//! the `!Send` work as it would a `Send` handler's.
//!
//! # WebSockets: axum's `WebSocketUpgrade`, or a [`Tunnel`]
//!
//! axum's extractor (`axum::extract::ws`) accepts an HTTP/2 extended CONNECT (RFC 8441:
//! method CONNECT, `:protocol` `websocket`), but it takes the stream from a
//! `hyper::upgrade::OnUpgrade` in the request's extensions (and, with axum's `http2`
//! feature, wants the protocol as hyper's own `hyper::ext::Protocol`, which anyone can
//! make). `OnUpgrade` has no public constructor: in hyper 1.x `upgrade::pending` and
//! `Upgraded::new` are private, so only hyper's connection code makes one and only hyper
//! completes it with the upgraded I/O. On this server alone the extractor therefore
//! answers `426 Upgrade Required` (`ConnectionNotUpgradable`).
//!
//! Two ways work (both need `enable_connect_protocol` in [`Config`](crate::Config),
//! RFC 8441 §3; both shown in `tests/axum.rs`):
//!
//! - `HyperUpgrades` (feature `hyper-upgrade`) gets a real `OnUpgrade` for every CONNECT
//!   from hyper itself, through its public API only: a hyper HTTP/1.1 connection over an
//!   in-memory pipe, asked to upgrade, whose upgraded I/O is spliced to the stream. axum's
//!   `WebSocketUpgrade` handlers (and anything written against `hyper::upgrade::on`) then
//!   run unchanged, at the price of one pipe and a second copy of each byte per socket.
//! - Without hyper: this crate's [`Tunnel`]. axum replaces the request body with its own
//!   type, so the stream is set aside first: serve the router with
//!   [`ServiceHandler::with_tunnels`], and the axum handler takes the [`PendingTunnel`]
//!   from the extensions (`Extension<PendingTunnel>`, next to any other extractor),
//!   answers 200 with its [`TunnelBody`], and runs any WebSocket library
//!   (tokio-tungstenite) on the tunnel; the `:protocol` is the request's
//!   [`Protocol`](crate::Protocol) extension.
//!
//! # tonic
//!
//! A tonic generated server (`FooServer<T>`, or `tonic::service::Routes`) is a service
//! like any other. What tonic's own `transport::Server` adds around it is not in the
//! service: the `grpc-timeout` deadline (tonic's layer for it is private), concurrency
//! limits and load shedding. [`GrpcTimeout`] is the deadline: wrap the service in it, as
//! `tests/tonic.rs` and the `tonic_echo` example do. tonic's client works over
//! [`pool::Client`](crate::pool::Client) as it is (a tower service), given the origin:
//! `FooClient::with_origin(client, "http://host:port".parse()?)`.

mod grpc;
mod local;
#[cfg(feature = "hyper-upgrade")]
mod upgrade;

pub use grpc::{GrpcTimeout, GrpcTimeoutFuture};
pub use local::{LocalBody, LocalFuture, LocalHandler};
#[cfg(feature = "hyper-upgrade")]
pub use upgrade::{HyperUpgrades, UpgradeBody, UpgradeFuture};

use crate::RecvBody;
use crate::error::BoxError;
use crate::server::{Connected, Handler, Server};
use crate::{Tunnel, TunnelBody};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{Either, Empty};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use tokio::net::TcpListener;
use tower_service::Service;

/// A [`Handler`] that runs a tower service: each request clones it, waits until the clone
/// is ready, and calls it. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct ServiceHandler<S> {
    service: S,
    tunnels: bool,
}

impl<S> ServiceHandler<S> {
    /// Wraps `service`.
    pub fn new(service: S) -> ServiceHandler<S> {
        ServiceHandler { service, tunnels: false }
    }

    /// Sets CONNECT streams aside for [`PendingTunnel`]: the body of every CONNECT request
    /// (RFC 9113 §8.5, RFC 8441) moves into a [`PendingTunnel`] in its extensions and the
    /// service sees an empty body. For frameworks that replace the request body with their
    /// own type (axum does), so that a handler can still open the stream as a
    /// [`Tunnel`]. Off by default: a service that forwards CONNECT bodies
    /// itself (a proxy) wants them as they are.
    pub fn with_tunnels(mut self) -> ServiceHandler<S> {
        self.tunnels = true;
        self
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.service
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.service
    }
}

impl<S, B> Handler for ServiceHandler<S>
where
    S: Service<Request<RecvBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send + 'static,
    B::Error: Into<BoxError>,
{
    type Body = Either<B, Empty<B::Data>>;
    type Data = B::Data;
    type Error = BoxError;
    type Future = ServiceFuture<S, Request<RecvBody>>;

    fn call(&self, mut request: Request<RecvBody>) -> Self::Future {
        if self.tunnels && request.method() == Method::CONNECT {
            let body = std::mem::replace(request.body_mut(), RecvBody::empty());
            request.extensions_mut().insert(PendingTunnel(Arc::new(Mutex::new(Some(body)))));
        }
        ServiceFuture {
            state: State::Ready { service: self.service.clone(), request: Some(request) },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of one request through a [`ServiceHandler`]: readiness, then the call.
    pub struct ServiceFuture<S, R>
    where
        S: Service<R>,
    {
        #[pin]
        state: State<S, R>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<S, R>
    where
        S: Service<R>,
    {
        Ready { service: S, request: Option<R> },
        Call { #[pin] future: S::Future },
    }
}

impl<S, R> std::fmt::Debug for ServiceFuture<S, R>
where
    S: Service<R>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceFuture").finish_non_exhaustive()
    }
}

impl<S, R, B> Future for ServiceFuture<S, R>
where
    S: Service<R, Response = Response<B>>,
    B: Body,
{
    type Output = Response<Either<B, Empty<B::Data>>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            let future = match state.as_mut().project() {
                StateProj::Ready { service, request } => {
                    if ready!(service.poll_ready(cx)).is_err() {
                        return Poll::Ready(internal_error());
                    }
                    let request = request.take().expect("a ready service is called once");
                    service.call(request)
                }
                StateProj::Call { future } => {
                    return Poll::Ready(match ready!(future.poll(cx)) {
                        Ok(response) => response.map(Either::Left),
                        Err(_) => internal_error(),
                    });
                }
            };
            // The service is dropped once called: its future is independent of it.
            state.set(State::Call { future });
        }
    }
}

/// A CONNECT stream set aside by [`ServiceHandler::with_tunnels`], found in the request's
/// extensions (axum: `Extension<PendingTunnel>`). Accept it once, answer 2xx with the
/// [`TunnelBody`].
///
/// ```no_run
/// use axum::{Extension, http::Response};
/// use h2proto_tokio::{TunnelBody, service::PendingTunnel};
///
/// async fn tunnel(Extension(pending): Extension<PendingTunnel>) -> Response<TunnelBody> {
///     let (mut tunnel, body) = pending.accept().expect("accepted once");
///     tokio::spawn(async move {
///         let (mut read, mut write) = tokio::io::split(&mut tunnel);
///         let _ = tokio::io::copy(&mut read, &mut write).await; // echo
///     });
///     Response::new(body)
/// }
/// ```
#[derive(Clone)]
pub struct PendingTunnel(Arc<Mutex<Option<RecvBody>>>);

impl PendingTunnel {
    /// The tunnel and the body to answer with; `None` if it was accepted already.
    pub fn accept(&self) -> Option<(Tunnel, TunnelBody)> {
        let body = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take()?;
        Some(Tunnel::new(body))
    }
}

impl std::fmt::Debug for PendingTunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingTunnel").finish_non_exhaustive()
    }
}

/// What a failed service answers (see the module docs).
fn internal_error<L, D: bytes::Buf>() -> Response<Either<L, Empty<D>>> {
    let mut response = Response::new(Either::Right(Empty::new()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// Serves h2c (HTTP/2 with prior knowledge) with a tower service and the default
/// [`Config`](crate::Config): [`server::serve`](crate::server::serve) of a
/// [`ServiceHandler`].
pub async fn serve<S>(listener: TcpListener, service: S) -> io::Result<()>
where
    ServiceHandler<S>: Handler,
{
    Server::default().serve(listener, ServiceHandler::new(service)).await
}

/// Serves h2c with a service made for each connection from its [`Connected`] (e.g. to
/// give axum its `ConnectInfo`, see the [module docs](self)).
pub async fn serve_make<M, S>(listener: TcpListener, make: M) -> io::Result<()>
where
    M: Fn(&Connected) -> S,
    ServiceHandler<S>: Handler,
{
    Server::default()
        .serve_make_with_shutdown(
            listener,
            move |conn: &Connected| ServiceHandler::new(make(conn)),
            std::future::pending(),
        )
        .await
}

/// Serves HTTP/2 over TLS (ALPN `h2`, see [`crate::tls::server_config`]) with a service
/// made for each connection from its [`Connected`], as [`serve_make`] does for h2c; every
/// request also carries the connection's [`TlsInfo`](crate::tls::TlsInfo).
///
/// ```no_run
/// # async fn run(tls: std::sync::Arc<h2proto_tokio::tls::rustls::ServerConfig>) -> std::io::Result<()> {
/// use axum::extract::ConnectInfo;
/// use axum::{Extension, Router, routing::get};
/// use h2proto_tokio::{server::Connected, tls::TlsInfo};
/// use std::net::SocketAddr;
///
/// let router = Router::new().route(
///     "/",
///     get(|ConnectInfo(peer): ConnectInfo<SocketAddr>, Extension(tls): Extension<TlsInfo>| async move {
///         format!("{peer} asked for {:?}\n", tls.server_name())
///     }),
/// );
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
/// h2proto_tokio::service::serve_make_tls(listener, tls, move |conn: &Connected| {
///     tower::Layer::layer(&Extension(ConnectInfo(conn.remote_addr)), router.clone())
/// })
/// .await
/// # }
/// ```
#[cfg(feature = "rustls")]
pub async fn serve_make_tls<M, S>(
    listener: TcpListener,
    tls: impl Into<crate::tls::Acceptor>,
    make: M,
) -> io::Result<()>
where
    M: Fn(&Connected) -> S,
    ServiceHandler<S>: Handler,
{
    Server::default()
        .serve_make_tls_with_shutdown(
            listener,
            tls,
            move |conn: &Connected| ServiceHandler::new(make(conn)),
            std::future::pending(),
        )
        .await
}

/// Serves h2c with a `!Send` service on the current [`LocalSet`](tokio::task::LocalSet),
/// e.g. on a current-thread runtime: [`server::serve`](crate::server::serve) of a
/// [`LocalHandler`].
///
/// # Panics
///
/// Outside a `LocalSet` (as `tokio::task::spawn_local` does).
pub async fn serve_local<S, B>(listener: TcpListener, service: S) -> io::Result<()>
where
    S: Service<Request<RecvBody>, Response = Response<B>> + Clone + 'static,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
{
    Server::default().serve(listener, LocalHandler::new(service)).await
}
