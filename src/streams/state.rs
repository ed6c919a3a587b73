//! The stream state machine of RFC 9113 §5.1, as a table.
//!
//! ```text
//!                          +--------+
//!                  send PP |        | recv PP
//!                 ,--------+  idle  +--------.
//!                /         |        |         \
//!               v          +--------+          v
//!        +----------+          |           +----------+
//!        |          |          | send H /  |          |
//! ,------+ reserved |          | recv H    | reserved +------.
//! |      | (local)  |          |           | (remote) |      |
//! |      +---+------+          v           +------+---+      |
//! |          |             +--------+             |          |
//! |          |     recv ES |        | send ES     |          |
//! |   send H |     ,-------+  open  +-------.     | recv H   |
//! |          |    /        |        |        \    |          |
//! |          v   v         +---+----+         v   v          |
//! |      +----------+          |           +----------+      |
//! |      |   half-  |          |           |   half-  |      |
//! |      |  closed  |          | send R /  |  closed  |      |
//! |      | (remote) |          | recv R    | (local)  |      |
//! |      +----+-----+          |           +-----+----+      |
//! |           |                |                 |           |
//! |           | send ES /      |       recv ES / |           |
//! |           | send R /       v        send R / |           |
//! |           | recv R     +--------+   recv R   |           |
//! | send R /  `----------->|        |<-----------'  send R / |
//! | recv R                 | closed |               recv R   |
//! `----------------------->|        |<-----------------------'
//!                          +--------+
//! ```
//!
//! Every (state, event) pair has exactly one entry in [`TABLE`]: the next state, or the
//! reaction the RFC requires. Tests iterate over the whole table, so a missing or wrong
//! transition cannot hide. Events are what this endpoint sends or receives; END_STREAM is
//! its own event, applied after the HEADERS or DATA that carried it.

use crate::ErrorCode;

/// A stream's state (§5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Not yet used.
    Idle,
    /// Promised by us with PUSH_PROMISE.
    ReservedLocal,
    /// Promised by the peer with PUSH_PROMISE.
    ReservedRemote,
    /// Both sides may send.
    Open,
    /// We sent END_STREAM; the peer may still send.
    HalfClosedLocal,
    /// The peer sent END_STREAM; we may still send.
    HalfClosedRemote,
    /// Done.
    Closed,
}

/// Something that happens to a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// We send HEADERS (a request, response, 1xx or trailers).
    SendHeaders,
    /// We receive HEADERS.
    RecvHeaders,
    /// We send PUSH_PROMISE reserving this stream.
    SendPushPromise,
    /// The peer sends PUSH_PROMISE reserving this stream.
    RecvPushPromise,
    /// We send DATA.
    SendData,
    /// We receive DATA.
    RecvData,
    /// We send END_STREAM (on HEADERS or DATA).
    SendEndStream,
    /// The peer sends END_STREAM.
    RecvEndStream,
    /// We send RST_STREAM.
    SendReset,
    /// We receive RST_STREAM.
    RecvReset,
}

/// What a transition yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The event is allowed; the stream moves to this state.
    Next(State),
    /// The peer broke the rules: a connection error with this code.
    ConnectionError(ErrorCode),
    /// The peer broke the rules: a stream error with this code.
    StreamError(ErrorCode),
    /// The application asked for something the state does not allow; nothing is sent.
    Refused,
}

/// All states, in table order.
pub const STATES: [State; 7] = [
    State::Idle,
    State::ReservedLocal,
    State::ReservedRemote,
    State::Open,
    State::HalfClosedLocal,
    State::HalfClosedRemote,
    State::Closed,
];

/// All events, in table order.
pub const EVENTS: [Event; 10] = [
    Event::SendHeaders,
    Event::RecvHeaders,
    Event::SendPushPromise,
    Event::RecvPushPromise,
    Event::SendData,
    Event::RecvData,
    Event::SendEndStream,
    Event::RecvEndStream,
    Event::SendReset,
    Event::RecvReset,
];

use Outcome::{ConnectionError as Conn, Next, Refused, StreamError as Strm};
use State::*;

const PROTO: ErrorCode = ErrorCode::PROTOCOL_ERROR;
const CLOSED: ErrorCode = ErrorCode::STREAM_CLOSED;

/// `TABLE[state][event]`, rows and columns in the order of [`STATES`] and [`EVENTS`].
///
/// Receiving in `Closed` is refined by the connection, which remembers *how* a stream
/// closed (§5.1: frames after our own RST_STREAM are ignored; after END_STREAM they are a
/// connection error STREAM_CLOSED; after the peer's RST_STREAM a stream error).
#[rustfmt::skip]
// req 9113-5.1-14, 9113-5.1-8, 9113-5.1-7
pub const TABLE: [[Outcome; 10]; 7] = [
    //            SendHeaders        RecvHeaders             SendPushPromise     RecvPushPromise      SendData  RecvData     SendEndStream           RecvEndStream           SendReset     RecvReset
    /* Idle */   [Next(Open),        Next(Open),             Next(ReservedLocal), Next(ReservedRemote), Refused, Conn(PROTO), Refused,                Conn(PROTO),            Refused,      Conn(PROTO)],
    /* ResLoc */ [Next(HalfClosedRemote), Conn(PROTO),       Refused,            Conn(PROTO),         Refused,  Conn(PROTO), Refused,                Conn(PROTO),            Next(Closed), Next(Closed)],
    /* ResRem */ [Refused,           Next(HalfClosedLocal),  Refused,            Conn(PROTO),         Refused,  Conn(PROTO), Refused,                Conn(PROTO),            Next(Closed), Next(Closed)],
    /* Open */   [Next(Open),        Next(Open),             Refused,            Conn(PROTO),         Next(Open), Next(Open), Next(HalfClosedLocal), Next(HalfClosedRemote), Next(Closed), Next(Closed)],
    /* HCLoc */  [Refused,           Next(HalfClosedLocal),  Refused,            Conn(PROTO),         Refused,  Next(HalfClosedLocal), Refused,      Next(Closed),           Next(Closed), Next(Closed)],
    /* HCRem */  [Next(HalfClosedRemote), Strm(CLOSED),      Refused,            Conn(PROTO),         Next(HalfClosedRemote), Strm(CLOSED), Next(Closed), Strm(CLOSED), Next(Closed), Next(Closed)],
    /* Closed */ [Refused,           Strm(CLOSED),           Refused,            Conn(PROTO),         Refused,  Strm(CLOSED), Refused,               Strm(CLOSED),           Next(Closed), Next(Closed)],
];

impl State {
    /// Looks up what `event` does in this state.
    pub fn on(self, event: Event) -> Outcome {
        TABLE[self as usize][event as usize]
    }

    /// Whether the peer may still send DATA or trailers.
    pub fn can_recv(self) -> bool {
        matches!(self, Open | HalfClosedLocal)
    }

    /// Whether we may still send DATA or trailers.
    pub fn can_send(self) -> bool {
        matches!(self, Open | HalfClosedRemote)
    }

    /// Whether the stream counts against SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2).
    pub fn is_active(self) -> bool {
        matches!(self, Open | HalfClosedLocal | HalfClosedRemote)
    }
}
