//! RFC 9113 §3 (starting HTTP/2, the connection preface) and §4 (frame format, frame size,
//! field block framing), for the requirements the other test files left unproven (see
//! `conformance/requirements/9113-02-04.toml`). Frames are read off the wire raw, header by
//! header, so that flags, the reserved bit and lengths are seen exactly as sent.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{
    Data, FrameType, HEADER_LEN, Headers, Ping, RawFrame, Settings, StreamId, flags,
};
use h2proto::{Config, Connection, ErrorCode, Event, PREFACE, Role, buf_to_vec};
use support::*;

const ROLES: [Role; 2] = [Role::Server, Role::Client];

/// A frame header as read off the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head {
    length: usize,
    kind: u8,
    flags: u8,
    /// The 32-bit word with the reserved bit, as sent.
    stream_word: u32,
}

impl Head {
    fn stream(&self) -> u32 {
        self.stream_word & 0x7fff_ffff
    }
}

/// Splits what a connection wrote into frame headers (a client's 24-octet magic is
/// skipped), asserting it is a whole number of frames.
fn heads(wire: &[u8]) -> Vec<Head> {
    let mut reader = Reader::default();
    let out = reader.read(wire);
    assert!(reader.buf.is_empty(), "a partial frame");
    out
}

/// Reads frame headers off a byte stream that may be cut anywhere.
#[derive(Default)]
struct Reader {
    buf: Vec<u8>,
    started: bool,
}

impl Reader {
    fn read(&mut self, bytes: &[u8]) -> Vec<Head> {
        self.buf.extend_from_slice(bytes);
        if !self.started && self.buf.len() >= PREFACE.len() {
            self.started = true;
            if self.buf.starts_with(PREFACE) {
                self.buf.drain(..PREFACE.len());
            }
        }
        let mut out = Vec::new();
        let mut at = 0;
        while self.started && self.buf.len() - at >= HEADER_LEN {
            let w = &self.buf[at..at + HEADER_LEN];
            let head = Head {
                length: u32::from_be_bytes([0, w[0], w[1], w[2]]) as usize,
                kind: w[3],
                flags: w[4],
                stream_word: u32::from_be_bytes([w[5], w[6], w[7], w[8]]),
            };
            if self.buf.len() - at < HEADER_LEN + head.length {
                break;
            }
            at += HEADER_LEN + head.length;
            out.push(head);
        }
        self.buf.drain(..at);
        out
    }
}

/// The flags RFC 9113 §6 (and RFC 9218 §7.1) define for a frame type.
fn defined_flags(kind: u8) -> u8 {
    match FrameType(kind) {
        FrameType::DATA => flags::END_STREAM | flags::PADDED,
        FrameType::HEADERS => {
            flags::END_STREAM | flags::END_HEADERS | flags::PADDED | flags::PRIORITY
        }
        FrameType::SETTINGS | FrameType::PING => flags::ACK,
        FrameType::PUSH_PROMISE => flags::END_HEADERS | flags::PADDED,
        FrameType::CONTINUATION => flags::END_HEADERS,
        _ => 0,
    }
}

/// Offers `bytes` to `conn`, keeping what it does not take yet; returns how much it took.
fn feed(conn: &mut Connection, bytes: &mut Bytes) -> usize {
    if bytes.is_empty() {
        return 0;
    }
    // One fixed time: these exchanges measure no timers.
    static NOW: std::sync::LazyLock<std::time::Instant> =
        std::sync::LazyLock::new(std::time::Instant::now);
    let n = conn.recv(bytes.clone(), *NOW).expect("the connection accepts what its peer sends");
    *bytes = bytes.slice(n..);
    n
}

fn fresh(role: Role, config: Config) -> Peer {
    match role {
        Role::Server => Peer::server_with(config),
        Role::Client => Peer::client_with(config),
    }
}

/// Moves bytes between a client and a server until both are quiet, recording every frame
/// header each one wrote.
struct Tap {
    client: Connection,
    server: Connection,
    from_client: Vec<Head>,
    from_server: Vec<Head>,
    readers: (Reader, Reader),
    /// Bytes written but not yet taken by the other side (client's, server's).
    unread: (Bytes, Bytes),
    events: (Vec<Event>, Vec<Event>),
}

impl Tap {
    fn new(client: Config, server: Config) -> Tap {
        let mut tap = Tap {
            client: Connection::client(client),
            server: Connection::server(server),
            from_client: Vec::new(),
            from_server: Vec::new(),
            readers: Default::default(),
            unread: Default::default(),
            events: Default::default(),
        };
        tap.drive();
        tap
    }

    fn drive(&mut self) {
        for _ in 0..10_000 {
            let to_server = buf_to_vec(self.client.transmit());
            let to_client = buf_to_vec(self.server.transmit());
            self.from_client.extend(self.readers.0.read(&to_server));
            self.from_server.extend(self.readers.1.read(&to_client));
            let moved = !to_server.is_empty() || !to_client.is_empty();
            self.unread.0 = [self.unread.0.clone(), to_server.into()].concat().into();
            self.unread.1 = [self.unread.1.clone(), to_client.into()].concat().into();
            let taken = (
                feed(&mut self.server, &mut self.unread.0),
                feed(&mut self.client, &mut self.unread.1),
            );
            self.events.1.extend(std::iter::from_fn(|| self.server.poll_event()));
            self.events.0.extend(std::iter::from_fn(|| self.client.poll_event()));
            if !moved && taken == (0, 0) {
                return;
            }
        }
        panic!("the pair did not settle");
    }

    fn server_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events.1)
    }

    fn client_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events.0)
    }

    /// A request with a large head and a body of `body` octets, answered with a large head,
    /// a body of `body` octets and trailers; the client reads everything.
    fn exchange(&mut self, body: usize) {
        let mut request = http::Request::post("http://example.com/upload").body(()).unwrap();
        request.headers_mut().insert("x-large", "q".repeat(40_000).parse().unwrap());
        let id = self.client.send_request(request, false).unwrap();
        self.client.send_data(id, Bytes::from(vec![b'u'; body]), true).unwrap();
        self.drive();
        let events = self.server_events();
        assert!(events.iter().any(|e| matches!(e, Event::Request { .. })), "{events:?}");
        while self.server.read_data(id).is_some() {}
        let mut response = status(200);
        response.headers_mut().insert("x-large", "r".repeat(40_000).parse().unwrap());
        self.server.send_response(id, response, false).unwrap();
        self.server.send_data(id, Bytes::from(vec![b'd'; body]), false).unwrap();
        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-checksum", "0".parse().unwrap());
        self.server.send_trailers(id, trailers).unwrap();
        for _ in 0..100 {
            self.drive();
            let events = self.client_events();
            while self.client.read_data(id).is_some() {}
            if events.iter().any(|e| matches!(e, Event::Trailers { .. })) {
                return;
            }
        }
        panic!("the response did not complete");
    }
}

// ----- §3.4 Connection preface -----

/// §3.4: the SETTINGS frame of the peer's preface is acknowledged after our own preface,
/// even when it arrives before we have written anything: the ACK follows our SETTINGS.
#[test]
fn rfc9113_3_4_preface_settings_are_acked_after_our_preface() {
    for role in ROLES {
        let mut peer = fresh(role, Config::default());
        if role == Role::Server {
            peer.send_bytes(PREFACE);
        }
        peer.send(Settings::new());
        let wire = buf_to_vec(peer.conn.transmit());
        if role == Role::Client {
            assert!(wire.starts_with(PREFACE), "the client magic comes first");
        }
        let heads = heads(&wire);
        let settings = |ack: bool| {
            heads
                .iter()
                .position(|h| h.kind == FrameType::SETTINGS.0 && (h.flags & flags::ACK != 0) == ack)
        };
        assert_eq!(settings(false), Some(0), "{role:?}: our SETTINGS first: {heads:?}");
        let ack = settings(true).unwrap_or_else(|| panic!("{role:?}: no ACK: {heads:?}"));
        assert!(ack > 0, "{role:?}: the ACK after our preface");
        assert_eq!(heads[ack].length, 0);
    }
}

/// §3.4: the SETTINGS frame that follows the magic "MAY be empty": an empty one opens the
/// connection for either role, and requests then flow.
#[test]
fn rfc9113_3_4_an_empty_settings_frame_is_a_valid_preface() {
    // Server under test: magic + a SETTINGS frame with no parameters at all.
    let mut peer = Peer::server();
    peer.send_bytes(PREFACE);
    peer.send_bytes(&RawFrame::new(FrameType::SETTINGS, 0).to_bytes());
    let frames = peer.frames();
    assert!(frames.contains(&Settings::ack().into()), "acknowledged: {frames:?}");
    let get = peer.get(1, "/");
    peer.send(get);
    let events = peer.events();
    assert!(matches!(events.last(), Some(Event::Request { .. })), "{events:?}");
    peer.expect_alive();

    // Client under test: the server's preface is an empty SETTINGS frame.
    let mut peer = Peer::client();
    peer.frames();
    peer.send_bytes(&RawFrame::new(FrameType::SETTINGS, 0).to_bytes());
    assert!(peer.frames().contains(&Settings::ack().into()));
    peer.conn.send_request(get_request(), true).unwrap();
    let frames = peer.frames();
    assert!(frames.iter().any(|f| matches!(f, h2proto::frame::Frame::Headers(_))), "{frames:?}");
    peer.expect_alive();
}

fn get_request() -> http::Request<()> {
    get("http://example.com/")
}

// ----- §4.1 Frame format -----

/// §4.1: "Unused flags ... MUST be left unset (0x00) when sending" and the reserved bit
/// "MUST remain unset (0x00) when sending": every frame either role writes in a full
/// exchange (preface, SETTINGS and ACKs, HEADERS and CONTINUATION, DATA, trailers,
/// WINDOW_UPDATE, PING and its ACK, RST_STREAM, GOAWAY) carries only flags its type defines.
#[test]
fn rfc9113_4_1_frames_we_send_set_only_defined_flags_and_never_the_reserved_bit() {
    let mut tap = Tap::new(Config::default(), Config::default());
    tap.exchange(200_000);
    tap.client.ping(*b"pingping").unwrap();
    tap.server.ping(*b"pongpong").unwrap();
    let id = tap.client.send_request(get_request(), false).unwrap();
    tap.drive();
    tap.client.reset(id, ErrorCode::CANCEL).unwrap();
    tap.drive();
    tap.server.shutdown();
    tap.drive();
    tap.client.close(ErrorCode::NO_ERROR, "done");
    tap.drive();
    for (who, heads) in [("client", &tap.from_client), ("server", &tap.from_server)] {
        let kinds: std::collections::BTreeSet<u8> = heads.iter().map(|h| h.kind).collect();
        for kind in [
            FrameType::DATA,
            FrameType::HEADERS,
            FrameType::RST_STREAM,
            FrameType::SETTINGS,
            FrameType::PING,
            FrameType::GOAWAY,
            FrameType::WINDOW_UPDATE,
            FrameType::CONTINUATION,
        ] {
            let sent =
                kinds.contains(&kind.0) || (kind == FrameType::RST_STREAM && who == "server");
            assert!(sent, "the {who} sent no {kind:?}: the exchange does not cover it");
        }
        for h in heads.iter() {
            assert_eq!(h.flags & !defined_flags(h.kind), 0, "{who}: undefined flags in {h:?}");
            assert_eq!(h.stream_word >> 31, 0, "{who}: reserved bit set in {h:?}");
        }
    }
}

/// §4.1: lengths over 2^14 "MUST NOT be sent unless the receiver has set a larger value for
/// SETTINGS_MAX_FRAME_SIZE": with the default, no frame of either role exceeds 16,384
/// octets (large heads go on in CONTINUATION, large bodies in several DATA frames); a peer
/// that allows 65,536 gets larger frames, and none larger than that.
#[test]
fn rfc9113_4_1_no_frame_over_16384_octets_unless_the_peer_allows_more() {
    let mut tap = Tap::new(Config::default(), Config::default());
    tap.exchange(300_000);
    for heads in [&tap.from_client, &tap.from_server] {
        assert!(heads.iter().all(|h| h.length <= 16_384), "{heads:?}");
        assert!(heads.iter().any(|h| h.length == 16_384), "full-size frames were sent");
    }

    let mut big = Config::default();
    big.max_frame_size = 65_536;
    big.initial_stream_window_size = 1 << 20;
    big.initial_connection_window_size = 1 << 20;
    let mut tap = Tap::new(big.clone(), big);
    tap.exchange(300_000);
    for heads in [&tap.from_client, &tap.from_server] {
        assert!(heads.iter().all(|h| h.length <= 65_536), "{heads:?}");
        assert!(heads.iter().any(|h| h.length > 16_384), "the larger limit is used");
    }
}

/// §4.1: "Implementations MUST ignore and discard frames of unknown types": on stream 0, on
/// an open stream and on a stream never opened, with any flags, for either role. Nothing is
/// sent back and the connection carries on.
#[test]
fn rfc9113_4_1_unknown_frame_types_are_ignored_on_any_stream() {
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        let open = 1;
        peer.open_stream(open);
        for (kind, stream) in [(0x0b, 0), (0xee, open), (0xff, 7), (0x20, 2)] {
            peer.send_raw(RawFrame::new(FrameType(kind), stream).flags(0xff).payload(b"??"));
            peer.expect_silence();
        }
        // The open stream still works.
        peer.send(data(open, b"body", false));
        let events = peer.events();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Data { stream_id, .. } if stream_id.0 == open)),
            "{role:?}: {events:?}"
        );
        peer.expect_alive();
    }
}

/// §4.1: "Unused flags MUST be ignored on receipt": every frame type with all its undefined
/// flags set behaves exactly as without them (a server under test serves the request, answers
/// the PING, applies the SETTINGS and the WINDOW_UPDATE).
#[test]
fn rfc9113_4_1_undefined_flags_are_ignored_on_every_frame_type() {
    let mut peer = Peer::server();
    peer.send_bytes(PREFACE);
    let settings = RawFrame::from_frame(&Settings::new().into()).flags(!flags::ACK);
    peer.send_raw(settings);
    let frames = peer.frames();
    assert!(frames.contains(&Settings::ack().into()), "SETTINGS taken as non-ACK: {frames:?}");
    peer.send(Settings::ack());
    // HEADERS: all but END_STREAM | END_HEADERS | PADDED | PRIORITY; no END_STREAM.
    let head = peer.post(1, "/");
    let undefined = !defined_flags(FrameType::HEADERS.0);
    let raw = RawFrame::from_frame(&Headers { end_stream: false, ..head }.into());
    let set = raw.flags | undefined;
    peer.send_raw(raw.flags(set));
    // DATA: all but END_STREAM | PADDED.
    let raw = RawFrame::from_frame(&Data::new(StreamId(1), &b"body"[..], false).into());
    peer.send_raw(raw.flags(!defined_flags(FrameType::DATA.0)));
    // WINDOW_UPDATE and PRIORITY define no flag.
    peer.send_raw(RawFrame::from_frame(&window_update(0, 1000).into()).flags(0xff));
    peer.send_raw(RawFrame::new(FrameType::PRIORITY, 1).flags(0xff).payload([0, 0, 0, 0, 16]));
    peer.expect_quiet();
    let events = peer.events();
    assert!(
        matches!(
            &events[..],
            [
                Event::RemoteSettings { .. },
                Event::SettingsAcked,
                Event::Request { end_stream: false, .. },
                Event::Data { end_stream: false, .. }
            ]
        ),
        "{events:?}"
    );
    assert_eq!(peer.conn.read_data(StreamId(1)).as_deref(), Some(&b"body"[..]));
    // PING: all but ACK.
    peer.send_raw(
        RawFrame::from_frame(&Ping { ack: false, payload: *b"flagged!" }.into()).flags(!flags::ACK),
    );
    let frames = peer.frames();
    assert!(
        frames.contains(&Ping { ack: true, payload: *b"flagged!" }.into()),
        "the PING is answered: {frames:?}"
    );
    // RST_STREAM defines no flag either.
    peer.send_raw(RawFrame::from_frame(&rst(1, ErrorCode::CANCEL).into()).flags(0xff));
    let events = peer.events();
    assert!(
        matches!(&events[..], [Event::Reset { error_code: ErrorCode::CANCEL, .. }]),
        "{events:?}"
    );
    peer.expect_alive();
}

/// §4.1: the reserved bit "MUST be ignored when receiving": frames with it set count for
/// the stream the other 31 bits name, on either role.
#[test]
fn rfc9113_4_1_the_reserved_bit_is_ignored_on_receipt() {
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        let head = match role {
            Role::Server => peer.post(1, "/"),
            Role::Client => {
                let request = http::Request::post("http://example.com/").body(()).unwrap();
                peer.conn.send_request(request, false).unwrap();
                peer.frames();
                let block = peer.block(&[(":status", "200")]);
                Headers::new(StreamId(1), block, false)
            }
        };
        peer.send_raw(RawFrame::from_frame(&head.into()).reserved_bit());
        peer.send_raw(RawFrame::from_frame(&data(1, b"abc", false).into()).reserved_bit());
        peer.send_raw(RawFrame::from_frame(&window_update(1, 10).into()).reserved_bit());
        peer.send_raw(RawFrame::from_frame(&window_update(0, 10).into()).reserved_bit());
        peer.expect_quiet();
        let events = peer.events();
        let on_1 = |e: &Event| match e {
            Event::Request { stream_id, .. }
            | Event::Response { stream_id, .. }
            | Event::Data { stream_id, .. } => *stream_id == StreamId(1),
            _ => false,
        };
        assert_eq!(events.iter().filter(|e| on_1(e)).count(), 2, "{role:?}: {events:?}");
        assert_eq!(peer.conn.read_data(StreamId(1)).as_deref(), Some(&b"abc"[..]));
        peer.send_raw(RawFrame::from_frame(&rst(1, ErrorCode::CANCEL).into()).reserved_bit());
        let events = peer.events();
        assert!(
            matches!(&events[..], [Event::Reset { stream_id: StreamId(1), .. }]),
            "{role:?}: {events:?}"
        );
        peer.expect_alive();
    }
}

// ----- §4.2 Frame size -----

/// §4.2: every implementation receives and processes frames of 2^14 octets: a DATA frame and
/// a HEADERS frame of exactly 16,384 octets are accepted by either role.
#[test]
fn rfc9113_4_2_frames_of_16384_octets_are_accepted() {
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        let mut fields: Vec<(String, String)> = match role {
            Role::Server => {
                [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/")]
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect()
            }
            Role::Client => {
                let request = http::Request::post("http://example.com/").body(()).unwrap();
                peer.conn.send_request(request, false).unwrap();
                peer.frames();
                vec![(":status".into(), "200".into())]
            }
        };
        // Grow a plain (not Huffman, not indexed) value until the block is 16,384 octets.
        peer.encoder.set_use_huffman(false);
        let base = {
            let refs: Vec<(&str, &str)> =
                fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let mut probe = h2proto::hpack::Encoder::new();
            probe.set_use_huffman(false);
            let mut dst = BytesMut::new();
            probe.encode(
                refs.iter().map(|(n, v)| h2proto::hpack::FieldRef::new(n.as_bytes(), v.as_bytes())),
                &mut dst,
            );
            dst.len()
        };
        // A literal without indexing, new name "x-fill" (1 + 1 + 6 octets), a value length
        // of 3 octets (a 7-bit prefix over 16,000), then the value.
        let value_len = 16_384 - base - (1 + 1 + 6 + 3);
        fields.push(("x-fill".into(), "f".repeat(value_len)));
        let mut block = BytesMut::new();
        {
            let refs: Vec<(&str, &str)> =
                fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let mut enc = h2proto::hpack::Encoder::new();
            enc.set_use_huffman(false);
            enc.encode(
                refs.iter().map(|(n, v)| h2proto::hpack::FieldRef::new(n.as_bytes(), v.as_bytes())),
                &mut block,
            );
        }
        assert_eq!(block.len(), 16_384, "{role:?}: the HEADERS payload is exactly 2^14");
        peer.send(Headers::new(StreamId(1), block.freeze(), false));
        peer.send(Data::new(StreamId(1), vec![7u8; 16_384], true));
        peer.expect_quiet();
        let events = peer.events();
        assert!(
            events.iter().any(|e| matches!(e, Event::Request { .. } | Event::Response { .. })),
            "{role:?}: {events:?}"
        );
        assert!(
            events.iter().any(|e| matches!(e, Event::Data { end_stream: true, .. })),
            "{role:?}: {events:?}"
        );
        let body = Pair::read_all(&mut peer.conn, StreamId(1));
        assert_eq!(body.len(), 16_384);
    }
}

/// §4.2: FRAME_SIZE_ERROR for each of the three reasons: a frame over SETTINGS_MAX_FRAME_SIZE
/// (DATA), over its type's own limit (PING is 8 octets, RST_STREAM 4) and too small for its
/// mandatory data (PADDED DATA without the Pad Length octet; PRIORITY of 4 octets, a stream
/// error).
#[test]
fn rfc9113_4_2_frame_size_error_for_too_large_and_too_small_frames() {
    for role in ROLES {
        let bad: [(RawFrame, bool); 5] = [
            (RawFrame::new(FrameType::DATA, 1).payload(vec![0; 16_385]), true),
            (RawFrame::new(FrameType::PING, 0).payload([0; 9]), true),
            (RawFrame::new(FrameType::RST_STREAM, 1).payload([0; 5]), true),
            (RawFrame::new(FrameType::DATA, 1).flags(flags::PADDED), true),
            (RawFrame::new(FrameType::PRIORITY, 1).payload([0; 4]), false),
        ];
        for (frame, connection) in bad {
            let mut peer = Peer::connected(role, Config::default());
            match role {
                Role::Server => {
                    let post = peer.post(1, "/");
                    peer.send(post);
                }
                Role::Client => peer.open_request(1, false),
            }
            peer.send_raw(frame.clone());
            if connection {
                peer.expect_goaway(ErrorCode::FRAME_SIZE_ERROR);
            } else {
                peer.expect_reset(1, ErrorCode::FRAME_SIZE_ERROR);
            }
        }
    }
}

/// §4.2: a frame size error in a frame that can alter the whole connection is a connection
/// error: HEADERS, CONTINUATION and PUSH_PROMISE (they carry field blocks), SETTINGS, and
/// frames on stream 0 (PING, WINDOW_UPDATE, GOAWAY).
#[test]
fn rfc9113_4_2_frame_size_errors_in_connection_frames_are_connection_errors() {
    let oversized = vec![0u8; 16_385];
    let cases: Vec<(Role, Vec<RawFrame>)> = vec![
        (
            Role::Server,
            vec![
                RawFrame::new(FrameType::HEADERS, 1).flags(flags::END_HEADERS).payload(&oversized),
            ],
        ),
        // HEADERS with PRIORITY but too short to hold the priority fields.
        (
            Role::Server,
            vec![
                RawFrame::new(FrameType::HEADERS, 1)
                    .flags(flags::END_HEADERS | flags::PRIORITY)
                    .payload([0; 3]),
            ],
        ),
        (
            Role::Server,
            vec![
                RawFrame::new(FrameType::HEADERS, 1).payload([0x82]),
                RawFrame::new(FrameType::CONTINUATION, 1)
                    .flags(flags::END_HEADERS)
                    .payload(&oversized),
            ],
        ),
        (
            Role::Client,
            vec![
                RawFrame::new(FrameType::PUSH_PROMISE, 1).flags(flags::END_HEADERS).payload([0; 3]),
            ],
        ),
        (Role::Server, vec![RawFrame::new(FrameType::SETTINGS, 0).payload([0; 7])]),
        (
            Role::Client,
            vec![RawFrame::new(FrameType::SETTINGS, 0).flags(flags::ACK).payload([0; 6])],
        ),
        (Role::Server, vec![RawFrame::new(FrameType::PING, 0).payload([0; 7])]),
        (Role::Client, vec![RawFrame::new(FrameType::WINDOW_UPDATE, 0).payload([0; 3])]),
        (Role::Server, vec![RawFrame::new(FrameType::GOAWAY, 0).payload([0; 7])]),
    ];
    for (role, frames) in cases {
        let mut peer = Peer::connected(role, Config::default());
        if role == Role::Client {
            peer.open_request(1, false);
        }
        for frame in &frames {
            peer.send_raw(frame.clone());
        }
        peer.expect_goaway(ErrorCode::FRAME_SIZE_ERROR);
        assert!(peer.last_result.is_err(), "{role:?} {frames:?}: a connection error");
    }
}

// ----- §4.3 Field section compression -----

/// §4.3: a field block goes out as a contiguous run of HEADERS + CONTINUATION on one
/// stream, even while DATA of other streams is waiting to be sent: nothing comes between.
#[test]
fn rfc9113_4_3_field_blocks_are_sent_contiguously() {
    let mut tap = Tap::new(Config::default(), Config::default());
    // Three requests with bodies; the server answers all three at once, each with a head
    // of several frames and a body, so that heads and DATA compete for the wire.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut request = http::Request::post("http://example.com/").body(()).unwrap();
        request.headers_mut().insert("x-large", "c".repeat(50_000).parse().unwrap());
        let id = tap.client.send_request(request, false).unwrap();
        tap.client.send_data(id, Bytes::from(vec![1u8; 30_000]), true).unwrap();
        ids.push(id);
    }
    tap.drive();
    tap.server_events();
    for &id in &ids {
        while tap.server.read_data(id).is_some() {}
        let mut response = status(200);
        response.headers_mut().insert("x-large", "s".repeat(50_000).parse().unwrap());
        tap.server.send_response(id, response, false).unwrap();
        tap.server.send_data(id, Bytes::from(vec![2u8; 30_000]), true).unwrap();
    }
    tap.drive();
    for _ in 0..20 {
        for &id in &ids {
            while tap.client.read_data(id).is_some() {}
        }
        tap.drive();
    }
    for (who, heads) in [("client", &tap.from_client), ("server", &tap.from_server)] {
        let mut blocks = 0;
        let mut open: Option<u32> = None;
        for h in heads.iter() {
            if let Some(stream) = open {
                assert!(
                    h.kind == FrameType::CONTINUATION.0 && h.stream() == stream,
                    "{who}: {h:?} inside the field block of stream {stream}"
                );
            }
            if h.kind == FrameType::HEADERS.0 || h.kind == FrameType::CONTINUATION.0 {
                let ends = h.flags & flags::END_HEADERS != 0;
                open = if ends { None } else { Some(h.stream()) };
                blocks += usize::from(h.kind == FrameType::HEADERS.0 && !ends);
            }
        }
        assert!(open.is_none(), "{who}: a field block left unfinished");
        assert_eq!(blocks, 3, "{who}: three heads needed CONTINUATION");
        assert!(heads.iter().any(|h| h.kind == FrameType::DATA.0), "{who}: DATA sent too");
    }
}
