//! A production client: [`Client`], requests to any origin over pooled connections.
//!
//! The decisions are the core's [`h2proto::pool`] (sans-IO, shared with the blocking and
//! mio clients); this module only carries them out on tokio: it dials, hands connections
//! to waiting requests, closes what the pool says to close, and runs the pool's timer.
//!
//! - Connections are opened lazily per origin (scheme, host, port), with a connect
//!   timeout. Requests multiplex on a connection up to the server's
//!   SETTINGS_MAX_CONCURRENT_STREAMS, then another connection opens (bounded per origin)
//!   or the request waits in a bounded queue; a full queue fails at once.
//! - A connection that received GOAWAY or ran out of stream ids takes no new request and
//!   is replaced; idle connections close after the idle timeout; past the total bound the
//!   least recently used idle connection is closed.
//! - A request the server did not process (RFC 9113 §8.7: REFUSED_STREAM, a stream above
//!   GOAWAY's last_stream_id, never sent) is sent again, a bounded number of times, when
//!   its body can be replayed: empty bodies always, others when marked with
//!   [`replayable`]. A request that may have been processed is never retried; its
//!   [`ClientError`] says whether a retry is safe.
//! - Failed connects back off exponentially with jitter; a per-origin circuit breaker
//!   fails requests fast after repeated connect failures, and lets a probe through after a
//!   cool-down.
//! - Keepalive PINGs and the core's timeouts come from [`h2proto::Config`]
//!   ([`ClientBuilder::config`], [`ClientBuilder::keepalive`]); the whole request, until
//!   its response head, is bounded by [`ClientBuilder::request_timeout`].
//!
//! A response body ([`ResponseBody`]) holds its stream's place in the pool until it ends
//! or is dropped.
//!
//! The pool's state is behind one mutex per client, taken briefly (never across an
//! await) when a request needs the pool: a connection to open, a wait, a stream given
//! back. Under load, requests skip it: a finished stream stays with its connection as a
//! credit that the next request takes with an atomic operation (`lane.rs` says how the
//! pool still sees every connection's streams, idle time and waiters right). The
//! connections themselves share no lock.
//!
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Empty, Full};
//! use h2proto_tokio::{RecvBody, pool::Client, server};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(server::serve(listener, |_: Request<RecvBody>| async {
//!     Response::new(Full::new(Bytes::from("hi")))
//! }));
//!
//! let client = Client::new();
//! let request = Request::get(format!("http://{addr}/")).body(Empty::<Bytes>::new())?;
//! let response = client.request(request).await?;
//! assert_eq!(response.into_body().collect().await?.to_bytes(), "hi");
//! assert_eq!(client.metrics().connects, 1);
//! # Ok(())
//! # }
//! ```

mod builder;
mod client;
mod error;
mod lane;
mod lease;
mod shared;

pub use builder::ClientBuilder;
pub use client::{Client, replayable};
pub use error::{ClientError, ClientErrorKind};
pub use h2proto::pool::{
    Backoff, BreakerConfig, CheckoutError, CloseReason, Origin, PoolConfig, PoolMetrics, Verdict,
};
pub use lease::ResponseBody;
