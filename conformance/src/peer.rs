//! One test connection: the runner's end of the wire.
//!
//! A [`Peer`] owns a TCP connection to the server under test, writes whatever a case asks
//! for — typed frames, [`RawFrame`]s that are invalid on purpose, loose bytes — and reads the
//! server's frames back with a deadline on every wait, so no case can hang. It keeps its own
//! HPACK encoder (for request blocks) and decoder (for response blocks, so the compression
//! context stays in sync across responses), answers the server's SETTINGS and PINGs as any
//! client must, and turns what it sees into the expectations the cases check
//! (`expect_connection_error`, `expect_stream_error`, `expect_response`, ...).

use crate::sent::Sent;
use crate::verdict::{Failure, Outcome};
use bytes::{Bytes, BytesMut};
use h2proto::frame::{
    Continuation, Data, Frame, FrameDecoder, FrameHeader, FrameType, Headers, MAX_FRAME_SIZE_LIMIT,
    Ping, Priority, PrioritySpec, RawFrame, RstStream, SettingId, Settings, WindowUpdate, flags,
};
use h2proto::hpack::{Decoder, Encoder, FieldRef};
use h2proto::{ErrorCode, PREFACE, StreamId};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A header field list as the cases write it.
pub type Fields = Vec<(String, String)>;

/// What reading from the server produced.
#[derive(Debug)]
pub enum Ev {
    /// A well-formed frame.
    Frame(Frame),
    /// The server sent something that is not a valid frame.
    Invalid(String),
    /// The connection ended (EOF or reset).
    Closed(String),
    /// Nothing (more) arrived before the deadline.
    Timeout,
}

/// The response to a request, as read by [`Peer::expect_response`].
#[derive(Debug, Default)]
pub struct Response {
    /// The `:status` of the final response.
    pub status: u16,
    /// Every field of the final response head.
    pub fields: Fields,
    /// Statuses of 1xx responses before it.
    pub informational: Vec<u16>,
    /// The body.
    pub body: Vec<u8>,
    /// Trailer fields, if any.
    pub trailers: Option<Fields>,
}

/// A client-side test connection.
pub struct Peer {
    sock: TcpStream,
    frames: FrameDecoder,
    /// HPACK encoder for the request blocks the cases write.
    pub encoder: Encoder,
    decoder: Decoder,
    /// How long each expectation waits.
    pub wait: Duration,
    authority: String,
    /// The resource requested where a case asks for `/`.
    path: String,
    /// Every SETTINGS entry the server sent, in order.
    pub server_settings: Settings,
    /// SETTINGS ACKs received from the server.
    pub settings_acks: u32,
    /// Whether to acknowledge the server's SETTINGS automatically.
    pub auto_ack: bool,
    /// A header block being received: stream, END_STREAM, fragments so far.
    block: Option<(u32, bool, BytesMut)>,
    /// The last complete header block: stream, END_STREAM, fields.
    last_block: Option<(u32, bool, Fields)>,
    closed: Option<String>,
    seen: Vec<String>,
    /// Events read by [`drain`](Peer::drain), handed out again by `next`.
    pending: std::collections::VecDeque<Ev>,
    /// What the cases wrote, per stream.
    sent: Sent,
    /// The peer plays the server (the client suite): the response checks of the
    /// expectations do not apply.
    plays_server: bool,
}

impl Peer {
    /// Connects to `addr`; `authority` is what requests put in `:authority`.
    pub fn connect(
        addr: SocketAddr,
        authority: &str,
        path: &str,
        wait: Duration,
    ) -> Result<Peer, Failure> {
        let sock = TcpStream::connect_timeout(&addr, wait)
            .map_err(|e| Failure::new(format!("a TCP connection to {addr}"), e.to_string()))?;
        let _ = sock.set_nodelay(true);
        // A server that stops reading must not block a case forever.
        let _ = sock.set_write_timeout(Some(wait));
        Ok(Peer::connect_stream(sock, authority, wait).with_path(path))
    }

    fn with_path(mut self, path: &str) -> Peer {
        self.path = path.to_string();
        self
    }

    /// The server end of a connection a client opened: reads and checks the client's
    /// 24-byte preface magic (RFC 9113 §3.4) and is then ready for frames. The client suite
    /// uses it to play a scripted server.
    pub fn accept(sock: TcpStream, wait: Duration) -> Result<Peer, Failure> {
        let _ = sock.set_nodelay(true);
        let _ = sock.set_write_timeout(Some(wait));
        let _ = sock.set_read_timeout(Some(wait));
        let mut magic = [0u8; 24];
        let mut reader = &sock;
        reader
            .read_exact(&mut magic)
            .map_err(|e| Failure::new("the client connection preface", e.to_string()))?;
        if &magic != PREFACE {
            return Err(Failure::new(
                "the client connection preface (RFC 9113 §3.4)",
                format!("{:?}", String::from_utf8_lossy(&magic)),
            ));
        }
        let addr = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let mut peer = Peer::connect_stream(sock, &addr, wait);
        peer.auto_ack = true;
        peer.plays_server = true;
        Ok(peer)
    }

    fn connect_stream(sock: TcpStream, authority: &str, wait: Duration) -> Peer {
        let mut frames = FrameDecoder::new();
        frames.set_max_frame_size(MAX_FRAME_SIZE_LIMIT);
        Peer {
            sock,
            frames,
            encoder: Encoder::new(),
            decoder: Decoder::new(),
            wait,
            authority: authority.to_string(),
            path: "/".to_string(),
            server_settings: Settings::new(),
            settings_acks: 0,
            auto_ack: true,
            block: None,
            last_block: None,
            closed: None,
            seen: Vec::new(),
            pending: std::collections::VecDeque::new(),
            sent: Sent::default(),
            plays_server: false,
        }
    }

    // ----- Writing -----

    /// Writes bytes as they are. A write error is not reported here: the server may well
    /// have closed the connection already, and the next read tells.
    pub fn send_bytes(&mut self, bytes: impl AsRef<[u8]>) {
        self.sent.write(bytes.as_ref());
        let _ = self.sock.write_all(bytes.as_ref());
    }

    /// Writes a frame the peer sends on its own (SETTINGS and PING ACKs), outside what the
    /// case wrote.
    fn send_auto(&mut self, frame: impl Into<Frame>) {
        let mut buf = BytesMut::new();
        frame.into().encode(&mut buf);
        let _ = self.sock.write_all(&buf);
    }

    /// Writes a valid frame.
    pub fn send(&mut self, frame: impl Into<Frame>) {
        let mut buf = BytesMut::new();
        frame.into().encode(&mut buf);
        self.send_bytes(&buf);
    }

    /// Writes a raw, possibly invalid frame.
    pub fn send_raw(&mut self, frame: RawFrame) {
        self.send_bytes(frame.to_bytes());
    }

    /// Writes several frames in one write.
    pub fn send_all(&mut self, frames: impl IntoIterator<Item = RawFrame>) {
        let mut buf = BytesMut::new();
        for f in frames {
            f.encode(&mut buf);
        }
        self.send_bytes(&buf);
    }

    /// The connection preface.
    pub fn preface(&mut self) {
        let _ = self.sock.write_all(PREFACE);
    }

    /// A SETTINGS frame with these entries.
    pub fn settings(&mut self, entries: &[(SettingId, u32)]) {
        let mut s = Settings::new();
        for &(id, value) in entries {
            s = s.with(id, value);
        }
        self.send(s);
    }

    /// The preface and an empty SETTINGS, then waits for the server's SETTINGS.
    pub fn handshake(&mut self) -> Outcome {
        self.handshake_with(&[])
    }

    /// The preface and a SETTINGS with `entries`, then waits for the server's SETTINGS,
    /// which §3.4 requires to be its first frame, and acknowledges it.
    pub fn handshake_with(&mut self, entries: &[(SettingId, u32)]) -> Outcome {
        self.preface();
        self.settings(entries);
        let deadline = Instant::now() + self.wait;
        match self.next(deadline) {
            Ev::Frame(Frame::Settings(s)) if !s.ack => Ok(()),
            other => Err(Failure::new(
                "the server's connection preface: a SETTINGS frame first (RFC 9113 §3.4)",
                self.describe(&other),
            )),
        }
    }

    /// Encodes a header block with the connection's HPACK context.
    pub fn block(&mut self, fields: &[(impl AsRef<str>, impl AsRef<str>)]) -> Bytes {
        let mut buf = BytesMut::new();
        self.encoder.encode(
            fields.iter().map(|(n, v)| FieldRef::new(n.as_ref().as_bytes(), v.as_ref().as_bytes())),
            &mut buf,
        );
        buf.freeze()
    }

    /// Sends a GET's HEADERS on stream 1 with END_STREAM but without END_HEADERS: a field
    /// block left open, for the cases that interrupt it.
    pub fn open_block(&mut self) {
        let fields = self.request("GET", "/");
        let block = self.block(&fields);
        let mut headers = Headers::new(StreamId(1), block, true);
        headers.end_headers = false;
        self.send(headers);
    }

    /// The fields of a valid request: `method path` on `http` with `:authority`. A path
    /// of `/` stands for the resource chosen with `--path` (default `/`).
    pub fn request(&self, method: &str, path: &str) -> Fields {
        let path = if path == "/" { self.path.as_str() } else { path };
        vec![
            (":method".into(), method.into()),
            (":scheme".into(), "http".into()),
            (":path".into(), path.into()),
            (":authority".into(), self.authority.clone()),
        ]
    }

    /// A HEADERS frame carrying `fields` (END_HEADERS set).
    pub fn headers(
        &mut self,
        stream: u32,
        fields: &[(impl AsRef<str>, impl AsRef<str>)],
        end: bool,
    ) {
        let block = self.block(fields);
        self.send(Headers::new(StreamId(stream), block, end));
    }

    /// A GET / request that ends the stream.
    pub fn get(&mut self, stream: u32) {
        let fields = self.request("GET", "/");
        self.headers(stream, &fields, true);
    }

    /// A POST request head on `path`, leaving the stream open for a body.
    pub fn post(&mut self, stream: u32, path: &str) {
        let fields = self.request("POST", path);
        self.headers(stream, &fields, false);
    }

    /// A DATA frame.
    pub fn data(&mut self, stream: u32, data: impl AsRef<[u8]>, end: bool) {
        self.send(Data::new(StreamId(stream), Bytes::copy_from_slice(data.as_ref()), end));
    }

    /// A CONTINUATION frame.
    pub fn continuation(&mut self, stream: u32, fragment: Bytes, end_headers: bool) {
        self.send(Continuation { stream_id: StreamId(stream), fragment, end_headers });
    }

    /// A PING (not an ACK).
    pub fn ping(&mut self, payload: [u8; 8]) {
        self.send(Ping { ack: false, payload });
    }

    /// A WINDOW_UPDATE.
    pub fn window_update(&mut self, stream: u32, increment: u32) {
        self.send(WindowUpdate { stream_id: StreamId(stream), increment });
    }

    /// A RST_STREAM.
    pub fn rst(&mut self, stream: u32, code: ErrorCode) {
        self.send(RstStream::new(StreamId(stream), code));
    }

    /// A PRIORITY frame.
    pub fn priority(&mut self, stream: u32, dependency: u32, exclusive: bool, weight: u16) {
        let spec = PrioritySpec { dependency: StreamId(dependency), exclusive, weight };
        self.send(Priority { stream_id: StreamId(stream), spec });
    }

    // ----- Reading -----

    /// The next event from the server, waiting until `deadline` at most. Answers the
    /// server's SETTINGS and PINGs on the way, as a client must.
    pub fn next(&mut self, deadline: Instant) -> Ev {
        match self.pending.pop_front() {
            Some(ev) => ev,
            None => self.read_event(deadline),
        }
    }

    fn read_event(&mut self, deadline: Instant) -> Ev {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match self.frames.next_raw() {
                Ok(Some((head, payload))) => return self.on_frame(head, payload),
                Ok(None) => {}
                Err(e) => return Ev::Invalid(e.to_string()),
            }
            if let Some(why) = &self.closed {
                return Ev::Closed(why.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return Ev::Timeout;
            }
            let _ =
                self.sock.set_read_timeout(Some((deadline - now).max(Duration::from_millis(1))));
            match self.sock.read(&mut buf) {
                Ok(0) => self.closed = Some("connection closed (EOF)".into()),
                Ok(n) => self.frames.extend(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => self.closed = Some(format!("connection closed ({e})")),
            }
        }
    }

    /// Reads whatever has arrived, without waiting, and keeps it for `next`. Cases that
    /// write a lot call it between writes so the server's answers cannot fill the socket
    /// buffers and stall both ends.
    pub fn drain(&mut self) {
        loop {
            let ev = self.read_event(Instant::now() + Duration::from_millis(1));
            match ev {
                Ev::Timeout => return,
                Ev::Closed(_) | Ev::Invalid(_) => {
                    self.pending.push_back(ev);
                    return;
                }
                Ev::Frame(_) => self.pending.push_back(ev),
            }
        }
    }

    fn on_frame(&mut self, head: FrameHeader, payload: Bytes) -> Ev {
        let frame = match Frame::decode(head, payload) {
            Ok(f) => f,
            Err(e) => {
                return Ev::Invalid(format!("{:?} frame rejected: {}", head.kind, e));
            }
        };
        let desc = describe_frame(&frame);
        if self.seen.len() == 8 {
            self.seen.remove(0);
        }
        self.seen.push(desc);
        match &frame {
            Frame::Settings(s) if s.ack => self.settings_acks += 1,
            Frame::Settings(s) => {
                self.server_settings.entries.extend(s.entries.iter().copied());
                if let Some(size) = s.get(SettingId::HEADER_TABLE_SIZE) {
                    self.encoder.set_max_table_size(size as usize);
                }
                if self.auto_ack {
                    self.send_auto(Settings::ack());
                }
            }
            Frame::Ping(p) if !p.ack => self.send_auto(Ping { ack: true, payload: p.payload }),
            Frame::Headers(h) => {
                let block = BytesMut::from(&h.fragment[..]);
                self.block = Some((h.stream_id.0, h.end_stream, block));
                if h.end_headers {
                    return self.finish_block(frame);
                }
            }
            Frame::PushPromise(p) => {
                self.block = Some((p.stream_id.0, false, BytesMut::from(&p.fragment[..])));
                if p.end_headers {
                    return self.finish_block(frame);
                }
            }
            Frame::Continuation(c) => {
                if let Some((_, _, block)) = self.block.as_mut() {
                    block.extend_from_slice(&c.fragment);
                }
                if c.end_headers {
                    return self.finish_block(frame);
                }
            }
            _ => {}
        }
        Ev::Frame(frame)
    }

    fn finish_block(&mut self, frame: Frame) -> Ev {
        let Some((stream, end, block)) = self.block.take() else {
            return Ev::Invalid("CONTINUATION without a preceding HEADERS".into());
        };
        let mut fields = Vec::new();
        let result = self.decoder.decode(&block.freeze(), |f| {
            fields.push((
                String::from_utf8_lossy(&f.name).into_owned(),
                String::from_utf8_lossy(&f.value).into_owned(),
            ))
        });
        if let Err(e) = result {
            return Ev::Invalid(format!("undecodable header block from the server: {e}"));
        }
        if matches!(frame, Frame::PushPromise(_)) {
            return Ev::Frame(frame);
        }
        self.last_block = Some((stream, end, fields));
        Ev::Frame(frame)
    }

    /// Takes the header block completed by the last HEADERS/CONTINUATION frame.
    pub fn take_block(&mut self) -> Option<(u32, bool, Fields)> {
        self.last_block.take()
    }

    /// A description of an event for a failure report, with the frames seen before it.
    pub fn describe(&self, ev: &Ev) -> String {
        let what = match ev {
            Ev::Frame(f) => describe_frame(f),
            Ev::Invalid(why) => format!("an invalid frame: {why}"),
            Ev::Closed(why) => why.clone(),
            Ev::Timeout => format!("nothing within {:.1} s", self.wait.as_secs_f32()),
        };
        let before: Vec<&str> = match ev {
            Ev::Frame(_) => self.seen.iter().rev().skip(1).rev().map(String::as_str).collect(),
            _ => self.seen.iter().map(String::as_str).collect(),
        };
        if before.is_empty() || !matches!(ev, Ev::Timeout) {
            what
        } else {
            format!("{what} (after {})", before.join(", "))
        }
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.wait
    }

    // ----- Expectations -----

    /// A connection error: a GOAWAY carrying one of `codes`. A bare close is a lenient
    /// failure (a warning unless `--strict`). A response on the stream of the last frame
    /// the case wrote, before the GOAWAY, fails when the server cannot have sent it before
    /// reading that frame (module `sent`); other frames are passed over.
    pub fn expect_connection_error(&mut self, codes: &[ErrorCode]) -> Outcome {
        let expected = format!("GOAWAY with {}", names(codes));
        let stream = self.sent.last_stream();
        let deadline = self.deadline();
        loop {
            let ev = self.next(deadline);
            match &ev {
                Ev::Frame(Frame::GoAway(g)) if codes.contains(&g.error_code) => return Ok(()),
                // A graceful announcement may precede the error's GOAWAY.
                Ev::Frame(Frame::GoAway(g))
                    if g.error_code == ErrorCode::NO_ERROR && g.last_stream_id == StreamId::MAX => {
                }
                Ev::Frame(Frame::GoAway(_)) | Ev::Invalid(_) | Ev::Timeout => {
                    return Err(Failure::new(expected, self.describe(&ev)));
                }
                Ev::Closed(_) => {
                    return Err(Failure::lenient(expected, self.describe(&ev)));
                }
                Ev::Frame(_) if self.contradicts(&ev, stream) => {
                    return Err(self.answered(expected, &ev, "GOAWAY"));
                }
                Ev::Frame(_) => {}
            }
        }
    }

    /// A stream error on `stream`: RST_STREAM with one of `codes`. With `or_connection`
    /// the RFC rule also allows a connection error, so a GOAWAY with one of `codes` passes
    /// too; without it such a GOAWAY is a lenient failure (§5.4.1 lets any endpoint
    /// escalate, but the rule asks for the narrower reaction). A response on `stream`
    /// before the reset fails when the server cannot have sent it before reading the frame
    /// under test (module `sent`); other frames are passed over.
    pub fn expect_stream_error(
        &mut self,
        stream: u32,
        codes: &[ErrorCode],
        or_connection: bool,
    ) -> Outcome {
        let expected = if or_connection {
            format!("RST_STREAM on stream {stream} or GOAWAY, with {}", names(codes))
        } else {
            format!("RST_STREAM on stream {stream} with {}", names(codes))
        };
        let deadline = self.deadline();
        loop {
            let ev = self.next(deadline);
            match &ev {
                Ev::Frame(Frame::RstStream(r)) if r.stream_id.0 == stream => {
                    if codes.contains(&r.error_code) {
                        return Ok(());
                    }
                    return Err(Failure::new(expected, self.describe(&ev)));
                }
                Ev::Frame(Frame::GoAway(g)) if codes.contains(&g.error_code) => {
                    if or_connection {
                        return Ok(());
                    }
                    return Err(Failure::lenient(expected, self.describe(&ev)));
                }
                Ev::Frame(Frame::GoAway(g))
                    if g.error_code == ErrorCode::NO_ERROR && g.last_stream_id == StreamId::MAX => {
                }
                Ev::Frame(Frame::GoAway(_)) | Ev::Invalid(_) | Ev::Timeout => {
                    return Err(Failure::new(expected, self.describe(&ev)));
                }
                Ev::Closed(_) => return Err(Failure::lenient(expected, self.describe(&ev))),
                Ev::Frame(_) if self.contradicts(&ev, stream) => {
                    return Err(self.answered(expected, &ev, "RST_STREAM"));
                }
                Ev::Frame(_) => {}
            }
        }
    }

    /// Whether `ev` is a response frame on `stream` that the server cannot have sent before
    /// reading the frame under test (see [`crate::sent`]), so it accepted what it had to
    /// reject. Frames that do not bear on the verdict (SETTINGS, PING, WINDOW_UPDATE,
    /// PRIORITY, frames of other streams, a response that may predate the frame under test)
    /// are not.
    fn contradicts(&self, ev: &Ev, stream: u32) -> bool {
        let response = matches!(
            ev,
            Ev::Frame(
                f @ (Frame::Headers(_)
                | Frame::Continuation(_)
                | Frame::Data(_)
                | Frame::PushPromise(_))
            ) if f.stream_id().0 == stream
        );
        response && stream != 0 && !self.plays_server && !self.sent.answerable(stream)
    }

    fn answered(&self, expected: String, ev: &Ev, instead: &str) -> Failure {
        Failure::new(
            expected,
            format!(
                "{} before any {instead}: the server answered a request it had to reject",
                self.describe(ev)
            ),
        )
    }

    /// Sends a PING and waits for its ACK; anything that ends the connection or resets a
    /// stream on the way is a failure. This is how a case checks that the server *ignored*
    /// something: frames are processed in order, so the ACK comes after any reaction.
    pub fn expect_ping_ack(&mut self, what: &str) -> Outcome {
        let payload = *b"h2proto!";
        self.ping(payload);
        let expected = format!("{what}: the connection goes on (PING answered)");
        self.await_ping_ack(payload, expected, true)
    }

    /// Waits for a PING ACK with this payload, ignoring other frames but not a GOAWAY.
    pub fn expect_ping_ack_of(&mut self, payload: [u8; 8]) -> Outcome {
        let expected = format!("PING ACK with payload {payload:?}");
        self.await_ping_ack(payload, expected, false)
    }

    /// Waits for the ACK of `payload`; another ACK, a GOAWAY, an invalid frame, the end of
    /// the connection or the deadline fail, and so does a RST_STREAM if `no_resets`.
    fn await_ping_ack(&mut self, payload: [u8; 8], expected: String, no_resets: bool) -> Outcome {
        let deadline = self.deadline();
        loop {
            let ev = self.next(deadline);
            match &ev {
                Ev::Frame(Frame::Ping(p)) if p.ack && p.payload == payload => return Ok(()),
                Ev::Frame(Frame::RstStream(_)) if !no_resets => {}
                Ev::Frame(Frame::Ping(p)) if p.ack => {
                    return Err(Failure::new(expected, self.describe(&ev)));
                }
                Ev::Frame(Frame::GoAway(_) | Frame::RstStream(_))
                | Ev::Invalid(_)
                | Ev::Closed(_)
                | Ev::Timeout => return Err(Failure::new(expected, self.describe(&ev))),
                Ev::Frame(_) => {}
            }
        }
    }

    /// Waits for a SETTINGS ACK.
    pub fn expect_settings_ack(&mut self) -> Outcome {
        let before = self.settings_acks;
        let deadline = self.deadline();
        loop {
            if self.settings_acks > before {
                return Ok(());
            }
            let ev = self.next(deadline);
            match &ev {
                Ev::Frame(Frame::Settings(s)) if s.ack => {}
                Ev::Frame(Frame::GoAway(_)) | Ev::Invalid(_) | Ev::Closed(_) | Ev::Timeout => {
                    return Err(Failure::new("SETTINGS with ACK", self.describe(&ev)));
                }
                Ev::Frame(_) => {}
            }
        }
    }

    /// Reads the whole response on `stream`: 1xx heads, the final head, DATA and trailers
    /// until END_STREAM. A reset, GOAWAY with an error, close or timeout is a failure.
    pub fn expect_response(&mut self, stream: u32) -> Result<Response, Failure> {
        let expected = format!("a complete response on stream {stream}");
        let mut response = Response::default();
        let mut have_head = false;
        let deadline = self.deadline();
        loop {
            let ev = self.next(deadline);
            let end = match &ev {
                Ev::Frame(Frame::Headers(_) | Frame::Continuation(_)) => {
                    let Some((id, end, fields)) = self.take_block() else { continue };
                    if id != stream {
                        continue;
                    }
                    if have_head {
                        response.trailers = Some(fields);
                        true
                    } else {
                        let status = fields
                            .iter()
                            .find(|(n, _)| n == ":status")
                            .and_then(|(_, v)| v.parse().ok())
                            .unwrap_or(0);
                        if (100..200).contains(&status) {
                            response.informational.push(status);
                        } else {
                            response.status = status;
                            response.fields = fields;
                            have_head = true;
                        }
                        end
                    }
                }
                Ev::Frame(Frame::Data(d)) if d.stream_id.0 == stream => {
                    response.body.extend_from_slice(&d.data);
                    // Keep the server's windows open for larger bodies.
                    let n = d.flow_controlled_len() as u32;
                    if n > 0 {
                        self.window_update(0, n);
                        if !d.end_stream {
                            self.window_update(stream, n);
                        }
                    }
                    d.end_stream
                }
                Ev::Frame(Frame::RstStream(r)) if r.stream_id.0 == stream => {
                    return Err(Failure::new(expected, self.describe(&ev)));
                }
                Ev::Frame(Frame::GoAway(g)) if g.error_code != ErrorCode::NO_ERROR => {
                    return Err(Failure::new(expected, self.describe(&ev)));
                }
                Ev::Invalid(_) | Ev::Closed(_) | Ev::Timeout => {
                    return Err(Failure::new(expected, self.describe(&ev)));
                }
                Ev::Frame(_) => false,
            };
            if end {
                return Ok(response);
            }
        }
    }

    /// Waits for the first frame the server sends on `stream` (HEADERS, DATA or RST_STREAM).
    pub fn expect_frame_on(&mut self, stream: u32) -> Result<Frame, Failure> {
        let deadline = self.deadline();
        loop {
            let ev = self.next(deadline);
            match ev {
                Ev::Frame(f) if f.stream_id().0 == stream => return Ok(f),
                Ev::Frame(Frame::GoAway(_)) | Ev::Invalid(_) | Ev::Closed(_) | Ev::Timeout => {
                    let observed = self.describe(&ev);
                    return Err(Failure::new(format!("a frame on stream {stream}"), observed));
                }
                Ev::Frame(_) => {}
            }
        }
    }

    /// Waits for the server to close the TCP connection (after its GOAWAY).
    pub fn expect_close(&mut self) -> Outcome {
        let deadline = self.deadline();
        loop {
            let ev = self.next(deadline);
            match &ev {
                Ev::Closed(_) => return Ok(()),
                Ev::Timeout | Ev::Invalid(_) => {
                    return Err(Failure::new("the TCP connection closed", self.describe(&ev)));
                }
                Ev::Frame(_) => {}
            }
        }
    }

    /// Whether the server sent this setting, and its last value.
    pub fn server_setting(&self, id: SettingId) -> Option<u32> {
        self.server_settings.get(id)
    }

    /// The `:authority` requests carry.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The resource ordinary requests ask for.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// `RST_STREAM` etc.: the names of the codes, joined with "or".
pub fn names(codes: &[ErrorCode]) -> String {
    codes.iter().map(|c| format!("{c}")).collect::<Vec<_>>().join(" or ")
}

/// A one-line description of a frame, for reports.
pub fn describe_frame(frame: &Frame) -> String {
    let id = frame.stream_id().0;
    match frame {
        Frame::Data(d) => format!(
            "DATA(stream {id}, {} bytes{})",
            d.data.len(),
            if d.end_stream { ", END_STREAM" } else { "" }
        ),
        Frame::Headers(h) => format!(
            "HEADERS(stream {id}{}{})",
            if h.end_stream { ", END_STREAM" } else { "" },
            if h.end_headers { "" } else { ", no END_HEADERS" }
        ),
        Frame::Continuation(c) => {
            format!("CONTINUATION(stream {id}{})", if c.end_headers { ", END_HEADERS" } else { "" })
        }
        Frame::RstStream(r) => format!("RST_STREAM(stream {id}, {})", r.error_code),
        Frame::GoAway(g) => {
            let debug = String::from_utf8_lossy(&g.debug_data);
            let debug = if debug.is_empty() { String::new() } else { format!(", \"{debug}\"") };
            format!("GOAWAY(last stream {}, {}{debug})", g.last_stream_id.0, g.error_code)
        }
        Frame::Settings(s) if s.ack => "SETTINGS(ACK)".into(),
        Frame::Settings(s) => {
            let entries: Vec<String> =
                s.entries.iter().map(|e| format!("{:?}={}", e.id, e.value)).collect();
            format!("SETTINGS({})", entries.join(", "))
        }
        Frame::Ping(p) if p.ack => "PING(ACK)".into(),
        Frame::Ping(_) => "PING".into(),
        Frame::WindowUpdate(w) => format!("WINDOW_UPDATE(stream {id}, +{})", w.increment),
        Frame::Priority(_) => format!("PRIORITY(stream {id})"),
        Frame::PushPromise(p) => format!("PUSH_PROMISE(stream {id}, promised {})", p.promised_id.0),
        Frame::PriorityUpdate(p) => {
            format!("PRIORITY_UPDATE(stream {})", p.prioritized_stream_id.0)
        }
        Frame::Unknown(u) => format!("frame of type {:#x} (stream {id})", u.kind.0),
    }
}

/// A raw frame: shorthand for the cases.
pub fn raw(kind: FrameType, stream: u32) -> RawFrame {
    RawFrame::new(kind, stream)
}

/// Flags re-exported for the cases.
pub use flags::{ACK, END_HEADERS, END_STREAM, PADDED, PRIORITY};
