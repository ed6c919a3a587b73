//! Diagnostics: `tracing` spans and events behind the `tracing` feature. Every function
//! here is empty without the feature, so call sites cost nothing then and need no `cfg`.

use std::io;
use std::time::Duration;

/// `accept` failed with a shortage; the server pauses for `pause`.
#[inline]
pub(crate) fn accept_error(error: &io::Error, pause: Duration) {
    #[cfg(feature = "tracing")]
    tracing::warn!(%error, pause_ms = pause.as_millis() as u64, "accept failed; pausing");
    #[cfg(not(feature = "tracing"))]
    let _ = (error, pause);
}

/// The drain deadline of a graceful shutdown passed with `left` connections still open.
#[inline]
pub(crate) fn drain_deadline(left: usize) {
    #[cfg(feature = "tracing")]
    tracing::warn!(connections = left, "drain deadline passed; closing the connections left");
    #[cfg(not(feature = "tracing"))]
    let _ = left;
}

/// The core left `count` connection-specific fields out of a message sent on stream `id`
/// (RFC 9113 §8.2.2), as hyper does.
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn fields_stripped(id: h2proto::StreamId, what: &'static str, count: u64) {
    if count > 0 {
        tracing::warn!(
            stream = id.0,
            count,
            "connection-specific fields (connection, keep-alive, proxy-connection, \
             transfer-encoding, upgrade, te) removed from a {what}: HTTP/2 forbids them"
        );
    }
}

/// A message the application gave could not be sent; its stream is reset.
#[inline]
pub(crate) fn invalid_message(id: h2proto::StreamId, what: &'static str, why: &'static str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(stream = id.0, reason = why, "invalid {what}: stream reset with INTERNAL_ERROR");
    #[cfg(not(feature = "tracing"))]
    let _ = (id, what, why);
}

/// A connection's span and what its events were last compared against. The core counts
/// what it does on its own (GOAWAY sent, flow-control stalls, stream protocol errors) in
/// its `Stats`; after each turn the driver reports what changed.
#[cfg(feature = "tracing")]
pub(crate) struct ConnTrace {
    /// `h2 connection` with `role` and `peer`: entered while the connection is driven, the
    /// parent of its stream spans.
    pub(crate) span: tracing::Span,
    seen: h2proto::Stats,
}

#[cfg(feature = "tracing")]
impl ConnTrace {
    pub(crate) fn new(role: &'static str) -> ConnTrace {
        let span = tracing::debug_span!("h2 connection", role, peer = tracing::field::Empty);
        ConnTrace { span, seen: h2proto::Stats::default() }
    }

    /// Names the peer (when the transport has an address).
    pub(crate) fn peer(&self, peer: std::net::SocketAddr) {
        self.span.record("peer", tracing::field::display(peer));
    }

    /// A span for one stream's handler, child of the connection's.
    pub(crate) fn stream(
        &self,
        id: h2proto::StreamId,
        request: &http::Request<()>,
    ) -> tracing::Span {
        tracing::debug_span!(
            parent: &self.span,
            "h2 stream",
            id = id.0,
            method = %request.method(),
            path = request.uri().path()
        )
    }

    /// Reports what the core did on its own since the last look.
    pub(crate) fn after_turn(&mut self, conn: &h2proto::Connection) {
        let stats = conn.stats();
        if stats.goaways_sent != self.seen.goaways_sent {
            let (code, reason) = match conn.error() {
                Some(e) => (e.code, e.reason.as_ref()),
                None => (h2proto::ErrorCode::NO_ERROR, "graceful"),
            };
            tracing::debug!(code = %code, reason, "GOAWAY sent");
        }
        if stats.flow_control_stalls != self.seen.flow_control_stalls {
            tracing::debug!(
                stalls = stats.flow_control_stalls,
                connection_window = conn.connection_send_window(),
                "sending stalled on flow control"
            );
        }
        if stats.resets_sent_protocol != self.seen.resets_sent_protocol {
            tracing::debug!(
                count = stats.resets_sent_protocol - self.seen.resets_sent_protocol,
                "streams reset for protocol errors"
            );
        }
        self.seen.clone_from(stats);
    }
}

/// The peer broke a connection-level rule; the core queued GOAWAY.
#[inline]
pub(crate) fn protocol_error(error: &h2proto::ConnectionError) {
    #[cfg(feature = "tracing")]
    tracing::warn!(code = %error.code, reason = %error.reason, "connection error");
    #[cfg(not(feature = "tracing"))]
    let _ = error;
}

/// The core reported a stream reset (by us or by the peer).
#[inline]
pub(crate) fn reset(id: h2proto::StreamId, code: h2proto::ErrorCode, by: h2proto::Initiator) {
    #[cfg(feature = "tracing")]
    match by {
        h2proto::Initiator::Remote => {
            tracing::debug!(stream = id.0, code = %code, "RST_STREAM received")
        }
        h2proto::Initiator::Local => {
            tracing::debug!(stream = id.0, code = %code, "RST_STREAM sent")
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (id, code, by);
}

/// The peer sent GOAWAY.
#[inline]
pub(crate) fn goaway_received(last: h2proto::StreamId, code: h2proto::ErrorCode, data: &[u8]) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        last_stream_id = last.0,
        code = %code,
        debug_data = %String::from_utf8_lossy(data),
        "GOAWAY received"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (last, code, data);
}

/// The connection closed.
#[inline]
pub(crate) fn closed(error: Option<&h2proto::ConnectionError>) {
    #[cfg(feature = "tracing")]
    match error {
        Some(e) => {
            tracing::debug!(code = %e.code, initiator = ?e.initiator, reason = %e.reason, "connection closed")
        }
        None => tracing::debug!("connection closed"),
    }
    #[cfg(not(feature = "tracing"))]
    let _ = error;
}

/// A PING of ours was answered after `rtt`.
#[inline]
pub(crate) fn ping_rtt(rtt: Duration) {
    #[cfg(feature = "tracing")]
    tracing::debug!(rtt_us = rtt.as_micros() as u64, "PING answered");
    #[cfg(not(feature = "tracing"))]
    let _ = rtt;
}

/// A handler ended (or panicked) without a response; its stream is reset.
#[inline]
pub(crate) fn handler_gone(id: h2proto::StreamId) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        stream = id.0,
        "handler ended without a response: stream reset with INTERNAL_ERROR"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = id;
}

/// A body being sent failed; its stream is reset.
#[inline]
pub(crate) fn body_error(id: h2proto::StreamId, error: &(dyn std::error::Error + Send + Sync)) {
    #[cfg(feature = "tracing")]
    tracing::warn!(stream = id.0, %error, "body failed: stream reset with INTERNAL_ERROR");
    #[cfg(not(feature = "tracing"))]
    let _ = (id, error);
}
