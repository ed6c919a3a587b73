//! Replays the committed fuzz corpus on stable, in every `cargo test`.
//!
//! The fuzz targets' bodies live in `fuzz/src/lib.rs` as plain Rust; this test includes
//! that file and runs every file of `fuzz/corpus/<target>/` through the same function the
//! fuzzer calls. The corpus (seeds plus a `cargo fuzz cmin`-minimized set, and any crash
//! reproducer) thereby becomes a regression suite that needs neither nightly nor
//! libFuzzer. Each replay asserts a minimum file count, so a lost corpus fails loudly.

#[path = "../fuzz/src/lib.rs"]
mod targets;

use arbitrary::{Arbitrary, Unstructured};
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The files of `fuzz/corpus/<target>/`, sorted, with their contents.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, data)
        })
        .collect()
}

/// Runs `body` on every corpus file of `target`, naming the file when one fails, and
/// returns how many were replayed.
fn replay(target: &str, body: impl Fn(&[u8]) -> bool) -> usize {
    let mut replayed = 0;
    for (path, data) in corpus(target) {
        match panic::catch_unwind(AssertUnwindSafe(|| body(&data))) {
            Ok(true) => replayed += 1,
            Ok(false) => {}
            Err(cause) => {
                eprintln!("{target}: {} ({} bytes) failed", path.display(), data.len());
                panic::resume_unwind(cause);
            }
        }
    }
    replayed
}

#[test]
fn frame_decode_corpus() {
    let replayed = replay("frame_decode", |data| {
        targets::frame_decode(data);
        true
    });
    assert!(replayed >= 20, "only {replayed} frame_decode corpus files replayed");
}

#[test]
fn hpack_decode_corpus() {
    let replayed = replay("hpack_decode", |data| {
        targets::hpack_decode(data);
        true
    });
    assert!(replayed >= 20, "only {replayed} hpack_decode corpus files replayed");
}

#[test]
fn hpack_roundtrip_corpus() {
    let replayed = replay("hpack_roundtrip", |data| {
        // Exactly as libfuzzer-sys builds a typed input: `arbitrary_take_rest` over the
        // whole file. Inputs `arbitrary` cannot build are skipped, as the fuzzer skips them.
        match targets::RoundTripInput::arbitrary_take_rest(Unstructured::new(data)) {
            Ok(input) => {
                targets::hpack_roundtrip(input);
                true
            }
            Err(_) => false,
        }
    });
    assert!(replayed >= 10, "only {replayed} hpack_roundtrip corpus files replayed");
}

#[test]
fn conn_server_corpus() {
    let replayed = replay("conn_server", |data| {
        targets::conn_server(data);
        true
    });
    assert!(replayed >= 20, "only {replayed} conn_server corpus files replayed");
}

#[test]
fn conn_client_corpus() {
    let replayed = replay("conn_client", |data| {
        targets::conn_client(data);
        true
    });
    assert!(replayed >= 20, "only {replayed} conn_client corpus files replayed");
}

#[test]
fn conn_frames_corpus() {
    let replayed = replay("conn_frames", |data| {
        match targets::FramesInput::arbitrary_take_rest(Unstructured::new(data)) {
            Ok(input) => {
                targets::conn_frames(input);
                true
            }
            Err(_) => false,
        }
    });
    assert!(replayed >= 10, "only {replayed} conn_frames corpus files replayed");
}

/// The hand-made `conn_frames` seeds are committed as the bytes `arbitrary` reads back as
/// the inputs of `conn_frames::seeds()`. This checks both; run it with
/// `H2PROTO_WRITE_SEEDS=1` to (re)write the files after changing the seeds or the types.
#[test]
fn conn_frames_seeds_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/conn_frames");
    let write = std::env::var_os("H2PROTO_WRITE_SEEDS").is_some();
    for (name, input) in targets::conn_frames::seeds() {
        let bytes = input.to_bytes();
        let parsed = targets::FramesInput::arbitrary_take_rest(Unstructured::new(&bytes))
            .unwrap_or_else(|e| panic!("seed {name} does not parse: {e}"));
        assert_eq!(
            format!("{parsed:?}"),
            format!("{input:?}"),
            "seed {name} reads back differently"
        );
        let path = dir.join(format!("seed-{name}"));
        if write {
            fs::create_dir_all(&dir).expect("corpus directory");
            fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else {
            let committed = fs::read(&path).unwrap_or_default();
            assert!(
                committed == bytes,
                "{} is stale: rerun with H2PROTO_WRITE_SEEDS=1",
                path.display()
            );
        }
    }
}
