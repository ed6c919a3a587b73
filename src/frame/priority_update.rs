//! PRIORITY_UPDATE frames (RFC 9218 §7.1).
//!
//! Only the frame rules live here. That servers must not send it (a client receiving one
//! is a PROTOCOL_ERROR) and the MAX_CONCURRENT_STREAMS bound on idle prioritized streams
//! are connection rules.

use super::{FrameHeader, FrameType, StreamId, frame_size_error, read_u32, require_connection};
use crate::{ErrorCode, ProtocolError};
use bytes::{BufMut, Bytes, BytesMut};

/// A PRIORITY_UPDATE frame: a client changes the priority of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityUpdate {
    /// The stream the new priority applies to; never zero.
    pub prioritized_stream_id: StreamId,
    /// The Priority Field Value: ASCII Structured Fields text such as `u=1, i`.
    pub field_value: Bytes,
}

impl PriorityUpdate {
    pub(crate) fn decode(
        header: &FrameHeader,
        payload: Bytes,
    ) -> Result<PriorityUpdate, ProtocolError> {
        // RFC 9218 §7.1: the frame's own stream id MUST be 0, else PROTOCOL_ERROR.
        require_connection(header, "PRIORITY_UPDATE frame on a stream")?;
        if payload.len() < 4 {
            return Err(frame_size_error("PRIORITY_UPDATE shorter than 4 bytes"));
        }
        let prioritized_stream_id = StreamId::from_wire(read_u32(&payload));
        // RFC 9218 §7.1: a prioritized stream id of 0 is a connection PROTOCOL_ERROR.
        if prioritized_stream_id.is_zero() {
            return Err(ProtocolError::connection(
                ErrorCode::PROTOCOL_ERROR,
                "PRIORITY_UPDATE for stream 0",
            ));
        }
        Ok(PriorityUpdate { prioritized_stream_id, field_value: payload.slice(4..) })
    }

    /// Writes the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        FrameHeader {
            length: 4 + self.field_value.len() as u32,
            kind: FrameType::PRIORITY_UPDATE,
            flags: 0,
            stream_id: StreamId::ZERO,
        }
        .encode(dst);
        dst.put_u32(self.prioritized_stream_id.0 & StreamId::MAX.0);
        dst.extend_from_slice(&self.field_value);
    }
}
