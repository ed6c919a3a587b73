//! A peer that stops reading: once the core has given up on it (its keepalive PING went
//! unanswered), the connection's last frames cannot be written either. The connection
//! must still end within `Config::shutdown_timeout`, socket with it, instead of the loop
//! waiting forever to flush a GOAWAY into a full socket.

#[path = "../../deaf_peer.rs"]
mod deaf_peer;
mod support;

use bytes::Bytes;
use deaf_peer::deaf_server;
use h2proto_mio::{Client, Config};
use std::time::{Duration, Instant};
use support::watchdog;

#[test]
fn a_connection_whose_peer_stopped_reading_ends_after_the_core_gives_up() {
    let _w = watchdog(60);
    let addr = deaf_server(Duration::from_secs(40));
    let mut config = Config::default();
    config.keepalive_interval = Some(Duration::from_millis(200));
    config.keepalive_timeout = Duration::from_millis(500);
    config.shutdown_timeout = Duration::from_millis(500);
    let client = Client::builder(addr).config(config).connect().unwrap();
    assert!(client.stats().is_some(), "a live connection has stats");
    // Far more than the socket buffers of both ends hold: the writes block for good.
    let body = Bytes::from(vec![7u8; 64 << 20]);
    let request = http::Request::post(format!("http://{addr}/")).body(body).unwrap();
    let started = Instant::now();
    let error = client.request(request).expect_err("nobody answers");
    println!("request failed after {:?}: {error}", started.elapsed());
    assert!(error.is_keepalive_timeout(), "{error:?}");
    // The connection is gone (stats are only had from a live one) in bounded time, and
    // the loop still answers.
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.stats().is_some() {
        assert!(Instant::now() < deadline, "the connection never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("connection ended after {:?}", started.elapsed());
}
