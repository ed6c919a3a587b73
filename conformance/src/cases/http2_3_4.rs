//! http2/3.5 (connection preface), http2/4.1-4.3 (frame format, frame size, field block
//! compression): RFC 9113 §3.4, §4.

use super::{Block, Ctx, Group, case, expect_success};
use crate::peer::raw;
use crate::verdict::Outcome;
use bytes::Bytes;
use h2proto::ErrorCode;
use h2proto::StreamId;
use h2proto::frame::{FrameType, Headers, SettingId};

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "http2/3.5",
        title: "HTTP/2 Connection Preface",
        cases: &[
            case("Sends a client connection preface: SETTINGS is the first frame back", preface),
            case("Sends an invalid connection preface: connection error", invalid_preface),
            case("Sends a PING before the first SETTINGS: connection error", ping_first),
        ],
    },
    &Group {
        section: "http2/4.1",
        title: "Frame Format",
        cases: &[
            case("Sends a frame of unknown type: ignored", unknown_type),
            case("Sends a frame with undefined flags: flags ignored", undefined_flags),
            case("Sends a frame with the reserved bit set: bit ignored", reserved_bit),
        ],
    },
    &Group {
        section: "http2/4.2",
        title: "Frame Size",
        cases: &[
            case("Sends a DATA frame of 2^14 octets: accepted", data_max_size),
            case(
                "Sends a DATA frame over SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR",
                data_too_large,
            ),
            case(
                "Sends a HEADERS frame over SETTINGS_MAX_FRAME_SIZE: connection error FRAME_SIZE_ERROR",
                headers_too_large,
            ),
        ],
    },
    &Group {
        section: "http2/4.3",
        title: "Header Compression and Decompression",
        cases: &[
            case("Sends an undecodable field block: connection error COMPRESSION_ERROR", bad_block),
            case(
                "Sends a PRIORITY frame inside a field block: connection error PROTOCOL_ERROR",
                priority_inside_block,
            ),
            case(
                "Sends HEADERS for another stream inside a field block: connection error PROTOCOL_ERROR",
                headers_inside_block,
            ),
        ],
    },
];

/// RFC 9113 §3.4: the server's connection preface is a SETTINGS frame, its first frame.
fn preface(ctx: &Ctx) -> Outcome {
    ctx.open().map(drop)
}

/// Accepts GOAWAY PROTOCOL_ERROR or a bare close: §3.4 lets the GOAWAY be omitted when the
/// preface is invalid, since the peer is evidently not speaking HTTP/2.
fn preface_error(peer: &mut crate::peer::Peer) -> Outcome {
    match peer.expect_connection_error(&[ErrorCode::PROTOCOL_ERROR]) {
        Err(f) if f.kind == crate::verdict::FailureKind::Lenient => Ok(()),
        other => other,
    }
}

/// RFC 9113 §3.4: an invalid preface is a connection error of type PROTOCOL_ERROR (the
/// GOAWAY may be omitted).
fn invalid_preface(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.connect()?;
    peer.send_bytes(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n");
    peer.settings(&[]);
    preface_error(&mut peer)
}

/// RFC 9113 §3.4: the preface must be followed by SETTINGS; anything else makes the
/// preface invalid (connection error PROTOCOL_ERROR, GOAWAY optional).
fn ping_first(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.connect()?;
    peer.preface();
    peer.ping(*b"tooearly");
    preface_error(&mut peer)
}

/// RFC 9113 §4.1, §5.5: frames of unknown type are ignored.
fn unknown_type(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType(0xee), 0).payload(b"unknown"));
    peer.expect_ping_ack("a frame of unknown type")
}

/// RFC 9113 §4.1: flags without a defined meaning for the type are ignored.
fn undefined_flags(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let payload = *b"flagged!";
    peer.send_raw(raw(FrameType::PING, 0).flags(0xfe).payload(payload));
    peer.expect_ping_ack_of(payload)
}

/// RFC 9113 §4.1: the reserved bit of the stream identifier is ignored on receipt.
fn reserved_bit(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("GET", "/");
    let block = peer.block(&fields);
    let headers = Headers::new(StreamId(1), block, true);
    peer.send_raw(h2proto::frame::RawFrame::from_frame(&headers.into()).reserved_bit());
    expect_success(&mut peer, 1)
}

/// RFC 9113 §4.2: every endpoint accepts frames of up to 2^14 octets.
fn data_max_size(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.data(1, vec![b'x'; 1 << 14], true);
    expect_success(&mut peer, 1)
}

fn max_frame_size(peer: &crate::peer::Peer) -> u32 {
    peer.server_setting(SettingId::MAX_FRAME_SIZE).unwrap_or(1 << 14)
}

/// RFC 9113 §4.2: a frame over SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR; for DATA a
/// stream or a connection error.
fn data_too_large(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let size = max_frame_size(&peer) as usize + 1;
    peer.post(1, "/");
    peer.data(1, vec![b'x'; size], true);
    peer.expect_stream_error(1, &[ErrorCode::FRAME_SIZE_ERROR], true)
}

/// RFC 9113 §4.2: an oversized frame that carries a field block must be a connection
/// error FRAME_SIZE_ERROR (it alters the compression state).
fn headers_too_large(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let size = max_frame_size(&peer) as usize + 1;
    // Literals without indexing, so the block is exactly what is written.
    let mut block = Block::get(&peer);
    for i in 0..=size / 1000 {
        block = block.literal_new(0x00, 4, &format!("x-padding-{i}"), &"x".repeat(1000), false);
    }
    let block: Bytes = block.build().slice(..size);
    peer.send_raw(raw(FrameType::HEADERS, 1).flags(0x5).payload(&block));
    peer.expect_connection_error(&[ErrorCode::FRAME_SIZE_ERROR])
}

/// RFC 9113 §4.3, RFC 7541: a field block that cannot be decoded is a connection error of
/// type COMPRESSION_ERROR.
fn bad_block(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    // A literal with incremental indexing, cut off before its name.
    peer.send_raw(raw(FrameType::HEADERS, 1).flags(0x5).payload([0x40]));
    peer.expect_connection_error(&[ErrorCode::COMPRESSION_ERROR])
}

/// RFC 9113 §4.3, §6.10: a field block must be a contiguous sequence of frames; any other
/// frame in between is a connection error PROTOCOL_ERROR.
fn priority_inside_block(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.open_block();
    peer.priority(1, 0, false, 16);
    peer.expect_connection_error(&[ErrorCode::PROTOCOL_ERROR])
}

/// RFC 9113 §4.3: HEADERS for another stream in the middle of a field block is a
/// connection error PROTOCOL_ERROR.
fn headers_inside_block(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.open_block();
    peer.get(3);
    peer.expect_connection_error(&[ErrorCode::PROTOCOL_ERROR])
}
