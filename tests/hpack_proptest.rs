//! Property tests for HPACK: the primitive codecs round-trip, header lists round-trip through
//! `Encoder` and `Decoder` over many blocks with table size changes, and no input makes the
//! decoders panic.

use bytes::{Bytes, BytesMut};
use h2proto::hpack::{Decoder, Encoder, FieldRef, huffman, integer};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// §5.1 at every prefix width, with arbitrary pattern bits above the prefix.
    #[test]
    fn integers_round_trip(value in 0..=integer::MAX_VALUE, prefix in 1u8..=8, flags in any::<u8>(), tail in any::<Vec<u8>>()) {
        let flags = if prefix == 8 { 0 } else { flags & !((1u16 << prefix) - 1) as u8 };
        let mut wire = Vec::new();
        integer::encode(value, prefix, flags, &mut wire);
        prop_assert_eq!(wire.len(), integer::encoded_len(value, prefix));
        prop_assert_eq!(wire[0] & flags, flags);
        let len = wire.len();
        wire.extend_from_slice(&tail);
        prop_assert_eq!(integer::decode(&wire, prefix), Ok((value, len)));
        for cut in 0..len {
            prop_assert!(integer::decode(&wire[..cut], prefix).is_err());
        }
    }

    #[test]
    fn integers_above_the_limit_are_rejected(value in integer::MAX_VALUE + 1.., prefix in 1u8..=8) {
        let mut wire = Vec::new();
        integer::encode(value, prefix, 0, &mut wire);
        prop_assert_eq!(integer::decode(&wire, prefix), Err(h2proto::hpack::DecodeError::IntegerOverflow));
    }

    #[test]
    fn integer_decode_never_panics(wire in any::<Vec<u8>>(), prefix in 1u8..=8) {
        let _ = integer::decode(&wire, prefix);
    }

    /// §5.2: any byte string round-trips.
    #[test]
    fn huffman_round_trips(s in any::<Vec<u8>>()) {
        let mut wire = Vec::new();
        huffman::encode(&s, &mut wire);
        prop_assert_eq!(wire.len(), huffman::encoded_len(&s));
        let mut back = BytesMut::new();
        huffman::decode(&wire, &mut back).unwrap();
        prop_assert_eq!(&back[..], &s[..]);
    }

    /// Header-like text, long enough for the decoder's fast path.
    #[test]
    fn huffman_round_trips_text(s in "[ -~]{0,2000}") {
        let mut wire = Vec::new();
        huffman::encode(s.as_bytes(), &mut wire);
        let mut back = Vec::new();
        huffman::decode(&wire, &mut back).unwrap();
        prop_assert_eq!(back, s.as_bytes());
    }

    /// Any input either fails or is the unique encoding of its output (padding is fixed).
    #[test]
    fn huffman_decode_never_panics_and_is_canonical(wire in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut out = Vec::new();
        if huffman::decode(&wire, &mut out).is_ok() {
            let mut again = Vec::new();
            huffman::encode(&out, &mut again);
            prop_assert_eq!(again, wire);
        }
    }

    /// Mostly-valid Huffman input (valid string with one bit flipped or truncated).
    #[test]
    fn huffman_decode_of_damaged_strings_never_panics(s in "[ -~]{0,300}", flip in any::<usize>(), cut in any::<usize>()) {
        let mut wire = Vec::new();
        huffman::encode(s.as_bytes(), &mut wire);
        if !wire.is_empty() {
            let bit = flip % (wire.len() * 8);
            wire[bit / 8] ^= 0x80 >> (bit % 8);
            wire.truncate(wire.len() - cut % wire.len());
        }
        let mut out = Vec::new();
        let _ = huffman::decode(&wire, &mut out);
    }

    #[test]
    fn decoder_never_panics(blocks in prop::collection::vec(any::<Vec<u8>>(), 1..4), limit in prop_oneof![Just(usize::MAX), 0usize..2000]) {
        let mut d = Decoder::new();
        d.set_max_header_list_size(limit);
        for block in blocks {
            let _ = d.decode(&Bytes::from(block), |_| {});
        }
    }

    /// Valid blocks with random damage, decoded by a decoder whose table is already full.
    #[test]
    fn decoder_never_panics_on_damaged_blocks(blocks in blocks(), flips in prop::collection::vec(any::<usize>(), 1..4)) {
        let mut e = Encoder::new();
        let mut d = Decoder::new();
        for (i, block) in blocks.iter().enumerate() {
            let mut wire = BytesMut::new();
            e.encode(block.fields.iter().map(Field::as_ref), &mut wire);
            if i + 1 == blocks.len() && !wire.is_empty() {
                for f in &flips {
                    let n = wire.len();
                    wire[f % n] ^= 1 << (f / n % 8);
                }
            }
            if d.decode(&wire.freeze(), |_| {}).is_err() {
                break;
            }
        }
    }

    /// Header lists round-trip through our encoder and decoder, block after block, while
    /// the table size changes (several times between two blocks, sometimes).
    #[test]
    fn header_lists_round_trip(blocks in blocks(), huffman in any::<bool>()) {
        let mut e = Encoder::new();
        e.set_use_huffman(huffman);
        let mut d = Decoder::new();
        d.set_max_header_list_size(usize::MAX);
        for block in &blocks {
            for &size in &block.resize {
                e.set_max_table_size(size);
                d.set_max_table_size(size);
            }
            let mut wire = BytesMut::new();
            e.encode(block.fields.iter().map(Field::as_ref), &mut wire);
            let mut out = Vec::new();
            d.decode(&wire.freeze(), |f| out.push(f)).unwrap();
            prop_assert_eq!(out.len(), block.fields.len());
            for (got, sent) in out.iter().zip(&block.fields) {
                prop_assert_eq!(&got.name[..], &sent.name[..]);
                prop_assert_eq!(&got.value[..], &sent.value[..]);
                prop_assert!(got.sensitive || !sent.sensitive);
            }
            prop_assert_eq!(e.table_size(), d.table_size());
            prop_assert!(e.table_size() <= e.max_table_size());
        }
    }
}

#[derive(Debug, Clone)]
struct Field {
    name: Vec<u8>,
    value: Vec<u8>,
    sensitive: bool,
}

impl Field {
    fn as_ref(&self) -> FieldRef<'_> {
        FieldRef { name: &self.name, value: &self.value, sensitive: self.sensitive }
    }
}

#[derive(Debug, Clone)]
struct Block {
    resize: Vec<usize>,
    fields: Vec<Field>,
}

fn field() -> impl Strategy<Value = Field> {
    // A small pool so that names and whole fields repeat, plus anything at all.
    let name = prop_oneof![
        4 => prop::sample::select(vec![
            ":method", ":path", ":status", "content-type", "cookie", "set-cookie", "authorization",
            "user-agent", "x-custom", "x-other", "date", "location", "cache-control",
        ]).prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..40),
    ];
    let value = prop_oneof![
        4 => prop::sample::select(vec!["", "GET", "200", "/", "text/html", "a=b", "0123456789012345678901234"])
            .prop_map(|s| s.as_bytes().to_vec()),
        2 => "[ -~]{0,80}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..3000),
    ];
    (name, value, prop::bool::weighted(0.1)).prop_map(|(name, value, sensitive)| Field {
        name,
        value,
        sensitive,
    })
}

fn blocks() -> impl Strategy<Value = Vec<Block>> {
    let resize = prop::collection::vec(
        prop::sample::select(vec![0usize, 1, 64, 100, 256, 1000, 4096, 8192]),
        0..3,
    );
    let block = (prop::option::weighted(0.2, resize), prop::collection::vec(field(), 0..20))
        .prop_map(|(resize, fields)| Block { resize: resize.unwrap_or_default(), fields });
    prop::collection::vec(block, 1..12)
}
