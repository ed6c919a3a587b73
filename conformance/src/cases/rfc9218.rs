//! rfc9218/*: the PRIORITY_UPDATE frame and SETTINGS_NO_RFC7540_PRIORITIES (RFC 9218).

use super::{Ctx, Group, case, expect_success};
use crate::peer::raw;
use crate::verdict::{Failure, Outcome};
use h2proto::ErrorCode;
use h2proto::frame::{FrameType, SettingId};

const PROTOCOL: ErrorCode = ErrorCode::PROTOCOL_ERROR;

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "rfc9218/2.1",
        title: "SETTINGS_NO_RFC7540_PRIORITIES",
        cases: &[
            case("Sends SETTINGS_NO_RFC7540_PRIORITIES = 1: accepted", no_priorities_1),
            case(
                "Sends SETTINGS_NO_RFC7540_PRIORITIES = 2: connection error PROTOCOL_ERROR",
                no_priorities_2,
            ),
        ],
    },
    &Group {
        section: "rfc9218/7.1",
        title: "HTTP/2 PRIORITY_UPDATE Frame",
        cases: &[
            case("Sends PRIORITY_UPDATE for an open stream: accepted", open_stream),
            case("Sends PRIORITY_UPDATE for an idle stream, then opens it: accepted", idle_stream),
            case("Sends PRIORITY_UPDATE with an unparsable value: ignored", bad_value),
            case("Sends PRIORITY_UPDATE on stream 1: connection error PROTOCOL_ERROR", on_stream),
            case(
                "Sends PRIORITY_UPDATE for stream 0: connection error PROTOCOL_ERROR",
                for_stream_0,
            ),
            case(
                "Sends PRIORITY_UPDATE for an idle push stream: connection error PROTOCOL_ERROR",
                idle_push_stream,
            ),
            case(
                "Prioritizes more idle streams than SETTINGS_MAX_CONCURRENT_STREAMS: connection error PROTOCOL_ERROR",
                too_many_idle,
            ),
        ],
    },
];

/// A connection to a server that announces RFC 9218 support, or a skip: a server that does
/// not implement the extension rightly ignores PRIORITY_UPDATE as an unknown frame type
/// (RFC 9113 §5.5), so its error rules cannot be held against it.
fn open_9218(ctx: &Ctx) -> Result<crate::peer::Peer, Failure> {
    let mut peer = ctx.open()?;
    let _ = peer.expect_settings_ack();
    if peer.server_setting(SettingId::NO_RFC7540_PRIORITIES) != Some(1) {
        return Err(Failure::skip(
            "the server does not announce RFC 9218 (SETTINGS_NO_RFC7540_PRIORITIES = 1)",
        ));
    }
    Ok(peer)
}

fn update(stream: u32, value: &str) -> h2proto::frame::RawFrame {
    raw(FrameType::PRIORITY_UPDATE, 0).payload(stream.to_be_bytes()).append(value)
}

/// RFC 9218 §2.1: a client may announce it sends no RFC 7540 priority signals.
fn no_priorities_1(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.connect()?;
    peer.handshake_with(&[(SettingId::NO_RFC7540_PRIORITIES, 1)])?;
    peer.get(1);
    expect_success(&mut peer, 1)
}

/// RFC 9218 §2.1: a value other than 0 or 1 is a connection error PROTOCOL_ERROR.
fn no_priorities_2(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.settings(&[(SettingId::NO_RFC7540_PRIORITIES, 2)]);
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9218 §7.1: PRIORITY_UPDATE reprioritizes an open request stream.
fn open_stream(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.send_raw(update(1, "u=1, i"));
    peer.expect_ping_ack("PRIORITY_UPDATE for an open stream")
}

/// RFC 9218 §7.1: PRIORITY_UPDATE may come before the stream's HEADERS.
fn idle_stream(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(update(1, "u=0"));
    peer.get(1);
    expect_success(&mut peer, 1)
}

/// RFC 9218 §4: values that cannot be parsed or are out of range are ignored.
fn bad_value(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.send_raw(update(1, "u=banana, i=?7, (("));
    peer.expect_ping_ack("PRIORITY_UPDATE with an unparsable value")
}

/// RFC 9218 §7.1: the frame's own stream must be 0.
fn on_stream(ctx: &Ctx) -> Outcome {
    let mut peer = open_9218(ctx)?;
    peer.post(1, "/");
    peer.send_raw(update(1, "u=1").stream(1));
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9218 §7.1: a prioritized stream id of 0 is a connection error PROTOCOL_ERROR.
fn for_stream_0(ctx: &Ctx) -> Outcome {
    let mut peer = open_9218(ctx)?;
    peer.send_raw(update(0, "u=1"));
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9218 §7.1: a PRIORITY_UPDATE for a push stream in the idle state is a connection
/// error PROTOCOL_ERROR.
fn idle_push_stream(ctx: &Ctx) -> Outcome {
    let mut peer = open_9218(ctx)?;
    peer.send_raw(update(2, "u=1"));
    peer.expect_connection_error(&[PROTOCOL])
}

/// RFC 9218 §7.1: idle prioritized streams plus active ones must not exceed
/// SETTINGS_MAX_CONCURRENT_STREAMS; a server receiving one more must answer with a
/// connection error PROTOCOL_ERROR.
fn too_many_idle(ctx: &Ctx) -> Outcome {
    let mut peer = open_9218(ctx)?;
    let Some(limit) = peer.server_setting(SettingId::MAX_CONCURRENT_STREAMS) else {
        return Err(Failure::skip("the server does not advertise SETTINGS_MAX_CONCURRENT_STREAMS"));
    };
    if limit > 1000 {
        return Err(Failure::skip(format!("SETTINGS_MAX_CONCURRENT_STREAMS is {limit}")));
    }
    let frames = (0..=limit).map(|i| update(2 * i + 1, "u=2"));
    peer.send_all(frames);
    peer.expect_connection_error(&[PROTOCOL])
}
