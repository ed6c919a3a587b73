//! http2/6.9, 6.9.1, 6.9.2: WINDOW_UPDATE and flow-control windows (RFC 9113 §6.9).

use super::{Ctx, Group, case, expect_window_data};
use crate::peer::raw;
use crate::verdict::Outcome;
use h2proto::frame::{FrameType, RawFrame, SettingId, Settings, WindowUpdate};
use h2proto::{ErrorCode, StreamId};

const MAX_WINDOW: u32 = (1 << 31) - 1;

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "http2/6.9",
        title: "WINDOW_UPDATE",
        cases: &[
            case(
                "Sends a WINDOW_UPDATE of 0 for the connection: connection error PROTOCOL_ERROR",
                zero_connection,
            ),
            case(
                "Sends a WINDOW_UPDATE of 0 for a stream: stream error PROTOCOL_ERROR",
                zero_stream,
            ),
            case(
                "Sends a WINDOW_UPDATE of length 3: connection error FRAME_SIZE_ERROR",
                bad_length,
            ),
        ],
    },
    &Group {
        section: "http2/6.9.1",
        title: "The Flow-Control Window",
        cases: &[
            case("Sets the initial window to 1: DATA of 1 byte", window_of_one),
            case(
                "Grows the connection window past 2^31-1: connection error FLOW_CONTROL_ERROR",
                overflow_connection,
            ),
            case(
                "Grows a stream window past 2^31-1: stream error FLOW_CONTROL_ERROR",
                overflow_stream,
            ),
        ],
    },
    &Group {
        section: "http2/6.9.2",
        title: "Initial Flow-Control Window Size",
        cases: &[
            case(
                "Changes SETTINGS_INITIAL_WINDOW_SIZE after HEADERS: windows adjusted",
                change_after_headers,
            ),
            case("Makes a stream window negative with SETTINGS: tracked", negative_window),
            case(
                "SETTINGS_INITIAL_WINDOW_SIZE of 2^31: connection error FLOW_CONTROL_ERROR",
                initial_too_large,
            ),
            case(
                "A SETTINGS change pushes a stream window past 2^31-1: connection error FLOW_CONTROL_ERROR",
                change_overflows,
            ),
        ],
    },
];

/// RFC 9113 §6.9: an increment of 0 for the connection is a connection error
/// PROTOCOL_ERROR.
fn zero_connection(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::WINDOW_UPDATE, 0).payload([0, 0, 0, 0]));
    peer.expect_connection_error(&[ErrorCode::PROTOCOL_ERROR])
}

/// RFC 9113 §6.9: an increment of 0 for a stream is a stream error PROTOCOL_ERROR.
fn zero_stream(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.send_raw(raw(FrameType::WINDOW_UPDATE, 1).payload([0, 0, 0, 0]));
    peer.expect_stream_error(1, &[ErrorCode::PROTOCOL_ERROR], false)
}

/// RFC 9113 §6.9: a WINDOW_UPDATE of a length other than 4 is a connection error
/// FRAME_SIZE_ERROR.
fn bad_length(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::WINDOW_UPDATE, 0).payload([0, 0, 1]));
    peer.expect_connection_error(&[ErrorCode::FRAME_SIZE_ERROR])
}

/// RFC 9113 §6.9.1: the sender respects the receiver's window, here 1 byte.
fn window_of_one(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.connect()?;
    peer.handshake_with(&[(SettingId::INITIAL_WINDOW_SIZE, 1)])?;
    peer.get(1);
    expect_window_data(&mut peer, 1, 1)
}

/// RFC 9113 §6.9.1: a window over 2^31-1 is a FLOW_CONTROL_ERROR; for the connection
/// window a connection error.
fn overflow_connection(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.window_update(0, MAX_WINDOW);
    peer.window_update(0, MAX_WINDOW);
    peer.expect_connection_error(&[ErrorCode::FLOW_CONTROL_ERROR])
}

/// RFC 9113 §6.9.1: for a stream window, a stream error FLOW_CONTROL_ERROR.
fn overflow_stream(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.window_update(1, MAX_WINDOW);
    peer.window_update(1, MAX_WINDOW);
    peer.expect_stream_error(1, &[ErrorCode::FLOW_CONTROL_ERROR], false)
}

/// RFC 9113 §6.9.2: a change of SETTINGS_INITIAL_WINDOW_SIZE adjusts the windows of open
/// streams by the difference.
fn change_after_headers(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.connect()?;
    peer.handshake_with(&[(SettingId::INITIAL_WINDOW_SIZE, 0)])?;
    peer.get(1);
    peer.settings(&[(SettingId::INITIAL_WINDOW_SIZE, 1)]);
    expect_window_data(&mut peer, 1, 1)
}

/// RFC 9113 §6.9.2: a reduction can make a window negative; the sender tracks it and only
/// sends again once WINDOW_UPDATEs make it positive.
fn negative_window(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.connect()?;
    peer.handshake_with(&[(SettingId::INITIAL_WINDOW_SIZE, 3)])?;
    peer.get(1);
    expect_window_data(&mut peer, 1, 3)?;
    // Window 3 - 3 = 0, then 0 + (2 - 3) = -1, then -1 + 2 = 1.
    peer.settings(&[(SettingId::INITIAL_WINDOW_SIZE, 2)]);
    peer.window_update(1, 2);
    expect_window_data(&mut peer, 1, 1)
}

/// RFC 9113 §6.9.2: SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 is a connection error
/// FLOW_CONTROL_ERROR.
fn initial_too_large(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.send_raw(raw(FrameType::SETTINGS, 0).payload([0, 4, 0x80, 0, 0, 0]));
    peer.expect_connection_error(&[ErrorCode::FLOW_CONTROL_ERROR])
}

/// RFC 9113 §6.9.2: a settings change that makes any window exceed 2^31-1 is a connection
/// error FLOW_CONTROL_ERROR. The stream is held open by a zero initial window, its window
/// raised to the maximum, then the setting raised by one.
fn change_overflows(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.connect()?;
    peer.handshake_with(&[(SettingId::INITIAL_WINDOW_SIZE, 0)])?;
    peer.get(1);
    // In one write: a server that sent its response between the two would see no overflow
    // (the stream would be closed), so both must be processed before it writes again.
    let update = WindowUpdate { stream_id: StreamId(1), increment: MAX_WINDOW };
    let settings = Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 1);
    peer.send_all([RawFrame::from_frame(&update.into()), RawFrame::from_frame(&settings.into())]);
    peer.expect_connection_error(&[ErrorCode::FLOW_CONTROL_ERROR])
}
