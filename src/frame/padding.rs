//! Padding, shared by DATA, HEADERS and PUSH_PROMISE (RFC 9113 §6.1, §6.2, §6.6).

use super::{FrameHeader, flags, frame_size_error};
use crate::{ErrorCode, ProtocolError};
use bytes::{BufMut, Bytes, BytesMut};

/// Strips the Pad Length field and the padding from a payload when PADDED is set.
///
/// Returns the unpadded payload and the pad length (`None` when not padded). A padded
/// frame too short to hold the Pad Length field is a FRAME_SIZE_ERROR (§4.2: too small to
/// contain mandatory frame data); padding that covers `min_rest` bytes of mandatory fields
/// or more is a PROTOCOL_ERROR (§6.1, §6.2, §6.6: "the length of the padding is the length
/// of the frame payload or greater").
pub(crate) fn strip(
    header: &FrameHeader,
    mut payload: Bytes,
    min_rest: usize,
) -> Result<(Bytes, Option<u8>), ProtocolError> {
    if !header.has(flags::PADDED) {
        return Ok((payload, None));
    }
    let Some(&pad_len) = payload.first() else {
        return Err(frame_size_error("PADDED frame without a Pad Length field"));
    };
    let rest = payload.len() - 1;
    if rest < min_rest {
        return Err(frame_size_error("padded frame too short for its mandatory fields"));
    }
    // req 9113-6.1-7, 9113-6.2-7
    // req 9113-6.6-15
    if pad_len as usize > rest - min_rest {
        return Err(ProtocolError::connection(
            ErrorCode::PROTOCOL_ERROR,
            "padding is as long as the frame payload or longer",
        ));
    }
    // req 9113-6.1-3, 9113-6.2-2
    // req 9113-6.6-3
    payload.truncate(payload.len() - pad_len as usize);
    let _ = bytes::Buf::get_u8(&mut payload);
    Ok((payload, Some(pad_len)))
}

/// Bytes the padding adds to a payload: the Pad Length field plus the padding itself.
pub(crate) fn overhead(pad_len: Option<u8>) -> usize {
    pad_len.map_or(0, |p| 1 + p as usize)
}

/// Writes `pad_len` zero bytes of padding (§6.1: padding octets MUST be set to zero).
pub(crate) fn write_tail(pad_len: Option<u8>, dst: &mut BytesMut) {
    if let Some(p) = pad_len {
        // req 9113-6.1-2, 9113-6.2-1
        // req 9113-6.6-2
        dst.put_bytes(0, p as usize);
    }
}
