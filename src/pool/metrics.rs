//! Counters of the pool's decisions, as a plain snapshot.
//!
//! The pool counts what it decides (it sees every checkout and every connection event), so
//! an adapter gets the numbers without counting anything itself; a snapshot is a `Copy`
//! struct the caller can diff, log or export.

use std::time::Duration;

/// Why a connection left the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// Idle for the configured idle timeout.
    IdleTimeout,
    /// Closed to make room under the total connection bound (least recently used first).
    Evicted,
    /// Drained after the peer's GOAWAY.
    GoAway,
    /// Drained after running out of stream ids (RFC 9113 §5.1.1).
    StreamIdsExhausted,
    /// A PING before reuse (or a keepalive PING) was not answered in time.
    PingTimeout,
    /// The peer closed the transport.
    PeerClosed,
    /// A transport or protocol error.
    Error,
    /// The application shut the client down.
    Shutdown,
}

impl CloseReason {
    /// Every reason, in the order of [`PoolMetrics::closed`].
    pub const ALL: [CloseReason; 8] = [
        CloseReason::IdleTimeout,
        CloseReason::Evicted,
        CloseReason::GoAway,
        CloseReason::StreamIdsExhausted,
        CloseReason::PingTimeout,
        CloseReason::PeerClosed,
        CloseReason::Error,
        CloseReason::Shutdown,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// A snapshot of the pool's counters (all since the pool was made, except the gauges).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolMetrics {
    /// Connect attempts started.
    pub connects: u64,
    /// Connect attempts that succeeded.
    pub connected: u64,
    /// Connect (or handshake) attempts that failed.
    pub connect_failures: u64,
    /// Connections closed, by [`CloseReason`] (index with [`PoolMetrics::closed_by`]).
    pub closed: [u64; 8],
    /// Checkouts served at once by a connection with a free stream.
    pub hits: u64,
    /// Checkouts that found no free stream.
    pub misses: u64,
    /// Checkouts that waited in the queue.
    pub waits: u64,
    /// Checkouts refused because the queue was full.
    pub queue_full: u64,
    /// Checkouts refused fast because the breaker was open.
    pub breaker_rejections: u64,
    /// Requests sent again after a failure that §8.7 says was not processed.
    pub retries: u64,
    /// Breaker transitions to open.
    pub breaker_opened: u64,
    /// Breaker transitions to half-open.
    pub breaker_half_opened: u64,
    /// Breaker transitions to closed.
    pub breaker_closed: u64,
    /// PING round trips measured: the pool's health checks and the connections' own PINGs
    /// (keepalive, adaptive window) alike.
    pub ping_samples: u64,
    /// The last PING round trip measured, on any connection.
    pub last_ping_rtt: Option<Duration>,
    /// Gauge: connections in the pool now (connecting included).
    pub open_connections: u64,
    /// Gauge: requests waiting now.
    pub waiting: u64,
}

impl PoolMetrics {
    /// Connections closed for `reason`.
    pub fn closed_by(&self, reason: CloseReason) -> u64 {
        self.closed[reason.index()]
    }

    pub(crate) fn count_close(&mut self, reason: CloseReason) {
        self.closed[reason.index()] += 1;
    }
}
