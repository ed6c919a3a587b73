//! h2proto: a sans-IO HTTP/2 implementation.
//!
//! The core is a pure state machine: framing, HPACK, flow control, stream states, settings
//! and HTTP semantics. It consumes and produces byte buffers and never touches a socket, a
//! clock, a thread or a runtime; adapters (tokio, std threads, mio) move the bytes.
//!
//! ```
//! use bytes::Buf;
//! use h2proto::{Config, Connection, Event};
//!
//! let mut client = Connection::client(Config::default());
//! let mut server = Connection::server(Config::default());
//!
//! // Bytes written by one side are read by the other: here, in memory.
//! fn pump(from: &mut Connection, to: &mut Connection) {
//!     let out = from.transmit();
//!     while out.has_remaining() {
//!         let chunk = out.copy_to_bytes(out.chunk().len());
//!         to.recv(chunk, std::time::Instant::now()).unwrap();
//!     }
//! }
//!
//! let request = http::Request::get("https://example.com/hello").body(()).unwrap();
//! let stream = client.send_request(request, true).unwrap();
//! pump(&mut client, &mut server);
//!
//! while let Some(event) = server.poll_event() {
//!     if let Event::Request { stream_id, request, .. } = event {
//!         assert_eq!(request.uri().path(), "/hello");
//!         server.send_response(stream_id, http::Response::new(()), false).unwrap();
//!         server.send_data(stream_id, "hi!".into(), true).unwrap();
//!     }
//! }
//! pump(&mut server, &mut client);
//!
//! let mut body = Vec::new();
//! while let Some(event) = client.poll_event() {
//!     if let Event::Data { stream_id, .. } = event {
//!         while let Some(chunk) = client.read_data(stream_id) {
//!             body.extend_from_slice(&chunk);
//!         }
//!     }
//! }
//! assert_eq!(body, b"hi!");
//! # let _ = stream;
//! ```
//!
//! # The contract
//!
//! What every adapter and every user can rely on, and what the tests, the fuzz targets
//! and the conformance suite hold the core to:
//!
//! 1. **Determinism.** The same input bytes, split anywhere (one byte or a megabyte at a
//!    time), give the same events and the same output. Time is an input too: it enters
//!    only through [`Connection::recv`] and [`Connection::handle_timeout`], never from a
//!    clock read inside.
//! 2. **No panic on peer input.** Any byte sequence from the peer yields progress or the
//!    reaction RFC 9113 requires: a connection error (GOAWAY with the right code) or a
//!    stream error (RST_STREAM). A panic or overflow on peer input is a bug.
//! 3. **Bounded memory.** Every buffer, table and queue a peer can grow has a limit in
//!    [`Config`] with a default and its reason; abuse ends in GOAWAY ENHANCE_YOUR_CALM,
//!    not growth (rapid reset, CONTINUATION floods, HPACK bombs, SETTINGS/PING/empty-frame
//!    floods, window games, stream churn, a budget of protocol glitches).
//! 4. **Zero-copy where it matters.** Received DATA payloads are `Bytes` slices of the
//!    input (small ones are copied so they do not pin large reads); sent DATA is queued as
//!    the caller's `Bytes` and handed out as vectored slices by [`Connection::transmit`].
//! 5. **HTTP semantics here, not in adapters.** RFC 9113 §8 (pseudo-header fields,
//!    lowercase names, connection-specific fields, `te`, content-length against DATA) is
//!    checked in the core, so every adapter gets the same rules; the API speaks the `http`
//!    crate's types.
//! 6. **Both roles**, with trailers, 1xx responses, CONNECT and extended CONNECT
//!    (RFC 8441), RFC 9218 priorities and graceful GOAWAY.
//!
//! Adapters are thin: they move bytes and time and translate [`Event`]s into their
//! runtime's idioms; no protocol decision lives in them.
//!
//! Where things are: [`Connection`] (how to drive it is on the type), [`Config`] (every
//! limit, with its default and reason), [`Event`], [`frame`] (the wire format, with
//! [`frame::RawFrame`] for writing invalid frames in tests), [`hpack`] (header
//! compression), [`state`] (the stream state table of RFC 9113 §5.1), [`pool`] (the client
//! pool's policy over many connections, sans-IO like the rest).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod config;
mod connection;
mod error;
mod event;
pub mod flow;
pub mod frame;
pub mod hpack;
pub mod pool;
mod semantics;
mod streams;

pub use config::{Config, ConfigError, RateLimit};
pub use connection::{Connection, PREFACE, PeerSettings, Role, Stats, Transmit, buf_to_vec};
pub use error::{
    ConnectionError, ConnectionErrorKind, ErrorCode, Initiator, ProtocolError, Scope, UserError,
};
pub use event::Event;
pub use frame::StreamId;
pub use semantics::{HeaderPool, Origin, Protocol};
pub use streams::state;
