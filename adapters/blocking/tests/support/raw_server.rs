//! Servers played by a hand-driven core (see [`RawPeer`]), for the tests that need a
//! server to misbehave in one precise way: refuse a stream, go silent, vanish, send
//! GOAWAY. The retry and fault tests share these.

use super::RawPeer;
use h2proto::frame::StreamId;
use h2proto::{Config, Connection, ErrorCode, Event};
use h2proto_blocking::Error;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::thread::{self, JoinHandle};

impl RawPeer {
    /// Accepts the next connection on `listener` and serves it with a server core.
    pub fn accept(listener: &TcpListener) -> RawPeer {
        let (socket, _) = listener.accept().unwrap();
        RawPeer::new(socket, Connection::server(Config::default()))
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

    /// Refuses a stream unprocessed (RFC 9113 §8.7: REFUSED_STREAM) and flushes.
    pub fn refuse(&mut self, id: StreamId) {
        self.conn.reset(id, ErrorCode::REFUSED_STREAM).unwrap();
        self.flush();
    }
}

/// A server on 127.0.0.1:0 that accepts one connection and hands it to `serve` on a
/// thread of its own; returns the address and the thread, whose result is `serve`'s.
pub fn one_connection_server<T: Send + 'static>(
    serve: impl FnOnce(RawPeer) -> T + Send + 'static,
) -> (SocketAddr, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, thread::spawn(move || serve(RawPeer::accept(&listener))))
}

/// The HTTP/2 error inside an error of this crate (panics if there is none).
pub fn blocking_error(e: &io::Error) -> &Error {
    e.get_ref().and_then(|e| e.downcast_ref::<Error>()).unwrap_or_else(|| panic!("{e:?}"))
}
