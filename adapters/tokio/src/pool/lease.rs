//! A request's hold on one stream of a pooled connection, and the response body that
//! keeps it until the body ends.
//!
//! The pool counts a stream as busy from checkout until the response body is finished
//! (read to its end, failed, or dropped), which is when the connection's stream really
//! frees up. Dropping a [`Lease`] tells the pool; the [`ResponseBody`] carries it.

use super::shared::Inner;
use crate::client::SendRequest;
use crate::{Error, RecvBody};
use bytes::Bytes;
use h2proto::StreamId;
use h2proto::pool::ConnId;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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

    /// The connection is full below the pool's count: the pool takes its current load as
    /// its limit.
    pub(crate) fn busy(&self) {
        let (conn, limit) = (self.conn, self.send.in_flight());
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        self.inner.run(|shared, now| shared.pool.settings_changed(conn, limit, now));
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
pub struct ResponseBody {
    body: RecvBody,
    lease: Option<Lease>,
}

impl ResponseBody {
    pub(crate) fn new(body: RecvBody, lease: Lease) -> ResponseBody {
        let lease = if body.is_end_stream() { None } else { Some(lease) };
        ResponseBody { body, lease }
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

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) || this.body.is_end_stream() {
            this.lease = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
