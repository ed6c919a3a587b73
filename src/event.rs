//! What the connection tells the application.
//!
//! Events are thin: they say *that* something happened on a stream. Bodies are not carried
//! in events but pulled with [`Connection::read_data`](crate::Connection::read_data), so the
//! application reads at its own pace and flow control does the rest.

use crate::ErrorCode;
use crate::error::{ConnectionError, Initiator};
use crate::frame::{Settings, StreamId, Unknown};
use bytes::Bytes;
use http::{HeaderMap, Request, Response};

/// Something the application should know about.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// Server: a new request. Its body, if any, follows as [`Event::Data`].
    Request {
        /// The stream to answer on.
        stream_id: StreamId,
        /// The request head (the body type is a placeholder).
        request: Request<()>,
        /// No body follows.
        end_stream: bool,
    },
    /// Client: an informational (1xx) response; the final response comes later.
    Informational {
        /// The request's stream.
        stream_id: StreamId,
        /// The 1xx response head.
        response: Response<()>,
    },
    /// Client: the final response head. Its body, if any, follows as [`Event::Data`].
    Response {
        /// The request's stream.
        stream_id: StreamId,
        /// The response head.
        response: Response<()>,
        /// No body follows.
        end_stream: bool,
    },
    /// Body data is ready to be read with `read_data`, or the body ended.
    Data {
        /// The stream.
        stream_id: StreamId,
        /// The peer finished the body: once `read_data` returns `None`, nothing more comes.
        end_stream: bool,
    },
    /// Trailers ended the body (after all its data).
    Trailers {
        /// The stream.
        stream_id: StreamId,
        /// The trailer fields.
        trailers: HeaderMap,
    },
    /// A stream was reset by RST_STREAM (either side's), or refused by the peer's GOAWAY
    /// (above its last stream id). Streams that end because the whole connection ends get
    /// no `Reset`: [`Event::Closed`] carries the connection's error for them.
    Reset {
        /// The stream.
        stream_id: StreamId,
        /// The RST_STREAM code.
        error_code: ErrorCode,
        /// Who reset it.
        initiator: Initiator,
        /// The peer did not process the request: it is safe to retry elsewhere
        /// (REFUSED_STREAM, or above a GOAWAY's last stream id, §8.7).
        retryable: bool,
    },
    /// The stream can accept more data from `send_data` again.
    SendCapacity {
        /// The stream.
        stream_id: StreamId,
    },
    /// Client: a new stream can be opened again (a stream closed or the peer raised its
    /// concurrency limit after `send_request` reported the limit).
    StreamsAvailable,
    /// The peer's SETTINGS, all entries including unknown ones (§5.5), already applied.
    RemoteSettings {
        /// The frame.
        settings: Settings,
    },
    /// The peer acknowledged our SETTINGS; they are now in effect.
    SettingsAcked,
    /// The peer answered a PING sent with `ping`.
    PingAck {
        /// The opaque data of the PING.
        payload: [u8; 8],
    },
    /// The peer sent GOAWAY: no new streams; streams above `last_stream_id` were reset as
    /// retryable; those at or below it go on (RFC 9113 §6.8), even with an error code, which
    /// then ends the connection ([`Event::Closed`] with it) once they are done.
    GoAway {
        /// The last stream the peer may process.
        last_stream_id: StreamId,
        /// Why.
        error_code: ErrorCode,
        /// Opaque diagnostic data.
        debug_data: Bytes,
    },
    /// Server: the client changed a stream's priority (RFC 9218 PRIORITY_UPDATE).
    PriorityUpdate {
        /// The stream.
        stream_id: StreamId,
        /// Urgency 0 (highest) to 7.
        urgency: u8,
        /// Whether the response may be interleaved with others.
        incremental: bool,
    },
    /// Client: the server promised a pushed response (push must be enabled).
    PushPromise {
        /// The request stream the promise came on.
        stream_id: StreamId,
        /// The stream the pushed response will arrive on.
        promised_id: StreamId,
        /// The promised request.
        request: Request<()>,
    },
    /// A frame of an unknown type, ignored by the protocol (§5.5) but shown here.
    UnknownFrame(Unknown),
    /// The connection has ended; flush `transmit` and close the transport. Every stream
    /// still open ended with it, for the reason given (a keepalive timeout, a protocol
    /// error, the peer's error GOAWAY: [`ConnectionError::kind`]).
    Closed {
        /// Why, or `None` after a clean graceful shutdown.
        error: Option<ConnectionError>,
    },
}
