//! CONTINUATION frames (RFC 9113 §6.10).
//!
//! Only the per-frame rule lives here (never on stream 0). The sequence rules — a
//! CONTINUATION must follow a HEADERS, PUSH_PROMISE or CONTINUATION without END_HEADERS on
//! the same stream, and nothing else may come in between — need connection state.

use super::{FrameHeader, FrameType, StreamId, flags, require_stream};
use crate::ProtocolError;
use bytes::{Bytes, BytesMut};

/// A CONTINUATION frame: the next fragment of a field block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Continuation {
    /// The stream; never zero.
    pub stream_id: StreamId,
    /// The HPACK field block fragment.
    pub fragment: Bytes,
    /// END_HEADERS: the field block ends here.
    pub end_headers: bool,
}

impl Continuation {
    pub(crate) fn decode(
        header: &FrameHeader,
        payload: Bytes,
    ) -> Result<Continuation, ProtocolError> {
        // §6.10: CONTINUATION on stream 0 is a connection error of type PROTOCOL_ERROR.
        // req 9113-6.10-4
        require_stream(header, "CONTINUATION frame on stream 0")?;
        Ok(Continuation {
            stream_id: header.stream_id,
            fragment: payload,
            end_headers: header.has(flags::END_HEADERS),
        })
    }

    /// Writes the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        Self::encode_one(self.stream_id, &self.fragment, self.end_headers, dst);
    }

    fn encode_one(stream_id: StreamId, fragment: &[u8], end_headers: bool, dst: &mut BytesMut) {
        FrameHeader {
            length: fragment.len() as u32,
            kind: FrameType::CONTINUATION,
            flags: if end_headers { flags::END_HEADERS } else { 0 },
            stream_id,
        }
        .encode(dst);
        dst.extend_from_slice(fragment);
    }

    /// Splits a field block into what fits the first frame (after its `overhead` bytes of
    /// other fields) and the rest, for CONTINUATION frames (§4.3, §6.10).
    pub(crate) fn split_block(
        block: &[u8],
        overhead: usize,
        max_frame_size: u32,
    ) -> (&[u8], &[u8]) {
        let first = (max_frame_size as usize).saturating_sub(overhead).max(1).min(block.len());
        block.split_at(first)
    }

    /// Writes `rest` of a field block as CONTINUATION frames of at most `max` bytes each,
    /// END_HEADERS on the last. Writes nothing when `rest` is empty. (Callers that encode a
    /// block in place behind a HEADERS header use this for what does not fit.)
    pub fn encode_chunks(stream_id: StreamId, rest: &[u8], max: usize, dst: &mut BytesMut) {
        let mut chunks = rest.chunks(max.max(1)).peekable();
        while let Some(chunk) = chunks.next() {
            // req 9113-6.10-1, 9113-6.10-3
            Self::encode_one(stream_id, chunk, chunks.peek().is_none(), dst);
        }
    }
}
