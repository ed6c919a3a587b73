//! A server that answers before the request body is complete (RFC 9113 §8.1 allows it),
//! for the three adapters' client tests (included with `#[path]`). It is the core driven
//! by hand over a std socket: it answers the first request at once with 200 and
//! `early answer`, reads nothing of the body (the upload stalls at the initial window), and
//! with `reset` asks the client to stop sending with RST_STREAM NO_ERROR right after the
//! complete response. It reports the request head and ends when the client goes.
#![allow(dead_code)]

use bytes::Bytes;
use h2proto::{Config, Connection, ErrorCode, Event, buf_to_vec};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::time::Instant;

pub const EARLY_ANSWER: &[u8] = b"early answer";

pub fn early_server(reset: bool) -> (SocketAddr, mpsc::Receiver<http::Request<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut socket, _)) = listener.accept() else { return };
        // The smallest windows (RFC 9113 §6.9.2: 65,535 octets): a larger upload cannot
        // finish before the response, whatever the client's speed.
        let mut config = Config::default();
        config.initial_stream_window_size = 65_535;
        config.initial_connection_window_size = 65_535;
        let mut conn = Connection::server(config);
        conn.handle_timeout(Instant::now());
        let mut buf = vec![0; 64 << 10];
        let mut answered = false;
        loop {
            let mut out = buf_to_vec(conn.transmit());
            while let Some(event) = conn.poll_event() {
                let Event::Request { stream_id, request, .. } = event else { continue };
                if answered {
                    continue;
                }
                answered = true;
                let _ = tx.send(request);
                conn.send_response(stream_id, http::Response::new(()), false).unwrap();
                conn.send_data(stream_id, Bytes::from_static(EARLY_ANSWER), true).unwrap();
                // Framed before the reset (a reset drops what is still queued); both leave
                // in one write, so the client reads them together.
                out.extend(buf_to_vec(conn.transmit()));
                if reset {
                    conn.reset(stream_id, ErrorCode::NO_ERROR).unwrap();
                }
            }
            out.extend(buf_to_vec(conn.transmit()));
            if socket.write_all(&out).is_err() {
                return;
            }
            match socket.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let _ = conn.recv(Bytes::copy_from_slice(&buf[..n]), std::time::Instant::now());
                }
            }
        }
    });
    (addr, rx)
}
