//! The connection: one sans-IO state machine for both roles. The type's own docs
//! ([`Connection`]) say how to drive it and why it has this shape.

mod adaptive;
mod flush;
mod headers;
mod lifecycle;
mod limits;
mod ping;
mod recv;
mod send;
mod timers;
mod transmit;

pub use limits::Stats;
pub use transmit::Transmit;

use crate::config::{Config, ConfigError};
use crate::error::ConnectionError;
use crate::event::Event;
use crate::flow::{RecvWindow, Window};
use crate::frame::{DEFAULT_MAX_FRAME_SIZE, FrameDecoder, Settings, StreamId};
use crate::hpack;
use crate::streams::Store;
use bytes::{Buf, Bytes, BytesMut};
use limits::TokenBucket;
use std::collections::VecDeque;
use timers::Timers;

/// The connection preface a client sends first (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Events a drained queue keeps room for; a burst beyond it gives its room back (240 B
/// an event). Room for a few hundred, so a busy connection's usual bursts (a read of a
/// hundred small responses is two hundred events) never shrink and regrow it.
const EVENTS_KEPT: usize = 256;

/// Which end of the connection this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Opens request streams (odd ids).
    Client,
    /// Answers them.
    Server,
}

/// The peer's settings as they apply to what we send (RFC 9113 §6.5.2 initial values until
/// its first SETTINGS arrives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerSettings {
    /// SETTINGS_HEADER_TABLE_SIZE: our encoder's table limit.
    pub header_table_size: u32,
    /// SETTINGS_ENABLE_PUSH.
    pub enable_push: bool,
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams we may open (until the peer's first SETTINGS:
    /// [`Config::initial_max_send_streams`](crate::Config::initial_max_send_streams)).
    pub max_concurrent_streams: u32,
    /// SETTINGS_INITIAL_WINDOW_SIZE: the send window of each new stream.
    pub initial_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE: the largest payload we may send.
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE: a head (or trailers) larger than this is not sent:
    /// the command fails with [`UserError::InvalidMessage`](crate::UserError::InvalidMessage)
    /// before anything goes out (RFC 9113 §10.5.1).
    pub max_header_list_size: u32,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL: extended CONNECT allowed (RFC 8441).
    pub enable_connect_protocol: bool,
}

impl Default for PeerSettings {
    fn default() -> Self {
        PeerSettings {
            header_table_size: 4096,
            enable_push: true,
            max_concurrent_streams: u32::MAX,
            initial_window_size: 65_535,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size: u32::MAX,
            // req 9113-5.5-6
            enable_connect_protocol: false,
        }
    }
}

/// Our settings that are in effect (acknowledged by the peer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LocalSettings {
    header_table_size: u32,
    /// SETTINGS_ENABLE_PUSH (a client's): whether PUSH_PROMISE is accepted.
    enable_push: bool,
    max_concurrent_streams: u32,
    initial_window_size: u32,
    max_frame_size: u32,
    max_header_list_size: u32,
    enable_connect_protocol: bool,
}

/// A HEADERS or PUSH_PROMISE whose field block continues in CONTINUATION frames.
#[derive(Debug)]
struct HeaderBlock {
    stream_id: StreamId,
    /// `Some(promised)` for PUSH_PROMISE.
    promised: Option<StreamId>,
    end_stream: bool,
    /// A stream error found in the first frame (self-dependency), applied after decoding.
    stream_error: Option<crate::ProtocolError>,
    fragments: BytesMut,
    continuations: u32,
}

/// Where a graceful shutdown is (RFC 9113 §6.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shutdown {
    None,
    /// First GOAWAY (last id 2^31-1) and a PING sent; waiting for the PING's ACK.
    Announced,
    /// Final GOAWAY sent; finishing streams in flight.
    Draining,
}

/// A sans-IO HTTP/2 connection, client or server.
///
/// # Using a `Connection`
///
/// The caller owns the transport and the clock; the connection owns protocol truth. Its
/// methods fall into four groups (the shape of quinn-proto's `Connection`):
///
/// - **Getters** (`&self`): [`role`](Connection::role), [`stats`](Connection::stats),
///   [`is_closed`](Connection::is_closed), [`can_open_stream`](Connection::can_open_stream),
///   [`peer_settings`](Connection::peer_settings) (and
///   [`peer_settings_received`](Connection::peer_settings_received)),
///   [`rtt`](Connection::rtt) (the latest PING round trip), ...
/// - **Inputs**, each with the current time: [`recv`](Connection::recv) with bytes from the
///   transport, in any chunking, and [`handle_timeout`](Connection::handle_timeout).
/// - **Commands** from the application: [`send_request`](Connection::send_request)
///   (and [`send_request_with_length`](Connection::send_request_with_length); a client's
///   [`set_origin`](Connection::set_origin) completes path-only targets),
///   [`send_response`](Connection::send_response), [`send_data`](Connection::send_data),
///   [`send_trailers`](Connection::send_trailers), [`reset`](Connection::reset),
///   [`ping`](Connection::ping), [`shutdown`](Connection::shutdown),
///   [`update_settings`](Connection::update_settings),
///   [`release_capacity`](Connection::release_capacity).
/// - **Outputs**: [`poll_event`](Connection::poll_event) until `None`,
///   [`read_data`](Connection::read_data) for bodies, [`transmit`](Connection::transmit) for
///   bytes to write, [`poll_timeout`](Connection::poll_timeout) for the next timer.
///
/// After every input or command: drain `poll_event`, write out `transmit`, and re-arm the
/// timer from `poll_timeout`. Time enters with the inputs: `recv(data, now)` says when the
/// bytes arrived (deadlines and rate limits their frames arm count from then), and
/// `handle_timeout(now)` fires what is due: call it once right after creating the
/// connection (that starts the clock) and then whenever the timer fires or the caller wakes
/// up for any other reason.
///
/// # Why this shape
///
/// Determinism: the same bytes in any split, with the same times, give the same events and
/// output, so every behaviour is a plain unit test. Boundedness: every queue the peer can
/// grow has a limit in [`Config`]; when the peer does not read our control frames, `recv`
/// stops consuming input instead of queueing more. Zero-copy: received DATA is handed out as
/// slices of the `Bytes` given to `recv`; sent DATA goes out as the caller's `Bytes`.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use h2proto::{Config, Connection, Event};
///
/// let mut client = Connection::client(Config::default());
/// let mut server = Connection::server(Config::default());
/// let request = http::Request::get("http://example.com/").body(()).unwrap();
/// let id = client.send_request(request, true).unwrap();
///
/// // Move bytes between the two (a transport would do this).
/// let bytes = Bytes::copy_from_slice(h2proto::buf_to_vec(client.transmit()).as_slice());
/// server.recv(bytes, std::time::Instant::now()).unwrap();
/// let mut got_request = false;
/// while let Some(event) = server.poll_event() {
///     if let Event::Request { stream_id, request, end_stream } = event {
///         assert_eq!((stream_id, request.uri().path(), end_stream), (id, "/", true));
///         got_request = true;
///     }
/// }
/// assert!(got_request);
/// ```
pub struct Connection {
    role: Role,
    config: Config,

    // Input.
    preface_remaining: usize,
    frames: FrameDecoder,
    got_settings: bool,
    header_block: Option<HeaderBlock>,
    decoder: hpack::Decoder,
    targets: crate::semantics::TargetCache,
    checked_fields: crate::semantics::FieldCache,
    /// The last field block, kept while it repeats.
    repeated_block: crate::semantics::RepeatedBlock,
    /// Maps for received heads; sent heads' maps go back here.
    header_pool: crate::semantics::HeaderPool,
    /// Client: completes requests that name only a path (see [`Connection::set_origin`]).
    origin: Option<crate::semantics::Origin>,

    // Output.
    out: Transmit,
    encoder: hpack::Encoder,
    pending_control: u32,

    // Streams.
    store: Store,
    next_local_id: u32,
    last_remote_id: StreamId,
    active_local: u32,
    active_remote: u32,
    /// The peer's streams that are closed but kept for data the application has not read:
    /// they count against our concurrency limit until read.
    unread_remote: u32,
    idle_priorities: VecDeque<(StreamId, u8, bool)>,
    /// The peer's idle streams we reset (a self-dependent PRIORITY): closed without ever
    /// being opened, so HEADERS cannot open them later (§5.1). Only ids above
    /// `last_remote_id` are kept (lower ones are closed anyway, §5.1.1).
    reset_idle: smallvec::SmallVec<[StreamId; 4]>,

    // Flow control.
    send_window: Window,
    /// Sending stopped on an empty connection window; only a WINDOW_UPDATE on stream 0
    /// resumes it (§6.9.1). Until then the ready queues want no write.
    send_blocked: bool,
    recv_window: RecvWindow,
    /// The adaptive receive window's estimator ([`Config::adaptive_window`]).
    adaptive: Option<adaptive::Estimator>,
    send_buffered: usize,

    // Scheduling.
    ready: [VecDeque<StreamId>; 8],
    capacity_waiters: Vec<StreamId>,
    want_streams: bool,

    // Settings.
    local: LocalSettings,
    pending_settings: VecDeque<Settings>,
    peer: PeerSettings,

    // Events for the application.
    events: VecDeque<Event>,

    // Lifecycle.
    goaway_sent: Option<StreamId>,
    goaway_received: Option<StreamId>,
    shutdown: Shutdown,
    error: Option<ConnectionError>,
    /// The error of a GOAWAY with an error code from the peer: the connection's error once
    /// the streams it may still process are done.
    peer_error: Option<ConnectionError>,
    closing: bool,
    closed_reported: bool,

    // Time and limits.
    now: Option<std::time::Instant>,
    timers: Timers,
    /// The first-request timer was armed once (it is never armed again).
    first_request_armed: bool,
    remote_resets: TokenBucket,
    local_resets: TokenBucket,
    pings: TokenBucket,
    settings_frames: TokenBucket,
    priorities: TokenBucket,
    empty_frames: TokenBucket,
    glitches: TokenBucket,
    user_pings: VecDeque<ping::SentPing>,
    /// When the keepalive PING waiting for its ACK left.
    keepalive_sent: Option<std::time::Instant>,
    /// When the shutdown PING left.
    shutdown_ping_sent: Option<std::time::Instant>,
    /// The payload of our shutdown PING (its complement marks keepalive PINGs): unknown to
    /// the peer, so it cannot send the ACK before it has seen the PING.
    ping_secret: [u8; 8],
    stats: Stats,
}

impl Connection {
    /// A client connection. Its preface is queued at once in [`transmit`](Self::transmit).
    ///
    /// # Panics
    ///
    /// If `config` is invalid ([`Config::validate`]); [`try_new`](Self::try_new) returns
    /// the error instead.
    pub fn client(config: Config) -> Connection {
        Connection::new(Role::Client, config)
    }

    /// A server connection. It expects the client's preface first; its own SETTINGS is
    /// queued at once.
    ///
    /// # Panics
    ///
    /// If `config` is invalid ([`Config::validate`]); [`try_new`](Self::try_new) returns
    /// the error instead.
    pub fn server(config: Config) -> Connection {
        Connection::new(Role::Server, config)
    }

    /// A connection for `role`: [`Connection::client`] or [`Connection::server`], for
    /// callers that choose the role at run time.
    ///
    /// # Panics
    ///
    /// If `config` is invalid ([`Config::validate`]), with the error's message.
    pub fn new(role: Role, config: Config) -> Connection {
        Connection::try_new(role, config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A connection for `role`, or why `config` cannot make one: a value the RFC does not
    /// allow (a frame size below 16,384, a window above 2^31-1, ...) would go out in our
    /// SETTINGS and be a protocol error at the peer.
    pub fn try_new(role: Role, config: Config) -> Result<Connection, ConfigError> {
        config.validate()?;
        let mut frames = FrameDecoder::new();
        // req 9113-4.2-1
        frames.set_max_frame_size(config.max_frame_size);
        let mut decoder = hpack::Decoder::new();
        // req 9113-6.5.2-13
        decoder.set_max_header_list_size(config.max_header_list_size as usize);
        let mut conn = Connection {
            role,
            preface_remaining: if role == Role::Server { PREFACE.len() } else { 0 },
            frames,
            got_settings: false,
            header_block: None,
            decoder,
            targets: crate::semantics::TargetCache::default(),
            checked_fields: crate::semantics::FieldCache::default(),
            repeated_block: crate::semantics::RepeatedBlock::default(),
            header_pool: crate::semantics::HeaderPool::default(),
            origin: None,
            out: Transmit::default(),
            encoder: hpack::Encoder::new(),
            pending_control: 0,
            store: Store::new(config.max_closed_streams as usize),
            // req 9113-5.1.1-1
            next_local_id: if role == Role::Client { 1 } else { 2 },
            last_remote_id: StreamId::ZERO,
            active_local: 0,
            active_remote: 0,
            unread_remote: 0,
            idle_priorities: VecDeque::new(),
            reset_idle: smallvec::SmallVec::new(),
            send_window: Window::new(65_535),
            send_blocked: false,
            recv_window: RecvWindow::new(65_535),
            adaptive: config.adaptive_window.then(|| {
                adaptive::Estimator::new(
                    config.initial_stream_window_size,
                    config.max_adaptive_window,
                )
            }),
            send_buffered: 0,
            ready: Default::default(),
            capacity_waiters: Vec::new(),
            want_streams: false,
            local: LocalSettings {
                header_table_size: 4096,
                // The value of our first SETTINGS: a server reads it before any request
                // stream it could push on, so it applies from the start.
                enable_push: config.enable_push,
                // Enforced from the start, before the peer acknowledges our first SETTINGS:
                // a stream it opens over the limit is refused, which is always safe to
                // retry (§5.1.2, §8.7). Later changes apply from their ACK (§6.5.3).
                max_concurrent_streams: config.max_concurrent_streams,
                initial_window_size: 65_535,
                max_frame_size: DEFAULT_MAX_FRAME_SIZE,
                max_header_list_size: u32::MAX,
                enable_connect_protocol: false,
            },
            pending_settings: VecDeque::new(),
            peer: PeerSettings {
                max_concurrent_streams: config.initial_max_send_streams,
                ..PeerSettings::default()
            },
            events: VecDeque::new(),
            goaway_sent: None,
            goaway_received: None,
            shutdown: Shutdown::None,
            error: None,
            peer_error: None,
            closing: false,
            closed_reported: false,
            now: None,
            timers: Timers::default(),
            first_request_armed: false,
            remote_resets: TokenBucket::new(config.remote_reset_rate),
            local_resets: TokenBucket::new(config.local_reset_rate),
            pings: TokenBucket::new(config.ping_rate),
            settings_frames: TokenBucket::new(config.settings_rate),
            priorities: TokenBucket::new(config.priority_rate),
            empty_frames: TokenBucket::new(config.empty_frame_rate),
            glitches: TokenBucket::new(config.glitch_rate),
            user_pings: VecDeque::new(),
            keepalive_sent: None,
            shutdown_ping_sent: None,
            ping_secret: timers::ping_secret(config.entropy, None),
            stats: Stats::default(),
            config,
        };
        conn.start();
        Ok(conn)
    }

    // ----- Getters -----

    /// Client or server.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The maps this connection fills with the heads it receives and leaves the heads it
    /// sends in ([`HeaderPool`](crate::HeaderPool)): keeps nothing unless swapped for a
    /// pool with a limit, as an event loop does for each connection's turn.
    pub fn header_pool(&mut self) -> &mut crate::semantics::HeaderPool {
        &mut self.header_pool
    }

    /// Counters of frames, bytes, streams and resets.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The peer's settings in effect. A pool reads its concurrency from here
    /// (`peer_settings().max_concurrent_streams`) once
    /// [`peer_settings_received`](Self::peer_settings_received) says the value is the
    /// peer's and not the initial assumption.
    pub fn peer_settings(&self) -> &PeerSettings {
        &self.peer
    }

    /// Whether the peer's first SETTINGS has arrived (and is applied): until then
    /// [`peer_settings`](Self::peer_settings) holds the RFC 9113 §6.5.2 initial values and
    /// [`Config::initial_max_send_streams`](crate::Config::initial_max_send_streams).
    pub fn peer_settings_received(&self) -> bool {
        self.got_settings
    }

    /// Whether the connection has ended and all its output has been taken: the transport
    /// can be closed.
    pub fn is_closed(&self) -> bool {
        self.closing && self.out.is_empty()
    }

    /// Why the connection ended, if it ended with an error.
    pub fn error(&self) -> Option<&ConnectionError> {
        self.error.as_ref()
    }

    /// Whether a GOAWAY was sent or received: no new streams.
    pub fn is_going_away(&self) -> bool {
        self.goaway_sent.is_some() || self.goaway_received.is_some() || self.closing
    }

    /// Client: whether `send_request` can open a stream now.
    pub fn can_open_stream(&self) -> bool {
        self.role == Role::Client
            && !self.is_going_away()
            && self.active_local < self.peer.max_concurrent_streams
            && self.next_local_id <= StreamId::MAX.0
    }

    /// Client: whether every stream identifier has been used (RFC 9113 §5.1.1): only a new
    /// connection can carry more requests.
    pub fn stream_ids_exhausted(&self) -> bool {
        self.role == Role::Client && self.next_local_id > StreamId::MAX.0
    }

    /// Streams currently open (counting against the concurrency limits).
    pub fn active_streams(&self) -> usize {
        (self.active_local + self.active_remote) as usize
    }

    /// Bytes the stream could send right now, as far as buffers go (what `send_data` would
    /// accept).
    pub fn send_capacity(&self, id: StreamId) -> usize {
        match self.store.get(id) {
            Some(s) if s.state.can_send() => self.send_room(s),
            _ => 0,
        }
    }

    /// The current size of a stream's send window (the peer's credit for us).
    pub fn send_window(&self, id: StreamId) -> Option<i32> {
        self.store.get(id).map(|s| s.send_window.size())
    }

    /// The connection's send window.
    pub fn connection_send_window(&self) -> i32 {
        self.send_window.size()
    }

    /// What the peer may still send on a stream before we announce more credit: its
    /// receive window (RFC 9113 §6.9). Bytes received and not yet read count against it
    /// until the application reads them.
    pub fn recv_window(&self, id: StreamId) -> Option<u32> {
        self.store.get(id).map(|s| s.recv.available())
    }

    /// What the peer may still send on the connection as a whole before we announce more
    /// credit (RFC 9113 §6.9.1).
    pub fn connection_recv_window(&self) -> u32 {
        self.recv_window.available()
    }

    // ----- Outputs -----

    /// The next event, `None` when there is nothing more for now.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if event.is_none() && self.events.capacity() > EVENTS_KEPT {
            // A burst (a thousand response heads in one read) grew the queue; its room
            // would otherwise stay with the connection for good.
            self.events.shrink_to(EVENTS_KEPT);
        }
        event
    }

    /// The next piece of a stream's received body, `None` when nothing is buffered (see
    /// [`Event::Data`] for whether more may come). With
    /// [`Config::auto_release_capacity`] the bytes are released to flow control at once.
    pub fn read_data(&mut self, id: StreamId) -> Option<Bytes> {
        // One lookup for the read, the release and the forgetting.
        let stream = self.store.get_mut(id)?;
        let data = stream.recv_buf.pop_front()?;
        let n = data.len() as u32;
        let release = self.config.auto_release_capacity && n > 0;
        let update = release
            .then(|| send::release_stream_window(stream, n, self.config.window_update_threshold))
            .flatten();
        let forget =
            stream.state == crate::streams::state::State::Closed && stream.recv_buf.is_empty();
        if let Some(increment) = update {
            let update = crate::frame::WindowUpdate::new(id, increment);
            self.write_frame(&crate::frame::Frame::WindowUpdate(update));
        }
        if release {
            self.release_connection(n);
        }
        if forget {
            if !self.is_local(id) {
                self.unread_remote = self.unread_remote.saturating_sub(1);
            }
            self.store.remove(id);
        }
        Some(data)
    }

    /// Pending output. Write it to the transport (`chunks_vectored` + `advance`); what is
    /// advanced over is gone. Calling this also frames as much queued DATA as flow control
    /// and [`Config::max_transmit_size`] allow.
    pub fn transmit(&mut self) -> &mut Transmit {
        if self.out.is_empty() {
            self.pending_control = 0;
            self.out.shrink_if_idle();
        }
        self.flush_streams();
        &mut self.out
    }

    /// Whether there is output to write: frames are waiting, or queued DATA (or trailers)
    /// can be framed now. DATA that waits for flow-control window does not count, so a
    /// loop that waits for writability while this is true does not spin on it.
    pub fn wants_write(&self) -> bool {
        !self.out.is_empty() || (!self.send_blocked && self.ready.iter().any(|q| !q.is_empty()))
    }
}

/// Copies a `Buf` out (for tests, docs and simple transports); advances it to the end.
pub fn buf_to_vec(buf: &mut impl Buf) -> Vec<u8> {
    let mut v = Vec::with_capacity(buf.remaining());
    while buf.has_remaining() {
        let chunk = buf.chunk();
        v.extend_from_slice(chunk);
        let n = chunk.len();
        buf.advance(n);
    }
    v
}
