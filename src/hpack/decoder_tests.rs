//! Decoder rules, one test per rule: every COMPRESSION_ERROR case of RFC 7541, the table
//! edge cases of §4, and the header list limit (the HPACK bomb).

use super::*;
use bytes::{BufMut, Bytes, BytesMut};

fn decode(d: &mut Decoder, wire: &[u8]) -> Result<Vec<Field>, DecodeError> {
    let mut fields = Vec::new();
    d.decode(&Bytes::copy_from_slice(wire), |f| fields.push(f)).map(|()| fields)
}

fn err(wire: &[u8]) -> DecodeError {
    decode(&mut Decoder::new(), wire).unwrap_err()
}

/// A literal with incremental indexing and a literal name, without Huffman.
fn literal_indexed(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut v = vec![0x40];
    integer::encode(name.len(), 7, 0, &mut v);
    v.extend_from_slice(name);
    integer::encode(value.len(), 7, 0, &mut v);
    v.extend_from_slice(value);
    v
}

/// §6.1: "The index value of 0 is not used. It MUST be treated as a decoding error".
#[test]
fn index_zero_is_rejected() {
    assert_eq!(err(&[0x80]), DecodeError::InvalidIndex);
}

/// §2.3.3: "Indices strictly greater than the sum of the lengths of both tables MUST be
/// treated as a decoding error."
#[test]
fn index_beyond_tables_is_rejected() {
    assert_eq!(err(&[0xbe]), DecodeError::InvalidIndex); // 62, empty dynamic table
    assert_eq!(err(&[0xff, 0x80, 0x01]), DecodeError::InvalidIndex); // 255
    assert_eq!(err(&[0x7f, 0x00, 0x01, b'v']), DecodeError::InvalidIndex); // literal, name 63
    assert_eq!(err(&[0x0f, 0x2f, 0x01, b'v']), DecodeError::InvalidIndex); // literal, name 62
    let mut d = Decoder::new();
    let mut block = literal_indexed(b"a", b"b");
    block.extend_from_slice(&[0xbe, 0xbf]); // 62 is the new entry, 63 is not there
    assert_eq!(decode(&mut d, &block), Err(DecodeError::InvalidIndex));
}

/// §5.1 leaves integers unbounded; we cap them at 2^32 - 1 and 5 continuation octets.
#[test]
fn integer_overflow_is_rejected() {
    assert_eq!(err(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), DecodeError::IntegerOverflow);
    assert_eq!(err(&[0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), DecodeError::IntegerOverflow);
    assert_eq!(
        err(&[0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        DecodeError::IntegerOverflow
    );
    // A string length.
    assert_eq!(err(&[0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x7f]), DecodeError::IntegerOverflow);
}

/// Truncated integers and strings; a string length past the end of the block is rejected
/// before anything is allocated for it.
#[test]
fn truncation_is_rejected() {
    assert_eq!(err(&[0xff]), DecodeError::Truncated);
    assert_eq!(err(&[0x40]), DecodeError::Truncated);
    assert_eq!(err(&[0x40, 0x0a, b'c', b'u', b's']), DecodeError::Truncated);
    assert_eq!(err(&[0x41, 0x03, b'a']), DecodeError::Truncated);
    // Claims a 2^32 - 1 octet string in a 10-octet block.
    assert_eq!(
        err(&[0x00, 0x7f, 0x80, 0xff, 0xff, 0xff, 0x0f, b'x', b'y', b'z']),
        DecodeError::Truncated
    );
    // Name present, value missing.
    assert_eq!(err(&[0x00, 0x01, b'a']), DecodeError::Truncated);
}

/// §5.2 in a block: EOS, long padding and bad padding in Huffman strings.
#[test]
fn invalid_huffman_in_block_is_rejected() {
    // Value: 'a' then EOS.
    assert_eq!(err(&[0x04, 0x85, 0x1f, 0xff, 0xff, 0xff, 0xff]), DecodeError::InvalidHuffman);
    // Value: '0' (00000) + 11 ones of padding.
    assert_eq!(err(&[0x04, 0x82, 0x07, 0xff]), DecodeError::InvalidHuffman);
    // Value: '0' + padding 110.
    assert_eq!(err(&[0x04, 0x81, 0x06]), DecodeError::InvalidHuffman);
    // Name of a literal with indexing.
    assert_eq!(err(&[0x40, 0x81, 0x06, 0x00]), DecodeError::InvalidHuffman);
}

/// §4.2: "This dynamic table size update MUST occur at the beginning of the first header
/// block following the change" and RFC 9113 §4.3: elsewhere it is a COMPRESSION_ERROR.
#[test]
fn size_update_after_a_field_is_rejected() {
    assert_eq!(err(&[0x82, 0x20]), DecodeError::SizeUpdateNotAtStart);
    assert_eq!(err(&[0x20, 0x82, 0x3f, 0xe1, 0x1f]), DecodeError::SizeUpdateNotAtStart);
    // Several at the start are fine.
    let mut d = Decoder::new();
    assert_eq!(decode(&mut d, &[0x20, 0x3f, 0xe1, 0x1f, 0x82]).unwrap().len(), 1);
    assert_eq!(d.max_table_size(), 4096);
}

/// §6.3: "The new maximum size MUST be lower than or equal to the limit" (our acknowledged
/// SETTINGS_HEADER_TABLE_SIZE).
#[test]
fn size_update_above_limit_is_rejected() {
    assert_eq!(err(&[0x3f, 0xe2, 0x1f]), DecodeError::SizeUpdateTooLarge); // 4097
    let mut d = Decoder::new();
    d.set_max_table_size(8192);
    decode(&mut d, &[0x3f, 0xe1, 0x3f]).unwrap(); // 8192
    assert_eq!(d.max_table_size(), 8192);
    assert_eq!(decode(&mut d, &[0x3f, 0xe2, 0x3f]), Err(DecodeError::SizeUpdateTooLarge));
}

/// §4.2: after our setting shrinks, the next block must signal a size at or below the
/// smallest value acknowledged since the last block.
#[test]
fn shrunk_setting_requires_a_size_update() {
    let mut d = Decoder::new();
    d.set_max_table_size(1024);
    assert_eq!(decode(&mut d, &[0x82]), Err(DecodeError::SizeUpdateMissing));

    let mut d = Decoder::new();
    d.set_max_table_size(1024);
    decode(&mut d, &[0x3f, 0xe1, 0x07, 0x82]).unwrap(); // 1024
    assert_eq!(d.max_table_size(), 1024);
    decode(&mut d, &[0x82]).unwrap(); // no longer required

    // Shrunk then grown again: the minimum must still be signalled.
    let mut d = Decoder::new();
    d.set_max_table_size(1024);
    d.set_max_table_size(4096);
    assert_eq!(decode(&mut d, &[0x3f, 0xe1, 0x1f, 0x82]), Err(DecodeError::SizeUpdateMissing));
    let mut d = Decoder::new();
    d.set_max_table_size(1024);
    d.set_max_table_size(4096);
    decode(&mut d, &[0x3f, 0xe1, 0x07, 0x3f, 0xe1, 0x1f, 0x82]).unwrap();
    assert_eq!(d.max_table_size(), 4096);
}

/// §4.3/§4.4: eviction from the oldest end; §4.4: an entry larger than the table empties it
/// and is still emitted.
#[test]
fn eviction_and_oversized_entry() {
    let mut d = Decoder::new();
    // Table of 100: two 40-octet entries fit, a third evicts the first.
    let mut block = vec![0x3f, 0x45]; // 100
    block.extend(literal_indexed(b"aaaa", b"1111")); // 40
    block.extend(literal_indexed(b"bbbb", b"2222"));
    block.extend(literal_indexed(b"cccc", b"3333"));
    decode(&mut d, &block).unwrap();
    assert_eq!(d.table_len(), 2);
    assert_eq!(d.table_size(), 80);
    assert_eq!(d.table_entry(62).unwrap().0, "cccc");
    assert_eq!(d.table_entry(63).unwrap().0, "bbbb");

    let big = vec![b'x'; 100];
    let fields = decode(&mut d, &literal_indexed(b"big", &big)).unwrap();
    assert_eq!(fields[0].value, big);
    assert_eq!((d.table_len(), d.table_size()), (0, 0));
}

/// §4.4: "A new entry can reference the name of an entry in the dynamic table that will be
/// evicted when adding this new entry."
#[test]
fn new_entry_may_name_the_entry_it_evicts() {
    let mut d = Decoder::new();
    let mut block = vec![0x3f, 0x1b]; // 58
    block.extend(literal_indexed(b"name", b"value")); // 41
    block.extend([0x7e, 0x06]); // literal with indexing, name = index 62
    block.extend(b"value2");
    let fields = decode(&mut d, &block).unwrap();
    assert_eq!(fields[1].name, "name");
    assert_eq!(fields[1].value, "value2");
    assert_eq!(d.table_len(), 1);
    assert_eq!(d.table_entry(62).unwrap(), (&Bytes::from("name"), &Bytes::from("value2")));
}

#[test]
fn table_size_zero_stores_nothing() {
    let mut d = Decoder::new();
    d.set_max_table_size(0);
    let mut block = vec![0x20];
    block.extend(literal_indexed(b"k", b"v"));
    assert_eq!(decode(&mut d, &block).unwrap()[0].value, "v");
    assert_eq!(d.table_len(), 0);
    assert_eq!(decode(&mut d, &[0xbe]), Err(DecodeError::InvalidIndex));
}

/// §6.2.3: never-indexed literals are reported as sensitive, with a literal or indexed name.
#[test]
fn never_indexed_is_reported_sensitive() {
    let fields = decode(
        &mut Decoder::new(),
        &[0x10, 0x01, b'k', 0x01, b'v', 0x1f, 0x08, 0x01, b's', 0x00, 0x01, b'k', 0x01, b'v'],
    )
    .unwrap();
    assert!(fields[0].sensitive);
    assert_eq!(fields[1].name, "authorization");
    assert!(fields[1].sensitive);
    assert!(!fields[2].sensitive);
}

#[test]
fn empty_block_decodes_to_nothing() {
    assert!(decode(&mut Decoder::new(), &[]).unwrap().is_empty());
}

/// Plain literals are slices of the block, not copies.
#[test]
fn plain_literals_are_zero_copy() {
    let block = Bytes::from_static(b"\x00\x03abc\x05hello");
    let mut fields = Vec::new();
    Decoder::new().decode(&block, |f| fields.push(f)).unwrap();
    let range = block.as_ptr_range();
    assert!(range.contains(&fields[0].name.as_ptr()));
    assert!(range.contains(&fields[0].value.as_ptr()));
}

/// Inserted strings are copied into the table, so the table never pins the peer's block.
#[test]
fn table_entries_do_not_pin_the_block() {
    let block = Bytes::from(literal_indexed(b"name", b"value"));
    let mut d = Decoder::new();
    d.decode(&block, |_| {}).unwrap();
    let (name, _) = d.table_entry(62).unwrap();
    assert!(!block.as_ptr_range().contains(&name.as_ptr()));
}

/// The HPACK bomb: one 4000-octet entry referenced 10,000 times (a 40 MB header list from
/// a 10 KB block). With a 64 KiB limit, decoding stops emitting at the limit, returns
/// HeaderListTooLarge, and the table stays in sync: the next block decodes correctly.
#[test]
fn hpack_bomb_is_cut_off_and_table_stays_in_sync() {
    let mut block = BytesMut::new();
    block.put_slice(&literal_indexed(b"x-bomb", &[b'a'; 4000]));
    block.put_bytes(0xbe, 10_000);
    // Entries added after the limit was hit must still reach the table.
    block.put_slice(&literal_indexed(b"x-after", b"1"));
    block.put_slice(&[0x00, 0x82, 0x07, 0xff, 0x00]); // and bad Huffman would still be an error...
    let block = block.split_to(block.len() - 5).freeze(); // ...but leave it out here.

    let mut d = Decoder::new();
    d.set_max_header_list_size(64 * 1024);
    let mut emitted = 0usize;
    let mut count = 0;
    let result = d.decode(&block, |f| {
        emitted += f.size();
        count += 1;
    });
    assert_eq!(result, Err(DecodeError::HeaderListTooLarge));
    assert!(!result.unwrap_err().is_compression_error());
    assert!(emitted <= 64 * 1024, "{emitted}");
    assert_eq!(count, 64 * 1024 / (4000 + 6 + 32));
    assert_eq!(d.table_len(), 2);

    let fields = decode(&mut d, &[0xbe, 0xbf]).unwrap();
    assert_eq!((&fields[0].name[..], &fields[0].value[..]), (&b"x-after"[..], &b"1"[..]));
    assert_eq!(fields[1].name, "x-bomb");
    assert_eq!(fields[1].value.len(), 4000);
}

/// Over the limit, a Huffman error in a string that is not materialised is still a
/// COMPRESSION_ERROR.
#[test]
fn errors_after_the_limit_still_count() {
    let mut d = Decoder::new();
    d.set_max_header_list_size(50);
    let block =
        [0x00, 0x01, b'k', 0x01, b'v', 0x00, 0x01, b'k', 0x01, b'v', 0x04, 0x82, 0x07, 0xff];
    assert_eq!(decode(&mut d, &block), Err(DecodeError::InvalidHuffman));
    let mut d = Decoder::new();
    d.set_max_header_list_size(50);
    assert_eq!(decode(&mut d, &block[..10]), Err(DecodeError::HeaderListTooLarge));
    assert_eq!(decode(&mut d, &[0x82]).unwrap().len(), 1);
}

#[test]
fn errors_map_to_compression_error() {
    for e in [
        DecodeError::InvalidIndex,
        DecodeError::IntegerOverflow,
        DecodeError::Truncated,
        DecodeError::InvalidHuffman,
        DecodeError::SizeUpdateNotAtStart,
        DecodeError::SizeUpdateTooLarge,
        DecodeError::SizeUpdateMissing,
    ] {
        assert!(e.is_compression_error(), "{e}");
    }
    assert!(!DecodeError::HeaderListTooLarge.is_compression_error());
}

/// A Huffman string as a literal without indexing (§6.2.2) or never indexed (§6.2.3) with
/// the static name `:path` (index 4).
fn path_literal(path: &[u8], never: bool) -> Vec<u8> {
    let mut wire = vec![if never { 0x14 } else { 0x04 }];
    let mut coded = Vec::new();
    huffman::encode(path, &mut coded);
    wire.push(0x80 | coded.len() as u8);
    wire.extend_from_slice(&coded);
    wire
}

/// A repeated non-indexed Huffman value shares the first decoding; a different one, a
/// never-indexed one and one after an error all decode as themselves.
#[test]
fn repeated_literal_shares_its_decoding() {
    let mut d = Decoder::new();
    let first = decode(&mut d, &path_literal(b"/bytes/13", false)).unwrap();
    let again = decode(&mut d, &path_literal(b"/bytes/13", false)).unwrap();
    assert_eq!(again[0].value, "/bytes/13");
    assert_eq!(again[0].value.as_ptr(), first[0].value.as_ptr(), "the decoding is shared");

    let other = decode(&mut d, &path_literal(b"/bytes/14", false)).unwrap();
    assert_eq!(other[0].value, "/bytes/14");
    let never = decode(&mut d, &path_literal(b"/bytes/14", true)).unwrap();
    assert_eq!(never[0].value, "/bytes/14");
    assert!(never[0].sensitive);
    assert_ne!(never[0].value.as_ptr(), other[0].value.as_ptr(), "never-indexed: not shared");

    // A damaged repeat is not recognised as one: it fails as it would have anyway.
    let mut damaged = path_literal(b"/bytes/14", false);
    *damaged.last_mut().unwrap() &= 0xfe; // the padding is no longer all ones
    assert_eq!(decode(&mut d, &damaged), Err(DecodeError::InvalidHuffman));
    let after = decode(&mut d, &path_literal(b"/bytes/14", false)).unwrap();
    assert_eq!(after[0].value, "/bytes/14");
}

/// Table entries are numbered for good: static fields by their index, dynamic entries from
/// 62 up in insertion order, whatever index they have now; literals not added have none.
#[test]
fn table_entries_keep_their_numbers() {
    let mut d = Decoder::new();
    let mut entries = Vec::new();
    let mut block = vec![0x82]; // static 2, :method GET
    block.extend(literal_indexed(b"x-a", b"1")); // dynamic entry 62, now index 62
    block.extend(literal_indexed(b"x-b", b"2")); // dynamic entry 63, now index 62
    block.extend([0xbe, 0xbf]); // index 62 (x-b), index 63 (x-a)
    block.extend([0x00, 0x01, b'x', 0x01, b'3']); // literal without indexing
    d.decode_ref(&Bytes::from(block), |f| entries.push((f.value.clone(), f.table_entry())))
        .unwrap();
    let want: Vec<(Bytes, Option<u64>)> = vec![
        (Bytes::from_static(b"GET"), Some(2)),
        (Bytes::from_static(b"1"), Some(62)),
        (Bytes::from_static(b"2"), Some(63)),
        (Bytes::from_static(b"2"), Some(63)),
        (Bytes::from_static(b"1"), Some(62)),
        (Bytes::from_static(b"3"), None),
    ];
    assert_eq!(entries, want);

    // Eviction does not make numbers repeat: a table of one entry renumbers nothing.
    d.set_max_table_size(40);
    let mut block = vec![0x3f, 0x09]; // size update to 40 (31 + 9)
    block.extend(literal_indexed(b"x-c", b"4"));
    block.push(0xbe);
    let mut again = Vec::new();
    d.decode_ref(&Bytes::from(block), |f| again.push(f.table_entry())).unwrap();
    assert_eq!(again, [Some(64), Some(64)]);
}
