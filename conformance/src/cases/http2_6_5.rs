//! http2/6.5, 6.5.2, 6.5.3: SETTINGS format, defined settings and synchronization
//! (RFC 9113 §6.5).

use super::{Ctx, Group, case};
use crate::peer::{ACK, raw};
use crate::verdict::{Failure, Outcome};
use h2proto::ErrorCode;
use h2proto::frame::{FrameType, SettingId};

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "http2/6.5",
        title: "SETTINGS",
        cases: &[
            case(
                "Sends a SETTINGS ACK with a payload: connection error FRAME_SIZE_ERROR",
                ack_payload,
            ),
            case("Sends a SETTINGS frame on a stream: connection error PROTOCOL_ERROR", on_stream),
            case(
                "Sends a SETTINGS frame whose length is not a multiple of 6: connection error FRAME_SIZE_ERROR",
                bad_length,
            ),
        ],
    },
    &Group {
        section: "http2/6.5.2",
        title: "Defined SETTINGS Parameters",
        cases: &[
            case("SETTINGS_ENABLE_PUSH of 2: connection error PROTOCOL_ERROR", enable_push_2),
            case(
                "SETTINGS_INITIAL_WINDOW_SIZE of 2^31: connection error FLOW_CONTROL_ERROR",
                window_too_large,
            ),
            case(
                "SETTINGS_MAX_FRAME_SIZE of 2^14-1: connection error PROTOCOL_ERROR",
                frame_size_small,
            ),
            case(
                "SETTINGS_MAX_FRAME_SIZE of 2^24: connection error PROTOCOL_ERROR",
                frame_size_large,
            ),
            case("Sends an unknown setting: ignored and ACKed", unknown_setting),
        ],
    },
    &Group {
        section: "http2/6.5.3",
        title: "Settings Synchronization",
        cases: &[
            case(
                "Sends multiple values of a setting in one frame: the last one applies",
                last_wins,
            ),
            case("Sends a SETTINGS frame: an ACK comes back", acked),
            case("Sends three SETTINGS frames: each ACKed exactly once", acked_once),
        ],
    },
];

/// RFC 9113 §6.5: an ACK with a payload is a connection error FRAME_SIZE_ERROR.
fn ack_payload(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::SETTINGS, 0).flags(ACK).payload([0, 3, 0, 0, 0, 100]));
    peer.expect_connection_error(&[ErrorCode::FRAME_SIZE_ERROR])
}

/// RFC 9113 §6.5: SETTINGS applies to the connection; on a stream it is a connection
/// error PROTOCOL_ERROR.
fn on_stream(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::SETTINGS, 1).payload([0, 3, 0, 0, 0, 100]));
    peer.expect_connection_error(&[ErrorCode::PROTOCOL_ERROR])
}

/// RFC 9113 §6.5: a length that is not a multiple of 6 is a connection error
/// FRAME_SIZE_ERROR.
fn bad_length(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::SETTINGS, 0).payload([0, 3, 0, 0, 0, 100, 0, 4]));
    peer.expect_connection_error(&[ErrorCode::FRAME_SIZE_ERROR])
}

fn bad_setting(ctx: &Ctx, id: SettingId, value: u32, code: ErrorCode) -> Outcome {
    let mut peer = ctx.open()?;
    let mut payload = id.0.to_be_bytes().to_vec();
    payload.extend_from_slice(&value.to_be_bytes());
    peer.send_raw(raw(FrameType::SETTINGS, 0).payload(payload));
    peer.expect_connection_error(&[code])
}

/// RFC 9113 §6.5.2: SETTINGS_ENABLE_PUSH other than 0 or 1 is a connection error
/// PROTOCOL_ERROR.
fn enable_push_2(ctx: &Ctx) -> Outcome {
    bad_setting(ctx, SettingId::ENABLE_PUSH, 2, ErrorCode::PROTOCOL_ERROR)
}

/// RFC 9113 §6.5.2: SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 is a connection error
/// FLOW_CONTROL_ERROR.
fn window_too_large(ctx: &Ctx) -> Outcome {
    bad_setting(ctx, SettingId::INITIAL_WINDOW_SIZE, 1 << 31, ErrorCode::FLOW_CONTROL_ERROR)
}

/// RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE below 2^14 is a connection error
/// PROTOCOL_ERROR.
fn frame_size_small(ctx: &Ctx) -> Outcome {
    bad_setting(ctx, SettingId::MAX_FRAME_SIZE, (1 << 14) - 1, ErrorCode::PROTOCOL_ERROR)
}

/// RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE above 2^24-1 is a connection error
/// PROTOCOL_ERROR.
fn frame_size_large(ctx: &Ctx) -> Outcome {
    bad_setting(ctx, SettingId::MAX_FRAME_SIZE, 1 << 24, ErrorCode::PROTOCOL_ERROR)
}

/// RFC 9113 §6.5.2: settings of unknown identifier are ignored.
fn unknown_setting(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.expect_settings_ack()?;
    peer.settings(&[(SettingId(0x4242), 7)]);
    peer.expect_settings_ack()
}

/// RFC 9113 §6.5.3: the values of a SETTINGS frame are processed in order, so with
/// SETTINGS_INITIAL_WINDOW_SIZE 100 then 1 the server may send 1 byte of DATA.
fn last_wins(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.connect()?;
    peer.handshake_with(&[
        (SettingId::INITIAL_WINDOW_SIZE, 100),
        (SettingId::INITIAL_WINDOW_SIZE, 1),
    ])?;
    peer.get(1);
    super::expect_window_data(&mut peer, 1, 1)
}

/// RFC 9113 §6.5.3: a SETTINGS frame is acknowledged with a SETTINGS ACK.
fn acked(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.expect_settings_ack()?;
    peer.settings(&[(SettingId::INITIAL_WINDOW_SIZE, 65535)]);
    peer.expect_settings_ack()
}

/// RFC 9113 §6.5.3: each SETTINGS frame gets one ACK, sent as it is applied, so by the
/// time a later PING is answered every earlier SETTINGS has exactly one.
fn acked_once(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    for _ in 0..3 {
        peer.settings(&[(SettingId::INITIAL_WINDOW_SIZE, 65535)]);
    }
    let payload = *b"settings";
    peer.ping(payload);
    peer.expect_ping_ack_of(payload)?;
    if peer.settings_acks != 4 {
        return Err(Failure::new(
            "4 SETTINGS ACKs (for 4 SETTINGS frames) before the PING ACK",
            format!("{} SETTINGS ACKs", peer.settings_acks),
        ));
    }
    Ok(())
}
