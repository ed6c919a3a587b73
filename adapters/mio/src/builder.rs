//! [`ClientBuilder`]: every knob of the [`Client`], with its default and why.
//!
//! The knobs of policy are the core's types ([`RetryPolicy`], [`Backoff`],
//! [`BreakerConfig`], the keepalive fields of [`Config`]), so a mio client and a tokio pool
//! configured alike behave alike; this builder only gathers them with the ones that are
//! the loop's own (the connect, request and stall timeouts, the bound on waiting
//! requests).

use crate::client::Client;
use h2proto::Config;
use h2proto::pool::{Backoff, BreakerConfig, RetryPolicy};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// The default [`ClientBuilder::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a response may go without a byte unless [`ClientBuilder::stall_timeout`] says
/// otherwise: 60 s, as the blocking client and the tokio adapter's body timeout. A server
/// silent that long, with room in the flow-control window to send, is stuck or gone.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The default [`ClientBuilder::max_waiting`].
pub const DEFAULT_MAX_WAITING: usize = 1024;

/// What the loop needs to make and heal the client's connections.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) config: Config,
    pub(crate) retry: RetryPolicy,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) stall_timeout: Option<Duration>,
    pub(crate) backoff: Backoff,
    pub(crate) breaker: BreakerConfig,
    pub(crate) max_waiting: usize,
    pub(crate) seed: u64,
    /// Whether a connection that ended is replaced (see [`Client::connect_single`]).
    pub(crate) replace: bool,
    /// TLS for every connection (`https://`).
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<crate::tls::Settings>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            config: Config::default(),
            retry: RetryPolicy::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: None,
            stall_timeout: Some(DEFAULT_STALL_TIMEOUT),
            backoff: Backoff::default(),
            breaker: BreakerConfig::default(),
            max_waiting: DEFAULT_MAX_WAITING,
            seed: RandomState::new().hash_one(0u8),
            replace: true,
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }
}

/// Configures a [`Client`] beyond [`Client::connect_with`]: retries, the connect timeout,
/// the request and stall timeouts, reconnect backoff, the circuit breaker, keepalive. Made
/// by [`Client::builder`].
///
/// ```
/// use h2proto::pool::{Backoff, BreakerConfig};
/// use h2proto_mio::{Client, Server};
/// use std::time::Duration;
///
/// let server = Server::bind("127.0.0.1:0")?;
/// let addr = server.local_addr()?;
/// let stop = server.shutdown_handle();
/// let serving = std::thread::spawn(move || server.serve(|_| http::Response::new("hi")));
///
/// let client = Client::builder(addr)
///     .connect_timeout(Duration::from_secs(2))
///     .request_timeout(Some(Duration::from_secs(30)))
///     .stall_timeout(Some(Duration::from_secs(5)))
///     .backoff(Backoff { base: Duration::from_millis(50), max: Duration::from_secs(5) })
///     .breaker(BreakerConfig { failure_threshold: 3, cool_down: Duration::from_secs(2) })
///     .keepalive(Some(Duration::from_secs(10)), Duration::from_secs(5))
///     .connect()?;
/// assert_eq!(client.request(http::Request::get("/").body("")?)?.body(), "hi");
///
/// drop(client);
/// stop.shutdown();
/// serving.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `connect`"]
pub struct ClientBuilder {
    addrs: io::Result<Vec<SocketAddr>>,
    options: Options,
}

impl ClientBuilder {
    pub(crate) fn new(addr: impl ToSocketAddrs) -> ClientBuilder {
        let addrs = addr.to_socket_addrs().map(Iterator::collect);
        ClientBuilder { addrs, options: Options::default() }
    }

    /// The configuration of each connection. Default [`Config::default`] (no keepalive).
    pub fn config(mut self, config: Config) -> ClientBuilder {
        self.options.config = config;
        self
    }

    /// Keepalive (RFC 9113 §6.7): a PING after `interval` without input, and the connection
    /// closed if it is not answered within `timeout`. Its requests in flight then fail with
    /// a [`Connection`](crate::ErrorKind::Connection) error whose
    /// [`is_keepalive_timeout`](crate::Error::is_keepalive_timeout) is true, and the next
    /// request goes on a fresh connection. This is how a server that went away without a
    /// word (a crash behind a NAT, a cable pulled) is noticed, idle or not. Sets
    /// [`Config::keepalive_interval`] and [`Config::keepalive_timeout`]; default: none.
    pub fn keepalive(mut self, interval: Option<Duration>, timeout: Duration) -> ClientBuilder {
        self.options.config.keepalive_interval = interval;
        self.options.config.keepalive_timeout = timeout;
        self
    }

    /// How requests the server did not process (RFC 9113 §8.7) are sent again. Default
    /// [`RetryPolicy::default`] (3 retries).
    pub fn retry(mut self, retry: RetryPolicy) -> ClientBuilder {
        self.options.retry = retry;
        self
    }

    /// How long a connect may take before it fails with
    /// [`ConnectTimeout`](crate::ErrorKind::ConnectTimeout). Default 10 s
    /// ([`DEFAULT_CONNECT_TIMEOUT`]): a server that does not answer a SYN is as good as down.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.options.connect_timeout = timeout;
        self
    }

    /// How long a whole request may take: from [`Client::send`] (or
    /// [`Client::request`]) through waiting for a connection or a stream, sending it and
    /// its response head, to the last byte of its response body. When it passes, the
    /// callback gets [`ErrorKind::TimedOut`]`(`[`Timeout::Request`]`)` (`io::ErrorKind::
    /// TimedOut` as an `io::Error`); a stream it was on is reset with CANCEL (RFC 9113 §7)
    /// so the server stops, and the connection goes on serving the other requests. A
    /// request still waiting for a stream or a connection is dropped unsent
    /// ([`ErrorKind::NotSent`] around the timeout: safe to retry). Retries of an
    /// unprocessed request (RFC 9113 §8.7) share the one deadline. A [`RequestTimeout`]
    /// in a request's extensions replaces this for that request.
    ///
    /// Default `None`: no bound. A whole-request bound must fit the largest transfer the
    /// application makes over its slowest link, which only the application knows; a
    /// server that stops sending is caught without it by the
    /// [`stall_timeout`](Self::stall_timeout), and a dead connection by the
    /// [`keepalive`](Self::keepalive) when it is on.
    ///
    /// [`ErrorKind::TimedOut`]: crate::ErrorKind::TimedOut
    /// [`ErrorKind::NotSent`]: crate::ErrorKind::NotSent
    /// [`Timeout::Request`]: crate::Timeout::Request
    /// [`RequestTimeout`]: crate::RequestTimeout
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> ClientBuilder {
        self.options.request_timeout = timeout;
        self
    }

    /// How long a response may go without a byte: counted from the moment the request's
    /// end is handed to the connection (its last DATA or its trailers; a bodiless request
    /// at once), and from each frame of the response head or body received since, until
    /// the response's end. (Responses are gathered whole as they arrive, so received bytes
    /// never wait for the application.) A response that keeps trickling bytes never trips
    /// it, however slow; an upload held up by the server's flow control neither. When it
    /// passes, as for [`request_timeout`](Self::request_timeout):
    /// [`ErrorKind::TimedOut`]`(`[`Timeout::Stalled`]`)`, the stream reset with CANCEL, the
    /// connection kept.
    ///
    /// Default [`DEFAULT_STALL_TIMEOUT`] (60 s); `None` turns it off (long polling, a
    /// server that answers only when something happens).
    ///
    /// [`ErrorKind::TimedOut`]: crate::ErrorKind::TimedOut
    /// [`Timeout::Stalled`]: crate::Timeout::Stalled
    pub fn stall_timeout(mut self, timeout: Option<Duration>) -> ClientBuilder {
        self.options.stall_timeout = timeout;
        self
    }

    /// The delay before connecting again after failed connects (exponential, with jitter).
    /// Default [`Backoff::default`]: 100 ms doubling up to 10 s.
    pub fn backoff(mut self, backoff: Backoff) -> ClientBuilder {
        self.options.backoff = backoff;
        self
    }

    /// The circuit breaker: after `failure_threshold` consecutive failed connects requests
    /// fail at once with [`BreakerOpen`](crate::ErrorKind::BreakerOpen) for `cool_down`,
    /// then one probe connect decides. Default [`BreakerConfig::default`]: 5 failures, 5 s.
    pub fn breaker(mut self, breaker: BreakerConfig) -> ClientBuilder {
        self.options.breaker = breaker;
        self
    }

    /// Requests that may wait for a connect during a backoff; more fail with
    /// [`QueueFull`](crate::ErrorKind::QueueFull). Default 1024 ([`DEFAULT_MAX_WAITING`]).
    pub fn max_waiting(mut self, n: usize) -> ClientBuilder {
        self.options.max_waiting = n;
        self
    }

    /// Speaks TLS (`https://`) with `config`, sending `server_name` as SNI and verifying
    /// the server's certificate for it; only ALPN `h2` is offered (RFC 9113 §3.3), and a
    /// server that chooses none fails the connection. Requests naming only a path go to
    /// `https://server_name[:port]`. The first connection's handshake is part of
    /// [`connect`](Self::connect) (its failure, an untrusted certificate say, is that call's
    /// error, of kind `InvalidData`); a replacement's must be done within the connect
    /// timeout once TCP is up, and fails its requests with
    /// [`Connect`](crate::ErrorKind::Connect) (or
    /// [`ConnectTimeout`](crate::ErrorKind::ConnectTimeout)) as a failed connect does.
    /// Feature `rustls`; see [`tls::client_config`](crate::tls::client_config).
    #[cfg(feature = "rustls")]
    pub fn tls(
        mut self,
        config: std::sync::Arc<rustls::ClientConfig>,
        server_name: &str,
    ) -> io::Result<ClientBuilder> {
        self.options.tls = Some(crate::tls::Settings::new(config, server_name)?);
        Ok(self)
    }

    /// The seed of the backoff's jitter. Default: a fresh random value per client.
    pub fn jitter_seed(mut self, seed: u64) -> ClientBuilder {
        self.options.seed = seed;
        self
    }

    /// Connects (the first connection is made here, within the connect timeout: its
    /// failure is this call's error, with a typed [`Error`](crate::Error) as its source on a
    /// timeout) and starts the client's loop thread.
    pub fn connect(self) -> io::Result<Client> {
        Client::start(&self.addrs?, self.options)
    }

    pub(crate) fn options(mut self, f: impl FnOnce(&mut Options)) -> ClientBuilder {
        f(&mut self.options);
        self
    }
}
