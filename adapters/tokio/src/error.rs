//! The one error type of the adapter.
//!
//! It is `Clone` because one cause often reaches many places: a connection that fails
//! fails every stream on it, and each handle gets the same error. What matters most to a
//! client is [`Error::is_retryable`]: whether the request was certainly not processed by
//! the server (a GOAWAY above it, REFUSED_STREAM, or never sent), so it may be sent again
//! on another connection (RFC 9113 §8.7).

use h2proto::{ConnectionError, ErrorCode, Initiator, UserError};
use std::fmt;
use std::sync::Arc;

/// A boxed error, as produced by user bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong with a request, a response or a connection.
#[derive(Clone, Debug)]
pub struct Error {
    kind: ErrorKind,
}

/// The kinds of [`Error`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The stream was reset with RST_STREAM (by the peer or by us), or ended with its
    /// connection.
    Reset {
        /// The error code.
        code: ErrorCode,
        /// Who reset it.
        initiator: Initiator,
        /// The peer did not process the request (REFUSED_STREAM, or above a GOAWAY's last
        /// stream id): it is safe to send it again.
        retryable: bool,
    },
    /// The request was never sent: the connection was going away (GOAWAY) or had closed
    /// before the stream could be opened. It is safe to send it again on a new connection.
    NotSent,
    /// The connection ended with an error (GOAWAY with an error code, a timeout, a
    /// protocol violation).
    Connection(ConnectionError),
    /// The transport failed, or the peer closed it while streams were open.
    Io(Arc<std::io::Error>),
    /// The core refused a command (e.g. a malformed message).
    User(UserError),
    /// A body we were sending failed.
    Body(Arc<BoxError>),
    /// The connection task is gone (it ended, or was never spawned and then dropped).
    Closed,
    /// The connection holds as many requests as it takes for now (the server's concurrent
    /// stream limit plus the pending bound); the request was not sent.
    Busy,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    pub(crate) fn reset(code: ErrorCode, initiator: Initiator, retryable: bool) -> Error {
        Error::new(ErrorKind::Reset { code, initiator, retryable })
    }

    pub(crate) fn io(e: std::io::Error) -> Error {
        Error::new(ErrorKind::Io(Arc::new(e)))
    }

    pub(crate) fn body(e: BoxError) -> Error {
        Error::new(ErrorKind::Body(Arc::new(e)))
    }

    /// What kind of error this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Whether the request certainly was not processed by the server and may be sent again
    /// (on a new connection when this one is going away).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::NotSent | ErrorKind::Busy | ErrorKind::Reset { retryable: true, .. }
        )
    }

    /// The RST_STREAM code, if the stream was reset.
    pub fn reset_code(&self) -> Option<ErrorCode> {
        match self.kind {
            ErrorKind::Reset { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether this is a transport (IO) error.
    pub fn is_io(&self) -> bool {
        matches!(self.kind, ErrorKind::Io(_))
    }

    /// The connection error, if the connection ended with one.
    pub fn connection_error(&self) -> Option<&ConnectionError> {
        match &self.kind {
            ErrorKind::Connection(e) => Some(e),
            _ => None,
        }
    }

    /// The error as an `io::Error`, for `AsyncRead`/`AsyncWrite` implementations.
    pub(crate) fn into_io(self) -> std::io::Error {
        match self.kind {
            ErrorKind::Io(e) => std::io::Error::new(e.kind(), e.to_string()),
            ErrorKind::Reset { .. } => {
                std::io::Error::new(std::io::ErrorKind::ConnectionReset, self)
            }
            _ => std::io::Error::other(self),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Reset { code, initiator, retryable } => {
                let who = match initiator {
                    Initiator::Local => "reset locally",
                    Initiator::Remote => "reset by the peer",
                };
                write!(f, "stream {who} with {code}")?;
                if *retryable {
                    f.write_str(" (not processed; safe to retry)")?;
                }
                Ok(())
            }
            ErrorKind::NotSent => {
                f.write_str("request not sent: connection going away (safe to retry)")
            }
            ErrorKind::Connection(e) => write!(f, "{e}"),
            ErrorKind::Io(e) => write!(f, "transport error: {e}"),
            ErrorKind::User(e) => write!(f, "{e}"),
            ErrorKind::Body(e) => write!(f, "body error: {e}"),
            ErrorKind::Closed => f.write_str("connection closed"),
            ErrorKind::Busy => f.write_str("the connection takes no more requests for now"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Connection(e) => Some(e),
            ErrorKind::Io(e) => Some(&**e),
            ErrorKind::User(e) => Some(e),
            ErrorKind::Body(e) => Some(&***e),
            _ => None,
        }
    }
}

impl From<UserError> for Error {
    fn from(e: UserError) -> Error {
        Error::new(ErrorKind::User(e))
    }
}

impl From<ConnectionError> for Error {
    fn from(e: ConnectionError) -> Error {
        Error::new(ErrorKind::Connection(e))
    }
}
