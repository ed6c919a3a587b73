//! A peer driven by hand for client tests (the blocking and mio adapters' test support
//! includes this file): an h2proto server core over a blocking socket, so a test can make
//! the server misbehave in one precise way: refuse a stream, go silent, vanish, send
//! GOAWAY, stall or trickle a response, hold a stream.
#![allow(dead_code)] // each adapter's tests use what they need

use bytes::Bytes;
use h2proto::frame::StreamId;
use h2proto::{Config, Connection, ErrorCode, Event, Initiator};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A peer driven by hand: an h2proto core over a blocking socket, so a test can make it
/// misbehave (go silent, vanish).
pub struct RawPeer {
    pub conn: Connection,
    pub socket: TcpStream,
}

impl RawPeer {
    pub fn new(socket: TcpStream, conn: Connection) -> RawPeer {
        socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut peer = RawPeer { conn, socket };
        peer.conn.handle_timeout(Instant::now());
        peer
    }

    pub fn flush(&mut self) {
        let out = h2proto::buf_to_vec(self.conn.transmit());
        self.socket.write_all(&out).unwrap();
    }

    /// Exchanges bytes until `until` accepts an event; returns the events seen.
    pub fn run_until(&mut self, mut until: impl FnMut(&Event) -> bool) -> Vec<Event> {
        let mut seen = Vec::new();
        let mut buf = vec![0; 64 << 10];
        loop {
            self.flush();
            while let Some(event) = self.conn.poll_event() {
                let done = until(&event);
                seen.push(event);
                if done {
                    self.flush();
                    return seen;
                }
            }
            match self.socket.read(&mut buf) {
                Ok(0) => panic!("peer closed; events so far: {seen:?}"),
                Ok(n) => {
                    self.conn.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now()).unwrap();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Closes like a server that is done: FIN after everything written, then reads until the
    /// peer's EOF (at most 2 s), so no unread input turns the close into a RST that would
    /// discard responses still in the peer's receive buffer.
    pub fn close_gracefully(self) {
        let _ = self.socket.shutdown(std::net::Shutdown::Write);
        let _ = self.socket.set_read_timeout(Some(Duration::from_secs(2)));
        let mut buf = [0; 4096];
        while matches!((&self.socket).read(&mut buf), Ok(n) if n > 0) {}
    }

    /// Stays silent (writes nothing, not even ACKs) and reads the socket to EOF; returns
    /// the events the peer's frames caused.
    pub fn silent_until_eof(&mut self) -> Vec<Event> {
        self.socket.set_read_timeout(None).unwrap();
        let mut events = Vec::new();
        let mut buf = vec![0; 64 << 10];
        loop {
            match self.socket.read(&mut buf) {
                Ok(0) | Err(_) => return events,
                Ok(n) => {
                    let _ = self.conn.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now());
                }
            }
            events.extend(std::iter::from_fn(|| self.conn.poll_event()));
        }
    }

    /// Accepts the next connection on `listener` and serves it with a server core made
    /// with `config`.
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

    /// Sends all of `data` on `id` and ends the stream, offering what the core's send
    /// buffer does not take yet again after exchanging for a while (the client's window
    /// updates make room); stops early if the stream is gone. Returns the events seen.
    pub fn send_all(&mut self, id: StreamId, data: &[u8]) -> Vec<Event> {
        let mut rest = Bytes::copy_from_slice(data);
        let mut seen = Vec::new();
        while let Ok(n) = self.conn.send_data(id, rest.clone(), true) {
            rest = rest.slice(n..);
            if rest.is_empty() {
                break;
            }
            seen.extend(self.exchange_for(Duration::from_millis(50)));
        }
        self.flush();
        seen
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

    /// Refuses a stream unprocessed (RFC 9113 §8.7: REFUSED_STREAM) and flushes.
    pub fn refuse(&mut self, id: StreamId) {
        self.conn.reset(id, ErrorCode::REFUSED_STREAM).unwrap();
        self.flush();
    }
}

/// A server on 127.0.0.1:0 that accepts one connection (served with `config`) and hands
/// it to `serve` on a thread of its own; returns the address and the thread, whose result
/// is `serve`'s. The port closes once that connection is accepted: a client connecting
/// again is refused at once, rather than completing a handshake in the backlog of a
/// listener about to close (and then being reset).
pub fn one_connection_server_with<T: Send + 'static>(
    config: Config,
    serve: impl FnOnce(RawPeer) -> T + Send + 'static,
) -> (SocketAddr, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = thread::spawn(move || {
        let peer = RawPeer::accept(&listener, config);
        drop(listener);
        serve(peer)
    });
    (addr, serving)
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
