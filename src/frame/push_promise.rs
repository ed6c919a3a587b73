//! PUSH_PROMISE frames (RFC 9113 §6.6).
//!
//! Whether push is allowed at all (SETTINGS_ENABLE_PUSH, §8.4) and whether the promised
//! identifier is a valid new server stream are connection rules; this file checks the frame.

use super::{
    Continuation, FrameHeader, FrameType, StreamId, flags, frame_size_error, padding, read_u32,
    require_stream,
};
use crate::ProtocolError;
use bytes::{BufMut, Bytes, BytesMut};

/// A PUSH_PROMISE frame: the server announces a stream it will push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushPromise {
    /// The request stream the promise is associated with; never zero.
    pub stream_id: StreamId,
    /// The stream the server reserves for the pushed response.
    pub promised_id: StreamId,
    /// The HPACK field block fragment of the promised request.
    pub fragment: Bytes,
    /// END_HEADERS: no CONTINUATION follows.
    pub end_headers: bool,
    /// Pad length when PADDED is set.
    pub pad_len: Option<u8>,
}

impl PushPromise {
    pub(crate) fn decode(
        header: &FrameHeader,
        payload: Bytes,
    ) -> Result<PushPromise, ProtocolError> {
        // §6.6: PUSH_PROMISE on stream 0 is a connection error of type PROTOCOL_ERROR.
        // req 9113-6.6-7
        require_stream(header, "PUSH_PROMISE frame on stream 0")?;
        let (mut fragment, pad_len) = padding::strip(header, payload, 4)?;
        if fragment.len() < 4 {
            return Err(frame_size_error("PUSH_PROMISE too short for the promised stream id"));
        }
        let promised_id = StreamId::from_wire(read_u32(&fragment));
        let _ = fragment.split_to(4);
        Ok(PushPromise {
            stream_id: header.stream_id,
            promised_id,
            fragment,
            end_headers: header.has(flags::END_HEADERS),
            pad_len,
        })
    }

    fn encode_fields(&self, fragment: &[u8], end_headers: bool, dst: &mut BytesMut) {
        let mut flag_bits = if end_headers { flags::END_HEADERS } else { 0 };
        if self.pad_len.is_some() {
            flag_bits |= flags::PADDED;
        }
        FrameHeader {
            length: (4 + fragment.len() + padding::overhead(self.pad_len)) as u32,
            kind: FrameType::PUSH_PROMISE,
            flags: flag_bits,
            stream_id: self.stream_id,
        }
        .encode(dst);
        if let Some(p) = self.pad_len {
            dst.put_u8(p);
        }
        dst.put_u32(self.promised_id.0 & StreamId::MAX.0);
        dst.extend_from_slice(fragment);
        padding::write_tail(self.pad_len, dst);
    }

    /// Writes the frame as it is, in one piece.
    pub fn encode(&self, dst: &mut BytesMut) {
        self.encode_fields(&self.fragment, self.end_headers, dst);
    }

    /// Writes the field block as one PUSH_PROMISE followed by as many CONTINUATION frames as
    /// `max_frame_size` requires; END_HEADERS goes on the last frame.
    pub fn encode_split(&self, max_frame_size: u32, dst: &mut BytesMut) {
        let (head, rest) = Continuation::split_block(
            &self.fragment,
            4 + padding::overhead(self.pad_len),
            max_frame_size,
        );
        self.encode_fields(head, rest.is_empty(), dst);
        // req 9113-6.6-4
        Continuation::encode_chunks(self.stream_id, rest, max_frame_size as usize, dst);
    }
}
