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
