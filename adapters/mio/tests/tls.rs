//! `https://` through rustls (feature `rustls`) on the mio client: the first handshake
//! within the connect, ALPN `h2` required (RFC 9113 §3.3), the server's name as SNI,
//! certificate and origin; a replacement connection's handshake run by the loop, and
//! bounded by the connect timeout. The server is a hand-driven core behind rustls, with a
//! certificate made at test time (`adapters/tls_test_server.rs`, shared with the blocking
//! adapter's tests).
#![cfg(feature = "rustls")]

mod support;

#[path = "../../tls_test_server.rs"]
mod tls_test_server;

use bytes::Bytes;
use h2proto_mio::tls::{client_config, rustls};
use h2proto_mio::{Client, Error, ErrorKind};
use http::Request;
use rustls::pki_types::CertificateDer;
use rustls::{RootCertStore, StreamOwned};
use std::io::{self, Read};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use support::*;
use tls_test_server::*;

fn trusting(cert: CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    client_config(roots).unwrap()
}

fn get(uri: &str) -> Request<Bytes> {
    Request::get(uri).body(Bytes::new()).unwrap()
}

/// The typed error inside a connect's `io::Error`.
fn connect_error(e: &io::Error) -> String {
    e.get_ref().map_or_else(|| e.to_string(), |inner| inner.to_string())
}

#[test]
fn https_requests_go_over_tls_with_alpn_h2_to_the_servers_name() {
    let _w = watchdog(30);
    let (addr, cert, server) = tls_server(vec![b"h2".to_vec()]);
    let client = Client::builder(addr).tls(trusting(cert), "localhost").unwrap().connect().unwrap();
    let origin = format!("localhost:{}", addr.port());

    // A path only: the origin is https://localhost:PORT.
    let response = client.request(get("/")).unwrap();
    assert_eq!(response.body(), "0");
    // An https:// URI, with a body of many TLS records and WINDOW_UPDATEs coming back.
    let upload = Bytes::from(pattern(300_000, 1));
    let url = format!("https://{origin}/upload");
    let response = client.request(Request::post(url).body(upload).unwrap()).unwrap();
    assert_eq!(response.body(), "300000");
    drop(client);
    let seen = server.join().unwrap();
    let https = |n| ("https".to_owned(), origin.clone(), n);
    assert_eq!(seen, vec![https(0), https(300_000)]);
}

#[test]
fn a_server_that_does_not_choose_h2_fails_the_connect() {
    // RFC 9113 §3.3: h2 over TLS only when ALPN selected "h2".
    let _w = watchdog(30);
    let (addr, cert, server) = tls_server(Vec::new());
    let error =
        Client::builder(addr).tls(trusting(cert), "localhost").unwrap().connect().unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
    assert!(connect_error(&error).contains("ALPN h2"), "{error}");
    assert!(server.join().unwrap().is_empty());
}

#[test]
fn an_untrusted_certificate_fails_the_connect() {
    let _w = watchdog(30);
    let (addr, _, server) = tls_server(vec![b"h2".to_vec()]);
    let untrusting = client_config(RootCertStore::empty()).unwrap();
    let error = Client::builder(addr).tls(untrusting, "localhost").unwrap().connect().unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
    assert!(connect_error(&error).contains("certificate"), "{error}");
    assert!(server.join().unwrap().is_empty());
}

#[test]
fn a_replacement_connection_does_its_handshake_on_the_loop() {
    // The first connection answers one request and closes (GOAWAY first); the next request
    // needs a new connection, whose handshake the loop runs without blocking, and goes
    // over it.
    let _w = watchdog(30);
    let (config, cert) = server_config(vec![b"h2".to_vec()]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let mut seen = Vec::new();
        for limit in [1, usize::MAX] {
            let (mut socket, _) = listener.accept().unwrap();
            let tls = handshake(&mut socket, config.clone()).unwrap();
            socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            seen.extend(serve(StreamOwned::new(tls, socket), limit));
        }
        seen
    });
    let client = Client::builder(addr).tls(trusting(cert), "localhost").unwrap().connect().unwrap();
    assert_eq!(client.request(get("/")).unwrap().body(), "0");
    // Sent before the GOAWAY arrived, it is refused above its last stream id and retried
    // (RFC 9113 §8.7); after, it goes to the replacement at once: either way it succeeds.
    assert_eq!(client.request(get("/again")).unwrap().body(), "0");
    assert_eq!(client.connects(), 2);
    drop(client);
    let seen = server.join().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|(scheme, _, _)| scheme == "https"), "{seen:?}");
}

#[test]
fn a_replacement_whose_handshake_hangs_fails_within_the_connect_timeout() {
    let _w = watchdog(30);
    let (config, cert) = server_config(vec![b"h2".to_vec()]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let first = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        // A handshake, then the server closes: the next request needs a new connection.
        handshake(&mut socket, config).unwrap();
        listener
    });
    let timeout = Duration::from_millis(500);
    let client = Client::builder(addr)
        .tls(trusting(cert), "localhost")
        .unwrap()
        .connect_timeout(timeout)
        .connect()
        .unwrap();
    let listener = first.join().unwrap();
    // Once the loop has seen the first connection end, the next request needs a new one
    // (sent before, it would have been written to the dying one and failed there).
    while client.stats().is_some() {
        thread::sleep(Duration::from_millis(5));
    }
    let requester = {
        let client = client.clone();
        thread::spawn(move || client.request(get("/")))
    };
    // The replacement's ClientHello arrives, and the server answers nothing.
    let (mut stalled, _) = listener.accept().unwrap();
    stalled.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut header = [0; 5];
    stalled.read_exact(&mut header).unwrap();
    assert_eq!(header[0], 22, "a handshake record");
    let error: Error = requester.join().unwrap().unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::ConnectTimeout { .. }), "{error:?}");
    assert!(error.is_retry_safe(), "nothing was sent: {error:?}");
    drop(stalled);
}
