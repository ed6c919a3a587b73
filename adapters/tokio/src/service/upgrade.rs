//! hyper's upgrade API on CONNECT streams (feature `hyper-upgrade`): axum's
//! `WebSocketUpgrade`, and anything else written against `hyper::upgrade::on`, runs
//! unchanged over HTTP/2 extended CONNECT (RFC 8441).
//!
//! Such code takes a `hyper::upgrade::OnUpgrade` from the request's extensions and awaits
//! it for the connection's bytes. hyper alone can make one (it has no public constructor),
//! and only on its own connections. So each CONNECT request gets a real one from a real
//! hyper connection: an HTTP/1.1 connection served by hyper's server over an in-memory
//! pipe, asked to upgrade by one request written into it. The application's service sees
//! the original HTTP/2 request, with that `OnUpgrade` (and hyper's `Protocol` for the
//! `:protocol`) in its extensions. If it answers 2xx, the pipe's hyper end answers its
//! request with `101 Switching Protocols`, and from then on the pipe carries the tunnel's
//! bytes: copied between it and the stream's [`Tunnel`], whose [`TunnelBody`] becomes the
//! response body. Any other answer fails the upgrade and goes out as it is.
//!
//! The cost is one pipe, one small HTTP/1.1 exchange and two copies of each byte per
//! tunnel: nothing per request that is not a CONNECT.

use crate::{RecvBody, Tunnel, TunnelBody};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{Either, Empty};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::oneshot;
use tower_service::Service;

/// Bytes the in-memory pipe buffers each way.
const PIPE_SIZE: usize = 64 << 10;

/// What the hyper end of the pipe is asked: an upgrade, nothing else.
const UPGRADE_REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nhost: h2proto\r\nconnection: upgrade\r\nupgrade: h2proto-tunnel\r\n\r\n";

/// The longest answer the hyper end may give before the tunnel's bytes.
const MAX_UPGRADE_RESPONSE: usize = 4 << 10;

/// A service wrapper that gives every CONNECT request a working
/// `hyper::upgrade::OnUpgrade`: axum's `WebSocketUpgrade` then works over HTTP/2. Serve it
/// with `enable_connect_protocol` in the [`Config`](crate::Config) for extended CONNECT.
///
/// The `OnUpgrade` comes from a hyper HTTP/1.1 connection over an in-memory pipe, asked to
/// upgrade (hyper makes them for its own connections only). The service sees the original
/// HTTP/2 request with it (and hyper's `Protocol` for the `:protocol`) in the extensions.
/// A 2xx answer completes the upgrade: the pipe then carries the stream's bytes both ways,
/// and the response goes out with the stream's [`TunnelBody`]. Any other answer fails the
/// upgrade and goes out as it is. Requests other than CONNECT pass straight through. Do
/// not combine it with [`ServiceHandler::with_tunnels`](super::ServiceHandler::with_tunnels),
/// which takes the CONNECT streams first.
///
/// ```no_run
/// use axum::extract::ws::{Message, WebSocketUpgrade};
/// use h2proto_tokio::service::{HyperUpgrades, ServiceHandler};
///
/// # async fn run() -> std::io::Result<()> {
/// let router = axum::Router::new().route(
///     "/ws",
///     axum::routing::any(|ws: WebSocketUpgrade| async move {
///         ws.on_upgrade(|mut socket| async move {
///             while let Some(Ok(message)) = socket.recv().await {
///                 if socket.send(message).await.is_err() {
///                     break;
///                 }
///             }
///         })
///     }),
/// );
/// let mut config = h2proto_tokio::Config::default();
/// config.enable_connect_protocol = true; // RFC 8441
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let handler = ServiceHandler::new(HyperUpgrades::new(router));
/// h2proto_tokio::server::Server::new(config).serve(listener, handler).await
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct HyperUpgrades<S> {
    inner: S,
}

impl<S> HyperUpgrades<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> HyperUpgrades<S> {
        HyperUpgrades { inner }
    }
}

/// The response body of [`HyperUpgrades`]: the service's own, or the tunnel's.
pub type UpgradeBody<B> = Either<B, TunnelBody>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<RecvBody>> for HyperUpgrades<S>
where
    S: Service<Request<RecvBody>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
{
    type Response = Response<UpgradeBody<B>>;
    type Error = S::Error;
    type Future = UpgradeFuture<S::Future, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<RecvBody>) -> Self::Future {
        if request.method() != Method::CONNECT {
            return UpgradeFuture { state: State::Direct { future: self.inner.call(request) } };
        }
        // The ready service goes with the request; a clone takes its place (tower's rule:
        // call what was made ready).
        let ready = self.inner.clone();
        let service = std::mem::replace(&mut self.inner, ready);
        UpgradeFuture { state: State::Bridged { future: Box::pin(bridge(service, request)) } }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`HyperUpgrades`]: the service's own for requests other than CONNECT.
    pub struct UpgradeFuture<F, T> {
        #[pin]
        state: State<F, T>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, T> {
        // Not a CONNECT.
        Direct { #[pin] future: F },
        // A CONNECT, bridged to hyper's upgrade.
        Bridged { future: BoxFuture<T> },
    }
}

impl<F, T> std::fmt::Debug for UpgradeFuture<F, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for UpgradeFuture<F, Result<Response<UpgradeBody<B>>, E>>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<UpgradeBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Direct { future } => {
                future.poll(cx).map(|answer| answer.map(|response| response.map(Either::Left)))
            }
            StateProj::Bridged { future } => future.as_mut().poll(cx),
        }
    }
}

/// Serves one CONNECT request with a hyper `OnUpgrade` in its extensions.
async fn bridge<S, B>(
    mut service: S,
    mut request: Request<RecvBody>,
) -> Result<Response<UpgradeBody<B>>, S::Error>
where
    S: Service<Request<RecvBody>, Response = Response<B>>,
{
    let stream = std::mem::replace(request.body_mut(), RecvBody::empty());
    let Some((ours, on_upgrade, accept)) = hyper_end().await else {
        // The pipe failed (it cannot, short of a bug): the service sees the request
        // without an upgrade, as on a server that has none.
        return service.call(request).await.map(|r| r.map(Either::Left));
    };
    request.extensions_mut().insert(on_upgrade);
    if let Some(protocol) = request.extensions().get::<h2proto::Protocol>() {
        let protocol = hyper::ext::Protocol::from(protocol.as_str());
        request.extensions_mut().insert(protocol);
    }
    let response = service.call(request).await?;
    if !response.status().is_success() {
        // The OnUpgrade fails (hyper's end answers 400 and closes); the answer goes out.
        let _ = accept.send(false);
        return Ok(response.map(Either::Left));
    }
    let _ = accept.send(true);
    let (tunnel, body) = Tunnel::new(stream);
    tokio::spawn(splice(ours, tunnel));
    let (head, _) = response.into_parts();
    Ok(Response::from_parts(head, Either::Right(body)))
}

/// Starts hyper's end of a pipe and asks it to upgrade: returns our end, hyper's
/// `OnUpgrade` for the request, and the switch that tells hyper's end whether to accept.
async fn hyper_end() -> Option<(DuplexStream, hyper::upgrade::OnUpgrade, oneshot::Sender<bool>)> {
    let (mut ours, theirs) = tokio::io::duplex(PIPE_SIZE);
    let (upgrade_tx, upgrade_rx) = oneshot::channel();
    let (accept_tx, accept_rx) = oneshot::channel::<bool>();
    // One request is asked of hyper's end: the first takes the channels.
    let slots = std::sync::Mutex::new(Some((upgrade_tx, accept_rx)));
    let answer = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        let slot = slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        async move {
            let Some((upgrade_tx, accept_rx)) = slot else {
                return Ok::<_, Infallible>(status(StatusCode::BAD_REQUEST));
            };
            let _ = upgrade_tx.send(hyper::upgrade::on(&mut request));
            Ok(match accept_rx.await {
                Ok(true) => {
                    let mut response = status(StatusCode::SWITCHING_PROTOCOLS);
                    let headers = response.headers_mut();
                    headers.insert(http::header::CONNECTION, "upgrade".parse().expect("valid"));
                    headers.insert(http::header::UPGRADE, "h2proto-tunnel".parse().expect("valid"));
                    response
                }
                _ => status(StatusCode::BAD_REQUEST),
            })
        }
    });
    tokio::spawn(
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(theirs), answer)
            .with_upgrades(),
    );
    ours.write_all(UPGRADE_REQUEST).await.ok()?;
    let on_upgrade = upgrade_rx.await.ok()?;
    Some((ours, on_upgrade, accept_tx))
}

fn status(status: StatusCode) -> Response<Empty<Bytes>> {
    let mut response = Response::new(Empty::new());
    *response.status_mut() = status;
    response
}

/// Once hyper's end has answered 101, copies bytes both ways between the pipe and the
/// stream until both directions have ended.
async fn splice(mut ours: DuplexStream, mut tunnel: Tunnel) {
    // hyper's answer, up to its blank line; what follows it is already the tunnel's.
    let mut head = Vec::with_capacity(256);
    let end = loop {
        let mut chunk = [0u8; 512];
        match ours.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if head.len() > MAX_UPGRADE_RESPONSE {
            return;
        }
    };
    if !head.starts_with(b"HTTP/1.1 101") || tunnel.write_all(&head[end..]).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut ours, &mut tunnel).await;
}
