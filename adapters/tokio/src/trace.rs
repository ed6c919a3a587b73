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
