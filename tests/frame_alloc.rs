//! The core's contract 4 (h2proto crate docs): decoding DATA (and HEADERS) frames from a `Bytes` input allocates
//! nothing, and a frame that straddles input chunks is gathered without growing by
//! doubling. A counting global allocator proves it; this file holds only this test so no
//! other test's allocations are counted.

use bytes::BytesMut;
use h2proto::frame::{Data, Frame, FrameDecoder, Headers, StreamId};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn decoding_data_and_headers_from_bytes_does_not_allocate() {
    let mut wire = BytesMut::new();
    for i in 0..50u32 {
        Data::new(StreamId(2 * i + 1), vec![1u8; 16_000], i % 2 == 0).encode(&mut wire);
        Headers::new(StreamId(2 * i + 1), vec![0x82; 200], false).encode(&mut wire);
    }
    let wire = wire.freeze();
    let mut decoder = FrameDecoder::new();

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    decoder.push(wire);
    let mut frames = 0;
    while let Some(frame) = decoder.next_frame().unwrap() {
        assert!(matches!(frame, Frame::Data(_) | Frame::Headers(_)));
        frames += 1;
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(frames, 100);
    assert_eq!(allocations, 0, "the DATA/HEADERS decode path allocated");

    // A 16,000-byte DATA frame arriving in eight pieces: its buffer is sized once from the
    // frame header (one allocation, plus one for sharing it as `Bytes`), not regrown.
    let mut wire = BytesMut::new();
    Data::new(StreamId(1), vec![7u8; 16_000], true).encode(&mut wire);
    let wire = wire.freeze();
    let pieces: Vec<_> = wire.chunks(2_002).map(|piece| wire.slice_ref(piece)).collect();
    let mut frames = Vec::with_capacity(1);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for piece in pieces {
        decoder.push(piece);
        while let Some(frame) = decoder.next_frame().unwrap() {
            frames.push(frame);
        }
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert!(matches!(&frames[..], [Frame::Data(d)] if d.data.len() == 16_000));
    assert!(allocations <= 2, "a straddling frame took {allocations} allocations");
}
