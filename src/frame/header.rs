//! The 9-byte frame header (RFC 9113 §4.1) and the identifiers it carries.

use bytes::BufMut;
use std::fmt;

/// Length of the frame header that precedes every payload.
pub const HEADER_LEN: usize = 9;

/// A 31-bit stream identifier (RFC 9113 §5.1.1).
///
/// Odd identifiers are opened by clients, even ones by servers; zero names the connection.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub u32);

impl StreamId {
    /// Stream 0: the connection as a whole.
    pub const ZERO: StreamId = StreamId(0);
    /// The largest identifier a stream can have (2^31-1).
    pub const MAX: StreamId = StreamId(u32::MAX >> 1);

    /// Reads an identifier from the wire, ignoring the reserved high bit (§4.1).
    pub const fn from_wire(raw: u32) -> StreamId {
        // req 9113-4.1-6
        StreamId(raw & Self::MAX.0)
    }

    /// Whether this is stream 0, the connection.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether a client opens this stream (odd identifiers).
    pub const fn is_client_initiated(self) -> bool {
        self.0 % 2 == 1
    }

    /// Whether a server opens this stream (even, non-zero identifiers).
    pub const fn is_server_initiated(self) -> bool {
        self.0 != 0 && self.0 % 2 == 0
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({})", self.0)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u32> for StreamId {
    fn from(raw: u32) -> Self {
        StreamId::from_wire(raw)
    }
}

/// A frame type code (RFC 9113 §6, §11.2). Open, since unknown types are legal (§5.5).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameType(pub u8);

impl FrameType {
    /// DATA (§6.1).
    pub const DATA: FrameType = FrameType(0x0);
    /// HEADERS (§6.2).
    pub const HEADERS: FrameType = FrameType(0x1);
    /// PRIORITY (§6.3).
    pub const PRIORITY: FrameType = FrameType(0x2);
    /// RST_STREAM (§6.4).
    pub const RST_STREAM: FrameType = FrameType(0x3);
    /// SETTINGS (§6.5).
    pub const SETTINGS: FrameType = FrameType(0x4);
    /// PUSH_PROMISE (§6.6).
    pub const PUSH_PROMISE: FrameType = FrameType(0x5);
    /// PING (§6.7).
    pub const PING: FrameType = FrameType(0x6);
    /// GOAWAY (§6.8).
    pub const GOAWAY: FrameType = FrameType(0x7);
    /// WINDOW_UPDATE (§6.9).
    pub const WINDOW_UPDATE: FrameType = FrameType(0x8);
    /// CONTINUATION (§6.10).
    pub const CONTINUATION: FrameType = FrameType(0x9);
    /// PRIORITY_UPDATE (RFC 9218 §7.1).
    pub const PRIORITY_UPDATE: FrameType = FrameType(0x10);

    /// The RFC name of the type, or `None` for an extension type.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            FrameType::DATA => "DATA",
            FrameType::HEADERS => "HEADERS",
            FrameType::PRIORITY => "PRIORITY",
            FrameType::RST_STREAM => "RST_STREAM",
            FrameType::SETTINGS => "SETTINGS",
            FrameType::PUSH_PROMISE => "PUSH_PROMISE",
            FrameType::PING => "PING",
            FrameType::GOAWAY => "GOAWAY",
            FrameType::WINDOW_UPDATE => "WINDOW_UPDATE",
            FrameType::CONTINUATION => "CONTINUATION",
            FrameType::PRIORITY_UPDATE => "PRIORITY_UPDATE",
            _ => return None,
        })
    }
}

impl fmt::Debug for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "FrameType({:#x})", self.0),
        }
    }
}

/// Flag bits (RFC 9113 §6). A flag's meaning depends on the frame type; flags a type does
/// not define are ignored on receipt (§4.1).
pub mod flags {
    /// DATA, HEADERS: the last frame the sender will send on this stream.
    pub const END_STREAM: u8 = 0x1;
    /// SETTINGS, PING: this frame acknowledges the peer's.
    pub const ACK: u8 = 0x1;
    /// HEADERS, PUSH_PROMISE, CONTINUATION: the field block ends in this frame.
    pub const END_HEADERS: u8 = 0x4;
    /// DATA, HEADERS, PUSH_PROMISE: a Pad Length field and padding are present.
    pub const PADDED: u8 = 0x8;
    /// HEADERS: the Exclusive, Stream Dependency and Weight fields are present.
    pub const PRIORITY: u8 = 0x20;
}

/// The 9-byte header that starts every frame (RFC 9113 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub length: u32,
    /// Frame type.
    pub kind: FrameType,
    /// Flags, all eight bits as received.
    pub flags: u8,
    /// Stream identifier, with the reserved bit already cleared.
    pub stream_id: StreamId,
}

impl FrameHeader {
    /// Parses a frame header. Infallible: every 9-byte sequence is a header; the length is
    /// judged against SETTINGS_MAX_FRAME_SIZE by the caller.
    #[inline]
    pub fn decode(bytes: &[u8; HEADER_LEN]) -> FrameHeader {
        FrameHeader {
            length: u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]),
            kind: FrameType(bytes[3]),
            flags: bytes[4],
            stream_id: StreamId::from_wire(u32::from_be_bytes([
                bytes[5], bytes[6], bytes[7], bytes[8],
            ])),
        }
    }

    /// Whether `flag` is set.
    #[inline]
    // req 9113-4.1-3 (a frame type reads only the flags it defines)
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag == flag
    }

    /// The header as it goes on the wire.
    ///
    /// # Panics
    /// If `length` does not fit in 24 bits.
    #[inline]
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        assert!(self.length <= super::MAX_FRAME_SIZE_LIMIT, "frame payload over 2^24-1 bytes");
        let len = self.length.to_be_bytes();
        // req 9113-4.1-5
        let id = (self.stream_id.0 & StreamId::MAX.0).to_be_bytes();
        [len[1], len[2], len[3], self.kind.0, self.flags, id[0], id[1], id[2], id[3]]
    }

    /// Appends the header to `dst`.
    #[inline]
    pub fn encode(&self, dst: &mut impl BufMut) {
        dst.put_slice(&self.to_bytes());
    }
}
