//! http2/8.1 (request/response exchange) and http2/8.2 (server push): RFC 9113 §8.1, §8.4.

use super::{Ctx, Group, case};
use crate::verdict::Outcome;
use h2proto::frame::PushPromise;
use h2proto::{ErrorCode, StreamId};

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "http2/8.1",
        title: "HTTP Request/Response Exchange",
        cases: &[case(
            "Sends a second HEADERS frame without END_STREAM: stream error PROTOCOL_ERROR",
            trailers_without_end_stream,
        )],
    },
    &Group {
        section: "http2/8.2",
        title: "Server Push",
        cases: &[case("Sends a PUSH_PROMISE frame: connection error PROTOCOL_ERROR", push_promise)],
    },
];

/// RFC 9113 §8.1: after the request's HEADERS, a HEADERS frame without END_STREAM makes
/// the request malformed (stream error PROTOCOL_ERROR, §8.1.1).
fn trailers_without_end_stream(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.data(1, b"test", false);
    peer.headers(1, &[("x-trailer", "1")], false);
    peer.expect_stream_error(1, &[ErrorCode::PROTOCOL_ERROR], false)
}

/// RFC 9113 §8.4: a client cannot push; a server receiving PUSH_PROMISE must treat it as a
/// connection error PROTOCOL_ERROR.
fn push_promise(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    let fields = peer.request("GET", "/pushed");
    let block = peer.block(&fields);
    peer.send(PushPromise {
        stream_id: StreamId(1),
        promised_id: StreamId(3),
        fragment: block,
        end_headers: true,
        pad_len: None,
    });
    peer.expect_connection_error(&[ErrorCode::PROTOCOL_ERROR])
}
