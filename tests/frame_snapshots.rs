//! Snapshots of the wire encoding of a representative frame of each type, laid out as
//! header fields and payload hex, so a change in any byte shows in review.

use bytes::BytesMut;
use h2proto::ErrorCode;
use h2proto::frame::*;
use std::fmt::Write;

fn wire(frame: impl Into<Frame>) -> String {
    let mut out = BytesMut::new();
    frame.into().encode(&mut out);
    let head = FrameHeader::decode(out[..HEADER_LEN].try_into().unwrap());
    let mut text = format!(
        "header  {}\nlength={} type={:?} flags={:#04x} stream={}\npayload",
        hex(&out[..HEADER_LEN]),
        head.length,
        head.kind,
        head.flags,
        head.stream_id
    );
    for line in out[HEADER_LEN..].chunks(16) {
        write!(text, "\n  {}", hex(line)).unwrap();
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

#[test]
fn data() {
    insta::assert_snapshot!(wire(Data::new(StreamId(1), &b"hello"[..], true)));
}

#[test]
fn data_padded() {
    insta::assert_snapshot!(wire(Data {
        stream_id: StreamId(3),
        data: "hi".into(),
        end_stream: false,
        pad_len: Some(3)
    }));
}

#[test]
fn headers_with_priority_and_padding() {
    insta::assert_snapshot!(wire(Headers {
        stream_id: StreamId(5),
        fragment: vec![0x82, 0x86, 0x84].into(),
        end_stream: true,
        end_headers: true,
        priority: Some(PrioritySpec { dependency: StreamId(3), exclusive: true, weight: 16 }),
        pad_len: Some(2),
    }));
}

#[test]
fn priority() {
    insta::assert_snapshot!(wire(Priority {
        stream_id: StreamId(7),
        spec: PrioritySpec { dependency: StreamId(0), exclusive: false, weight: 256 },
    }));
}

#[test]
fn rst_stream() {
    insta::assert_snapshot!(wire(RstStream::new(StreamId(1), ErrorCode::CANCEL)));
}

#[test]
fn settings() {
    insta::assert_snapshot!(wire(
        Settings::new()
            .with(SettingId::HEADER_TABLE_SIZE, 4096)
            .with(SettingId::ENABLE_PUSH, 0)
            .with(SettingId::MAX_CONCURRENT_STREAMS, 100)
            .with(SettingId::INITIAL_WINDOW_SIZE, 1 << 20)
    ));
}

#[test]
fn settings_ack() {
    insta::assert_snapshot!(wire(Settings::ack()));
}

#[test]
fn push_promise() {
    insta::assert_snapshot!(wire(PushPromise {
        stream_id: StreamId(1),
        promised_id: StreamId(2),
        fragment: vec![0x82, 0x87].into(),
        end_headers: true,
        pad_len: None,
    }));
}

#[test]
fn ping_ack() {
    insta::assert_snapshot!(wire(Ping { ack: true, payload: *b"01234567" }));
}

#[test]
fn goaway() {
    insta::assert_snapshot!(wire(GoAway {
        last_stream_id: StreamId(9),
        error_code: ErrorCode::ENHANCE_YOUR_CALM,
        debug_data: "rapid reset".into(),
    }));
}

#[test]
fn window_update() {
    insta::assert_snapshot!(wire(WindowUpdate::new(StreamId(0), (1 << 31) - 1)));
}

#[test]
fn continuation() {
    insta::assert_snapshot!(wire(Continuation {
        stream_id: StreamId(1),
        fragment: vec![0x84].into(),
        end_headers: true
    }));
}

#[test]
fn priority_update() {
    insta::assert_snapshot!(wire(PriorityUpdate {
        prioritized_stream_id: StreamId(3),
        field_value: "u=1, i".into()
    }));
}

#[test]
fn unknown() {
    insta::assert_snapshot!(wire(Unknown {
        kind: FrameType(0xbb),
        flags: 0x7,
        stream_id: StreamId(11),
        payload: "ext".into()
    }));
}

#[test]
fn headers_split_into_continuations() {
    let mut out = BytesMut::new();
    Headers::new(StreamId(1), vec![0xaa; 40], false).encode_split(16, &mut out);
    insta::assert_snapshot!(hex(&out));
}
