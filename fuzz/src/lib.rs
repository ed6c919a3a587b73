//! The bodies of the fuzz targets, in plain stable Rust.
//!
//! Each `fuzz_targets/<name>.rs` is a three-line wrapper around one function here, and
//! `tests/fuzz_corpus_replay.rs` in the core crate includes this file with `#[path]` and
//! replays every committed corpus file through the same functions on stable. So the corpus
//! is a regression suite that runs in every `cargo test`, fuzzer or not.
//!
//! The targets check properties, not only "does not panic":
//!
//! * [`frame_decode`]: decoding is independent of chunking (one chunk and a chunking chosen
//!   by the input give the same frames and errors), the decoder never holds more than one
//!   incomplete frame, and every decoded frame re-encodes to bytes that decode to it again.
//! * [`hpack_decode`]: arbitrary header blocks, several per context, with table-size and
//!   header-list limits; after a compression error the context is dropped (RFC 9113 §4.3).
//!   A decoded list respects the header-list limit, and re-encoding it with our encoder
//!   decodes back to the same fields.
//! * [`hpack_roundtrip`]: structured header lists and table-size changes go through
//!   `Encoder` and `Decoder` and come back unchanged; a sensitive field stays sensitive.
//! * [`conn_server`], [`conn_client`]: a server or client [`h2proto::Connection`] fed raw
//!   bytes as its peer, driven by an application that answers, reads, pauses its output and
//!   moves the clock as the input chooses; see [`conn`] for the invariants.
//! * [`conn_frames`]: structured frames and commands against either role; besides the
//!   invariants of [`conn`], feeding each run of bytes whole or byte by byte gives the same
//!   events and output.

pub mod conn;
pub mod conn_frames;

pub use conn::{conn_client, conn_server};
pub use conn_frames::{FramesInput, conn_frames};

use arbitrary::Arbitrary;
use bytes::{Bytes, BytesMut};
use h2proto::ProtocolError;
use h2proto::frame::{
    DEFAULT_MAX_FRAME_SIZE, Frame, FrameDecoder, HEADER_LEN, MAX_FRAME_SIZE_LIMIT,
};
use h2proto::hpack::{
    DEFAULT_MAX_HEADER_LIST_SIZE, DecodeError, Decoder, Encoder, Field, FieldRef,
};

// ---------------------------------------------------------------------------------------
// frame_decode
// ---------------------------------------------------------------------------------------

/// Input layout: `[mode, size_sel, frames...]`. `size_sel` picks SETTINGS_MAX_FRAME_SIZE
/// (including values below the RFC minimum: the decoder must hold any limit it is given),
/// `mode` picks how the rest is cut into chunks and fed.
pub fn frame_decode(data: &[u8]) {
    let [mode, size_sel, input @ ..] = data else {
        return;
    };
    let max_frame_size = match size_sel & 0b11 {
        0 => DEFAULT_MAX_FRAME_SIZE,
        1 => MAX_FRAME_SIZE_LIMIT,
        2 => u32::from(size_sel >> 2) * 16,
        _ => DEFAULT_MAX_FRAME_SIZE + u32::from(size_sel >> 2) * 1024,
    };

    let whole = decode_frames(input, max_frame_size, Feed::Whole);
    let chunked = decode_frames(input, max_frame_size, Feed::Chunked(*mode));
    // RFC 9113 §4.1 + contract 1 (determinism): any split of the input, same result.
    assert_eq!(whole, chunked, "chunking changed the decoded frames (mode {mode:#04x})");

    for frame in whole.results.iter().filter_map(|r| r.as_ref().ok()) {
        assert_frame_roundtrip(frame);
    }
}

#[derive(Clone, Copy)]
enum Feed {
    /// The whole input as one `Bytes`.
    Whole,
    /// Chunks chosen by the mode byte: bits 0-3 a fixed chunk size (0: sizes taken from
    /// the data itself), bit 4 `extend` (copying) instead of `push`, bit 5 push two chunks
    /// before draining (exercises push-while-not-drained).
    Chunked(u8),
}

/// Everything observable from one decoding run.
#[derive(Debug, PartialEq, Eq)]
struct FrameOutcome {
    /// Every `next_frame` result that was not `Ok(None)`, in order; ends at the first
    /// connection error.
    results: Vec<Result<Frame, ProtocolError>>,
    /// `buffered()` after all input was fed and drained, when no connection error ended
    /// the run (with one, how much input was still unfed depends on the chunking).
    leftover: Option<usize>,
}

fn decode_frames(input: &[u8], max_frame_size: u32, feed: Feed) -> FrameOutcome {
    let mut decoder = FrameDecoder::new();
    decoder.set_max_frame_size(max_frame_size);
    let mut results = Vec::new();

    // Drains the decoder; false once a connection error has ended the connection.
    let drain = |decoder: &mut FrameDecoder, results: &mut Vec<_>| -> bool {
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => results.push(Ok(frame)),
                Ok(None) => {
                    // Bounded memory: only an incomplete frame may remain buffered, and an
                    // incomplete frame is shorter than a header plus the largest payload.
                    assert!(
                        decoder.buffered() < HEADER_LEN + max_frame_size as usize,
                        "decoder holds {} bytes with max frame size {max_frame_size}",
                        decoder.buffered(),
                    );
                    return true;
                }
                Err(err) => {
                    let fatal = err.is_connection_error();
                    results.push(Err(err));
                    if fatal {
                        return false;
                    }
                    // A stream error consumed the offending frame: go on.
                }
            }
        }
    };

    let alive = match feed {
        Feed::Whole => {
            decoder.push(Bytes::copy_from_slice(input));
            drain(&mut decoder, &mut results)
        }
        Feed::Chunked(mode) => {
            let fixed = usize::from(mode & 0x0f);
            let copy = mode & 0x10 != 0;
            let pairs = mode & 0x20 != 0;
            let mut rest = input;
            let mut alive = true;
            let mut held = false;
            while alive && !rest.is_empty() {
                let size = if fixed != 0 { fixed } else { usize::from(rest[0] % 23) + 1 };
                let (chunk, tail) = rest.split_at(size.min(rest.len()));
                rest = tail;
                if copy {
                    decoder.extend(chunk);
                } else {
                    decoder.push(Bytes::copy_from_slice(chunk));
                }
                if pairs && !held && !rest.is_empty() {
                    held = true;
                } else {
                    held = false;
                    alive = drain(&mut decoder, &mut results);
                }
            }
            // An empty input was never drained above; drain once so both runs agree.
            if alive && input.is_empty() {
                alive = drain(&mut decoder, &mut results);
            }
            alive
        }
    };

    FrameOutcome { results, leftover: alive.then(|| decoder.buffered()) }
}

/// A decoded frame must encode to bytes that decode to the same frame.
fn assert_frame_roundtrip(frame: &Frame) {
    let mut wire = BytesMut::new();
    frame.encode(&mut wire);
    let wire = wire.freeze();
    let encoded_len = wire.len();

    let mut decoder = FrameDecoder::new();
    decoder.set_max_frame_size(MAX_FRAME_SIZE_LIMIT);
    decoder.push(wire);
    match decoder.next_frame() {
        Ok(Some(again)) => assert_eq!(&again, frame, "re-encoded frame decodes differently"),
        other => panic!("re-encoded {frame:?} ({encoded_len} bytes) did not decode: {other:?}"),
    }
    assert_eq!(decoder.buffered(), 0, "re-encoding of {frame:?} has trailing bytes");
}

// ---------------------------------------------------------------------------------------
// hpack_decode
// ---------------------------------------------------------------------------------------

/// Input layout: `[config, command...]`.
///
/// `config` bits 0-1 pick the header-list limit (the 64 KiB default, 64, 512, none), bits 2-3 the
/// decoder's initial SETTINGS_HEADER_TABLE_SIZE (4096, 0, 256, 65536). Each command starts
/// with a byte `b`:
///
/// * `0x00..=0x7f`: a header block of `b` bytes follows;
/// * `0x80..=0xbf`: a header block of `((b & 0x3f) << 8) | next` bytes follows;
/// * `0xc0..=0xff`: our SETTINGS_HEADER_TABLE_SIZE changes to `(b & 0x3f) * 128`.
///
/// A block cut short by the end of the input is decoded as far as it goes.
pub fn hpack_decode(data: &[u8]) {
    let Some((&config, mut rest)) = data.split_first() else {
        return;
    };
    let mut decoder = Decoder::new();
    let list_limit = match config & 0b11 {
        0 => DEFAULT_MAX_HEADER_LIST_SIZE,
        1 => 64,
        2 => 512,
        _ => usize::MAX,
    };
    decoder.set_max_header_list_size(list_limit);
    match (config >> 2) & 0b11 {
        0 => {}
        1 => decoder.set_max_table_size(0),
        2 => decoder.set_max_table_size(256),
        _ => decoder.set_max_table_size(65536),
    }

    // Everything the decoder accepts, our encoder must be able to carry to a fresh decoder.
    let mut encoder = Encoder::new();
    let mut check = Decoder::new();
    check.set_max_header_list_size(usize::MAX);
    let mut wire = BytesMut::new();

    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        let len = match b {
            0x00..=0x7f => usize::from(b),
            0x80..=0xbf => {
                let Some((&low, tail)) = rest.split_first() else {
                    return;
                };
                rest = tail;
                (usize::from(b & 0x3f) << 8) | usize::from(low)
            }
            _ => {
                decoder.set_max_table_size(usize::from(b & 0x3f) * 128);
                continue;
            }
        };
        let (block, tail) = rest.split_at(len.min(rest.len()));
        rest = tail;

        let block = Bytes::copy_from_slice(block);
        let mut fields = Vec::new();
        match decoder.decode(&block, |field| fields.push(field)) {
            Ok(()) => {}
            // Not a compression error: the table is still in sync, the next block is fine.
            Err(DecodeError::HeaderListTooLarge) => {
                assert!(list_limit != usize::MAX, "HeaderListTooLarge without a limit");
                continue;
            }
            // RFC 9113 §4.3: the compression context is broken, the connection ends.
            Err(_) => return,
        }

        let size: usize = fields.iter().map(Field::size).sum();
        assert!(size <= list_limit, "accepted a {size}-byte list over the {list_limit} limit");

        wire.clear();
        encoder.encode(fields.iter().map(Field::as_field_ref), &mut wire);
        let mut again = Vec::with_capacity(fields.len());
        if let Err(err) = check.decode(&wire.split().freeze(), |field| again.push(field)) {
            panic!("our encoding of {fields:?} does not decode: {err:?}");
        }
        assert_same_fields(fields.iter().map(Field::as_field_ref), &again);
    }
}

/// Decoded fields must match the encoder's input: same names and values in the same order,
/// and a sensitive field stays sensitive (the encoder may add the flag on its own, for
/// `authorization` or short cookies, but never drop it).
fn assert_same_fields<'a>(input: impl ExactSizeIterator<Item = FieldRef<'a>>, decoded: &[Field]) {
    assert_eq!(input.len(), decoded.len(), "field count changed");
    for (i, (want, got)) in input.zip(decoded).enumerate() {
        assert_eq!(want.name, &got.name[..], "name of field {i}");
        assert_eq!(want.value, &got.value[..], "value of field {i}");
        assert!(
            got.sensitive >= want.sensitive,
            "field {i} ({:?}) was sensitive but came back indexable",
            String::from_utf8_lossy(want.name),
        );
    }
}

// ---------------------------------------------------------------------------------------
// hpack_roundtrip
// ---------------------------------------------------------------------------------------

/// Header lists and table-size changes, in order, for one encoder/decoder pair.
#[derive(Arbitrary, Debug)]
pub struct RoundTripInput {
    /// Whether the encoder may use Huffman coding (the default) or sends every string raw.
    pub huffman: bool,
    /// The encoder's own table size cap, `% 8193` (default 4096 when `None`).
    pub table_size_limit: Option<u16>,
    /// The steps, applied in order.
    pub steps: Vec<RoundTripStep>,
}

/// One step of [`RoundTripInput`].
#[derive(Arbitrary, Debug)]
pub enum RoundTripStep {
    /// Encode this header list as one block and decode it.
    Block(Vec<InputField>),
    /// SETTINGS_HEADER_TABLE_SIZE changes to `value % 8193` (0..=8192) on both sides.
    TableSize(u16),
}

/// One header field of a [`RoundTripStep::Block`].
#[derive(Arbitrary, Debug)]
pub struct InputField {
    /// Any bytes: HPACK does not check names (HTTP/2 semantics do, elsewhere).
    pub name: Vec<u8>,
    /// Any bytes.
    pub value: Vec<u8>,
    /// Must be sent never-indexed.
    pub sensitive: bool,
}

/// Encodes every block with [`Encoder`], decodes it with [`Decoder`], and checks that the
/// fields come back unchanged.
pub fn hpack_roundtrip(input: RoundTripInput) {
    let mut encoder = Encoder::new();
    encoder.set_use_huffman(input.huffman);
    if let Some(limit) = input.table_size_limit {
        encoder.set_table_size_limit(usize::from(limit % 8193));
    }
    let mut decoder = Decoder::new();
    decoder.set_max_header_list_size(usize::MAX);
    let mut wire = BytesMut::new();
    for step in &input.steps {
        match step {
            RoundTripStep::TableSize(value) => {
                let size = usize::from(*value % 8193);
                encoder.set_max_table_size(size);
                decoder.set_max_table_size(size);
            }
            RoundTripStep::Block(fields) => {
                let refs = fields.iter().map(|f| FieldRef {
                    name: &f.name,
                    value: &f.value,
                    sensitive: f.sensitive,
                });
                wire.clear();
                encoder.encode(refs.clone(), &mut wire);
                let block = wire.split().freeze();
                let mut decoded = Vec::with_capacity(fields.len());
                if let Err(err) = decoder.decode(&block, |field| decoded.push(field)) {
                    panic!("our encoding of {fields:?} does not decode: {err:?} ({block:02x?})");
                }
                assert_same_fields(refs, &decoded);
                // The two dynamic tables stay in step (RFC 7541 §2.3.2, §4).
                assert_eq!(encoder.max_table_size(), decoder.max_table_size(), "table maximum");
                assert_eq!(encoder.table_size(), decoder.table_size(), "table size");
                assert!(decoder.table_size() <= decoder.max_table_size(), "table over its max");
            }
        }
    }
}
