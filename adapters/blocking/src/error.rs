//! Why a request or a body failed.
//!
//! Every fallible call returns `std::io::Error`, the currency of blocking IO; its
//! [`get_ref`](std::io::Error::get_ref) is an [`Error`] saying what HTTP/2 reported, so a
//! caller can tell a stream reset (and whether a retry is safe) from a dead connection.

use h2proto::pool::Verdict;
use h2proto::{ConnectionError, ErrorCode, Initiator, UserError};
use std::fmt;
use std::io;
use std::sync::Arc;

/// What went wrong, as HTTP/2 reported it. The source of the `io::Error`s of this crate.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// The stream was reset with RST_STREAM (`io::ErrorKind::ConnectionReset`).
    Reset {
        /// The RST_STREAM code.
        code: ErrorCode,
        /// Who reset it.
        initiator: Initiator,
        /// The peer did not process the request: safe to retry on another connection.
        retryable: bool,
    },
    /// The connection ended with an error: GOAWAY, a protocol violation or a timeout
    /// (`io::ErrorKind::ConnectionAborted`).
    Connection(ConnectionError),
    /// The connection refused the command, e.g. a request after GOAWAY
    /// (`io::ErrorKind::InvalidInput`, or `ConnectionAborted` once closed).
    User(UserError),
    /// The transport failed or the peer closed it (the transport's error kind).
    Transport(Arc<io::Error>),
    /// No connection could be made: refused, unreachable, or not made within the client's
    /// connect timeout (`io::ErrorKind::TimedOut`); the inner error's kind is the
    /// `io::Error`'s. The request was never sent: safe to retry.
    Connect(Arc<io::Error>),
    /// The request never left: its connection ended, or was going away, before its head
    /// was written. Not processed (RFC 9113 §8.7). The inner error says why.
    NotSent(Box<Error>),
    /// The server certainly did not process the request (RFC 9113 §8.7: REFUSED_STREAM,
    /// above a GOAWAY's last stream id, never sent), yet it was not sent again: `verdict`
    /// says why (a body read from a reader cannot be replayed, or the retries of
    /// [`RetryPolicy`](h2proto::pool::RetryPolicy) are spent). Safe to retry.
    NotRetried {
        /// The last attempt's error.
        error: Box<Error>,
        /// [`Verdict::SafeButNotReplayable`] or [`Verdict::SafeButAttemptsExhausted`].
        verdict: Verdict,
    },
    /// One of the client's request timeouts passed (`io::ErrorKind::TimedOut`): the
    /// stream was reset with CANCEL (RFC 9113 §7) and the connection serves other
    /// requests. The request may have been processed: never retried.
    TimedOut(Timeout),
}

/// Which of the client's timeouts passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timeout {
    /// The whole request, from the call to the response's end
    /// ([`Builder::request_timeout`](crate::Builder::request_timeout)).
    Request,
    /// The response stalled: no byte of its head or body for
    /// [`Builder::stall_timeout`](crate::Builder::stall_timeout).
    Stalled,
}

impl Error {
    pub(crate) fn eof() -> Error {
        let e = io::Error::new(io::ErrorKind::UnexpectedEof, "the peer closed the connection");
        Error::Transport(Arc::new(e))
    }

    pub(crate) fn closed() -> Error {
        Error::User(UserError::Closed)
    }

    /// Whether sending the request again cannot make the server process it twice: the
    /// server certainly did not process it (RFC 9113 §8.7). `false` for a failure after
    /// the request may have reached the application (a reset with another code, a
    /// connection lost or timed out with the request in flight): the caller decides.
    pub fn is_retry_safe(&self) -> bool {
        match self {
            Error::Reset { retryable, .. } => *retryable,
            Error::NotSent(_) | Error::Connect(_) => true,
            Error::NotRetried { verdict, .. } => verdict.is_safe_to_retry(),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Reset { code, initiator: Initiator::Remote, .. } => {
                write!(f, "stream reset by the peer with {code}")
            }
            Error::Reset { code, .. } => write!(f, "stream reset with {code}"),
            Error::Connection(e) => e.fmt(f),
            Error::User(e) => e.fmt(f),
            Error::Transport(e) => write!(f, "transport: {e}"),
            Error::Connect(e) => write!(f, "connect: {e}"),
            Error::NotSent(e) => write!(f, "request not sent: {e}"),
            Error::NotRetried { error, verdict: Verdict::SafeButNotReplayable } => {
                write!(f, "{error} (not processed; the body cannot be replayed: safe to retry)")
            }
            Error::NotRetried { error, .. } => {
                write!(f, "{error} (not processed; retries exhausted: safe to retry)")
            }
            Error::TimedOut(Timeout::Request) => {
                f.write_str("request timed out (the client's request timeout passed)")
            }
            Error::TimedOut(Timeout::Stalled) => {
                f.write_str("response stalled: no byte within the client's stall timeout")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Reset { .. } => io::ErrorKind::ConnectionReset,
            Error::Connection(_) | Error::User(UserError::Closed) => {
                io::ErrorKind::ConnectionAborted
            }
            Error::User(_) => io::ErrorKind::InvalidInput,
            Error::Transport(t) | Error::Connect(t) => t.kind(),
            Error::NotSent(inner) | Error::NotRetried { error: inner, .. } => {
                io::Error::from((**inner).clone()).kind()
            }
            Error::TimedOut(_) => io::ErrorKind::TimedOut,
        };
        io::Error::new(kind, e)
    }
}
