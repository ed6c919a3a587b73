//! A builder for arbitrary, possibly invalid frames.
//!
//! The typed frames can only express valid frames. Tests and the conformance runner must
//! also send a PING of 7 bytes, a DATA frame on stream 0 or a header with the reserved bit
//! set, and see what the peer does. `RawFrame` writes exactly what it is told, nothing is
//! checked; it is deliberately a separate type so that this power is always explicit.

use super::{Frame, FrameHeader, FrameType, HEADER_LEN};
use bytes::{BufMut, Bytes, BytesMut};

/// A frame built field by field, with no validation.
///
/// ```
/// use h2proto::frame::{FrameType, RawFrame};
///
/// // A PING that is one byte short, on stream 1, with the reserved bit set.
/// let bytes = RawFrame::new(FrameType::PING, 1).payload([0u8; 7]).reserved_bit().to_bytes();
/// assert_eq!(&bytes[..9], &[0, 0, 7, 6, 0, 0x80, 0, 0, 1]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// Frame type byte.
    pub kind: FrameType,
    /// Flags byte.
    pub flags: u8,
    /// All 32 bits of the stream identifier field, reserved bit included.
    pub stream_field: u32,
    /// The payload bytes.
    pub payload: BytesMut,
    /// A length to declare in the header instead of the payload's real length.
    pub declared_length: Option<u32>,
}

impl RawFrame {
    /// A frame of `kind` on `stream_id` with no flags and an empty payload.
    pub fn new(kind: FrameType, stream_id: u32) -> RawFrame {
        RawFrame {
            kind,
            flags: 0,
            stream_field: stream_id,
            payload: BytesMut::new(),
            declared_length: None,
        }
    }

    /// Starts from the wire form of a valid frame, to be altered.
    pub fn from_frame(frame: &Frame) -> RawFrame {
        let mut wire = BytesMut::new();
        frame.encode(&mut wire);
        let stream_field = u32::from_be_bytes([wire[5], wire[6], wire[7], wire[8]]);
        let head = FrameHeader::decode(wire[..HEADER_LEN].try_into().expect("9 bytes"));
        let payload = wire.split_off(HEADER_LEN);
        RawFrame {
            kind: head.kind,
            flags: head.flags,
            stream_field,
            payload,
            declared_length: None,
        }
    }

    /// Sets the flags byte.
    pub fn flags(mut self, flags: u8) -> RawFrame {
        self.flags = flags;
        self
    }

    /// Sets the whole 32-bit stream identifier field.
    pub fn stream(mut self, field: u32) -> RawFrame {
        self.stream_field = field;
        self
    }

    /// Sets the reserved high bit of the stream identifier field.
    pub fn reserved_bit(mut self) -> RawFrame {
        self.stream_field |= 0x8000_0000;
        self
    }

    /// Replaces the payload.
    pub fn payload(mut self, payload: impl AsRef<[u8]>) -> RawFrame {
        self.payload.clear();
        self.payload.extend_from_slice(payload.as_ref());
        self
    }

    /// Appends to the payload.
    pub fn append(mut self, bytes: impl AsRef<[u8]>) -> RawFrame {
        self.payload.extend_from_slice(bytes.as_ref());
        self
    }

    /// Declares `length` in the header whatever the payload's real length is (only the low
    /// 24 bits fit the field).
    pub fn declared_length(mut self, length: u32) -> RawFrame {
        self.declared_length = Some(length);
        self
    }

    /// Appends the frame to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let length = self.declared_length.unwrap_or(self.payload.len() as u32).to_be_bytes();
        dst.put_slice(&length[1..]);
        dst.put_u8(self.kind.0);
        dst.put_u8(self.flags);
        dst.put_u32(self.stream_field);
        dst.extend_from_slice(&self.payload);
    }

    /// The frame as bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut dst = BytesMut::with_capacity(HEADER_LEN + self.payload.len());
        self.encode(&mut dst);
        dst.freeze()
    }
}
