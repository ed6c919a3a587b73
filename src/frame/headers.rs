//! HEADERS frames (RFC 9113 §6.2) and the priority fields they may carry (§5.3, deprecated).

use super::{
    Continuation, FrameHeader, FrameType, StreamId, flags, frame_size_error, padding, read_u32,
    require_stream,
};
use crate::{ErrorCode, ProtocolError};
use bytes::{BufMut, Bytes, BytesMut};

/// The RFC 7540 priority fields of HEADERS and PRIORITY frames.
///
/// RFC 9113 §5.3.2 deprecates this scheme; h2proto parses and validates it but schedules by
/// RFC 9218 instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrioritySpec {
    /// The stream this one depends on.
    pub dependency: StreamId,
    /// The E flag: exclusive dependency.
    pub exclusive: bool,
    /// The weight, 1 to 256 (the wire carries weight - 1).
    pub weight: u16,
}

impl PrioritySpec {
    pub(crate) const LEN: usize = 5;

    pub(crate) fn decode(stream_id: StreamId, bytes: &[u8]) -> Result<PrioritySpec, ProtocolError> {
        let spec = Self::parse(bytes);
        spec.check(stream_id)?;
        Ok(spec)
    }

    fn parse(bytes: &[u8]) -> PrioritySpec {
        let raw = read_u32(bytes);
        PrioritySpec {
            dependency: StreamId::from_wire(raw),
            exclusive: raw & 0x8000_0000 != 0,
            weight: u16::from(bytes[4]) + 1,
        }
    }

    /// §5.3.1: a stream cannot depend on itself; a stream error of type PROTOCOL_ERROR.
    fn check(&self, stream_id: StreamId) -> Result<(), ProtocolError> {
        if self.dependency == stream_id {
            return Err(ProtocolError::stream(
                stream_id,
                ErrorCode::PROTOCOL_ERROR,
                "stream depends on itself",
            ));
        }
        Ok(())
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let mut raw = self.dependency.0 & StreamId::MAX.0;
        if self.exclusive {
            raw |= 0x8000_0000;
        }
        dst.put_u32(raw);
        dst.put_u8(self.weight.clamp(1, 256).wrapping_sub(1) as u8);
    }
}

/// A HEADERS frame: opens a stream or carries trailers, with (part of) a field block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headers {
    /// The stream; never zero.
    pub stream_id: StreamId,
    /// The HPACK field block fragment, without padding or priority fields.
    pub fragment: Bytes,
    /// END_STREAM.
    pub end_stream: bool,
    /// END_HEADERS: no CONTINUATION follows.
    pub end_headers: bool,
    /// Priority fields, when the PRIORITY flag is set.
    pub priority: Option<PrioritySpec>,
    /// Pad length when PADDED is set.
    pub pad_len: Option<u8>,
}

impl Headers {
    /// A HEADERS frame carrying a whole field block, without priority or padding.
    pub fn new(stream_id: StreamId, fragment: impl Into<Bytes>, end_stream: bool) -> Headers {
        Headers {
            stream_id,
            fragment: fragment.into(),
            end_stream,
            end_headers: true,
            priority: None,
            pad_len: None,
        }
    }

    pub(crate) fn decode(header: &FrameHeader, payload: Bytes) -> Result<Headers, ProtocolError> {
        match Self::decode_parts(header, payload)? {
            (_, Some(stream_error)) => Err(stream_error),
            (headers, None) => Ok(headers),
        }
    }

    /// Decodes the frame, returning a stream error separately from the frame.
    ///
    /// A HEADERS frame whose priority makes the stream depend on itself is a stream error
    /// (§5.3.1), but its field block must still be decoded to keep the HPACK context in
    /// sync with the peer (§4.3). The connection therefore needs both the frame and the
    /// error; [`Frame::decode`](super::Frame::decode) reports only the error.
    pub fn decode_parts(
        header: &FrameHeader,
        payload: Bytes,
    ) -> Result<(Headers, Option<ProtocolError>), ProtocolError> {
        // §6.2: HEADERS on stream 0 is a connection error of type PROTOCOL_ERROR.
        // req 9113-6.2-6
        require_stream(header, "HEADERS frame on stream 0")?;
        let has_priority = header.has(flags::PRIORITY);
        let min = if has_priority { PrioritySpec::LEN } else { 0 };
        let (mut fragment, pad_len) = padding::strip(header, payload, min)?;
        let mut stream_error = None;
        let priority = if has_priority {
            if fragment.len() < PrioritySpec::LEN {
                return Err(frame_size_error("HEADERS too short for its priority fields"));
            }
            let spec = PrioritySpec::parse(&fragment[..PrioritySpec::LEN]);
            let _ = fragment.split_to(PrioritySpec::LEN);
            stream_error = spec.check(header.stream_id).err();
            Some(spec)
        } else {
            None
        };
        let headers = Headers {
            stream_id: header.stream_id,
            fragment,
            end_stream: header.has(flags::END_STREAM),
            end_headers: header.has(flags::END_HEADERS),
            priority,
            pad_len,
        };
        Ok((headers, stream_error))
    }

    fn header_for(&self, fragment_len: usize, end_headers: bool) -> FrameHeader {
        let mut flag_bits = 0;
        let mut length = fragment_len + padding::overhead(self.pad_len);
        if self.end_stream {
            flag_bits |= flags::END_STREAM;
        }
        if end_headers {
            flag_bits |= flags::END_HEADERS;
        }
        if self.pad_len.is_some() {
            flag_bits |= flags::PADDED;
        }
        if self.priority.is_some() {
            flag_bits |= flags::PRIORITY;
            length += PrioritySpec::LEN;
        }
        FrameHeader {
            length: length as u32,
            kind: FrameType::HEADERS,
            flags: flag_bits,
            stream_id: self.stream_id,
        }
    }

    fn encode_fields(&self, fragment: &[u8], end_headers: bool, dst: &mut BytesMut) {
        self.header_for(fragment.len(), end_headers).encode(dst);
        if let Some(p) = self.pad_len {
            dst.put_u8(p);
        }
        if let Some(spec) = &self.priority {
            spec.encode(dst);
        }
        dst.extend_from_slice(fragment);
        padding::write_tail(self.pad_len, dst);
    }

    /// Writes the frame as it is, in one piece.
    pub fn encode(&self, dst: &mut BytesMut) {
        self.encode_fields(&self.fragment, self.end_headers, dst);
    }

    /// Writes the field block as one HEADERS frame followed by as many CONTINUATION frames
    /// as `max_frame_size` (the peer's SETTINGS_MAX_FRAME_SIZE) requires (§4.3, §6.10).
    /// END_HEADERS goes on the last frame; `self.end_headers` is ignored.
    pub fn encode_split(&self, max_frame_size: u32, dst: &mut BytesMut) {
        let (head, rest) = Continuation::split_block(
            &self.fragment,
            self.header_for(0, false).length as usize,
            max_frame_size,
        );
        self.encode_fields(head, rest.is_empty(), dst);
        Continuation::encode_chunks(self.stream_id, rest, max_frame_size as usize, dst);
    }
}
