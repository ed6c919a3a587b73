//! A peer that stops reading: once the core has given up on it (here: its keepalive PING
//! went unanswered), the connection's last frames cannot be written either. The connection
//! task must still end, and the socket with it, instead of waiting forever to flush a
//! GOAWAY into a full socket.

#[path = "../../deaf_peer.rs"]
mod deaf_peer;
mod support;

use bytes::Bytes;
use deaf_peer::deaf_server;
use h2proto_tokio::{Config, client};
use http::Request;
use http_body_util::Full;
use std::time::{Duration, Instant};
use support::within;

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
