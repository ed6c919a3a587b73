//! Properties of the connection core over generated input:
//! - the same bytes in any chunking give the same events and the same output;
//! - arbitrary frame sequences (after a valid preface) never panic, on either role, and
//!   the windows stay within [-2^31, 2^31-1];
//! - arbitrary command sequences on a client/server pair never panic and keep the pair
//!   consistent.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{
    Continuation, Data, Frame, GoAway, Headers, Ping, Priority, PrioritySpec, PriorityUpdate,
    RstStream, SettingId, Settings, StreamId, WindowUpdate,
};
use h2proto::hpack::{Encoder, FieldRef};
use h2proto::{Config, Connection, ErrorCode, PREFACE, buf_to_vec};
use proptest::prelude::*;
use std::time::{Duration, Instant};
use support::Pair;

/// Stream ids from a small set, so frames meet the same streams.
fn sid() -> impl Strategy<Value = StreamId> {
    prop_oneof![Just(0u32), 1u32..12, Just(101u32)].prop_map(StreamId)
}

fn field_block() -> impl Strategy<Value = Vec<(String, String)>> {
    let request = Just(vec![
        (":method".to_string(), "GET".to_string()),
        (":scheme".to_string(), "https".to_string()),
        (":authority".to_string(), "example.com".to_string()),
        (":path".to_string(), "/".to_string()),
    ]);
    let response = Just(vec![(":status".to_string(), "200".to_string())]);
    let random = proptest::collection::vec(("[a-z:]{1,8}", "[ -~]{0,12}"), 0..5);
    prop_oneof![3 => request, 2 => response, 1 => random]
}

/// A frame to send, with its field block (if any) still to be HPACK-encoded in order.
#[derive(Debug, Clone)]
enum Step {
    Headers { id: StreamId, fields: Vec<(String, String)>, end_stream: bool, end_headers: bool },
    Continuation { id: StreamId, fields: Vec<(String, String)>, end_headers: bool },
    Frame(Frame),
    Garbage(Vec<u8>),
    Advance(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (sid(), field_block(), any::<bool>(), prop::bool::weighted(0.9))
            .prop_map(|(id, fields, end_stream, end_headers)| Step::Headers { id, fields, end_stream, end_headers }),
        1 => (sid(), field_block(), any::<bool>())
            .prop_map(|(id, fields, end_headers)| Step::Continuation { id, fields, end_headers }),
        4 => (sid(), proptest::collection::vec(any::<u8>(), 0..3000), any::<bool>())
            .prop_map(|(id, body, end)| Step::Frame(Frame::Data(Data::new(id, body, end)))),
        2 => (sid(), 1u32..=0x7fff_ffff)
            .prop_map(|(id, inc)| Step::Frame(Frame::WindowUpdate(WindowUpdate::new(id, inc)))),
        1 => (sid(), 0u32..14).prop_map(|(id, c)| Step::Frame(Frame::RstStream(RstStream::new(id, ErrorCode(c))))),
        1 => (any::<bool>(), any::<[u8; 8]>()).prop_map(|(ack, payload)| Step::Frame(Frame::Ping(Ping { ack, payload }))),
        1 => proptest::collection::vec((1u16..10, any::<u32>()), 0..4).prop_map(|entries| {
            let mut s = Settings::new();
            for (id, value) in entries {
                let id = SettingId(id);
                if id.validate(value).is_ok() {
                    s = s.with(id, value);
                }
            }
            Step::Frame(Frame::Settings(s))
        }),
        1 => Just(Step::Frame(Frame::Settings(Settings::ack()))),
        1 => (sid(), sid(), 1u16..=256).prop_filter("no self-dependency", |(a, b, _)| a != b && !a.is_zero()).prop_map(|(id, dep, weight)| {
            Step::Frame(Frame::Priority(Priority { stream_id: id, spec: PrioritySpec { dependency: dep, exclusive: false, weight } }))
        }),
        1 => (1u32..12, "[ui=0-9,?]{0,8}").prop_map(|(id, v)| {
            Step::Frame(Frame::PriorityUpdate(PriorityUpdate { prioritized_stream_id: StreamId(id), field_value: Bytes::from(v) }))
        }),
        1 => (0u32..12, 0u32..14).prop_map(|(last, code)| Step::Frame(Frame::GoAway(GoAway::new(StreamId(last), ErrorCode(code))))),
        1 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(Step::Garbage),
        1 => (0u64..20_000).prop_map(Step::Advance),
    ]
}

/// Encodes steps into bytes (HPACK blocks in order) plus the clock advances between them.
fn encode(steps: &[Step]) -> Vec<(Bytes, u64)> {
    let mut encoder = Encoder::new();
    let mut out = Vec::new();
    let block = |encoder: &mut Encoder, fields: &[(String, String)]| {
        let mut dst = BytesMut::new();
        encoder.encode(
            fields.iter().map(|(n, v)| FieldRef::new(n.as_bytes(), v.as_bytes())),
            &mut dst,
        );
        dst.freeze()
    };
    for step in steps {
        let mut wire = BytesMut::new();
        match step {
            Step::Headers { id, fields, end_stream, end_headers } => {
                if id.is_zero() {
                    continue;
                }
                let mut h = Headers::new(*id, block(&mut encoder, fields), *end_stream);
                h.end_headers = *end_headers;
                h.encode(&mut wire);
            }
            Step::Continuation { id, fields, end_headers } => {
                if id.is_zero() {
                    continue;
                }
                Continuation {
                    stream_id: *id,
                    fragment: block(&mut encoder, fields),
                    end_headers: *end_headers,
                }
                .encode(&mut wire);
            }
            Step::Frame(Frame::Data(d)) if d.stream_id.is_zero() => continue,
            Step::Frame(Frame::RstStream(r)) if r.stream_id.is_zero() => continue,
            Step::Frame(f) => f.encode(&mut wire),
            Step::Garbage(g) => wire.extend_from_slice(g),
            Step::Advance(ms) => {
                out.push((Bytes::new(), *ms));
                continue;
            }
        }
        out.push((wire.freeze(), 0));
    }
    out
}

/// Runs a connection over the input in the given chunking; returns a trace of everything
/// observable. `cut` is the largest chunk size.
fn run(server: bool, input: &[(Bytes, u64)], cut: usize) -> (Vec<String>, Vec<u8>) {
    let config = Config::default();
    let mut conn = if server { Connection::server(config) } else { Connection::client(config) };
    let mut now = Instant::now();
    conn.handle_timeout(now);
    let mut trace = Vec::new();
    let mut output = Vec::new();
    if !server {
        // Give the client a few streams of its own for the peer's frames to meet.
        for i in 0..3 {
            let request = http::Request::post(format!("https://example.com/{i}")).body(()).unwrap();
            let _ = conn.send_request(request, i == 0);
        }
    }
    let mut preface = BytesMut::new();
    if server {
        preface.extend_from_slice(PREFACE);
    }
    Settings::new().encode(&mut preface);
    let mut chunks = vec![(preface.freeze(), 0)];
    chunks.extend(input.iter().cloned());
    for (bytes, advance) in chunks {
        if advance > 0 {
            now += Duration::from_millis(advance);
            conn.handle_timeout(now);
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let piece = rest.split_to(cut.min(rest.len()));
            let mut piece = piece;
            loop {
                match conn.recv(piece.clone(), now) {
                    Ok(n) => {
                        piece = piece.slice(n..);
                        if n == 0 || piece.is_empty() {
                            break;
                        }
                    }
                    Err(e) => {
                        // Sticky: the same error on every later call; record it once, after
                        // the events: those queued by earlier frames of the same call come
                        // first whether or not an earlier call already returned them.
                        while let Some(event) = conn.poll_event() {
                            trace.push(format!("{event:?}"));
                        }
                        trace.push(format!("error {e}"));
                        output.extend(buf_to_vec(conn.transmit()));
                        assert_eq!(conn.recv(Bytes::from_static(b"x"), now).err(), Some(e));
                        return (trace, output);
                    }
                }
            }
            // Only whole-input boundaries are observable points of comparison: events are
            // collected after every piece but compared as one sequence.
            while let Some(event) = conn.poll_event() {
                trace.push(format!("{event:?}"));
            }
            if !piece.is_empty() {
                // Input paused: take the output and offer the rest again.
                output.extend(buf_to_vec(conn.transmit()));
                let _ = conn.recv(piece, now);
            }
        }
        for id in 0..12 {
            while let Some(data) = conn.read_data(StreamId(id)) {
                trace.push(format!("read {id} {}", data.len()));
            }
        }
        if let Some(w) = conn.send_window(StreamId(1)) {
            assert!((i32::MIN..=i32::MAX).contains(&w));
        }
        let _ = conn.connection_send_window();
    }
    output.extend(buf_to_vec(conn.transmit()));
    (trace, output)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// DESIGN.md contract 1 and 2: any split of the same input gives the same events and
    /// output, and nothing panics, on either role.
    #[test]
    fn any_chunking_same_result_and_no_panic(
        steps in proptest::collection::vec(step(), 0..40),
        cut in 1usize..64,
        server in any::<bool>(),
    ) {
        let input = encode(&steps);
        let whole = run(server, &input, usize::MAX);
        let chunked = run(server, &input, cut);
        prop_assert_eq!(&whole.0, &chunked.0);
        prop_assert_eq!(&whole.1, &chunked.1);
    }
}

/// Application commands on a client/server pair.
#[derive(Debug, Clone)]
enum Command {
    Request { end_stream: bool },
    Respond { index: usize, end_stream: bool },
    SendData { index: usize, client: bool, len: usize, end_stream: bool },
    Trailers { index: usize, client: bool },
    Reset { index: usize, client: bool },
    Ping,
    Shutdown { client: bool },
    Settings { window: u32 },
    ReadAll,
    Advance(u64),
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        3 => any::<bool>().prop_map(|end_stream| Command::Request { end_stream }),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(index, end_stream)| Command::Respond { index, end_stream }),
        4 => (any::<usize>(), any::<bool>(), 0usize..200_000, any::<bool>())
            .prop_map(|(index, client, len, end_stream)| Command::SendData { index, client, len, end_stream }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(index, client)| Command::Trailers { index, client }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(index, client)| Command::Reset { index, client }),
        1 => Just(Command::Ping),
        1 => any::<bool>().prop_map(|client| Command::Shutdown { client }),
        1 => (0u32..2_000_000).prop_map(|window| Command::Settings { window }),
        3 => Just(Command::ReadAll),
        1 => (0u64..40_000).prop_map(Command::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Random command sequences never panic, never make either side report a protocol
    /// error about the other (both are h2proto), and keep windows in range.
    #[test]
    fn random_commands_on_a_pair_stay_consistent(commands in proptest::collection::vec(command(), 0..60)) {
        let mut config = Config::default();
        config.initial_stream_window_size = 32 << 10;
        config.initial_connection_window_size = 64 << 10;
        let mut pair = Pair::with(config.clone(), config);
        let mut streams: Vec<StreamId> = Vec::new();
        let body = Bytes::from(vec![7u8; 200_000]);
        for command in commands {
            let pick = |index: usize| (!streams.is_empty()).then(|| streams[index % streams.len()]);
            match command {
                Command::Request { end_stream } => {
                    let request = http::Request::post("https://example.com/x").body(()).unwrap();
                    if let Ok(id) = pair.client.send_request(request, end_stream) {
                        streams.push(id);
                    }
                }
                Command::Respond { index, end_stream } => {
                    if let Some(id) = pick(index) {
                        let _ = pair.server.send_response(id, http::Response::new(()), end_stream);
                    }
                }
                Command::SendData { index, client, len, end_stream } => {
                    if let Some(id) = pick(index) {
                        let conn = if client { &mut pair.client } else { &mut pair.server };
                        if let Ok(n) = conn.send_data(id, body.slice(..len), end_stream) {
                            prop_assert!(n <= len);
                        }
                    }
                }
                Command::Trailers { index, client } => {
                    if let Some(id) = pick(index) {
                        let conn = if client { &mut pair.client } else { &mut pair.server };
                        let mut trailers = http::HeaderMap::new();
                        trailers.insert("x-checksum", "abc".parse().unwrap());
                        let _ = conn.send_trailers(id, trailers);
                    }
                }
                Command::Reset { index, client } => {
                    if let Some(id) = pick(index) {
                        let conn = if client { &mut pair.client } else { &mut pair.server };
                        let _ = conn.reset(id, ErrorCode::CANCEL);
                    }
                }
                Command::Ping => {
                    let _ = pair.client.ping(*b"proptest");
                }
                Command::Shutdown { client } => {
                    if client { pair.client.shutdown() } else { pair.server.shutdown() }
                }
                Command::Settings { window } => {
                    let _ = pair.server.update_settings(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, window));
                }
                Command::ReadAll => {
                    for id in &streams {
                        while pair.client.read_data(*id).is_some() {}
                        while pair.server.read_data(*id).is_some() {}
                    }
                }
                Command::Advance(ms) => pair.advance(Duration::from_millis(ms)),
            }
            pair.drive();
            for conn in [&pair.client, &pair.server] {
                if let Some(e) = conn.error() {
                    // Only timeouts may end a connection between two correct peers.
                    prop_assert!(
                        e.reason.contains("timeout") || e.reason.contains("in time") || e.reason.contains("not answered"),
                        "unexpected connection error: {}", e
                    );
                }
                for id in &streams {
                    if let Some(w) = conn.send_window(*id) {
                        prop_assert!(i64::from(w) <= i64::from(i32::MAX));
                    }
                }
            }
        }
    }
}
