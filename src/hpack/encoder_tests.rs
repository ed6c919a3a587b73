//! Encoder behaviour: size update signalling (§4.2, §6.3), the never-indexed rules (§7.1.3)
//! and the indexing policy's guards.

use super::*;
use bytes::BytesMut;

fn encode(e: &mut Encoder, fields: &[FieldRef<'_>]) -> BytesMut {
    let mut dst = BytesMut::new();
    e.encode(fields.iter().copied(), &mut dst);
    dst
}

/// Encodes and decodes `fields`, checking names and values (not the sensitive flags, which
/// the policy may add).
fn round_trip(e: &mut Encoder, d: &mut Decoder, fields: &[FieldRef<'_>]) -> Vec<Field> {
    let block = encode(e, fields).freeze();
    let mut out = Vec::new();
    d.decode(&block, |f| out.push(f)).unwrap();
    let got: Vec<_> = out.iter().map(|f| (&f.name[..], &f.value[..])).collect();
    let want: Vec<_> = fields.iter().map(|f| (f.name, f.value)).collect();
    assert_eq!(got, want);
    for (f, sent) in out.iter().zip(fields) {
        assert!(f.sensitive || !sent.sensitive, "a sensitive field lost its flag");
    }
    out
}

#[test]
fn no_update_without_a_change() {
    let mut e = Encoder::new();
    e.set_max_table_size(4096);
    assert_eq!(encode(&mut e, &[FieldRef::new(b":method", b"GET")]), &[0x82][..]);
    // A larger peer setting does not change what we use (limit 4096).
    e.set_max_table_size(65536);
    assert_eq!(encode(&mut e, &[]), &[][..]);
}

#[test]
fn shrink_is_signalled_once_at_the_next_block() {
    let mut e = Encoder::new();
    e.set_max_table_size(1024);
    assert_eq!(encode(&mut e, &[FieldRef::new(b":method", b"GET")]), &[0x3f, 0xe1, 0x07, 0x82][..]);
    assert_eq!(encode(&mut e, &[FieldRef::new(b":method", b"GET")]), &[0x82][..]);
    assert_eq!(e.max_table_size(), 1024);
}

/// §4.2: "If a change in the maximum size [...] is reduced and then increased before the
/// next header block, the smallest maximum table size [...] MUST be signaled", then the final.
#[test]
fn shrink_then_grow_signals_minimum_then_final() {
    let mut e = Encoder::new();
    let mut d = Decoder::new();
    round_trip(&mut e, &mut d, &[FieldRef::new(b"x-a", b"1")]);
    e.set_max_table_size(0);
    e.set_max_table_size(2048);
    e.set_max_table_size(4096);
    d.set_max_table_size(0);
    d.set_max_table_size(4096);
    let block = encode(&mut e, &[]);
    assert_eq!(block, &[0x20, 0x3f, 0xe1, 0x1f][..]);
    d.decode(&block.freeze(), |_| {}).unwrap();
    assert_eq!((d.table_len(), e.table_size()), (0, 0));
}

#[test]
fn our_limit_caps_the_table() {
    let mut e = Encoder::new();
    e.set_table_size_limit(512);
    e.set_max_table_size(65536);
    assert_eq!(e.max_table_size(), 512);
    assert_eq!(encode(&mut e, &[]), &[0x3f, 0xe1, 0x03][..]);
}

/// §7.1.3: sensitive fields, credentials and short cookies are never indexed.
#[test]
fn never_indexed_fields() {
    let mut e = Encoder::new();
    let mut d = Decoder::new();
    let fields = [
        FieldRef::sensitive(b"x-token", b"secret"),
        FieldRef::new(b"authorization", b"Basic Zm9vOmJhcg=="),
        FieldRef::new(b"proxy-authorization", b"Basic Zm9vOmJhcg=="),
        FieldRef::new(b"cookie", b"sid=12345"),
        // A sensitive field whose value is in the static table is still sent as a literal.
        FieldRef::sensitive(b":method", b"GET"),
    ];
    let out = round_trip(&mut e, &mut d, &fields);
    assert!(out.iter().all(|f| f.sensitive));
    assert_eq!((e.table_size(), d.table_len()), (0, 0));
    // And they stay literals when repeated.
    let out = round_trip(&mut e, &mut d, &fields);
    assert!(out.iter().all(|f| f.sensitive));
    assert_eq!(e.table_size(), 0);
}

#[test]
fn long_cookie_is_indexed_and_repeats_as_one_octet() {
    let mut e = Encoder::new();
    let cookie = FieldRef::new(b"cookie", b"session=0123456789abcdef");
    encode(&mut e, &[cookie]);
    assert_eq!(encode(&mut e, &[cookie]), &[0xbe][..]);
}

#[test]
fn repeated_fields_become_indexes() {
    let mut e = Encoder::new();
    let mut d = Decoder::new();
    let fields = [FieldRef::new(b"user-agent", b"h2proto/0.1"), FieldRef::new(b"x-custom", b"abc")];
    round_trip(&mut e, &mut d, &fields);
    assert_eq!(encode(&mut e, &fields), &[0xbf, 0xbe][..]);
}

#[test]
fn unique_values_are_not_indexed() {
    let mut e = Encoder::new();
    let mut d = Decoder::new();
    round_trip(
        &mut e,
        &mut d,
        &[
            FieldRef::new(b":path", b"/a/b?c=d"),
            FieldRef::new(b"content-length", b"1234"),
            FieldRef::new(b"set-cookie", b"id=a3fWa; Max-Age=2592000"),
        ],
    );
    assert_eq!(e.table_size(), 0);
}

/// A field over 3/4 of the table is sent as a literal without indexing rather than
/// flushing the table.
#[test]
fn huge_fields_do_not_flush_the_table() {
    let mut e = Encoder::new();
    let mut d = Decoder::new();
    let big = vec![b'v'; 3500];
    round_trip(&mut e, &mut d, &[FieldRef::new(b"x-small", b"1"), FieldRef::new(b"x-big", &big)]);
    assert_eq!(e.table_size(), 32 + 8);
    assert_eq!(d.table_size(), 32 + 8);
}

#[test]
fn huffman_only_when_shorter() {
    let mut e = Encoder::new();
    // "307" is 3 octets either way: sent plain.
    assert_eq!(
        encode(&mut e, &[FieldRef::new(b":status", b"307")]),
        &[0x48, 0x03, b'3', b'0', b'7'][..]
    );
    // Binary-ish text is longer in Huffman: sent plain.
    let mut e = Encoder::new();
    let block = encode(&mut e, &[FieldRef::new(b"x-bin", b"\x01\x02\x03")]);
    assert_eq!(&block[block.len() - 4..], &[0x03, 1, 2, 3][..]);
}

#[test]
fn empty_names_and_values_round_trip() {
    let mut e = Encoder::new();
    let mut d = Decoder::new();
    let fields = [FieldRef::new(b"", b""), FieldRef::new(b"x", b""), FieldRef::new(b"", b"y")];
    round_trip(&mut e, &mut d, &fields);
    assert_eq!(encode(&mut e, &fields), &[0xc0, 0xbf, 0xbe][..]);
}

/// The `:status` and `content-length` shortcuts send what the general path sends, byte for
/// byte, whatever the table holds: statuses outside the static table are indexed on first
/// use and found there later, and table size updates still open the block.
#[test]
fn status_and_content_length_shortcuts_match_the_general_path() {
    let (mut fast, mut general) = (Encoder::new(), Encoder::new());
    for (round, table_size) in [(0u32, 4096), (1, 4096), (2, 100)] {
        fast.set_max_table_size(table_size);
        general.set_max_table_size(table_size);
        for status in 100..=999u16 {
            let digits = status.to_string();
            let length = (u64::from(status) * 7919).wrapping_pow(round + 1).to_string();
            let mut got = BytesMut::new();
            fast.start_block(&mut got);
            fast.encode_status(status, &mut got);
            fast.encode_content_length(length.as_bytes(), &mut got);
            let want = encode(
                &mut general,
                &[
                    FieldRef::new(b":status", digits.as_bytes()),
                    FieldRef::new(b"content-length", length.as_bytes()),
                ],
            );
            assert_eq!(got, want, "status {status}, content-length {length}");
        }
    }
}

/// A response head that repeats is copied from its earlier encoding: the bytes are always
/// those the general path sends, through repeats, changed fields, table changes and
/// evictions, size updates, Huffman switched off, and sensitive values.
#[test]
fn repeated_response_heads_encode_as_the_general_path() {
    let (mut fast, mut general) = (Encoder::new(), Encoder::new());
    let heads: [(u16, &[(&str, &str)]); 5] = [
        (200, &[("server", "h2proto"), ("content-type", "text/plain")]),
        (200, &[("server", "h2proto"), ("content-type", "text/html")]),
        (404, &[("server", "h2proto")]),
        (201, &[("x-big", "a value long enough to evict entries from a small table")]),
        (200, &[]),
    ];
    // A sequence with runs of repeats, and settings changes between some heads.
    let order = [0, 0, 0, 1, 1, 0, 0, 2, 2, 3, 0, 0, 4, 4, 0, 3, 3, 3, 1, 0, 0];
    let mut copied = 0;
    for (step, &i) in order.iter().cycle().take(order.len() * 4).enumerate() {
        match step {
            21 => [&mut fast, &mut general].map(|e| e.set_max_table_size(120)),
            // Head 3 (a literal, whose bytes depend on Huffman) was kept at step 58.
            59 => [&mut fast, &mut general].map(|e| e.set_use_huffman(false)),
            63 => [&mut fast, &mut general].map(|e| e.set_max_table_size(4096)),
            _ => [(), ()],
        };
        let (status, fields) = heads[i];
        let sensitive = step % 13 == 12;
        let fields: Vec<FieldRef<'_>> = fields
            .iter()
            .map(|(n, v)| FieldRef { sensitive, ..FieldRef::new(n.as_bytes(), v.as_bytes()) })
            .collect();
        let mut got = BytesMut::new();
        fast.start_block(&mut got);
        copied += usize::from(fast.repeats(Some(status), &fields));
        fast.encode_head(Some(status), &fields, &mut got);
        let digits = status.to_string();
        let mut all = vec![FieldRef::new(b":status", digits.as_bytes())];
        all.extend_from_slice(&fields);
        let want = encode(&mut general, &all);
        assert_eq!(got, want, "step {step}: head {i}");
    }
    assert!(copied > 20, "repeats were copied ({copied} times)");
}

/// Requests too: a repeated request head (pseudo-header fields included, `:path` sent
/// without indexing) is copied, and equals what the general path sends.
#[test]
fn repeated_request_heads_encode_as_the_general_path() {
    let (mut fast, mut general) = (Encoder::new(), Encoder::new());
    let paths = ["/a", "/a", "/a", "/b", "/a", "/a"];
    let mut copied = 0;
    for path in paths.iter().cycle().take(24) {
        let fields = [
            FieldRef::new(b":method", b"GET"),
            FieldRef::new(b":scheme", b"https"),
            FieldRef::new(b":authority", b"example.com"),
            FieldRef::new(b":path", path.as_bytes()),
            FieldRef::new(b"user-agent", b"h2proto-test"),
        ];
        let mut got = BytesMut::new();
        fast.start_block(&mut got);
        copied += usize::from(fast.repeats(None, &fields));
        fast.encode_head(None, &fields, &mut got);
        assert_eq!(got, encode(&mut general, &fields), "{path}");
    }
    assert!(copied >= 12, "repeats were copied ({copied} times)");
}
