//! Deliberately broken servers: h2proto's core on the minimal loop, with its traffic
//! altered by a [`FrameFilter`]. Aiming the suite at them shows that it fails the cases it
//! should, and only those (`tests/doubles.rs`). Each double breaks one rule:
//!
//! | double | what it does wrong |
//! |---|---|
//! | [`Double::DataOnClosedStream`] | after a response ends, sends one more DATA frame on its stream (§5.1) |
//! | [`Double::IgnoresDataOnClosed`] | silently drops DATA received on streams it has closed, so never answers STREAM_CLOSED (§5.1, §6.1) |
//! | [`Double::IgnoresStreamParity`] | swallows requests on even stream ids instead of a PROTOCOL_ERROR (§5.1.1) |
//! | [`Double::NeverSendsGoaway`] | closes the connection where it should send GOAWAY (§5.4.1) |
//! | [`Double::AcksSettingsTwice`] | acknowledges every SETTINGS twice (§6.5.3) |
//! | [`Double::NeverAcksSettings`] | never acknowledges SETTINGS (§6.5.3) |
//! | [`Double::AnswersBeforeRejecting`] | sends a 200 head before each error RST_STREAM or GOAWAY (but ENHANCE_YOUR_CALM), on the stream it rejects (§8.1.1, §5.4) |
//! | [`Double::AcceptsAnyPreface`] | takes any first 24 bytes for the client preface (§3.4) |
//! | [`Double::RejectsUnknownErrorCodes`] | treats a RST_STREAM or GOAWAY with an unknown code as a malformed frame (§7) |
//! | [`Double::IgnoresPriorityUpdate`] | drops every PRIORITY_UPDATE, valid or not (RFC 9218 §7.1) |
//! | [`Double::NoFloodLimits`] | the core with its abuse rate limits lifted (§10.5) |
//! | [`Double::IgnoresContentLength`] | fits each request body to its content-length, so a mismatch never reaches the core (§8.1.1) |
//! | [`Double::IgnoresInitialWindowSize`] | drops the client's SETTINGS_INITIAL_WINDOW_SIZE (§6.9.2) |
//! | [`Double::AcceptsZeroWindowUpdate`] | drops WINDOW_UPDATEs of increment 0 instead of answering PROTOCOL_ERROR (§6.9) |
//! | [`Double::RejectsUnknownFrameTypes`] | treats a frame of unknown type as a malformed frame instead of ignoring it (§4.1, §5.5) |
//!
//! Most doubles alter frames; [`Double::AcceptsAnyPreface`] rewrites the preface
//! ([`FrameFilter::fixes_preface`]) and [`Double::NoFloodLimits`] lifts the core's limits
//! ([`FrameFilter::configure`]), the way a server without those defences is configured.

use crate::server::core_loop::{Action, FilterFactory, FrameFilter, header_of};
use crate::server::{self, Server};
use bytes::{Bytes, BytesMut};
use h2proto::frame::{Frame, FrameType, RawFrame, flags};
use h2proto::hpack::Decoder;
use h2proto::{Config, ErrorCode, RateLimit};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The broken servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Double {
    /// Sends DATA on a stream after its END_STREAM.
    DataOnClosedStream,
    /// Drops DATA the client sends on a stream the server has closed.
    IgnoresDataOnClosed,
    /// Drops HEADERS on even stream ids.
    IgnoresStreamParity,
    /// Replaces every GOAWAY with a bare close.
    NeverSendsGoaway,
    /// Sends each SETTINGS ACK twice.
    AcksSettingsTwice,
    /// Drops every SETTINGS ACK.
    NeverAcksSettings,
    /// Before an error RST_STREAM on a stream it has not answered, and before an error
    /// GOAWAY while the client's last stream is unanswered, sends a `:status: 200` head on
    /// that stream: it answers the request it then rejects.
    AnswersBeforeRejecting,
    /// Passes the valid preface to the core whatever the client's first 24 bytes were.
    AcceptsAnyPreface,
    /// Turns a RST_STREAM or GOAWAY whose error code is unknown (above HTTP_1_1_REQUIRED)
    /// into one an octet too short, which the core rejects with FRAME_SIZE_ERROR.
    RejectsUnknownErrorCodes,
    /// Drops every PRIORITY_UPDATE frame from the client.
    IgnoresPriorityUpdate,
    /// No rate limit on resets, PINGs, SETTINGS, PRIORITY or empty frames, and no bound on
    /// CONTINUATION frames per block.
    NoFloodLimits,
    /// Follows the client's header blocks (its own HPACK decoder, in step with the
    /// client's encoder) for `content-length`, and cuts or pads the request's DATA to the
    /// declared length: the core never sees a mismatch.
    IgnoresContentLength,
    /// Removes every valid SETTINGS_INITIAL_WINDOW_SIZE from the client's SETTINGS: the core
    /// sends as if every stream window were 65,535.
    IgnoresInitialWindowSize,
    /// Drops every WINDOW_UPDATE with an increment of 0.
    AcceptsZeroWindowUpdate,
    /// Turns a frame of a type RFC 9113 and RFC 9218 do not define into a PING an octet too
    /// short, which the core rejects with FRAME_SIZE_ERROR.
    RejectsUnknownFrameTypes,
}

impl Double {
    /// Every double.
    pub const ALL: [Double; 15] = [
        Double::DataOnClosedStream,
        Double::IgnoresDataOnClosed,
        Double::IgnoresStreamParity,
        Double::NeverSendsGoaway,
        Double::AcksSettingsTwice,
        Double::NeverAcksSettings,
        Double::AnswersBeforeRejecting,
        Double::AcceptsAnyPreface,
        Double::RejectsUnknownErrorCodes,
        Double::IgnoresPriorityUpdate,
        Double::NoFloodLimits,
        Double::IgnoresContentLength,
        Double::IgnoresInitialWindowSize,
        Double::AcceptsZeroWindowUpdate,
        Double::RejectsUnknownFrameTypes,
    ];

    /// Starts the double on an ephemeral loopback port.
    pub fn spawn(self) -> Result<Server, String> {
        let factory: FilterFactory = Arc::new(move || -> Box<dyn FrameFilter> {
            Box::new(Filter { double: self, ..Filter::default() })
        });
        server::spawn_double(factory)
    }
}

struct Filter {
    double: Double,
    /// Streams the server has ended (END_STREAM sent).
    local_end: HashSet<u32>,
    /// Streams the client has ended (END_STREAM received).
    remote_end: HashSet<u32>,
    /// Streams reset by either side.
    reset: HashSet<u32>,
    /// A GOAWAY was dropped: drop everything after it too.
    closing: bool,
    /// Streams the server has sent a HEADERS on.
    answered: HashSet<u32>,
    /// The stream of the client's last frame (0 for the connection).
    last_inbound: u32,
    /// Request bodies fitted to their content-length.
    lengths: ContentLengths,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            double: Double::DataOnClosedStream,
            local_end: HashSet::new(),
            remote_end: HashSet::new(),
            reset: HashSet::new(),
            closing: false,
            answered: HashSet::new(),
            last_inbound: 0,
            lengths: ContentLengths::default(),
        }
    }
}

impl Filter {
    fn closed(&self, id: u32) -> bool {
        self.reset.contains(&id) || (self.local_end.contains(&id) && self.remote_end.contains(&id))
    }

    /// Records END_STREAM and RST_STREAM in one direction.
    fn track(&mut self, frame: &Bytes, outbound: bool) -> bool {
        let head = header_of(frame);
        let id = head.stream_id.0;
        let ends = matches!(head.kind, FrameType::DATA | FrameType::HEADERS)
            && head.has(flags::END_STREAM);
        if head.kind == FrameType::RST_STREAM {
            self.reset.insert(id);
        } else if ends && outbound {
            self.local_end.insert(id);
        } else if ends {
            self.remote_end.insert(id);
        }
        ends
    }
}

impl FrameFilter for Filter {
    fn configure(&self, config: &mut Config) {
        if self.double == Double::NoFloodLimits {
            let unlimited = RateLimit::new(u32::MAX, u32::MAX);
            config.remote_reset_rate = unlimited;
            config.local_reset_rate = unlimited;
            config.ping_rate = unlimited;
            config.settings_rate = unlimited;
            config.priority_rate = unlimited;
            config.empty_frame_rate = unlimited;
            config.glitch_rate = unlimited;
            config.max_continuation_frames = u32::MAX;
        }
    }

    fn fixes_preface(&self) -> bool {
        self.double == Double::AcceptsAnyPreface
    }

    fn inbound(&mut self, frame: &Bytes) -> Action {
        let head = header_of(frame);
        let id = head.stream_id.0;
        let was_closed = self.closed(id);
        self.track(frame, false);
        self.last_inbound = id;
        match self.double {
            Double::IgnoresStreamParity
                if head.kind == FrameType::HEADERS && id != 0 && id % 2 == 0 =>
            {
                Action::Drop
            }
            Double::IgnoresDataOnClosed if head.kind == FrameType::DATA && was_closed => {
                Action::Drop
            }
            Double::RejectsUnknownErrorCodes
                if matches!(head.kind, FrameType::RST_STREAM | FrameType::GOAWAY)
                    && error_code(frame) > ErrorCode::HTTP_1_1_REQUIRED.0 =>
            {
                // One octet short of the fixed part: 3 for RST_STREAM, 7 for GOAWAY.
                let len = if head.kind == FrameType::GOAWAY { 7 } else { 3 };
                let mut short = frame[..9 + len].to_vec();
                short[..3].copy_from_slice(&(len as u32).to_be_bytes()[1..]);
                Action::Replace(vec![short.into()])
            }
            Double::IgnoresPriorityUpdate if head.kind == FrameType::PRIORITY_UPDATE => {
                Action::Drop
            }
            Double::IgnoresContentLength => self.lengths.inbound(frame),
            Double::AcceptsZeroWindowUpdate
                if head.kind == FrameType::WINDOW_UPDATE
                    && frame.get(9..13).is_some_and(|i| i == [0, 0, 0, 0]) =>
            {
                Action::Drop
            }
            Double::RejectsUnknownFrameTypes
                if head.kind.0 > FrameType::CONTINUATION.0
                    && head.kind != FrameType::PRIORITY_UPDATE =>
            {
                Action::Replace(vec![RawFrame::new(FrameType::PING, 0).payload([0; 7]).to_bytes()])
            }
            // Only well-formed SETTINGS and valid values: the checks of the setting still
            // happen, its effect does not.
            Double::IgnoresInitialWindowSize
                if head.kind == FrameType::SETTINGS
                    && id == 0
                    && !head.has(flags::ACK)
                    && (frame.len() - 9) % 6 == 0 =>
            {
                let mut kept = BytesMut::new();
                for entry in frame[9..].chunks(6) {
                    let setting = u16::from_be_bytes([entry[0], entry[1]]);
                    let value = u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]);
                    if setting != 4 || value > (1 << 31) - 1 {
                        kept.extend_from_slice(entry);
                    }
                }
                Action::Replace(vec![
                    RawFrame::new(FrameType::SETTINGS, 0).payload(&kept).to_bytes(),
                ])
            }
            _ => Action::Pass,
        }
    }

    fn outbound(&mut self, frame: &Bytes) -> Action {
        let head = header_of(frame);
        let id = head.stream_id.0;
        let ends = self.track(frame, true);
        if head.kind == FrameType::HEADERS {
            self.answered.insert(id);
        }
        match self.double {
            Double::DataOnClosedStream if ends => {
                let extra = RawFrame::new(FrameType::DATA, id).payload(b"late");
                Action::Replace(vec![frame.clone(), extra.to_bytes()])
            }
            Double::NeverSendsGoaway if head.kind == FrameType::GOAWAY || self.closing => {
                self.closing = true;
                Action::Drop
            }
            Double::AcksSettingsTwice
                if head.kind == FrameType::SETTINGS && head.has(flags::ACK) =>
            {
                Action::Replace(vec![frame.clone(), frame.clone()])
            }
            Double::NeverAcksSettings
                if head.kind == FrameType::SETTINGS && head.has(flags::ACK) =>
            {
                Action::Drop
            }
            Double::AnswersBeforeRejecting => {
                let rejected = match head.kind {
                    FrameType::RST_STREAM => Some(id).filter(|_| error_code(frame) != 0),
                    // Not on abuse: which request the core last read is then a matter of
                    // how the flood was cut into reads.
                    FrameType::GOAWAY
                        if error_code(frame) != 0
                            && error_code(frame) != ErrorCode::ENHANCE_YOUR_CALM.0 =>
                    {
                        Some(self.last_inbound)
                    }
                    _ => None,
                };
                match rejected {
                    Some(stream) if stream != 0 && self.answered.insert(stream) => {
                        Action::Replace(vec![ok_head(stream), frame.clone()])
                    }
                    _ => Action::Pass,
                }
            }
            _ => Action::Pass,
        }
    }
}

/// What [`Double::IgnoresContentLength`] needs: its own HPACK decoder (fed every request
/// block in order, so it stays in step with the client's encoder), the length each
/// request declares, and the body bytes passed on so far.
#[derive(Default)]
struct ContentLengths {
    decoder: Decoder,
    /// The decoder failed (the block was invalid): it cannot follow any more, so frames
    /// pass unchanged from then on.
    lost: bool,
    /// A header block being received: stream and fragments so far.
    block: Option<(u32, BytesMut)>,
    declared: HashMap<u32, usize>,
    passed: HashMap<u32, usize>,
}

impl ContentLengths {
    fn inbound(&mut self, frame: &Bytes) -> Action {
        let head = header_of(frame);
        let id = head.stream_id.0;
        if self.lost {
            return Action::Pass;
        }
        match Frame::decode(head, frame.slice(9..)) {
            Ok(Frame::Headers(h)) => {
                self.block = Some((id, BytesMut::from(&h.fragment[..])));
                if h.end_headers {
                    self.end_block();
                }
            }
            Ok(Frame::Continuation(c)) => {
                if let Some((_, block)) = self.block.as_mut() {
                    block.extend_from_slice(&c.fragment);
                }
                if c.end_headers {
                    self.end_block();
                }
            }
            Ok(Frame::Data(d)) => {
                let Some(&declared) = self.declared.get(&id) else { return Action::Pass };
                let passed = self.passed.entry(id).or_default();
                let mut body = d.data.to_vec();
                body.truncate(declared - *passed);
                if d.end_stream {
                    body.resize(declared - *passed, b'0');
                }
                *passed += body.len();
                let flags = if d.end_stream { flags::END_STREAM } else { 0 };
                let fitted = RawFrame::new(FrameType::DATA, id).flags(flags).payload(&body);
                return Action::Replace(vec![fitted.to_bytes()]);
            }
            _ => {}
        }
        Action::Pass
    }

    fn end_block(&mut self) {
        let Some((id, block)) = self.block.take() else { return };
        let mut declared = None;
        let result = self.decoder.decode_ref(&block.freeze(), |f| {
            if &f.name[..] == b"content-length" {
                declared = std::str::from_utf8(f.value).ok().and_then(|v| v.parse().ok());
            }
        });
        match (result, declared) {
            (Err(_), _) => self.lost = true,
            (Ok(()), Some(n)) => {
                self.declared.insert(id, n);
            }
            (Ok(()), None) => {}
        }
    }
}

/// The error code of a whole RST_STREAM or GOAWAY frame (the last 4 bytes of a RST_STREAM,
/// bytes 4..8 of a GOAWAY's payload).
fn error_code(frame: &Bytes) -> u32 {
    let at = if header_of(frame).kind == FrameType::GOAWAY { 9 + 4 } else { 9 };
    frame.get(at..at + 4).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// A HEADERS frame with `:status: 200` alone (static table index 8, RFC 7541 Appendix A),
/// so the connection's HPACK state is untouched.
fn ok_head(stream: u32) -> Bytes {
    RawFrame::new(FrameType::HEADERS, stream).flags(flags::END_HEADERS).payload([0x88]).to_bytes()
}
