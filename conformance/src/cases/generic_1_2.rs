//! generic/1 (starting HTTP/2) and generic/2 (streams and multiplexing): a server that
//! does the ordinary things right (RFC 9113 §3.4, §5.1).

use super::{Ctx, Group, case};
use crate::verdict::{Failure, Outcome};
use h2proto::ErrorCode;
use h2proto::frame::SettingId;

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "generic/1",
        title: "Starting HTTP/2",
        cases: &[case("Sends a client connection preface: SETTINGS back, ours ACKed", preface)],
    },
    &Group {
        section: "generic/2",
        title: "Streams and Multiplexing",
        cases: &[
            case("Sends a PRIORITY frame on an idle stream: accepted", priority_idle),
            case(
                "Sends a WINDOW_UPDATE frame on a half-closed (remote) stream: accepted",
                window_update_half_closed,
            ),
            case(
                "Sends a PRIORITY frame on a half-closed (remote) stream: accepted",
                priority_half_closed,
            ),
            case(
                "Sends a RST_STREAM frame on a half-closed (remote) stream: accepted",
                rst_half_closed,
            ),
            case("Sends a PRIORITY frame on a closed stream: accepted", priority_closed),
        ],
    },
];

/// RFC 9113 §3.4: the server's preface is a SETTINGS frame, and it acknowledges the
/// client's SETTINGS (§6.5.3).
fn preface(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.expect_settings_ack()
}

/// RFC 9113 §5.1: PRIORITY may be received on a stream in any state, idle included.
fn priority_idle(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.priority(1, 0, false, 256);
    peer.expect_ping_ack("PRIORITY on an idle stream")
}

/// Opens stream 1 with GET and a zero initial window, so the server cannot finish the
/// response and the stream stays half-closed (remote) on its side.
fn half_closed(ctx: &Ctx) -> Result<crate::peer::Peer, Failure> {
    let mut peer = ctx.connect()?;
    peer.handshake_with(&[(SettingId::INITIAL_WINDOW_SIZE, 0)])?;
    peer.get(1);
    Ok(peer)
}

/// Waits for DATA of 1 byte on stream 1: the window of 0 opened by 1, proof that the
/// increment was applied (and no more than it).
fn expect_data(peer: &mut crate::peer::Peer) -> Outcome {
    super::expect_window_data(peer, 1, 1)
}

/// RFC 9113 §5.1 (half-closed (remote)): WINDOW_UPDATE is still allowed and applies.
fn window_update_half_closed(ctx: &Ctx) -> Outcome {
    let mut peer = half_closed(ctx)?;
    peer.window_update(1, 1);
    expect_data(&mut peer)
}

/// RFC 9113 §5.1 (half-closed (remote)): PRIORITY is still allowed.
fn priority_half_closed(ctx: &Ctx) -> Outcome {
    let mut peer = half_closed(ctx)?;
    peer.priority(1, 0, false, 256);
    peer.window_update(1, 1);
    expect_data(&mut peer)
}

/// RFC 9113 §5.1 (half-closed (remote)): RST_STREAM is allowed and closes the stream; the
/// connection goes on.
fn rst_half_closed(ctx: &Ctx) -> Outcome {
    let mut peer = half_closed(ctx)?;
    peer.rst(1, ErrorCode::CANCEL);
    peer.expect_ping_ack("RST_STREAM on a half-closed (remote) stream")
}

/// RFC 9113 §5.1 (closed): PRIORITY may still be received on a closed stream.
fn priority_closed(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.get(1);
    peer.expect_response(1)?;
    peer.priority(1, 0, false, 256);
    peer.expect_ping_ack("PRIORITY on a closed stream")
}
