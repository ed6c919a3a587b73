//! Frame codec benches: header parsing, whole-frame decoding on the zero-copy path, and
//! encoding.
//!
//! `cargo bench --bench frame`

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use h2proto::frame::{
    Data, Frame, FrameDecoder, FrameHeader, HEADER_LEN, Headers, Ping, Settings, StreamId,
};
use std::hint::black_box;

fn header_decode(c: &mut Criterion) {
    let bytes: [u8; HEADER_LEN] = [0x00, 0x40, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01];
    c.bench_function("frame/header_decode", |b| b.iter(|| FrameHeader::decode(black_box(&bytes))));
}

fn many(frame: Frame, count: usize) -> Bytes {
    let mut wire = BytesMut::new();
    for _ in 0..count {
        frame.encode(&mut wire);
    }
    wire.freeze()
}

fn decode_all(wire: &Bytes, max_frame_size: u32) -> usize {
    let mut decoder = FrameDecoder::new();
    decoder.set_max_frame_size(max_frame_size);
    decoder.push(wire.clone());
    let mut n = 0;
    while let Some(frame) = decoder.next_frame().unwrap() {
        black_box(&frame);
        n += 1;
    }
    n
}

fn frame_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame/decode");
    let cases = [
        ("data_16k", Frame::Data(Data::new(StreamId(1), vec![7u8; 16_384], false))),
        ("data_1k", Frame::Data(Data::new(StreamId(1), vec![7u8; 1024], false))),
        ("headers_64b", Frame::Headers(Headers::new(StreamId(1), vec![0x82; 64], true))),
        ("ping", Frame::Ping(Ping { ack: false, payload: [1; 8] })),
    ];
    for (name, frame) in cases {
        let wire = many(frame, 100);
        group.throughput(Throughput::Elements(100));
        group.bench_function(name, |b| b.iter(|| decode_all(&wire, 1 << 14)));
    }
    group.finish();
}

fn frame_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame/encode");
    let data = Data::new(StreamId(1), Bytes::from(vec![7u8; 16_384]), false);
    let settings = Settings::new().with(h2proto::frame::SettingId::INITIAL_WINDOW_SIZE, 1 << 20);
    let mut dst = BytesMut::with_capacity(1 << 16);
    group.bench_function("data_head", |b| {
        b.iter(|| {
            dst.clear();
            black_box(&data).encode_head(&mut dst);
        })
    });
    group.bench_function("settings", |b| {
        b.iter(|| {
            dst.clear();
            black_box(&settings).encode(&mut dst);
        })
    });
    group.finish();
}

criterion_group!(benches, header_decode, frame_decode, frame_encode);
criterion_main!(benches);
