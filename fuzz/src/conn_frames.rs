//! `conn_frames`: structured input for the connection core.
//!
//! A [`FramesInput`] is a sequence of [`Op`]s: frames the peer sends (field blocks encoded
//! by a real HPACK [`Encoder`], so they are valid unless the op makes them otherwise), clock
//! advances, and the application's commands. Stream ids come from a small set ([`Sid`]) so
//! frames and commands meet the same streams.
//!
//! The ops run twice against a fresh server or client: once with each run of peer bytes
//! between two other ops fed as one chunk, once fed byte by byte. Output is taken only when
//! input pauses (both runs pause after the same frame) and at the end. Both runs must give
//! the same trace (events as `{:?}`, command results, data read, errors) and the same output
//! bytes (the core's contract 1), besides the invariants of [`crate::conn`]. Because the
//! target writes every frame the peer sends, it also knows more than a raw-bytes target:
//!
//! * the peer's SETTINGS, in order, so the output is checked against each from our ACK on
//!   (frame size, table size updates, `:protocol`; see [`OutputCheck::with_peer_settings`](crate::conn::OutputCheck::with_peer_settings));
//! * that every field block came whole from one encoder that follows our own
//!   SETTINGS_HEADER_TABLE_SIZE changes, so a COMPRESSION_ERROR is a bug;
//! * our SETTINGS_ENABLE_PUSH in force (a client's, changed mid-stream by `update_settings`
//!   and bound at the peer's ACK), so a push accepted while disabled, or refused while
//!   enabled, is a bug (RFC 9113 §6.5.3, §6.6).
//!
//! The client role gets the same range as the server's: pushes (PUSH_PROMISE on its open
//! streams, responses and DATA on the promised ones, cancelled promises), extended CONNECT
//! and plain CONNECT tunnels (RFC 8441), RFC 9218 priority fields of every shape and a
//! server's PRIORITY_UPDATE, and SETTINGS changed mid-stream from both sides; the seeds
//! `client-*` start the fuzzer in each.
//!
//! The types implement `Arbitrary` by derive, except [`Small`] and [`List`], which read a
//! length byte first. That keeps the byte format simple enough to write by hand:
//! [`FramesInput::to_bytes`] does it, for the seeds of [`seeds`].

use super::conn::{Invariants, OutputCheck, PeerSettings, config_from};
use arbitrary::{Arbitrary, Unstructured};
use bytes::{BufMut, Bytes, BytesMut};
use h2proto::frame::{SettingId, Settings, StreamId};
use h2proto::hpack::{Encoder, FieldRef};
use h2proto::{Connection, ErrorCode, Event, Initiator, PREFACE, Protocol, Role};
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// Peer bytes per input at most: byte-by-byte feeding stays fast.
const MAX_PEER_BYTES: usize = 128 << 10;

// ---------------------------------------------------------------------------------------
// The input
// ---------------------------------------------------------------------------------------

/// The whole input.
#[derive(Arbitrary, Debug)]
pub struct FramesInput {
    /// A server core (the ops play its client) or a client core (they play its server).
    pub server: bool,
    /// The configuration, see [`config_from`].
    pub config: u8,
    /// What happens, in order.
    pub ops: Vec<Op>,
}

/// A stream id from a small set: `n % 16` for 0..=13, then 101 and 2^31-1.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct Sid(pub u8);

impl Sid {
    fn id(self) -> StreamId {
        StreamId(match self.0 % 16 {
            n @ 0..=13 => u32::from(n),
            14 => 101,
            _ => StreamId::MAX.0,
        })
    }
}

/// Up to 32 bytes, after a length byte (`len % 33`, cut short by the end of the input).
#[derive(Clone, PartialEq, Eq)]
pub struct Small(pub Vec<u8>);

impl<'a> Arbitrary<'a> for Small {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = usize::from(u8::arbitrary(u)? % 33).min(u.len());
        Ok(Small(u.bytes(len)?.to_vec()))
    }
}

impl fmt::Debug for Small {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// Up to 8 items, after a count byte (`count % 9`).
#[derive(Clone, Debug)]
pub struct List<T>(pub Vec<T>);

impl<'a, T: Arbitrary<'a>> Arbitrary<'a> for List<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u8::arbitrary(u)? % 9;
        (0..n).map(|_| T::arbitrary(u)).collect::<arbitrary::Result<_>>().map(List)
    }
}

/// One step.
#[derive(Arbitrary, Debug)]
pub enum Op {
    // ----- Frames from the peer -----
    /// HEADERS; `split > 0` cuts the block into CONTINUATIONs of `split` bytes.
    Headers {
        stream: Sid,
        block: Block,
        end_stream: bool,
        end_headers: bool,
        split: u8,
        priority: Option<Prio>,
        pad: Option<u8>,
    },
    /// CONTINUATION carrying a block of its own (valid right after a HEADERS without
    /// END_HEADERS when the first block had no size update).
    Continuation {
        stream: Sid,
        block: Block,
        end_headers: bool,
    },
    /// DATA of `len % 20000` bytes.
    Data {
        stream: Sid,
        len: u16,
        end_stream: bool,
        pad: Option<u8>,
    },
    WindowUpdate {
        stream: Sid,
        increment: u32,
    },
    RstStream {
        stream: Sid,
        code: u8,
    },
    Settings {
        entries: List<SettingEntry>,
    },
    SettingsAck,
    Ping {
        ack: bool,
        payload: u8,
    },
    GoAway {
        last: Sid,
        code: u8,
        debug: Small,
    },
    Priority {
        stream: Sid,
        prio: Prio,
    },
    PriorityUpdate {
        stream: Sid,
        value: PrioValue,
    },
    PushPromise {
        stream: Sid,
        promised: Sid,
        block: Block,
        end_headers: bool,
        pad: Option<u8>,
    },
    /// Any frame header and payload.
    Raw {
        kind: u8,
        flags: u8,
        stream: u32,
        payload: Small,
    },
    /// Bytes that need not be a frame.
    Garbage(Small),
    // ----- Time -----
    /// The clock moves `ms * 16` milliseconds.
    Advance(u16),
    // ----- The application -----
    /// Client: a request (`kind` picks method and URI).
    Request {
        kind: u8,
        end_stream: bool,
    },
    /// Server: a response (`status` picks from a list including 1xx).
    Respond {
        stream: Sid,
        status: u8,
        end_stream: bool,
    },
    /// `len % 70000` bytes of body.
    SendData {
        stream: Sid,
        len: u16,
        end_stream: bool,
    },
    Trailers {
        stream: Sid,
    },
    Reset {
        stream: Sid,
        code: u8,
    },
    /// `read_data` until `None`.
    Read {
        stream: Sid,
    },
    /// `read_data` on every stream of the set.
    ReadAll,
    ReleaseCapacity {
        stream: Sid,
        n: u16,
    },
    PingCmd(u8),
    Shutdown,
    UpdateSettings {
        entries: List<SettingEntry>,
    },
}

/// A field block.
#[derive(Arbitrary, Debug)]
pub enum Block {
    /// A request head (`method` picks method and pseudo-fields, `path` the path), then
    /// extra fields.
    Request { method: u8, path: u8, extra: List<HField> },
    /// A response head (`status` picks the status, valid or not), then extra fields.
    Response { status: u8, extra: List<HField> },
    /// Just these fields (trailers, or anything).
    Fields(List<HField>),
}

/// One header field.
#[derive(Arbitrary, Debug)]
pub enum HField {
    /// From [`KNOWN_FIELDS`] (`% len`).
    Known(u8),
    /// Any bytes.
    Custom { name: Small, value: Small, sensitive: bool },
}

/// RFC 7540 priority fields: dependency, exclusive flag, weight - 1.
#[derive(Arbitrary, Debug)]
pub struct Prio {
    pub dependency: Sid,
    pub exclusive: bool,
    pub weight: u8,
}

/// A PRIORITY_UPDATE field value.
#[derive(Arbitrary, Debug)]
pub enum PrioValue {
    /// From a list of valid and invalid values.
    Known(u8),
    Raw(Small),
}

/// A SETTINGS entry: `id % 12` (0 and 10, 11 are unknown), any value.
#[derive(Arbitrary, Debug)]
pub struct SettingEntry {
    pub id: u8,
    pub value: u32,
}

/// Fields valid and invalid in HTTP/2 (§8.2, §8.3).
const KNOWN_FIELDS: &[(&str, &str)] = &[
    (":method", "GET"),
    (":method", "POST"),
    (":scheme", "https"),
    (":path", "/"),
    (":path", ""),
    (":authority", "example.com"),
    (":status", "200"),
    (":status", "100"),
    (":protocol", "websocket"),
    ("content-length", "0"),
    ("content-length", "5"),
    ("content-length", "x"),
    ("te", "trailers"),
    ("te", "gzip"),
    ("connection", "close"),
    ("host", "example.com"),
    ("host", "other.example"),
    ("priority", "u=0, i"),
    ("cookie", "a=b"),
    ("cookie", "c=d"),
    ("Upper", "x"),
    ("x-empty", ""),
    ("x-space", " padded "),
    ("x-nul", "a\0b"),
    ("grpc-status", "0"),
    ("x-long", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
];

const METHODS: &[&str] = &["GET", "POST", "HEAD", "CONNECT", "OPTIONS", "PUT", "ws"];
const PATHS: &[&str] = &["/", "/index.html", "/a1.css", "*", "/big.bin?x=1", ""];
const STATUSES: &[&str] = &["200", "204", "100", "103", "304", "404", "101", "099", "2000"];
const PRIORITY_VALUES: &[&str] = &["u=0", "u=7, i", "i", "u=3, i=?0", "u=9", "", "u=1,x=2", "!"];

// ---------------------------------------------------------------------------------------
// Ops to bytes
// ---------------------------------------------------------------------------------------

/// What a run does, with the peer's bytes already encoded (identical for both runs).
enum Step<'a> {
    Bytes(Bytes),
    Advance(Duration),
    Command(&'a Op),
}

fn put_frame(out: &mut BytesMut, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    let len = payload.len().min((1 << 24) - 1) as u32;
    out.put_uint(u64::from(len), 3);
    out.put_u8(kind);
    out.put_u8(flags);
    out.put_u32(stream);
    out.extend_from_slice(&payload[..len as usize]);
}

/// Payload with optional padding (PADDED flag returned).
fn padded(pad: Option<u8>, body: &[u8]) -> (u8, Vec<u8>) {
    match pad {
        None => (0, body.to_vec()),
        Some(n) => {
            let mut v = Vec::with_capacity(1 + body.len() + usize::from(n));
            v.push(n);
            v.extend_from_slice(body);
            v.resize(v.len() + usize::from(n), 0);
            (0x8, v)
        }
    }
}

fn field_list(block: &Block) -> Vec<(Vec<u8>, Vec<u8>, bool)> {
    let mut fields: Vec<(Vec<u8>, Vec<u8>, bool)> = Vec::new();
    let mut add = |n: &str, v: &str| fields.push((n.into(), v.into(), false));
    let extra = match block {
        Block::Request { method, path, extra } => {
            let method = METHODS[usize::from(*method) % METHODS.len()];
            let path = PATHS[usize::from(*path) % PATHS.len()];
            match method {
                "CONNECT" => {
                    add(":method", "CONNECT");
                    add(":authority", "example.com:443");
                }
                "ws" => {
                    add(":method", "CONNECT");
                    add(":protocol", "websocket");
                    add(":scheme", "https");
                    add(":authority", "example.com");
                    add(":path", "/chat");
                }
                _ => {
                    add(":method", method);
                    add(":scheme", "https");
                    add(":authority", "example.com");
                    add(":path", path);
                }
            }
            extra
        }
        Block::Response { status, extra } => {
            add(":status", STATUSES[usize::from(*status) % STATUSES.len()]);
            extra
        }
        Block::Fields(extra) => extra,
    };
    for f in &extra.0 {
        fields.push(match f {
            HField::Known(i) => {
                let (n, v) = KNOWN_FIELDS[usize::from(*i) % KNOWN_FIELDS.len()];
                (n.into(), v.into(), false)
            }
            HField::Custom { name, value, sensitive } => {
                (name.0.clone(), value.0.clone(), *sensitive)
            }
        });
    }
    fields
}

fn encode_block(encoder: &mut Encoder, block: &Block) -> Bytes {
    let fields = field_list(block);
    let mut dst = BytesMut::new();
    encoder.encode(
        fields.iter().map(
            |(n, v, s)| {
                if *s { FieldRef::sensitive(n, v) } else { FieldRef::new(n, v) }
            },
        ),
        &mut dst,
    );
    dst.freeze()
}

fn prio_bytes(p: &Prio) -> [u8; 5] {
    let dep = p.dependency.id().0 | if p.exclusive { 1 << 31 } else { 0 };
    let d = dep.to_be_bytes();
    [d[0], d[1], d[2], d[3], p.weight]
}

/// The peer's side of a run, the same for both feeds.
struct Script<'a> {
    steps: Vec<Step<'a>>,
    /// Every SETTINGS frame the peer sends after its first, in order; `None` when a raw
    /// frame or garbage may hold one the script cannot see.
    peer_settings: Option<Vec<PeerSettings>>,
    /// Every field block is a whole block of the peer's encoder, in order, and the encoder
    /// follows our SETTINGS_HEADER_TABLE_SIZE: the connection has no reason for a
    /// COMPRESSION_ERROR.
    hpack_clean: bool,
}

/// Encodes the peer's frames in order (one HPACK context), leaving commands as they are.
///
/// The peer's encoder plays fair with our SETTINGS_HEADER_TABLE_SIZE changes mid-stream
/// (`update_settings`): at each SETTINGS ACK it sends, it shrinks its table to the smallest
/// size any `UpdateSettings` so far asked for. That is never more than the connection may
/// have acknowledged (whichever SETTINGS the ACK answers, and whether the command was
/// refused), so the block after it carries a valid size update (RFC 7541 §4.2).
fn encode_steps(input: &FramesInput, header_table_size: u32) -> Script<'_> {
    let mut encoder = Encoder::new();
    if header_table_size < 4096 {
        encoder.set_max_table_size(header_table_size as usize);
    }
    let mut smallest_asked = usize::MAX;
    let mut peer_settings = Some(Vec::new());
    let mut hpack_clean = true;
    let filler = [b'd'; 20_000];
    let mut steps = Vec::new();
    let mut out = BytesMut::new();
    let mut total = 0;
    for op in &input.ops {
        let start = out.len();
        let mut sent_settings = None;
        match op {
            Op::Headers { stream, block, end_stream, end_headers, split, priority, pad } => {
                let fragment = encode_block(&mut encoder, block);
                let mut flags = u8::from(*end_stream);
                let mut body = Vec::new();
                if let Some(p) = priority {
                    flags |= 0x20;
                    body.extend_from_slice(&prio_bytes(p));
                }
                let cut = if *split == 0 { fragment.len() } else { usize::from(*split) };
                let (first, rest) = fragment.split_at(cut.min(fragment.len()));
                body.extend_from_slice(first);
                let (pad_flag, payload) = padded(*pad, &body);
                flags |= pad_flag;
                let mut pieces = rest.chunks(cut.max(1)).peekable();
                if pieces.peek().is_none() && *end_headers {
                    flags |= 0x4;
                }
                put_frame(&mut out, 0x1, flags, stream.id().0, &payload);
                while let Some(piece) = pieces.next() {
                    let last = pieces.peek().is_none() && *end_headers;
                    put_frame(&mut out, 0x9, if last { 0x4 } else { 0 }, stream.id().0, piece);
                }
            }
            Op::Continuation { stream, block, end_headers } => {
                // A second block glued to the first: a size update in it is misplaced.
                hpack_clean = false;
                let fragment = encode_block(&mut encoder, block);
                put_frame(
                    &mut out,
                    0x9,
                    if *end_headers { 0x4 } else { 0 },
                    stream.id().0,
                    &fragment,
                );
            }
            Op::Data { stream, len, end_stream, pad } => {
                let len = usize::from(*len) % filler.len();
                let (pad_flag, payload) = padded(*pad, &filler[..len]);
                put_frame(&mut out, 0x0, u8::from(*end_stream) | pad_flag, stream.id().0, &payload);
            }
            Op::WindowUpdate { stream, increment } => {
                put_frame(&mut out, 0x8, 0, stream.id().0, &increment.to_be_bytes());
            }
            Op::RstStream { stream, code } => {
                put_frame(&mut out, 0x3, 0, stream.id().0, &u32::from(*code).to_be_bytes());
            }
            Op::Settings { entries } => {
                let mut payload = Vec::new();
                let mut settings = PeerSettings::default();
                for e in &entries.0 {
                    let id = u16::from(e.id % 12);
                    payload.extend_from_slice(&id.to_be_bytes());
                    payload.extend_from_slice(&e.value.to_be_bytes());
                    settings.entry(id, e.value);
                }
                put_frame(&mut out, 0x4, 0, 0, &payload);
                sent_settings = Some(settings);
            }
            Op::SettingsAck => {
                put_frame(&mut out, 0x4, 0x1, 0, &[]);
                if smallest_asked < encoder.max_table_size() {
                    encoder.set_max_table_size(smallest_asked);
                }
            }
            Op::Ping { ack, payload } => {
                put_frame(&mut out, 0x6, u8::from(*ack), 0, &[*payload; 8]);
            }
            Op::GoAway { last, code, debug } => {
                let mut payload = last.id().0.to_be_bytes().to_vec();
                payload.extend_from_slice(&u32::from(*code).to_be_bytes());
                payload.extend_from_slice(&debug.0);
                put_frame(&mut out, 0x7, 0, 0, &payload);
            }
            Op::Priority { stream, prio } => {
                put_frame(&mut out, 0x2, 0, stream.id().0, &prio_bytes(prio));
            }
            Op::PriorityUpdate { stream, value } => {
                let mut payload = stream.id().0.to_be_bytes().to_vec();
                match value {
                    PrioValue::Known(i) => payload.extend_from_slice(
                        PRIORITY_VALUES[usize::from(*i) % PRIORITY_VALUES.len()].as_bytes(),
                    ),
                    PrioValue::Raw(raw) => payload.extend_from_slice(&raw.0),
                }
                put_frame(&mut out, 0x10, 0, 0, &payload);
            }
            Op::PushPromise { stream, promised, block, end_headers, pad } => {
                let mut body = promised.id().0.to_be_bytes().to_vec();
                body.extend_from_slice(&encode_block(&mut encoder, block));
                let (pad_flag, payload) = padded(*pad, &body);
                let flags = pad_flag | if *end_headers { 0x4 } else { 0 };
                put_frame(&mut out, 0x5, flags, stream.id().0, &payload);
            }
            Op::Raw { kind, flags, stream, payload } => {
                put_frame(&mut out, *kind, *flags, *stream, &payload.0);
                match kind {
                    0x1 | 0x5 | 0x9 => hpack_clean = false,
                    0x4 => peer_settings = None,
                    _ => {}
                }
            }
            Op::Garbage(bytes) => {
                out.extend_from_slice(&bytes.0);
                hpack_clean = false;
                peer_settings = None;
            }
            Op::Advance(ms) => {
                if !out.is_empty() {
                    steps.push(Step::Bytes(out.split().freeze()));
                }
                steps.push(Step::Advance(Duration::from_millis(u64::from(*ms) * 16)));
            }
            _ => {
                if let Op::UpdateSettings { entries } = op {
                    for e in entries.0.iter().filter(|e| e.id % 12 == 1) {
                        smallest_asked = smallest_asked.min(e.value as usize);
                    }
                }
                if !out.is_empty() {
                    steps.push(Step::Bytes(out.split().freeze()));
                }
                steps.push(Step::Command(op));
            }
        }
        total += out.len() - start.min(out.len());
        if total > MAX_PEER_BYTES {
            out.truncate(start.min(out.len()));
            break;
        }
        if let (Some(list), Some(frame)) = (&mut peer_settings, sent_settings) {
            list.push(frame);
        }
    }
    if !out.is_empty() {
        steps.push(Step::Bytes(out.freeze()));
    }
    Script { steps, peer_settings, hpack_clean }
}

// ---------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// Each run of peer bytes as one chunk.
    Whole,
    /// One byte per `recv`.
    Bytewise,
}

/// Everything observable from one run.
struct Outcome {
    trace: Vec<String>,
    output: Vec<u8>,
}

/// The `conn_frames` target.
pub fn conn_frames(input: FramesInput) {
    let config = config_from(input.config);
    let script = encode_steps(&input, config.header_table_size);
    let role = if input.server { Role::Server } else { Role::Client };
    let whole = run(role, input.config, &script, Feed::Whole);
    let bytewise = run(role, input.config, &script, Feed::Bytewise);
    if whole.trace != bytewise.trace {
        let at = whole.trace.iter().zip(&bytewise.trace).position(|(a, b)| a != b);
        let at = at.unwrap_or(whole.trace.len().min(bytewise.trace.len()));
        let from = at.saturating_sub(8);
        panic!(
            "chunking changed the trace at {at}:\n whole:    {:#?}\n bytewise: {:#?}",
            &whole.trace[from..(at + 3).min(whole.trace.len())],
            &bytewise.trace[from..(at + 3).min(bytewise.trace.len())],
        );
    }
    assert!(whole.output == bytewise.output, "chunking changed the output bytes");
    if show_traces() {
        eprintln!("{:#?}", whole.trace);
    }
}

/// `H2PROTO_FUZZ_TRACE=1` prints each input's trace (to see what a seed or crash does).
fn show_traces() -> bool {
    static SHOW: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SHOW.get_or_init(|| std::env::var_os("H2PROTO_FUZZ_TRACE").is_some())
}

struct Run {
    conn: Connection,
    check: OutputCheck,
    inv: Invariants,
    trace: Vec<String>,
    output: Vec<u8>,
    now: Instant,
    /// The connection error was recorded in the trace (once).
    error_seen: bool,
    body: Bytes,
    /// Our SETTINGS_ENABLE_PUSH in force: the configuration's from the start (the server
    /// reads it before it can push), then each acknowledged `update_settings` that sets it.
    push_enabled: bool,
    /// The ENABLE_PUSH value of each SETTINGS we sent and the peer has not acknowledged.
    push_pending: VecDeque<Option<bool>>,
}

fn run(role: Role, config_sel: u8, script: &Script<'_>, feed: Feed) -> Outcome {
    let config = config_from(config_sel);
    let inv = Invariants::new(&config);
    let push_enabled = config.enable_push && role == Role::Client;
    let mut conn = Connection::new(role, config);
    // One start time for every run: the runs' outputs are compared byte for byte.
    static START: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);
    let now = *START;
    conn.handle_timeout(now);
    let mut check = OutputCheck::new(role);
    if let Some(frames) = &script.peer_settings {
        // The empty SETTINGS sent below comes first.
        let all = std::iter::once(PeerSettings::default()).chain(frames.iter().copied());
        check = check.with_peer_settings(all.collect());
    }
    let mut r = Run {
        conn,
        check,
        inv,
        trace: Vec::new(),
        output: Vec::new(),
        now,
        error_seen: false,
        body: super::conn::body_source(),
        push_enabled,
        push_pending: VecDeque::from([Some(push_enabled)]),
    };
    let mut start = BytesMut::new();
    if role == Role::Server {
        start.extend_from_slice(PREFACE);
    } else {
        // A few streams of the client's own for the peer's frames to meet: 1, 3, 5.
        for kind in [0, 1, 1] {
            r.command(&Op::Request { kind, end_stream: kind == 0 });
        }
    }
    put_frame(&mut start, 0x4, 0, 0, &[]);
    r.feed(&start.freeze(), feed);
    for step in &script.steps {
        match step {
            Step::Bytes(bytes) => r.feed(bytes, feed),
            Step::Advance(d) => {
                r.now += *d;
                r.conn.handle_timeout(r.now);
                r.trace.push(format!(
                    "advance {d:?} -> next {:?}",
                    r.conn.poll_timeout().map(|t| t.saturating_duration_since(r.now))
                ));
            }
            Step::Command(op) => r.command(op),
        }
        r.events();
        r.inv.state(&r.conn);
    }
    r.pause_or_end();
    if let Some(e) = r.conn.error() {
        // Every block was whole and the peer's table followed our settings (see `Script`).
        let ours = e.initiator == Initiator::Local;
        assert!(
            !(script.hpack_clean && ours && e.code == ErrorCode::COMPRESSION_ERROR),
            "COMPRESSION_ERROR from well-formed field blocks: {e}"
        );
        // The other half of `push_model` (the reason is the core's words for it).
        let refused_push = ours && e.reason == "PUSH_PROMISE with push disabled";
        assert!(!(refused_push && r.push_enabled), "push refused with ENABLE_PUSH 1 in force");
    }
    Outcome { trace: r.trace, output: r.output }
}

impl Run {
    fn events(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            self.inv.event(&event);
            self.push_model(&event);
            self.trace.push(format!("{event:?}"));
        }
        // The error is traced here rather than when `recv` returns it: a GOAWAY with an
        // error code is returned as `Err` from the next call on, and which call that is
        // depends on the chunking.
        if let (false, Some(e)) = (self.error_seen, self.conn.error()) {
            self.error_seen = true;
            self.trace.push(format!("error {e}"));
        }
    }

    /// RFC 9113 §6.5.3, §6.6: our SETTINGS_ENABLE_PUSH binds from the peer's ACK on, and a
    /// client that set 0 and got the ACK must refuse a PUSH_PROMISE (PROTOCOL_ERROR).
    fn push_model(&mut self, event: &Event) {
        match event {
            Event::SettingsAcked => {
                if let Some(Some(enabled)) = self.push_pending.pop_front() {
                    self.push_enabled = enabled;
                }
            }
            Event::PushPromise { promised_id, .. } => {
                assert!(self.push_enabled, "push {promised_id} accepted with ENABLE_PUSH 0");
            }
            _ => {}
        }
    }

    /// Input paused (or the run ends): take events and output.
    fn pause_or_end(&mut self) {
        self.events();
        let out = self.check.take(&mut self.conn);
        self.output.extend_from_slice(&out);
        self.inv.state(&self.conn);
    }

    fn recv(&mut self, bytes: Bytes) -> Option<usize> {
        let result = self.conn.recv(bytes, self.now);
        let failed = result.is_err();
        let n = self.inv.recv_result(&self.conn, result);
        (!failed).then_some(n)
    }

    fn feed(&mut self, bytes: &Bytes, feed: Feed) {
        let mut rest = bytes.clone();
        let mut after_pause = false;
        while !rest.is_empty() {
            let piece = match feed {
                Feed::Whole => rest.clone(),
                Feed::Bytewise => rest.slice(..1),
            };
            let Some(n) = self.recv(piece) else {
                return;
            };
            assert!(n > 0 || !after_pause, "no progress after events and output were taken");
            rest = rest.slice(n..);
            // Input paused: `recv` takes nothing more until events and output are taken. A
            // partly consumed chunk alone is not a pause (the connection may have closed and
            // takes the rest), so offer the rest first; both feeds then see the pause right
            // after the same frame.
            after_pause = n == 0;
            if after_pause {
                self.trace.push("pause".into());
                self.pause_or_end();
            }
        }
    }

    fn command(&mut self, op: &Op) {
        let conn = &mut self.conn;
        let line = match op {
            Op::Request { kind, end_stream } => {
                let request = match kind % 10 {
                    0 => http::Request::get("https://example.com/"),
                    1 => http::Request::post("https://example.com/upload"),
                    2 => http::Request::head("http://example.com/a1.css"),
                    3 => http::Request::get("/rel").header("priority", "u=2"),
                    4 => http::Request::get("https://example.com/").header("te", "trailers"),
                    // RFC 8441: refused until the peer's SETTINGS_ENABLE_CONNECT_PROTOCOL.
                    5 => http::Request::connect("https://example.com/chat")
                        .extension(Protocol::from("websocket")),
                    // RFC 9218 §4: urgency and incremental, and values a server must ignore.
                    6 => {
                        http::Request::get("https://example.com/feed").header("priority", "u=7, i")
                    }
                    7 => http::Request::post("https://example.com/up").header("priority", "u=0, x"),
                    8 => http::Request::get("https://example.com/").header("priority", "u=9, i=?2"),
                    _ => http::Request::connect("example.com:443"),
                };
                let result = conn.send_request(request.body(()).expect("request"), *end_stream);
                if result.is_ok() {
                    self.inv.opened_local();
                }
                format!("request {kind} -> {result:?}")
            }
            Op::Respond { stream, status, end_stream } => {
                let status = [200, 100, 103, 204, 304, 404, 101][usize::from(*status) % 7];
                let response = http::Response::builder().status(status).body(()).expect("status");
                let result = conn.send_response(stream.id(), response, *end_stream);
                format!("respond {} {status} -> {result:?}", stream.id())
            }
            Op::SendData { stream, len, end_stream } => {
                let len = usize::from(*len) % 70_000;
                let result = conn.send_data(stream.id(), self.body.slice(..len), *end_stream);
                if let Ok(n) = result {
                    assert!(n <= len, "send_data accepted {n} of {len}");
                }
                format!("send_data {} {len} -> {result:?}", stream.id())
            }
            Op::Trailers { stream } => {
                let mut map = http::HeaderMap::new();
                map.insert("x-checksum", http::HeaderValue::from_static("abc"));
                format!("trailers {} -> {:?}", stream.id(), conn.send_trailers(stream.id(), map))
            }
            Op::Reset { stream, code } => {
                let code = ErrorCode(u32::from(*code % 16));
                format!("reset {} -> {:?}", stream.id(), conn.reset(stream.id(), code))
            }
            Op::Read { stream } => read(conn, stream.id()),
            Op::ReadAll => (0..16).map(|i| read(conn, Sid(i).id())).collect::<Vec<_>>().join("; "),
            Op::ReleaseCapacity { stream, n } => {
                let result = conn.release_capacity(stream.id(), usize::from(*n));
                format!("release {} {n} -> {result:?}", stream.id())
            }
            Op::PingCmd(b) => format!("ping -> {:?}", conn.ping([*b; 8])),
            Op::Shutdown => {
                conn.shutdown();
                "shutdown".into()
            }
            Op::UpdateSettings { entries } => {
                let mut settings = Settings::new();
                let mut push = None;
                for e in &entries.0 {
                    settings = settings.with(SettingId(u16::from(e.id % 12)), e.value);
                    if e.id % 12 == 2 {
                        push = Some(e.value == 1);
                    }
                }
                let result = conn.update_settings(settings);
                if result.is_ok() {
                    self.push_pending.push_back(push);
                }
                format!("settings -> {result:?}")
            }
            _ => unreachable!("frames and time are not commands"),
        };
        self.trace.push(line);
        self.events();
        self.inv.state(&self.conn);
    }
}

fn read(conn: &mut Connection, id: StreamId) -> String {
    let mut lens = Vec::new();
    while let Some(data) = conn.read_data(id) {
        lens.push(data.len());
    }
    format!("read {id} {lens:?}")
}

// ---------------------------------------------------------------------------------------
// Writing inputs by hand (seeds)
// ---------------------------------------------------------------------------------------

/// The byte form `Arbitrary` reads back as the same value (arbitrary 1.x derive rules:
/// enum variant `i` of `n` from a little-endian `u32` `x` with `(x * n) >> 32 == i`; `bool`
/// one byte; integers little-endian; `Option` a bool then the value; the last field's
/// `Vec` as "continue" bools before each element).
pub trait ToBytes {
    /// Appends the byte form.
    fn put(&self, out: &mut Vec<u8>);
}

fn variant(out: &mut Vec<u8>, index: u64, count: u64) {
    let x = ((index << 32).div_ceil(count)) as u32;
    out.extend_from_slice(&x.to_le_bytes());
}

macro_rules! int_to_bytes {
    ($($t:ty),*) => {$(
        impl ToBytes for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
int_to_bytes!(u8, u16, u32);

impl ToBytes for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl<T: ToBytes> ToBytes for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        self.is_some().put(out);
        if let Some(v) = self {
            v.put(out);
        }
    }
}

impl ToBytes for Sid {
    fn put(&self, out: &mut Vec<u8>) {
        self.0.put(out);
    }
}

impl ToBytes for Small {
    fn put(&self, out: &mut Vec<u8>) {
        assert!(self.0.len() <= 32, "Small holds up to 32 bytes");
        out.push(self.0.len() as u8);
        out.extend_from_slice(&self.0);
    }
}

impl<T: ToBytes> ToBytes for List<T> {
    fn put(&self, out: &mut Vec<u8>) {
        assert!(self.0.len() <= 8, "List holds up to 8 items");
        out.push(self.0.len() as u8);
        self.0.iter().for_each(|v| v.put(out));
    }
}

impl ToBytes for Prio {
    fn put(&self, out: &mut Vec<u8>) {
        self.dependency.put(out);
        self.exclusive.put(out);
        self.weight.put(out);
    }
}

impl ToBytes for SettingEntry {
    fn put(&self, out: &mut Vec<u8>) {
        self.id.put(out);
        self.value.put(out);
    }
}

impl ToBytes for PrioValue {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            PrioValue::Known(i) => {
                variant(out, 0, 2);
                i.put(out);
            }
            PrioValue::Raw(raw) => {
                variant(out, 1, 2);
                raw.put(out);
            }
        }
    }
}

impl ToBytes for HField {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            HField::Known(i) => {
                variant(out, 0, 2);
                i.put(out);
            }
            HField::Custom { name, value, sensitive } => {
                variant(out, 1, 2);
                name.put(out);
                value.put(out);
                sensitive.put(out);
            }
        }
    }
}

impl ToBytes for Block {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Block::Request { method, path, extra } => {
                variant(out, 0, 3);
                method.put(out);
                path.put(out);
                extra.put(out);
            }
            Block::Response { status, extra } => {
                variant(out, 1, 3);
                status.put(out);
                extra.put(out);
            }
            Block::Fields(extra) => {
                variant(out, 2, 3);
                extra.put(out);
            }
        }
    }
}

/// Number of [`Op`] variants.
const OPS: u64 = 26;

impl ToBytes for Op {
    fn put(&self, out: &mut Vec<u8>) {
        let v = |out: &mut Vec<u8>, i| variant(out, i, OPS);
        match self {
            Op::Headers { stream, block, end_stream, end_headers, split, priority, pad } => {
                v(out, 0);
                stream.put(out);
                block.put(out);
                end_stream.put(out);
                end_headers.put(out);
                split.put(out);
                priority.put(out);
                pad.put(out);
            }
            Op::Continuation { stream, block, end_headers } => {
                v(out, 1);
                stream.put(out);
                block.put(out);
                end_headers.put(out);
            }
            Op::Data { stream, len, end_stream, pad } => {
                v(out, 2);
                stream.put(out);
                len.put(out);
                end_stream.put(out);
                pad.put(out);
            }
            Op::WindowUpdate { stream, increment } => {
                v(out, 3);
                stream.put(out);
                increment.put(out);
            }
            Op::RstStream { stream, code } => {
                v(out, 4);
                stream.put(out);
                code.put(out);
            }
            Op::Settings { entries } => {
                v(out, 5);
                entries.put(out);
            }
            Op::SettingsAck => v(out, 6),
            Op::Ping { ack, payload } => {
                v(out, 7);
                ack.put(out);
                payload.put(out);
            }
            Op::GoAway { last, code, debug } => {
                v(out, 8);
                last.put(out);
                code.put(out);
                debug.put(out);
            }
            Op::Priority { stream, prio } => {
                v(out, 9);
                stream.put(out);
                prio.put(out);
            }
            Op::PriorityUpdate { stream, value } => {
                v(out, 10);
                stream.put(out);
                value.put(out);
            }
            Op::PushPromise { stream, promised, block, end_headers, pad } => {
                v(out, 11);
                stream.put(out);
                promised.put(out);
                block.put(out);
                end_headers.put(out);
                pad.put(out);
            }
            Op::Raw { kind, flags, stream, payload } => {
                v(out, 12);
                kind.put(out);
                flags.put(out);
                stream.put(out);
                payload.put(out);
            }
            Op::Garbage(bytes) => {
                v(out, 13);
                bytes.put(out);
            }
            Op::Advance(ms) => {
                v(out, 14);
                ms.put(out);
            }
            Op::Request { kind, end_stream } => {
                v(out, 15);
                kind.put(out);
                end_stream.put(out);
            }
            Op::Respond { stream, status, end_stream } => {
                v(out, 16);
                stream.put(out);
                status.put(out);
                end_stream.put(out);
            }
            Op::SendData { stream, len, end_stream } => {
                v(out, 17);
                stream.put(out);
                len.put(out);
                end_stream.put(out);
            }
            Op::Trailers { stream } => {
                v(out, 18);
                stream.put(out);
            }
            Op::Reset { stream, code } => {
                v(out, 19);
                stream.put(out);
                code.put(out);
            }
            Op::Read { stream } => {
                v(out, 20);
                stream.put(out);
            }
            Op::ReadAll => v(out, 21),
            Op::ReleaseCapacity { stream, n } => {
                v(out, 22);
                stream.put(out);
                n.put(out);
            }
            Op::PingCmd(b) => {
                v(out, 23);
                b.put(out);
            }
            Op::Shutdown => v(out, 24),
            Op::UpdateSettings { entries } => {
                v(out, 25);
                entries.put(out);
            }
        }
    }
}

impl FramesInput {
    /// The bytes `FramesInput::arbitrary_take_rest` reads back as `self`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.server.put(&mut out);
        self.config.put(&mut out);
        for op in &self.ops {
            true.put(&mut out);
            op.put(&mut out);
        }
        out
    }
}

/// Hand-made inputs, by name: the seeds of `fuzz/corpus/conn_frames/seed-<name>`.
pub fn seeds() -> Vec<(&'static str, FramesInput)> {
    use Op::*;
    let s = Sid;
    let get = |method| Block::Request { method, path: 1, extra: List(vec![]) };
    let ok = Block::Response { status: 0, extra: List(vec![HField::Known(9)]) };
    let trailers = Block::Fields(List(vec![HField::Known(24)]));
    let headers = |stream, block, end_stream| Headers {
        stream: s(stream),
        block,
        end_stream,
        end_headers: true,
        split: 0,
        priority: None,
        pad: None,
    };
    let settings = |entries: &[(u8, u32)]| Settings {
        entries: List(entries.iter().map(|&(id, value)| SettingEntry { id, value }).collect()),
    };
    let server = |config, ops| FramesInput { server: true, config, ops };
    let client = |config, ops| FramesInput { server: false, config, ops };
    vec![
        (
            "server-get",
            server(
                0,
                vec![
                    SettingsAck,
                    headers(1, get(0), true),
                    Respond { stream: s(1), status: 0, end_stream: false },
                    SendData { stream: s(1), len: 9, end_stream: true },
                ],
            ),
        ),
        (
            "server-post-trailers",
            server(
                0,
                vec![
                    SettingsAck,
                    headers(1, get(1), false),
                    Data { stream: s(1), len: 100, end_stream: false, pad: Some(4) },
                    headers(1, trailers, true),
                    ReadAll,
                    Respond { stream: s(1), status: 0, end_stream: false },
                    SendData { stream: s(1), len: 300, end_stream: false },
                    Trailers { stream: s(1) },
                ],
            ),
        ),
        (
            "server-continuation",
            server(
                0,
                vec![
                    Headers {
                        stream: s(3),
                        block: Block::Request {
                            method: 0,
                            path: 4,
                            extra: List(vec![
                                HField::Known(25),
                                HField::Known(18),
                                HField::Known(19),
                            ]),
                        },
                        end_stream: true,
                        end_headers: true,
                        split: 10,
                        priority: Some(Prio { dependency: s(1), exclusive: true, weight: 15 }),
                        pad: Some(3),
                    },
                    Respond { stream: s(3), status: 1, end_stream: false },
                    Respond { stream: s(3), status: 0, end_stream: true },
                ],
            ),
        ),
        (
            "server-flow-control",
            server(
                0x02,
                vec![
                    settings(&[(4, 100), (5, 16384)]),
                    headers(1, get(0), true),
                    Respond { stream: s(1), status: 0, end_stream: false },
                    SendData { stream: s(1), len: 5000, end_stream: true },
                    WindowUpdate { stream: s(1), increment: 1000 },
                    WindowUpdate { stream: s(0), increment: 70000 },
                    settings(&[(4, 3000)]),
                    Advance(100),
                ],
            ),
        ),
        (
            "server-rapid-reset",
            server(
                0x09,
                vec![
                    headers(1, get(0), true),
                    RstStream { stream: s(1), code: 8 },
                    headers(3, get(0), true),
                    RstStream { stream: s(3), code: 8 },
                    headers(5, get(0), true),
                    RstStream { stream: s(5), code: 8 },
                    headers(7, get(0), true),
                    RstStream { stream: s(7), code: 8 },
                    headers(9, get(0), true),
                    RstStream { stream: s(9), code: 8 },
                ],
            ),
        ),
        (
            "server-shutdown-ping",
            server(
                0,
                vec![
                    headers(1, get(1), false),
                    Shutdown,
                    Ping { ack: false, payload: 7 },
                    Data { stream: s(1), len: 10, end_stream: true, pad: None },
                    Read { stream: s(1) },
                    Respond { stream: s(1), status: 3, end_stream: true },
                    Advance(400),
                    GoAway { last: s(0), code: 0, debug: Small(b"bye".to_vec()) },
                ],
            ),
        ),
        (
            "server-priority",
            server(
                0,
                vec![
                    Priority {
                        stream: s(3),
                        prio: Prio { dependency: s(0), exclusive: false, weight: 200 },
                    },
                    PriorityUpdate { stream: s(5), value: PrioValue::Known(1) },
                    headers(5, get(0), true),
                    PriorityUpdate { stream: s(5), value: PrioValue::Raw(Small(b"u=2".to_vec())) },
                    Raw { kind: 0xfa, flags: 0, stream: 1, payload: Small(b"ext".to_vec()) },
                    UpdateSettings { entries: List(vec![SettingEntry { id: 3, value: 10 }]) },
                    SettingsAck,
                ],
            ),
        ),
        (
            "server-extended-connect",
            server(
                0x20,
                vec![
                    SettingsAck,
                    headers(1, get(6), false),
                    Respond { stream: s(1), status: 0, end_stream: false },
                    Data { stream: s(1), len: 20, end_stream: false, pad: None },
                    SendData { stream: s(1), len: 20, end_stream: false },
                    Reset { stream: s(1), code: 8 },
                    Garbage(Small(b"PRI * HTTP/2.0".to_vec())),
                ],
            ),
        ),
        (
            "client-responses",
            client(
                0,
                vec![
                    SettingsAck,
                    headers(1, ok, false),
                    Data { stream: s(1), len: 9, end_stream: true, pad: None },
                    headers(3, Block::Response { status: 2, extra: List(vec![]) }, false),
                    headers(3, Block::Response { status: 0, extra: List(vec![]) }, true),
                    SendData { stream: s(5), len: 1000, end_stream: true },
                    headers(5, Block::Response { status: 1, extra: List(vec![]) }, true),
                    ReadAll,
                    Request { kind: 3, end_stream: true },
                ],
            ),
        ),
        (
            "client-push",
            client(
                0x20,
                vec![
                    settings(&[(3, 1)]),
                    PushPromise {
                        stream: s(1),
                        promised: s(2),
                        block: get(0),
                        end_headers: true,
                        pad: None,
                    },
                    headers(2, Block::Response { status: 0, extra: List(vec![]) }, false),
                    Data { stream: s(2), len: 30, end_stream: true, pad: None },
                    headers(1, Block::Response { status: 0, extra: List(vec![]) }, true),
                    Read { stream: s(2) },
                    PingCmd(1),
                    Ping { ack: true, payload: 1 },
                ],
            ),
        ),
        (
            // Streams above the last id are reset by GOAWAY; the last of them ends the
            // draining connection, and `Closed` must still come after their `Reset`.
            "client-goaway",
            client(
                0,
                vec![
                    headers(1, Block::Response { status: 0, extra: List(vec![]) }, true),
                    GoAway { last: s(1), code: 0, debug: Small(vec![]) },
                    Request { kind: 0, end_stream: true },
                    GoAway { last: s(1), code: 2, debug: Small(b"internal".to_vec()) },
                ],
            ),
        ),
        (
            // The last streams refused by a GOAWAY with an error code: `Closed` must carry
            // the error (it once said `None`, and the error only showed in `recv`).
            "client-goaway-error",
            client(
                0,
                vec![
                    headers(1, Block::Response { status: 0, extra: List(vec![]) }, true),
                    GoAway { last: s(1), code: 2, debug: Small(b"internal".to_vec()) },
                ],
            ),
        ),
        (
            // RFC 8441 §3: refused before the peer's SETTINGS_ENABLE_CONNECT_PROTOCOL, then a
            // WebSocket tunnel (stream 7) and a plain CONNECT (9) carry data both ways.
            "client-extended-connect",
            client(
                0,
                vec![
                    Request { kind: 5, end_stream: false },
                    settings(&[(8, 1)]),
                    SettingsAck,
                    Request { kind: 5, end_stream: false },
                    headers(7, Block::Response { status: 0, extra: List(vec![]) }, false),
                    SendData { stream: s(7), len: 20, end_stream: false },
                    Data { stream: s(7), len: 20, end_stream: false, pad: None },
                    Read { stream: s(7) },
                    Request { kind: 9, end_stream: false },
                    headers(9, Block::Response { status: 0, extra: List(vec![]) }, false),
                    SendData { stream: s(9), len: 300, end_stream: true },
                    Data { stream: s(9), len: 30, end_stream: true, pad: None },
                    Reset { stream: s(7), code: 8 },
                    ReadAll,
                ],
            ),
        ),
        (
            // Pushes while our SETTINGS change mid-stream: a smaller window and no dynamic
            // table (the peer's next block must start with a size update), a pushed stream
            // cancelled, DATA on it afterwards.
            "client-push-midstream",
            client(
                0x20,
                vec![
                    SettingsAck,
                    PushPromise {
                        stream: s(1),
                        promised: s(2),
                        block: get(0),
                        end_headers: true,
                        pad: None,
                    },
                    UpdateSettings {
                        entries: List(vec![
                            SettingEntry { id: 4, value: 100 },
                            SettingEntry { id: 1, value: 0 },
                        ]),
                    },
                    headers(2, Block::Response { status: 0, extra: List(vec![]) }, false),
                    Data { stream: s(2), len: 50, end_stream: false, pad: None },
                    SettingsAck,
                    PushPromise {
                        stream: s(3),
                        promised: s(4),
                        block: get(0),
                        end_headers: true,
                        pad: Some(2),
                    },
                    Reset { stream: s(4), code: 8 },
                    Data { stream: s(2), len: 40, end_stream: true, pad: None },
                    headers(4, Block::Response { status: 0, extra: List(vec![]) }, false),
                    headers(3, Block::Response { status: 0, extra: List(vec![]) }, true),
                    ReadAll,
                ],
            ),
        ),
        (
            // RFC 9218 from the client, and the peer's SETTINGS mid-upload: the window
            // shrinks, then grows (§6.9.2), frames may grow and shrink again, its table goes
            // to 0 (our next block must say so); a PRIORITY_UPDATE from a server ends it.
            "client-priority-settings",
            client(
                0,
                vec![
                    settings(&[(4, 10), (5, 20000)]),
                    Request { kind: 7, end_stream: false },
                    SendData { stream: s(7), len: 40000, end_stream: false },
                    settings(&[(4, 70000), (1, 0)]),
                    WindowUpdate { stream: s(0), increment: 100_000 },
                    Request { kind: 6, end_stream: true },
                    settings(&[(5, 16384)]),
                    SendData { stream: s(7), len: 20000, end_stream: true },
                    Priority {
                        stream: s(9),
                        prio: Prio { dependency: s(1), exclusive: false, weight: 10 },
                    },
                    Request { kind: 8, end_stream: true },
                    headers(7, Block::Response { status: 0, extra: List(vec![]) }, true),
                    PriorityUpdate { stream: s(1), value: PrioValue::Known(0) },
                ],
            ),
        ),
        (
            // Both sides change SETTINGS mid-stream on a server: ours (window, table)
            // before and after the ACK, the peer's (frame size, window) while we send.
            "server-settings-midstream",
            server(
                0,
                vec![
                    SettingsAck,
                    headers(1, get(1), false),
                    Data { stream: s(1), len: 100, end_stream: false, pad: None },
                    UpdateSettings {
                        entries: List(vec![
                            SettingEntry { id: 4, value: 1000 },
                            SettingEntry { id: 1, value: 100 },
                        ]),
                    },
                    Data { stream: s(1), len: 2000, end_stream: false, pad: None },
                    SettingsAck,
                    headers(
                        3,
                        Block::Request {
                            method: 0,
                            path: 2,
                            extra: List(vec![HField::Known(25), HField::Known(18)]),
                        },
                        true,
                    ),
                    Respond { stream: s(1), status: 0, end_stream: false },
                    SendData { stream: s(1), len: 60000, end_stream: true },
                    settings(&[(5, 32768), (4, 200)]),
                    WindowUpdate { stream: s(1), increment: 50000 },
                    WindowUpdate { stream: s(0), increment: 50000 },
                    settings(&[(5, 16384)]),
                    Respond { stream: s(3), status: 0, end_stream: false },
                    SendData { stream: s(3), len: 5000, end_stream: true },
                    ReadAll,
                ],
            ),
        ),
        (
            "client-timeouts",
            client(
                0x21,
                vec![
                    Advance(200),
                    headers(1, Block::Response { status: 0, extra: List(vec![]) }, false),
                    Advance(2000),
                    Ping { ack: true, payload: 0 },
                    Advance(2000),
                ],
            ),
        ),
    ]
}
