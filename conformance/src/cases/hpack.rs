//! hpack/*: decoding errors a server must catch (RFC 7541; RFC 9113 §4.3 makes each a
//! connection error COMPRESSION_ERROR).

use super::{Block, Ctx, Group, case};
use crate::verdict::Outcome;
use h2proto::frame::{Headers, SettingId};
use h2proto::{ErrorCode, StreamId};

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "hpack/2.3.3",
        title: "Index Address Space",
        cases: &[
            case("Sends an indexed field with an index past both tables", index_too_large),
            case("Sends a literal whose name index is past both tables", name_index_too_large),
        ],
    },
    &Group {
        section: "hpack/4.2",
        title: "Maximum Table Size",
        cases: &[case(
            "Sends a table size update above SETTINGS_HEADER_TABLE_SIZE",
            size_too_large,
        )],
    },
    &Group {
        section: "hpack/5.2",
        title: "String Literal Representation",
        cases: &[
            case("Sends a Huffman string containing EOS", huffman_eos),
            case("Sends a Huffman string with more than 7 bits of padding", huffman_long_padding),
            case(
                "Sends a Huffman string padded with zeros instead of EOS bits",
                huffman_zero_padding,
            ),
        ],
    },
    &Group {
        section: "hpack/6.1",
        title: "Indexed Header Field Representation",
        cases: &[case("Sends an indexed field with index 0", index_zero)],
    },
    &Group {
        section: "hpack/6.3",
        title: "Dynamic Table Size Update",
        cases: &[case("Sends a table size update after a field", late_size_update)],
    },
];

fn compression_error(ctx: &Ctx, build: impl FnOnce(Block, &crate::peer::Peer) -> Block) -> Outcome {
    let mut peer = ctx.open()?;
    let block = build(Block::get(&peer), &peer).build();
    peer.send(Headers::new(StreamId(1), block, true));
    peer.expect_connection_error(&[ErrorCode::COMPRESSION_ERROR])
}

/// RFC 7541 §2.3.3: an index beyond the static and dynamic tables is a decoding error.
fn index_too_large(ctx: &Ctx) -> Outcome {
    compression_error(ctx, |b, _| b.indexed(70))
}

/// RFC 7541 §2.3.3: the same for the name index of a literal.
fn name_index_too_large(ctx: &Ctx) -> Outcome {
    compression_error(ctx, |b, _| b.literal(0x00, 4, 70, "value", false))
}

/// RFC 7541 §4.2, §6.3: a size update above the decoder's limit (our view of the server's
/// SETTINGS_HEADER_TABLE_SIZE) is a decoding error.
fn size_too_large(ctx: &Ctx) -> Outcome {
    compression_error(ctx, |_, peer| {
        let limit = peer.server_setting(SettingId::HEADER_TABLE_SIZE).unwrap_or(4096);
        Block::default().size_update(limit as usize + 1).then_get(peer)
    })
}

/// A `user-agent` literal (name index 58, without indexing) whose value is the Huffman
/// string `encoded`.
fn huffman_value(block: Block, encoded: &[u8]) -> Block {
    let mut bytes = vec![0x0f, 58 - 15, 0x80 | encoded.len() as u8];
    bytes.extend_from_slice(encoded);
    block.bytes(&bytes)
}

/// RFC 7541 §5.2: a Huffman string that contains EOS is a decoding error.
fn huffman_eos(ctx: &Ctx) -> Outcome {
    compression_error(ctx, |b, _| huffman_value(b, &[0xff, 0xff, 0xff, 0xff]))
}

/// RFC 7541 §5.2: padding longer than 7 bits is a decoding error ('a' then 11 one bits).
fn huffman_long_padding(ctx: &Ctx) -> Outcome {
    compression_error(ctx, |b, _| huffman_value(b, &[0x1f, 0xff]))
}

/// RFC 7541 §5.2: padding that is not the most significant bits of EOS is a decoding error
/// ('a' then three zero bits).
fn huffman_zero_padding(ctx: &Ctx) -> Outcome {
    compression_error(ctx, |b, _| huffman_value(b, &[0x18]))
}

/// RFC 7541 §6.1: index 0 is not used; an indexed field with index 0 is a decoding error.
fn index_zero(ctx: &Ctx) -> Outcome {
    compression_error(ctx, |b, _| b.bytes(&[0x80]))
}

/// RFC 7541 §4.2: a size update must open the block; after a field it is a decoding
/// error.
fn late_size_update(ctx: &Ctx) -> Outcome {
    compression_error(ctx, |b, _| b.size_update(1024))
}
