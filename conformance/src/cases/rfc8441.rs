//! rfc8441/*: extended CONNECT (RFC 8441), the way WebSockets run over HTTP/2.
//!
//! The server must advertise SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 for the tunnel cases to
//! apply; a server that does not is skipped, not failed (the extension is optional).

use super::{Ctx, Group, case};
use crate::peer::{Fields, Peer};
use crate::verdict::{Failure, FailureKind, Outcome};
use h2proto::ErrorCode;
use h2proto::frame::{Frame, SettingId};

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "rfc8441/3",
        title: "The SETTINGS_ENABLE_CONNECT_PROTOCOL Parameter",
        cases: &[
            case("The server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL = 1", advertised),
            case(
                "Sends SETTINGS_ENABLE_CONNECT_PROTOCOL = 2: connection error PROTOCOL_ERROR",
                bad_value,
            ),
        ],
    },
    &Group {
        section: "rfc8441/4",
        title: "The Extended CONNECT Method",
        cases: &[
            case("Sends an extended CONNECT for websocket: 2xx, tunnel open", tunnel),
            case("Sends an extended CONNECT without :path: malformed", no_path),
            case("Sends an extended CONNECT without :scheme: malformed", no_scheme),
            case("Sends :protocol on a GET: malformed", protocol_on_get),
        ],
    },
];

/// A connection to a server that allows extended CONNECT, or a skip.
fn open_enabled(ctx: &Ctx) -> Result<Peer, Failure> {
    let mut peer = ctx.open()?;
    // The SETTINGS may have arrived alone; its ACK of ours marks the end of the preface.
    let _ = peer.expect_settings_ack();
    if peer.server_setting(SettingId::ENABLE_CONNECT_PROTOCOL) != Some(1) {
        return Err(Failure::skip("the server does not enable extended CONNECT"));
    }
    Ok(peer)
}

fn websocket(peer: &Peer) -> Fields {
    let mut fields = peer.request("CONNECT", "/chat");
    fields.insert(1, (":protocol".into(), "websocket".into()));
    fields
}

/// RFC 8441 §3: a server that supports extended CONNECT says so with
/// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
fn advertised(ctx: &Ctx) -> Outcome {
    open_enabled(ctx).map(drop)
}

/// RFC 8441 §3: the value must be 0 or 1; by analogy with §6.5.2 of RFC 9113, another value
/// is a connection error PROTOCOL_ERROR (ignoring it is a lenient failure: the RFC names no
/// reaction).
fn bad_value(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.settings(&[(SettingId::ENABLE_CONNECT_PROTOCOL, 2)]);
    peer.expect_connection_error(&[ErrorCode::PROTOCOL_ERROR]).map_err(|f| match f.kind {
        FailureKind::Hard if f.observed.starts_with("nothing") => {
            Failure { kind: FailureKind::Lenient, ..f }
        }
        _ => f,
    })
}

/// RFC 8441 §4, §5: CONNECT with `:protocol`, `:scheme`, `:path` and `:authority` opens a
/// tunnel: a 2xx response that leaves the stream open.
fn tunnel(ctx: &Ctx) -> Outcome {
    let mut peer = open_enabled(ctx)?;
    let fields = websocket(&peer);
    peer.headers(1, &fields, false);
    loop {
        match peer.expect_frame_on(1)? {
            Frame::Headers(h) => {
                let Some((_, end, fields)) = peer.take_block() else { continue };
                let status = fields.iter().find(|(n, _)| n == ":status").map(|(_, v)| v.clone());
                let ok = status.as_deref().is_some_and(|s| s.starts_with('2'));
                if ok && !end && !h.end_stream {
                    return Ok(());
                }
                return Err(Failure::new(
                    "a 2xx response without END_STREAM",
                    format!("status {status:?}, END_STREAM {end}"),
                ));
            }
            other => {
                return Err(Failure::new("a 2xx response", crate::peer::describe_frame(&other)));
            }
        }
    }
}

fn malformed_connect(ctx: &Ctx, edit: impl FnOnce(&mut Fields)) -> Outcome {
    let mut peer = open_enabled(ctx)?;
    let mut fields = websocket(&peer);
    edit(&mut fields);
    peer.headers(1, &fields, false);
    peer.expect_stream_error(1, &[ErrorCode::PROTOCOL_ERROR], false)
}

/// RFC 8441 §4: with `:protocol`, `:path` must be present.
fn no_path(ctx: &Ctx) -> Outcome {
    malformed_connect(ctx, |f| f.retain(|(n, _)| n != ":path"))
}

/// RFC 8441 §4: with `:protocol`, `:scheme` must be present.
fn no_scheme(ctx: &Ctx) -> Outcome {
    malformed_connect(ctx, |f| f.retain(|(n, _)| n != ":scheme"))
}

/// RFC 8441 §4, RFC 9113 §8.3: `:protocol` is defined for CONNECT only; elsewhere it is an
/// invalid pseudo-header field.
fn protocol_on_get(ctx: &Ctx) -> Outcome {
    malformed_connect(ctx, |f| f[0].1 = "GET".into())
}
