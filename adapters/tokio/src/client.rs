//! The client side: open a connection, send requests on it from any number of tasks.
//!
//! [`handshake`] returns a [`SendRequest`] (cheap to clone, `Send`, usable from many tasks
//! at once) and the [`Connection`] future that must be spawned (or otherwise polled) for
//! anything to happen. A request waits while the server's SETTINGS_MAX_CONCURRENT_STREAMS
//! is reached and is opened as soon as a stream closes.
//!
//! Informational (1xx) responses are passed to a callback set with [`on_informational`].
//! When the server refuses a request without processing it (GOAWAY above its stream,
//! REFUSED_STREAM) or the connection was going away before it could be sent, the error
//! says so: [`Error::is_retryable`].

use crate::body::{BoxBody, boxed, pipe};
use crate::driver::{Command, Driver, OnInformational, Open};
use crate::error::{BoxError, Error, ErrorKind};
use crate::{RecvBody, Tunnel};
use h2proto::Config;
use http::{Request, Response};
use http_body::Body;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
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
    handshake_with(io, Config::default())
}

/// [`handshake`] with a configuration.
pub fn handshake_with<I>(io: I, config: Config) -> (SendRequest, Connection<I>)
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    let (driver, tx) = Driver::client(io, config);
    let alive = Arc::new(Alive(tx.clone()));
    (SendRequest { tx, _alive: alive }, Connection { driver })
}

/// Connects over TCP (with `TCP_NODELAY`) and starts an h2c connection.
pub async fn connect(
    addr: impl ToSocketAddrs,
) -> std::io::Result<(SendRequest, Connection<TcpStream>)> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Ok(handshake(tcp))
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

/// Sends requests on one connection. Clone it freely: every clone talks to the same
/// connection task through a channel, without a shared lock.
#[derive(Clone, Debug)]
pub struct SendRequest {
    tx: UnboundedSender<Command>,
    _alive: Arc<Alive>,
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

impl SendRequest {
    /// Sends a request and waits for the response head. The body is sent as the server's
    /// flow control allows; it may end with trailers.
    ///
    /// Waits while the server's concurrent stream limit is reached. An error for a request
    /// the server did not process says so ([`Error::is_retryable`]).
    pub async fn send_request<B>(&self, request: Request<B>) -> Result<Response<RecvBody>, Error>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        self.send_boxed(Request::from_parts(parts, ()), boxed(body)).await
    }

    async fn send_boxed(
        &self,
        mut head: Request<()>,
        body: Option<BoxBody>,
    ) -> Result<Response<RecvBody>, Error> {
        let informational = head.extensions_mut().remove::<Informational>().map(|i| i.0);
        let (respond, response) = oneshot::channel();
        let open = Box::new(Open { head, body, respond, informational });
        if self.tx.send(Command::Open(open)).is_err() {
            return Err(Error::new(ErrorKind::NotSent));
        }
        response.await.unwrap_or_else(|_| Err(Error::new(ErrorKind::Closed)))
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

    /// Whether the connection task has ended.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
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
