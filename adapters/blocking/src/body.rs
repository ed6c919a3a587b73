//! Bodies: [`Body`] for what is sent, [`RecvBody`] for what is received.
//!
//! Received data reaches a `RecvBody` through a per-stream channel. The connection runs
//! with manual flow control: a chunk's bytes are released to the peer only once the
//! reader has consumed them, so a slow reader holds at most a stream window of data and
//! the peer waits (RFC 9113 §5.2).

use crate::driver::Msg;
use crate::error::Error;
use bytes::{Buf, Bytes};
use h2proto::StreamId;
use http::HeaderMap;
use std::fmt;
use std::io::{self, Read};
use std::sync::mpsc::{Receiver, Sender};

/// A body to send: whole bytes, or a reader streamed in chunks as flow control allows,
/// optionally followed by trailers.
///
/// ```
/// use h2proto_blocking::Body;
/// use std::io::Read;
///
/// let whole = Body::from("hello");
/// let streamed = Body::from_reader(std::io::repeat(b'x').take(1 << 20));
/// let with_trailers = Body::from(vec![1, 2, 3]).with_trailers(http::HeaderMap::new());
/// # let _ = (whole, streamed, with_trailers);
/// ```
pub struct Body {
    pub(crate) kind: Kind,
    pub(crate) trailers: Option<HeaderMap>,
}

pub(crate) enum Kind {
    Full(Bytes),
    Reader(Box<dyn Read + Send>),
}

impl Body {
    /// No body.
    pub fn empty() -> Body {
        Body::from(Bytes::new())
    }

    /// A body read from `reader` until EOF, on a thread of its own (client) or on the
    /// handler's worker (server). Reading pauses while the peer's flow-control window and
    /// the connection's send buffer are full. A read error resets the stream.
    pub fn from_reader(reader: impl Read + Send + 'static) -> Body {
        Body { kind: Kind::Reader(Box::new(reader)), trailers: None }
    }

    /// Ends the body with trailers.
    pub fn with_trailers(mut self, trailers: HeaderMap) -> Body {
        self.trailers = Some(trailers);
        self
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Body");
        match &self.kind {
            Kind::Full(b) => d.field("len", &b.len()),
            Kind::Reader(_) => d.field("reader", &".."),
        };
        d.field("trailers", &self.trailers).finish()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body { kind: Kind::Full(bytes), trailers: None }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Body {
        Body::from(Bytes::from(v))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Body {
        Body::from(Bytes::from_static(s))
    }
}

impl From<()> for Body {
    fn from(_: ()) -> Body {
        Body::empty()
    }
}

/// What the driver hands a [`RecvBody`].
pub(crate) enum Chunk {
    Data(Bytes),
    /// The body ended, with trailers or without.
    End(Option<HeaderMap>),
    Failed(Error),
}

/// A received body: a response's ([`ResponseBody`](crate::ResponseBody)) or a request's
/// ([`RequestBody`](crate::RequestBody)). Read it to EOF; then [`trailers`](Self::trailers)
/// holds the trailers, if the peer sent any.
///
/// A stream reset or a lost connection makes `read` fail, with an [`Error`] as the
/// `io::Error`'s source. Dropping a response body before its end cancels the stream
/// (RST_STREAM CANCEL); dropping a request body before its end discards the rest.
pub struct RecvBody {
    id: StreamId,
    rx: Receiver<Chunk>,
    driver: Sender<Msg>,
    /// The chunk being read, and its length when it arrived (released once consumed).
    chunk: Bytes,
    chunk_len: usize,
    trailers: Option<HeaderMap>,
    state: State,
}

enum State {
    Open,
    Ended,
    Failed(Error),
}

impl RecvBody {
    pub(crate) fn new(id: StreamId, rx: Receiver<Chunk>, driver: Sender<Msg>) -> RecvBody {
        RecvBody {
            id,
            rx,
            driver,
            chunk: Bytes::new(),
            chunk_len: 0,
            trailers: None,
            state: State::Open,
        }
    }

    /// The trailers, once `read` has returned EOF (`None` if the peer sent none).
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_ref()
    }

    /// Whether `read` has returned EOF.
    pub fn is_end(&self) -> bool {
        matches!(self.state, State::Ended) && self.chunk.is_empty()
    }

    /// Reads the rest of the body into a `Vec`.
    pub fn read_to_vec(&mut self) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        self.read_to_end(&mut v)?;
        Ok(v)
    }

    fn release(&mut self, n: usize) {
        if n > 0 {
            let _ = self.driver.send(Msg::Release(self.id, n));
        }
    }
}

impl Read for RecvBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.chunk.is_empty() {
            match &self.state {
                State::Ended => return Ok(0),
                State::Failed(e) => return Err(e.clone().into()),
                State::Open => {}
            }
            let next = self.rx.recv().unwrap_or(Chunk::Failed(Error::closed()));
            match next {
                Chunk::Data(data) => {
                    self.chunk_len = data.len();
                    self.chunk = data;
                }
                Chunk::End(trailers) => {
                    self.trailers = trailers;
                    self.state = State::Ended;
                }
                Chunk::Failed(e) => self.state = State::Failed(e),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        if self.chunk.is_empty() {
            let len = std::mem::take(&mut self.chunk_len);
            self.release(len);
        }
        Ok(n)
    }
}

impl Drop for RecvBody {
    fn drop(&mut self) {
        if !matches!(self.state, State::Open) {
            return;
        }
        // Give back the flow-control credit of everything received and not consumed.
        let mut unread = std::mem::take(&mut self.chunk_len);
        while let Ok(chunk) = self.rx.try_recv() {
            match chunk {
                Chunk::Data(data) => unread += data.len(),
                _ => return self.release(unread),
            }
        }
        self.release(unread);
        let _ = self.driver.send(Msg::BodyDropped(self.id));
    }
}

impl fmt::Debug for RecvBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvBody").field("stream", &self.id).finish_non_exhaustive()
    }
}
