//! CONNECT tunnels (RFC 9113 §8.5, RFC 8441 extended CONNECT) on the loop thread.
//!
//! After a 2xx answer to CONNECT, the stream's DATA carries the tunnel's bytes both ways
//! and END_STREAM is a half-close. The loop has no tasks to park a reader or writer on, so
//! a tunnel is a callback: a handler answers CONNECT with [`Body::tunnel`](crate::Body::tunnel),
//! and the loop calls [`Tunnel::drive`] whenever the stream has news — the tunnel opened,
//! bytes arrived, send room opened, the peer half-closed. Each call moves what can move
//! through a [`TunnelIo`] and returns.
//!
//! Backpressure is the core's flow control, both ways: bytes left unread stay with the core
//! and the peer's window is not replenished until they are read, and
//! [`send`](TunnelIo::send) takes only what the send buffer has room for. A tunnel that
//! reads no more than it could send on (the echo below) holds at most one window of bytes,
//! whatever the peer does.
//!
//! ```
//! use bytes::{Buf, Bytes};
//! use h2proto_mio::{Body, TunnelIo};
//!
//! /// Echoes the tunnel's bytes back, reading only once the last piece is sent.
//! fn echo() -> Body {
//!     let mut pending = Bytes::new();
//!     Body::tunnel(move |io: &mut TunnelIo<'_>| {
//!         loop {
//!             let sent = io.send(pending.clone());
//!             pending.advance(sent);
//!             if !pending.is_empty() {
//!                 return; // called again when there is room
//!             }
//!             match io.read() {
//!                 Some(bytes) => pending = bytes,
//!                 None => break,
//!             }
//!         }
//!         if io.is_read_closed() {
//!             io.close();
//!         }
//!     })
//! }
//! ```

use bytes::Bytes;
use h2proto::{Connection, ErrorCode, StreamId};

/// The application side of a tunnel: called on the loop thread with the stream's news (see
/// the module docs). It must not block. It is dropped when the stream ends both ways or is
/// reset, or the connection ends.
///
/// Any `FnMut(&mut TunnelIo<'_>) + Send` closure is a `Tunnel`.
pub trait Tunnel: Send {
    /// Moves what can move now: reads what it can use, sends what there is room for.
    fn drive(&mut self, io: &mut TunnelIo<'_>);
}

impl<F: FnMut(&mut TunnelIo<'_>) + Send> Tunnel for F {
    fn drive(&mut self, io: &mut TunnelIo<'_>) {
        self(io)
    }
}

/// One tunnel stream, for the length of a [`Tunnel::drive`] call.
pub struct TunnelIo<'a> {
    h2: &'a mut Connection,
    id: StreamId,
    ends: &'a mut Ends,
}

/// How far a tunnel stream has ended, as the loop tracks it between calls.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ends {
    /// The peer sent END_STREAM (bytes may still be unread).
    pub(crate) peer: bool,
    /// We sent END_STREAM or reset the stream: nothing more goes out.
    pub(crate) local: bool,
}

impl std::fmt::Debug for TunnelIo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunnelIo").field("stream_id", &self.id).field("ends", &self.ends).finish()
    }
}

impl<'a> TunnelIo<'a> {
    pub(crate) fn new(h2: &'a mut Connection, id: StreamId, ends: &'a mut Ends) -> TunnelIo<'a> {
        TunnelIo { h2, id, ends }
    }

    /// The tunnel's stream.
    pub fn stream_id(&self) -> StreamId {
        self.id
    }

    /// The next bytes from the peer, `None` when none are buffered now. Reading them gives
    /// their room back to the peer's flow-control window; leave them unread to slow it.
    pub fn read(&mut self) -> Option<Bytes> {
        self.h2.read_data(self.id)
    }

    /// Whether the peer has ended its direction: once [`read`](Self::read) returns `None`,
    /// no more bytes come.
    pub fn is_read_closed(&self) -> bool {
        self.ends.peer
    }

    /// Offers bytes to the peer; returns how many were taken (all, or as many as the send
    /// buffer has room for). When fewer were taken, [`Tunnel::drive`] is called again once
    /// there is room. Nothing is taken after [`close`](Self::close) or a reset.
    pub fn send(&mut self, bytes: Bytes) -> usize {
        if self.ends.local || bytes.is_empty() {
            return 0;
        }
        self.h2.send_data(self.id, bytes, false).unwrap_or(0)
    }

    /// Bytes [`send`](Self::send) would take now.
    pub fn send_capacity(&self) -> usize {
        if self.ends.local { 0 } else { self.h2.send_capacity(self.id) }
    }

    /// Ends our direction (END_STREAM), after the bytes already sent. Reading goes on.
    pub fn close(&mut self) {
        if !std::mem::replace(&mut self.ends.local, true) {
            let _ = self.h2.send_data(self.id, Bytes::new(), true);
        }
    }

    /// Ends the tunnel both ways at once with RST_STREAM (CANCEL unless told otherwise).
    pub fn reset(&mut self, code: ErrorCode) {
        self.ends.local = true;
        self.ends.peer = true;
        let _ = self.h2.reset(self.id, code);
    }
}
