//! generic/4 (HTTP message exchanges) and generic/5 (every HPACK representation is
//! understood): RFC 9113 §8, RFC 7541 §6.

use super::{Block, Ctx, Group, case, expect_success};
use crate::peer::{Ev, Peer, describe_frame};
use crate::verdict::{Failure, Outcome};
use h2proto::StreamId;
use h2proto::frame::{Frame, Headers};
use std::time::Instant;

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "generic/4",
        title: "HTTP Message Exchanges",
        cases: &[
            case("Sends a GET request", get),
            case("Sends a HEAD request: a response without content", head),
            case("Sends a POST request", post),
            case("Sends a POST request with trailers", post_trailers),
            case("Nothing is sent on a stream after its END_STREAM", nothing_after_end),
        ],
    },
    &Group {
        section: "generic/5",
        title: "HPACK",
        cases: &[
            case("Sends an indexed header field representation", indexed),
            case("Literal with incremental indexing, indexed name", incr_indexed),
            case("Literal with incremental indexing, indexed name, Huffman", incr_indexed_huff),
            case("Literal with incremental indexing, new name", incr_new),
            case("Literal with incremental indexing, new name, Huffman", incr_new_huff),
            case("Literal without indexing, indexed name", noindex_indexed),
            case("Literal without indexing, indexed name, Huffman", noindex_indexed_huff),
            case("Literal without indexing, new name", noindex_new),
            case("Literal without indexing, new name, Huffman", noindex_new_huff),
            case("Literal never indexed, indexed name", never_indexed),
            case("Literal never indexed, indexed name, Huffman", never_indexed_huff),
            case("Literal never indexed, new name", never_new),
            case("Literal never indexed, new name, Huffman", never_new_huff),
            case("Sends a dynamic table size update", size_update),
            case("Sends multiple dynamic table size updates", size_updates),
        ],
    },
];

/// RFC 9113 §8.1: a GET request gets a complete response.
fn get(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.get(1);
    expect_success(&mut peer, 1)
}

/// RFC 9110 §9.3.2 over RFC 9113 §8.1: a HEAD response carries no content.
fn head(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("HEAD", "/");
    peer.headers(1, &fields, true);
    let response = peer.expect_response(1)?;
    if !response.body.is_empty() {
        return Err(Failure::new(
            "a HEAD response without content",
            format!("{} bytes of content", response.body.len()),
        ));
    }
    Ok(())
}

/// RFC 9113 §8.1: a POST with a body.
fn post(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.data(1, b"conformance", true);
    expect_success(&mut peer, 1)
}

/// RFC 9113 §8.1: a request may end with a trailer section in a HEADERS frame.
fn post_trailers(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.data(1, b"conformance", false);
    peer.headers(1, &[("x-trailer", "done")], true);
    expect_success(&mut peer, 1)
}

/// RFC 9113 §5.1: once the server has sent END_STREAM on a stream it must send nothing
/// more on it but PRIORITY (a PING marks the end of the wait).
fn nothing_after_end(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.get(1);
    peer.expect_response(1)?;
    let payload = *b"afterend";
    peer.ping(payload);
    let deadline = Instant::now() + peer.wait;
    loop {
        let ev = peer.next(deadline);
        match &ev {
            Ev::Frame(Frame::Ping(p)) if p.ack && p.payload == payload => return Ok(()),
            Ev::Frame(f) if f.stream_id().0 == 1 && !matches!(f, Frame::Priority(_)) => {
                return Err(Failure::new(
                    "no frame on stream 1 after its END_STREAM",
                    describe_frame(f),
                ));
            }
            Ev::Frame(_) => {}
            _ => return Err(Failure::new("a PING ACK", peer.describe(&ev))),
        }
    }
}

fn send_block(ctx: &Ctx, build: impl FnOnce(Block, &Peer) -> Block) -> Outcome {
    let mut peer = ctx.open()?;
    let block = build(Block::get(&peer), &peer).build();
    peer.send(Headers::new(StreamId(1), block, true));
    expect_success(&mut peer, 1)
}

/// RFC 7541 §6.1: an indexed field (`accept-encoding: gzip, deflate`, static 16).
fn indexed(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.indexed(16))
}

/// RFC 7541 §6.2.1: literal with incremental indexing, name from the static table.
fn incr_indexed(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal(0x40, 6, 58, "h2proto-conformance", false))
}

/// RFC 7541 §6.2.1 with §5.2 Huffman coding.
fn incr_indexed_huff(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal(0x40, 6, 58, "h2proto-conformance", true))
}

/// RFC 7541 §6.2.1: literal with incremental indexing and a new name.
fn incr_new(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal_new(0x40, 6, "x-conformance", "test", false))
}

/// RFC 7541 §6.2.1, new name, Huffman.
fn incr_new_huff(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal_new(0x40, 6, "x-conformance", "test", true))
}

/// RFC 7541 §6.2.2: literal without indexing, indexed name.
fn noindex_indexed(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal(0x00, 4, 58, "h2proto-conformance", false))
}

/// RFC 7541 §6.2.2, Huffman.
fn noindex_indexed_huff(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal(0x00, 4, 58, "h2proto-conformance", true))
}

/// RFC 7541 §6.2.2: literal without indexing, new name.
fn noindex_new(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal_new(0x00, 4, "x-conformance", "test", false))
}

/// RFC 7541 §6.2.2, new name, Huffman.
fn noindex_new_huff(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal_new(0x00, 4, "x-conformance", "test", true))
}

/// RFC 7541 §6.2.3: literal never indexed, indexed name.
fn never_indexed(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal(0x10, 4, 58, "h2proto-conformance", false))
}

/// RFC 7541 §6.2.3, Huffman.
fn never_indexed_huff(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal(0x10, 4, 58, "h2proto-conformance", true))
}

/// RFC 7541 §6.2.3: literal never indexed, new name.
fn never_new(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal_new(0x10, 4, "x-conformance", "test", false))
}

/// RFC 7541 §6.2.3, new name, Huffman.
fn never_new_huff(ctx: &Ctx) -> Outcome {
    send_block(ctx, |b, _| b.literal_new(0x10, 4, "x-conformance", "test", true))
}

/// RFC 7541 §6.3, §4.2: a size update within the peer's limit opens a block.
fn size_update(ctx: &Ctx) -> Outcome {
    send_block(ctx, |_, peer| Block::default().size_update(1).then_get(peer))
}

/// RFC 7541 §4.2: two size updates may open a block (the smallest first).
fn size_updates(ctx: &Ctx) -> Outcome {
    send_block(ctx, |_, peer| Block::default().size_update(0).size_update(4096).then_get(peer))
}
