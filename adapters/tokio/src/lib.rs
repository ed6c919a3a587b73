//! h2proto-tokio: HTTP/2 client and server on tokio, a thin adapter over the sans-IO
//! [`h2proto`] core.
//!
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Empty, Full};
//! use h2proto_tokio::{RecvBody, client, server};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A server on an ephemeral port: hello on any path.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(server::serve(listener, |request: Request<RecvBody>| async move {
//!     let body = format!("hello from {}\n", request.uri().path());
//!     Response::new(Full::new(Bytes::from(body)))
//! }));
//!
//! // A client: spawn the connection task, then send requests from any task.
//! let (send, connection) = client::connect(addr).await?;
//! tokio::spawn(connection);
//! let request = Request::get(format!("http://{addr}/greeting")).body(Empty::<Bytes>::new())?;
//! let response = send.send_request(request).await?;
//! assert_eq!(response.status(), 200);
//! let body = response.into_body().collect().await?.to_bytes();
//! assert_eq!(body, "hello from /greeting\n");
//! # Ok(())
//! # }
//! ```
//!
//! # Design
//!
//! The core owns protocol truth; this crate only moves bytes and time and translates events
//! (adapters are thin: see the contract in the [`h2proto`] crate docs). Each connection has one task, the only
//! owner of its `h2proto::Connection`; request, response and body handles talk to it
//! through a channel and per-stream state, never through a lock shared by all streams, so
//! one connection scales across cores. The task reads 64 KiB at a time into `Bytes` that
//! the core slices without copying, writes the core's output with vectored writes, and
//! drives the core's timers (keepalive PING, idle timeout, SETTINGS and shutdown timeouts
//! all come from [`h2proto::Config`]).
//!
//! Bodies: any [`http_body::Body`] is sent, polled only when its stream can take more
//! data; received bodies are [`RecvBody`], whose reading returns flow-control credit to the
//! peer, so a slow reader slows the sender (see [`RecvBody`]). Trailers go both ways. The
//! adapter manages receive credit itself (it runs the core with
//! `Config::auto_release_capacity = false`): credit goes back as the application reads,
//! in batches, so the peer is never more than one window ahead of the reader.
//!
//! - [`server`]: [`server::serve`], [`server::Server`] for any transport, graceful
//!   shutdown, informational responses.
//! - [`client`]: [`client::handshake`] / [`client::connect`] / [`client::Builder`],
//!   [`client::SendRequest`] with backpressure (`ready`, `try_send_request`) and
//!   cancellation (a dropped request or response body resets its stream with CANCEL).
//! - [`pool`]: [`pool::Client`], the production client: pooled connections per origin,
//!   retries as RFC 9113 §8.7 allows, backoff, circuit breaker, `tower::Service`.
//! - [`Tunnel`]: a CONNECT / extended CONNECT (RFC 8441) stream as `AsyncRead +
//!   AsyncWrite`, e.g. for WebSockets over HTTP/2.
//! - [`service`]: tower services (axum, tonic, tower-http) as handlers, per-connection
//!   services (axum's `ConnectInfo`), `!Send` services on a `LocalSet`.
//! - `tls` (feature `rustls`): ALPN `h2` configurations, `serve_tls`, `tls::connect`.
//! - Feature `tracing`: a span per connection (`h2 connection`: `role`, `peer`) and per
//!   request handler (`h2 stream`: `id`, `method`, `path`), events (at debug level) for
//!   GOAWAY sent and received, RST_STREAM sent and received with their codes, flow-control
//!   stalls and streams reset for protocol errors, and warnings for connection errors,
//!   accept errors, the drain deadline and connection-specific fields left out of a
//!   message. Without the feature none of it is compiled.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod body;
pub mod client;
mod driver;
mod error;
mod exchange;
pub mod pool;
pub mod server;
pub mod service;
mod slots;
mod stats;
#[cfg(feature = "rustls")]
pub mod tls;
mod trace;
mod tunnel;

pub use body::{RecvBody, TunnelBody};
pub use error::{BoxError, Error, ErrorKind};
pub use h2proto::{Config, ErrorCode, Initiator, Protocol};
pub use stats::ConnectionStats;
pub use tunnel::Tunnel;
