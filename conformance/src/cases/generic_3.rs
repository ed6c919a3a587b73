//! generic/3: every frame type used the ordinary way is accepted (RFC 9113 §6).

use super::{Ctx, Group, case, expect_success};
use crate::peer::Peer;
use crate::verdict::{Failure, Outcome};
use bytes::Bytes;
use h2proto::frame::{Data, Frame, GoAway, Headers, PrioritySpec, SettingId};
use h2proto::{ErrorCode, StreamId};

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "generic/3.1",
        title: "DATA",
        cases: &[
            case("Sends a DATA frame", data_one),
            case("Sends multiple DATA frames", data_many),
            case("Sends a DATA frame with padding", data_padded),
        ],
    },
    &Group {
        section: "generic/3.2",
        title: "HEADERS",
        cases: &[
            case("Sends a HEADERS frame", headers_plain),
            case("Sends a HEADERS frame with padding", headers_padded),
            case("Sends a HEADERS frame with priority", headers_priority),
        ],
    },
    &Group {
        section: "generic/3.3",
        title: "PRIORITY",
        cases: &[
            case("Sends a PRIORITY frame with weight 1", priority_weight_1),
            case("Sends a PRIORITY frame with weight 256", priority_weight_256),
            case("Sends a PRIORITY frame with a stream dependency", priority_dependency),
            case("Sends a PRIORITY frame with the exclusive flag", priority_exclusive),
            case(
                "Sends a PRIORITY frame for an idle stream, then HEADERS on it",
                priority_then_headers,
            ),
        ],
    },
    &Group {
        section: "generic/3.4",
        title: "RST_STREAM",
        cases: &[case("Sends a RST_STREAM frame on an open stream", rst_open)],
    },
    &Group {
        section: "generic/3.5",
        title: "SETTINGS",
        cases: &[
            case("Sends SETTINGS_HEADER_TABLE_SIZE", settings_header_table_size),
            case("Sends SETTINGS_ENABLE_PUSH", settings_enable_push),
            case("Sends SETTINGS_MAX_CONCURRENT_STREAMS", settings_max_concurrent),
            case("Sends SETTINGS_INITIAL_WINDOW_SIZE", settings_initial_window),
            case("Sends SETTINGS_MAX_FRAME_SIZE", settings_max_frame_size),
            case("Sends SETTINGS_MAX_HEADER_LIST_SIZE", settings_max_header_list),
            case("Sends a SETTINGS frame with an unknown identifier", settings_unknown),
        ],
    },
    &Group {
        section: "generic/3.7",
        title: "PING",
        cases: &[case("Sends a PING frame: answered with the same payload", ping)],
    },
    &Group {
        section: "generic/3.8",
        title: "GOAWAY",
        cases: &[case("Sends a GOAWAY frame: no error in return", goaway)],
    },
    &Group {
        section: "generic/3.9",
        title: "WINDOW_UPDATE",
        cases: &[
            case("Sends a WINDOW_UPDATE frame for the connection", window_update_connection),
            case("Sends a WINDOW_UPDATE frame for a stream", window_update_stream),
        ],
    },
    &Group {
        section: "generic/3.10",
        title: "CONTINUATION",
        cases: &[
            case("Sends a CONTINUATION frame", continuation_one),
            case("Sends multiple CONTINUATION frames", continuation_many),
        ],
    },
];

/// RFC 9113 §6.1: a request body in one DATA frame.
fn data_one(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.data(1, b"test", true);
    expect_success(&mut peer, 1)
}

/// RFC 9113 §6.1: a request body in several DATA frames.
fn data_many(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    for _ in 0..4 {
        peer.data(1, b"test", false);
    }
    peer.data(1, b"test", true);
    expect_success(&mut peer, 1)
}

/// RFC 9113 §6.1: DATA may be padded; padding is discarded.
fn data_padded(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    let mut data = Data::new(StreamId(1), Bytes::from_static(b"test"), true);
    data.pad_len = Some(8);
    peer.send(data);
    expect_success(&mut peer, 1)
}

/// RFC 9113 §6.2: a request in one HEADERS frame.
fn headers_plain(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.get(1);
    expect_success(&mut peer, 1)
}

fn headers_with(ctx: &Ctx, edit: impl FnOnce(&mut Headers)) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("GET", "/");
    let block = peer.block(&fields);
    let mut headers = Headers::new(StreamId(1), block, true);
    edit(&mut headers);
    peer.send(headers);
    expect_success(&mut peer, 1)
}

/// RFC 9113 §6.2: HEADERS may be padded.
fn headers_padded(ctx: &Ctx) -> Outcome {
    headers_with(ctx, |h| h.pad_len = Some(8))
}

/// RFC 9113 §6.2, §5.3.2: HEADERS may carry the deprecated priority fields; they are
/// parsed (and may be ignored).
fn headers_priority(ctx: &Ctx) -> Outcome {
    headers_with(ctx, |h| {
        h.priority = Some(PrioritySpec { dependency: StreamId(0), exclusive: false, weight: 255 })
    })
}

fn priority_then_get(ctx: &Ctx, dependency: u32, exclusive: bool, weight: u16) -> Outcome {
    let mut peer = ctx.open()?;
    peer.priority(1, dependency, exclusive, weight);
    peer.get(1);
    expect_success(&mut peer, 1)
}

/// RFC 9113 §6.3: PRIORITY with the smallest weight.
fn priority_weight_1(ctx: &Ctx) -> Outcome {
    priority_then_get(ctx, 0, false, 1)
}

/// RFC 9113 §6.3: PRIORITY with the largest weight.
fn priority_weight_256(ctx: &Ctx) -> Outcome {
    priority_then_get(ctx, 0, false, 256)
}

/// RFC 9113 §6.3: PRIORITY naming another stream as dependency.
fn priority_dependency(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.get(1);
    peer.priority(3, 1, false, 16);
    peer.get(3);
    expect_success(&mut peer, 3)
}

/// RFC 9113 §6.3: PRIORITY with the exclusive flag.
fn priority_exclusive(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.get(1);
    peer.priority(3, 1, true, 16);
    peer.get(3);
    expect_success(&mut peer, 3)
}

/// RFC 9113 §5.1: PRIORITY leaves a stream idle; HEADERS then opens it as usual.
fn priority_then_headers(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.priority(3, 0, false, 16);
    peer.get(1);
    expect_success(&mut peer, 1)?;
    peer.get(3);
    expect_success(&mut peer, 3)
}

/// RFC 9113 §6.4: RST_STREAM closes an open stream; the connection goes on.
fn rst_open(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.rst(1, ErrorCode::CANCEL);
    peer.expect_ping_ack("RST_STREAM on an open stream")
}

fn settings_acked(ctx: &Ctx, id: SettingId, value: u32) -> Outcome {
    let mut peer = ctx.open()?;
    peer.expect_settings_ack()?;
    peer.settings(&[(id, value)]);
    peer.expect_settings_ack()
}

/// RFC 9113 §6.5.2: SETTINGS_HEADER_TABLE_SIZE is accepted and ACKed.
fn settings_header_table_size(ctx: &Ctx) -> Outcome {
    settings_acked(ctx, SettingId::HEADER_TABLE_SIZE, 4096)
}

/// RFC 9113 §6.5.2: SETTINGS_ENABLE_PUSH = 0 is accepted.
fn settings_enable_push(ctx: &Ctx) -> Outcome {
    settings_acked(ctx, SettingId::ENABLE_PUSH, 0)
}

/// RFC 9113 §6.5.2: SETTINGS_MAX_CONCURRENT_STREAMS is accepted.
fn settings_max_concurrent(ctx: &Ctx) -> Outcome {
    settings_acked(ctx, SettingId::MAX_CONCURRENT_STREAMS, 100)
}

/// RFC 9113 §6.5.2: SETTINGS_INITIAL_WINDOW_SIZE is accepted.
fn settings_initial_window(ctx: &Ctx) -> Outcome {
    settings_acked(ctx, SettingId::INITIAL_WINDOW_SIZE, 100)
}

/// RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE is accepted.
fn settings_max_frame_size(ctx: &Ctx) -> Outcome {
    settings_acked(ctx, SettingId::MAX_FRAME_SIZE, 16384)
}

/// RFC 9113 §6.5.2: SETTINGS_MAX_HEADER_LIST_SIZE is accepted.
fn settings_max_header_list(ctx: &Ctx) -> Outcome {
    settings_acked(ctx, SettingId::MAX_HEADER_LIST_SIZE, 65536)
}

/// RFC 9113 §6.5.2: a setting with an unknown identifier is ignored, and the frame ACKed.
fn settings_unknown(ctx: &Ctx) -> Outcome {
    settings_acked(ctx, SettingId(0xff), 1)
}

/// RFC 9113 §6.7: a PING is answered by a PING with ACK and the same payload.
fn ping(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let payload = *b"conform!";
    peer.ping(payload);
    peer.expect_ping_ack_of(payload)
}

/// RFC 9113 §6.8: a GOAWAY NO_ERROR from the client is no error: the server answers a
/// PING, or closes cleanly (with no GOAWAY carrying an error).
fn goaway(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send(GoAway::new(StreamId(0), ErrorCode::NO_ERROR));
    let payload = *b"goaway!!";
    peer.ping(payload);
    let deadline = std::time::Instant::now() + peer.wait;
    loop {
        let ev = peer.next(deadline);
        match &ev {
            crate::peer::Ev::Frame(Frame::Ping(p)) if p.ack && p.payload == payload => {
                return Ok(());
            }
            crate::peer::Ev::Closed(_) => return Ok(()),
            crate::peer::Ev::Frame(Frame::GoAway(g)) if g.error_code == ErrorCode::NO_ERROR => {}
            crate::peer::Ev::Frame(Frame::GoAway(_))
            | crate::peer::Ev::Invalid(_)
            | crate::peer::Ev::Timeout => {
                return Err(Failure::new("a PING ACK or a clean close", peer.describe(&ev)));
            }
            crate::peer::Ev::Frame(_) => {}
        }
    }
}

/// RFC 9113 §6.9: WINDOW_UPDATE on stream 0 grows the connection window.
fn window_update_connection(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.window_update(0, 1);
    peer.expect_ping_ack("WINDOW_UPDATE for the connection")
}

/// RFC 9113 §6.9: WINDOW_UPDATE on an open stream grows its window.
fn window_update_stream(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.window_update(1, 1);
    peer.expect_ping_ack("WINDOW_UPDATE for an open stream")
}

fn split_request(ctx: &Ctx, pieces: usize) -> Outcome {
    let mut peer: Peer = ctx.open()?;
    let mut fields = peer.request("GET", "/");
    for i in 0..pieces {
        fields.push((format!("x-piece-{i}"), "x".repeat(32)));
    }
    let block = peer.block(&fields);
    let step = block.len().div_ceil(pieces + 1);
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut at = 0;
    while at < block.len() {
        let end = (at + step).min(block.len());
        chunks.push(block.slice(at..end));
        at = end;
    }
    let mut headers = Headers::new(StreamId(1), chunks[0].clone(), true);
    headers.end_headers = chunks.len() == 1;
    peer.send(headers);
    for (i, chunk) in chunks.iter().enumerate().skip(1) {
        peer.continuation(1, chunk.clone(), i == chunks.len() - 1);
    }
    expect_success(&mut peer, 1)
}

/// RFC 9113 §6.10: a field block continued in one CONTINUATION frame.
fn continuation_one(ctx: &Ctx) -> Outcome {
    split_request(ctx, 1)
}

/// RFC 9113 §6.10: a field block continued in several CONTINUATION frames.
fn continuation_many(ctx: &Ctx) -> Outcome {
    split_request(ctx, 4)
}
