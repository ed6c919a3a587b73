//! Servers played by a hand-driven core (see [`RawPeer`]), for the tests that need a
//! server to misbehave in one precise way: stall or trickle a response, hold a stream.

use super::RawPeer;
use bytes::Bytes;
use h2proto::frame::StreamId;
use h2proto::{Config, Connection, ErrorCode, Event, Initiator};
use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

impl RawPeer {
    /// Accepts the next connection on `listener` and serves it with a server core.
    pub fn accept(listener: &TcpListener, config: Config) -> RawPeer {
        let (socket, _) = listener.accept().unwrap();
        RawPeer::new(socket, Connection::server(config))
    }

    /// Exchanges bytes until a request arrives; returns its stream.
    pub fn next_request(&mut self) -> StreamId {
        let mut id = StreamId::ZERO;
        self.run_until(|e| match e {
            Event::Request { stream_id, .. } => {
                id = *stream_id;
                true
            }
            _ => false,
        });
        id
    }

    /// Sends a 200 response head on `id`, the stream left open, and flushes.
    pub fn send_head(&mut self, id: StreamId) {
        self.conn.send_response(id, http::Response::new(()), false).unwrap();
        self.flush();
    }

    /// Sends `data` on `id`, ending the stream if `end`, and flushes.
    pub fn send_body(&mut self, id: StreamId, data: &[u8], end: bool) {
        let n = self.conn.send_data(id, Bytes::copy_from_slice(data), end).unwrap();
        assert_eq!(n, data.len(), "the test's data must fit the window");
        self.flush();
    }

    /// Exchanges bytes (the core answers SETTINGS and PINGs) for `time`, or until the
    /// client closes; returns the events seen.
    pub fn exchange_for(&mut self, time: Duration) -> Vec<Event> {
        let end = Instant::now() + time;
        let mut seen = Vec::new();
        let mut buf = vec![0; 64 << 10];
        loop {
            self.flush();
            seen.extend(std::iter::from_fn(|| self.conn.poll_event()));
            if Instant::now() >= end {
                return seen;
            }
            // The socket's read timeout (50 ms) bounds each turn.
            match self.socket.read(&mut buf) {
                Ok(0) => return seen,
                Ok(n) => {
                    let _ = self.conn.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now());
                }
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(_) => return seen,
            }
        }
    }

    /// Sends `data` on `id` one byte per `every`, ending the stream with the last, and stops
    /// early once the client resets the stream; returns the events seen.
    pub fn trickle(&mut self, id: StreamId, data: &[u8], every: Duration) -> Vec<Event> {
        let mut seen = Vec::new();
        for (i, byte) in data.iter().enumerate() {
            let last = i + 1 == data.len();
            if self.conn.send_data(id, Bytes::copy_from_slice(&[*byte]), last).is_err() {
                break;
            }
            seen.extend(self.exchange_for(every));
            if reset_of(&seen, id).is_some() {
                break;
            }
        }
        seen
    }

    /// Exchanges bytes until the client resets `id`; returns the reset's code.
    pub fn wait_reset(&mut self, id: StreamId) -> ErrorCode {
        let seen =
            self.run_until(|e| matches!(e, Event::Reset { stream_id, .. } if *stream_id == id));
        let (code, initiator) = reset_of(&seen, id).unwrap();
        assert_eq!(initiator, Initiator::Remote, "{seen:?}");
        code
    }
}

/// A server on 127.0.0.1:0 that accepts one connection (served with `config`) and hands
/// it to `serve` on a thread of its own; returns the address and the thread, whose result
/// is `serve`'s.
pub fn one_connection_server<T: Send + 'static>(
    config: Config,
    serve: impl FnOnce(RawPeer) -> T + Send + 'static,
) -> (SocketAddr, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, thread::spawn(move || serve(RawPeer::accept(&listener, config))))
}

/// The code and initiator of the first reset of `id` among `events`.
pub fn reset_of(events: &[Event], id: StreamId) -> Option<(ErrorCode, Initiator)> {
    events.iter().find_map(|e| match e {
        Event::Reset { stream_id, error_code, initiator, .. } if *stream_id == id => {
            Some((*error_code, *initiator))
        }
        _ => None,
    })
}
