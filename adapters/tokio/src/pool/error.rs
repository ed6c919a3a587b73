//! The client's error: what failed, and whether sending the request again is safe.

use crate::Error;
use h2proto::pool::{CheckoutError, OriginError, Verdict};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why a [`Client`](super::Client) request failed.
#[derive(Clone, Debug)]
pub struct ClientError {
    kind: ClientErrorKind,
}

/// The kinds of [`ClientError`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ClientErrorKind {
    /// The URI names no `http://` or `https://` origin.
    Uri(OriginError),
    /// `https://` needs a TLS configuration ([`ClientBuilder::tls`](super::ClientBuilder)).
    TlsUnavailable,
    /// Connecting (TCP, TLS or the HTTP/2 preface) failed. Nothing was sent.
    Connect(Arc<std::io::Error>),
    /// Connecting took longer than the connect timeout. Nothing was sent.
    ConnectTimeout,
    /// The pool gave no connection: its queue for the origin is full, its circuit breaker
    /// is open, or it holds too many origins. Nothing was sent.
    Pool(CheckoutError),
    /// The request failed on its connection; `verdict` says whether RFC 9113 §8.7
    /// guarantees that the server did not process it, and why it was not retried.
    Request {
        /// The connection's error.
        error: Error,
        /// Why it was not sent again.
        verdict: Verdict,
    },
    /// The whole-request timeout passed before the response head arrived; the request may
    /// have been processed.
    Timeout,
    /// Reading the response body failed (reset, connection lost).
    Body(Error),
    /// The response body stalled: nothing arrived for the body timeout.
    BodyStalled,
}

impl ClientError {
    pub(crate) fn new(kind: ClientErrorKind) -> ClientError {
        ClientError { kind }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> &ClientErrorKind {
        &self.kind
    }

    /// Whether sending the request again cannot cause it to be processed twice: nothing
    /// was sent, or the server certainly did not process it (RFC 9113 §8.7).
    pub fn is_safe_to_retry(&self) -> bool {
        match &self.kind {
            ClientErrorKind::Request { verdict, .. } => verdict.is_safe_to_retry(),
            ClientErrorKind::Timeout | ClientErrorKind::Body(_) | ClientErrorKind::BodyStalled => {
                false
            }
            _ => true,
        }
    }

    /// For an open circuit breaker: how long until it lets a probe through.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            ClientErrorKind::Pool(CheckoutError::BreakerOpen { retry_after }) => Some(retry_after),
            _ => None,
        }
    }

    /// The connection's error, for a request that failed on its connection.
    pub fn connection_error(&self) -> Option<&Error> {
        match &self.kind {
            ClientErrorKind::Request { error, .. } | ClientErrorKind::Body(error) => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ClientErrorKind::Uri(e) => write!(f, "invalid request URI: {e}"),
            ClientErrorKind::TlsUnavailable => {
                f.write_str("https:// needs a TLS configuration (feature `rustls`)")
            }
            ClientErrorKind::Connect(e) => write!(f, "connect failed: {e}"),
            ClientErrorKind::ConnectTimeout => f.write_str("connect timed out"),
            ClientErrorKind::Pool(e) => write!(f, "{e}"),
            ClientErrorKind::Request { error, verdict } => {
                let why = match verdict {
                    Verdict::Retry | Verdict::NotSafe => "",
                    Verdict::SafeButNotReplayable => {
                        " (not processed, safe to retry, but the body cannot be replayed)"
                    }
                    Verdict::SafeButAttemptsExhausted => " (not processed; retries exhausted)",
                };
                write!(f, "{error}{why}")
            }
            ClientErrorKind::Timeout => f.write_str("request timed out"),
            ClientErrorKind::Body(e) => write!(f, "response body failed: {e}"),
            ClientErrorKind::BodyStalled => f.write_str("response body stalled (body timeout)"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ClientErrorKind::Uri(e) => Some(e),
            ClientErrorKind::Connect(e) => Some(&**e),
            ClientErrorKind::Pool(e) => Some(e),
            ClientErrorKind::Request { error, .. } | ClientErrorKind::Body(error) => Some(error),
            _ => None,
        }
    }
}
