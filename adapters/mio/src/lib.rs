//! HTTP/2 on a hand-written [mio] event loop, driven by the sans-IO [`h2proto`] core: the
//! "bring your own event loop" showcase.
//!
//! ```
//! use bytes::Bytes;
//! use h2proto_mio::{Client, Server};
//! use http::{Request, Response};
//!
//! let server = Server::bind("127.0.0.1:0")?;
//! let addr = server.local_addr()?;
//! let stop = server.shutdown_handle();
//! let serving = std::thread::spawn(move || {
//!     server.serve(|request: Request<Bytes>| match request.uri().path() {
//!         "/echo" => Response::new(request.into_body()),
//!         _ => Response::new(Bytes::from("hello")),
//!     })
//! });
//!
//! let client = Client::connect(addr)?;
//! let response = client.request(Request::post("/echo").body(Bytes::from("ping"))?)?;
//! assert_eq!(response.body(), "ping");
//! // A whole body's length goes out as content-length unless the handler set one.
//! assert_eq!(response.headers()["content-length"], "4");
//!
//! drop(client);
//! stop.shutdown();
//! serving.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Embedding h2proto in your own loop
//!
//! [`Connection`] is one server connection you drive from your own `mio::Poll`, with your
//! token and registry, next to whatever else the loop serves (see its module docs and the
//! `mio-embed` example: HTTP/2 and a TCP echo on one thread). It runs the same code as the
//! built-in loop, described next.
//!
//! Three files hold the loop. `conn.rs` drives one connection: on readiness it reads
//! until `WouldBlock` or a short read (the socket is empty then) into
//! [`Connection::recv`](h2proto::Connection::recv), calls
//! [`handle_timeout`](h2proto::Connection::handle_timeout), turns events into handler
//! calls or callbacks, and writes [`transmit`](h2proto::Connection::transmit) with
//! `write_vectored` over `chunks_vectored` until `WouldBlock`. `event_loop.rs` owns the
//! `mio::Poll`: it sleeps until the earliest [`poll_timeout`](h2proto::Connection::poll_timeout)
//! of all connections, accepts, and drives the connections that have news. `server.rs`
//! runs one such loop per thread, each with an SO_REUSEPORT listener on the same port.
//! Around them: `embed.rs` ([`Connection`]) hands `conn.rs` to your loop, `tunnel.rs`
//! carries CONNECT streams, `read_arena.rs` is where reads land, `client.rs` ([`Client`])
//! runs a loop of its own for requests, and `error.rs` ([`Error`]) says why one failed.
//! A server can hand its handler each request's peer address ([`Server::remote_addr`],
//! [`RemoteAddr`]).
//!
//! # The client
//!
//! [`Client`] follows the core's [`RetryPolicy`](h2proto::pool::RetryPolicy), as the tokio
//! and blocking clients do (RFC 9113 §8.7): what the server certainly did not process
//! (REFUSED_STREAM, above a GOAWAY's last stream id, never sent) is sent again, a bounded
//! number of times and only with a body that can be replayed; on a fresh connection when
//! the old one is going away. Everything else reaches the caller as a typed [`Error`]
//! whose [`is_retry_safe`](Error::is_retry_safe) says whether sending it again is safe.
//! The decision is made on the loop thread, where the failure is seen, and a fresh
//! connection is a non-blocking connect: retrying never blocks the loop.
//!
//! It also heals (issue 15), with the same sans-IO policy as the tokio pool, so the two
//! behave alike: a connection that ended is replaced; a keepalive PING left unanswered
//! ([`ClientBuilder::keepalive`]) finds a server gone silent, idle or not, and fails the
//! requests on it with [`Error::is_keepalive_timeout`]; a connect has a timeout
//! ([`ClientBuilder::connect_timeout`], 10 s by default: [`ErrorKind::ConnectTimeout`]);
//! failed connects back off exponentially with jitter
//! ([`Backoff`](h2proto::pool::Backoff)) while requests wait, and after several in a row the
//! core's circuit breaker ([`Breaker`](h2proto::pool::Breaker)) fails requests at once
//! ([`ErrorKind::BreakerOpen`]) until a probe after the cool-down finds the server back.
//! A request can be bounded in all ([`ClientBuilder::request_timeout`], or
//! [`RequestTimeout`] per request) and its response must not stall
//! ([`ClientBuilder::stall_timeout`], 60 s by default): either fails it with
//! [`ErrorKind::TimedOut`] and resets its stream with CANCEL, the connection kept.
//! `builder.rs` ([`ClientBuilder`]) holds the knobs; `reconnect.rs` drives the breaker and
//! backoff with the loop's clock and keeps the requests waiting for a connect;
//! `timeouts.rs` keeps the request timers without looking at every stream each turn.
//!
//! With the `rustls` feature it speaks `https://` (`ClientBuilder::tls`, the `tls` module):
//! ALPN `h2` required (RFC 9113 §3.3), the server's name as SNI; the first handshake is
//! part of the connect, a replacement's is driven by the loop like any other bytes
//! (`tls_layer.rs`), bounded by the connect timeout.
//!
//! Handlers and callbacks run on the loop thread, so they must not block. Bodies are
//! whole [`Bytes`], bounded by a maximum size; a response body can also be
//! streamed with [`Body::from_chunks`], whose chunks are pulled only when flow control has
//! room, so a slow client never makes the server buffer more than its send window.
//! A CONNECT (RFC 9113 §8.5, extended CONNECT for WebSockets, RFC 8441) is handed to the
//! handler at its head and answered with [`Body::tunnel`]: a [`Tunnel`] callback then
//! exchanges the stream's bytes both ways, paced by flow control. The server advertises
//! SETTINGS_ENABLE_CONNECT_PROTOCOL when [`Config::enable_connect_protocol`] is set.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod builder;
mod client;
mod conn;
mod embed;
mod error;
mod event_loop;
mod read_arena;
mod reconnect;
mod server;
mod timeouts;
#[cfg(feature = "rustls")]
pub mod tls;
mod tls_layer;
mod tunnel;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use std::fmt;

pub use builder::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_WAITING, DEFAULT_STALL_TIMEOUT,
};
pub use client::{Client, RequestTimeout};
pub use embed::Connection;
pub use error::{Error, ErrorKind, Timeout};
pub use h2proto::{Config, StreamId};
pub use server::{Server, ServerStats, ShutdownHandle};
pub use tunnel::{Tunnel, TunnelIo};

/// The largest body gathered by default.
const DEFAULT_MAX_BODY: usize = 16 << 20;

/// Trailers of a whole-body message, carried in its extensions: found on received
/// requests and responses, sent when put on outgoing ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trailers(pub HeaderMap);

/// The address of the peer a request came from, in its extensions when the server was
/// asked for it ([`Server::remote_addr`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RemoteAddr(pub std::net::SocketAddr);

/// A response body: whole bytes, or chunks pulled as the peer's flow control allows.
///
/// A whole body's length is sent as `content-length` (unless the response has one, or may
/// not carry one: HEAD, 1xx, 204, 304, 2xx to CONNECT); a chunked body goes without,
/// unless the handler sets it.
pub struct Body {
    full: Bytes,
    chunks: Option<Box<dyn Iterator<Item = Bytes> + Send>>,
    tunnel: Option<Box<dyn Tunnel>>,
}

impl Body {
    /// A body streamed from `chunks`. The loop pulls the next chunk only when the previous
    /// one has been accepted, so the iterator sets the pace and memory stays bounded. It
    /// runs on the loop thread: each `next` must return promptly.
    pub fn from_chunks(chunks: impl Iterator<Item = Bytes> + Send + 'static) -> Body {
        Body { full: Bytes::new(), chunks: Some(Box::new(chunks)), tunnel: None }
    }

    /// The body of a 2xx answer to CONNECT (RFC 9113 §8.5, RFC 8441): the stream stays open
    /// both ways and `tunnel` exchanges its bytes (see [`Tunnel`]). The response goes out
    /// without END_STREAM and without `content-length`.
    pub fn tunnel(tunnel: impl Tunnel + 'static) -> Body {
        Body { full: Bytes::new(), chunks: None, tunnel: Some(Box::new(tunnel)) }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let streamed = self.chunks.is_some();
        f.debug_struct("Body")
            .field("len", &self.full.len())
            .field("streamed", &streamed)
            .field("tunnel", &self.tunnel.is_some())
            .finish()
    }
}

impl From<Bytes> for Body {
    fn from(full: Bytes) -> Body {
        Body { full, chunks: None, tunnel: None }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Body {
        Body::from(Bytes::from(v))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::from(Bytes::from(s))
    }
}

/// A server's request handler, as the loops share it.
type Handler = dyn Fn(Request<Bytes>) -> Response<Body> + Send + Sync;
/// Where a client's response goes.
type ResponseCallback = Box<dyn FnOnce(Result<Response<Bytes>, Error>) + Send>;
