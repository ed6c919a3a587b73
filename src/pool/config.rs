//! Every bound and timer of the pool, with its default and why.

use super::{Backoff, BreakerConfig, RetryPolicy};
use std::time::Duration;

/// The pool's knobs. Every queue and table the pool keeps is bounded here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Connections to one origin that take requests (connecting ones included, draining
    /// ones not: they only finish their streams). A request that finds every
    /// stream of every connection busy opens another up to this, then waits. Default 8.
    pub max_connections_per_origin: usize,
    /// Connections in all (connecting ones included). At the bound, the least recently used
    /// idle connection is closed to make room; with none idle, the request waits.
    /// Default 256.
    pub max_connections: usize,
    /// Requests waiting for a stream, per origin; past it a checkout fails with
    /// `QueueFull` instead of growing memory. Default 1024.
    pub max_waiters_per_origin: usize,
    /// Origins remembered (with connections, waiters or breaker state). At the bound an
    /// origin with neither connections nor waiters is forgotten; with none, a checkout for
    /// a new origin fails with `TooManyOrigins`. Default 1024.
    pub max_origins: usize,
    /// A connection with no stream for this long is closed. Default 90 s (as hyper-util).
    pub idle_timeout: Option<Duration>,
    /// A connection idle for this long is checked with a PING before it takes a request
    /// (RFC 9113 §8.7: PING tests a connection without sending a request; NATs drop idle
    /// bindings silently). Default none: the adapter's keepalive PINGs watch idle
    /// connections instead.
    pub check_after_idle: Option<Duration>,
    /// How long the PING of a check may take before the connection is closed. Default 5 s.
    pub check_timeout: Duration,
    /// How often a connection whose stream limit the pool only guessed (its peer's SETTINGS
    /// unknown to the adapter) is tried with one stream more. Default 1 s.
    pub limit_probe_interval: Duration,
    /// Delay between failed connects to one origin.
    pub backoff: Backoff,
    /// The per-origin circuit breaker.
    pub breaker: BreakerConfig,
    /// Retries of requests the server did not process.
    pub retry: RetryPolicy,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_connections_per_origin: 8,
            max_connections: 256,
            max_waiters_per_origin: 1024,
            max_origins: 1024,
            idle_timeout: Some(Duration::from_secs(90)),
            check_after_idle: None,
            check_timeout: Duration::from_secs(5),
            limit_probe_interval: Duration::from_secs(1),
            backoff: Backoff::default(),
            breaker: BreakerConfig::default(),
            retry: RetryPolicy::default(),
        }
    }
}
