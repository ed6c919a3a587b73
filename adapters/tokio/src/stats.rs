//! What a connection can tell about itself: the core's counters and windows, copied by the
//! connection's task when asked. Nothing is shared or updated on the hot path; a snapshot
//! costs one message to the task (or nothing, from the `Connection` itself).

/// A snapshot of one connection: what happened on it so far and where its flow control
/// stands.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// The core's counters: frames, bytes, streams, resets, flow-control stalls, PINGs,
    /// GOAWAYs, glitches.
    pub counters: h2proto::Stats,
    /// The connection-level send window: bytes of DATA the peer will take now (RFC 9113
    /// §6.9.1).
    pub send_window: i32,
    /// The connection-level receive window: bytes of DATA the peer may still send us
    /// before we announce more credit (RFC 9113 §6.9.1). DATA received and not yet read
    /// holds it down.
    pub recv_window: u32,
    /// Streams open (both directions).
    pub active_streams: usize,
    /// The peer's settings in effect (concurrency limit, initial window, frame size).
    pub peer_settings: h2proto::PeerSettings,
    /// GOAWAY was sent or received: no new streams.
    pub going_away: bool,
    /// The round-trip time of the last PING answered (keepalive, or
    /// [`ConnectionHandle::ping`](crate::server::ConnectionHandle::ping) /
    /// [`SendRequest::ping`](crate::client::SendRequest::ping)), as the core measured it
    /// ([`h2proto::Connection::rtt`]), if any.
    pub rtt: Option<std::time::Duration>,
}

impl ConnectionStats {
    pub(crate) fn of(conn: &h2proto::Connection) -> Self {
        ConnectionStats {
            rtt: conn.rtt(),
            counters: conn.stats().clone(),
            send_window: conn.connection_send_window(),
            recv_window: conn.connection_recv_window(),
            active_streams: conn.active_streams(),
            peer_settings: *conn.peer_settings(),
            going_away: conn.is_going_away(),
        }
    }
}
