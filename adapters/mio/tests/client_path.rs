//! The mio client's request path: an early response (RFC 9113 §8.1: a server may answer
//! before the request body is complete, and ask the client to stop with RST_STREAM
//! NO_ERROR), `https://` refused without TLS, `/path` completed from the connection's
//! origin and a body's length declared (§8.3.1, §8.1.1).

#[path = "../../tokio/tests/cli_support/early.rs"]
mod early;
mod support;

use bytes::Bytes;
use early::{EARLY_ANSWER, early_server};
use h2proto_mio::{Client, ErrorKind};
use http::Request;
use std::io;
use support::*;

fn upload(len: usize) -> Request<Bytes> {
    Request::post("/upload").body(Bytes::from(pattern(len, 7))).unwrap()
}

/// The whole response arrives while the body is still being sent (1 MiB against a 64 KiB
/// window): the client returns it, status and body.
#[test]
fn an_early_response_is_returned_while_the_upload_is_unfinished() {
    let _w = watchdog(30);
    for reset in [false, true] {
        let (addr, heads) = early_server(reset);
        let client = Client::connect(addr).unwrap();
        let response = client.request(upload(1 << 20)).unwrap();
        assert_eq!(response.status(), 200, "reset: {reset}");
        assert_eq!(response.body(), EARLY_ANSWER, "reset: {reset}");
        let head = heads.recv().unwrap();
        // The body's length went with the head; `/upload` got the connection's origin.
        assert_eq!(head.headers()["content-length"], "1048576");
        assert_eq!(head.uri().to_string(), format!("http://{addr}/upload"));
    }
}

/// A client without TLS: an `https://` URL is refused before anything is sent.
#[test]
fn https_is_refused_not_sent_in_cleartext() {
    let _w = watchdog(30);
    let server = TestServer::hello_echo(h2proto::Config::default());
    let client = Client::connect(server.addr).unwrap();
    let request = Request::get(format!("https://{}/", server.addr)).body(Bytes::new()).unwrap();
    let error = client.request(request).unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::TlsUnavailable), "{error:?}");
    assert!(error.to_string().contains("TLS"), "{error}");
    assert_eq!(io::Error::from(error).kind(), io::ErrorKind::Unsupported);
    // The connection is unharmed.
    let ok = client.request(Request::get("/").body(Bytes::new()).unwrap()).unwrap();
    assert_eq!(ok.body(), "hello");
}
