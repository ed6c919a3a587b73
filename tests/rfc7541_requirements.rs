//! RFC 7541 requirements the unit tests in `src/hpack/` leave unproven (see
//! `conformance/requirements/7541.toml`): the order of fields read by an independent
//! decoder (§2.1), duplicate table entries (§2.3.2), the size updates our encoder sends
//! against every limit the peer sets (§4.2, §6.3), and never-indexed fields kept
//! never-indexed by an application that relays what it received (§6.2.3, §7.1.3).

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{Frame, StreamId};
use h2proto::hpack::{DecodeError, Decoder, Encoder, FieldRef, integer};
use h2proto::{Config, Event, Role};
use support::*;

fn encode(encoder: &mut Encoder, fields: &[FieldRef<'_>]) -> Bytes {
    let mut dst = BytesMut::new();
    encoder.encode(fields.iter().copied(), &mut dst);
    dst.freeze()
}

/// A decoded header list: (name, value) pairs in order.
type List = Vec<(Vec<u8>, Vec<u8>)>;

fn decode(decoder: &mut Decoder, block: &[u8]) -> Result<List, DecodeError> {
    let mut out = Vec::new();
    decoder
        .decode(&Bytes::copy_from_slice(block), |f| out.push((f.name.to_vec(), f.value.to_vec())))
        .map(|()| out)
}

/// §2.1: "An encoder MUST order header field representations in the header block according
/// to their ordering in the original header list." Checked with another implementation's
/// decoder (the `hpack` crate), block after block, with repeated names, indexed repeats,
/// literals, never-indexed fields and Huffman strings mixed.
#[test]
fn rfc7541_2_1_another_decoder_reads_our_fields_in_their_order() {
    let lists: [&[(&str, &str)]; 3] = [
        &[
            (":method", "GET"),
            (":path", "/a"),
            ("x-dup", "1"),
            ("accept", "*/*"),
            ("x-dup", "2"),
            ("authorization", "Basic Zm9vOmJhcg=="),
            ("x-dup", "1"),
        ],
        // The same names again: now indexed from the dynamic table, still in list order.
        &[("x-dup", "2"), ("x-dup", "1"), (":path", "/a"), ("accept", "*/*"), (":method", "GET")],
        &[("z", ""), ("a", "long value that Huffman coding shortens a lot"), ("z", "0"), ("a", "")],
    ];
    let mut ours = Encoder::new();
    let mut theirs = hpack::Decoder::new();
    for list in lists {
        let fields: Vec<FieldRef<'_>> =
            list.iter().map(|(n, v)| FieldRef::new(n.as_bytes(), v.as_bytes())).collect();
        let block = encode(&mut ours, &fields);
        let decoded = theirs.decode(&block).expect("the hpack crate decodes our block");
        let want: List =
            list.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec())).collect();
        assert_eq!(decoded, want);
    }
}

/// §2.1: "A decoder MUST order header fields in the decoded header list according to their
/// ordering in the header block": a block written by another implementation (the `hpack`
/// crate's encoder) decodes to its fields in their order.
#[test]
fn rfc7541_2_1_we_decode_another_encoders_fields_in_their_order() {
    let list: Vec<(&[u8], &[u8])> = vec![
        (b":status", b"200"),
        (b"set-cookie", b"a=1"),
        (b"x-n", b"3"),
        (b"set-cookie", b"b=2"),
        (b"x-n", b"1"),
        (b"set-cookie", b"a=1"),
    ];
    let mut theirs = hpack::Encoder::new();
    let mut ours = Decoder::new();
    for _ in 0..2 {
        let block = theirs.encode(list.iter().copied());
        let got = decode(&mut ours, &block).unwrap();
        let want: List = list.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        assert_eq!(got, want);
    }
}

/// §2.3.2: "duplicate entries MUST NOT be treated as an error by a decoder": the same field
/// added three times takes three entries, each one addressable.
#[test]
fn rfc7541_2_3_2_duplicate_entries_are_not_an_error() {
    let literal = [0x40, 0x01, b'k', 0x01, b'v']; // §6.2.1, new name "k", value "v"
    let mut block = Vec::new();
    for _ in 0..3 {
        block.extend_from_slice(&literal);
    }
    block.extend_from_slice(&[0xbe, 0xbf, 0xc0]); // indices 62, 63, 64
    let mut decoder = Decoder::new();
    let fields = decode(&mut decoder, &block).expect("duplicates are fine");
    assert_eq!(fields.len(), 6);
    assert!(fields.iter().all(|(n, v)| n == b"k" && v == b"v"), "{fields:?}");
    assert_eq!(decoder.table_len(), 3);
    assert_eq!(decoder.table_size(), 3 * (1 + 1 + 32));
    // A duplicate of a static entry is fine too.
    let fields = decode(&mut decoder, &[0x42, 0x03, b'G', b'E', b'T', 0xbe]).unwrap();
    assert_eq!(fields, vec![(b":method".to_vec(), b"GET".to_vec()); 2]);
}

/// The dynamic table size updates that open `block` (§6.3), and where its fields start.
fn size_updates(block: &[u8]) -> Vec<usize> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < block.len() && block[at] & 0xe0 == 0x20 {
        let (value, len) = integer::decode(&block[at..], 5).unwrap();
        out.push(value);
        at += len;
    }
    out
}

/// §4.2 and §6.3 on the encoder: as the peer's SETTINGS_HEADER_TABLE_SIZE moves (down, up,
/// several times between two blocks, to 0 and back), every size update we send is at most
/// the peer's current limit and our table never outgrows it (§4.2: "the chosen size MUST
/// stay lower than or equal to the maximum", §6.3: "The new maximum size MUST be lower than
/// or equal to the limit"); the first block after a change opens with the update (§4.2:
/// "at the beginning of the first header block following the change"); and when the limit
/// went down and up again, the smallest value comes first (§4.2). A decoder held to the
/// same limits accepts every block.
#[test]
fn rfc7541_4_2_6_3_size_updates_follow_every_limit_the_peer_sets() {
    let steps: &[&[usize]] = &[
        &[],
        &[1024],
        &[],
        &[0, 4096],
        &[256, 100, 3000],
        &[8192],
        &[50],
        &[],
        &[4096, 0],
        &[2000, 4000, 1000],
    ];
    let fields: Vec<(String, String)> =
        (0..40).map(|i| (format!("x-field-{}", i % 7), format!("value number {i}"))).collect();
    let mut encoder = Encoder::new();
    let mut decoder = Decoder::new();
    let mut peer_limit = 4096;
    for (n, changes) in steps.iter().enumerate() {
        for &limit in *changes {
            encoder.set_max_table_size(limit);
            decoder.set_max_table_size(limit);
        }
        let smallest = changes.iter().copied().min();
        if let Some(&last) = changes.last() {
            peer_limit = last;
        }
        let refs: Vec<FieldRef<'_>> = fields[n * 4..n * 4 + 4]
            .iter()
            .map(|(k, v)| FieldRef::new(k.as_bytes(), v.as_bytes()))
            .collect();
        let block = encode(&mut encoder, &refs);
        let updates = size_updates(&block);
        let ceiling = changes.iter().copied().max().unwrap_or(peer_limit);
        assert!(updates.iter().all(|&u| u <= ceiling), "step {n}: {updates:?} over {ceiling}");
        assert!(encoder.max_table_size() <= peer_limit, "step {n}");
        assert!(encoder.table_size() <= peer_limit, "step {n}");
        if let Some(min) = smallest {
            let effective = min.min(4096);
            if effective < encoder.max_table_size() || changes.len() > 1 {
                assert_eq!(updates.first(), Some(&effective), "step {n}: the minimum first");
            }
            assert_eq!(updates.last(), Some(&encoder.max_table_size()), "step {n}: final size");
        } else {
            assert!(updates.is_empty(), "step {n}: no change, no update: {updates:?}");
        }
        let got = decode(&mut decoder, &block).unwrap_or_else(|e| panic!("step {n}: {e}"));
        assert_eq!(got.len(), 4);
        assert_eq!(decoder.table_size(), encoder.table_size(), "step {n}");
    }
}

/// §6.2.3 and §7.1.3, for an application that relays what it receives (a proxy built on
/// h2proto): a field that arrived never-indexed keeps that mark in the `HeaderMap`
/// (`HeaderValue::is_sensitive`), and when the same headers are sent on, our encoder writes
/// it never-indexed again (pattern 0001, not added to any table), every time; a field that
/// arrived indexed may be indexed.
#[test]
fn rfc7541_6_2_3_7_1_3_a_relay_keeps_never_indexed_fields_never_indexed() {
    // The incoming side: a server under test receives a request whose x-secret is
    // never indexed and whose x-plain is indexed.
    let mut inbound = Peer::connected(Role::Server, Config::default());
    let mut block = inbound.block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "example.com"),
        (":path", "/"),
        ("x-plain", "public"),
    ]);
    let mut with_secret = BytesMut::from(&block[..]);
    integer::encode(0, 4, 0x10, &mut with_secret); // §6.2.3, new name
    for s in [&b"x-secret"[..], b"hunter2"] {
        integer::encode(s.len(), 7, 0, &mut with_secret);
        with_secret.extend_from_slice(s);
    }
    block = with_secret.freeze();
    inbound.send(h2proto::frame::Headers::new(StreamId(1), block, true));
    let events = inbound.events();
    let Some(Event::Request { request, .. }) = events.into_iter().next() else {
        panic!("no request")
    };
    assert!(request.headers()["x-secret"].is_sensitive(), "the mark survives decoding");
    assert!(!request.headers()["x-plain"].is_sensitive());

    // The outgoing side: a client under test sends the same headers on, twice.
    let mut outbound = Peer::connected(Role::Client, Config::default());
    for _ in 0..2 {
        let mut forwarded = get("http://example.com/");
        *forwarded.headers_mut() = request.headers().clone();
        outbound.conn.send_request(forwarded, true).unwrap();
        let frames = outbound.frames();
        let Some(Frame::Headers(h)) = frames.first() else { panic!("{frames:?}") };
        let mut fields = Vec::new();
        outbound
            .decoder
            .decode(&h.fragment, |f| fields.push((f.name.clone(), f.value.clone(), f.sensitive)))
            .unwrap();
        let secret = fields.iter().find(|f| f.0 == "x-secret").expect("forwarded");
        assert!(secret.2, "x-secret forwarded never-indexed: {fields:?}");
        assert_eq!(secret.1, "hunter2");
        let mut in_table = false;
        for i in 62..62 + outbound.decoder.table_len() {
            in_table |= outbound.decoder.table_entry(i).is_some_and(|(n, _)| n == "x-secret");
        }
        assert!(!in_table, "never indexed means never in the table");
    }
}

/// §6.2.3 and §7.1.3 for cookies, which RFC 9113 §8.2.3 has us join into one field: a
/// cookie whose crumbs arrived never-indexed is marked sensitive once joined, so a relay
/// sends every crumb never-indexed again instead of indexing a long one (our encoder
/// indexes cookies of 20 octets and more that are not marked). The same block twice gives
/// the same result (a repeated block is not replayed without the mark).
#[test]
fn rfc7541_7_1_3_a_relayed_never_indexed_cookie_stays_never_indexed() {
    let mut inbound = Peer::connected(Role::Server, Config::default());
    let mut outbound = Peer::connected(Role::Client, Config::default());
    for id in [1, 3] {
        let plain = inbound.block(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "example.com"),
            (":path", "/"),
        ]);
        let mut block = BytesMut::from(&plain[..]);
        // cookie (static name 32), never indexed, twice: a long crumb and a short one.
        for crumb in [&b"session=0123456789abcdef0123456789"[..], b"theme=dark"] {
            integer::encode(32, 4, 0x10, &mut block);
            integer::encode(crumb.len(), 7, 0, &mut block);
            block.extend_from_slice(crumb);
        }
        inbound.send(h2proto::frame::Headers::new(StreamId(id), block.freeze(), true));
        let events = inbound.events();
        let Some(Event::Request { request, .. }) = events.into_iter().next() else {
            panic!("no request on stream {id}")
        };
        let cookie = &request.headers()["cookie"];
        assert_eq!(cookie, "session=0123456789abcdef0123456789; theme=dark");
        assert!(cookie.is_sensitive(), "stream {id}: the joined cookie keeps the mark");

        let mut forwarded = get("http://example.com/");
        *forwarded.headers_mut() = request.headers().clone();
        outbound.conn.send_request(forwarded, true).unwrap();
        let frames = outbound.frames();
        let Some(Frame::Headers(h)) = frames.first() else { panic!("{frames:?}") };
        let mut crumbs = Vec::new();
        outbound
            .decoder
            .decode(&h.fragment, |f| {
                if f.name == "cookie" {
                    crumbs.push((f.value.clone(), f.sensitive));
                }
            })
            .unwrap();
        assert_eq!(crumbs.len(), 2, "{crumbs:?}");
        assert!(crumbs.iter().all(|(_, sensitive)| *sensitive), "stream {id}: {crumbs:?}");
        for i in 62..62 + outbound.decoder.table_len() {
            let entry = outbound.decoder.table_entry(i).map(|(n, _)| n.clone());
            assert_ne!(entry.as_deref(), Some(&b"cookie"[..]), "stream {id}: a crumb indexed");
        }
    }
}
