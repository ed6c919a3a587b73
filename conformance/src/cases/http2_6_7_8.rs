//! http2/6.7 (PING) and 6.8 (GOAWAY): RFC 9113 §6.7, §6.8.

use super::{Ctx, Group, case};
use crate::peer::raw;
use crate::verdict::Outcome;
use h2proto::ErrorCode;
use h2proto::frame::{FrameType, Ping};

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "http2/6.7",
        title: "PING",
        cases: &[
            case("Sends a PING frame: ACK with the same payload", ping),
            case("Sends a PING frame with ACK: not answered", ping_ack),
            case("Sends a PING frame on a stream: connection error PROTOCOL_ERROR", on_stream),
            case("Sends a PING frame of length 7: connection error FRAME_SIZE_ERROR", bad_length),
        ],
    },
    &Group {
        section: "http2/6.8",
        title: "GOAWAY",
        cases: &[
            case(
                "Sends a GOAWAY frame on a stream: connection error PROTOCOL_ERROR",
                goaway_on_stream,
            ),
            case(
                "Sends a GOAWAY frame shorter than 8 bytes: connection error FRAME_SIZE_ERROR",
                goaway_short,
            ),
        ],
    },
];

/// RFC 9113 §6.7: a PING without ACK is answered by a PING with ACK and the same payload.
fn ping(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let payload = *b"\x01\x02\x03\x04\x05\x06\x07\x08";
    peer.ping(payload);
    peer.expect_ping_ack_of(payload)
}

/// RFC 9113 §6.7: a PING with ACK must not be answered.
fn ping_ack(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send(Ping { ack: true, payload: *b"unasked!" });
    let payload = *b"question";
    peer.ping(payload);
    peer.expect_ping_ack_of(payload)
}

/// RFC 9113 §6.7: PING on a stream is a connection error PROTOCOL_ERROR.
fn on_stream(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::PING, 1).payload([0u8; 8]));
    peer.expect_connection_error(&[ErrorCode::PROTOCOL_ERROR])
}

/// RFC 9113 §6.7: a PING of a length other than 8 is a connection error FRAME_SIZE_ERROR.
fn bad_length(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::PING, 0).payload([0u8; 7]));
    peer.expect_connection_error(&[ErrorCode::FRAME_SIZE_ERROR])
}

/// RFC 9113 §6.8: GOAWAY on a stream is a connection error PROTOCOL_ERROR.
fn goaway_on_stream(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::GOAWAY, 1).payload([0, 0, 0, 0, 0, 0, 0, 0]));
    peer.expect_connection_error(&[ErrorCode::PROTOCOL_ERROR])
}

/// RFC 9113 §4.2: a frame too short for its mandatory fields is a FRAME_SIZE_ERROR; GOAWAY
/// concerns the connection, so a connection error.
fn goaway_short(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::GOAWAY, 0).payload([0, 0, 0, 0]));
    peer.expect_connection_error(&[ErrorCode::FRAME_SIZE_ERROR])
}
