//! DATA frames (RFC 9113 §6.1).

use super::{FrameHeader, FrameType, StreamId, flags, padding, require_stream};
use crate::ProtocolError;
use bytes::{Bytes, BytesMut};

/// A DATA frame: a piece of a stream's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Data {
    /// The stream; never zero.
    pub stream_id: StreamId,
    /// The body bytes, without padding. A slice of the decoder's input: never copied.
    pub data: Bytes,
    /// END_STREAM: the sender's last frame on this stream.
    pub end_stream: bool,
    /// Pad length when PADDED is set.
    pub pad_len: Option<u8>,
}

impl Data {
    /// A DATA frame without padding.
    pub fn new(stream_id: StreamId, data: impl Into<Bytes>, end_stream: bool) -> Data {
        Data { stream_id, data: data.into(), end_stream, pad_len: None }
    }

    pub(crate) fn decode(header: &FrameHeader, payload: Bytes) -> Result<Data, ProtocolError> {
        // §6.1: DATA on stream 0 is a connection error of type PROTOCOL_ERROR.
        // req 9113-6.1-5
        require_stream(header, "DATA frame on stream 0")?;
        let (data, pad_len) = padding::strip(header, payload, 0)?;
        Ok(Data {
            stream_id: header.stream_id,
            data,
            end_stream: header.has(flags::END_STREAM),
            pad_len,
        })
    }

    /// The payload length as counted by flow control: the body plus the Pad Length field
    /// and padding (§6.1).
    pub fn flow_controlled_len(&self) -> usize {
        self.data.len() + padding::overhead(self.pad_len)
    }

    /// The frame header this frame goes out with.
    pub fn header(&self) -> FrameHeader {
        let mut flag_bits = 0;
        if self.end_stream {
            flag_bits |= flags::END_STREAM;
        }
        if self.pad_len.is_some() {
            flag_bits |= flags::PADDED;
        }
        FrameHeader {
            length: self.flow_controlled_len() as u32,
            kind: FrameType::DATA,
            flags: flag_bits,
            stream_id: self.stream_id,
        }
    }

    /// Writes everything that precedes the body: the frame header and, when padded, the
    /// Pad Length field. With [`Data::encode_tail`] this lets the body go out uncopied.
    pub fn encode_head(&self, dst: &mut BytesMut) {
        self.header().encode(dst);
        if let Some(p) = self.pad_len {
            dst.extend_from_slice(&[p]);
        }
    }

    /// Writes what follows the body: the padding, if any.
    pub fn encode_tail(&self, dst: &mut BytesMut) {
        padding::write_tail(self.pad_len, dst);
    }

    /// Writes the whole frame, copying the body.
    pub fn encode(&self, dst: &mut BytesMut) {
        self.encode_head(dst);
        dst.extend_from_slice(&self.data);
        self.encode_tail(dst);
    }
}
