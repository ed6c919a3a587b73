//! Every per-frame rule of RFC 9113 §4 and §6 (and RFC 9218 §7.1), one test each, named by
//! section: the frame goes in as raw bytes, the exact error code and scope come out.

use bytes::Bytes;
use h2proto::frame::{Frame, FrameDecoder, FrameType, RawFrame, SettingId, flags};
use h2proto::{ErrorCode, ProtocolError, Scope, StreamId};

fn decode(raw: RawFrame) -> Result<Frame, ProtocolError> {
    let mut decoder = FrameDecoder::new();
    decoder.push(raw.to_bytes());
    decoder.next_frame().map(|f| f.expect("a whole frame"))
}

#[track_caller]
fn connection_error(raw: RawFrame, code: ErrorCode) {
    let err = decode(raw).expect_err("the frame must be rejected");
    assert_eq!((err.scope, err.code), (Scope::Connection, code), "{err}");
}

#[track_caller]
fn stream_error(raw: RawFrame, stream: u32, code: ErrorCode) {
    let err = decode(raw).expect_err("the frame must be rejected");
    assert_eq!((err.scope, err.code), (Scope::Stream(StreamId(stream)), code), "{err}");
}

fn setting(id: u16, value: u32) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&value.to_be_bytes());
    v
}

// §4.1: the reserved bit of the stream identifier MUST be ignored on receipt.
#[test]
fn rfc9113_4_1_reserved_bit_is_ignored() {
    let frame = decode(RawFrame::new(FrameType::DATA, 3).reserved_bit().payload(b"x")).unwrap();
    assert_eq!(frame.stream_id(), StreamId(3));
}

// §4.1: flags a frame type does not define MUST be ignored.
#[test]
fn rfc9113_4_1_undefined_flags_are_ignored() {
    let frame = decode(RawFrame::new(FrameType::PING, 0).flags(0xfe).payload([1u8; 8])).unwrap();
    assert!(matches!(frame, Frame::Ping(p) if !p.ack && p.payload == [1u8; 8]));
}

// §4.2: a frame over SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR, judged from the header
// alone, before the payload arrives.
#[test]
fn rfc9113_4_2_frame_over_max_frame_size_is_frame_size_error() {
    let mut decoder = FrameDecoder::new();
    decoder.push(Bytes::from_static(&[0x00, 0x40, 0x01, 0x0, 0x0, 0, 0, 0, 1]));
    let err = decoder.next_frame().unwrap_err();
    assert_eq!((err.scope, err.code), (Scope::Connection, ErrorCode::FRAME_SIZE_ERROR));
}

#[test]
fn rfc9113_4_2_max_frame_size_is_configurable() {
    let payload = vec![7u8; 20_000];
    let raw = RawFrame::new(FrameType::DATA, 1).payload(&payload);
    let mut decoder = FrameDecoder::new();
    decoder.set_max_frame_size(1 << 15);
    decoder.push(raw.to_bytes());
    let frame = decoder.next_frame().unwrap().unwrap();
    assert!(matches!(frame, Frame::Data(d) if d.data.len() == 20_000));
}

// §6.1: DATA frames MUST be associated with a stream.
#[test]
fn rfc9113_6_1_data_on_stream_0_is_protocol_error() {
    connection_error(RawFrame::new(FrameType::DATA, 0).payload(b"hi"), ErrorCode::PROTOCOL_ERROR);
}

// §6.1: padding as long as the payload or longer is a PROTOCOL_ERROR.
#[test]
fn rfc9113_6_1_data_padding_too_long_is_protocol_error() {
    let raw = RawFrame::new(FrameType::DATA, 1).flags(flags::PADDED).payload([4u8, 0, 0, 0]);
    connection_error(raw, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_6_1_data_padding_filling_the_payload_is_valid() {
    let raw = RawFrame::new(FrameType::DATA, 1).flags(flags::PADDED).payload([3u8, 0, 0, 0]);
    let Frame::Data(data) = decode(raw).unwrap() else { panic!("not DATA") };
    assert!(data.data.is_empty());
    assert_eq!(data.flow_controlled_len(), 4, "padding counts against flow control");
}

// §4.2: a PADDED frame without room for the Pad Length field is too small.
#[test]
fn rfc9113_6_1_padded_data_without_pad_length_is_frame_size_error() {
    connection_error(
        RawFrame::new(FrameType::DATA, 1).flags(flags::PADDED),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

// §6.2: HEADERS frames MUST be associated with a stream.
#[test]
fn rfc9113_6_2_headers_on_stream_0_is_protocol_error() {
    let raw = RawFrame::new(FrameType::HEADERS, 0).flags(flags::END_HEADERS).payload([0x82]);
    connection_error(raw, ErrorCode::PROTOCOL_ERROR);
}

// §6.2: padding as long as the payload or longer is a PROTOCOL_ERROR.
#[test]
fn rfc9113_6_2_headers_padding_too_long_is_protocol_error() {
    let raw = RawFrame::new(FrameType::HEADERS, 1)
        .flags(flags::PADDED | flags::END_HEADERS)
        .payload([2u8, 0x82]);
    connection_error(raw, ErrorCode::PROTOCOL_ERROR);
}

// §6.2: padding may not eat into the priority fields.
#[test]
fn rfc9113_6_2_headers_padding_over_priority_fields_is_protocol_error() {
    let raw = RawFrame::new(FrameType::HEADERS, 1)
        .flags(flags::PADDED | flags::PRIORITY | flags::END_HEADERS)
        .payload([3u8, 0, 0, 0, 0, 15]);
    connection_error(raw, ErrorCode::PROTOCOL_ERROR);
}

// §4.2: a HEADERS frame with PRIORITY set but fewer than 5 bytes is too small.
#[test]
fn rfc9113_6_2_headers_too_short_for_priority_is_frame_size_error() {
    let raw = RawFrame::new(FrameType::HEADERS, 1)
        .flags(flags::PRIORITY | flags::END_HEADERS)
        .payload([0, 0, 0]);
    connection_error(raw, ErrorCode::FRAME_SIZE_ERROR);
}

// §5.3.1: a stream cannot depend on itself: a stream error of type PROTOCOL_ERROR.
#[test]
fn rfc9113_5_3_1_headers_depending_on_itself_is_stream_error() {
    let raw = RawFrame::new(FrameType::HEADERS, 3)
        .flags(flags::PRIORITY | flags::END_HEADERS)
        .payload([0, 0, 0, 3, 15, 0x82]);
    stream_error(raw, 3, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9113_6_2_headers_priority_fields_are_parsed() {
    let raw = RawFrame::new(FrameType::HEADERS, 3)
        .flags(flags::PRIORITY | flags::END_HEADERS | flags::END_STREAM | flags::PADDED)
        .payload([2, 0x80, 0, 0, 1, 255, 0x82, 0, 0]);
    let Frame::Headers(h) = decode(raw).unwrap() else { panic!("not HEADERS") };
    let spec = h.priority.unwrap();
    assert_eq!((spec.dependency, spec.exclusive, spec.weight), (StreamId(1), true, 256));
    assert_eq!(
        (&h.fragment[..], h.end_stream, h.end_headers, h.pad_len),
        (&[0x82][..], true, true, Some(2))
    );
}

// §6.3: PRIORITY frames MUST be associated with a stream.
#[test]
fn rfc9113_6_3_priority_on_stream_0_is_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::PRIORITY, 0).payload([0, 0, 0, 1, 0]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// §6.3: a PRIORITY frame of a length other than 5 is a *stream* error FRAME_SIZE_ERROR.
#[test]
fn rfc9113_6_3_priority_wrong_length_is_stream_frame_size_error() {
    stream_error(
        RawFrame::new(FrameType::PRIORITY, 5).payload([0, 0, 0, 1]),
        5,
        ErrorCode::FRAME_SIZE_ERROR,
    );
    stream_error(
        RawFrame::new(FrameType::PRIORITY, 5).payload([0; 6]),
        5,
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

// §5.3.1: PRIORITY making a stream depend on itself is a stream error.
#[test]
fn rfc9113_5_3_1_priority_depending_on_itself_is_stream_error() {
    stream_error(
        RawFrame::new(FrameType::PRIORITY, 7).payload([0, 0, 0, 7, 0]),
        7,
        ErrorCode::PROTOCOL_ERROR,
    );
}

// A stream error leaves the decoder usable: the next frame decodes.
#[test]
fn rfc9113_5_4_2_decoding_goes_on_after_a_stream_error() {
    let mut decoder = FrameDecoder::new();
    decoder.push(RawFrame::new(FrameType::PRIORITY, 5).payload([0, 0]).to_bytes());
    decoder.push(RawFrame::new(FrameType::PING, 0).payload([9; 8]).to_bytes());
    assert!(decoder.next_frame().is_err());
    assert!(matches!(decoder.next_frame(), Ok(Some(Frame::Ping(_)))));
}

// §6.4: RST_STREAM frames MUST be associated with a stream.
#[test]
fn rfc9113_6_4_rst_stream_on_stream_0_is_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::RST_STREAM, 0).payload([0, 0, 0, 8]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// §6.4: a RST_STREAM of a length other than 4 is a connection FRAME_SIZE_ERROR.
#[test]
fn rfc9113_6_4_rst_stream_wrong_length_is_frame_size_error() {
    connection_error(
        RawFrame::new(FrameType::RST_STREAM, 1).payload([0, 0, 8]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    connection_error(
        RawFrame::new(FrameType::RST_STREAM, 1).payload([0; 5]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

// §6.5: SETTINGS frames apply to the connection; a stream identifier is a PROTOCOL_ERROR.
#[test]
fn rfc9113_6_5_settings_on_a_stream_is_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::SETTINGS, 1).payload(setting(3, 100)),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// §6.5: an ACK with a payload is a FRAME_SIZE_ERROR.
#[test]
fn rfc9113_6_5_settings_ack_with_payload_is_frame_size_error() {
    let raw = RawFrame::new(FrameType::SETTINGS, 0).flags(flags::ACK).payload(setting(3, 100));
    connection_error(raw, ErrorCode::FRAME_SIZE_ERROR);
}

// §6.5: a length that is not a multiple of 6 is a FRAME_SIZE_ERROR.
#[test]
fn rfc9113_6_5_settings_length_not_multiple_of_6_is_frame_size_error() {
    connection_error(
        RawFrame::new(FrameType::SETTINGS, 0).payload([0, 3, 0, 0, 0]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

// §6.5.2: SETTINGS_ENABLE_PUSH other than 0 or 1 is a PROTOCOL_ERROR.
#[test]
fn rfc9113_6_5_2_enable_push_above_1_is_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::SETTINGS, 0).payload(setting(2, 2)),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// §6.5.2: SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 is a FLOW_CONTROL_ERROR.
#[test]
fn rfc9113_6_5_2_initial_window_size_above_max_is_flow_control_error() {
    connection_error(
        RawFrame::new(FrameType::SETTINGS, 0).payload(setting(4, 1 << 31)),
        ErrorCode::FLOW_CONTROL_ERROR,
    );
    assert!(
        decode(RawFrame::new(FrameType::SETTINGS, 0).payload(setting(4, (1 << 31) - 1))).is_ok()
    );
}

// §6.5.2: SETTINGS_MAX_FRAME_SIZE outside 2^14..=2^24-1 is a PROTOCOL_ERROR.
#[test]
fn rfc9113_6_5_2_max_frame_size_out_of_range_is_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::SETTINGS, 0).payload(setting(5, (1 << 14) - 1)),
        ErrorCode::PROTOCOL_ERROR,
    );
    connection_error(
        RawFrame::new(FrameType::SETTINGS, 0).payload(setting(5, 1 << 24)),
        ErrorCode::PROTOCOL_ERROR,
    );
    assert!(decode(RawFrame::new(FrameType::SETTINGS, 0).payload(setting(5, 1 << 14))).is_ok());
    assert!(
        decode(RawFrame::new(FrameType::SETTINGS, 0).payload(setting(5, (1 << 24) - 1))).is_ok()
    );
}

// RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL MUST be 0 or 1.
#[test]
fn rfc8441_3_enable_connect_protocol_above_1_is_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::SETTINGS, 0).payload(setting(8, 2)),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// RFC 9218 §2.1: SETTINGS_NO_RFC7540_PRIORITIES other than 0 or 1 is a PROTOCOL_ERROR.
#[test]
fn rfc9218_2_1_no_rfc7540_priorities_above_1_is_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::SETTINGS, 0).payload(setting(9, 2)),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// §6.5.2: unknown settings MUST be ignored (kept, so callers can see them); §6.5.3: the
// last value of a repeated setting wins.
#[test]
fn rfc9113_6_5_2_unknown_settings_are_kept_and_last_value_wins() {
    let mut payload = setting(0xabcd, 77);
    payload.extend(setting(3, 10));
    payload.extend(setting(3, 20));
    let Frame::Settings(s) =
        decode(RawFrame::new(FrameType::SETTINGS, 0).payload(payload)).unwrap()
    else {
        panic!("not SETTINGS")
    };
    assert_eq!(s.get(SettingId(0xabcd)), Some(77));
    assert_eq!(s.get(SettingId::MAX_CONCURRENT_STREAMS), Some(20));
    assert_eq!(s.entries.len(), 3);
}

// §6.6: PUSH_PROMISE MUST be associated with a stream.
#[test]
fn rfc9113_6_6_push_promise_on_stream_0_is_protocol_error() {
    let raw = RawFrame::new(FrameType::PUSH_PROMISE, 0)
        .flags(flags::END_HEADERS)
        .payload([0, 0, 0, 2, 0x82]);
    connection_error(raw, ErrorCode::PROTOCOL_ERROR);
}

// §6.6: padding over the promised stream id or longer than the payload.
#[test]
fn rfc9113_6_6_push_promise_padding_too_long_is_protocol_error() {
    let raw = RawFrame::new(FrameType::PUSH_PROMISE, 1)
        .flags(flags::END_HEADERS | flags::PADDED)
        .payload([2, 0, 0, 0, 2, 0x82]);
    connection_error(raw, ErrorCode::PROTOCOL_ERROR);
}

// §4.2: a PUSH_PROMISE too short for the Promised Stream ID.
#[test]
fn rfc9113_6_6_push_promise_too_short_is_frame_size_error() {
    let raw =
        RawFrame::new(FrameType::PUSH_PROMISE, 1).flags(flags::END_HEADERS).payload([0, 0, 2]);
    connection_error(raw, ErrorCode::FRAME_SIZE_ERROR);
}

// §6.7: PING on a stream is a PROTOCOL_ERROR.
#[test]
fn rfc9113_6_7_ping_on_a_stream_is_protocol_error() {
    connection_error(RawFrame::new(FrameType::PING, 1).payload([0; 8]), ErrorCode::PROTOCOL_ERROR);
}

// §6.7: a PING of a length other than 8 is a FRAME_SIZE_ERROR.
#[test]
fn rfc9113_6_7_ping_wrong_length_is_frame_size_error() {
    connection_error(
        RawFrame::new(FrameType::PING, 0).payload([0; 7]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    connection_error(
        RawFrame::new(FrameType::PING, 0).payload([0; 9]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

// §6.8: GOAWAY on a stream is a PROTOCOL_ERROR.
#[test]
fn rfc9113_6_8_goaway_on_a_stream_is_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::GOAWAY, 1).payload([0; 8]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// §4.2: a GOAWAY shorter than its 8 mandatory bytes is a FRAME_SIZE_ERROR.
#[test]
fn rfc9113_6_8_goaway_too_short_is_frame_size_error() {
    connection_error(
        RawFrame::new(FrameType::GOAWAY, 0).payload([0; 7]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn rfc9113_6_8_goaway_fields_and_debug_data() {
    let raw = RawFrame::new(FrameType::GOAWAY, 0)
        .payload([0x80, 0, 0, 5, 0, 0, 0, 0xb, b'c', b'a', b'l', b'm']);
    let Frame::GoAway(g) = decode(raw).unwrap() else { panic!("not GOAWAY") };
    assert_eq!(g.last_stream_id, StreamId(5), "the reserved bit is ignored");
    assert_eq!(g.error_code, ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(&g.debug_data[..], b"calm");
}

// §6.9: a WINDOW_UPDATE of a length other than 4 is a FRAME_SIZE_ERROR.
#[test]
fn rfc9113_6_9_window_update_wrong_length_is_frame_size_error() {
    connection_error(
        RawFrame::new(FrameType::WINDOW_UPDATE, 0).payload([0, 0, 1]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    connection_error(
        RawFrame::new(FrameType::WINDOW_UPDATE, 1).payload([0, 0, 0, 0, 1]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

// §6.9: a zero increment is a stream error on a stream, a connection error on stream 0.
#[test]
fn rfc9113_6_9_zero_increment_on_stream_is_stream_protocol_error() {
    stream_error(
        RawFrame::new(FrameType::WINDOW_UPDATE, 1).payload([0; 4]),
        1,
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn rfc9113_6_9_zero_increment_on_connection_is_connection_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::WINDOW_UPDATE, 0).payload([0; 4]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// §6.9: the reserved bit of the increment is ignored; only the bit set is zero increment.
#[test]
fn rfc9113_6_9_reserved_bit_of_increment_is_ignored() {
    connection_error(
        RawFrame::new(FrameType::WINDOW_UPDATE, 0).payload([0x80, 0, 0, 0]),
        ErrorCode::PROTOCOL_ERROR,
    );
    let raw = RawFrame::new(FrameType::WINDOW_UPDATE, 0).payload([0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(decode(raw).unwrap(), Frame::WindowUpdate(w) if w.increment == (1 << 31) - 1));
}

// §6.10: CONTINUATION MUST be associated with a stream.
#[test]
fn rfc9113_6_10_continuation_on_stream_0_is_protocol_error() {
    let raw = RawFrame::new(FrameType::CONTINUATION, 0).flags(flags::END_HEADERS).payload([0x82]);
    connection_error(raw, ErrorCode::PROTOCOL_ERROR);
}

// RFC 9218 §7.1: PRIORITY_UPDATE's own stream id MUST be zero.
#[test]
fn rfc9218_7_1_priority_update_on_a_stream_is_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::PRIORITY_UPDATE, 1).payload([0, 0, 0, 1, b'u', b'=', b'0']),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// RFC 9218 §7.1: a prioritized stream id of 0 is a PROTOCOL_ERROR.
#[test]
fn rfc9218_7_1_priority_update_for_stream_0_is_protocol_error() {
    connection_error(
        RawFrame::new(FrameType::PRIORITY_UPDATE, 0).payload([0, 0, 0, 0, b'u', b'=', b'0']),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn rfc9218_7_1_priority_update_too_short_is_frame_size_error() {
    connection_error(
        RawFrame::new(FrameType::PRIORITY_UPDATE, 0).payload([0, 0, 1]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

// §5.5: frames of unknown types are kept whole for the caller to ignore or use.
#[test]
fn rfc9113_5_5_unknown_frame_types_are_kept() {
    let raw = RawFrame::new(FrameType(0xfa), 0x8000_0003).flags(0x5a).payload(b"ext");
    let Frame::Unknown(u) = decode(raw).unwrap() else { panic!("not Unknown") };
    assert_eq!(
        (u.kind, u.flags, u.stream_id, &u.payload[..]),
        (FrameType(0xfa), 0x5a, StreamId(3), &b"ext"[..])
    );
}
