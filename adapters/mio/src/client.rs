//! The client: requests run on a loop thread of their own, over one connection at a time,
//! retried as the core's [`RetryPolicy`] says (RFC 9113 §8.7), with connections replaced
//! as the core's breaker and backoff allow (`reconnect.rs`).
//!
//! The retry decision is made where the failure is seen, on the loop thread: a connection
//! that fails a request hands it to [`settle`], which asks the policy and either calls the
//! caller back with the error or returns the request, which the loop sends again on the
//! connection that takes new requests (a fresh one when the old one is going away or gone,
//! opened with a non-blocking connect, so the loop never waits). Nothing blocks and no
//! request goes back through the caller's thread.

use crate::builder::{ClientBuilder, Options};
use crate::error::{Error, ErrorKind};
use crate::event_loop::{ClientSide, Cmd, Loop, Remote};
use crate::{Body, DEFAULT_MAX_BODY, ResponseCallback, Trailers};
use bytes::Bytes;
use h2proto::pool::{RetryPolicy, Verdict};
use h2proto::{Config, Protocol, UserError};
use http::{HeaderMap, Request, Response};
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// The request timeout of one request, in place of
/// [`ClientBuilder::request_timeout`]: put it among the request's extensions (`None` for
/// no bound).
///
/// ```no_run
/// use h2proto_mio::{Client, RequestTimeout};
/// use std::time::Duration;
///
/// let client = Client::connect("127.0.0.1:8080")?;
/// let mut request = http::Request::get("/slow").body("")?;
/// request.extensions_mut().insert(RequestTimeout(Some(Duration::from_secs(2))));
/// let response = client.request(request)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<Duration>);

/// The chunks of a streamed request body.
pub(crate) type Chunks = Box<dyn Iterator<Item = Bytes> + Send>;

/// An HTTP/2 client of one server, driven by a mio loop thread.
///
/// `Client` is `Clone + Send + Sync`; all clones share the loop and its connection.
/// Requests carry a [`Body`] (whole bytes, or chunks pulled as flow control allows) and
/// get whole responses ([`Trailers`] in the extensions). Requests beyond the server's
/// SETTINGS_MAX_CONCURRENT_STREAMS wait in the client.
///
/// Retries follow RFC 9113 §8.7 through the core's [`RetryPolicy`] (the one the tokio and
/// blocking clients use): a request the server certainly did not process (REFUSED_STREAM,
/// above a GOAWAY's last stream id, or never sent because its connection was going away or
/// gone) is sent again, at most [`RetryPolicy::max_retries`] times, when its body can be
/// replayed (whole bytes can; chunks already pulled cannot). It goes on the connection
/// that takes new requests: the same one if it is healthy (a refused stream), a fresh one
/// when it received GOAWAY, ran out of stream ids or ended. When a request that was not
/// processed is not sent again, the error is [`ErrorKind::NotRetried`] with the reason;
/// [`Error::is_retry_safe`] is true. Anything that may have been processed is never sent
/// again: the caller gets the error and decides.
///
/// The client heals: a connection that ended (closed, reset, or found dead by a keepalive
/// PING left unanswered, see [`ClientBuilder::keepalive`]) is replaced by the next request.
/// A fresh connection must be established within the connect timeout (10 s by default);
/// one that cannot be fails the requests given to it with [`ErrorKind::Connect`] or
/// [`ErrorKind::ConnectTimeout`] (nothing was sent: safe to retry, but not retried here:
/// the server is not reachable now). Failed connects are paced by the core's [`Backoff`]
/// (requests arriving meanwhile wait, then share the next connect) and counted by its
/// [`Breaker`]: after enough of them in a row requests fail at once with
/// [`ErrorKind::BreakerOpen`] until the cool-down is over and a probe connect succeeds.
/// See [`ClientBuilder`] for the knobs.
///
/// A request that takes too long in all ([`ClientBuilder::request_timeout`],
/// [`RequestTimeout`]) or whose response stops coming ([`ClientBuilder::stall_timeout`],
/// 60 s by default) fails with [`ErrorKind::TimedOut`]; the loop times both, resets the
/// stream with CANCEL and keeps the connection for the other requests.
///
/// When the last clone is dropped the connections end gracefully once the requests handed
/// over are answered, and the loop thread exits.
///
/// [`Backoff`]: h2proto::pool::Backoff
/// [`Breaker`]: h2proto::pool::Breaker
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    remote: Remote,
    counters: Arc<Counters>,
    /// The connections speak TLS (`https://` requests may go).
    tls: bool,
    request_timeout: Option<Duration>,
}

/// What the loop counts for [`Client::connects`] and [`Client::retries`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) connects: AtomicU64,
    pub(crate) retries: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.remote.send(Cmd::Shutdown);
    }
}

impl Client {
    /// Connects to `addr` with the default [`Config`].
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<Client> {
        Client::builder(addr).connect()
    }

    /// Connects to `addr` with `config`. Response bodies over 16 MiB fail the request.
    pub fn connect_with(addr: impl ToSocketAddrs, config: Config) -> io::Result<Client> {
        Client::builder(addr).config(config).connect()
    }

    /// Connects to `addr` with `config`, sending unprocessed requests again as `retry`
    /// says. The first connection is made here (its failure is this call's error); later
    /// ones, when a connection ended, by the loop.
    pub fn connect_with_retry(
        addr: impl ToSocketAddrs,
        config: Config,
        retry: RetryPolicy,
    ) -> io::Result<Client> {
        Client::builder(addr).config(config).retry(retry).connect()
    }

    /// A client of `addr` configured beyond the defaults: connect timeout, backoff,
    /// circuit breaker, keepalive, retries (see [`ClientBuilder`]).
    pub fn builder(addr: impl ToSocketAddrs) -> ClientBuilder {
        ClientBuilder::new(addr)
    }

    /// A client of exactly one connection, the level of hyper's `client::conn`: it is
    /// never replaced and nothing is sent again (a request the server did not process
    /// fails with [`ErrorKind::NotRetried`]); once it has ended, requests fail with
    /// [`ErrorKind::NotSent`]. For callers that run their own pool or retries.
    pub fn connect_single(addr: impl ToSocketAddrs, config: Config) -> io::Result<Client> {
        let single = |o: &mut Options| {
            (o.retry, o.replace) = (RetryPolicy { max_retries: 0 }, false);
        };
        Client::builder(addr).config(config).options(single).connect()
    }

    /// Makes the first connection (within the connect timeout, trying each address in
    /// turn) and starts the loop thread.
    pub(crate) fn start(addrs: &[SocketAddr], options: Options) -> io::Result<Client> {
        let config = &options.config;
        config.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let timeout = options.connect_timeout;
        let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
        let mut connected = None;
        for addr in addrs {
            match TcpStream::connect_timeout(addr, timeout) {
                Ok(socket) => {
                    connected = Some(socket);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    last = Error::new(ErrorKind::ConnectTimeout { timeout }).into();
                }
                Err(e) => last = e,
            }
        }
        #[allow(unused_mut)] // the TLS handshake needs it
        let mut socket = connected.ok_or(last)?;
        socket.set_nodelay(true)?;
        // The first handshake is part of the connect: its failure is this call's error.
        #[cfg(feature = "rustls")]
        let session = match &options.tls {
            Some(tls) => Some(crate::tls::Session::client(tls, &mut socket, timeout)?),
            None => None,
        };
        #[cfg(not(feature = "rustls"))]
        let session = None;
        socket.set_nonblocking(true)?;
        let tls = session.is_some();
        let counters = Arc::new(Counters::default());
        let request_timeout = options.request_timeout;
        let side = ClientSide::new(socket.peer_addr()?, options, DEFAULT_MAX_BODY, &counters);
        let mut event_loop = Loop::new()?;
        event_loop.client(side, socket, session)?;
        let remote = event_loop.remote();
        thread::Builder::new().name("h2-mio-client".into()).spawn(move || event_loop.run())?;
        Ok(Client { inner: Arc::new(Inner { remote, counters, tls, request_timeout }) })
    }

    /// Connections opened so far (the first included).
    pub fn connects(&self) -> u64 {
        self.inner.counters.connects.load(Ordering::Relaxed)
    }

    /// The core's counters (frames, bytes, streams, resets, PINGs) of the current
    /// connection, the one that takes new requests. `None` when it has ended (the next
    /// request opens another) or the loop is gone. Never connects.
    pub fn stats(&self) -> Option<h2proto::Stats> {
        let (tx, rx) = mpsc::channel();
        self.inner.remote.send(Cmd::ClientStats(tx)).ok()?;
        rx.recv().ok().flatten()
    }

    /// Requests sent again because the server had not processed them.
    pub fn retries(&self) -> u64 {
        self.inner.counters.retries.load(Ordering::Relaxed)
    }

    /// Sends a request; `on_response` runs on the loop thread with the whole response (so
    /// it must not block, nor call [`request`](Self::request)). A URI without scheme and
    /// authority (`/path`) goes to the connected address over `http://` (to
    /// `https://server_name[:port]` with TLS); an `https://` URI on a client without TLS is
    /// refused ([`ErrorKind::TlsUnavailable`]). A whole
    /// body's length is sent as `content-length`; a [`Body::from_chunks`] body is pulled as
    /// flow control allows, and once pulled cannot be replayed. A [`Body::tunnel`] is for
    /// servers and is refused.
    ///
    /// The builder's [`request_timeout`](ClientBuilder::request_timeout) (counted from
    /// this call) and [`stall_timeout`](ClientBuilder::stall_timeout) bound the request;
    /// either ends in [`ErrorKind::TimedOut`]. A [`RequestTimeout`] among the request's
    /// extensions replaces the builder's request timeout for this request.
    pub fn send<B: Into<Body>>(
        &self,
        request: Request<B>,
        on_response: impl FnOnce(Result<Response<Bytes>, Error>) + Send + 'static,
    ) {
        let (mut parts, body) = request.into_parts();
        if parts.uri.scheme() == Some(&http::uri::Scheme::HTTPS) && !self.inner.tls {
            // No TLS here: sending it in cleartext would expose what was meant to be private.
            return on_response(Err(Error::new(ErrorKind::TlsUnavailable)));
        }
        let Body { full, chunks, tunnel } = body.into();
        if tunnel.is_some() {
            let refused = UserError::NotAllowed("a tunnel body is a server's answer to CONNECT");
            return on_response(Err(Error::new(ErrorKind::Request(refused))));
        }
        let trailers = parts.extensions.remove::<Trailers>().map(|t| t.0);
        let timeout =
            parts.extensions.remove::<RequestTimeout>().map_or(self.inner.request_timeout, |t| t.0);
        // Past what an `Instant` can hold is no bound.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let out = Outgoing {
            head: Request::from_parts(parts, ()),
            body: full,
            chunks,
            trailers,
            callback: Box::new(on_response),
            retries: 0,
            replayable: true,
            deadline,
        };
        if let Err(Cmd::Request(out)) = self.inner.remote.send(Cmd::Request(Box::new(out))) {
            (out.callback)(Err(Error::not_sent(Error::new(ErrorKind::Closed))));
        }
    }

    /// Sends a request and waits for the whole response.
    pub fn request<B: Into<Body>>(&self, request: Request<B>) -> Result<Response<Bytes>, Error> {
        let (tx, rx) = mpsc::channel();
        self.send(request, move |response| {
            let _ = tx.send(response);
        });
        rx.recv().unwrap_or_else(|_| Err(Error::new(ErrorKind::Closed)))
    }
}

/// A request on its way: what is sent, where its response goes, and how often it was sent
/// again.
pub(crate) struct Outgoing {
    /// The head, kept to send it again (each attempt sends a copy).
    head: Request<()>,
    body: Bytes,
    /// A streamed body's chunks, until an attempt takes them.
    chunks: Option<Chunks>,
    trailers: Option<HeaderMap>,
    pub(crate) callback: ResponseCallback,
    retries: u32,
    /// Whether the body can be produced again (not if an attempt pulled its chunks).
    replayable: bool,
    /// When the whole request must be over (the request timeout); retries share it.
    pub(crate) deadline: Option<Instant>,
}

impl Outgoing {
    /// A bodiless GET whose outcome goes to `callback` (for the loop's unit tests).
    #[cfg(test)]
    pub(crate) fn get(callback: ResponseCallback) -> Outgoing {
        let head = Request::new(());
        let (body, chunks, trailers, retries) = (Bytes::new(), None, None, 0);
        let deadline = None;
        Outgoing { head, body, chunks, trailers, callback, retries, replayable: true, deadline }
    }

    /// What one attempt sends: a copy of the head, the body, the chunks of a streamed
    /// body (taken: they are pulled once, so the request cannot be replayed after this),
    /// the trailers.
    pub(crate) fn open(&mut self) -> (Request<()>, Bytes, Option<Chunks>, Option<HeaderMap>) {
        let chunks = self.chunks.take();
        self.replayable &= chunks.is_none();
        (copy_head(&self.head), self.body.clone(), chunks, self.trailers.clone())
    }

    /// Gives back what [`open`](Self::open) took, for an attempt refused before anything
    /// was written.
    pub(crate) fn unopen(&mut self, chunks: Option<Chunks>) {
        if chunks.is_some() {
            (self.chunks, self.replayable) = (chunks, true);
        }
    }
}

/// A request failed with `error`: RFC 9113 §8.7 through `retry`. Returns it when it is to
/// be sent again (the server did not process it, its body can be replayed, retries are
/// left); otherwise calls its caller back with the error, saying why a request that was
/// not processed was not sent again.
pub(crate) fn settle(retry: &RetryPolicy, mut out: Outgoing, error: Error) -> Option<Outgoing> {
    match retry.verdict(error.failure(), out.replayable, out.retries) {
        Verdict::Retry => {
            out.retries += 1;
            Some(out)
        }
        Verdict::NotSafe => {
            (out.callback)(Err(error));
            None
        }
        verdict => {
            let kind = ErrorKind::NotRetried { error: Box::new(error), verdict };
            (out.callback)(Err(Error::new(kind)));
            None
        }
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
