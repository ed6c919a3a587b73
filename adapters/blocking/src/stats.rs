//! What a connection can tell about itself: the core's counters, its send window and the
//! round-trip time of its PINGs, copied by the connection's driver thread when asked.
//!
//! Nothing is shared with the driver or updated on its hot path: a snapshot is one message
//! to the driver and one back. The round-trip time is the core's own
//! ([`Connection::rtt`](h2proto::Connection::rtt)), timed on the clock the driver gives
//! it, so every adapter reports the same figure for the same exchange.

use crate::driver::Msg;
use crate::error::Error;
use std::io;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

/// A snapshot of one connection: what happened on it so far and where its flow control
/// stands.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// The core's counters: frames, bytes, streams, resets, flow-control stalls, PINGs,
    /// GOAWAYs, glitches.
    pub counters: h2proto::Stats,
    /// The connection-level send window: bytes of DATA the peer will take now (RFC 9113
    /// §6.9.1). It shrinks as DATA goes out and grows as the peer reads and sends
    /// WINDOW_UPDATE.
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
    /// The core's latest PING round-trip time ([`h2proto::Connection::rtt`], the same as
    /// `counters.ping_rtt`): keepalive PINGs and [`ConnectionHandle::ping`] both count.
    pub rtt: Option<Duration>,
}

impl ConnectionStats {
    pub(crate) fn of(conn: &h2proto::Connection) -> ConnectionStats {
        ConnectionStats {
            counters: conn.stats().clone(),
            send_window: conn.connection_send_window(),
            recv_window: conn.connection_recv_window(),
            active_streams: conn.active_streams(),
            peer_settings: *conn.peer_settings(),
            going_away: conn.is_going_away(),
            rtt: conn.rtt(),
        }
    }
}

/// A handle on one connection for any thread: [stats](ConnectionStats) snapshots, PINGs
/// and the graceful shutdown.
///
/// A server handler finds the one of its request's connection among the request's
/// extensions; a [`Client`](crate::Client) answers the same questions for its current
/// connection with [`stats`](crate::Client::stats) and [`ping`](crate::Client::ping).
///
/// ```no_run
/// # fn f(request: http::Request<h2proto_blocking::RequestBody>) {
/// use h2proto_blocking::ConnectionHandle;
/// use std::time::Duration;
/// let connection = request.extensions().get::<ConnectionHandle>().unwrap();
/// if let Some(stats) = connection.stats() {
///     println!("{} bytes of DATA received", stats.counters.data_received);
/// }
/// if let Ok(rtt) = connection.ping(Duration::from_secs(5)) {
///     println!("the client answered a PING after {rtt:?}");
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ConnectionHandle {
    driver: Sender<Msg>,
}

impl ConnectionHandle {
    pub(crate) fn new(driver: Sender<Msg>) -> ConnectionHandle {
        ConnectionHandle { driver }
    }

    /// A snapshot taken by the connection's driver; `None` once the connection has ended.
    pub fn stats(&self) -> Option<ConnectionStats> {
        let (tx, rx) = mpsc::channel();
        self.driver.send(Msg::Stats(tx)).ok()?;
        rx.recv().ok()
    }

    /// Sends a PING (RFC 9113 §6.7) and waits at most `timeout` for its ACK; returns the
    /// round-trip time the core measured, also kept as [`ConnectionStats::rtt`].
    ///
    /// Fails with `ErrorKind::TimedOut` when no ACK came in time, `ConnectionAborted` when
    /// the connection ended first, and `InvalidInput` when the core refused to send it
    /// (too many PINGs unanswered).
    pub fn ping(&self, timeout: Duration) -> io::Result<Duration> {
        let (tx, rx) = mpsc::channel();
        self.driver.send(Msg::Ping(tx)).map_err(|_| Error::closed())?;
        match rx.recv_timeout(timeout) {
            Ok(answer) => answer.map_err(io::Error::from),
            Err(RecvTimeoutError::Timeout) => {
                Err(io::Error::new(io::ErrorKind::TimedOut, "PING not answered in time"))
            }
            Err(RecvTimeoutError::Disconnected) => Err(Error::closed().into()),
        }
    }

    /// Begins the connection's graceful shutdown (GOAWAY; streams in flight finish).
    pub fn shutdown(&self) {
        let _ = self.driver.send(Msg::Shutdown);
    }
}
