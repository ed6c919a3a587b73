//! Test harness for the connection: a scripted peer that speaks raw frames, and an
//! in-memory client/server pair with a virtual clock.
#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use h2proto::frame::{
    Data, Frame, FrameDecoder, GoAway, Headers, MAX_FRAME_SIZE_LIMIT, Ping, RawFrame, RstStream,
    Settings, StreamId, WindowUpdate,
};
use h2proto::hpack::{Decoder, Encoder, FieldRef};
use h2proto::{Config, Connection, ConnectionError, ErrorCode, Event, PREFACE, buf_to_vec};
use std::time::{Duration, Instant};

/// Plays the remote endpoint of `conn` with explicit frames.
pub struct Peer {
    pub conn: Connection,
    pub encoder: Encoder,
    pub decoder: Decoder,
    frames: FrameDecoder,
    pub now: Instant,
    pub last_result: Result<usize, ConnectionError>,
}

impl Peer {
    /// `conn` is a server; the test plays its client.
    pub fn server() -> Peer {
        Peer::server_with(Config::default())
    }

    pub fn server_with(config: Config) -> Peer {
        Peer::new(Connection::server(config))
    }

    /// `conn` is a client; the test plays its server.
    pub fn client() -> Peer {
        Peer::client_with(Config::default())
    }

    pub fn client_with(config: Config) -> Peer {
        Peer::new(Connection::client(config))
    }

    fn new(mut conn: Connection) -> Peer {
        let now = Instant::now();
        conn.handle_timeout(now);
        let mut frames = FrameDecoder::new();
        frames.set_max_frame_size(MAX_FRAME_SIZE_LIMIT);
        Peer {
            conn,
            encoder: Encoder::new(),
            decoder: Decoder::new(),
            frames,
            now,
            last_result: Ok(0),
        }
    }

    fn is_server_under_test(&self) -> bool {
        self.conn.role() == h2proto::Role::Server
    }

    /// Exchanges prefaces and SETTINGS (with ACKs both ways); returns the frames the
    /// connection sent during it, and clears its events.
    pub fn handshake(&mut self) -> Vec<Frame> {
        self.handshake_with(Settings::new())
    }

    pub fn handshake_with(&mut self, settings: Settings) -> Vec<Frame> {
        if self.is_server_under_test() {
            self.send_bytes(PREFACE);
        }
        self.send(settings);
        let mut out = self.frames();
        let acks = out.iter().filter(|f| matches!(f, Frame::Settings(s) if !s.ack)).count();
        for _ in 0..acks {
            self.send(Settings::ack());
        }
        out.extend(self.frames());
        self.events();
        out
    }

    /// Feeds a frame to the connection.
    pub fn send(&mut self, frame: impl Into<Frame>) -> &mut Peer {
        let mut wire = BytesMut::new();
        frame.into().encode(&mut wire);
        self.send_bytes(&wire)
    }

    /// Feeds a raw (possibly invalid) frame.
    pub fn send_raw(&mut self, raw: RawFrame) -> &mut Peer {
        self.send_bytes(&raw.to_bytes())
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) -> &mut Peer {
        self.last_result = self.conn.recv(Bytes::copy_from_slice(bytes), self.now);
        self
    }

    /// Everything the connection wrote, as frames (a client preface is skipped).
    pub fn frames(&mut self) -> Vec<Frame> {
        let mut bytes = buf_to_vec(self.conn.transmit());
        if bytes.starts_with(PREFACE) {
            bytes.drain(..PREFACE.len());
        }
        self.frames.push(bytes.into());
        let mut out = Vec::new();
        while let Some(frame) =
            self.frames.next_frame().expect("the connection writes valid frames")
        {
            out.push(frame);
        }
        out
    }

    /// All pending events.
    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.conn.poll_event()).collect()
    }

    /// An HPACK block of `fields`, from the peer's encoder.
    pub fn block(&mut self, fields: &[(&str, &str)]) -> Bytes {
        let mut dst = BytesMut::new();
        self.encoder.encode(
            fields.iter().map(|(n, v)| FieldRef::new(n.as_bytes(), v.as_bytes())),
            &mut dst,
        );
        dst.freeze()
    }

    /// A GET request HEADERS frame for `path`.
    pub fn get(&mut self, id: u32, path: &str) -> Headers {
        let block = self.block(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "example.com"),
            (":path", path),
        ]);
        Headers::new(StreamId(id), block, true)
    }

    /// A request HEADERS frame with the given fields and END_STREAM flag.
    pub fn request(&mut self, id: u32, fields: &[(&str, &str)], end_stream: bool) -> Headers {
        let block = self.block(fields);
        Headers::new(StreamId(id), block, end_stream)
    }

    /// A POST request head (no END_STREAM).
    pub fn post(&mut self, id: u32, path: &str) -> Headers {
        self.request(
            id,
            &[
                (":method", "POST"),
                (":scheme", "http"),
                (":authority", "example.com"),
                (":path", path),
            ],
            false,
        )
    }

    /// A response HEADERS frame (the test plays a server).
    pub fn response(&mut self, id: u32, status: &str, end_stream: bool) -> Headers {
        let block = self.block(&[(":status", status)]);
        Headers::new(StreamId(id), block, end_stream)
    }

    /// Decodes a field block the connection sent.
    pub fn decode(&mut self, block: &Bytes) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.decoder
            .decode(block, |f| {
                out.push((
                    String::from_utf8_lossy(&f.name).into_owned(),
                    String::from_utf8_lossy(&f.value).into_owned(),
                ))
            })
            .expect("the connection's HPACK is valid");
        out
    }

    /// Advances the virtual clock and lets timers fire.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.conn.handle_timeout(self.now);
    }

    /// Asserts the connection ended with GOAWAY `code`.
    #[track_caller]
    pub fn expect_goaway(&mut self, code: ErrorCode) -> GoAway {
        let frames = self.frames();
        let goaway = frames.iter().find_map(|f| match f {
            Frame::GoAway(g) => Some(g.clone()),
            _ => None,
        });
        let goaway = goaway.unwrap_or_else(|| panic!("expected GOAWAY {code:?}, got {frames:?}"));
        assert_eq!(goaway.error_code, code, "GOAWAY code ({:?})", goaway.debug_data);
        goaway
    }

    /// Asserts the connection reset `id` with `code`, and did not end the connection.
    #[track_caller]
    pub fn expect_reset(&mut self, id: u32, code: ErrorCode) {
        let frames = self.frames();
        assert!(
            frames.iter().any(
                |f| matches!(f, Frame::RstStream(r) if *r == RstStream::new(StreamId(id), code))
            ),
            "expected RST_STREAM({id}, {code:?}), got {frames:?}"
        );
        assert!(
            !frames.iter().any(|f| matches!(f, Frame::GoAway(_))),
            "unexpected GOAWAY: {frames:?}"
        );
        assert!(self.last_result.is_ok(), "connection failed: {:?}", self.last_result);
    }

    /// Asserts the connection is alive and wrote nothing but what `allow` accepts.
    #[track_caller]
    pub fn expect_quiet(&mut self) {
        let frames = self.frames();
        assert!(
            !frames.iter().any(|f| matches!(f, Frame::GoAway(_) | Frame::RstStream(_))),
            "unexpected error frames: {frames:?}"
        );
        assert!(self.last_result.is_ok(), "connection failed: {:?}", self.last_result);
    }

    /// Sends a PING and asserts its ACK comes back: proof the connection is alive and has
    /// processed everything before it.
    #[track_caller]
    pub fn expect_alive(&mut self) {
        self.send(Ping { ack: false, payload: *b"alive?!!" });
        let frames = self.frames();
        assert!(
            frames
                .iter()
                .any(|f| matches!(f, Frame::Ping(p) if p.ack && p.payload == *b"alive?!!")),
            "no PING ACK: {frames:?}"
        );
    }
}

/// Builders for frames a test sends.
pub fn data(id: u32, body: &'static [u8], end_stream: bool) -> Data {
    Data::new(StreamId(id), Bytes::from_static(body), end_stream)
}

pub fn window_update(id: u32, increment: u32) -> WindowUpdate {
    WindowUpdate::new(StreamId(id), increment)
}

pub fn rst(id: u32, code: ErrorCode) -> RstStream {
    RstStream::new(StreamId(id), code)
}

/// A client and a server wired together in memory, with a virtual clock.
pub struct Pair {
    pub client: Connection,
    pub server: Connection,
    pub now: Instant,
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
    /// Bytes moved client -> server and server -> client.
    pub moved: (usize, usize),
}

impl Pair {
    pub fn new() -> Pair {
        Pair::with(Config::default(), Config::default())
    }

    pub fn with(client: Config, server: Config) -> Pair {
        let now = Instant::now();
        let mut pair = Pair {
            client: Connection::client(client),
            server: Connection::server(server),
            now,
            client_events: Vec::new(),
            server_events: Vec::new(),
            moved: (0, 0),
        };
        pair.client.handle_timeout(now);
        pair.server.handle_timeout(now);
        pair.drive();
        pair.client_events.clear();
        pair.server_events.clear();
        pair
    }

    /// Moves bytes both ways until neither side has anything to send. Returns whether
    /// anything moved.
    pub fn drive(&mut self) -> bool {
        let mut any = false;
        for _ in 0..10_000 {
            let mut moved = false;
            let to_server = Bytes::from(buf_to_vec(self.client.transmit()));
            if !to_server.is_empty() {
                moved = true;
                self.moved.0 += to_server.len();
                let _ = Self::feed(&mut self.server, to_server, self.now);
            }
            self.server_events.extend(std::iter::from_fn(|| self.server.poll_event()));
            let to_client = Bytes::from(buf_to_vec(self.server.transmit()));
            if !to_client.is_empty() {
                moved = true;
                self.moved.1 += to_client.len();
                let _ = Self::feed(&mut self.client, to_client, self.now);
            }
            self.client_events.extend(std::iter::from_fn(|| self.client.poll_event()));
            if !moved {
                return any;
            }
            any = true;
        }
        panic!("the pair did not settle");
    }

    fn feed(conn: &mut Connection, mut bytes: Bytes, now: Instant) -> Result<(), ConnectionError> {
        while !bytes.is_empty() {
            let n = conn.recv(bytes.clone(), now)?;
            bytes = bytes.slice(n..);
            if n == 0 {
                // Input paused: let the connection's output drain (it is read by the
                // other side in the next round), then retry.
                let _ = conn.transmit();
                break;
            }
        }
        Ok(())
    }

    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.drive();
    }

    /// Reads all buffered data of a stream on one side.
    pub fn read_all(conn: &mut Connection, id: StreamId) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(chunk) = conn.read_data(id) {
            out.extend_from_slice(&chunk);
        }
        out
    }

    pub fn take_client_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.client_events)
    }

    pub fn take_server_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.server_events)
    }
}

/// A GET request for `uri`.
pub fn get(uri: &str) -> http::Request<()> {
    http::Request::get(uri).body(()).unwrap()
}

/// A response with `status`.
pub fn status(code: u16) -> http::Response<()> {
    http::Response::builder().status(code).body(()).unwrap()
}

/// A GOAWAY the test sends.
pub fn goaway(last: u32, code: ErrorCode) -> GoAway {
    GoAway::new(StreamId(last), code)
}

// ----- Helpers of the RFC 9113 §3-§6 conformance tests (conn_streams, conn_flow_control,
// conn_settings, conn_ping, conn_goaway) -----

impl Peer {
    /// Sends the preface (to a server) and `settings`, but does not acknowledge the
    /// connection's SETTINGS: they stay pending. Returns the frames the connection sent and
    /// clears its events.
    pub fn handshake_unacked(&mut self, settings: Settings) -> Vec<Frame> {
        if self.is_server_under_test() {
            self.send_bytes(PREFACE);
        }
        self.send(settings);
        let out = self.frames();
        self.events();
        out
    }

    /// Asserts the connection is alive and wrote nothing at all.
    #[track_caller]
    pub fn expect_silence(&mut self) {
        let frames = self.frames();
        assert!(frames.is_empty(), "expected no frames, got {frames:?}");
        assert!(self.last_result.is_ok(), "connection failed: {:?}", self.last_result);
    }
}

impl Peer {
    /// A connection in `role` with `config`, the handshake done.
    pub fn connected(role: h2proto::Role, config: Config) -> Peer {
        let mut peer = match role {
            h2proto::Role::Server => Peer::server_with(config),
            h2proto::Role::Client => Peer::client_with(config),
        };
        peer.handshake();
        peer
    }

    /// Client under test: sends a request (a GET with END_STREAM, or a POST without) and
    /// asserts it went out as one HEADERS frame on stream `id`.
    #[track_caller]
    pub fn open_request(&mut self, id: u32, end_stream: bool) {
        let request = if end_stream {
            get("http://example.com/")
        } else {
            http::Request::post("http://example.com/upload").body(()).unwrap()
        };
        let got = self.conn.send_request(request, end_stream).unwrap();
        assert_eq!(got, StreamId(id), "client stream ids are sequential odd numbers");
        let frames = self.frames();
        assert!(
            matches!(&frames[..], [Frame::Headers(h)] if h.stream_id == got && h.end_stream == end_stream),
            "{frames:?}"
        );
    }

    /// Stream `id` open in both directions, with both message heads exchanged: a server
    /// under test received a POST head; a client under test sent one and received a 200
    /// head. Nothing else is written and the events are cleared.
    #[track_caller]
    pub fn open_stream(&mut self, id: u32) {
        if self.is_server_under_test() {
            let head = self.post(id, "/");
            self.send(head);
        } else {
            self.open_request(id, false);
            let head = self.response(id, "200", false);
            self.send(head);
        }
        self.expect_silence();
        self.events();
    }
}

/// The PING of a graceful shutdown in `frames` = [GOAWAY(2^31-1, NO_ERROR), PING].
#[track_caller]
pub fn announced_shutdown(frames: &[Frame]) -> [u8; 8] {
    match frames {
        [Frame::GoAway(g), Frame::Ping(p)]
            if g.last_stream_id == StreamId::MAX
                && g.error_code == ErrorCode::NO_ERROR
                && !p.ack =>
        {
            p.payload
        }
        _ => panic!("expected GOAWAY(2^31-1, NO_ERROR) + PING, got {frames:?}"),
    }
}
