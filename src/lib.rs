//! h2proto: a sans-IO HTTP/2 implementation.
//!
//! The crate is a pure state machine: it consumes and produces byte buffers and never
//! touches a socket, a clock, a thread or a runtime. This release contains the wire layer:
//! the frame codec ([`frame`]) and header compression ([`hpack`]).
//!
//! ```
//! use bytes::BytesMut;
//! use h2proto::frame::{Frame, FrameDecoder, Ping};
//!
//! // Encode a PING frame into a caller-owned buffer...
//! let mut wire = BytesMut::new();
//! Frame::Ping(Ping { ack: false, payload: *b"h2proto!" }).encode(&mut wire);
//!
//! // ...and decode it back, in whatever chunks the transport delivers.
//! let mut decoder = FrameDecoder::new();
//! let (first, second) = wire.split_at(4);
//! decoder.extend(first);
//! assert!(decoder.next_frame().unwrap().is_none()); // incomplete
//! decoder.extend(second);
//! let frame = decoder.next_frame().unwrap().expect("one whole frame");
//! assert_eq!(frame, Frame::Ping(Ping { ack: false, payload: *b"h2proto!" }));
//! ```
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
mod semantics;
mod streams;

pub use config::{Config, RateLimit};
pub use connection::{Connection, PREFACE, PeerSettings, Role, Stats, Transmit, buf_to_vec};
pub use error::{ConnectionError, ErrorCode, Initiator, ProtocolError, Scope, UserError};
pub use event::Event;
pub use frame::StreamId;
pub use semantics::Protocol;
pub use streams::state;
