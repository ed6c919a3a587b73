//! PING round trips (RFC 9113 §6.7): which of our PINGs an ACK answers, and how long the
//! answer took.
//!
//! Three kinds of PING of ours are in flight at most: the keepalive PING, the shutdown PING
//! of a graceful shutdown, and the application's (`Connection::ping`). Each remembers when
//! it left, on the connection's clock (the latest `now` given to `recv` or
//! `handle_timeout`; the core reads no clock), so its ACK yields a round-trip time. The
//! latest sample is [`Stats::ping_rtt`](super::Stats::ping_rtt): a pool reads it for its
//! metrics and health checks, and the adaptive receive window uses it.

use super::Connection;
use std::time::{Duration, Instant};

/// A PING of ours waiting for its ACK.
#[derive(Clone, Copy, Debug)]
pub(super) struct SentPing {
    pub(super) payload: [u8; 8],
    /// The connection's clock when it was written; `None` before the clock started.
    pub(super) at: Option<Instant>,
}

impl Connection {
    /// The latest PING round-trip time measured on this connection (keepalive, shutdown or
    /// [`ping`](Self::ping) PINGs), if one was answered yet. The same as
    /// [`Stats::ping_rtt`](super::Stats::ping_rtt).
    ///
    /// Times are the connection's clock: a PING is timed from the latest `now` given before
    /// it was written, its ACK from the `now` of the `recv` that read it. An adapter that
    /// gives the time of each wake-up measures the network's round trip plus its own
    /// scheduling delay.
    pub fn rtt(&self) -> Option<Duration> {
        self.stats.ping_rtt
    }

    /// Records the answer to a PING that left at `sent`.
    pub(super) fn note_rtt(&mut self, sent: Option<Instant>) {
        if let (Some(sent), Some(now)) = (sent, self.now) {
            self.stats.ping_rtt = Some(now.saturating_duration_since(sent));
            self.stats.ping_rtt_samples += 1;
        }
    }
}
