//! http2/6.1-6.4: DATA, HEADERS, PRIORITY and RST_STREAM frame rules (RFC 9113 §6.1-§6.4).

use super::{Ctx, Group, case};
use crate::peer::{END_HEADERS, END_STREAM, PADDED, raw};
use crate::verdict::Outcome;
use h2proto::ErrorCode;
use h2proto::frame::{FrameType, SettingId};

const PROTOCOL: ErrorCode = ErrorCode::PROTOCOL_ERROR;

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "http2/6.1",
        title: "DATA",
        cases: &[
            case("Sends a DATA frame on stream 0: connection error PROTOCOL_ERROR", data_stream_0),
            case(
                "Sends a DATA frame on a half-closed (remote) stream: stream error STREAM_CLOSED",
                data_not_open,
            ),
            case(
                "Sends a DATA frame with an invalid pad length: connection error PROTOCOL_ERROR",
                data_bad_padding,
            ),
        ],
    },
    &Group {
        section: "http2/6.2",
        title: "HEADERS",
        cases: &[
            case(
                "Sends HEADERS without END_HEADERS, then PRIORITY: connection error PROTOCOL_ERROR",
                headers_then_priority,
            ),
            case(
                "Sends HEADERS without END_HEADERS, then HEADERS on another stream: PROTOCOL_ERROR",
                headers_then_headers,
            ),
            case(
                "Sends a HEADERS frame on stream 0: connection error PROTOCOL_ERROR",
                headers_stream_0,
            ),
            case(
                "Sends a HEADERS frame with an invalid pad length: connection error PROTOCOL_ERROR",
                headers_bad_padding,
            ),
        ],
    },
    &Group {
        section: "http2/6.3",
        title: "PRIORITY",
        cases: &[
            case(
                "Sends a PRIORITY frame on stream 0: connection error PROTOCOL_ERROR",
                priority_stream_0,
            ),
            case(
                "Sends a PRIORITY frame with a length other than 5: stream error FRAME_SIZE_ERROR",
                priority_bad_length,
            ),
        ],
    },
    &Group {
        section: "http2/6.4",
        title: "RST_STREAM",
        cases: &[
            case(
                "Sends a RST_STREAM frame on stream 0: connection error PROTOCOL_ERROR",
                rst_stream_0,
            ),
            case(
                "Sends a RST_STREAM frame on an idle stream: connection error PROTOCOL_ERROR",
                rst_idle,
            ),
            case(
                "Sends a RST_STREAM frame with a length other than 4: connection error FRAME_SIZE_ERROR",
                rst_bad_length,
            ),
        ],
    },
];

/// RFC 9113 §6.1: DATA must belong to a stream; on stream 0 it is a connection error
/// PROTOCOL_ERROR.
fn data_stream_0(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.data(0, b"test", true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.1: DATA on a stream that is not open or half-closed (local) is a stream
/// error STREAM_CLOSED.
fn data_not_open(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.connect()?;
    // A zero window keeps the server's response, and so the stream, from finishing.
    peer.handshake_with(&[(SettingId::INITIAL_WINDOW_SIZE, 0)])?;
    peer.get(1);
    peer.data(1, b"test", true);
    peer.expect_stream_error(1, &[ErrorCode::STREAM_CLOSED], false)
}

/// RFC 9113 §6.1: padding as long as the payload or longer is a connection error
/// PROTOCOL_ERROR.
fn data_bad_padding(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    // Pad length 6 in a 5-byte payload (1 byte of pad length + "test").
    peer.send_raw(raw(FrameType::DATA, 1).flags(PADDED | END_STREAM).payload(b"\x06test"));
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.2, §6.10: a field block without END_HEADERS must continue with
/// CONTINUATION; a PRIORITY instead is a connection error PROTOCOL_ERROR.
fn headers_then_priority(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.open_block();
    peer.priority(1, 0, false, 16);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.2, §6.10: HEADERS for another stream inside a field block.
fn headers_then_headers(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.open_block();
    peer.get(3);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.2: HEADERS on stream 0 is a connection error PROTOCOL_ERROR.
fn headers_stream_0(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("GET", "/");
    let block = peer.block(&fields);
    peer.send_raw(raw(FrameType::HEADERS, 0).flags(END_HEADERS | END_STREAM).payload(&block));
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.2: padding that exceeds the rest of the payload is a connection error
/// PROTOCOL_ERROR.
fn headers_bad_padding(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("GET", "/");
    let block = peer.block(&fields);
    let mut payload = vec![(block.len() + 1).min(255) as u8];
    payload.extend_from_slice(&block);
    peer.send_raw(
        raw(FrameType::HEADERS, 1).flags(PADDED | END_HEADERS | END_STREAM).payload(payload),
    );
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.3: PRIORITY on stream 0 is a connection error PROTOCOL_ERROR.
fn priority_stream_0(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::PRIORITY, 0).payload([0, 0, 0, 1, 15]));
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.3: a PRIORITY frame of a length other than 5 is a stream error
/// FRAME_SIZE_ERROR.
fn priority_bad_length(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.send_raw(raw(FrameType::PRIORITY, 1).payload([0, 0, 0, 0]));
    peer.expect_stream_error(1, &[ErrorCode::FRAME_SIZE_ERROR], false)
}

/// RFC 9113 §6.4: RST_STREAM on stream 0 is a connection error PROTOCOL_ERROR.
fn rst_stream_0(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::RST_STREAM, 0).payload([0, 0, 0, 8]));
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.4: RST_STREAM on an idle stream is a connection error PROTOCOL_ERROR.
fn rst_idle(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.rst(3, ErrorCode::CANCEL);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.4: a RST_STREAM of a length other than 4 is a connection error
/// FRAME_SIZE_ERROR.
fn rst_bad_length(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.send_raw(raw(FrameType::RST_STREAM, 1).payload([0, 0, 0, 8, 0]));
    peer.expect_connection_error(&[ErrorCode::FRAME_SIZE_ERROR])
}
