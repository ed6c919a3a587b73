//! `https://` through rustls (feature `rustls`): the handshake within the connect, ALPN
//! `h2` required (RFC 9113 §3.3), the server's name as SNI, certificate and origin. The
//! server is a hand-driven core behind rustls, with a certificate made at test time.
#![cfg(feature = "rustls")]

mod support;

use h2proto_blocking::tls::{client_config, rustls};
use h2proto_blocking::{Client, Error};
use http::Request;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use std::io::{self, Read};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use support::*;

#[path = "../../tls_test_server.rs"]
mod tls_test_server;
use tls_test_server::*;

fn trusting(cert: CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    client_config(roots).unwrap()
}

#[test]
fn https_requests_go_over_tls_with_alpn_h2_to_the_servers_name() {
    let _w = watchdog(30);
    let (addr, cert, server) = tls_server(vec![b"h2".to_vec()]);
    let client = Client::builder().tls(trusting(cert), "localhost").unwrap().connect(addr).unwrap();
    let origin = format!("localhost:{}", addr.port());

    // A path only: the origin is https://localhost:PORT.
    let response = client.request(Request::get("/").body(()).unwrap()).unwrap();
    assert_eq!(response.into_body().read_to_vec().unwrap(), b"0");
    // An https:// URI, with a body of many TLS records and WINDOW_UPDATEs coming back.
    let upload = pattern(300_000, 1);
    let url = format!("https://{origin}/upload");
    let response = client.request(Request::post(url).body(upload).unwrap()).unwrap();
    assert_eq!(response.into_body().read_to_vec().unwrap(), b"300000");
    assert_eq!(client.stats().unwrap().counters.data_sent, 300_000);
    drop(client);
    let seen = server.join().unwrap();
    let https = |n| ("https".to_owned(), origin.clone(), n);
    assert_eq!(seen, vec![https(0), https(300_000)]);
}

fn connect_error(e: &io::Error) -> &io::Error {
    match blocking_error(e) {
        Error::Connect(inner) => inner,
        other => panic!("not a connect error: {other:?}"),
    }
}

#[test]
fn a_server_that_does_not_choose_h2_fails_the_connect() {
    // RFC 9113 §3.3: h2 over TLS only when ALPN selected "h2".
    let _w = watchdog(30);
    let (addr, cert, server) = tls_server(Vec::new());
    let error =
        Client::builder().tls(trusting(cert), "localhost").unwrap().connect(addr).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
    assert!(connect_error(&error).to_string().contains("ALPN h2"), "{error}");
    assert!(server.join().unwrap().is_empty());
}

#[test]
fn an_untrusted_certificate_fails_the_connect() {
    let _w = watchdog(30);
    let (addr, _, server) = tls_server(vec![b"h2".to_vec()]);
    let untrusting = client_config(RootCertStore::empty()).unwrap();
    let error = Client::builder().tls(untrusting, "localhost").unwrap().connect(addr).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
    assert!(connect_error(&error).to_string().contains("certificate"), "{error}");
    assert!(server.join().unwrap().is_empty());
}

#[test]
fn a_reconnect_whose_handshake_hangs_holds_no_lock_and_times_out() {
    // The handshake is part of the connect: bounded by the connect timeout, and made with
    // the client's lock released, so other callers are not stuck behind it.
    let _w = watchdog(60);
    let (config, cert) = server_config(vec![b"h2".to_vec()]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let first = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        // A handshake, then the server closes: the next request needs a new connection.
        handshake(&mut socket, config).unwrap();
        listener
    });
    let client = Client::builder()
        .tls(trusting(cert), "localhost")
        .unwrap()
        .connect_timeout(Duration::from_secs(2))
        .connect(addr)
        .unwrap();
    let listener = first.join().unwrap();
    while client.stats().is_some() {
        thread::sleep(Duration::from_millis(5));
    }

    let request = |client: &Client| {
        let client = client.clone();
        thread::spawn(move || client.request(Request::get("/").body(()).unwrap()).unwrap_err())
    };
    let a = request(&client);
    // The reconnect's ClientHello arrives, and the server answers nothing.
    let (mut stalled, _) = listener.accept().unwrap();
    let mut header = [0; 5];
    stalled.read_exact(&mut header).unwrap();
    assert_eq!(header[0], 22, "a handshake record");
    let mut hello = vec![0; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    stalled.read_exact(&mut hello).unwrap();

    // While A is in its handshake, the client answers at once...
    assert!(client.stats().is_none(), "no live connection");
    assert_eq!(client.connects(), 1);
    // ...and A is still waiting: had the lock been held until its connect failed, A's
    // socket would be closed by now.
    stalled.set_nonblocking(true).unwrap();
    let still_open = stalled.read(&mut [0; 1]).unwrap_err();
    assert_eq!(still_open.kind(), io::ErrorKind::WouldBlock, "{still_open}");
    // B comes while A connects: it waits for A's attempt, not behind a lock.
    let b = request(&client);
    for (name, caller) in [("A", a), ("B", b)] {
        let error = caller.join().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{name}: {error}");
        assert!(matches!(blocking_error(&error), Error::Connect(_)), "{name}: {error:?}");
    }
    assert_eq!(client.connects(), 1);
}
