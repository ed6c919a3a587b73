//! Every knob of a [`Client`], with its default.

use super::Client;
use h2proto::Config;
use h2proto::pool::{Backoff, BreakerConfig, Origin, PoolConfig, RetryPolicy};
use std::time::Duration;

/// Builds a [`Client`].
///
/// ```
/// use h2proto_tokio::pool::Client;
/// use std::time::Duration;
///
/// let client = Client::builder()
///     .max_connections_per_origin(4)
///     .connect_timeout(Duration::from_secs(3))
///     .request_timeout(Some(Duration::from_secs(10)))
///     .keepalive(Some(Duration::from_secs(30)), Duration::from_secs(10))
///     .build();
/// # drop(client);
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    pub(crate) pool: PoolConfig,
    pub(crate) config: Config,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) body_timeout: Option<Duration>,
    pub(crate) seed: Option<u64>,
    pub(crate) max_streams_per_connection: Option<u32>,
    pub(crate) default_origin: Option<Origin>,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<std::sync::Arc<crate::tls::rustls::ClientConfig>>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            pool: PoolConfig::default(),
            config: Config::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(60)),
            body_timeout: Some(Duration::from_secs(60)),
            seed: None,
            max_streams_per_connection: None,
            default_origin: None,
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }
}

impl ClientBuilder {
    /// The defaults (see each method).
    pub fn new() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The HTTP/2 configuration of every connection (windows, limits, the core's timers).
    /// Default [`Config::default`].
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Keepalive: a PING after `interval` without input, the connection closed (and its
    /// requests failed) if it is not answered within `timeout`. Default: no keepalive.
    pub fn keepalive(mut self, interval: Option<Duration>, timeout: Duration) -> Self {
        self.config.keepalive_interval = interval;
        self.config.keepalive_timeout = timeout;
        self
    }

    /// The whole pool policy at once (bounds, idle timeout, backoff, breaker, retries).
    pub fn pool_config(mut self, pool: PoolConfig) -> Self {
        self.pool = pool;
        self
    }

    /// A connection idle for this long is checked with a PING before it takes a request
    /// (RFC 9113 §8.7); one that does not answer within the pool's `check_timeout` is
    /// closed and the request goes to another. The answers' round-trip times are the
    /// metrics' `last_ping_rtt`. Default: no check (keepalive PINGs, if set, watch idle
    /// connections).
    pub fn check_after_idle(mut self, after: Option<Duration>) -> Self {
        self.pool.check_after_idle = after;
        self
    }

    /// Connections to one origin that take requests. Default 8.
    pub fn max_connections_per_origin(mut self, n: usize) -> Self {
        self.pool.max_connections_per_origin = n;
        self
    }

    /// Connections in all; the least recently used idle one is closed to make room.
    /// Default 256.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.pool.max_connections = n;
        self
    }

    /// Requests waiting for a stream per origin; past it a request fails at once
    /// ([`CheckoutError::QueueFull`](h2proto::pool::CheckoutError)). Default 1024.
    pub fn max_waiting_per_origin(mut self, n: usize) -> Self {
        self.pool.max_waiters_per_origin = n;
        self
    }

    /// A connection without streams for this long is closed. Default 90 s.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool.idle_timeout = timeout;
        self
    }

    /// Reconnect backoff after failed connects. Default 100 ms doubling up to 10 s.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.pool.backoff = backoff;
        self
    }

    /// The per-origin circuit breaker. Default: opens after 5 consecutive connect
    /// failures, probes after 5 s.
    pub fn breaker(mut self, breaker: BreakerConfig) -> Self {
        self.pool.breaker = breaker;
        self
    }

    /// How many times a request the server did not process (RFC 9113 §8.7) is sent again,
    /// when its body is replayable ([`replayable`](super::replayable) or empty). Default 3.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.pool.retry = RetryPolicy { max_retries: n };
        self
    }

    /// Streams the client opens at most on one connection, even when the server allows
    /// more (its SETTINGS_MAX_CONCURRENT_STREAMS stays the bound when lower): spreads
    /// requests over more connections, as h2load's `-m`. Default: none, the server's limit.
    pub fn max_streams_per_connection(mut self, n: Option<u32>) -> Self {
        self.max_streams_per_connection = n.map(|n| n.max(1));
        self
    }

    /// How long a connect (TCP and TLS) may take. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a request may take until its response head, waiting, connecting and
    /// retries included. Default 60 s; `None` for no bound.
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long a response body may go without receiving anything before it fails with
    /// `BodyStalled` (a response that stops after its head or mid-body). Default 60 s;
    /// `None` for no bound.
    pub fn body_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Where requests whose URI names only a path (`/svc/Method`, as tonic's generated
    /// clients send them) go; they are sent with this origin's `:scheme` and `:authority`.
    /// Default: none, and such requests fail with an URI error.
    pub fn default_origin(mut self, origin: Origin) -> Self {
        self.default_origin = Some(origin);
        self
    }

    /// The seed of the backoff jitter. Default: a fresh random value per client.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The TLS configuration for `https://` origins (feature `rustls`): its roots (webpki,
    /// system or a custom CA), ALPN `h2` (see [`tls::client_config`](crate::tls::client_config)).
    /// SNI and the certificate check use the URI's host. Default: none, and `https://`
    /// requests fail with [`ClientErrorKind::TlsUnavailable`](super::ClientErrorKind).
    #[cfg(feature = "rustls")]
    pub fn tls(mut self, config: std::sync::Arc<crate::tls::rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// The client.
    pub fn build(self) -> Client {
        Client::from_builder(self)
    }
}
