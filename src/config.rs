//! Every knob of a connection, with the reason for each default.
//!
//! Whatever the peer can make us grow — streams, header blocks, queued frames, buffered
//! data, closed-stream memory — is bounded here. Abuse of a bound is answered with GOAWAY
//! ENHANCE_YOUR_CALM (RFC 9113 §5.4.1, §10.5), never with growth. The defaults are meant
//! for an Internet-facing server and a general-purpose client; raise the windows for bulk
//! transfer on long fat pipes, lower the limits on small devices.

use crate::frame::{DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_SIZE_LIMIT, MAX_WINDOW_SIZE};
use std::fmt;
use std::time::Duration;

/// A rate limit: a token bucket that holds `burst` tokens and refills `per_second` of them
/// each second (time as given to `recv` and `handle_timeout`). Each counted event takes a token; an
/// event with no token left is abuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Tokens when full: how many events may come at once.
    pub burst: u32,
    /// Tokens added per second.
    pub per_second: u32,
}

impl RateLimit {
    /// A bucket of `burst` tokens refilled at `per_second`.
    pub const fn new(burst: u32, per_second: u32) -> RateLimit {
        RateLimit { burst, per_second }
    }
}

/// Configuration of a [`Connection`](crate::Connection).
///
/// Build it from `Config::default()` and change fields:
///
/// ```
/// let mut config = h2proto::Config::default();
/// config.max_concurrent_streams = 250;
/// config.initial_stream_window_size = 4 << 20;
/// let conn = h2proto::Connection::server(config);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    // --- Settings we advertise (RFC 9113 §6.5.2) ---
    /// SETTINGS_HEADER_TABLE_SIZE: our HPACK decoder's dynamic table. Default 4,096 (the
    /// RFC's initial value, so no size update dance is needed).
    pub header_table_size: u32,
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams the peer may open at once. Default 128.
    /// A server refuses excess streams with REFUSED_STREAM (§5.1.2); a client refuses
    /// pushed responses the same way and resets promises beyond this many reserved streams
    /// with ENHANCE_YOUR_CALM (§10.5).
    pub max_concurrent_streams: u32,
    /// SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window. Default 1 MiB: 64 KiB
    /// caps a single stream at 64 KiB per round trip, about 5 Mbit/s at 100 ms.
    pub initial_stream_window_size: u32,
    /// The connection's receive window, raised from 65,535 by a WINDOW_UPDATE right after
    /// the preface (§6.9.2: SETTINGS cannot change it). Default 4 MiB.
    pub initial_connection_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE: the largest frame payload we accept. Default 16,384.
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE: decoded header list size we accept per block, counted
    /// as name + value + 32 per field and enforced while decoding (HPACK bomb). Default
    /// 64 KiB. A request over it is refused with a stream error; the connection lives.
    pub max_header_list_size: u32,
    /// Client side: how many concurrent streams to assume the server allows until its
    /// SETTINGS arrive (RFC 9113 §5.1.2 leaves it unlimited, which gets early requests
    /// refused by servers with a lower limit). Default 100, the RFC's recommended minimum.
    pub initial_max_send_streams: u32,
    /// SETTINGS_ENABLE_PUSH, client side: whether to accept server push. Default false.
    pub enable_push: bool,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL, server side: accept extended CONNECT (RFC 8441,
    /// e.g. WebSockets over HTTP/2). Default false.
    pub enable_connect_protocol: bool,
    /// Connection-specific fields (`connection`, `keep-alive`, `proxy-connection`,
    /// `transfer-encoding`, `upgrade`; `te` other than `trailers`) are never sent (RFC 9113
    /// §8.2.2). When true, those found in a message we send are left out of it and counted
    /// in [`Stats::connection_fields_stripped`](crate::Stats), so a proxy forwarding an
    /// HTTP/1.1 message works, as with hyper; when false, sending such a message fails with
    /// `UserError::InvalidMessage`. Received messages carrying them are malformed either
    /// way. Default true.
    pub strip_connection_fields: bool,

    // --- Receive-side flow control ---
    /// Release receive capacity automatically when the application reads data (true), or
    /// only through `release_capacity` (false). Default true.
    pub auto_release_capacity: bool,
    /// A WINDOW_UPDATE is sent once this fraction (in 1/256ths) of a window has been
    /// released, so updates are batched rather than sent per DATA frame. Default 64 (a
    /// quarter of the window).
    pub window_update_threshold: u32,
    /// Grow the receive windows (every stream's and the connection's) when a
    /// bandwidth-delay product estimate from PING round trips shows they limit the peer's
    /// sending (a long fat pipe), as hyper's `adaptive_window`. Costs a PING per round
    /// trip while growing, fewer after. Default false (see the connection's `adaptive`
    /// module for how and why).
    pub adaptive_window: bool,
    /// The largest window [`adaptive_window`](Self::adaptive_window) grows to, per stream
    /// and for the connection: also the most a connection then buffers for a reader that
    /// does not read. Default 16 MiB; at most 2^31-1.
    pub max_adaptive_window: u32,

    // --- Send side ---
    /// Bytes `send_data` buffers per stream before it accepts less (backpressure). Default
    /// 256 KiB.
    pub max_send_buffer_per_stream: u32,
    /// Bytes `send_data` buffers for the whole connection. Default 4 MiB.
    pub max_send_buffer: u32,
    /// How many bytes of output `transmit` prepares at once before the caller drains it.
    /// Default 256 KiB.
    pub max_transmit_size: u32,

    // --- Abuse limits ---
    /// CONTINUATION frames allowed in one header block (CONTINUATION flood). Default 32.
    pub max_continuation_frames: u32,
    /// Streams the peer resets before we answered them (rapid reset, CVE-2023-44487).
    /// Default burst 200, 50/s: a browser cancelling a page's requests stays far below.
    pub remote_reset_rate: RateLimit,
    /// Stream errors we send because of the peer's misbehaviour (reset flood,
    /// CVE-2019-9514). Default burst 200, 50/s.
    pub local_reset_rate: RateLimit,
    /// PING frames from the peer (ping flood, CVE-2019-9512). Default burst 100, 10/s.
    pub ping_rate: RateLimit,
    /// SETTINGS frames from the peer (settings flood, CVE-2019-9515). Default burst 50, 5/s.
    pub settings_rate: RateLimit,
    /// PRIORITY and PRIORITY_UPDATE frames (priority churn, CVE-2019-9513). Default burst
    /// 1,000, 100/s.
    pub priority_rate: RateLimit,
    /// Frames that carry nothing and move nothing: empty DATA or CONTINUATION, a
    /// WINDOW_UPDATE for a closed stream (empty frames flood, CVE-2019-9518). Default burst
    /// 500, 50/s.
    pub empty_frame_rate: RateLimit,
    /// Protocol glitches: what a peer does that costs us work and that a correct peer has
    /// no use for (malformed requests, heads refused for size, field blocks of hundreds of
    /// fields, stream errors it provokes, unknown frames, RST_STREAM on closed streams,
    /// GOAWAY after GOAWAY, HEADERS on streams we reset). All draw on one budget, as in
    /// nghttp2; when it runs out the connection ends with GOAWAY ENHANCE_YOUR_CALM.
    /// Default burst 1,000, 33/s (nghttp2's): browsers, gRPC clients and the recorded
    /// traces stay far below.
    pub glitch_rate: RateLimit,
    /// Control frames (SETTINGS ACKs, PING ACKs, RST_STREAMs) queued for a peer that does
    /// not read: past this many, input is not consumed until output drains (CVE-2019-9512,
    /// -9515). Default 1,024.
    pub max_pending_control_frames: u32,
    /// Remembered closed streams, to answer late frames as §5.1 requires (STREAM_CLOSED
    /// after END_STREAM or a received RST_STREAM, silence after our own RST_STREAM).
    /// Default 256.
    pub max_closed_streams: u32,
    /// Streams prioritized by PRIORITY_UPDATE while still idle (RFC 9218 §7.1), each
    /// remembered until it opens. §7.1 makes more than MAX_CONCURRENT_STREAMS (minus the
    /// active ones) a PROTOCOL_ERROR; this bounds the memory further, and a value below
    /// `max_concurrent_streams` makes the check stricter than §7.1. Default 128, the same as
    /// `max_concurrent_streams` (a few bytes each).
    pub max_idle_priorities: u32,

    // --- Timeouts (time comes from the caller: `recv` and `handle_timeout`) ---
    /// From start until the peer's preface and first SETTINGS (slowloris). Default 5 s.
    pub preface_timeout: Option<Duration>,
    /// Server: from the start until the first request head; a connection that sends none
    /// in time (a slot held open, a speculative connection never used) is closed with
    /// GOAWAY NO_ERROR. Default 5 s; after the first request, `idle_timeout` applies.
    pub first_request_timeout: Option<Duration>,
    /// From a HEADERS without END_HEADERS until its last CONTINUATION; past it, GOAWAY
    /// ENHANCE_YOUR_CALM. Default 5 s.
    pub header_block_timeout: Option<Duration>,
    /// For our SETTINGS to be acknowledged (SETTINGS_TIMEOUT, §6.5.3). Default 10 s.
    pub settings_timeout: Option<Duration>,
    /// With no open stream and no frame received for this long the connection is closed
    /// with GOAWAY NO_ERROR. Default 30 s: this long after the last frame received, or,
    /// if streams were still open when it came due, this long after that.
    pub idle_timeout: Option<Duration>,
    /// Send a PING when nothing has been received for this long (counted from the last
    /// frame received). Default none.
    pub keepalive_interval: Option<Duration>,
    /// Close the connection if a PING is not answered within this. Default 20 s.
    pub keepalive_timeout: Duration,
    /// After a graceful shutdown's first GOAWAY, how long to wait for the PING that marks
    /// the end of streams in flight before sending the final GOAWAY. Default 5 s. The
    /// adapters also give a finished connection this long to write its last frames before
    /// they drop the socket (a peer that stopped reading cannot hold it).
    pub shutdown_timeout: Duration,

    // --- Randomness (an input like the others: the core draws none itself) ---
    /// Secret bits for what the peer must not predict: the payloads of our shutdown and
    /// keepalive PINGs (an ACK forged in advance would end a graceful shutdown's first
    /// phase early). Each connection mixes in the time its clock starts, so connections
    /// made from one `Config` differ too. `Config::default()` draws it from the standard
    /// library's per-process random hash keys; set it for output that repeats exactly.
    pub entropy: u64,
}

impl Config {
    /// Checks every value that goes on the wire or steers flow control against what the
    /// RFC allows; [`Connection::try_new`](crate::Connection::try_new) calls it, so an
    /// invalid configuration is refused before a single illegal SETTINGS is sent.
    ///
    /// ```
    /// let mut config = h2proto::Config::default();
    /// config.max_frame_size = 1000;
    /// let error = config.validate().unwrap_err();
    /// assert_eq!(error.field(), "max_frame_size");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = |field, value: u32, min: u32, max: u32, rule| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError { field, value, min, max, rule })
            }
        };
        // RFC 9113 §6.5.2: 2^14 ..= 2^24-1; anything else is a PROTOCOL_ERROR at the peer.
        // req 9113-6.5.2-11
        check(
            "max_frame_size",
            self.max_frame_size,
            DEFAULT_MAX_FRAME_SIZE,
            MAX_FRAME_SIZE_LIMIT,
            "RFC 9113 §6.5.2 (SETTINGS_MAX_FRAME_SIZE)",
        )?;
        // RFC 9113 §6.5.2: above 2^31-1 is a FLOW_CONTROL_ERROR at the peer.
        check(
            "initial_stream_window_size",
            self.initial_stream_window_size,
            0,
            MAX_WINDOW_SIZE,
            "RFC 9113 §6.5.2 (SETTINGS_INITIAL_WINDOW_SIZE)",
        )?;
        // RFC 9113 §6.9.1: a window never exceeds 2^31-1.
        check(
            "initial_connection_window_size",
            self.initial_connection_window_size,
            0,
            MAX_WINDOW_SIZE,
            "RFC 9113 §6.9.1 (flow-control window)",
        )?;
        // RFC 9113 §6.9.1: a window never exceeds 2^31-1.
        check(
            "max_adaptive_window",
            self.max_adaptive_window,
            0,
            MAX_WINDOW_SIZE,
            "RFC 9113 §6.9.1 (flow-control window)",
        )?;
        // A fraction in 1/256ths: more than the whole window would never send an update.
        check(
            "window_update_threshold",
            self.window_update_threshold,
            0,
            256,
            "a fraction of the window in 1/256ths",
        )?;
        // Nothing could be framed into an empty output.
        check("max_transmit_size", self.max_transmit_size, 1, u32::MAX, "at least one byte")
    }
}

/// A [`Config`] value out of its allowed range (see [`Config::validate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    field: &'static str,
    value: u32,
    min: u32,
    max: u32,
    rule: &'static str,
}

impl ConfigError {
    /// The name of the offending `Config` field.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// Its value.
    pub fn value(&self) -> u32 {
        self.value
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid h2proto Config: {} = {} is outside {}..={} ({})",
            self.field, self.value, self.min, self.max, self.rule
        )
    }
}

impl std::error::Error for ConfigError {}

impl Default for Config {
    fn default() -> Self {
        Config {
            header_table_size: 4096,
            max_concurrent_streams: 128,
            initial_stream_window_size: 1 << 20,
            initial_connection_window_size: 4 << 20,
            max_frame_size: 1 << 14,
            max_header_list_size: 64 << 10,
            initial_max_send_streams: 100,
            enable_push: false,
            enable_connect_protocol: false,
            strip_connection_fields: true,
            auto_release_capacity: true,
            window_update_threshold: 64,
            adaptive_window: false,
            max_adaptive_window: 16 << 20,
            max_send_buffer_per_stream: 256 << 10,
            max_send_buffer: 4 << 20,
            max_transmit_size: 256 << 10,
            max_continuation_frames: 32,
            remote_reset_rate: RateLimit::new(200, 50),
            local_reset_rate: RateLimit::new(200, 50),
            ping_rate: RateLimit::new(100, 10),
            settings_rate: RateLimit::new(50, 5),
            priority_rate: RateLimit::new(1000, 100),
            empty_frame_rate: RateLimit::new(500, 50),
            glitch_rate: RateLimit::new(1000, 33),
            max_pending_control_frames: 1024,
            max_closed_streams: 256,
            max_idle_priorities: 128,
            preface_timeout: Some(Duration::from_secs(5)),
            first_request_timeout: Some(Duration::from_secs(5)),
            header_block_timeout: Some(Duration::from_secs(5)),
            settings_timeout: Some(Duration::from_secs(10)),
            idle_timeout: Some(Duration::from_secs(30)),
            keepalive_interval: None,
            keepalive_timeout: Duration::from_secs(20),
            shutdown_timeout: Duration::from_secs(5),
            entropy: {
                use std::hash::BuildHasher;
                std::collections::hash_map::RandomState::new().hash_one(0u64)
            },
        }
    }
}
