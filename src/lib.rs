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
