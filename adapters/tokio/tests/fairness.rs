//! Fairness: a connection whose peer keeps the socket full is driven one bounded turn at a
//! time, so the other connections of its runtime thread get theirs (issue 17: a flooding
//! connection must not starve the others). Proven by counting, not timing: a transport
//! that always has more input ready is polled once, and the bytes the connection read in
//! that one turn stay within one turn's budget. Latencies under floods are measured by
//! `benches/fairness.sh`, not asserted here.

use bytes::Bytes;
use h2proto::frame::{Frame, Settings, WindowUpdate};
use h2proto::{PREFACE, StreamId};
use h2proto_tokio::RecvBody;
use h2proto_tokio::server::Server;
use http::{Request, Response};
use http_body_util::Full;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A peer that never stops sending: the preface, SETTINGS, then legal WINDOW_UPDATEs of 1
/// on the connection (13 bytes each, cheap to send, each a frame to process), as many as
/// every read asks for. Whatever the server writes is accepted and dropped.
struct Flood {
    opening: Bytes,
    frame: Bytes,
    offset: usize,
    read: Arc<AtomicUsize>,
}

impl Flood {
    fn new(read: Arc<AtomicUsize>) -> Flood {
        let mut opening = bytes::BytesMut::from(&PREFACE[..]);
        Frame::from(Settings::new()).encode(&mut opening);
        let mut frame = bytes::BytesMut::new();
        Frame::from(WindowUpdate { stream_id: StreamId(0), increment: 1 }).encode(&mut frame);
        Flood { opening: opening.freeze(), frame: frame.freeze(), offset: 0, read }
    }
}

impl AsyncRead for Flood {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        if !self.opening.is_empty() {
            let n = self.opening.len().min(buf.remaining());
            let head = self.opening.split_to(n);
            buf.put_slice(&head);
        }
        while buf.remaining() > 0 {
            let frame = self.frame.clone();
            let n = (frame.len() - self.offset).min(buf.remaining());
            buf.put_slice(&frame[self.offset..self.offset + n]);
            self.offset = (self.offset + n) % frame.len();
        }
        self.read.fetch_add(buf.filled().len() - before, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Flood {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

async fn hello(_: Request<RecvBody>) -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(b"hello")))
}

/// Polls `connection` once, as the runtime would for one wake-up.
async fn one_turn<F: Future + Unpin>(connection: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *connection).poll(cx))).await
}

#[tokio::test(flavor = "current_thread")]
async fn a_peer_that_never_stops_sending_gets_one_bounded_turn_per_wakeup() {
    let read = Arc::new(AtomicUsize::new(0));
    let mut connection = Server::default().handshake(Flood::new(read.clone()), hello);
    // The driver's read size is 64 KiB; one turn may read at most one budget (64 KiB) plus
    // the read that crossed it. Before the budget, one wake-up read 32 rounds of 64 KiB.
    let turn_limit = 2 * (64 << 10);
    for turn in 0..20 {
        let before = read.load(Ordering::Relaxed);
        assert!(one_turn(&mut connection).await.is_pending(), "the flood is legal");
        let this_turn = read.load(Ordering::Relaxed) - before;
        assert!(this_turn > 0, "turn {turn} made no progress");
        assert!(this_turn <= turn_limit, "turn {turn} read {this_turn} bytes in one wake-up");
        // Let the runtime run its I/O driver and other tasks, as it would between turns.
        tokio::task::yield_now().await;
    }
}
