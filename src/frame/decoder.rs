//! Splitting a byte stream into frames.
//!
//! Input arrives in chunks of any size. A frame that lies wholly inside one `Bytes` chunk is
//! cut out of it with `split_to`, so its payload — a DATA body, say — is a view of the
//! caller's buffer and is never copied; so is a payload whose 9-byte header came in the
//! chunk before. Only a payload that straddles chunks is gathered into an internal buffer,
//! and that buffer never holds more than one frame: the length
//! is checked against SETTINGS_MAX_FRAME_SIZE as soon as the 9-byte header is complete,
//! before any of the payload is buffered (RFC 9113 §4.2), so a peer cannot make us hold more.

use super::{DEFAULT_MAX_FRAME_SIZE, Frame, FrameHeader, HEADER_LEN, frame_size_error};
use crate::ProtocolError;
use bytes::{Buf, Bytes, BytesMut};

/// The most room set aside for a straddling frame on the strength of its header alone;
/// the default SETTINGS_MAX_FRAME_SIZE fits, larger frames grow as their bytes arrive.
const MAX_PRESIZE: usize = 64 << 10;

/// Turns a byte stream into [`Frame`]s, in any chunking.
#[derive(Debug)]
pub struct FrameDecoder {
    /// Bytes of a frame that started in an earlier chunk.
    partial: BytesMut,
    /// The unread rest of the latest chunk.
    input: Bytes,
    /// Our SETTINGS_MAX_FRAME_SIZE.
    max_frame_size: u32,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// A decoder accepting frames up to the default 16,384-byte payload.
    pub fn new() -> FrameDecoder {
        FrameDecoder {
            partial: BytesMut::new(),
            input: Bytes::new(),
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
        }
    }

    /// The largest payload accepted: our SETTINGS_MAX_FRAME_SIZE. Larger frames are a
    /// FRAME_SIZE_ERROR.
    pub fn max_frame_size(&self) -> u32 {
        self.max_frame_size
    }

    /// Changes the largest payload accepted (once the peer has acknowledged our setting).
    pub fn set_max_frame_size(&mut self, max: u32) {
        self.max_frame_size = max;
    }

    /// Adds a chunk of input. Frames inside it are later handed out without copying.
    pub fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        if self.input.is_empty() {
            self.input = chunk;
        } else {
            // The caller pushed again before draining: keep order by buffering the rest.
            self.partial.extend_from_slice(&self.input);
            self.input = chunk;
        }
    }

    /// Adds a chunk of input by copying it.
    pub fn extend(&mut self, chunk: &[u8]) {
        self.push(Bytes::copy_from_slice(chunk));
    }

    /// Bytes received but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.partial.len() + self.input.len()
    }

    /// Hands back the unread rest of the latest chunk, e.g. to stop reading while output
    /// drains; offer it again with `push` later. Bytes of a frame already partly buffered
    /// stay, and the order is kept.
    pub fn take_input(&mut self) -> Bytes {
        std::mem::take(&mut self.input)
    }

    /// The next whole frame, `Ok(None)` when more input is needed.
    ///
    /// After an error of [`Scope::Stream`](crate::Scope::Stream) the offending frame has
    /// been consumed and decoding can go on. After a connection error the stream of frames
    /// cannot be trusted and the connection must end.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ProtocolError> {
        match self.next_raw()? {
            Some((header, payload)) => Frame::decode(header, payload).map(Some),
            None => Ok(None),
        }
    }

    /// The next whole frame as header and undecoded payload, for callers that route by
    /// type before decoding.
    pub fn next_raw(&mut self) -> Result<Option<(FrameHeader, Bytes)>, ProtocolError> {
        if self.partial.is_empty() {
            if let Some(head) = peek_header(&self.input) {
                let total = self.frame_len(&head)?;
                if self.input.len() >= total {
                    let mut frame = self.input.split_to(total);
                    frame.advance(HEADER_LEN);
                    return Ok(Some((head, frame)));
                }
                // The frame will be gathered here: room for it at once, not by doubling.
                self.partial.reserve(total.min(MAX_PRESIZE));
            }
            // An incomplete frame: keep what there is and wait for more.
            self.partial.extend_from_slice(&self.input);
            self.input.clear();
            return self.complete_partial();
        }
        self.complete_partial()
    }

    /// Completes the frame in `partial` from `input`, as far as `input` allows.
    fn complete_partial(&mut self) -> Result<Option<(FrameHeader, Bytes)>, ProtocolError> {
        self.fill_partial(HEADER_LEN);
        let Some(head) = peek_header(&self.partial) else {
            return Ok(None);
        };
        let total = self.frame_len(&head)?;
        // A header that arrived alone (a vectored write puts header and payload in separate
        // chunks) does not make the payload straddle: slice it from the next chunk.
        let payload_len = total - HEADER_LEN;
        if self.partial.len() == HEADER_LEN && self.input.len() >= payload_len {
            self.partial.clear();
            return Ok(Some((head, self.input.split_to(payload_len))));
        }
        self.partial.reserve(total.min(MAX_PRESIZE).saturating_sub(self.partial.len()));
        self.fill_partial(total);
        if self.partial.len() < total {
            return Ok(None);
        }
        let mut frame = self.partial.split_to(total).freeze();
        frame.advance(HEADER_LEN);
        Ok(Some((head, frame)))
    }

    fn fill_partial(&mut self, want: usize) {
        let need = want.saturating_sub(self.partial.len()).min(self.input.len());
        if need > 0 {
            self.partial.extend_from_slice(&self.input[..need]);
            self.input.advance(need);
        }
    }

    /// The whole frame length, once the header has passed the §4.2 size check.
    fn frame_len(&self, head: &FrameHeader) -> Result<usize, ProtocolError> {
        // §4.2: a frame over SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR. Treated as a
        // connection error for every type: the payload is never buffered, so there is no
        // safe way to skip it and keep flow-control accounting exact.
        // req 9113-4.2-2
        if head.length > self.max_frame_size {
            return Err(frame_size_error("frame larger than SETTINGS_MAX_FRAME_SIZE"));
        }
        Ok(HEADER_LEN + head.length as usize)
    }
}

fn peek_header(bytes: &[u8]) -> Option<FrameHeader> {
    let head: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
    Some(FrameHeader::decode(head))
}
