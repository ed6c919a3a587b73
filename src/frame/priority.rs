//! PRIORITY frames (RFC 9113 §6.3): deprecated, but parsed and validated.

use super::{FrameHeader, FrameType, PrioritySpec, StreamId, require_stream};
use crate::{ErrorCode, ProtocolError};
use bytes::BytesMut;

/// A PRIORITY frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    /// The stream being prioritized; never zero.
    pub stream_id: StreamId,
    /// Its dependency and weight.
    pub spec: PrioritySpec,
}

impl Priority {
    pub(crate) fn decode(header: &FrameHeader, payload: &[u8]) -> Result<Priority, ProtocolError> {
        // §6.3: PRIORITY on stream 0 is a connection error of type PROTOCOL_ERROR.
        // req 9113-6.3-1
        require_stream(header, "PRIORITY frame on stream 0")?;
        // §6.3: a length other than 5 is a *stream* error of type FRAME_SIZE_ERROR.
        // req 9113-6.3-2
        if payload.len() != PrioritySpec::LEN {
            return Err(ProtocolError::stream(
                header.stream_id,
                ErrorCode::FRAME_SIZE_ERROR,
                "PRIORITY frame length is not 5",
            ));
        }
        Ok(Priority {
            stream_id: header.stream_id,
            spec: PrioritySpec::decode(header.stream_id, payload)?,
        })
    }

    /// Writes the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        FrameHeader {
            length: PrioritySpec::LEN as u32,
            kind: FrameType::PRIORITY,
            flags: 0,
            stream_id: self.stream_id,
        }
        .encode(dst);
        self.spec.encode(dst);
    }
}
