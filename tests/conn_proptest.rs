//! Properties of the connection core over generated input:
//! - the same bytes in any chunking give the same events and the same output;
//! - arbitrary frame sequences (after a valid preface) never panic, on either role, and
//!   the send windows the connection reports are those the frames it received make them
//!   (RFC 9113 §6.9.1, §6.9.2), within 2^31-1;
//! - arbitrary command sequences on a client/server pair never panic and keep the pair
//!   consistent: every send window equals what the frames on the wire make it, initial
//!   window + WINDOW_UPDATE increments - DATA sent, within 0..=2^31-1 for the connection.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{
    Continuation, Data, Frame, FrameDecoder, GoAway, Headers, MAX_FRAME_SIZE_LIMIT, Ping, Priority,
    PrioritySpec, PriorityUpdate, RstStream, SettingId, Settings, StreamId, WindowUpdate,
};
use h2proto::hpack::{Encoder, FieldRef};
use h2proto::{Config, Connection, ErrorCode, PREFACE, buf_to_vec};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
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
        // Small increments on stream 1 and the connection, so the window model meets open
        // windows that grow without overflowing.
        1 => (0u32..2, 1u32..=0xffff)
            .prop_map(|(id, inc)| Step::Frame(Frame::WindowUpdate(WindowUpdate::new(StreamId(id), inc)))),
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

/// What a chunk of input does to the receiving connection's send windows once processed:
/// the connection itself sends no DATA in this test (its server has no application, its
/// client sends requests without bodies), so only these change them.
#[derive(Debug, Clone, Copy)]
enum Effect {
    /// Nothing.
    None,
    /// WINDOW_UPDATE on a stream (0: the connection).
    Update(StreamId, u32),
    /// SETTINGS_INITIAL_WINDOW_SIZE set to this (the last entry of the frame).
    InitialWindow(u32),
    /// Bytes the model does not parse, or a GOAWAY (after which the connection may wind
    /// down and stop applying frames): the model stops checking.
    Unknown,
}

/// Encodes steps into bytes (HPACK blocks in order) plus the clock advances between them
/// and each chunk's effect on the send windows.
fn encode(steps: &[Step]) -> Vec<(Bytes, u64, Effect)> {
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
                out.push((Bytes::new(), *ms, Effect::None));
                continue;
            }
        }
        let effect = match step {
            Step::Frame(Frame::WindowUpdate(w)) => Effect::Update(w.stream_id, w.increment),
            Step::Frame(Frame::Settings(s)) => {
                s.get(SettingId::INITIAL_WINDOW_SIZE).map_or(Effect::None, Effect::InitialWindow)
            }
            Step::Garbage(_) | Step::Frame(Frame::GoAway(_)) => Effect::Unknown,
            _ => Effect::None,
        };
        out.push((wire.freeze(), 0, effect));
    }
    out
}

const MAX_WINDOW: i64 = (1 << 31) - 1;

/// The send windows a connection must report, from the frames it received (§6.9.1:
/// WINDOW_UPDATE adds its increment; §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE moves every
/// stream window by the difference, and a stream opens with the value in force).
#[derive(Debug)]
struct Windows {
    /// False once the input holds bytes the model does not follow.
    known: bool,
    initial: i64,
    connection: i64,
    stream1: Stream1,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stream1 {
    NotYet,
    Open(i64),
    /// Reset by a window overflow (§6.9.1: a stream error), or closed.
    Gone,
}

impl Windows {
    fn new() -> Windows {
        Windows { known: true, initial: 65_535, connection: 65_535, stream1: Stream1::NotYet }
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::None => {}
            Effect::Unknown => self.known = false,
            Effect::Update(id, n) if id.is_zero() => self.connection += i64::from(n),
            Effect::Update(id, n) => {
                if let (1, Stream1::Open(w)) = (id.0, self.stream1) {
                    let w = w + i64::from(n);
                    self.stream1 = if w > MAX_WINDOW { Stream1::Gone } else { Stream1::Open(w) };
                }
            }
            Effect::InitialWindow(v) => {
                let v = i64::from(v);
                if let Stream1::Open(w) = self.stream1 {
                    self.stream1 = Stream1::Open(w + v - self.initial);
                }
                self.initial = v;
            }
        }
    }

    /// Compares with what `conn` reports.
    fn check(&mut self, conn: &Connection) {
        // A connection that is ending (an error, an idle or no-request timeout, GOAWAY)
        // ignores later frames: the model stops there.
        if !self.known || conn.error().is_some() || conn.is_going_away() {
            return;
        }
        assert_eq!(i64::from(conn.connection_send_window()), self.connection);
        assert!(self.connection <= MAX_WINDOW);
        match (conn.send_window(StreamId(1)), self.stream1) {
            (Some(w), Stream1::NotYet) => {
                assert_eq!(i64::from(w), self.initial, "stream 1 opens with the initial window");
                self.stream1 = Stream1::Open(self.initial);
            }
            (Some(w), Stream1::Open(model)) => {
                assert_eq!(i64::from(w), model, "stream 1's send window");
                assert!((-MAX_WINDOW - 1..=MAX_WINDOW).contains(&model));
            }
            (None, Stream1::Open(_)) => self.stream1 = Stream1::Gone,
            (Some(_), Stream1::Gone) | (None, _) => {}
        }
    }
}

/// Runs a connection over the input in the given chunking; returns a trace of everything
/// observable. `cut` is the largest chunk size.
fn run(server: bool, input: &[(Bytes, u64, Effect)], cut: usize) -> (Vec<String>, Vec<u8>) {
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
    let mut chunks = vec![(preface.freeze(), 0, Effect::None)];
    chunks.extend(input.iter().cloned());
    let mut windows = Windows::new();
    for (bytes, advance, effect) in chunks {
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
        windows.apply(effect);
        windows.check(&conn);
    }
    output.extend(buf_to_vec(conn.transmit()));
    (trace, output)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The core's contract 1 and 2 (h2proto crate docs): any split of the same input gives the same events and
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

/// A client/server pair's wire, tapped: bytes move as in `Pair::drive`, but none is dropped
/// when a receiver pauses its input (the rest is offered again in the next round), and
/// every frame is decoded as its receiver consumes it, to model the send windows.
struct Wire {
    /// 0: client to server (after the preface), 1: server to client.
    decoders: [FrameDecoder; 2],
    pending: [Bytes; 2],
    preface_left: usize,
    /// `windows[0]` is the client's send side, `windows[1]` the server's.
    windows: [SendWindows; 2],
    /// A receiver failed: the model stops.
    broken: bool,
}

/// One endpoint's send windows as the wire makes them (RFC 9113 §6.9.1, §6.9.2): each stream
/// window is the peer's SETTINGS_INITIAL_WINDOW_SIZE + the peer's WINDOW_UPDATE increments -
/// the DATA this endpoint sent on it (a stream opens with the initial value in force and
/// moves with each change of it, so only the last value counts); the connection window is
/// 65,535 + increments on stream 0 - all DATA.
#[derive(Default)]
struct SendWindows {
    initial: Option<i64>,
    connection: i64,
    streams: std::collections::HashMap<u32, i64>,
}

impl Wire {
    fn new() -> Wire {
        let decoder = || {
            let mut d = FrameDecoder::new();
            d.set_max_frame_size(MAX_FRAME_SIZE_LIMIT);
            d
        };
        let windows = || SendWindows { connection: 65_535, ..SendWindows::default() };
        Wire {
            decoders: [decoder(), decoder()],
            pending: [Bytes::new(), Bytes::new()],
            preface_left: PREFACE.len(),
            windows: [windows(), windows()],
            broken: false,
        }
    }

    /// Frames consumed by the receiver of direction `dir` (0: the server received them).
    fn consumed(&mut self, dir: usize, mut bytes: Bytes) {
        if dir == 0 && self.preface_left > 0 {
            let n = self.preface_left.min(bytes.len());
            self.preface_left -= n;
            bytes = bytes.slice(n..);
        }
        self.decoders[dir].push(bytes);
        loop {
            let frame = match self.decoders[dir].next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(_) => {
                    self.broken = true;
                    return;
                }
            };
            let (sender, receiver) = (dir, 1 - dir);
            match frame {
                Frame::Data(d) => {
                    let n = d.flow_controlled_len() as i64;
                    let w = &mut self.windows[sender];
                    w.connection -= n;
                    *w.streams.entry(d.stream_id.0).or_default() -= n;
                }
                Frame::WindowUpdate(u) => {
                    let w = &mut self.windows[receiver];
                    let n = i64::from(u.increment);
                    if u.stream_id.is_zero() {
                        w.connection += n;
                    } else {
                        *w.streams.entry(u.stream_id.0).or_default() += n;
                    }
                }
                Frame::Settings(s) if !s.ack => {
                    if let Some(v) = s.get(SettingId::INITIAL_WINDOW_SIZE) {
                        self.windows[receiver].initial = Some(i64::from(v));
                    }
                }
                _ => {}
            }
        }
    }

    /// Moves bytes both ways until neither side has anything to send.
    fn drive(&mut self, pair: &mut Pair) {
        for _ in 0..10_000 {
            let mut moved = false;
            for dir in 0..2 {
                let (from, to) = if dir == 0 {
                    (&mut pair.client, &mut pair.server)
                } else {
                    (&mut pair.server, &mut pair.client)
                };
                let out = buf_to_vec(from.transmit());
                if !out.is_empty() {
                    let mut all = BytesMut::from(&self.pending[dir][..]);
                    all.extend_from_slice(&out);
                    self.pending[dir] = all.freeze();
                }
                let mut offered = std::mem::take(&mut self.pending[dir]);
                while !offered.is_empty() {
                    match to.recv(offered.clone(), pair.now) {
                        Ok(0) => break,
                        Ok(n) => {
                            moved = true;
                            self.consumed(dir, offered.split_to(n));
                        }
                        Err(_) => {
                            self.broken = true;
                            offered.clear();
                        }
                    }
                }
                self.pending[dir] = offered;
                let events =
                    if dir == 0 { &mut pair.server_events } else { &mut pair.client_events };
                events.extend(std::iter::from_fn(|| to.poll_event()));
            }
            if !moved {
                return;
            }
        }
        panic!("the pair did not settle");
    }

    /// Every send window either side reports equals the wire's.
    fn check(&self, pair: &Pair, streams: &[StreamId]) -> Result<(), TestCaseError> {
        let settled = self.pending.iter().all(Bytes::is_empty);
        // A connection that ended (an error, or a graceful close once its last stream is
        // done) no longer applies what it reads, so the wire stops telling its windows.
        let ended = |c: &Connection| c.error().is_some() || c.is_closed();
        if self.broken || !settled || ended(&pair.client) || ended(&pair.server) {
            return Ok(());
        }
        for (side, conn) in [&pair.client, &pair.server].into_iter().enumerate() {
            let model = &self.windows[side];
            let connection = i64::from(conn.connection_send_window());
            prop_assert_eq!(
                connection,
                model.connection,
                "connection send window of side {}",
                side
            );
            prop_assert!((0..=MAX_WINDOW).contains(&connection));
            for id in streams {
                if let Some(w) = conn.send_window(*id) {
                    let expected = model.initial.unwrap_or(65_535)
                        + model.streams.get(&id.0).copied().unwrap_or(0);
                    prop_assert_eq!(
                        i64::from(w),
                        expected,
                        "send window of stream {} on side {}",
                        id.0,
                        side
                    );
                    prop_assert!(i64::from(w) <= MAX_WINDOW);
                }
            }
        }
        Ok(())
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
    /// error about the other (both are h2proto), and keep every send window equal to what
    /// the frames on the wire make it (`Wire::check`).
    #[test]
    fn random_commands_on_a_pair_stay_consistent(commands in proptest::collection::vec(command(), 0..60)) {
        let mut config = Config::default();
        config.initial_stream_window_size = 32 << 10;
        config.initial_connection_window_size = 64 << 10;
        let now = Instant::now();
        let mut pair = Pair {
            client: Connection::client(config.clone()),
            server: Connection::server(config),
            now,
            client_events: Vec::new(),
            server_events: Vec::new(),
            moved: (0, 0),
        };
        pair.client.handle_timeout(now);
        pair.server.handle_timeout(now);
        let mut wire = Wire::new();
        wire.drive(&mut pair);
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
                Command::Advance(ms) => {
                    pair.now += Duration::from_millis(ms);
                    pair.client.handle_timeout(pair.now);
                    pair.server.handle_timeout(pair.now);
                }
            }
            wire.drive(&mut pair);
            wire.check(&pair, &streams)?;
            for conn in [&pair.client, &pair.server] {
                if let Some(e) = conn.error() {
                    // Only timeouts may end a connection between two correct peers.
                    prop_assert!(
                        e.reason.contains("timeout") || e.reason.contains("in time") || e.reason.contains("not answered"),
                        "unexpected connection error: {}", e
                    );
                }
            }
        }
    }
}

/// The window model of the frame-sequence property on a fixed input, on both roles: a
/// stream and a connection WINDOW_UPDATE, then a smaller initial window (RFC 9113 §6.9.2).
#[test]
fn the_window_model_follows_updates_and_settings() {
    let steps = [
        Step::Headers {
            id: StreamId(1),
            fields: vec![
                (":method".into(), "POST".into()),
                (":scheme".into(), "https".into()),
                (":authority".into(), "example.com".into()),
                (":path".into(), "/".into()),
            ],
            end_stream: false,
            end_headers: true,
        },
        Step::Frame(Frame::WindowUpdate(WindowUpdate::new(StreamId(1), 10))),
        Step::Frame(Frame::WindowUpdate(WindowUpdate::new(StreamId(0), 20))),
        Step::Frame(Frame::Settings(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 100))),
    ];
    for server in [true, false] {
        let input = encode(if server { &steps } else { &steps[1..] });
        let mut windows = Windows::new();
        for (_, _, effect) in &input {
            windows.apply(*effect);
        }
        assert_eq!(windows.connection, 65_535 + 20);
        // run() checks the connection against the model after every chunk; it must have
        // reached stream 1 with the model's value.
        run(server, &input, usize::MAX);
    }
}
