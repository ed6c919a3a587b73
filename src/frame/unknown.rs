//! Frames of unknown or extension types (RFC 9113 §5.5).
//!
//! An endpoint must ignore frames it does not understand, except that one arriving in the
//! middle of a field block is a connection error (§6.10, a connection rule). The frame is
//! kept whole so callers can see, log or implement the extension.

use super::{FrameHeader, FrameType, StreamId};
use bytes::{Bytes, BytesMut};

/// A frame of a type h2proto does not implement, kept as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// The frame type.
    pub kind: FrameType,
    /// All flag bits.
    pub flags: u8,
    /// The stream identifier.
    pub stream_id: StreamId,
    /// The payload, uninterpreted.
    pub payload: Bytes,
}

impl Unknown {
    pub(crate) fn decode(header: &FrameHeader, payload: Bytes) -> Unknown {
        Unknown { kind: header.kind, flags: header.flags, stream_id: header.stream_id, payload }
    }

    /// Writes the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        FrameHeader {
            length: self.payload.len() as u32,
            kind: self.kind,
            flags: self.flags,
            stream_id: self.stream_id,
        }
        .encode(dst);
        dst.extend_from_slice(&self.payload);
    }
}
