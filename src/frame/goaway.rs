//! GOAWAY frames (RFC 9113 §6.8).

use super::{FrameHeader, FrameType, StreamId, frame_size_error, read_u32, require_connection};
use crate::{ErrorCode, ProtocolError};
use bytes::{BufMut, Bytes, BytesMut};

/// A GOAWAY frame: the sender will process no stream above `last_stream_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoAway {
    /// The highest peer-initiated stream the sender may have processed.
    pub last_stream_id: StreamId,
    /// Why the connection is closing.
    pub error_code: ErrorCode,
    /// Opaque diagnostic data (a slice of the input).
    pub debug_data: Bytes,
}

impl GoAway {
    /// A GOAWAY frame without debug data.
    pub fn new(last_stream_id: StreamId, error_code: ErrorCode) -> GoAway {
        GoAway { last_stream_id, error_code, debug_data: Bytes::new() }
    }

    pub(crate) fn decode(header: &FrameHeader, payload: Bytes) -> Result<GoAway, ProtocolError> {
        // §6.8: GOAWAY on a stream is a connection error of type PROTOCOL_ERROR.
        // req 9113-6.8-4
        require_connection(header, "GOAWAY frame on a stream")?;
        // §4.2: too small to contain mandatory frame data.
        if payload.len() < 8 {
            return Err(frame_size_error("GOAWAY frame shorter than 8 bytes"));
        }
        Ok(GoAway {
            last_stream_id: StreamId::from_wire(read_u32(&payload)),
            error_code: ErrorCode(read_u32(&payload[4..])),
            debug_data: payload.slice(8..),
        })
    }

    /// Writes the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        FrameHeader {
            length: 8 + self.debug_data.len() as u32,
            kind: FrameType::GOAWAY,
            flags: 0,
            stream_id: StreamId::ZERO,
        }
        .encode(dst);
        dst.put_u32(self.last_stream_id.0 & StreamId::MAX.0);
        dst.put_u32(self.error_code.0);
        dst.extend_from_slice(&self.debug_data);
    }
}
