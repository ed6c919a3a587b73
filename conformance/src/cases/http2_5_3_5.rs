//! http2/5.3.1 (stream dependencies), 5.4.1 (connection error handling), 5.5 (extending
//! HTTP/2): RFC 9113 §5.3.2, §5.4.1, §5.5.

use super::{Ctx, Group, case};
use crate::peer::raw;
use crate::verdict::{Failure, FailureKind, Outcome};
use h2proto::frame::{FrameType, Headers, PrioritySpec};
use h2proto::{ErrorCode, StreamId};

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "http2/5.3.1",
        title: "Stream Dependencies",
        cases: &[
            case(
                "Sends a HEADERS frame that depends on itself: stream error PROTOCOL_ERROR",
                headers_self,
            ),
            case(
                "Sends a PRIORITY frame that depends on itself: stream error PROTOCOL_ERROR",
                priority_self,
            ),
        ],
    },
    &Group {
        section: "http2/5.4.1",
        title: "Connection Error Handling",
        cases: &[
            case("Sends an invalid PING frame: GOAWAY with an error", invalid_ping_goaway),
            case(
                "Sends an invalid PING frame: the TCP connection closes after GOAWAY",
                invalid_ping_close,
            ),
        ],
    },
    &Group {
        section: "http2/5.5",
        title: "Extending HTTP/2",
        cases: &[
            case("Sends an unknown extension frame: ignored", unknown_frame),
            case(
                "Sends an unknown extension frame inside a field block: connection error PROTOCOL_ERROR",
                unknown_inside_block,
            ),
        ],
    },
];

/// A self-dependency was a stream error PROTOCOL_ERROR in RFC 7540 §5.3.1. RFC 9113 §5.3.2
/// deprecates the scheme and no longer states the rule, so ignoring it is only a lenient
/// failure; a connection error is accepted too.
fn self_dependency(outcome: Outcome) -> Outcome {
    outcome.map_err(|f| match f.kind {
        FailureKind::Hard if f.observed.starts_with("nothing within") => {
            Failure { kind: FailureKind::Lenient, ..f }
        }
        _ => f,
    })
}

/// RFC 7540 §5.3.1 (kept for interoperability by RFC 9113 §5.3.2): a stream cannot depend
/// on itself.
fn headers_self(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("GET", "/");
    let block = peer.block(&fields);
    let mut headers = Headers::new(StreamId(1), block, true);
    headers.priority = Some(PrioritySpec { dependency: StreamId(1), exclusive: false, weight: 16 });
    peer.send(headers);
    self_dependency(peer.expect_stream_error(1, &[ErrorCode::PROTOCOL_ERROR], true))
}

/// RFC 7540 §5.3.1: the same rule for a PRIORITY frame.
fn priority_self(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.priority(1, 1, false, 16);
    self_dependency(peer.expect_stream_error(1, &[ErrorCode::PROTOCOL_ERROR], true))
}

/// RFC 9113 §5.4.1, §6.7: a connection error is signalled with GOAWAY (here a PING of 6
/// bytes, FRAME_SIZE_ERROR).
fn invalid_ping_goaway(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::PING, 0).payload([0u8; 6]));
    peer.expect_connection_error(&[ErrorCode::FRAME_SIZE_ERROR])
}

/// RFC 9113 §5.4.1: after the GOAWAY of a connection error the endpoint MUST close the TCP
/// connection.
fn invalid_ping_close(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::PING, 0).payload([0u8; 6]));
    peer.expect_connection_error(&[ErrorCode::FRAME_SIZE_ERROR])?;
    peer.expect_close()
}

/// RFC 9113 §5.5: frames of unknown type are ignored.
fn unknown_frame(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType(0x77), 1).flags(0xff).payload(b"extension"));
    peer.expect_ping_ack("an extension frame")
}

/// RFC 9113 §5.5, §6.10: extension frames cannot interrupt a field block; one that does is
/// a connection error PROTOCOL_ERROR.
fn unknown_inside_block(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("GET", "/");
    let block = peer.block(&fields);
    let mut headers = Headers::new(StreamId(1), block, true);
    headers.end_headers = false;
    peer.send(headers);
    peer.send_raw(raw(FrameType(0x77), 0).payload(b"extension"));
    peer.expect_connection_error(&[ErrorCode::PROTOCOL_ERROR])
}
