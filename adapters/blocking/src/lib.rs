//! HTTP/2 client and server on `std::net` and threads, driven by the sans-IO
//! [`h2proto`] core.
//!
//! ```
//! use h2proto_blocking::{Client, RequestBody, Server};
//! use std::io::Read;
//!
//! let server = Server::bind("127.0.0.1:0")?.workers(4);
//! let addr = server.local_addr()?;
//! let stop = server.shutdown_handle();
//! let serving = std::thread::spawn(move || {
//!     server.serve(|request: http::Request<RequestBody>| {
//!         http::Response::new(format!("hello from {}", request.uri().path()))
//!     })
//! });
//!
//! let client = Client::connect(addr)?;
//! let response = client.request(http::Request::get("/world").body(())?)?;
//! assert_eq!(response.status(), 200);
//! let response_length = response.headers()["content-length"].clone();
//! let mut text = String::new();
//! response.into_body().read_to_string(&mut text)?;
//! assert_eq!(text, "hello from /world");
//! // A whole body's length goes out as content-length unless the handler set one.
//! assert_eq!(response_length, "17");
//!
//! drop(client);
//! stop.shutdown();
//! serving.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How it works
//!
//! Each connection has a *driver* thread that alone owns the [`h2proto::Connection`]. A
//! reader thread feeds it the socket's bytes, a writer thread writes out what
//! [`transmit`](h2proto::Connection::transmit) yields with vectored writes, and
//! everything else — requests from any number of client threads, responses from handler
//! workers, "consumed n bytes" from bodies — arrives as messages on one channel. The driver
//! waits on that channel no longer than the core's next timer
//! ([`poll_timeout`](h2proto::Connection::poll_timeout)) and calls
//! [`handle_timeout`](h2proto::Connection::handle_timeout) whenever it wakes, so keepalive,
//! idle and shutdown timers work without any timer thread. The client's request timeouts
//! ([`Builder::request_timeout`], [`Builder::stall_timeout`]) are timers of the same
//! loop: the driver sees every byte of each stream, and ends one that ran out of time
//! with RST_STREAM CANCEL through the core.
//!
//! Each connection reports the core's counters, its send window and PING round-trip times
//! ([`ConnectionStats`]): a handler through the [`ConnectionHandle`] among its request's
//! extensions, a client through [`Client::stats`] and [`Client::ping`].
//!
//! Bodies are plain [`std::io::Read`]: [`RecvBody`] on the receiving side, [`Body`] (whole
//! bytes or a reader) on the sending side. Flow control follows the application: received
//! bytes are released to the peer only when read, and a streamed body is read only as fast
//! as the peer accepts it. Nothing in this crate decides anything about the protocol; that
//! is the core's job.
//!
//! # Features
//!
//! - `rustls`: `https://` for the client (`Builder::tls`, the `tls` module): TLS with
//!   ALPN `h2` through rustls and its aws-lc-rs provider, the handshake part of the connect
//!   and bounded by [`Builder::connect_timeout`]. Without it the client speaks h2c only
//!   and refuses `https://` URIs rather than send them in cleartext.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod body;
mod client;
mod driver;
mod error;
mod server;
mod stats;
#[cfg(feature = "rustls")]
pub mod tls;

pub use body::{Body, RecvBody};
pub use client::{Builder, Client, DEFAULT_CONNECT_TIMEOUT, DEFAULT_STALL_TIMEOUT, RequestTimeout};
pub use error::{Error, Timeout};
pub use h2proto::{Config, ErrorCode, Initiator};
pub use server::{Server, ServerStats, ShutdownHandle, listen};
pub use stats::{ConnectionHandle, ConnectionStats};

/// A response body being received (client side).
pub type ResponseBody = RecvBody;
/// A request body being received (server side).
pub type RequestBody = RecvBody;
