//! When a failed request may be sent again: RFC 9113 §8.7, and nothing more.
//!
//! HTTP/2 gives a client exactly two guarantees that a request was not processed: a
//! RST_STREAM with REFUSED_STREAM from the peer, and a GOAWAY whose last_stream_id is
//! below the request's stream. A request that never left (the connection was going away or
//! closed before its HEADERS were written) was not processed either. Such a request "has
//! not failed" and may be retried automatically, even a POST (§8.7), on a fresh connection,
//! provided its body can be produced again. Every other failure (a reset with another code,
//! a connection lost after the request was sent, a timeout) may have been processed, and
//! is never retried behind the caller's back, whatever the method: the verdict says so and
//! the caller decides.
//!
//! The facts come from the connection ([`Failure::classify`]); [`RetryPolicy::verdict`]
//! adds the body and the attempts so far.

use crate::{ErrorCode, StreamId};

/// Why a request was certainly not processed (RFC 9113 §8.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotProcessed {
    /// The peer reset the stream with REFUSED_STREAM.
    Refused,
    /// The stream id is above the last_stream_id of the peer's GOAWAY.
    AboveGoAway,
    /// The request never left: the connection was going away or closed before it was sent.
    NotSent,
}

/// What is known about a failed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The server certainly did not process it.
    NotProcessed(NotProcessed),
    /// The server may have processed it (or part of it).
    MayHaveBeenProcessed,
}

impl Failure {
    /// Classifies a failed request from what the connection knows: the stream it was sent
    /// on (`None`: never sent), the peer's RST_STREAM code if the peer reset it, and the
    /// last_stream_id of a GOAWAY received from the peer.
    pub fn classify(
        stream: Option<StreamId>,
        peer_reset: Option<ErrorCode>,
        goaway_last_stream_id: Option<StreamId>,
    ) -> Failure {
        let Some(stream) = stream else {
            return Failure::NotProcessed(NotProcessed::NotSent);
        };
        if peer_reset == Some(ErrorCode::REFUSED_STREAM) {
            return Failure::NotProcessed(NotProcessed::Refused);
        }
        // RFC 9113 §6.8: streams above last_stream_id were not and will not be processed.
        if goaway_last_stream_id.is_some_and(|last| stream.0 > last.0) {
            return Failure::NotProcessed(NotProcessed::AboveGoAway);
        }
        Failure::MayHaveBeenProcessed
    }
}

/// What to do with a failed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it again on a fresh (or another healthy) connection.
    Retry,
    /// Not processed, so it would be safe, but the body cannot be produced again: surface
    /// the error (the caller may rebuild the request and retry).
    SafeButNotReplayable,
    /// Not processed, but the retry budget is spent.
    SafeButAttemptsExhausted,
    /// The server may have processed it: never retried automatically.
    NotSafe,
}

impl Verdict {
    /// Whether sending the request again cannot cause it to be processed twice.
    pub fn is_safe_to_retry(self) -> bool {
        !matches!(self, Verdict::NotSafe)
    }
}

/// How many times a request that was not processed is sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt. Default 3.
    pub max_retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 3 }
    }
}

impl RetryPolicy {
    /// The verdict for a request that failed with `failure` after `retries` retries so far,
    /// whose body is `replayable` (an empty body always is).
    // req 9113-8.7-1
    pub fn verdict(&self, failure: Failure, replayable: bool, retries: u32) -> Verdict {
        match failure {
            Failure::MayHaveBeenProcessed => Verdict::NotSafe,
            Failure::NotProcessed(_) if !replayable => Verdict::SafeButNotReplayable,
            Failure::NotProcessed(_) if retries >= self.max_retries => {
                Verdict::SafeButAttemptsExhausted
            }
            Failure::NotProcessed(_) => Verdict::Retry,
        }
    }
}
