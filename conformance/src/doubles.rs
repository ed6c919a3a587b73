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

use crate::server::core_loop::{Action, FilterFactory, FrameFilter, header_of};
use crate::server::{self, Server};
use bytes::Bytes;
use h2proto::frame::{FrameType, flags};
use std::collections::HashSet;
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
}

impl Double {
    /// Every double.
    pub const ALL: [Double; 6] = [
        Double::DataOnClosedStream,
        Double::IgnoresDataOnClosed,
        Double::IgnoresStreamParity,
        Double::NeverSendsGoaway,
        Double::AcksSettingsTwice,
        Double::NeverAcksSettings,
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
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            double: Double::DataOnClosedStream,
            local_end: HashSet::new(),
            remote_end: HashSet::new(),
            reset: HashSet::new(),
            closing: false,
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
    fn inbound(&mut self, frame: &Bytes) -> Action {
        let head = header_of(frame);
        let id = head.stream_id.0;
        let was_closed = self.closed(id);
        self.track(frame, false);
        match self.double {
            Double::IgnoresStreamParity
                if head.kind == FrameType::HEADERS && id != 0 && id % 2 == 0 =>
            {
                Action::Drop
            }
            Double::IgnoresDataOnClosed if head.kind == FrameType::DATA && was_closed => {
                Action::Drop
            }
            _ => Action::Pass,
        }
    }

    fn outbound(&mut self, frame: &Bytes) -> Action {
        let head = header_of(frame);
        let id = head.stream_id.0;
        let ends = self.track(frame, true);
        match self.double {
            Double::DataOnClosedStream if ends => {
                let extra = h2proto::frame::RawFrame::new(FrameType::DATA, id).payload(b"late");
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
            _ => Action::Pass,
        }
    }
}
