//! WINDOW_UPDATE frames (RFC 9113 §6.9).

use super::{FrameHeader, FrameType, StreamId, frame_size_error, read_u32};
use crate::{ErrorCode, ProtocolError};
use bytes::{BufMut, BytesMut};

/// A WINDOW_UPDATE frame: the sender can receive `increment` more bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowUpdate {
    /// The stream whose window grows, or [`StreamId::ZERO`] for the connection window.
    pub stream_id: StreamId,
    /// The increment, 1 to 2^31-1.
    pub increment: u32,
}

impl WindowUpdate {
    /// A WINDOW_UPDATE frame.
    pub fn new(stream_id: StreamId, increment: u32) -> WindowUpdate {
        WindowUpdate { stream_id, increment }
    }

    pub(crate) fn decode(
        header: &FrameHeader,
        payload: &[u8],
    ) -> Result<WindowUpdate, ProtocolError> {
        // §6.9: a length other than 4 is a connection error of type FRAME_SIZE_ERROR.
        // req 9113-6.9-7
        if payload.len() != 4 {
            return Err(frame_size_error("WINDOW_UPDATE frame length is not 4"));
        }
        // §6.9: the reserved bit is ignored.
        let increment = read_u32(payload) & 0x7fff_ffff;
        // §6.9: a zero increment is a stream error of type PROTOCOL_ERROR, or a connection
        // error when it targets the connection window.
        // req 9113-6.9-3, 9113-6.9-4
        if increment == 0 {
            let reason = "WINDOW_UPDATE increment of 0";
            return Err(if header.stream_id.is_zero() {
                ProtocolError::connection(ErrorCode::PROTOCOL_ERROR, reason)
            } else {
                ProtocolError::stream(header.stream_id, ErrorCode::PROTOCOL_ERROR, reason)
            });
        }
        Ok(WindowUpdate { stream_id: header.stream_id, increment })
    }

    /// Writes the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        FrameHeader {
            length: 4,
            kind: FrameType::WINDOW_UPDATE,
            flags: 0,
            stream_id: self.stream_id,
        }
        .encode(dst);
        dst.put_u32(self.increment & 0x7fff_ffff);
    }
}
