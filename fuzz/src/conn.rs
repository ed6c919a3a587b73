//! Connection targets over raw bytes ([`conn_server`], [`conn_client`]) and what all three
//! connection targets share: configurations, the output checker, and the invariants.
//!
//! The invariants every connection target checks, whatever the peer sends:
//!
//! * nothing panics (the core's contract 2);
//! * a connection error is sticky: once `recv` returned `Err(e)` (or [`Connection::error`]
//!   is set), every later `recv` returns the same `Err(e)`, and `Event::Closed` is the
//!   last event and comes at most once;
//! * the output is always valid HTTP/2 as a peer would read it: after the client's preface,
//!   a sequence of whole frames that each decode without error (max frame size 2^24-1),
//!   field blocks in contiguous HEADERS/PUSH_PROMISE + CONTINUATION runs whose HPACK
//!   decodes, and every batch taken from `transmit` ends on a frame and block boundary;
//! * when the target knows every SETTINGS frame the peer sent ([`PeerSettings`], in
//!   `conn_frames`), the output also obeys each one from our ACK on, as RFC 9113 §6.5.3
//!   orders: no frame above its SETTINGS_MAX_FRAME_SIZE (§4.2), a field block after a
//!   smaller SETTINGS_HEADER_TABLE_SIZE starts with a table size update (RFC 7541 §4.2),
//!   and no `:protocol` before SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3);
//! * `active_streams()` stays at or below our SETTINGS_MAX_CONCURRENT_STREAMS + 1 (for a
//!   client, plus the requests it opened itself);
//! * input never stalls: with events drained and output taken, `recv` consumes input.

use bytes::{Bytes, BytesMut};
use h2proto::frame::{Frame, FrameDecoder, MAX_FRAME_SIZE_LIMIT, StreamId};
use h2proto::hpack::Decoder;
use h2proto::{
    Config, Connection, ConnectionError, ErrorCode, Event, Initiator, PREFACE, RateLimit, Role,
    buf_to_vec,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Shared: configuration, output checker, invariants
// ---------------------------------------------------------------------------------------

/// The configuration chosen by a selector byte: `0` is `Config::default()`; each set bit
/// shrinks one group of limits so the paths behind them are reachable with short inputs.
///
/// * bit 0: 2 concurrent streams, 4 remembered closed streams, 2 idle priorities;
/// * bit 1: small windows and buffers (1,000-byte stream windows, a 2 KiB transmit batch);
/// * bit 2: manual flow control (`auto_release_capacity` off);
/// * bit 3: abuse limits of a few events (rate limits burst 4 at 1/s, 4 pending control
///   frames, 2 CONTINUATIONs per block);
/// * bit 4: no HPACK dynamic table and a 200-byte header list limit;
/// * bit 5: push (client) or extended CONNECT (server) enabled, keepalive PINGs every 2 s;
/// * bit 6: 1 MiB frames accepted;
/// * bit 7: no timeouts at all.
pub fn config_from(selector: u8) -> Config {
    let mut c = Config::default();
    c.entropy = u64::from(selector); // reproducible output: runs are compared
    let bit = |n: u8| selector & (1 << n) != 0;
    if bit(0) {
        c.max_concurrent_streams = 2;
        c.max_closed_streams = 4;
        c.max_idle_priorities = 2;
    }
    if bit(1) {
        c.initial_stream_window_size = 1000;
        c.initial_connection_window_size = 65_535;
        c.window_update_threshold = 16;
        c.max_send_buffer_per_stream = 4096;
        c.max_send_buffer = 16 << 10;
        c.max_transmit_size = 2048;
    }
    if bit(2) {
        c.auto_release_capacity = false;
    }
    if bit(3) {
        let few = RateLimit::new(4, 1);
        c.remote_reset_rate = few;
        c.local_reset_rate = few;
        c.ping_rate = few;
        c.settings_rate = few;
        c.priority_rate = few;
        c.empty_frame_rate = few;
        c.max_pending_control_frames = 4;
        c.max_continuation_frames = 2;
    }
    if bit(4) {
        c.header_table_size = 0;
        c.max_header_list_size = 200;
    }
    if bit(5) {
        c.enable_push = true;
        c.enable_connect_protocol = true;
        c.keepalive_interval = Some(Duration::from_secs(2));
    }
    if bit(6) {
        c.max_frame_size = 1 << 20;
    }
    if bit(7) {
        c.preface_timeout = None;
        c.header_block_timeout = None;
        c.settings_timeout = None;
        c.idle_timeout = None;
    }
    c
}

/// The entries of one SETTINGS frame from the peer that bound our output (last value of
/// each, when the frame carries it).
#[derive(Clone, Copy, Debug, Default)]
pub struct PeerSettings {
    /// SETTINGS_HEADER_TABLE_SIZE.
    pub header_table_size: Option<u32>,
    /// SETTINGS_MAX_FRAME_SIZE.
    pub max_frame_size: Option<u32>,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL.
    pub enable_connect_protocol: Option<u32>,
}

impl PeerSettings {
    /// Records one entry (`id`, `value`) of the frame.
    pub fn entry(&mut self, id: u16, value: u32) {
        match id {
            0x1 => self.header_table_size = Some(value),
            0x5 => self.max_frame_size = Some(value),
            0x8 => self.enable_connect_protocol = Some(value),
            _ => {}
        }
    }
}

/// Reads everything the connection writes, as its peer would, and checks that it is valid.
pub struct OutputCheck {
    /// Client output must start with the preface; bytes of it still expected.
    preface: usize,
    frames: FrameDecoder,
    hpack: Decoder,
    /// The stream of a field block still waiting for its END_HEADERS, and the block so far.
    block: Option<(StreamId, BytesMut)>,
    /// The largest SETTINGS_HEADER_TABLE_SIZE the peer ever allowed (our encoder's bound).
    table_max: usize,
    /// Frames read so far.
    pub frames_seen: usize,
    /// Every SETTINGS frame of the peer not yet acknowledged in our output, in order, when
    /// the target knows them all ([`OutputCheck::with_peer_settings`]).
    peer_settings: Option<std::collections::VecDeque<PeerSettings>>,
    /// The peer allowed `:protocol` (RFC 8441 §3), as of our last ACK.
    connect_protocol: bool,
}

impl OutputCheck {
    /// A checker for the output of a connection in `role`.
    pub fn new(role: Role) -> OutputCheck {
        let mut frames = FrameDecoder::new();
        frames.set_max_frame_size(MAX_FRAME_SIZE_LIMIT);
        let mut hpack = Decoder::new();
        hpack.set_max_header_list_size(usize::MAX);
        OutputCheck {
            preface: if role == Role::Client { PREFACE.len() } else { 0 },
            frames,
            hpack,
            block: None,
            table_max: 4096,
            frames_seen: 0,
            peer_settings: None,
            connect_protocol: false,
        }
    }

    /// Checks the output against the peer's SETTINGS frames, which it sends in this order:
    /// each binds what we write after our ACK of it (RFC 9113 §6.5.3). Only for a target
    /// that knows every SETTINGS frame the connection will read.
    pub fn with_peer_settings(mut self, frames: Vec<PeerSettings>) -> OutputCheck {
        self.frames.set_max_frame_size(h2proto::frame::DEFAULT_MAX_FRAME_SIZE);
        self.peer_settings = Some(frames.into());
        self
    }

    /// Takes all of `conn`'s pending output and checks it; returns it.
    pub fn take(&mut self, conn: &mut Connection) -> Vec<u8> {
        let allowed = conn.peer_settings().header_table_size as usize;
        let bytes = buf_to_vec(conn.transmit());
        if self.peer_settings.is_none() {
            // Without the peer's frames, only the largest table ever allowed bounds ours.
            self.table_max = self.table_max.max(allowed);
            self.hpack.set_max_table_size(self.table_max);
        }
        self.feed(&bytes);
        // Output is handed out in whole frames and whole field blocks (§6.10: nothing may be
        // interleaved into a block, so a block is written in one go).
        assert_eq!(self.preface, 0, "output batch ends inside the preface");
        assert_eq!(self.frames.buffered(), 0, "output batch ends inside a frame");
        assert!(self.block.is_none(), "output batch ends inside a field block");
        bytes
    }

    /// Checks a stretch of output (whole batches only, see [`Self::take`]).
    pub fn feed(&mut self, mut bytes: &[u8]) {
        if self.preface > 0 {
            let n = self.preface.min(bytes.len());
            let at = PREFACE.len() - self.preface;
            assert_eq!(&bytes[..n], &PREFACE[at..at + n], "client output must start with PREFACE");
            self.preface -= n;
            bytes = &bytes[n..];
        }
        self.frames.extend(bytes);
        loop {
            match self.frames.next_frame() {
                Ok(Some(frame)) => self.on_frame(frame),
                Ok(None) => break,
                Err(e) => {
                    panic!("our output does not decode: {e} (after {} frames)", self.frames_seen)
                }
            }
        }
    }

    fn on_frame(&mut self, frame: Frame) {
        self.frames_seen += 1;
        let (stream, fragment, end) = match frame {
            Frame::Headers(h) => {
                assert!(self.block.is_none(), "HEADERS inside a field block");
                (h.stream_id, h.fragment, h.end_headers)
            }
            Frame::PushPromise(p) => {
                assert!(self.block.is_none(), "PUSH_PROMISE inside a field block");
                (p.stream_id, p.fragment, p.end_headers)
            }
            Frame::Continuation(c) => {
                let Some((id, _)) = &self.block else {
                    panic!("CONTINUATION outside a field block");
                };
                assert_eq!(*id, c.stream_id, "CONTINUATION on another stream");
                (c.stream_id, c.fragment, c.end_headers)
            }
            Frame::Settings(s) if s.ack => {
                assert!(self.block.is_none(), "SETTINGS inside a field block");
                self.settings_acked();
                return;
            }
            other => {
                assert!(self.block.is_none(), "{other:?} inside a field block");
                return;
            }
        };
        let (_, block) = self.block.get_or_insert_with(|| (stream, BytesMut::new()));
        block.extend_from_slice(&fragment);
        if end {
            let (id, block) = self.block.take().expect("just set");
            let block = block.freeze();
            let mut protocol = false;
            if let Err(e) = self.hpack.decode(&block, |f| protocol |= &f.name[..] == b":protocol") {
                panic!("our field block on stream {id} does not decode: {e:?} ({block:02x?})");
            }
            if protocol && self.peer_settings.is_some() {
                assert!(self.connect_protocol, ":protocol on {id} before the peer allowed it");
            }
        }
    }

    /// Our ACK of the peer's next SETTINGS: from here on its values bind the output.
    fn settings_acked(&mut self) {
        let Some(queue) = &mut self.peer_settings else {
            return;
        };
        let frame = queue.pop_front().expect("we acknowledged a SETTINGS the peer never sent");
        if let Some(size) = frame.header_table_size {
            // RFC 7541 §4.2: a smaller size must be signalled at the start of our next block;
            // the checking decoder now requires that.
            self.hpack.set_max_table_size(size as usize);
        }
        if let Some(size) = frame.max_frame_size {
            self.frames.set_max_frame_size(size);
        }
        if let Some(value) = frame.enable_connect_protocol {
            self.connect_protocol = value == 1;
        }
    }
}

/// Checks of the event stream and of the connection's state, across one run.
pub struct Invariants {
    /// The sticky error, once `recv` returned one or the connection recorded one.
    pub error: Option<ConnectionError>,
    /// `Event::Closed` was seen.
    pub closed: bool,
    /// The stream limit for `active_streams()`.
    limit: usize,
}

impl Invariants {
    /// For a connection with this configuration.
    pub fn new(config: &Config) -> Invariants {
        Invariants { error: None, closed: false, limit: config.max_concurrent_streams as usize + 1 }
    }

    /// A client opened a stream of its own: one more may be active.
    pub fn opened_local(&mut self) {
        self.limit += 1;
    }

    /// Checks the result of a `recv` call; returns the bytes consumed (0 on error).
    pub fn recv_result(
        &mut self,
        conn: &Connection,
        result: Result<usize, ConnectionError>,
    ) -> usize {
        match result {
            Ok(n) => {
                assert!(self.error.is_none(), "recv succeeded after {:?}", self.error);
                if let Some(e) = conn.error() {
                    // A GOAWAY with an error code from the peer ends the connection; the
                    // error is returned from the next call on. Our own errors are returned
                    // at once.
                    assert_eq!(e.initiator, Initiator::Remote, "recv returned Ok with {e}");
                    self.error = Some(e.clone());
                }
                n
            }
            Err(e) => {
                assert_eq!(conn.error(), Some(&e), "recv error differs from error()");
                if let Some(first) = &self.error {
                    assert_eq!(first, &e, "the connection error changed");
                }
                self.error = Some(e);
                0
            }
        }
    }

    /// Checks an event before the caller handles it.
    pub fn event(&mut self, event: &Event) {
        assert!(!self.closed, "event after Closed: {event:?}");
        if let Event::Closed { error } = event {
            self.closed = true;
            match (&self.error, error) {
                (Some(first), _) => assert_eq!(error.as_ref(), Some(first), "Closed, other error"),
                (None, Some(e)) => self.error = Some(e.clone()),
                (None, None) => {}
            }
        }
    }

    /// Checks the connection's state between calls.
    pub fn state(&mut self, conn: &Connection) {
        let active = conn.active_streams();
        assert!(active <= self.limit, "{active} active streams, limit {}", self.limit);
        if let Some(e) = conn.error() {
            if let Some(first) = &self.error {
                assert_eq!(first, e, "error() changed");
            }
            self.error = Some(e.clone());
        }
    }
}

/// A small deterministic PRNG (splitmix64) for schedules chosen by the input.
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform below `n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// Bodies are slices of this.
pub fn body_source() -> Bytes {
    Bytes::from_static(&[b'b'; 100_000])
}

// ---------------------------------------------------------------------------------------
// conn_server, conn_client
// ---------------------------------------------------------------------------------------

/// A server fed a client's bytes. Input layout: `[config, sched_lo, sched_hi, bytes...]`.
///
/// `config` picks the configuration ([`config_from`]); the 16-bit `sched` seeds the PRNG
/// that picks chunk sizes, when output is taken, clock advances and the application's
/// answers. The connection gets the client preface and an empty SETTINGS first, then
/// `bytes`.
pub fn conn_server(data: &[u8]) {
    run_raw(Role::Server, data);
}

/// A client fed a server's bytes. Input layout as for [`conn_server`]; the top two bits of
/// `sched_hi` choose how many requests the client opens (1, 3, 11 or 100, which fits the
/// recorded traces: curl, -, nghttp -n, h2load -n100). It gets an empty SETTINGS first, then
/// `bytes`.
pub fn conn_client(data: &[u8]) {
    run_raw(Role::Client, data);
}

fn run_raw(role: Role, data: &[u8]) {
    let [config_sel, s0, s1, input @ ..] = data else {
        return;
    };
    let config = config_from(*config_sel);
    let requests = [1, 3, 11, 100][usize::from(s1 >> 6)];
    let seed = u64::from(u16::from_le_bytes([*s0, *s1])) | u64::from(*config_sel) << 16;
    let mut app = App::new(role, config, requests, Rng::new(seed));

    let mut start = BytesMut::new();
    if role == Role::Server {
        start.extend_from_slice(PREFACE);
    }
    start.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]); // empty SETTINGS
    app.open_requests();
    app.offer(start.freeze());
    app.step();

    let mut rest = Bytes::copy_from_slice(input);
    while !rest.is_empty() {
        let size = match app.rng.below(8) {
            0 => 1,
            1 => 1 + app.rng.below(8) as usize,
            2 | 3 => 1 + app.rng.below(64) as usize,
            4 | 5 => 1 + app.rng.below(1024) as usize,
            _ => rest.len(),
        };
        let chunk = rest.split_to(size.min(rest.len()));
        app.offer(chunk);
        app.step();
    }
    app.finish();
}

/// Per-stream body still to be sent.
struct Sending {
    body: Bytes,
    /// After the body: trailers instead of END_STREAM on the last DATA.
    trailers: bool,
}

/// Drives one connection the way an application would, with choices from the PRNG.
struct App {
    role: Role,
    conn: Connection,
    rng: Rng,
    now: Instant,
    check: OutputCheck,
    inv: Invariants,
    /// Input not yet consumed (`recv` returned less), offered again first.
    backlog: Bytes,
    /// Events drained and output taken since the last `recv`: it must make progress.
    drained: bool,
    /// Client: requests still to open.
    requests_left: u32,
    /// Server: requests not answered yet.
    unanswered: Vec<StreamId>,
    /// Streams whose body has data to read.
    readable: BTreeSet<StreamId>,
    /// Bytes read but not released (manual flow control).
    unreleased: BTreeMap<StreamId, usize>,
    sending: BTreeMap<StreamId, Sending>,
    body: Bytes,
}

impl App {
    fn new(role: Role, config: Config, requests: u32, rng: Rng) -> App {
        let inv = Invariants::new(&config);
        let mut conn = Connection::new(role, config);
        let now = Instant::now();
        conn.handle_timeout(now);
        App {
            role,
            conn,
            rng,
            now,
            check: OutputCheck::new(role),
            inv,
            backlog: Bytes::new(),
            drained: false,
            requests_left: requests,
            unanswered: Vec::new(),
            readable: BTreeSet::new(),
            unreleased: BTreeMap::new(),
            sending: BTreeMap::new(),
            body: body_source(),
        }
    }

    /// Adds input after the backlog and feeds what the connection takes.
    fn offer(&mut self, chunk: Bytes) {
        if self.backlog.is_empty() {
            self.backlog = chunk;
        } else {
            let mut joined = BytesMut::from(&self.backlog[..]);
            joined.extend_from_slice(&chunk);
            self.backlog = joined.freeze();
        }
        self.recv_backlog();
    }

    fn recv_backlog(&mut self) {
        if self.backlog.is_empty() {
            return;
        }
        let len = self.backlog.len();
        let result = self.conn.recv(self.backlog.clone(), self.now);
        let failed = result.is_err();
        let n = self.inv.recv_result(&self.conn, result);
        if failed {
            // Sticky: the same error again, whatever comes.
            let again = self.conn.recv(Bytes::from_static(b"\0\0\0\x04\0\0\0\0\0"), self.now);
            self.inv.recv_result(&self.conn, again);
            self.backlog = Bytes::new();
            return;
        }
        assert!(n <= len, "recv consumed {n} of {len} bytes");
        assert!(
            n > 0 || !self.drained,
            "recv consumed nothing of {len} bytes with events drained and output taken"
        );
        self.drained = false;
        self.backlog = self.backlog.slice(n..);
    }

    /// After a chunk: the application's turn.
    fn step(&mut self) {
        self.drain_events();
        self.inv.state(&self.conn);
        if self.rng.one_in(4) {
            self.answer_one();
        }
        if self.rng.one_in(2) {
            self.read_some();
        }
        match self.rng.below(64) {
            0 => {
                let _ = self.conn.ping(*b"fuzzping");
            }
            1 => self.conn.shutdown(),
            2..=5 => {
                self.now += [
                    Duration::from_millis(1),
                    Duration::from_millis(900),
                    Duration::from_secs(6),
                    Duration::from_secs(31),
                ][self.rng.below(4) as usize];
                self.conn.handle_timeout(self.now);
            }
            6 | 7 => {
                if let Some(at) = self.conn.poll_timeout() {
                    self.now = self.now.max(at);
                    self.conn.handle_timeout(self.now);
                }
            }
            _ => {}
        }
        self.open_requests();
        self.drain_events();
        self.inv.state(&self.conn);
        // Usually the transport writes everything; sometimes it is blocked, and input must
        // then pause once too many control frames wait (the consumed count of `recv`).
        if self.rng.below(8) != 0 || !self.backlog.is_empty() {
            self.flush();
            self.recv_backlog();
        }
    }

    /// Takes output and events until neither is left (answers to events queue output;
    /// `transmit` frames more queued DATA each time, up to `max_transmit_size`).
    fn flush(&mut self) {
        for _ in 0..64 {
            self.check.take(&mut self.conn);
            self.drain_events();
            if self.conn.transmit().is_empty() {
                self.drained = true;
                return;
            }
        }
    }

    fn finish(&mut self) {
        // Offer what is left until it is consumed, as a transport would.
        for _ in 0..1000 {
            self.step();
            if self.backlog.is_empty() {
                break;
            }
        }
        self.read_all();
        self.flush();
        self.inv.state(&self.conn);
        if self.inv.error.is_some() {
            assert!(self.conn.is_closed(), "error set, output taken, but not closed");
        }
    }

    fn drain_events(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            self.inv.event(&event);
            self.on_event(event);
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Request { stream_id, end_stream, request } => {
                assert_eq!(self.role, Role::Server);
                assert!(stream_id.is_client_initiated(), "request on {stream_id:?}");
                if !end_stream {
                    self.readable.insert(stream_id);
                }
                if request.method() == http::Method::CONNECT || self.rng.one_in(3) {
                    self.unanswered.push(stream_id);
                } else {
                    self.answer(stream_id);
                }
            }
            Event::Response { stream_id, .. } | Event::Informational { stream_id, .. } => {
                assert_eq!(self.role, Role::Client);
                assert!(!stream_id.is_zero(), "response on stream 0");
            }
            Event::PushPromise { promised_id, .. } => {
                assert!(promised_id.is_server_initiated(), "promised {promised_id:?}");
                if self.rng.one_in(4) {
                    let _ = self.conn.reset(promised_id, ErrorCode::CANCEL);
                }
            }
            Event::Data { stream_id, .. } => {
                self.readable.insert(stream_id);
                if self.rng.below(4) != 0 {
                    self.read(stream_id);
                }
            }
            Event::SendCapacity { stream_id } => self.send_more(stream_id),
            Event::Reset { stream_id, .. } => {
                self.sending.remove(&stream_id);
                self.unanswered.retain(|id| *id != stream_id);
            }
            Event::StreamsAvailable => self.open_requests(),
            _ => {}
        }
    }

    /// Server: answers the oldest request still waiting.
    fn answer_one(&mut self) {
        if !self.unanswered.is_empty() {
            let id = self.unanswered.remove(0);
            self.answer(id);
        }
    }

    /// Server: a response chosen by the PRNG, so every send path runs.
    fn answer(&mut self, id: StreamId) {
        let conn = &mut self.conn;
        let status = match self.rng.below(16) {
            0 => {
                let _ = conn.reset(id, ErrorCode::CANCEL);
                return;
            }
            1 => {
                let early = http::Response::builder().status(103).body(()).expect("103");
                let _ = conn.send_response(id, early, false);
                200
            }
            2 => 204,
            3 => 404,
            _ => 200,
        };
        let mut response = http::Response::builder().status(status);
        if self.rng.one_in(4) {
            response = response.header("x-fuzz", "h2proto").header("cache-control", "no-store");
        }
        let response = response.body(()).expect("response");
        let end = status == 204 || self.rng.one_in(8);
        if conn.send_response(id, response, end).is_err() || end {
            return;
        }
        let len = match self.rng.below(8) {
            0 => 0,
            1 => self.body.len(),
            2 => 20_000,
            _ => 1 + self.rng.below(300) as usize,
        };
        self.sending
            .insert(id, Sending { body: self.body.slice(..len), trailers: self.rng.one_in(4) });
        self.send_more(id);
    }

    /// Sends as much of a stream's remaining body as the connection accepts.
    fn send_more(&mut self, id: StreamId) {
        let Some(s) = self.sending.get_mut(&id) else {
            return;
        };
        let end = !s.trailers;
        match self.conn.send_data(id, s.body.clone(), end) {
            Ok(n) => {
                s.body = s.body.slice(n..);
                if s.body.is_empty() {
                    let trailers = s.trailers;
                    self.sending.remove(&id);
                    if trailers {
                        let mut map = http::HeaderMap::new();
                        map.insert("x-checksum", http::HeaderValue::from_static("0"));
                        let _ = self.conn.send_trailers(id, map);
                    }
                }
            }
            Err(_) => {
                self.sending.remove(&id);
            }
        }
    }

    /// Client: opens requests while there are some left and the peer allows.
    fn open_requests(&mut self) {
        while self.role == Role::Client && self.requests_left > 0 && self.conn.can_open_stream() {
            let n = self.requests_left;
            let (request, body) = match self.rng.below(8) {
                0 => (http::Request::post(format!("http://example.com/up/{n}")), true),
                1 => (http::Request::head("http://example.com/index.html"), false),
                2 => (http::Request::get("/a5.css").header("priority", "u=1, i"), false),
                _ => (http::Request::get(format!("http://example.com/a{}.css", n % 20)), false),
            };
            let request = request.body(()).expect("request");
            match self.conn.send_request(request, !body) {
                Ok(id) => {
                    self.inv.opened_local();
                    self.requests_left -= 1;
                    if body {
                        let len = [7, 1000, 70_000][self.rng.below(3) as usize];
                        self.sending.insert(
                            id,
                            Sending { body: self.body.slice(..len), trailers: self.rng.one_in(4) },
                        );
                        self.send_more(id);
                    }
                }
                Err(_) => break,
            }
        }
    }

    fn read_some(&mut self) {
        let ids: Vec<StreamId> = self.readable.iter().copied().collect();
        for id in ids {
            if self.rng.one_in(2) {
                self.read(id);
            }
        }
        if self.rng.one_in(2) {
            self.release_some();
        }
    }

    fn read_all(&mut self) {
        let ids: Vec<StreamId> = self.readable.iter().copied().collect();
        for id in ids {
            self.read(id);
        }
    }

    fn read(&mut self, id: StreamId) {
        while let Some(data) = self.conn.read_data(id) {
            *self.unreleased.entry(id).or_default() += data.len();
        }
        self.readable.remove(&id);
    }

    /// Manual flow control: release what was read.
    fn release_some(&mut self) {
        if self.conn.config().auto_release_capacity {
            self.unreleased.clear();
            return;
        }
        for (id, n) in std::mem::take(&mut self.unreleased) {
            let _ = self.conn.release_capacity(id, n);
        }
    }
}
