//! The mio client example used as curl is: exit codes (7, 22, 28), output (`-i`, `-o`,
//! the body on an HTTP error), `-H`/`-X`/`-d`, an early response (the server answers
//! before the upload is complete) printed with exit 0; `https://` with the `rustls`
//! feature (35 for an untrusted certificate), and without it refused with curl's code 1
//! instead of being sent in cleartext.

#[path = "../../tokio/tests/cli_support/mod.rs"]
mod cli_support;
#[path = "../../tokio/tests/cli_support/early.rs"]
mod early;
#[cfg(feature = "rustls")]
#[path = "../../tokio/tests/cli_support/https.rs"]
mod https;
mod support;

use bytes::Bytes;
use cli_support::*;
use early::{EARLY_ANSWER, early_server};
use h2proto_mio::Server;
#[cfg(feature = "rustls")]
use h2proto_mio::tls::rustls;
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

/// The example, built with TLS when this test is.
fn client() -> std::path::PathBuf {
    let features: &[&str] = if cfg!(feature = "rustls") { &["rustls"] } else { &[] };
    example("h2proto-mio", "mio-client", features)
}

#[test]
fn the_client_behaves_like_curl() {
    let _w = watchdog(300);
    let server = TestServer::start(Server::bind("127.0.0.1:0").unwrap(), handle);
    common_checks(&client(), server.addr, NOT_FOUND);
    server.stop();
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
    let server = TestServer::start(Server::bind("127.0.0.1:0").unwrap(), handle);
    https::https_checks(&client(), server.addr);
    server.stop();
}

/// RFC 9113 §8.1: a response that arrives while the request body is still going out (1 MiB
/// against a 64 KiB window the server never opens) is the answer: its body is printed and
/// the exit is 0, with or without the server's RST_STREAM NO_ERROR asking to stop sending.
#[test]
fn an_early_response_is_printed_and_exits_0() {
    let _w = watchdog(120);
    let bin = client();
    let dir = std::env::temp_dir().join(format!("h2proto-mio-early-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("upload.bin");
    std::fs::write(&data, pattern(1 << 20, 3)).unwrap();
    for reset in [false, true] {
        let (addr, heads) = early_server(reset);
        let url = format!("http://{addr}/upload");
        let early = run(&bin, &["-d", data.to_str().unwrap(), &url]);
        assert_eq!((early.code, early.stdout.as_slice()), (0, EARLY_ANSWER), "{reset}: {early:?}");
        assert_eq!(heads.recv().unwrap().headers()["content-length"], "1048576");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
