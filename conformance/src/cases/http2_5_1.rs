//! http2/5.1, 5.1.1, 5.1.2: stream states, identifiers and concurrency (RFC 9113 §5.1).

use super::{Ctx, Group, case, expect_success};
use crate::peer::Peer;
use crate::verdict::{Failure, Outcome};
use h2proto::ErrorCode;
use h2proto::frame::SettingId;

const PROTOCOL: ErrorCode = ErrorCode::PROTOCOL_ERROR;
const CLOSED: ErrorCode = ErrorCode::STREAM_CLOSED;

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "http2/5.1",
        title: "Stream States",
        cases: &[
            case("idle: Sends a DATA frame: connection error PROTOCOL_ERROR", idle_data),
            case("idle: Sends a RST_STREAM frame: connection error PROTOCOL_ERROR", idle_rst),
            case(
                "idle: Sends a WINDOW_UPDATE frame: connection error PROTOCOL_ERROR",
                idle_window_update,
            ),
            case(
                "idle: Sends a CONTINUATION frame: connection error PROTOCOL_ERROR",
                idle_continuation,
            ),
            case("half closed (remote): Sends a DATA frame: stream error STREAM_CLOSED", hcr_data),
            case(
                "half closed (remote): Sends a HEADERS frame: stream error STREAM_CLOSED",
                hcr_headers,
            ),
            case(
                "half closed (remote): Sends a CONTINUATION frame: connection error PROTOCOL_ERROR",
                hcr_continuation,
            ),
            case("closed: Sends a DATA frame after RST_STREAM: STREAM_CLOSED", rst_data),
            case("closed: Sends a HEADERS frame after RST_STREAM: STREAM_CLOSED", rst_headers),
            case(
                "closed: Sends a CONTINUATION frame after RST_STREAM: connection error PROTOCOL_ERROR",
                rst_continuation,
            ),
            case("closed: Sends a DATA frame: STREAM_CLOSED", closed_data),
            case("closed: Sends a HEADERS frame: STREAM_CLOSED or PROTOCOL_ERROR", closed_headers),
            case(
                "closed: Sends a CONTINUATION frame: connection error PROTOCOL_ERROR",
                closed_continuation,
            ),
        ],
    },
    &Group {
        section: "http2/5.1.1",
        title: "Stream Identifiers",
        cases: &[
            case(
                "Sends an even-numbered stream identifier: connection error PROTOCOL_ERROR",
                even_id,
            ),
            case(
                "Sends a stream identifier below a previous one: connection error PROTOCOL_ERROR",
                smaller_id,
            ),
            case("Skips stream identifiers: accepted", skipped_ids),
        ],
    },
    &Group {
        section: "http2/5.1.2",
        title: "Stream Concurrency",
        cases: &[case(
            "Exceeds SETTINGS_MAX_CONCURRENT_STREAMS: stream error PROTOCOL_ERROR or REFUSED_STREAM",
            too_many_streams,
        )],
    },
];

/// RFC 9113 §5.1 (idle): only HEADERS and PRIORITY are allowed on an idle stream; anything
/// else is a connection error PROTOCOL_ERROR.
fn idle_data(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.data(1, b"test", true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §5.1 (idle), §6.4: RST_STREAM on an idle stream.
fn idle_rst(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.rst(1, ErrorCode::CANCEL);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §5.1 (idle): WINDOW_UPDATE on an idle stream.
fn idle_window_update(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.window_update(1, 100);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §5.1 (idle), §6.10: CONTINUATION on an idle stream.
fn idle_continuation(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("GET", "/");
    let block = peer.block(&fields);
    peer.continuation(1, block, true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// Stream 1 half-closed (remote) on the server: GET with END_STREAM while a zero initial
/// window keeps the server from finishing its response.
fn half_closed(ctx: &Ctx) -> Result<Peer, Failure> {
    let mut peer = ctx.connect()?;
    peer.handshake_with(&[(SettingId::INITIAL_WINDOW_SIZE, 0)])?;
    peer.get(1);
    Ok(peer)
}

/// RFC 9113 §5.1 (half-closed (remote)): frames other than WINDOW_UPDATE, PRIORITY and
/// RST_STREAM are a stream error STREAM_CLOSED.
fn hcr_data(ctx: &Ctx) -> Outcome {
    let mut peer = half_closed(ctx)?;
    peer.data(1, b"test", true);
    peer.expect_stream_error(1, &[CLOSED], false)
}

/// RFC 9113 §5.1 (half-closed (remote)): HEADERS after END_STREAM.
fn hcr_headers(ctx: &Ctx) -> Outcome {
    let mut peer = half_closed(ctx)?;
    peer.get(1);
    peer.expect_stream_error(1, &[CLOSED], false)
}

/// RFC 9113 §6.10: a CONTINUATION that follows no open field block is a connection error
/// PROTOCOL_ERROR, whatever the stream's state; §6.10 names no other code.
fn hcr_continuation(ctx: &Ctx) -> Outcome {
    let mut peer = half_closed(ctx)?;
    let block = peer.block(&[("x-late", "1")]);
    peer.continuation(1, block, true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// Stream 1 opened without END_STREAM, then reset by the client.
fn reset_stream(ctx: &Ctx) -> Result<Peer, Failure> {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.rst(1, ErrorCode::CANCEL);
    Ok(peer)
}

/// RFC 9113 §5.1 (closed), §6.1: DATA on a stream the client reset is a stream error
/// STREAM_CLOSED (a connection error STREAM_CLOSED is allowed too).
fn rst_data(ctx: &Ctx) -> Outcome {
    let mut peer = reset_stream(ctx)?;
    peer.data(1, b"test", true);
    peer.expect_stream_error(1, &[CLOSED], true)
}

/// RFC 9113 §5.1 (closed): HEADERS on a stream the client reset.
fn rst_headers(ctx: &Ctx) -> Outcome {
    let mut peer = reset_stream(ctx)?;
    peer.get(1);
    peer.expect_stream_error(1, &[CLOSED], true)
}

/// RFC 9113 §6.10: a stray CONTINUATION is a connection error PROTOCOL_ERROR, on a closed
/// stream too (§6.10 decides before the stream state of §5.1 does).
fn rst_continuation(ctx: &Ctx) -> Outcome {
    let mut peer = reset_stream(ctx)?;
    let block = peer.block(&[("x-late", "1")]);
    peer.continuation(1, block, true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// Stream 1 closed both ways: a GET answered completely.
fn closed_stream(ctx: &Ctx) -> Result<Peer, Failure> {
    let mut peer = ctx.open()?;
    peer.get(1);
    expect_success(&mut peer, 1)?;
    Ok(peer)
}

/// RFC 9113 §5.1 (closed), §6.1: DATA on a closed stream is STREAM_CLOSED, as a stream
/// error or (allowed) a connection error.
fn closed_data(ctx: &Ctx) -> Outcome {
    let mut peer = closed_stream(ctx)?;
    peer.data(1, b"test", true);
    peer.expect_stream_error(1, &[CLOSED], true)
}

/// RFC 9113 §5.1 (closed), §5.1.1: HEADERS on a closed stream is STREAM_CLOSED, or reuses
/// a stream identifier (connection error PROTOCOL_ERROR).
fn closed_headers(ctx: &Ctx) -> Outcome {
    let mut peer = closed_stream(ctx)?;
    peer.get(1);
    match peer.expect_stream_error(1, &[CLOSED], true) {
        Err(f) if f.observed.contains("PROTOCOL_ERROR") && f.observed.starts_with("GOAWAY") => {
            Ok(())
        }
        other => other,
    }
}

/// RFC 9113 §6.10: a stray CONTINUATION on a closed stream: connection error PROTOCOL_ERROR.
fn closed_continuation(ctx: &Ctx) -> Outcome {
    let mut peer = closed_stream(ctx)?;
    let block = peer.block(&[("x-late", "1")]);
    peer.continuation(1, block, true);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §5.1.1: client streams have odd identifiers; an even one from a client is a
/// connection error PROTOCOL_ERROR.
fn even_id(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.get(2);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §5.1.1: a new stream's identifier must exceed every earlier one.
fn smaller_id(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.get(5);
    expect_success(&mut peer, 5)?;
    peer.get(3);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9113 §5.1.1: identifiers may be skipped; the skipped streams simply close.
fn skipped_ids(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.get(1);
    expect_success(&mut peer, 1)?;
    peer.get(101);
    expect_success(&mut peer, 101)
}

/// RFC 9113 §5.1.2: a HEADERS that exceeds the advertised concurrency limit is a stream
/// error PROTOCOL_ERROR or REFUSED_STREAM.
fn too_many_streams(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let Some(limit) = peer.server_setting(SettingId::MAX_CONCURRENT_STREAMS) else {
        return Err(Failure::skip("the server does not advertise SETTINGS_MAX_CONCURRENT_STREAMS"));
    };
    if limit > 1000 {
        return Err(Failure::skip(format!("SETTINGS_MAX_CONCURRENT_STREAMS is {limit}")));
    }
    // Streams left open (no END_STREAM) count against the limit whatever the server sends.
    for i in 0..limit {
        peer.post(2 * i + 1, "/");
    }
    let over = 2 * limit + 1;
    peer.post(over, "/");
    peer.expect_stream_error(over, &[PROTOCOL, ErrorCode::REFUSED_STREAM], false)
}
