//! Per-stream state and the store that holds it.
//!
//! A stream lives in the store from the frame that opens it until it is closed *and* the
//! application has read everything it received. Closed streams are then remembered only
//! as `(id, how it closed)` in a bounded ring, because §5.1 asks for different reactions
//! to late frames depending on how a stream closed.

mod chunks;
pub mod state;
mod store;

pub(crate) use chunks::Chunks;
pub(crate) use store::{ClosedBy, IdKeyed, Store};

use crate::flow::{RecvWindow, Window};
use http::HeaderMap;
use state::State;

/// Where a stream's inbound message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecvPhase {
    /// Waiting for the request or the (final) response head.
    Head,
    /// Head received; DATA and trailers may follow.
    Body,
}

/// What goes out after the buffered data.
#[derive(Debug, Default)]
pub(crate) enum SendEnd {
    /// More data may come.
    #[default]
    Open,
    /// END_STREAM on the last DATA frame.
    EndStream,
    /// A trailers HEADERS frame with END_STREAM.
    Trailers(Box<HeaderMap>),
    /// END_STREAM has been sent.
    Sent,
}

/// One stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) state: State,
    /// The peer's window for what we send.
    pub(crate) send_window: Window,
    /// Our window for what the peer sends.
    pub(crate) recv: RecvWindow,
    /// Received DATA the application has not read yet.
    pub(crate) recv_buf: Chunks,
    pub(crate) recv_phase: RecvPhase,
    /// The peer sent END_STREAM (possibly still unread data in `recv_buf`).
    pub(crate) recv_end: bool,
    /// The declared content-length, checked against the DATA received (§8.1.1).
    pub(crate) content_length: Option<u64>,
    pub(crate) received: u64,
    /// A response to HEAD (or a 304): no body, whatever content-length says (§8.1.1).
    pub(crate) no_body: bool,
    /// Data accepted by `send_data` but not yet framed.
    pub(crate) send_buf: Chunks,
    pub(crate) send_buffered: u32,
    pub(crate) send_end: SendEnd,
    /// We sent our (final) head; data may follow.
    pub(crate) head_sent: bool,
    /// `send_data` accepted less than offered: tell the application when room frees up.
    pub(crate) want_capacity: bool,
    /// RFC 9218 urgency 0 (highest) to 7; default 3.
    pub(crate) urgency: u8,
    /// RFC 9218 incremental: share bandwidth round-robin rather than finish in turn.
    pub(crate) incremental: bool,
    /// In the scheduler's queue.
    pub(crate) queued: bool,
    /// The request was HEAD (both sides: the client expects no body, the server declares
    /// no length).
    pub(crate) head_request: bool,
    /// The request was CONNECT (both sides: the stream becomes a tunnel that carries no
    /// more field blocks, RFC 9113 §8.5; the server's 2xx answer declares no length, RFC
    /// 9110 §8.6).
    pub(crate) connect_request: bool,
}

impl Stream {
    pub(crate) fn new(state: State, send_window: u32, recv_window: u32) -> Stream {
        Stream {
            state,
            send_window: Window::new(send_window),
            recv: RecvWindow::new(recv_window),
            recv_buf: Chunks::default(),
            recv_phase: RecvPhase::Head,
            recv_end: false,
            content_length: None,
            received: 0,
            no_body: false,
            send_buf: Chunks::default(),
            send_buffered: 0,
            send_end: SendEnd::Open,
            head_sent: false,
            want_capacity: false,
            // req 9113-5.3.2-1, 9113-5.3.2-2
            urgency: 3,
            incremental: true,
            queued: false,
            head_request: false,
            connect_request: false,
        }
    }

    /// Whether there is a frame to send that does not need flow-control window (an empty
    /// END_STREAM DATA, or trailers), or data to send.
    pub(crate) fn has_pending_send(&self) -> bool {
        self.send_buffered > 0 || matches!(self.send_end, SendEnd::EndStream | SendEnd::Trailers(_))
    }
}

/// RFC 9218 §4: parses a Priority field value (`u=N`, `i`), keeping defaults for what is
/// absent and ignoring what is not understood, as §4.1 and §4.2 ask.
pub(crate) fn parse_priority(value: &[u8], urgency: &mut u8, incremental: &mut bool) {
    for member in value.split(|&b| b == b',') {
        let member = member.trim_ascii();
        let (key, val) = match member.iter().position(|&b| b == b'=') {
            Some(eq) => (&member[..eq], Some(member[eq + 1..].trim_ascii())),
            None => (member, None),
        };
        // Parameters after ';' are ignored.
        let val = val.map(|v| v.split(|&b| b == b';').next().unwrap_or(v));
        match (key, val) {
            (b"u", Some([d])) if (b'0'..=b'7').contains(d) => *urgency = d - b'0',
            (b"i", None) | (b"i", Some(b"?1")) => *incremental = true,
            (b"i", Some(b"?0")) => *incremental = false,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9218_4_priority_field_values() {
        let parse = |v: &str| {
            let (mut u, mut i) = (3, false);
            parse_priority(v.as_bytes(), &mut u, &mut i);
            (u, i)
        };
        assert_eq!(parse("u=1"), (1, false));
        assert_eq!(parse("u=5, i"), (5, true));
        assert_eq!(parse("i=?0, u=0"), (0, false));
        assert_eq!(parse("u=9"), (3, false), "out of range is ignored");
        assert_eq!(parse("u=2;x=y, foo=bar, i=?1"), (2, true));
        assert_eq!(parse(""), (3, false));
    }
}
