//! Bodies in both directions.
//!
//! **Receiving** ([`RecvBody`]): the connection task moves DATA out of the core into a
//! per-stream queue shared with the body handle (one `Mutex` per stream, touched only by
//! that stream's handle and the connection task). The core runs with
//! `auto_release_capacity = false`: moving data does not return flow-control credit.
//! Reading does: the body counts the bytes handed to the application and asks the
//! connection task to release them (`Connection::release_capacity`), one message per
//! `RELEASE_BATCH` bytes or whenever the reader has caught up. Once a stream's data has
//! all arrived only its connection credit matters: that is summed over the connection's
//! bodies and released by the task on its next turn, without a message (see [`Deferred`]). So the peer can never be
//! more than one stream window ahead of what the application consumed: a reader that stops
//! reading stops the peer (real backpressure), and the queue never holds more than the
//! window. Bytes consumed after the core forgot a closed stream still return their
//! connection-level credit, and a dropped body releases what it never read.
//!
//! A client's response body that came whole in the read that brought its head (one DATA
//! frame with END_STREAM: most small responses) skips the queue: the body holds its one
//! chunk and returns its connection credit as it is read or dropped, with no shared state,
//! lock or wake-up (the connection task holds heads back while a read's events are handed
//! out, see `Driver::hold_head`).
//!
//! **Sending**: any [`http_body::Body`] whose data is a [`Buf`]. The connection task polls
//! it only when the stream can take more (the core's `send_data` accepted everything so
//! far; otherwise it waits for `Event::SendCapacity`), so a fast body never outruns the
//! peer. A [`TunnelBody`] is a body fed by an `AsyncWrite` handle (see
//! [`Tunnel`](crate::Tunnel)).

use crate::driver::Command;
use crate::error::{BoxError, Error};
use bytes::{Buf, Bytes, BytesMut};
use h2proto::StreamId;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::sync::mpsc::UnboundedSender;

/// Consumed bytes a body accumulates before it asks for their release (sooner when the
/// reader has caught up with the data received).
pub(crate) const RELEASE_BATCH: usize = 16 << 10;

/// Bytes a [`TunnelBody`] buffers before its writer waits.
const PIPE_CAPACITY: usize = 64 << 10;

/// The receive queue of one stream, shared by its body handle and the connection task.
#[derive(Default)]
pub(crate) struct RecvShared {
    state: Mutex<RecvState>,
}

#[derive(Default)]
pub(crate) struct RecvState {
    /// Data moved out of the core, not yet read.
    pub(crate) chunks: Chunks,
    /// Bytes in `chunks`.
    pub(crate) buffered: usize,
    /// No more data will come: the peer ended the stream and the core is drained.
    pub(crate) finished: bool,
    /// Trailers, handed out after the last data. Boxed, as the error: both are rare, and
    /// every stream in flight holds this state (96 and 40 bytes inline).
    pub(crate) trailers: Option<Box<HeaderMap>>,
    /// The stream failed; handed out after the data already queued.
    pub(crate) error: Option<Box<Error>>,
    /// Bytes read by the application, not yet released to flow control.
    to_release: usize,
    waker: Option<Waker>,
}

/// A queue of received chunks whose first is held inline: most bodies arrive as one
/// chunk, which then costs no allocation (a `VecDeque` allocates on its first push, once
/// per stream). Further chunks go to a boxed `VecDeque`.
#[derive(Default)]
pub(crate) struct Chunks {
    head: Option<Bytes>,
    // Boxed: the rare overflow pays one allocation, every stream is 24 bytes smaller.
    #[allow(clippy::box_collection)]
    rest: Option<Box<VecDeque<Bytes>>>,
}

impl Chunks {
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    pub(crate) fn push_back(&mut self, chunk: Bytes) {
        match &self.head {
            None => self.head = Some(chunk),
            Some(_) => self.rest.get_or_insert_default().push_back(chunk),
        }
    }

    pub(crate) fn pop_front(&mut self) -> Option<Bytes> {
        let head = self.head.take()?;
        self.head = self.rest.as_mut().and_then(|rest| rest.pop_front());
        Some(head)
    }

    pub(crate) fn clear(&mut self) {
        self.head = None;
        self.rest = None;
    }
}

impl RecvShared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, RecvState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RecvState {
    /// The waker to call once the lock is released, if the reader waits.
    pub(crate) fn take_waker(&mut self) -> Option<Waker> {
        self.waker.take()
    }

    /// Counts `n` consumed bytes; returns how many to release now, if it is time.
    fn consumed(&mut self, n: usize, flush: bool) -> Option<usize> {
        self.to_release += n;
        let due = self.to_release > 0 && (flush || self.to_release >= RELEASE_BATCH);
        due.then(|| std::mem::take(&mut self.to_release))
    }
}

/// A received body: request bodies on the server, response bodies on the client.
///
/// Implements [`http_body::Body`] with `Data = Bytes`: data frames, then the trailers if
/// the peer sent any. A reset stream or a failed connection yields an [`Error`] after the
/// data that arrived before it. Reading releases flow-control credit to the peer;
/// dropping the body before its end cancels the stream (client: RST_STREAM CANCEL) or
/// discards the rest (server, so the response can still be sent).
pub struct RecvBody {
    source: Source,
}

enum Source {
    /// No body (the message had none).
    Empty,
    /// A response body that arrived whole with its head, as one chunk (most small
    /// responses): handed out without a shared queue, its lock or a wake-up. `None` once
    /// read.
    Whole { data: Option<Bytes>, credit: Credit },
    /// Data as it arrives, through the stream's queue.
    Queued(Inner),
}

/// Where a body's consumed bytes go back to flow control.
struct Credit {
    id: StreamId,
    tx: UnboundedSender<Command>,
    deferred: Deferred,
}

struct Inner {
    shared: Arc<RecvShared>,
    credit: Credit,
    /// The end (or an error) was handed out.
    done: bool,
}

/// Connection-level credit consumed from bodies whose data has all arrived, summed for the
/// connection task to release on its next turn (`Connection::release_connection_capacity`)
/// instead of one `Command::Release` per body: a stream that ended needs no stream credit
/// back. At most [`RELEASE_BATCH`] bytes wait unannounced; past it the task is woken
/// (`Command::ReleaseDeferred`), so a peer waiting for connection credit is never left
/// waiting on a task asleep.
pub(crate) type Deferred = Arc<AtomicUsize>;

impl Credit {
    /// Returns `n` consumed bytes to flow control: through the connection's deferred sum
    /// once the stream's data has all arrived, else with a message to the task.
    fn release(&self, n: usize, finished: bool) {
        if !finished {
            let _ = self.tx.send(Command::Release(self.id, n));
            return;
        }
        let before = self.deferred.fetch_add(n, Ordering::Relaxed);
        if before < RELEASE_BATCH && before + n >= RELEASE_BATCH {
            let _ = self.tx.send(Command::ReleaseDeferred);
        }
    }
}

impl RecvBody {
    pub(crate) fn new(
        id: StreamId,
        shared: Arc<RecvShared>,
        tx: UnboundedSender<Command>,
        deferred: Deferred,
    ) -> Self {
        let credit = Credit { id, tx, deferred };
        RecvBody { source: Source::Queued(Inner { shared, credit, done: false }) }
    }

    /// The whole body of stream `id`, all its data in one chunk, the stream ended.
    pub(crate) fn whole(
        id: StreamId,
        data: Bytes,
        tx: UnboundedSender<Command>,
        deferred: Deferred,
    ) -> Self {
        let data = (!data.is_empty()).then_some(data);
        RecvBody { source: Source::Whole { data, credit: Credit { id, tx, deferred } } }
    }

    /// A body that has already ended (the message had none).
    pub fn empty() -> RecvBody {
        RecvBody { source: Source::Empty }
    }

    /// The stream this body arrives on (`None` for [`RecvBody::empty`]).
    pub fn stream_id(&self) -> Option<StreamId> {
        match &self.source {
            Source::Empty => None,
            Source::Whole { credit, .. } | Source::Queued(Inner { credit, .. }) => Some(credit.id),
        }
    }
}

impl std::fmt::Debug for RecvBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBody").field("stream_id", &self.stream_id()).finish()
    }
}

impl Body for RecvBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let inner = match &mut self.get_mut().source {
            Source::Empty => return Poll::Ready(None),
            Source::Whole { data, credit } => {
                let Some(data) = data.take() else { return Poll::Ready(None) };
                credit.release(data.len(), true);
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            Source::Queued(inner) => inner,
        };
        if inner.done {
            return Poll::Ready(None);
        }
        let mut st = inner.shared.lock();
        if let Some(chunk) = st.chunks.pop_front() {
            st.buffered -= chunk.len();
            let caught_up = st.chunks.is_empty();
            let release = st.consumed(chunk.len(), caught_up);
            let finished = st.finished;
            drop(st);
            if let Some(n) = release {
                inner.credit.release(n, finished);
            }
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if let Some(error) = st.error.take() {
            inner.done = true;
            return Poll::Ready(Some(Err(*error)));
        }
        if st.finished {
            if let Some(trailers) = st.trailers.take() {
                return Poll::Ready(Some(Ok(Frame::trailers(*trailers))));
            }
            inner.done = true;
            return Poll::Ready(None);
        }
        match &mut st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        match &self.source {
            Source::Empty => true,
            Source::Whole { data, .. } => data.is_none(),
            Source::Queued(inner) if inner.done => true,
            Source::Queued(inner) => {
                let st = inner.shared.lock();
                st.finished && st.chunks.is_empty() && st.trailers.is_none() && st.error.is_none()
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.source {
            Source::Empty => SizeHint::with_exact(0),
            Source::Whole { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Source::Queued(_) => SizeHint::default(),
        }
    }
}

impl Drop for RecvBody {
    fn drop(&mut self) {
        let inner = match &mut self.source {
            Source::Empty => return,
            // What was received and never read is done with, too.
            Source::Whole { data, credit } => {
                if let Some(data) = data.take() {
                    credit.release(data.len(), true);
                }
                return;
            }
            Source::Queued(inner) => inner,
        };
        let (release, finished, ended) = {
            let mut st = inner.shared.lock();
            // What was received and never read is done with, too.
            let unread = std::mem::take(&mut st.buffered);
            st.chunks.clear();
            let ended = inner.done || st.finished || st.error.is_some();
            (st.consumed(unread, true), st.finished, ended)
        };
        if let Some(n) = release {
            inner.credit.release(n, finished);
        }
        if !ended {
            let _ = inner.credit.tx.send(Command::RecvDropped(inner.credit.id));
        }
    }
}

/// A body to send, type-erased, with `Bytes` data.
pub(crate) type BoxBody = Pin<Box<dyn Body<Data = Bytes, Error = BoxError> + Send + 'static>>;

pin_project_lite::pin_project! {
    /// Adapts any body to `BoxBody`: `Buf` data becomes `Bytes` (without copying when it
    /// already is `Bytes`), errors are boxed.
    struct MapBody<B> {
        #[pin]
        inner: B,
    }
}

impl<B> Body for MapBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project().inner.poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(
                frame.map_data(|mut data| data.copy_to_bytes(data.remaining()))
            ))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Boxes a body to send, or `None` when it is already at its end (the head then carries
/// END_STREAM).
pub(crate) fn boxed<B>(body: B) -> Option<BoxBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    if body.is_end_stream() {
        return None;
    }
    Some(Box::pin(MapBody { inner: body }))
}

// ----- The pipe behind a tunnel's write side -----

#[derive(Default)]
struct PipeState {
    buf: BytesMut,
    /// The writer finished (shutdown or dropped): END_STREAM after `buf`.
    closed: bool,
    /// The body was dropped (stream reset or connection gone).
    reader_gone: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

type Pipe = Arc<Mutex<PipeState>>;

fn lock(pipe: &Pipe) -> MutexGuard<'_, PipeState> {
    pipe.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The sending half of a [`Tunnel`](crate::Tunnel): a body fed by the tunnel's
/// `AsyncWrite` side. Use it as the response body (server) when accepting a CONNECT.
///
/// Small writes are coalesced: everything written since the connection task last took
/// data goes out as one DATA frame (up to the peer's frame size).
pub struct TunnelBody {
    pipe: Pipe,
}

/// The writing end of a [`TunnelBody`].
pub(crate) struct PipeWriter {
    pipe: Pipe,
}

pub(crate) fn pipe() -> (PipeWriter, TunnelBody) {
    let pipe = Pipe::default();
    (PipeWriter { pipe: pipe.clone() }, TunnelBody { pipe })
}

impl std::fmt::Debug for TunnelBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunnelBody").finish_non_exhaustive()
    }
}

impl Body for TunnelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let mut st = lock(&self.pipe);
        if !st.buf.is_empty() {
            let data = st.buf.split().freeze();
            let writer = st.writer.take();
            drop(st);
            if let Some(w) = writer {
                w.wake();
            }
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if st.closed {
            return Poll::Ready(None);
        }
        st.reader = Some(cx.waker().clone());
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        let st = lock(&self.pipe);
        st.closed && st.buf.is_empty()
    }
}

impl Drop for TunnelBody {
    fn drop(&mut self) {
        let mut st = lock(&self.pipe);
        st.reader_gone = true;
        let writer = st.writer.take();
        drop(st);
        if let Some(w) = writer {
            w.wake();
        }
    }
}

impl PipeWriter {
    pub(crate) fn poll_write(
        &self,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut st = lock(&self.pipe);
        if st.reader_gone || st.closed {
            return Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()));
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let room = PIPE_CAPACITY.saturating_sub(st.buf.len());
        if room == 0 {
            st.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(data.len());
        st.buf.extend_from_slice(&data[..n]);
        let reader = st.reader.take();
        drop(st);
        if let Some(r) = reader {
            r.wake();
        }
        Poll::Ready(Ok(n))
    }

    /// Ends the stream after what was written.
    pub(crate) fn close(&self) {
        let mut st = lock(&self.pipe);
        st.closed = true;
        let reader = st.reader.take();
        drop(st);
        if let Some(r) = reader {
            r.wake();
        }
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        self.close();
    }
}
