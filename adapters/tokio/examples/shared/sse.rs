//! Server-Sent Events (`text/event-stream`) as a response body, shared by the `sse` example
//! and the tests that read it (each includes this file with `#[path]`).
//!
//! The events come from a producer task that writes into a channel of capacity one; the
//! response body takes from the channel only when the connection asks it for more data,
//! which it does only while the stream's flow-control window is open. So a client that
//! stops reading stops the producer: its `send` waits, and what was made but not read is
//! bounded by the client's stream window, the server's per-stream send buffer
//! (`Config::max_send_buffer_per_stream`) and the one event in the channel. Memory does not
//! grow with time, and the producer resumes where it stopped once the client reads again.
#![allow(dead_code)] // each includer uses the part it needs

use bytes::Bytes;
use http::{Response, header};
use http_body::{Body, Frame};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// How many events a stream's producer made so far (sent into the channel).
pub type Produced = Arc<AtomicU64>;

/// The body of an event stream: events as the producer task sends them.
#[derive(Debug)]
pub struct SseBody {
    rx: mpsc::Receiver<Bytes>,
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|event| event.map(|e| Ok(Frame::data(e))))
    }
}

/// One event in the wire format (WHATWG HTML §9.2): `id`, `data`, blank line.
pub fn event(id: u64) -> Bytes {
    Bytes::from(format!("id: {id}\ndata: event {id}\n\n"))
}

/// A `200 text/event-stream` response whose producer sends events 0, 1, 2, ... every
/// `interval` (as fast as the client reads when zero), `count` of them or endlessly, and
/// then a final `event: end`. The producer ends when the client goes away.
pub fn stream(count: Option<u64>, interval: Duration, produced: Produced) -> Response<SseBody> {
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut id = 0;
        while count.is_none_or(|count| id < count) {
            if tx.send(event(id)).await.is_err() {
                return; // the response was dropped: the client reset the stream or left
            }
            produced.fetch_add(1, Ordering::SeqCst);
            id += 1;
            if !interval.is_zero() {
                tokio::time::sleep(interval).await;
            }
        }
        let _ = tx.send(Bytes::from_static(b"event: end\ndata: end\n\n")).await;
    });
    let mut response = Response::new(SseBody { rx });
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// Splits received bytes into events: feed it what arrives, it returns the complete events
/// (their `id` field, `None` for one without) and keeps a partial event for later.
#[derive(Debug, Default)]
pub struct Parser {
    partial: Vec<u8>,
}

impl Parser {
    /// The events completed by `bytes`.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Option<u64>> {
        self.partial.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.partial.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = self.partial.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&block);
            let id = text.lines().find_map(|l| l.strip_prefix("id: ")).and_then(|v| v.parse().ok());
            events.push(id);
        }
        events
    }
}
