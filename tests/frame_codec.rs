//! Frame codec properties: every frame type round-trips, any chunking gives the same
//! frames, DATA is never copied, and no byte sequence makes the decoder panic.

use bytes::{Bytes, BytesMut};
use h2proto::ErrorCode;
use h2proto::frame::*;
use proptest::prelude::*;

fn stream_id() -> impl Strategy<Value = StreamId> {
    (1u32..=StreamId::MAX.0).prop_map(StreamId)
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn priority_spec(not: StreamId) -> impl Strategy<Value = PrioritySpec> {
    (0..=StreamId::MAX.0, any::<bool>(), 1u16..=256)
        .prop_filter("no self-dependency", move |(d, _, _)| *d != not.0)
        .prop_map(|(d, exclusive, weight)| PrioritySpec {
            dependency: StreamId(d),
            exclusive,
            weight,
        })
}

fn setting() -> impl Strategy<Value = Setting> {
    prop_oneof![
        (0u32..=1).prop_map(|v| (SettingId::ENABLE_PUSH, v)),
        (0u32..=MAX_WINDOW_SIZE).prop_map(|v| (SettingId::INITIAL_WINDOW_SIZE, v)),
        (DEFAULT_MAX_FRAME_SIZE..=MAX_FRAME_SIZE_LIMIT)
            .prop_map(|v| (SettingId::MAX_FRAME_SIZE, v)),
        any::<u32>().prop_map(|v| (SettingId::HEADER_TABLE_SIZE, v)),
        any::<u32>().prop_map(|v| (SettingId::MAX_CONCURRENT_STREAMS, v)),
        (10u16..).prop_flat_map(|id| any::<u32>().prop_map(move |v| (SettingId(id), v))),
    ]
    .prop_map(|(id, value)| Setting { id, value })
}

/// Any valid frame.
fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        (stream_id(), bytes(300), any::<bool>(), proptest::option::of(any::<u8>())).prop_map(
            |(stream_id, data, end_stream, pad_len)| Frame::Data(Data {
                stream_id,
                data,
                end_stream,
                pad_len
            })
        ),
        stream_id()
            .prop_flat_map(|id| (
                Just(id),
                bytes(300),
                any::<bool>(),
                any::<bool>(),
                proptest::option::of(priority_spec(id)),
                proptest::option::of(any::<u8>()),
            ))
            .prop_map(|(stream_id, fragment, end_stream, end_headers, priority, pad_len)| {
                Frame::Headers(Headers {
                    stream_id,
                    fragment,
                    end_stream,
                    end_headers,
                    priority,
                    pad_len,
                })
            }),
        stream_id()
            .prop_flat_map(|id| (Just(id), priority_spec(id)))
            .prop_map(|(stream_id, spec)| Frame::Priority(Priority { stream_id, spec })),
        (stream_id(), any::<u32>())
            .prop_map(|(id, c)| Frame::RstStream(RstStream::new(id, ErrorCode(c)))),
        proptest::collection::vec(setting(), 0..12).prop_map(|entries| Frame::Settings(Settings {
            ack: false,
            entries: entries.into_iter().collect()
        })),
        Just(Frame::Settings(Settings::ack())),
        (stream_id(), stream_id(), bytes(300), any::<bool>(), proptest::option::of(any::<u8>()))
            .prop_map(|(stream_id, promised_id, fragment, end_headers, pad_len)| {
                Frame::PushPromise(PushPromise {
                    stream_id,
                    promised_id,
                    fragment,
                    end_headers,
                    pad_len,
                })
            }),
        (any::<bool>(), any::<[u8; 8]>())
            .prop_map(|(ack, payload)| Frame::Ping(Ping { ack, payload })),
        (0..=StreamId::MAX.0, any::<u32>(), bytes(100)).prop_map(|(last, code, debug_data)| {
            Frame::GoAway(GoAway {
                last_stream_id: StreamId(last),
                error_code: ErrorCode(code),
                debug_data,
            })
        }),
        (0..=StreamId::MAX.0, 1..=MAX_WINDOW_SIZE)
            .prop_map(|(id, inc)| Frame::WindowUpdate(WindowUpdate::new(StreamId(id), inc))),
        (stream_id(), bytes(300), any::<bool>()).prop_map(|(stream_id, fragment, end_headers)| {
            Frame::Continuation(Continuation { stream_id, fragment, end_headers })
        }),
        (stream_id(), bytes(40)).prop_map(|(prioritized_stream_id, field_value)| {
            Frame::PriorityUpdate(PriorityUpdate { prioritized_stream_id, field_value })
        }),
        (0x11u8.., any::<u8>(), 0..=StreamId::MAX.0, bytes(100)).prop_map(
            |(kind, flags, id, payload)| {
                Frame::Unknown(Unknown {
                    kind: FrameType(kind),
                    flags,
                    stream_id: StreamId(id),
                    payload,
                })
            }
        ),
    ]
}

fn encode_all(frames: &[Frame]) -> Bytes {
    let mut wire = BytesMut::new();
    for f in frames {
        f.encode(&mut wire);
    }
    wire.freeze()
}

fn decode_chunked(wire: &Bytes, cuts: &[usize]) -> Vec<Frame> {
    let mut decoder = FrameDecoder::new();
    let mut out = Vec::new();
    let mut at = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.sort_unstable();
    points.push(wire.len());
    for end in points {
        decoder.push(wire.slice(at..end));
        at = end;
        while let Some(frame) = decoder.next_frame().expect("valid frames") {
            out.push(frame);
        }
    }
    assert_eq!(decoder.buffered(), 0);
    out
}

proptest! {
    #[test]
    fn every_frame_type_round_trips(frames in proptest::collection::vec(frame(), 1..8)) {
        let wire = encode_all(&frames);
        prop_assert_eq!(decode_chunked(&wire, &[]), frames);
    }

    #[test]
    fn any_chunking_gives_the_same_frames(
        frames in proptest::collection::vec(frame(), 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let wire = encode_all(&frames);
        prop_assert_eq!(decode_chunked(&wire, &cuts), frames);
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..2048), max in 0u32..40_000) {
        let mut decoder = FrameDecoder::new();
        decoder.set_max_frame_size(max);
        decoder.extend(&input);
        // Stream errors leave the decoder usable; keep going until input or trust runs out.
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    // Whatever decodes re-encodes to a frame that decodes to the same value.
                    let wire = encode_all(std::slice::from_ref(&frame));
                    let mut again = FrameDecoder::new();
                    again.set_max_frame_size(MAX_FRAME_SIZE_LIMIT);
                    again.push(wire);
                    prop_assert_eq!(again.next_frame().unwrap(), Some(frame));
                }
                Ok(None) => break,
                Err(e) if e.is_connection_error() => break,
                Err(_) => continue,
            }
        }
    }

    #[test]
    fn split_headers_reassemble(fragment in bytes(3000), max in 16u32..600) {
        let headers = Headers::new(StreamId(1), fragment.clone(), true);
        let mut wire = BytesMut::new();
        headers.encode_split(max, &mut wire);
        let frames = decode_chunked(&wire.freeze(), &[]);
        let mut joined = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let last = i == frames.len() - 1;
            match (i, f) {
                (0, Frame::Headers(h)) => { prop_assert_eq!(h.end_headers, last); joined.extend_from_slice(&h.fragment) }
                (_, Frame::Continuation(c)) if i > 0 => { prop_assert_eq!(c.end_headers, last); joined.extend_from_slice(&c.fragment) }
                other => prop_assert!(false, "unexpected frame {:?}", other),
            }
            prop_assert!(f.kind() == FrameType::HEADERS || f.kind() == FrameType::CONTINUATION);
        }
        prop_assert_eq!(&joined[..], &fragment[..]);
    }
}

/// The core's contract 4 (h2proto crate docs): a DATA payload is a view of the input, not a copy.
#[test]
fn data_payload_is_a_slice_of_the_input() {
    let mut wire = BytesMut::new();
    Data::new(StreamId(1), vec![42u8; 10_000], false).encode(&mut wire);
    Data::new(StreamId(3), vec![43u8; 5_000], true).encode(&mut wire);
    let wire = wire.freeze();
    let range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
    let mut decoder = FrameDecoder::new();
    decoder.push(wire.clone());
    for _ in 0..2 {
        let Some(Frame::Data(data)) = decoder.next_frame().unwrap() else { panic!("not DATA") };
        assert!(range.contains(&(data.data.as_ptr() as usize)), "payload was copied");
    }
}

/// A frame split across two chunks is reassembled; the following whole frame is sliced.
#[test]
fn straddling_frame_is_buffered_and_the_rest_is_sliced() {
    let mut wire = BytesMut::new();
    Ping { ack: false, payload: [1; 8] }.encode(&mut wire);
    Data::new(StreamId(1), vec![1u8; 100], false).encode(&mut wire);
    let wire = wire.freeze();
    let mut decoder = FrameDecoder::new();
    decoder.push(wire.slice(..5));
    assert_eq!(decoder.next_frame().unwrap(), None);
    let second = wire.slice(5..);
    let range = second.as_ptr() as usize..second.as_ptr() as usize + second.len();
    decoder.push(second);
    assert!(matches!(decoder.next_frame().unwrap(), Some(Frame::Ping(_))));
    let Some(Frame::Data(data)) = decoder.next_frame().unwrap() else { panic!("not DATA") };
    assert!(range.contains(&(data.data.as_ptr() as usize)));
    assert_eq!(decoder.next_frame().unwrap(), None);
}

/// An oversized frame is refused from its header alone: nothing of the payload is buffered.
#[test]
fn oversized_frame_is_refused_before_buffering() {
    let mut decoder = FrameDecoder::new();
    decoder.extend(&[0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1]);
    assert_eq!(decoder.next_frame().unwrap_err().code, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn raw_frame_from_frame_allows_tampering() {
    let raw = RawFrame::from_frame(&Frame::Ping(Ping { ack: false, payload: [5; 8] })).stream(1);
    let mut decoder = FrameDecoder::new();
    decoder.push(raw.to_bytes());
    assert_eq!(decoder.next_frame().unwrap_err().code, ErrorCode::PROTOCOL_ERROR);
    let short = RawFrame::new(FrameType::DATA, 1).payload(b"abc").declared_length(5).to_bytes();
    assert_eq!(&short[..3], &[0, 0, 5]);
    assert_eq!(short.len(), 12);
}
