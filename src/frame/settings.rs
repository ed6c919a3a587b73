//! SETTINGS frames (RFC 9113 §6.5) and the value rules of every known setting (§6.5.2,
//! RFC 8441 §3, RFC 9218 §2.1).
//!
//! Rules that need history (settings take effect in order, an ACK must answer a SETTINGS,
//! SETTINGS_NO_RFC7540_PRIORITIES must not change) are connection rules.

use super::{
    FrameHeader, FrameType, MAX_FRAME_SIZE_LIMIT, MAX_WINDOW_SIZE, StreamId, flags,
    frame_size_error, read_u32, require_connection,
};
use crate::{ErrorCode, ProtocolError};
use bytes::{BufMut, BytesMut};
use smallvec::SmallVec;
use std::fmt;

/// A setting identifier (RFC 9113 §6.5.2, §11.3). Open: unknown settings are legal and
/// ignored (§6.5.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SettingId(pub u16);

impl SettingId {
    /// SETTINGS_HEADER_TABLE_SIZE (0x1): HPACK dynamic table size the sender's decoder allows.
    pub const HEADER_TABLE_SIZE: SettingId = SettingId(0x1);
    /// SETTINGS_ENABLE_PUSH (0x2): 0 or 1.
    pub const ENABLE_PUSH: SettingId = SettingId(0x2);
    /// SETTINGS_MAX_CONCURRENT_STREAMS (0x3).
    pub const MAX_CONCURRENT_STREAMS: SettingId = SettingId(0x3);
    /// SETTINGS_INITIAL_WINDOW_SIZE (0x4): at most 2^31-1.
    pub const INITIAL_WINDOW_SIZE: SettingId = SettingId(0x4);
    /// SETTINGS_MAX_FRAME_SIZE (0x5): 2^14 to 2^24-1.
    pub const MAX_FRAME_SIZE: SettingId = SettingId(0x5);
    /// SETTINGS_MAX_HEADER_LIST_SIZE (0x6): advisory.
    pub const MAX_HEADER_LIST_SIZE: SettingId = SettingId(0x6);
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8, RFC 8441): 0 or 1.
    pub const ENABLE_CONNECT_PROTOCOL: SettingId = SettingId(0x8);
    /// SETTINGS_NO_RFC7540_PRIORITIES (0x9, RFC 9218): 0 or 1.
    pub const NO_RFC7540_PRIORITIES: SettingId = SettingId(0x9);

    /// The RFC name, or `None` for a setting this crate does not know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            SettingId::HEADER_TABLE_SIZE => "SETTINGS_HEADER_TABLE_SIZE",
            SettingId::ENABLE_PUSH => "SETTINGS_ENABLE_PUSH",
            SettingId::MAX_CONCURRENT_STREAMS => "SETTINGS_MAX_CONCURRENT_STREAMS",
            SettingId::INITIAL_WINDOW_SIZE => "SETTINGS_INITIAL_WINDOW_SIZE",
            SettingId::MAX_FRAME_SIZE => "SETTINGS_MAX_FRAME_SIZE",
            SettingId::MAX_HEADER_LIST_SIZE => "SETTINGS_MAX_HEADER_LIST_SIZE",
            SettingId::ENABLE_CONNECT_PROTOCOL => "SETTINGS_ENABLE_CONNECT_PROTOCOL",
            SettingId::NO_RFC7540_PRIORITIES => "SETTINGS_NO_RFC7540_PRIORITIES",
            _ => return None,
        })
    }

    /// Checks a value against the rule for this setting.
    pub fn validate(self, value: u32) -> Result<(), ProtocolError> {
        let bad = |code, reason| Err(ProtocolError::connection(code, reason));
        match self {
            // §6.5.2: any value other than 0 or 1 is a connection error PROTOCOL_ERROR.
            // req 9113-6.5.2-3
            SettingId::ENABLE_PUSH if value > 1 => {
                bad(ErrorCode::PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH is not 0 or 1")
            }
            // §6.5.2: above 2^31-1 is a connection error FLOW_CONTROL_ERROR.
            // req 9113-6.5.2-10
            SettingId::INITIAL_WINDOW_SIZE if value > MAX_WINDOW_SIZE => {
                bad(ErrorCode::FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1")
            }
            // §6.5.2: outside 2^14..=2^24-1 is a connection error PROTOCOL_ERROR.
            // req 9113-6.5.2-12
            SettingId::MAX_FRAME_SIZE
                if !(super::DEFAULT_MAX_FRAME_SIZE..=MAX_FRAME_SIZE_LIMIT).contains(&value) =>
            {
                bad(ErrorCode::PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range")
            }
            // RFC 8441 §3: the value MUST be 0 or 1.
            SettingId::ENABLE_CONNECT_PROTOCOL if value > 1 => {
                bad(ErrorCode::PROTOCOL_ERROR, "SETTINGS_ENABLE_CONNECT_PROTOCOL is not 0 or 1")
            }
            // RFC 9218 §2.1: any value other than 0 or 1 is a connection PROTOCOL_ERROR.
            SettingId::NO_RFC7540_PRIORITIES if value > 1 => {
                bad(ErrorCode::PROTOCOL_ERROR, "SETTINGS_NO_RFC7540_PRIORITIES is not 0 or 1")
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for SettingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "SettingId({:#x})", self.0),
        }
    }
}

/// One setting: identifier and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Setting {
    /// Which setting.
    pub id: SettingId,
    /// Its value.
    pub value: u32,
}

/// A SETTINGS frame, or its acknowledgement.
///
/// Entries are kept in wire order, unknown identifiers included: §6.5.3 has them processed
/// in order, so with duplicates the last one wins ([`Settings::get`] does that).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// ACK: acknowledges the peer's SETTINGS; carries no entries.
    pub ack: bool,
    /// The entries, in order.
    pub entries: SmallVec<[Setting; 8]>,
}

impl Settings {
    /// An empty SETTINGS frame (not an ACK).
    pub fn new() -> Settings {
        Settings::default()
    }

    /// A SETTINGS acknowledgement.
    pub fn ack() -> Settings {
        Settings { ack: true, entries: SmallVec::new() }
    }

    /// Adds an entry (builder style).
    pub fn with(mut self, id: SettingId, value: u32) -> Settings {
        self.entries.push(Setting { id, value });
        self
    }

    /// The value in effect after this frame for `id`: the last entry with that identifier.
    pub fn get(&self, id: SettingId) -> Option<u32> {
        self.entries.iter().rev().find(|s| s.id == id).map(|s| s.value)
    }

    pub(crate) fn decode(header: &FrameHeader, payload: &[u8]) -> Result<Settings, ProtocolError> {
        // §6.5: SETTINGS on a stream is a connection error of type PROTOCOL_ERROR.
        // req 9113-6.5-7
        require_connection(header, "SETTINGS frame on a stream")?;
        if header.has(flags::ACK) {
            // §6.5: an ACK with a payload is a connection error of type FRAME_SIZE_ERROR.
            // req 9113-6.5-5
            if !payload.is_empty() {
                return Err(frame_size_error("SETTINGS ACK with a payload"));
            }
            return Ok(Settings::ack());
        }
        // §6.5: a length that is not a multiple of 6 is a FRAME_SIZE_ERROR.
        // req 9113-6.5-9
        if payload.len() % 6 != 0 {
            return Err(frame_size_error("SETTINGS length is not a multiple of 6"));
        }
        let mut entries = SmallVec::with_capacity(payload.len() / 6);
        for chunk in payload.chunks_exact(6) {
            let id = SettingId(u16::from_be_bytes([chunk[0], chunk[1]]));
            let value = read_u32(&chunk[2..]);
            // req 9113-6.5-8
            id.validate(value)?;
            entries.push(Setting { id, value });
        }
        Ok(Settings { ack: false, entries })
    }

    /// Writes the frame. An ACK is written without entries.
    pub fn encode(&self, dst: &mut BytesMut) {
        // req 9113-6.5-4
        let count = if self.ack { 0 } else { self.entries.len() };
        FrameHeader {
            length: (count * 6) as u32,
            kind: FrameType::SETTINGS,
            flags: if self.ack { flags::ACK } else { 0 },
            // req 9113-6.5-6
            stream_id: StreamId::ZERO,
        }
        .encode(dst);
        for setting in &self.entries[..count] {
            dst.put_u16(setting.id.0);
            dst.put_u32(setting.value);
        }
    }
}
