//! The HPACK checker: runs hpack-test-case stories through h2proto's HPACK.
//!
//! A story is a JSON object whose `cases` share one compression context, in order. The
//! checker reads every field that story format allows, as the stories of other
//! implementations write it, and ignores keys it does not know:
//!
//! - top level: `cases` (required), `description`, `draft`, `context` (`"request"` or
//!   `"response"`): informative only, HPACK does not depend on them;
//! - per case: `seqno` (absent or `null`: the case's index), `header_table_size` (absent or
//!   `null`: no change; a number: the SETTINGS_HEADER_TABLE_SIZE acknowledged just before
//!   the case, RFC 7541 §4.2), `wire` (hex, either case; absent or `null` in raw stories),
//!   `headers` (a list of single-entry `{name: value}` objects, in order).
//!
//! Decode mode checks that every `wire` block decodes to exactly the expected `headers`. A
//! story without any `wire` (a raw-data story) has nothing to decode, so it is round-tripped
//! through h2proto's encoder instead; a story where only some cases carry `wire` cannot be
//! checked (the missing blocks changed the encoder's table) and fails. Encode mode encodes
//! every case's `headers` with h2proto's encoder and decodes the result, which is how users
//! check their own encoder's output against ours and how we measure compression.

use bytes::{Bytes, BytesMut};
use h2proto::hpack::{Decoder, Encoder, FieldRef};
use serde_json::Value;
use std::process::ExitCode;

type HeaderList = Vec<(Vec<u8>, Vec<u8>)>;

struct Case {
    seqno: u64,
    table_size: Option<usize>,
    wire: Option<Vec<u8>>,
    headers: HeaderList,
}

/// What a story that passed was checked for.
struct Checked {
    cases: usize,
    /// (header bytes, encoded bytes) when h2proto's encoder produced the blocks.
    sizes: Option<(usize, usize)>,
}

struct Options {
    encode: bool,
    table_size: Option<usize>,
    files: Vec<String>,
}

pub(crate) fn main(args: &[String]) -> ExitCode {
    let options = match parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hpack: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    let (mut plain_total, mut encoded_total) = (0usize, 0usize);
    for file in &options.files {
        let result = load(file).and_then(|cases| {
            if options.encode {
                encode_story(&cases, options.table_size)
            } else {
                decode_story(&cases)
            }
        });
        match result {
            Ok(Checked { cases, sizes: None }) => {
                passed += 1;
                println!("PASS {file}: {cases} cases");
            }
            Ok(Checked { cases, sizes: Some((plain, encoded)) }) => {
                passed += 1;
                plain_total += plain;
                encoded_total += encoded;
                let how = if options.encode { "" } else { " (no wire: encoded round trip)" };
                println!(
                    "PASS {file}: {cases} cases, {plain} header bytes -> {encoded} encoded{how}"
                );
            }
            Err(e) => {
                failed += 1;
                println!("FAIL {file}: {e}");
            }
        }
    }
    if options.encode && plain_total > 0 {
        println!(
            "total: {plain_total} header bytes -> {encoded_total} encoded ({:.1}%)",
            100.0 * encoded_total as f64 / plain_total as f64
        );
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 && passed > 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options { encode: false, table_size: None, files: Vec::new() };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--encode" => options.encode = true,
            "--table-size" => {
                let n = it.next().ok_or("--table-size needs a value")?;
                options.table_size = Some(n.parse().map_err(|_| format!("bad table size {n:?}"))?);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            file => options.files.push(file.to_owned()),
        }
    }
    if options.files.is_empty() {
        return Err("no story files given".into());
    }
    Ok(options)
}

fn load(path: &str) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let cases = json.get("cases").and_then(Value::as_array).ok_or("no \"cases\" array")?;
    cases.iter().enumerate().map(|(i, c)| parse_case(i, c)).collect()
}

fn parse_case(index: usize, case: &Value) -> Result<Case, String> {
    // `null` means the same as an absent key in every optional field.
    let field = |key: &str| case.get(key).filter(|v| !v.is_null());
    let seqno = match field("seqno") {
        None => index as u64,
        Some(v) => v.as_u64().ok_or(format!("case {index}: bad seqno {v}"))?,
    };
    let table_size = match field("header_table_size") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(format!("case {seqno}: bad header_table_size {v}"))?,
        ),
    };
    let wire = match field("wire") {
        None => None,
        Some(v) => {
            Some(v.as_str().and_then(from_hex).ok_or(format!("case {seqno}: wire is not hex"))?)
        }
    };
    let list =
        field("headers").and_then(Value::as_array).ok_or(format!("case {seqno}: no headers"))?;
    let mut headers = Vec::with_capacity(list.len());
    for entry in list {
        // One field per object: a JSON object does not keep the order of several keys.
        let (name, value) = match entry.as_object().map(|o| o.iter().collect::<Vec<_>>()) {
            Some(pairs) if pairs.len() == 1 => pairs[0],
            _ => {
                return Err(format!(
                    "case {seqno}: header {entry} is not a {{name: value}} object"
                ));
            }
        };
        let value =
            value.as_str().ok_or(format!("case {seqno}: value of {name} is not a string"))?;
        headers.push((name.as_bytes().to_vec(), value.as_bytes().to_vec()));
    }
    Ok(Case { seqno, table_size, wire, headers })
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    let digits = hex.as_bytes();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

fn decode_block(decoder: &mut Decoder, block: Bytes, seqno: u64) -> Result<HeaderList, String> {
    let mut out = Vec::new();
    decoder
        .decode(&block, |field| out.push((field.name.to_vec(), field.value.to_vec())))
        .map_err(|e| format!("case {seqno}: decode error: {e}"))?;
    Ok(out)
}

fn compare(seqno: u64, expected: &HeaderList, got: &HeaderList) -> Result<(), String> {
    if expected == got {
        return Ok(());
    }
    let show = |l: &HeaderList| {
        l.iter()
            .map(|(n, v)| format!("{}: {}", String::from_utf8_lossy(n), String::from_utf8_lossy(v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(format!("case {seqno}: expected [{}], got [{}]", show(expected), show(got)))
}

fn decode_story(cases: &[Case]) -> Result<Checked, String> {
    if cases.iter().all(|c| c.wire.is_none()) {
        return encode_story(cases, None);
    }
    let mut decoder = Decoder::new();
    for case in cases {
        if let Some(size) = case.table_size {
            decoder.set_max_table_size(size);
        }
        let wire = case.wire.as_ref().ok_or(format!(
            "case {}: no wire, but other cases have one (the story is incomplete)",
            case.seqno
        ))?;
        let got = decode_block(&mut decoder, Bytes::copy_from_slice(wire), case.seqno)?;
        compare(case.seqno, &case.headers, &got)?;
    }
    Ok(Checked { cases: cases.len(), sizes: None })
}

fn encode_story(cases: &[Case], forced: Option<usize>) -> Result<Checked, String> {
    let mut encoder = Encoder::new();
    let mut decoder = Decoder::new();
    if let Some(size) = forced {
        encoder.set_max_table_size(size);
        decoder.set_max_table_size(size);
    }
    let (mut plain, mut encoded) = (0, 0);
    let mut block = BytesMut::new();
    for case in cases {
        if let (None, Some(size)) = (forced, case.table_size) {
            encoder.set_max_table_size(size);
            decoder.set_max_table_size(size);
        }
        block.clear();
        let fields = case.headers.iter().map(|(n, v)| FieldRef::new(n, v));
        encoder.encode(fields, &mut block);
        plain += case.headers.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>();
        encoded += block.len();
        let got = decode_block(&mut decoder, block.split().freeze(), case.seqno)?;
        compare(case.seqno, &case.headers, &got)?;
    }
    Ok(Checked { cases: cases.len(), sizes: Some((plain, encoded)) })
}
