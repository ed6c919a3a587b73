//! http2/6.10 (CONTINUATION) and http2/7 (error codes): RFC 9113 §6.10, §7.

use super::{Ctx, Group, case, expect_success};
use crate::peer::{Ev, Peer, raw};
use crate::verdict::{Failure, Outcome};
use bytes::Bytes;
use h2proto::frame::{Frame, FrameType, GoAway, Headers};
use h2proto::{ErrorCode, StreamId};
use std::time::Instant;

const PROTOCOL: ErrorCode = ErrorCode::PROTOCOL_ERROR;

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "http2/6.10",
        title: "CONTINUATION",
        cases: &[
            case("Sends HEADERS and several CONTINUATION frames: accepted", several),
            case(
                "Sends a DATA frame after a CONTINUATION without END_HEADERS: connection error PROTOCOL_ERROR",
                data_inside_block,
            ),
            case(
                "Sends a CONTINUATION frame on stream 0: connection error PROTOCOL_ERROR",
                on_stream_0,
            ),
            case(
                "Sends a CONTINUATION after HEADERS with END_HEADERS: connection error PROTOCOL_ERROR",
                after_end_headers,
            ),
            case(
                "Sends a CONTINUATION after a CONTINUATION with END_HEADERS: connection error PROTOCOL_ERROR",
                after_continuation_end,
            ),
            case("Sends a CONTINUATION after DATA: connection error PROTOCOL_ERROR", after_data),
            case(
                "Sends a CONTINUATION on another stream than its HEADERS: connection error PROTOCOL_ERROR",
                other_stream,
            ),
        ],
    },
    &Group {
        section: "http2/7",
        title: "Error Codes",
        cases: &[
            case(
                "Sends a GOAWAY frame with an unknown error code: no special behaviour",
                goaway_unknown,
            ),
            case(
                "Sends a RST_STREAM frame with an unknown error code: no special behaviour",
                rst_unknown,
            ),
        ],
    },
];

/// A request block split in three: HEADERS without END_HEADERS is sent, the other two
/// pieces are returned.
fn start_block(peer: &mut Peer) -> (Bytes, Bytes) {
    let mut fields = peer.request("GET", "/");
    fields.push(("x-filler".into(), "y".repeat(60)));
    let block = peer.block(&fields);
    let third = block.len() / 3;
    let mut headers = Headers::new(StreamId(1), block.slice(..third), true);
    headers.end_headers = false;
    peer.send(headers);
    (block.slice(third..2 * third), block.slice(2 * third..))
}

/// RFC 9113 §6.10: any number of CONTINUATION frames may follow a HEADERS.
fn several(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let (middle, last) = start_block(&mut peer);
    peer.continuation(1, middle, false);
    peer.continuation(1, last, true);
    expect_success(&mut peer, 1)
}

/// RFC 9113 §6.10: a field block must be followed by CONTINUATION frames until
/// END_HEADERS; any other frame is a connection error PROTOCOL_ERROR.
fn data_inside_block(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let (middle, _) = start_block(&mut peer);
    peer.continuation(1, middle, false);
    peer.data(1, b"test", true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.10: CONTINUATION on stream 0 is a connection error PROTOCOL_ERROR.
fn on_stream_0(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let (middle, _) = start_block(&mut peer);
    peer.send_raw(raw(FrameType::CONTINUATION, 0).flags(0x4).payload(&middle));
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.10: a CONTINUATION must follow a HEADERS, PUSH_PROMISE or CONTINUATION
/// without END_HEADERS.
fn after_end_headers(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("POST", "/");
    peer.headers(1, &fields, false);
    let extra = peer.block(&[("x-extra", "1")]);
    peer.continuation(1, extra, true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.10: a CONTINUATION after the block ended.
fn after_continuation_end(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let (middle, last) = start_block(&mut peer);
    let mut whole = middle.to_vec();
    whole.extend_from_slice(&last);
    peer.continuation(1, whole.into(), true);
    let extra = peer.block(&[("x-extra", "1")]);
    peer.continuation(1, extra, true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.10: a CONTINUATION after DATA.
fn after_data(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.data(1, b"test", false);
    let extra = peer.block(&[("x-extra", "1")]);
    peer.continuation(1, extra, true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §6.10: the CONTINUATION frames of a block are on the block's stream.
fn other_stream(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let (middle, _) = start_block(&mut peer);
    peer.continuation(3, middle, true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §7: unknown error codes must not trigger special behaviour. After the
/// client's GOAWAY the server may answer a PING or close cleanly.
fn goaway_unknown(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send(GoAway::new(StreamId(0), ErrorCode(0xff)));
    let payload = *b"unknown!";
    peer.ping(payload);
    let deadline = Instant::now() + peer.wait;
    loop {
        let ev = peer.next(deadline);
        match &ev {
            Ev::Frame(Frame::Ping(p)) if p.ack && p.payload == payload => return Ok(()),
            Ev::Closed(_) => return Ok(()),
            Ev::Frame(Frame::GoAway(g)) if g.error_code == ErrorCode::NO_ERROR => {}
            Ev::Frame(Frame::GoAway(_)) | Ev::Invalid(_) | Ev::Timeout => {
                return Err(Failure::new("a PING ACK or a clean close", peer.describe(&ev)));
            }
            Ev::Frame(_) => {}
        }
    }
}

/// RFC 9113 §7: a RST_STREAM with an unknown code closes the stream like any other.
fn rst_unknown(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.rst(1, ErrorCode(0xff));
    peer.expect_ping_ack("RST_STREAM with an unknown error code")
}
