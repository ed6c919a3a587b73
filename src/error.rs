//! Error codes and protocol errors.
//!
//! RFC 9113 §5.4 distinguishes two kinds of error: a *connection error* ends the whole
//! connection with GOAWAY, a *stream error* ends one stream with RST_STREAM. Every check in
//! the core reports which one the RFC asks for, with the exact [`ErrorCode`], so the caller
//! never has to guess.

use crate::frame::StreamId;
use std::fmt;

/// An HTTP/2 error code, as carried by RST_STREAM and GOAWAY (RFC 9113 §7).
///
/// Unknown codes are valid on the wire (§7: "unknown or unsupported error codes MUST NOT
/// trigger any special behavior"), so this is an open newtype rather than an enum.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub u32);

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        impl ErrorCode {
            $($(#[$doc])* pub const $name: ErrorCode = ErrorCode($value);)*

            /// The RFC name of the code, or `None` for a code this crate does not know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    /// Graceful shutdown, or no error at all.
    NO_ERROR = 0x0;
    /// An unspecific protocol error was detected.
    PROTOCOL_ERROR = 0x1;
    /// The endpoint encountered an unexpected internal error.
    INTERNAL_ERROR = 0x2;
    /// The peer violated the flow-control protocol.
    FLOW_CONTROL_ERROR = 0x3;
    /// A SETTINGS frame was not acknowledged in time.
    SETTINGS_TIMEOUT = 0x4;
    /// A frame was received after the stream was half-closed.
    STREAM_CLOSED = 0x5;
    /// A frame had an invalid size.
    FRAME_SIZE_ERROR = 0x6;
    /// The stream was refused before any application processing.
    REFUSED_STREAM = 0x7;
    /// The stream is no longer needed.
    CANCEL = 0x8;
    /// The HPACK compression context cannot be maintained.
    COMPRESSION_ERROR = 0x9;
    /// The connection established by CONNECT was reset or abnormally closed.
    CONNECT_ERROR = 0xa;
    /// The peer is generating excessive load.
    ENHANCE_YOUR_CALM = 0xb;
    /// The transport does not meet minimum security requirements.
    INADEQUATE_SECURITY = 0xc;
    /// HTTP/1.1 is required for this request.
    HTTP_1_1_REQUIRED = 0xd;
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "ErrorCode({:#x})", self.0),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl From<u32> for ErrorCode {
    fn from(value: u32) -> Self {
        ErrorCode(value)
    }
}

impl From<ErrorCode> for u32 {
    fn from(code: ErrorCode) -> Self {
        code.0
    }
}

/// Whether an error ends the whole connection or a single stream (RFC 9113 §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A connection error (§5.4.1): send GOAWAY and close the connection.
    Connection,
    /// A stream error (§5.4.2): send RST_STREAM on this stream; the connection lives on.
    Stream(StreamId),
}

/// A violation of the protocol by the peer, with the reaction the RFC requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProtocolError {
    /// Connection or stream error.
    pub scope: Scope,
    /// The code to put in GOAWAY or RST_STREAM.
    pub code: ErrorCode,
    /// A short, static explanation, fit for GOAWAY debug data and logs.
    pub reason: &'static str,
}

impl ProtocolError {
    /// A connection error (RFC 9113 §5.4.1).
    pub const fn connection(code: ErrorCode, reason: &'static str) -> Self {
        ProtocolError { scope: Scope::Connection, code, reason }
    }

    /// A stream error (RFC 9113 §5.4.2) on `stream`.
    pub const fn stream(stream: StreamId, code: ErrorCode, reason: &'static str) -> Self {
        ProtocolError { scope: Scope::Stream(stream), code, reason }
    }

    /// Whether the error ends the whole connection.
    pub fn is_connection_error(&self) -> bool {
        self.scope == Scope::Connection
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            Scope::Connection => write!(f, "connection error {}: {}", self.code, self.reason),
            Scope::Stream(id) => {
                write!(f, "stream error {} on stream {}: {}", self.code, id.0, self.reason)
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Who ended a connection or a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// This endpoint.
    Local,
    /// The peer.
    Remote,
}

/// Why a connection ended.
///
/// Sticky, like rustls' fatal alerts: after it, `recv` keeps returning it and `transmit`
/// still yields the GOAWAY to flush before closing the transport.
///
/// Every stream still open when the connection ends ends with it:
/// [`Event::Closed`](crate::Event::Closed) carries this error for all of them (they get no
/// [`Event::Reset`](crate::Event::Reset) of their own, since no RST_STREAM reset them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionError {
    /// The code in the GOAWAY we sent (`Local`) or received (`Remote`).
    pub code: ErrorCode,
    /// Which side ended it.
    pub initiator: Initiator,
    /// What ended it, typed: a protocol error, the peer's GOAWAY, one of our timeouts.
    pub kind: ConnectionErrorKind,
    /// Why, in a few words.
    pub reason: std::borrow::Cow<'static, str>,
}

/// What ended a connection, beyond the GOAWAY code (which is NO_ERROR for a keepalive
/// timeout: nothing the peer did was against the protocol, it just stopped answering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionErrorKind {
    /// The peer broke a rule of the protocol or abused it (§5.4.1; flood limits).
    Protocol,
    /// The peer sent GOAWAY with an error code (§6.8).
    GoAway,
    /// A keepalive PING went unanswered for
    /// [`Config::keepalive_timeout`](crate::Config::keepalive_timeout): the peer, or the
    /// path to it, is gone. Requests in flight may have been processed.
    KeepaliveTimeout,
    /// Our SETTINGS was not acknowledged in
    /// [`Config::settings_timeout`](crate::Config::settings_timeout) (§6.5.3).
    SettingsTimeout,
    /// The peer's connection preface did not arrive in
    /// [`Config::preface_timeout`](crate::Config::preface_timeout).
    PrefaceTimeout,
    /// A field block was left unfinished for
    /// [`Config::header_block_timeout`](crate::Config::header_block_timeout).
    HeaderBlockTimeout,
    /// The application closed the connection ([`Connection::close`](crate::Connection::close)).
    Closed,
}

impl ConnectionErrorKind {
    /// Whether one of our timers ended the connection (the peer did not answer in time).
    pub fn is_timeout(self) -> bool {
        matches!(
            self,
            ConnectionErrorKind::KeepaliveTimeout
                | ConnectionErrorKind::SettingsTimeout
                | ConnectionErrorKind::PrefaceTimeout
                | ConnectionErrorKind::HeaderBlockTimeout
        )
    }

    fn describe(self) -> Option<&'static str> {
        Some(match self {
            ConnectionErrorKind::KeepaliveTimeout => "keepalive timeout",
            ConnectionErrorKind::SettingsTimeout => "settings timeout",
            ConnectionErrorKind::PrefaceTimeout => "preface timeout",
            ConnectionErrorKind::HeaderBlockTimeout => "header block timeout",
            _ => return None,
        })
    }
}

impl ConnectionError {
    pub(crate) fn local(code: ErrorCode, kind: ConnectionErrorKind, reason: &'static str) -> Self {
        ConnectionError { code, initiator: Initiator::Local, kind, reason: reason.into() }
    }

    /// Whether a keepalive PING went unanswered ([`ConnectionErrorKind::KeepaliveTimeout`]).
    pub fn is_keepalive_timeout(&self) -> bool {
        self.kind == ConnectionErrorKind::KeepaliveTimeout
    }
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match self.initiator {
            Initiator::Local => "closed the connection",
            Initiator::Remote => "peer closed the connection",
        };
        match self.kind.describe() {
            Some(what) => write!(f, "{what}: {who} with {}: {}", self.code, self.reason),
            None => write!(f, "{who} with {}: {}", self.code, self.reason),
        }
    }
}

impl std::error::Error for ConnectionError {}

/// A command the connection cannot carry out; nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserError {
    /// No such stream, or it is already closed.
    UnknownStream(StreamId),
    /// The stream's state does not allow this (e.g. data after END_STREAM, a response
    /// before the request, a second final response).
    InvalidState(StreamId, &'static str),
    /// The command is for the other role (e.g. a server opening a request stream).
    WrongRole,
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached; wait for
    /// [`Event::StreamsAvailable`](crate::Event::StreamsAvailable).
    ConcurrencyLimit,
    /// All stream identifiers are used up: open a new connection (§5.1.1).
    StreamIdsExhausted,
    /// GOAWAY was sent or received: no new streams on this connection.
    GoingAway,
    /// The connection has ended.
    Closed,
    /// The message would be malformed (§8.1.1), e.g. a connection-specific header field.
    InvalidMessage(&'static str),
    /// The peer does not allow this (extended CONNECT without its setting, push...).
    NotAllowed(&'static str),
    /// A setting value outside its legal range.
    InvalidSetting(ProtocolError),
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserError::UnknownStream(id) => write!(f, "unknown or closed stream {id}"),
            UserError::InvalidState(id, why) => write!(f, "stream {id}: {why}"),
            UserError::WrongRole => f.write_str("not available in this role"),
            UserError::ConcurrencyLimit => f.write_str("peer's concurrent stream limit reached"),
            UserError::StreamIdsExhausted => f.write_str("stream identifiers exhausted"),
            UserError::GoingAway => f.write_str("connection is going away"),
            UserError::Closed => f.write_str("connection closed"),
            UserError::InvalidMessage(why) => write!(f, "invalid message: {why}"),
            UserError::NotAllowed(why) => write!(f, "not allowed by the peer: {why}"),
            UserError::InvalidSetting(e) => write!(f, "invalid setting: {}", e.reason),
        }
    }
}

impl std::error::Error for UserError {}
