//! The blocking client example used as curl is: exit codes (7, 22, 28), output (`-i`, `-o`,
//! the body on an HTTP error), `-H`/`-X`/`-d`, and `https://` refused with curl's code 1
//! (this crate has no TLS) instead of being sent in cleartext.

#[path = "../../tokio/tests/cli_support/mod.rs"]
mod cli_support;
mod support;

use cli_support::*;
use h2proto_blocking::{Body, Config, RequestBody};
use http::{Request, Response, StatusCode};
use std::io::Read;
use support::*;

const NOT_FOUND: &[u8] = b"no such thing\n";

/// hello on `/`, 404 with a body on `/missing`, and on `/echo` the body back with the
/// method and `x-test` as response headers.
fn handle(request: Request<RequestBody>) -> Response<Body> {
    let (parts, mut body) = request.into_parts();
    match parts.uri.path() {
        "/missing" => {
            let mut response = Response::new(Body::from(NOT_FOUND));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
        "/echo" => {
            let mut bytes = Vec::new();
            let _ = body.read_to_end(&mut bytes);
            let mut response = Response::builder().header("x-method", parts.method.as_str());
            if let Some(v) = parts.headers.get("x-test") {
                response = response.header("x-test", v);
            }
            response.body(Body::from(bytes)).unwrap()
        }
        _ => Response::new(Body::from("hello\n")),
    }
}

#[test]
fn the_client_behaves_like_curl() {
    let _w = watchdog(300);
    let server = TestServer::start(Config::default(), 2, handle);
    let bin = example("h2proto-blocking", "blocking-client", &[]);
    common_checks(&bin, server.addr, NOT_FOUND);

    // https:// is refused before connecting: curl's "unsupported protocol" (1), not the
    // "could not connect" (7) an attempt on this closed port would give.
    let refused = run(&bin, &[&format!("https://{}/", closed_port())]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("TLS"), "{refused:?}");
    server.stop();
}
