//! The output side: frames waiting to be written, as one `bytes::Buf`.
//!
//! Control frames and frame headers are written into one growing buffer, so a burst of
//! small frames goes out as a single slice. A DATA payload larger than a small threshold is
//! not copied: the buffer is sealed and the caller's `Bytes` is queued as its own chunk.
//! [`Buf::chunks_vectored`] then hands all of it to `writev` at once.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::IoSlice;

/// Payloads up to this size are copied next to their frame header: one copy of a few
/// hundred bytes is cheaper than an extra iovec and reference count.
const COPY_THRESHOLD: usize = 256;

/// Capacity kept in the frame buffer once everything is flushed; more is released so an
/// idle connection holds little memory.
const KEEP_CAPACITY: usize = 4096;

/// Pending output: a queue of byte chunks implementing [`Buf`].
///
/// Write it with `chunks_vectored` + `advance`, e.g. tokio's `write_all_buf` or a `writev`
/// loop; what is advanced over is gone.
#[derive(Debug, Default)]
pub struct Transmit {
    /// Sealed chunks, in order: runs of frames, and uncopied DATA payloads.
    chunks: VecDeque<Bytes>,
    /// Bytes in `chunks`.
    sealed: usize,
    /// Frames being written, after the sealed chunks.
    buf: BytesMut,
}

impl Transmit {
    /// The buffer frames are encoded into.
    pub(crate) fn frame_buf(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Queues a DATA payload right after what was written so far.
    pub(crate) fn push_payload(&mut self, payload: Bytes) {
        if payload.len() <= COPY_THRESHOLD {
            self.buf.extend_from_slice(&payload);
            return;
        }
        self.seal();
        self.sealed += payload.len();
        self.chunks.push_back(payload);
    }

    fn seal(&mut self) {
        if !self.buf.is_empty() {
            let run = self.buf.split().freeze();
            self.sealed += run.len();
            self.chunks.push_back(run);
        }
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.sealed + self.buf.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Releases a large frame buffer once all output is written.
    pub(crate) fn shrink_if_idle(&mut self) {
        if self.is_empty() && self.buf.capacity() > KEEP_CAPACITY {
            self.buf = BytesMut::new();
        }
    }
}

impl Buf for Transmit {
    fn remaining(&self) -> usize {
        self.len()
    }

    fn chunk(&self) -> &[u8] {
        match self.chunks.front() {
            Some(chunk) => chunk,
            None => &self.buf,
        }
    }

    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                assert!(n <= self.buf.len(), "advance past the end of Transmit");
                self.buf.advance(n);
                return;
            };
            let step = n.min(front.len());
            front.advance(step);
            self.sealed -= step;
            n -= step;
            if front.is_empty() {
                self.chunks.pop_front();
            }
        }
    }

    /// Hands out the front chunk itself when it is long enough: with this, a transport that
    /// moves `Bytes` (a channel, an in-memory pair) passes DATA payloads without copying.
    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        if let Some(front) = self.chunks.front_mut() {
            if front.len() >= len {
                let out = front.split_to(len);
                self.sealed -= len;
                if front.is_empty() {
                    self.chunks.pop_front();
                }
                return out;
            }
        } else if self.buf.len() >= len {
            return self.buf.split_to(len).freeze();
        }
        let mut out = BytesMut::with_capacity(len);
        out.put((&mut *self).take(len));
        out.freeze()
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let chunks = self.chunks.iter().map(|c| &c[..]);
        let mut n = 0;
        for chunk in chunks.chain(std::iter::once(&self.buf[..])) {
            if n == dst.len() {
                break;
            }
            if !chunk.is_empty() {
                dst[n] = IoSlice::new(chunk);
                n += 1;
            }
        }
        n
    }
}
