//! A request's hold on one stream of a pooled connection, and the response body that
//! keeps it until the body ends.
//!
//! The pool counts a stream as busy from checkout until the response body is finished
//! (read to its end, failed, or dropped), which is when the connection's stream really
//! frees up. Dropping a [`Lease`] tells the pool; the [`ResponseBody`] carries it.

use super::error::{ClientError, ClientErrorKind};
use super::lane::{Lane, Leave};
use super::shared::Inner;
use crate::RecvBody;
use bytes::Bytes;
use h2proto::StreamId;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// One stream of a connection (its lane), given back when dropped: kept by the lane as a
/// credit for the next request, or given back to the pool (see `lane.rs`).
pub(crate) struct Lease {
    inner: Arc<Inner>,
    pub(crate) lane: Arc<Lane>,
    /// The stream goes back to the pool, never to the lane (the connection was full,
    /// refused it, or is going away).
    to_pool: bool,
}

impl Lease {
    /// A stream the pool gave, or a credit taken from `lane`.
    pub(crate) fn new(inner: Arc<Inner>, lane: Arc<Lane>) -> Lease {
        lane.enter();
        Lease { inner, lane, to_pool: false }
    }

    /// The connection is full below the pool's guess of its limit (the pool learns). Its
    /// credits go back first: the pool counts the streams really in use.
    pub(crate) fn busy(&mut self) {
        self.to_pool = true;
        let lane = self.lane.clone();
        self.inner.run(|shared, now| {
            for _ in 0..lane.drain() {
                shared.pool.stream_finished(lane.conn, now);
            }
            shared.pool.busy(lane.conn, now);
        });
    }

    /// The peer refused the stream (REFUSED_STREAM): maybe a limit below the pool's guess.
    pub(crate) fn refused(&mut self) {
        self.to_pool = true;
        let conn = self.lane.conn;
        self.inner.run(|shared, now| shared.pool.refused(conn, now));
    }

    /// The connection takes no new requests (GOAWAY, closed): the pool drains it, and
    /// gets its credits back.
    pub(crate) fn going_away(&mut self) {
        self.to_pool = true;
        let lane = self.lane.clone();
        self.inner.run(|shared, now| {
            shared.pool.go_away(lane.conn);
            for _ in 0..lane.drain() {
                shared.pool.stream_finished(lane.conn, now);
            }
        });
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let give_back = if self.to_pool {
            self.lane.quit()
        } else {
            match self.lane.leave(&self.inner.waiting) {
                Leave::GiveBack(n) => n,
                Leave::Kept => return,
                Leave::KeptIdle => return self.inner.arm_sweep(),
            }
        };
        if give_back > 0 {
            let conn = self.lane.conn;
            self.inner.run(|shared, now| {
                for _ in 0..give_back {
                    shared.pool.stream_finished(conn, now);
                }
            });
        }
    }
}

/// The body of a response from a [`Client`](super::Client): the connection's
/// [`RecvBody`], holding the request's place in the pool until it ends.
///
/// With a body timeout ([`ClientBuilder::body_timeout`](super::ClientBuilder::body_timeout)),
/// a body that receives nothing for that long fails with
/// [`ClientErrorKind::BodyStalled`] instead of hanging (its stream is then reset).
pub struct ResponseBody {
    body: RecvBody,
    lease: Option<Lease>,
    /// The body timeout and its timer, armed when a poll finds nothing (so a reader that
    /// pauses is not blamed on the sender).
    stall: Option<Stall>,
}

struct Stall {
    timeout: Duration,
    /// Made at the first empty poll: a body that is there when read needs no timer.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    armed: bool,
}

impl ResponseBody {
    pub(crate) fn new(body: RecvBody, lease: Lease, timeout: Option<Duration>) -> ResponseBody {
        let lease = if body.is_end_stream() { None } else { Some(lease) };
        let stall = timeout.filter(|_| lease.is_some()).map(|timeout| Stall {
            timeout,
            sleep: None,
            armed: false,
        });
        ResponseBody { body, lease, stall }
    }

    /// The stream the body arrives on.
    pub fn stream_id(&self) -> Option<StreamId> {
        self.body.stream_id()
    }
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody").field("stream_id", &self.stream_id()).finish()
    }
}

impl Stall {
    /// Arms the timer if this is the first empty poll since data came; whether it expired.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !self.armed {
            self.armed = true;
            sleep.as_mut().reset(deadline);
        }
        sleep.as_mut().poll(cx).is_ready()
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = ClientError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ClientError>>> {
        let this = self.get_mut();
        if this.lease.is_none() && this.stall.is_some() {
            // Failed (stalled) before: stays failed.
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        match &polled {
            Poll::Ready(_) => {
                if let Some(stall) = &mut this.stall {
                    stall.armed = false;
                }
            }
            Poll::Pending => {
                if let Some(stall) = &mut this.stall
                    && stall.poll_expired(cx)
                {
                    // Dropping the connection's body resets the stream (CANCEL).
                    this.body = RecvBody::empty();
                    this.lease = None;
                    return Poll::Ready(Some(Err(ClientError::new(ClientErrorKind::BodyStalled))));
                }
            }
        }
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) || this.body.is_end_stream() {
            this.lease = None;
            this.stall = None;
        }
        polled.map(|frame| frame.map(|r| r.map_err(|e| ClientError::new(ClientErrorKind::Body(e)))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
