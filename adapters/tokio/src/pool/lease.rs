//! A request's hold on one stream of a pooled connection, and the response body that
//! keeps it until the body ends.
//!
//! The pool counts a stream as busy from checkout until the response body is finished
//! (read to its end, failed, or dropped), which is when the connection's stream really
//! frees up. Dropping a [`Lease`] tells the pool; the [`ResponseBody`] carries it.

use super::error::{ClientError, ClientErrorKind};
use super::shared::Inner;
use crate::RecvBody;
use crate::client::SendRequest;
use bytes::Bytes;
use h2proto::StreamId;
use h2proto::pool::ConnId;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// One stream of connection `conn`, given back to the pool when dropped.
pub(crate) struct Lease {
    inner: Arc<Inner>,
    pub(crate) conn: ConnId,
    pub(crate) send: SendRequest,
}

impl Lease {
    pub(crate) fn new(inner: Arc<Inner>, conn: ConnId, send: SendRequest) -> Lease {
        Lease { inner, conn, send }
    }

    /// The connection is full below the pool's guess of its limit (the pool learns).
    pub(crate) fn busy(&self) {
        let conn = self.conn;
        self.inner.run(|shared, now| shared.pool.busy(conn, now));
    }

    /// The peer refused the stream (REFUSED_STREAM): maybe a limit below the pool's guess.
    pub(crate) fn refused(&self) {
        let conn = self.conn;
        self.inner.run(|shared, now| shared.pool.refused(conn, now));
    }

    /// The connection takes no new requests (GOAWAY, closed): the pool drains it.
    pub(crate) fn going_away(&self) {
        let conn = self.conn;
        self.inner.run(|shared, _| shared.pool.go_away(conn));
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let conn = self.conn;
        self.inner.run(|shared, now| shared.pool.stream_finished(conn, now));
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
    sleep: Pin<Box<tokio::time::Sleep>>,
    armed: bool,
}

impl ResponseBody {
    pub(crate) fn new(body: RecvBody, lease: Lease, timeout: Option<Duration>) -> ResponseBody {
        let lease = if body.is_end_stream() { None } else { Some(lease) };
        let stall = timeout.filter(|_| lease.is_some()).map(|timeout| Stall {
            timeout,
            sleep: Box::pin(tokio::time::sleep(timeout)),
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
        if !self.armed {
            self.armed = true;
            self.sleep.as_mut().reset(tokio::time::Instant::now() + self.timeout);
        }
        self.sleep.as_mut().poll(cx).is_ready()
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
