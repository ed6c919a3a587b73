//! A peer that stops reading: once the core has given up on it (here: its keepalive PING
//! went unanswered), the connection's last frames cannot be written either. The connection
//! task must still end, and the socket with it, instead of waiting forever to flush a
//! GOAWAY into a full socket.

mod support;

use bytes::Bytes;
use h2proto_tokio::{Config, client};
use http::Request;
use http_body_util::Full;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use support::within;

/// A raw HTTP/2 "server" that reads the client's preface, grants the largest windows
/// (RFC 9113 §6.9.2: SETTINGS_INITIAL_WINDOW_SIZE, §6.9: a connection WINDOW_UPDATE) and
/// then never reads again, holding the socket open until `hold` has passed.
fn deaf_server(hold: Duration) -> std::net::SocketAddr {
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

#[tokio::test]
async fn a_connection_whose_peer_stopped_reading_ends_after_the_core_gives_up() {
    within(async {
        let addr = deaf_server(Duration::from_secs(40));
        let mut config = Config::default();
        config.keepalive_interval = Some(Duration::from_millis(200));
        config.keepalive_timeout = Duration::from_millis(500);
        // How long a finished connection may linger over its last frames (as on the
        // blocking and mio adapters).
        config.shutdown_timeout = Duration::from_millis(500);
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (send, conn) = client::handshake_with(tcp, config);
        let conn = tokio::spawn(conn);
        // Far more than the socket buffers of both ends hold: the writes block for good.
        let body = Bytes::from(vec![7u8; 64 << 20]);
        let request = Request::post(format!("http://{addr}/")).body(Full::new(body)).unwrap();
        let started = Instant::now();
        let error = send.send_request(request).await.expect_err("nobody answers");
        println!("request failed after {:?}: {error}", started.elapsed());
        // The keepalive ended the connection for the core; the task follows within a
        // bounded time although its GOAWAY could never be written.
        let ended = tokio::time::timeout(Duration::from_secs(10), conn).await;
        let result = ended.expect("the connection task ended").unwrap();
        println!("connection ended after {:?}: {result:?}", started.elapsed());
        assert!(result.is_err(), "a connection given up on ends with its error");
    })
    .await;
}
