//! RST_STREAM frames (RFC 9113 §6.4).

use super::{FrameHeader, FrameType, StreamId, frame_size_error, read_u32, require_stream};
use crate::{ErrorCode, ProtocolError};
use bytes::{BufMut, BytesMut};

/// A RST_STREAM frame: ends one stream immediately.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RstStream {
    /// The stream; never zero.
    pub stream_id: StreamId,
    /// Why the stream was reset.
    pub error_code: ErrorCode,
}

impl RstStream {
    /// A RST_STREAM frame.
    pub fn new(stream_id: StreamId, error_code: ErrorCode) -> RstStream {
        RstStream { stream_id, error_code }
    }

    pub(crate) fn decode(header: &FrameHeader, payload: &[u8]) -> Result<RstStream, ProtocolError> {
        // §6.4: RST_STREAM on stream 0 is a connection error of type PROTOCOL_ERROR.
        // req 9113-6.4-4
        require_stream(header, "RST_STREAM frame on stream 0")?;
        // §6.4: a length other than 4 is a connection error of type FRAME_SIZE_ERROR.
        // req 9113-6.4-7
        if payload.len() != 4 {
            return Err(frame_size_error("RST_STREAM frame length is not 4"));
        }
        Ok(RstStream { stream_id: header.stream_id, error_code: ErrorCode(read_u32(payload)) })
    }

    /// Writes the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        FrameHeader { length: 4, kind: FrameType::RST_STREAM, flags: 0, stream_id: self.stream_id }
            .encode(dst);
        dst.put_u32(self.error_code.0);
    }
}
