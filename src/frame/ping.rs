//! PING frames (RFC 9113 §6.7).

use super::{FrameHeader, FrameType, StreamId, flags, frame_size_error, require_connection};
use crate::ProtocolError;
use bytes::BytesMut;

/// A PING frame, or its acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ping {
    /// ACK: this answers a PING of the peer's.
    pub ack: bool,
    /// Opaque data, echoed back in the ACK.
    pub payload: [u8; 8],
}

impl Ping {
    pub(crate) fn decode(header: &FrameHeader, payload: &[u8]) -> Result<Ping, ProtocolError> {
        // §6.7: PING on a stream is a connection error of type PROTOCOL_ERROR.
        // req 9113-6.7-6
        require_connection(header, "PING frame on a stream")?;
        // §6.7: a length other than 8 is a connection error of type FRAME_SIZE_ERROR.
        // req 9113-6.7-7
        let Ok(payload) = <[u8; 8]>::try_from(payload) else {
            return Err(frame_size_error("PING frame length is not 8"));
        };
        Ok(Ping { ack: header.has(flags::ACK), payload })
    }

    /// Writes the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        FrameHeader {
            // req 9113-6.7-1
            length: 8,
            kind: FrameType::PING,
            flags: if self.ack { flags::ACK } else { 0 },
            stream_id: StreamId::ZERO,
        }
        .encode(dst);
        dst.extend_from_slice(&self.payload);
    }
}
