//! The HTTP/2 wire format: the 9-byte frame header and every frame type (RFC 9113 §4, §6).
//!
//! Each frame type lives in its own file with its decode and encode. Decoding checks every
//! rule that can be judged from one frame alone (lengths, stream-0 rules, padding, setting
//! values, zero increments, self-dependencies) and reports the RFC's reaction as a
//! [`ProtocolError`]: the exact [`ErrorCode`] and whether it is a
//! connection or a stream error. Rules that need connection state (stream states, the
//! CONTINUATION sequence, flow-control windows) belong to the connection, not here.
//!
//! Decoding never copies a payload: DATA bodies and header block fragments are `Bytes`
//! slices of the input ([`FrameDecoder`] explains when the input itself has to be buffered).
//! Encoding appends to a caller-owned [`BytesMut`]; for DATA, [`Data::encode_head`] writes
//! only the header so the body can be sent from the caller's own buffer.
//!
//! Valid frames are built through the typed structs. Tests and the conformance runner also
//! need to write *invalid* frames; they use [`RawFrame`], which is kept apart on purpose so
//! the checked path cannot produce a malformed frame by accident.

mod continuation;
mod data;
mod decoder;
mod goaway;
mod header;
mod headers;
mod padding;
mod ping;
mod priority;
mod priority_update;
mod push_promise;
mod raw;
mod rst_stream;
mod settings;
mod unknown;
mod window_update;

pub use continuation::Continuation;
pub use data::Data;
pub use decoder::FrameDecoder;
pub use goaway::GoAway;
pub use header::{FrameHeader, FrameType, HEADER_LEN, StreamId, flags};
pub use headers::{Headers, PrioritySpec};
pub use ping::Ping;
pub use priority::Priority;
pub use priority_update::PriorityUpdate;
pub use push_promise::PushPromise;
pub use raw::RawFrame;
pub use rst_stream::RstStream;
pub use settings::{Setting, SettingId, Settings};
pub use unknown::Unknown;
pub use window_update::WindowUpdate;

use crate::{ErrorCode, ProtocolError};
use bytes::{Bytes, BytesMut};

/// The initial and smallest allowed SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2, §6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 1 << 14;
/// The largest frame payload the 24-bit length field allows (RFC 9113 §4.1).
pub const MAX_FRAME_SIZE_LIMIT: u32 = (1 << 24) - 1;
/// The largest flow-control window and window increment (RFC 9113 §6.9.1).
pub const MAX_WINDOW_SIZE: u32 = (1 << 31) - 1;

/// One decoded HTTP/2 frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// DATA (§6.1).
    Data(Data),
    /// HEADERS (§6.2).
    Headers(Headers),
    /// PRIORITY (§6.3), deprecated but still parsed and validated.
    Priority(Priority),
    /// RST_STREAM (§6.4).
    RstStream(RstStream),
    /// SETTINGS (§6.5).
    Settings(Settings),
    /// PUSH_PROMISE (§6.6).
    PushPromise(PushPromise),
    /// PING (§6.7).
    Ping(Ping),
    /// GOAWAY (§6.8).
    GoAway(GoAway),
    /// WINDOW_UPDATE (§6.9).
    WindowUpdate(WindowUpdate),
    /// CONTINUATION (§6.10).
    Continuation(Continuation),
    /// PRIORITY_UPDATE (RFC 9218 §7.1).
    PriorityUpdate(PriorityUpdate),
    /// A frame of a type this crate does not know (RFC 9113 §5.5: ignored, but kept).
    Unknown(Unknown),
}

impl Frame {
    /// Decodes a frame from its header and exactly `header.length` payload bytes.
    ///
    /// The payload is sliced, never copied. The caller is responsible for the
    /// SETTINGS_MAX_FRAME_SIZE check (§4.2), which must happen before the payload is even
    /// buffered; [`FrameDecoder`] does it.
    pub fn decode(header: FrameHeader, payload: Bytes) -> Result<Frame, ProtocolError> {
        if payload.len() != header.length as usize {
            return Err(ProtocolError::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                "payload length does not match the frame header",
            ));
        }
        Ok(match header.kind {
            FrameType::DATA => Frame::Data(Data::decode(&header, payload)?),
            FrameType::HEADERS => Frame::Headers(Headers::decode(&header, payload)?),
            FrameType::PRIORITY => Frame::Priority(Priority::decode(&header, &payload)?),
            FrameType::RST_STREAM => Frame::RstStream(RstStream::decode(&header, &payload)?),
            FrameType::SETTINGS => Frame::Settings(Settings::decode(&header, &payload)?),
            FrameType::PUSH_PROMISE => Frame::PushPromise(PushPromise::decode(&header, payload)?),
            FrameType::PING => Frame::Ping(Ping::decode(&header, &payload)?),
            FrameType::GOAWAY => Frame::GoAway(GoAway::decode(&header, payload)?),
            FrameType::WINDOW_UPDATE => {
                Frame::WindowUpdate(WindowUpdate::decode(&header, &payload)?)
            }
            FrameType::CONTINUATION => Frame::Continuation(Continuation::decode(&header, payload)?),
            FrameType::PRIORITY_UPDATE => {
                Frame::PriorityUpdate(PriorityUpdate::decode(&header, payload)?)
            }
            // req 9113-5.5-2
            _ => Frame::Unknown(Unknown::decode(&header, payload)),
        })
    }

    /// Appends the whole frame, header and payload, to `dst`.
    ///
    /// # Panics
    /// If the payload would exceed the 24-bit length field (2^24-1 bytes). Respecting the
    /// peer's SETTINGS_MAX_FRAME_SIZE is the caller's job.
    // req 9113-4.1-4 (each type's encoder sets only the flags it defines)
    pub fn encode(&self, dst: &mut BytesMut) {
        match self {
            Frame::Data(f) => f.encode(dst),
            Frame::Headers(f) => f.encode(dst),
            Frame::Priority(f) => f.encode(dst),
            Frame::RstStream(f) => f.encode(dst),
            Frame::Settings(f) => f.encode(dst),
            Frame::PushPromise(f) => f.encode(dst),
            Frame::Ping(f) => f.encode(dst),
            Frame::GoAway(f) => f.encode(dst),
            Frame::WindowUpdate(f) => f.encode(dst),
            Frame::Continuation(f) => f.encode(dst),
            Frame::PriorityUpdate(f) => f.encode(dst),
            Frame::Unknown(f) => f.encode(dst),
        }
    }

    /// The frame's type.
    pub fn kind(&self) -> FrameType {
        match self {
            Frame::Data(_) => FrameType::DATA,
            Frame::Headers(_) => FrameType::HEADERS,
            Frame::Priority(_) => FrameType::PRIORITY,
            Frame::RstStream(_) => FrameType::RST_STREAM,
            Frame::Settings(_) => FrameType::SETTINGS,
            Frame::PushPromise(_) => FrameType::PUSH_PROMISE,
            Frame::Ping(_) => FrameType::PING,
            Frame::GoAway(_) => FrameType::GOAWAY,
            Frame::WindowUpdate(_) => FrameType::WINDOW_UPDATE,
            Frame::Continuation(_) => FrameType::CONTINUATION,
            Frame::PriorityUpdate(_) => FrameType::PRIORITY_UPDATE,
            Frame::Unknown(f) => f.kind,
        }
    }

    /// The stream the frame belongs to; [`StreamId::ZERO`] for connection-level frames.
    pub fn stream_id(&self) -> StreamId {
        match self {
            Frame::Data(f) => f.stream_id,
            Frame::Headers(f) => f.stream_id,
            Frame::Priority(f) => f.stream_id,
            Frame::RstStream(f) => f.stream_id,
            Frame::PushPromise(f) => f.stream_id,
            Frame::WindowUpdate(f) => f.stream_id,
            Frame::Continuation(f) => f.stream_id,
            Frame::Unknown(f) => f.stream_id,
            Frame::Settings(_) | Frame::Ping(_) | Frame::GoAway(_) | Frame::PriorityUpdate(_) => {
                StreamId::ZERO
            }
        }
    }
}

macro_rules! impl_from_frame {
    ($($variant:ident),*) => {$(
        impl From<$variant> for Frame {
            fn from(frame: $variant) -> Frame {
                Frame::$variant(frame)
            }
        }
    )*};
}
impl_from_frame!(
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    GoAway,
    WindowUpdate,
    Continuation,
    PriorityUpdate,
    Unknown
);

/// §6.x "not associated with a stream" / "MUST be associated with a stream" checks.
pub(crate) fn require_stream(
    header: &FrameHeader,
    reason: &'static str,
) -> Result<(), ProtocolError> {
    if header.stream_id.is_zero() {
        return Err(ProtocolError::connection(ErrorCode::PROTOCOL_ERROR, reason));
    }
    Ok(())
}

pub(crate) fn require_connection(
    header: &FrameHeader,
    reason: &'static str,
) -> Result<(), ProtocolError> {
    if !header.stream_id.is_zero() {
        return Err(ProtocolError::connection(ErrorCode::PROTOCOL_ERROR, reason));
    }
    Ok(())
}

// req 9113-4.2-2, 9113-4.2-3 (only PRIORITY's is a stream error, see priority.rs)
pub(crate) fn frame_size_error(reason: &'static str) -> ProtocolError {
    ProtocolError::connection(ErrorCode::FRAME_SIZE_ERROR, reason)
}

pub(crate) fn read_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}
