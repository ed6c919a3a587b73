//! Why a client request failed, and whether sending it again is safe.
//!
//! A client's first question about a failure is RFC 9113 §8.7's: did the server process
//! the request? [`Error::is_retry_safe`] answers it from what the connection saw (a
//! REFUSED_STREAM, a GOAWAY's last stream id, a request that never left), and
//! [`Error::failure`] hands the same facts to the core's
//! [`RetryPolicy`](h2proto::pool::RetryPolicy), which the client follows before any error
//! reaches the caller.
//!
//! Failures to reach the server have kinds of their own ([`ErrorKind::Connect`],
//! [`ErrorKind::ConnectTimeout`], [`ErrorKind::BreakerOpen`]): nothing was sent, so they
//! are always safe to retry, and the caller can tell "the server is down" from "the
//! request failed".
//!
//! The client's own request timeouts ([`ErrorKind::TimedOut`]) say which one passed
//! ([`Timeout`]); a request that timed out before it was sent is [`ErrorKind::NotSent`]
//! around it, so [`Error::is_retry_safe`] tells the two apart and [`Error::timeout`] finds
//! either.

use h2proto::pool::{Failure, NotProcessed, Verdict};
use h2proto::{ConnectionError, ErrorCode, Initiator, UserError};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// Why a [`Client`](crate::Client) request failed.
///
/// `Clone`: one cause (a connection lost) fails every request on it, each with the same
/// error. Converts into `io::Error` (with this error as its source) for callers that work
/// in `io::Result`.
#[derive(Clone, Debug)]
pub struct Error {
    kind: ErrorKind,
}

/// The kinds of [`Error`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An `https://` request on a client without TLS (see `ClientBuilder::tls`, feature
    /// `rustls`): sending it in cleartext would expose what the caller meant to protect.
    /// Nothing was sent.
    TlsUnavailable,
    /// The core refused the request as given (a malformed head, a tunnel body): nothing
    /// was sent, and sending it again would fail the same way.
    Request(UserError),
    /// A fresh connection, opened to replace one that ended, could not be established: TCP
    /// failed, or its TLS handshake did (an untrusted certificate, a server that did not
    /// choose ALPN `h2`: kind `InvalidData`). Nothing was sent on it. It counts toward the
    /// circuit breaker.
    Connect(Arc<io::Error>),
    /// A fresh connection was not established within the connect timeout (see
    /// [`ClientBuilder::connect_timeout`](crate::ClientBuilder::connect_timeout)): the
    /// server did not answer (down, overloaded, or a lost route). Nothing was sent. It counts
    /// toward the circuit breaker.
    ConnectTimeout {
        /// The timeout that passed.
        timeout: Duration,
    },
    /// The circuit breaker is open: the last connects failed, and none is tried until the
    /// cool-down is over (then one probe goes; see
    /// [`Breaker`](h2proto::pool::Breaker)). Failed at once; nothing was sent.
    BreakerOpen {
        /// Time left until the breaker lets a probe connect through.
        retry_after: Duration,
    },
    /// Too many requests wait for a connection (during a reconnect's backoff); see
    /// [`ClientBuilder::max_waiting`](crate::ClientBuilder::max_waiting). Nothing was sent.
    QueueFull,
    /// The stream was reset with RST_STREAM.
    Reset {
        /// The RST_STREAM code.
        code: ErrorCode,
        /// Who reset it.
        initiator: Initiator,
        /// The server did not process the request: REFUSED_STREAM, or above a GOAWAY's
        /// last stream id (RFC 9113 §8.7).
        retryable: bool,
    },
    /// The connection ended with an error (a GOAWAY with an error code, a protocol
    /// violation, a keepalive or settings timeout) while the request was on it.
    Connection(ConnectionError),
    /// The transport failed or the peer closed it while the request was on it.
    Io(Arc<io::Error>),
    /// The connection closed without an error before the response was whole, or the
    /// client's loop is gone.
    Closed,
    /// The response body was larger than the client gathers (16 MiB); the stream was
    /// cancelled.
    BodyTooLarge,
    /// The request never left: its connection was going away or ended before the request
    /// was written. Not processed (RFC 9113 §8.7). The inner error says why.
    NotSent(Box<Error>),
    /// The server certainly did not process the request, yet it was not sent again:
    /// `verdict` says why (its body was streamed and cannot be replayed, or the retries
    /// of the [`RetryPolicy`](h2proto::pool::RetryPolicy) are spent). Safe to retry.
    NotRetried {
        /// The last attempt's error.
        error: Box<Error>,
        /// [`Verdict::SafeButNotReplayable`] or [`Verdict::SafeButAttemptsExhausted`].
        verdict: Verdict,
    },
    /// One of the client's request timeouts passed
    /// ([`ClientBuilder::request_timeout`](crate::ClientBuilder::request_timeout),
    /// [`RequestTimeout`](crate::RequestTimeout),
    /// [`ClientBuilder::stall_timeout`](crate::ClientBuilder::stall_timeout)): the stream
    /// was reset with CANCEL (RFC 9113 §7) and the connection serves the other requests.
    /// The request may have been processed: never retried. One that timed out while
    /// still waiting for a stream or a connection comes as [`ErrorKind::NotSent`] around
    /// this.
    TimedOut(Timeout),
}

/// Which of the client's request timeouts passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timeout {
    /// The whole request, from [`Client::send`](crate::Client::send) to the response's end
    /// ([`ClientBuilder::request_timeout`](crate::ClientBuilder::request_timeout)).
    Request,
    /// The response stalled: no byte of its head or body for
    /// [`ClientBuilder::stall_timeout`](crate::ClientBuilder::stall_timeout).
    Stalled,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    pub(crate) fn io(e: io::Error) -> Error {
        Error::new(ErrorKind::Io(Arc::new(e)))
    }

    pub(crate) fn not_sent(cause: Error) -> Error {
        Error::new(ErrorKind::NotSent(Box::new(cause)))
    }

    /// What kind of error this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Whether sending the request again cannot make the server process it twice: nothing
    /// was sent, or the server certainly did not process it (RFC 9113 §8.7). `false` when
    /// the request may have reached the application (a reset with another code, a
    /// connection lost with the request in flight): the caller decides.
    pub fn is_retry_safe(&self) -> bool {
        match &self.kind {
            ErrorKind::TlsUnavailable
            | ErrorKind::Request(_)
            | ErrorKind::Connect(_)
            | ErrorKind::ConnectTimeout { .. }
            | ErrorKind::BreakerOpen { .. }
            | ErrorKind::QueueFull
            | ErrorKind::NotSent(_) => true,
            ErrorKind::Reset { retryable, .. } => *retryable,
            ErrorKind::NotRetried { verdict, .. } => verdict.is_safe_to_retry(),
            ErrorKind::Connection(_)
            | ErrorKind::Io(_)
            | ErrorKind::Closed
            | ErrorKind::BodyTooLarge
            | ErrorKind::TimedOut(_) => false,
        }
    }

    /// Which of the client's request timeouts failed the request, if one did (sent or
    /// not: see [`is_retry_safe`](Self::is_retry_safe) for which).
    pub fn timeout(&self) -> Option<Timeout> {
        match &self.kind {
            ErrorKind::TimedOut(which) => Some(*which),
            ErrorKind::NotSent(e) | ErrorKind::NotRetried { error: e, .. } => e.timeout(),
            _ => None,
        }
    }

    /// The RST_STREAM code, if the stream was reset (also behind `NotRetried`).
    pub fn reset_code(&self) -> Option<ErrorCode> {
        match &self.kind {
            ErrorKind::Reset { code, .. } => Some(*code),
            ErrorKind::NotRetried { error, .. } => error.reset_code(),
            _ => None,
        }
    }

    /// The connection error, if the connection ended with one.
    pub fn connection_error(&self) -> Option<&ConnectionError> {
        match &self.kind {
            ErrorKind::Connection(e) => Some(e),
            ErrorKind::NotSent(e) | ErrorKind::NotRetried { error: e, .. } => e.connection_error(),
            _ => None,
        }
    }

    /// Whether the connection was closed because a keepalive PING went unanswered
    /// ([`Config::keepalive_timeout`](h2proto::Config::keepalive_timeout)): the server or
    /// the path to it stopped answering.
    pub fn is_keepalive_timeout(&self) -> bool {
        self.connection_error().is_some_and(ConnectionError::is_keepalive_timeout)
    }

    /// For an open circuit breaker ([`ErrorKind::BreakerOpen`]): how long until it lets a
    /// probe through.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.kind {
            ErrorKind::BreakerOpen { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// RFC 9113 §8.7 from what the connection reported, for the core's
    /// [`RetryPolicy::verdict`](h2proto::pool::RetryPolicy::verdict): a refused stream, one
    /// above a GOAWAY's last stream id, or a request never sent was not processed;
    /// anything else may have been.
    pub fn failure(&self) -> Failure {
        match &self.kind {
            ErrorKind::NotSent(_) => Failure::NotProcessed(NotProcessed::NotSent),
            // The core resets the streams above a GOAWAY's last stream id as retryable too,
            // with the same code: which of the two it was changes no verdict.
            ErrorKind::Reset { retryable: true, .. } => {
                Failure::NotProcessed(NotProcessed::Refused)
            }
            _ => Failure::MayHaveBeenProcessed,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::TlsUnavailable => f.write_str(
                "https:// needs TLS, which this client was not given (ClientBuilder::tls, \
                 feature rustls; without it the client speaks h2c: http://)",
            ),
            ErrorKind::Request(e) => write!(f, "request refused: {e}"),
            ErrorKind::Connect(e) => write!(f, "connect failed: {e}"),
            ErrorKind::ConnectTimeout { timeout } => {
                write!(f, "connect timed out after {timeout:?}")
            }
            ErrorKind::BreakerOpen { retry_after } => {
                write!(f, "circuit breaker open after failed connects (a probe in {retry_after:?})")
            }
            ErrorKind::QueueFull => f.write_str("too many requests wait for a connection"),
            ErrorKind::Reset { code, initiator: Initiator::Remote, .. } => {
                write!(f, "stream reset by the peer with {code}")
            }
            ErrorKind::Reset { code, .. } => write!(f, "stream reset with {code}"),
            ErrorKind::Connection(e) => e.fmt(f),
            ErrorKind::Io(e) => write!(f, "transport: {e}"),
            ErrorKind::Closed => f.write_str("the connection closed before the response"),
            ErrorKind::BodyTooLarge => f.write_str("response body too large"),
            ErrorKind::NotSent(e) => write!(f, "request not sent: {e}"),
            ErrorKind::NotRetried { error, verdict: Verdict::SafeButNotReplayable } => {
                write!(f, "{error} (not processed; the body cannot be replayed: safe to retry)")
            }
            ErrorKind::NotRetried { error, .. } => {
                write!(f, "{error} (not processed; retries exhausted: safe to retry)")
            }
            ErrorKind::TimedOut(Timeout::Request) => {
                f.write_str("request timed out (the client's request timeout passed)")
            }
            ErrorKind::TimedOut(Timeout::Stalled) => {
                f.write_str("response stalled: no byte within the client's stall timeout")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Request(e) => Some(e),
            ErrorKind::Connect(e) | ErrorKind::Io(e) => Some(&**e),
            ErrorKind::Connection(e) => Some(e),
            ErrorKind::NotSent(e) | ErrorKind::NotRetried { error: e, .. } => Some(&**e),
            _ => None,
        }
    }
}

impl From<Error> for io::Error {
    /// An `io::Error` whose kind says what happened and whose source is the typed error.
    fn from(e: Error) -> io::Error {
        io::Error::new(e.io_kind(), e)
    }
}

impl Error {
    fn io_kind(&self) -> io::ErrorKind {
        match &self.kind {
            ErrorKind::TlsUnavailable => io::ErrorKind::Unsupported,
            ErrorKind::Request(_) => io::ErrorKind::InvalidInput,
            ErrorKind::Connect(e) | ErrorKind::Io(e) => e.kind(),
            ErrorKind::ConnectTimeout { .. } => io::ErrorKind::TimedOut,
            ErrorKind::BreakerOpen { .. } => io::ErrorKind::ConnectionRefused,
            ErrorKind::QueueFull => io::ErrorKind::Other,
            ErrorKind::Reset { .. } => io::ErrorKind::ConnectionReset,
            ErrorKind::Connection(_) => io::ErrorKind::ConnectionAborted,
            ErrorKind::Closed => io::ErrorKind::NotConnected,
            ErrorKind::BodyTooLarge => io::ErrorKind::InvalidData,
            ErrorKind::TimedOut(_) => io::ErrorKind::TimedOut,
            ErrorKind::NotSent(e) | ErrorKind::NotRetried { error: e, .. } => e.io_kind(),
        }
    }
}
