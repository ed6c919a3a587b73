//! A raw HTTP/2 "server" that stops reading, for the adapters' stuck-peer tests (each
//! includes this file with `#[path]`).

use std::io::{Read, Write};
use std::time::Duration;

/// A raw HTTP/2 "server" that reads the client's preface, grants the largest windows
/// (RFC 9113 §6.9.2: SETTINGS_INITIAL_WINDOW_SIZE, §6.9: a connection WINDOW_UPDATE) and
/// then never reads again, holding the socket open until `hold` has passed.
pub fn deaf_server(hold: Duration) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut preface = [0u8; 24];
        tcp.read_exact(&mut preface).unwrap();
        const MAX: u32 = 0x7fff_ffff;
        let mut frames = Vec::new();
        // SETTINGS: INITIAL_WINDOW_SIZE = 2^31-1.
        frames.extend_from_slice(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4]);
        frames.extend_from_slice(&MAX.to_be_bytes());
        // WINDOW_UPDATE on the connection up to 2^31-1.
        frames.extend_from_slice(&[0, 0, 4, 8, 0, 0, 0, 0, 0]);
        frames.extend_from_slice(&(MAX - 65_535).to_be_bytes());
        tcp.write_all(&frames).unwrap();
        std::thread::sleep(hold);
        drop(tcp);
    });
    addr
}
