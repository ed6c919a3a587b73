//! HPACK benches against the `hpack` (0.3) and `httlib-hpack` (0.1) crates, in one run.
//!
//! * `hpack_decode_huffman`: every nghttp2-encoded story of hpack-test-case (Huffman-coded,
//!   as real peers send), a fresh decoder per story.
//! * `hpack_decode_plain`: the raw-data stories encoded by our encoder without Huffman.
//! * `hpack_encode`: every raw-data story, a fresh encoder per story; sizes are printed.
//! * `huffman_decode` / `huffman_encode`: 4 KiB of header values, against `httlib-huffman`.
//!
//! Throughput is in header bytes (sum of name + value lengths) for the codecs and decoded
//! bytes for Huffman. ns per block = time per iteration / the block count printed first.
//! Other crates' APIs cost what they cost: `hpack` is measured both through its callback,
//! which only lends each string during the call (no allocation, nothing to keep), and through
//! `decode`, which returns owned `Vec`s like our owned `Field`s; `httlib-hpack` consumes a
//! `Vec<u8>` per block and takes owned names and values to encode, so those copies are part
//! of its figures.

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use h2proto::hpack::{Decoder, Encoder, FieldRef, huffman};
use serde_json::Value;
use std::hint::black_box;
use std::path::Path;

type Headers = Vec<(Vec<u8>, Vec<u8>)>;

struct Story {
    blocks: Vec<Bytes>,
    headers: Vec<Headers>,
}

fn load(dir: &str) -> Vec<Story> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/hpack-test-case").join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "json"));
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let json: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            let cases = json["cases"].as_array().unwrap();
            Story {
                blocks: cases
                    .iter()
                    .filter_map(|c| c.get("wire").and_then(Value::as_str))
                    .map(|h| {
                        (0..h.len())
                            .step_by(2)
                            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                            .collect()
                    })
                    .map(|v: Vec<u8>| Bytes::from(v))
                    .collect(),
                headers: cases
                    .iter()
                    .map(|c| {
                        c["headers"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .flat_map(|h| h.as_object().unwrap())
                            .map(|(k, v)| {
                                (k.as_bytes().to_vec(), v.as_str().unwrap().as_bytes().to_vec())
                            })
                            .collect()
                    })
                    .collect(),
            }
        })
        .collect()
}

fn header_bytes(stories: &[Story]) -> u64 {
    stories.iter().flat_map(|s| &s.headers).flatten().map(|(n, v)| (n.len() + v.len()) as u64).sum()
}

fn blocks(stories: &[Story]) -> usize {
    stories.iter().map(|s| s.headers.len()).sum()
}

fn decode_ours(stories: &[Story]) -> usize {
    let mut total = 0;
    for story in stories {
        let mut d = Decoder::new();
        for block in &story.blocks {
            d.decode(block, |f| total += f.name.len() + f.value.len()).unwrap();
        }
    }
    total
}

/// The borrowing API, like-for-like with `hpack`'s callback API below: each field is lent
/// for the duration of the call.
fn decode_ours_ref(stories: &[Story]) -> usize {
    let mut total = 0;
    for story in stories {
        let mut d = Decoder::new();
        for block in &story.blocks {
            d.decode_ref(block, |f| total += f.name.len() + f.value.len()).unwrap();
        }
    }
    total
}

fn decode_hpack(stories: &[Story]) -> usize {
    let mut total = 0;
    for story in stories {
        let mut d = hpack::Decoder::new();
        for block in &story.blocks {
            d.decode_with_cb(block, |n, v| total += n.len() + v.len()).unwrap();
        }
    }
    total
}

/// `hpack`'s owning API (a `Vec<(Vec<u8>, Vec<u8>)>` per block), comparable to our owned
/// `Field`s; the callback API above only lends each string for the duration of the call.
fn decode_hpack_owned(stories: &[Story]) -> usize {
    let mut total = 0;
    for story in stories {
        let mut d = hpack::Decoder::new();
        for block in &story.blocks {
            total += d.decode(block).unwrap().iter().map(|(n, v)| n.len() + v.len()).sum::<usize>();
        }
    }
    total
}

fn decode_httlib(stories: &[Story]) -> usize {
    let mut total = 0;
    for story in stories {
        let mut d = httlib_hpack::Decoder::default();
        let mut out = Vec::new();
        for block in &story.blocks {
            let mut buf = block.to_vec();
            out.clear();
            d.decode(&mut buf, &mut out).unwrap();
            total += out.iter().map(|(n, v, _)| n.len() + v.len()).sum::<usize>();
        }
    }
    total
}

fn bench_decode(c: &mut Criterion, group: &str, stories: &[Story]) {
    let bytes = header_bytes(stories);
    // Every implementation must decode the corpus to the same headers before it is timed.
    for (name, n) in [
        ("h2proto", decode_ours(stories)),
        ("h2proto-ref", decode_ours_ref(stories)),
        ("hpack", decode_hpack(stories)),
        ("hpack-owned", decode_hpack_owned(stories)),
        ("httlib-hpack", decode_httlib(stories)),
    ] {
        assert_eq!(n as u64, bytes, "{name} decodes {group} wrongly");
    }
    println!("{group}: {} blocks, {bytes} header bytes", blocks(stories));
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("h2proto", |b| b.iter(|| decode_ours(black_box(stories))));
    g.bench_function("h2proto-ref", |b| b.iter(|| decode_ours_ref(black_box(stories))));
    g.bench_function("hpack", |b| b.iter(|| decode_hpack(black_box(stories))));
    g.bench_function("hpack-owned", |b| b.iter(|| decode_hpack_owned(black_box(stories))));
    g.bench_function("httlib-hpack", |b| b.iter(|| decode_httlib(black_box(stories))));
    g.finish();
}

fn encode_ours(stories: &[Story], huffman: bool) -> Vec<Vec<Bytes>> {
    stories
        .iter()
        .map(|story| {
            let mut e = Encoder::new();
            e.set_use_huffman(huffman);
            story
                .headers
                .iter()
                .map(|h| {
                    let mut dst = BytesMut::new();
                    e.encode(h.iter().map(|(n, v)| FieldRef::new(n, v)), &mut dst);
                    dst.freeze()
                })
                .collect()
        })
        .collect()
}

fn encode_ours_size(stories: &[Story]) -> usize {
    let mut total = 0;
    let mut dst = BytesMut::with_capacity(16 * 1024);
    for story in stories {
        let mut e = Encoder::new();
        for h in &story.headers {
            dst.clear();
            e.encode(h.iter().map(|(n, v)| FieldRef::new(n, v)), &mut dst);
            total += dst.len();
        }
    }
    total
}

fn encode_hpack(stories: &[Story]) -> usize {
    let mut total = 0;
    let mut dst = Vec::with_capacity(16 * 1024);
    for story in stories {
        let mut e = hpack::Encoder::new();
        for h in &story.headers {
            dst.clear();
            e.encode_into(h.iter().map(|(n, v)| (&n[..], &v[..])), &mut dst).unwrap();
            total += dst.len();
        }
    }
    total
}

fn encode_httlib(stories: &[Story]) -> usize {
    use httlib_hpack::Encoder as E;
    let mut total = 0;
    let mut dst = Vec::with_capacity(16 * 1024);
    for story in stories {
        let mut e = E::default();
        for h in &story.headers {
            dst.clear();
            for (n, v) in h {
                e.encode(
                    (n.clone(), v.clone(), E::HUFFMAN_VALUE | E::WITH_INDEXING | E::BEST_FORMAT),
                    &mut dst,
                )
                .unwrap();
            }
            total += dst.len();
        }
    }
    total
}

fn bench_encode(c: &mut Criterion, raw: &[Story]) {
    let nghttp2: usize = load("nghttp2").iter().flat_map(|s| &s.blocks).map(Bytes::len).sum();
    println!(
        "hpack_encode: {} blocks, {} header bytes; encoded size: h2proto {}, hpack {}, httlib-hpack {}, nghttp2 (corpus) {nghttp2}",
        blocks(raw),
        header_bytes(raw),
        encode_ours_size(raw),
        encode_hpack(raw),
        encode_httlib(raw),
    );
    let mut g = c.benchmark_group("hpack_encode");
    g.throughput(Throughput::Bytes(header_bytes(raw)));
    g.bench_function("h2proto", |b| b.iter(|| encode_ours_size(black_box(raw))));
    g.bench_function("hpack", |b| b.iter(|| encode_hpack(black_box(raw))));
    g.bench_function("httlib-hpack", |b| b.iter(|| encode_httlib(black_box(raw))));
    g.finish();
}

/// 4 KiB of real header values (user agents, URLs, cookies, dates...), in corpus order.
fn sample_text(raw: &[Story]) -> Vec<u8> {
    let mut text: Vec<u8> =
        raw.iter().flat_map(|s| &s.headers).flatten().flat_map(|(_, v)| v.clone()).collect();
    text.truncate(4096);
    text
}

fn bench_huffman(c: &mut Criterion, raw: &[Story]) {
    let text = sample_text(raw);
    let mut wire = Vec::new();
    huffman::encode(&text, &mut wire);
    let mut check = Vec::new();
    httlib_huffman::decode(&wire, &mut check, httlib_huffman::DecoderSpeed::FiveBits).unwrap();
    assert_eq!(check, text);
    println!("huffman: {} bytes of text, {} encoded", text.len(), wire.len());

    let mut g = c.benchmark_group("huffman_decode");
    g.throughput(Throughput::Bytes(text.len() as u64));
    let mut out = BytesMut::with_capacity(8192);
    g.bench_function("h2proto", |b| {
        b.iter(|| {
            out.clear();
            huffman::decode(black_box(&wire), &mut out).unwrap();
            out.len()
        })
    });
    let mut out = Vec::with_capacity(8192);
    g.bench_function("httlib-huffman", |b| {
        b.iter(|| {
            out.clear();
            httlib_huffman::decode(
                black_box(&wire),
                &mut out,
                httlib_huffman::DecoderSpeed::FiveBits,
            )
            .unwrap();
            out.len()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("huffman_encode");
    g.throughput(Throughput::Bytes(text.len() as u64));
    let mut out = BytesMut::with_capacity(8192);
    g.bench_function("h2proto", |b| {
        b.iter(|| {
            out.clear();
            huffman::encode(black_box(&text), &mut out);
            out.len()
        })
    });
    let mut out = Vec::with_capacity(8192);
    g.bench_function("httlib-huffman", |b| {
        b.iter(|| {
            out.clear();
            httlib_huffman::encode(black_box(&text), &mut out).unwrap();
            out.len()
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let nghttp2 = load("nghttp2");
    let raw = load("raw-data");
    bench_decode(c, "hpack_decode_huffman", &nghttp2);
    let plain: Vec<Story> = encode_ours(&raw, false)
        .into_iter()
        .zip(&raw)
        .map(|(blocks, s)| Story { blocks, headers: s.headers.clone() })
        .collect();
    bench_decode(c, "hpack_decode_plain", &plain);
    bench_encode(c, &raw);
    bench_huffman(c, &raw);
}

criterion_group!(hpack_benches, benches);
criterion_main!(hpack_benches);
