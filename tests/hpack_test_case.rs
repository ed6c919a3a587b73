//! HPACK against other implementations' encodings: the hpack-test-case corpus
//! (`shared/testdata/hpack-test-case`, see its README).
//!
//! * Every story of every encoder directory decodes to exactly its `headers`.
//! * Every `raw-data` story round-trips through our `Encoder` and `Decoder` at table sizes
//!   4096, 256 and 0.
//! * Our encoding of `raw-data` is no larger than nghttp2's (the sum of its `wire` bytes).

use bytes::{Bytes, BytesMut};
use h2proto::hpack::{Decoder, Encoder, FieldRef};
use serde_json::Value;
use std::path::{Path, PathBuf};

const ENCODERS: [&str; 4] = ["nghttp2", "go-hpack", "python-hpack", "node-http2-hpack"];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/hpack-test-case")
}

struct Case {
    table_size: Option<usize>,
    wire: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
}

fn stories(dir: &str) -> Vec<(String, Vec<Case>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no stories in {dir}");
    paths
        .into_iter()
        .map(|path| {
            let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let cases = json["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| Case {
                    table_size: c
                        .get("header_table_size")
                        .and_then(Value::as_u64)
                        .map(|n| n as usize),
                    wire: c.get("wire").and_then(Value::as_str).map(hex).unwrap_or_default(),
                    headers: c["headers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .flat_map(|h| h.as_object().unwrap())
                        .map(|(k, v)| {
                            (k.as_bytes().to_vec(), v.as_str().unwrap().as_bytes().to_vec())
                        })
                        .collect(),
                })
                .collect();
            (path.file_name().unwrap().to_string_lossy().into_owned(), cases)
        })
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn decode(decoder: &mut Decoder, block: Bytes) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    decoder.decode(&block, |f| out.push((f.name.to_vec(), f.value.to_vec()))).unwrap();
    out
}

#[test]
fn every_encoder_story_decodes_exactly() {
    for dir in ENCODERS {
        let mut blocks = 0;
        for (name, cases) in stories(dir) {
            let mut decoder = Decoder::new();
            for (seq, case) in cases.iter().enumerate() {
                if let Some(size) = case.table_size {
                    decoder.set_max_table_size(size);
                }
                let mut got = Vec::new();
                decoder
                    .decode(&Bytes::from(case.wire.clone()), |f| {
                        got.push((f.name.to_vec(), f.value.to_vec()))
                    })
                    .unwrap_or_else(|e| panic!("{dir}/{name} case {seq}: {e}"));
                assert!(got == case.headers, "{dir}/{name} case {seq}");
                blocks += 1;
            }
        }
        assert_eq!(blocks, 3384, "{dir}");
    }
}

/// Encodes every raw-data story with a fresh encoder per story; returns the total size.
fn encode_raw_data(table_size: usize, check: bool) -> usize {
    let mut total = 0;
    for (name, cases) in stories("raw-data") {
        let mut encoder = Encoder::new();
        let mut decoder = Decoder::new();
        encoder.set_max_table_size(table_size);
        decoder.set_max_table_size(table_size);
        for (seq, case) in cases.iter().enumerate() {
            let mut block = BytesMut::new();
            encoder.encode(case.headers.iter().map(|(n, v)| FieldRef::new(n, v)), &mut block);
            total += block.len();
            if check {
                let got = decode(&mut decoder, block.freeze());
                assert!(
                    got == case.headers,
                    "raw-data/{name} case {seq} at table size {table_size}"
                );
                assert_eq!(encoder.table_size(), decoder.table_size(), "{name} case {seq}");
            }
        }
    }
    total
}

#[test]
fn raw_data_round_trips_at_4096_256_and_0() {
    for size in [4096, 256, 0] {
        encode_raw_data(size, true);
    }
}

#[test]
fn encoded_size_is_no_larger_than_nghttp2() {
    let ours = encode_raw_data(4096, false);
    let mut theirs = Vec::new();
    for dir in ENCODERS {
        let total: usize =
            stories(dir).iter().flat_map(|(_, cases)| cases).map(|c| c.wire.len()).sum();
        theirs.push((dir, total));
    }
    let raw: usize = stories("raw-data")
        .iter()
        .flat_map(|(_, c)| c)
        .flat_map(|c| &c.headers)
        .map(|(n, v)| n.len() + v.len())
        .sum();
    println!("raw-data: {raw} header bytes; encoded at table size 4096: h2proto {ours}");
    for (dir, total) in &theirs {
        println!(
            "  {dir}: {total} ({:+.2}% vs h2proto)",
            (*total as f64 / ours as f64 - 1.0) * 100.0
        );
    }
    println!(
        "  h2proto at 256: {}, at 0: {}",
        encode_raw_data(256, false),
        encode_raw_data(0, false)
    );
    let nghttp2 = theirs[0].1;
    assert!(ours <= nghttp2, "h2proto {ours} > nghttp2 {nghttp2}");
}
