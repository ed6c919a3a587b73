//! The blocking client example used as curl is: exit codes (7, 22, 28), output (`-i`, `-o`,
//! the body on an HTTP error), `-H`/`-X`/`-d`, `--max-time` as the client's request
//! timeout; `https://` with the `rustls` feature (35 for an untrusted certificate), and
//! without it refused with curl's code 1 instead of being sent in cleartext.

#[path = "../../tokio/tests/cli_support/mod.rs"]
mod cli_support;
#[cfg(feature = "rustls")]
#[path = "../../tokio/tests/cli_support/https.rs"]
mod https;
mod support;

use cli_support::*;
#[cfg(feature = "rustls")]
use h2proto_blocking::tls::rustls;
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

/// The example, built with TLS when this test is.
fn client() -> std::path::PathBuf {
    let features: &[&str] = if cfg!(feature = "rustls") { &["rustls"] } else { &[] };
    example("h2proto-blocking", "blocking-client", features)
}

#[test]
fn the_client_behaves_like_curl() {
    let _w = watchdog(300);
    let server = TestServer::start(Config::default(), 2, handle);
    let bin = client();
    common_checks(&bin, server.addr, NOT_FOUND);
    server.stop();
}

#[test]
fn max_time_is_the_clients_request_timeout() {
    // A response that stops after its head and a few bytes: --max-time 1 becomes the
    // client's request timeout, whose typed error (not a watchdog around the client) ends
    // the transfer with curl's 28, after the bytes that came were written out.
    let _w = watchdog(120);
    let (addr, serving) = one_connection_server(|mut peer| {
        let id = peer.next_request();
        peer.send_head(id);
        peer.send_body(id, b"partial", false);
        // Until the client has gone.
        peer.silent_until_eof()
    });
    let stalled = run(&client(), &["--max-time", "1", &format!("http://{addr}/")]);
    assert_eq!(stalled.code, 28, "{stalled:?}");
    assert_eq!(stalled.stdout, b"partial", "{stalled:?}");
    assert!(stalled.stderr.contains("request timed out"), "{stalled:?}");
    serving.join().unwrap();
}

#[cfg(not(feature = "rustls"))]
#[test]
fn https_without_tls_is_refused_clearly() {
    // Refused before connecting: curl's "unsupported protocol" (1), not the "could not
    // connect" (7) an attempt on this closed port would give.
    let refused = run(&client(), &[&format!("https://{}/", closed_port())]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("TLS"), "{refused:?}");
}

/// `https://` through rustls with ALPN h2, trusting a CA given with `--cacert`, against a
/// TLS terminator in front of the h2c test server (`cli_support/https.rs`).
#[cfg(feature = "rustls")]
#[test]
fn https_works_with_the_rustls_feature() {
    let _w = watchdog(300);
    let server = TestServer::start(Config::default(), 2, handle);
    https::https_checks(&client(), server.addr);
    server.stop();
}
