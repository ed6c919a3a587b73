//! The blocking client's request path: an early response (RFC 9113 §8.1: a server may
//! answer before the request body is complete, and ask the client to stop with RST_STREAM
//! NO_ERROR), `https://` refused (no TLS here), `/path` completed from the connection's
//! origin and a body's length declared (§8.3.1, §8.1.1).

#[path = "../../tokio/tests/cli_support/early.rs"]
mod early;
mod support;

use early::{EARLY_ANSWER, early_server};
use h2proto_blocking::{Body, Client, Config};
use http::Request;
use std::io::{self, Read};
use support::*;

/// The whole response arrives while a 1 MiB body is still being sent against a 64 KiB
/// window: the client returns status and body, for a body in memory and one streamed
/// from a reader.
#[test]
fn an_early_response_is_returned_while_the_upload_is_unfinished() {
    let _w = watchdog(30);
    for reset in [false, true] {
        for streamed in [false, true] {
            let (addr, heads) = early_server(reset);
            let client = Client::connect(addr).unwrap();
            let data = pattern(1 << 20, 3);
            let body =
                if streamed { Body::from_reader(io::Cursor::new(data)) } else { Body::from(data) };
            let request = Request::post("/upload").body(body).unwrap();
            let response = client.request(request).unwrap();
            let case = format!("reset {reset}, streamed {streamed}");
            assert_eq!(response.status(), 200, "{case}");
            let mut got = Vec::new();
            response.into_body().read_to_end(&mut got).unwrap();
            assert_eq!(got, EARLY_ANSWER, "{case}");
            let head = heads.recv().unwrap();
            assert_eq!(head.uri().to_string(), format!("http://{addr}/upload"), "{case}");
            // A body in memory has a known length; a reader's is unknown.
            let length = head.headers().get("content-length").map(|v| v.to_str().unwrap());
            assert_eq!(length, (!streamed).then_some("1048576"), "{case}");
        }
    }
}

/// No TLS in this client: an `https://` URL is refused before anything is sent, and the
/// connection stays usable.
#[test]
fn https_is_refused_not_sent_in_cleartext() {
    let _w = watchdog(30);
    let server = TestServer::start(Config::default(), 1, hello_echo);
    let client = Client::connect(server.addr).unwrap();
    let request = Request::get(format!("https://{}/", server.addr)).body(()).unwrap();
    let error = client.request(request).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::Unsupported);
    assert!(error.to_string().contains("TLS"), "{error}");
    let ok = client.request(Request::get("/").body(()).unwrap()).unwrap();
    assert_eq!(ok.into_body().read_to_vec().unwrap(), b"hello");
    drop(client);
    server.stop();
}
