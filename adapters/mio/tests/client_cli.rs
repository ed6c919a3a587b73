//! The mio client example used as curl is: exit codes (7, 22, 28), output (`-i`, `-o`,
//! the body on an HTTP error), `-H`/`-X`/`-d`, and `https://` refused with curl's code 1
//! (this crate has no TLS) instead of being sent in cleartext.

#[path = "../../tokio/tests/cli_support/mod.rs"]
mod cli_support;
mod support;

use bytes::Bytes;
use cli_support::*;
use h2proto_mio::Server;
use http::{Request, Response, StatusCode};
use support::*;

const NOT_FOUND: &[u8] = b"no such thing\n";

/// hello on `/`, 404 with a body on `/missing`, and on `/echo` the body back with the
/// method and `x-test` as response headers.
fn handle(request: Request<Bytes>) -> Response<Bytes> {
    let (parts, body) = request.into_parts();
    match parts.uri.path() {
        "/missing" => {
            let mut response = Response::new(Bytes::from_static(NOT_FOUND));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
        "/echo" => {
            let mut response = Response::builder().header("x-method", parts.method.as_str());
            if let Some(v) = parts.headers.get("x-test") {
                response = response.header("x-test", v);
            }
            response.body(body).unwrap()
        }
        _ => Response::new(Bytes::from_static(b"hello\n")),
    }
}

#[test]
fn the_client_behaves_like_curl() {
    let _w = watchdog(300);
    let server = TestServer::start(Server::bind("127.0.0.1:0").unwrap(), handle);
    let bin = example("h2proto-mio", "mio-client", &[]);
    common_checks(&bin, server.addr, NOT_FOUND);

    // https:// is refused before connecting: curl's "unsupported protocol" (1), not the
    // "could not connect" (7) an attempt on this closed port would give.
    let refused = run(&bin, &[&format!("https://{}/", closed_port())]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("TLS"), "{refused:?}");
    server.stop();
}
