//! dos/*: the known HTTP/2 denial-of-service patterns (RFC 9113 §10.5). The RFC lets an
//! endpoint limit what a peer makes it do; h2proto's answer to abuse, and what this suite
//! expects, is a connection error ENHANCE_YOUR_CALM. Each case sends far more than any
//! legitimate client would, in one burst. Since the RFC names no code for these reactions,
//! a GOAWAY with another code or a bare close is a warning (a failure with `--strict`);
//! no reaction at all is a failure.

use super::{Ctx, Group, case};
use crate::peer::{END_HEADERS, END_STREAM, Ev, raw};
use crate::verdict::{Failure, FailureKind, Outcome};
use bytes::{BufMut, BytesMut};
use h2proto::ErrorCode;
use h2proto::frame::{Frame, FrameType, RawFrame};
use std::time::Instant;

const CALM: ErrorCode = ErrorCode::ENHANCE_YOUR_CALM;

pub(crate) const GROUPS: &[&Group] = &[&Group {
    section: "dos",
    title: "Denial of Service (RFC 9113 §10.5)",
    cases: &[
        case("Rapid reset: 2000 requests each reset at once (CVE-2023-44487)", rapid_reset),
        case(
            "CONTINUATION flood: 20000 CONTINUATION frames in one field block",
            continuation_flood,
        ),
        case("Endless field block: 2 MiB of CONTINUATION without END_HEADERS", endless_block),
        case("HPACK bomb: one 4 KB entry referenced 12000 times (48 MB decoded)", hpack_bomb),
        case("SETTINGS flood: 5000 SETTINGS frames (CVE-2019-9515)", settings_flood),
        case("PING flood: 5000 PING frames (CVE-2019-9512)", ping_flood),
        case("Empty frames flood: 5000 empty DATA frames (CVE-2019-9518)", empty_data_flood),
        case(
            "Reset flood: 2000 malformed requests, each a stream error (CVE-2019-9514)",
            reset_flood,
        ),
        case("PRIORITY flood: 10000 PRIORITY frames (CVE-2019-9513)", priority_flood),
    ],
}];

/// Writes `frames` in batches, reading what the server sends in between, then expects a
/// GOAWAY ENHANCE_YOUR_CALM.
fn flood(peer: &mut crate::peer::Peer, frames: impl Iterator<Item = RawFrame>) -> Outcome {
    let mut buf = BytesMut::new();
    for frame in frames {
        frame.encode(&mut buf);
        if buf.len() > 64 * 1024 {
            peer.send_bytes(&buf);
            buf.clear();
            peer.drain();
        }
    }
    peer.send_bytes(&buf);
    calm(peer.expect_connection_error(&[CALM]))
}

/// The RFC leaves the code of an abuse reaction open: a GOAWAY with another code, or a bare
/// close, still protects the server, so it is a lenient failure; no reaction at all fails.
fn calm(outcome: Outcome) -> Outcome {
    outcome.map_err(|f| {
        if f.observed.starts_with("GOAWAY") {
            Failure { kind: FailureKind::Lenient, ..f }
        } else {
            f
        }
    })
}

/// RFC 9113 §10.5, CVE-2023-44487: streams opened and cancelled at once cost the server
/// work but never count against its concurrency limit.
fn rapid_reset(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("GET", "/");
    let mut frames = Vec::new();
    for i in 0..2000u32 {
        let id = 2 * i + 1;
        let block = peer.block(&fields);
        frames.push(raw(FrameType::HEADERS, id).flags(END_HEADERS | END_STREAM).payload(&block));
        frames.push(raw(FrameType::RST_STREAM, id).payload(8u32.to_be_bytes()));
    }
    flood(&mut peer, frames.into_iter())
}

/// RFC 9113 §10.5.1: a field block is buffered until it ends; many CONTINUATION frames
/// (CVE-2024-27316 and friends) must be cut off.
fn continuation_flood(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("GET", "/");
    let block = peer.block(&fields);
    let head = raw(FrameType::HEADERS, 1).flags(END_STREAM).payload(&block);
    let rest = (0..20000).map(|_| raw(FrameType::CONTINUATION, 1).payload(b"\x40\x01a\x01b"));
    flood(&mut peer, std::iter::once(head).chain(rest))
}

/// RFC 9113 §10.5.1: a field block that never ends, in large frames.
fn endless_block(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("GET", "/");
    let block = peer.block(&fields);
    let head = raw(FrameType::HEADERS, 1).flags(END_STREAM).payload(&block);
    let chunk = vec![0x40u8; 16_000];
    let rest = (0..128).map(move |_| raw(FrameType::CONTINUATION, 1).payload(&chunk));
    flood(&mut peer, std::iter::once(head).chain(rest))
}

/// RFC 9113 §10.5.1, RFC 7541 §7.3: a small block may expand to a huge field list. The
/// server must bound it: a 431 response, a RST_STREAM, or a GOAWAY ENHANCE_YOUR_CALM pass,
/// and a connection that is not closed must still work; accepting the request fails.
fn hpack_bomb(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let mut block = BytesMut::new();
    block.put_slice(&super::Block::get(&peer).build());
    // Literal with incremental indexing, new name: x-bomb = 4000 x 'a' (entry 62).
    block.put_slice(&[0x40, 6]);
    block.put_slice(b"x-bomb");
    h2proto::hpack::integer::encode(4000, 7, 0x00, &mut block);
    block.put_slice(&[b'a'; 4000]);
    while block.len() < 16_000 {
        block.put_u8(0x80 | 62);
    }
    peer.send_raw(raw(FrameType::HEADERS, 1).flags(END_HEADERS | END_STREAM).payload(&block));
    let expected = "a 431 response, RST_STREAM on stream 1 or GOAWAY ENHANCE_YOUR_CALM";
    let deadline = Instant::now() + peer.wait;
    loop {
        let ev = peer.next(deadline);
        match &ev {
            Ev::Frame(Frame::GoAway(g)) if g.error_code == CALM => return Ok(()),
            Ev::Frame(Frame::RstStream(r)) if r.stream_id.0 == 1 => break,
            Ev::Frame(Frame::Headers(_) | Frame::Continuation(_)) => {
                let Some((1, _, fields)) = peer.take_block() else { continue };
                let status = fields.iter().find(|(n, _)| n == ":status").map(|(_, v)| v.clone());
                if status.as_deref() == Some("431") {
                    break;
                }
                return Err(Failure::new(expected, format!("a response with status {status:?}")));
            }
            Ev::Frame(Frame::GoAway(_)) | Ev::Invalid(_) | Ev::Closed(_) | Ev::Timeout => {
                return Err(Failure::new(expected, peer.describe(&ev)));
            }
            Ev::Frame(_) => {}
        }
    }
    peer.expect_ping_ack("after refusing the field list")
}

/// RFC 9113 §10.5, CVE-2019-9515: every SETTINGS costs the server an ACK.
fn settings_flood(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    flood(&mut peer, (0..5000).map(|_| raw(FrameType::SETTINGS, 0)))
}

/// RFC 9113 §10.5, CVE-2019-9512: every PING costs the server an ACK.
fn ping_flood(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    flood(&mut peer, (0..5000u64).map(|i| raw(FrameType::PING, 0).payload(i.to_be_bytes())))
}

/// RFC 9113 §10.5, CVE-2019-9518: frames that carry nothing still cost processing.
fn empty_data_flood(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    flood(&mut peer, (0..5000).map(|_| raw(FrameType::DATA, 1)))
}

/// RFC 9113 §10.5, CVE-2019-9514: each malformed request makes the server send a
/// RST_STREAM.
fn reset_flood(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let mut fields = peer.request("GET", "/");
    fields.push(("X-Uppercase".into(), "1".into()));
    let mut frames = Vec::new();
    for i in 0..2000u32 {
        let block = peer.block(&fields);
        frames.push(
            raw(FrameType::HEADERS, 2 * i + 1).flags(END_HEADERS | END_STREAM).payload(&block),
        );
    }
    flood(&mut peer, frames.into_iter())
}

/// RFC 9113 §10.5, CVE-2019-9513: priority churn.
fn priority_flood(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    flood(
        &mut peer,
        (0..10000u32)
            .map(|i| raw(FrameType::PRIORITY, 2 * (i % 500) + 1).payload([0, 0, 0, 0, 15])),
    )
}
