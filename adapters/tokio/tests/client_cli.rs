//! The tokio client example used as curl is: exit codes (7, 22, 28), output (`-i`, `-o`,
//! the body on an HTTP error), `-H`/`-X`/`-d`, and `https://` with the rustls feature (a
//! CA made at test time) or a clear refusal without it.

#[path = "cli_support/mod.rs"]
mod cli_support;

use bytes::Bytes;
use cli_support::*;
use h2proto_tokio::{RecvBody, server};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use std::net::SocketAddr;

const NOT_FOUND: &[u8] = b"no such thing\n";

/// hello on `/`, 404 with a body on `/missing`, and on `/echo` the body back with the
/// method and `x-test` as response headers.
async fn handle(request: Request<RecvBody>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    match parts.uri.path() {
        "/missing" => {
            let mut response = Response::new(Full::new(Bytes::from_static(NOT_FOUND)));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
        "/echo" => {
            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let mut response = Response::builder().header("x-method", parts.method.as_str());
            if let Some(v) = parts.headers.get("x-test") {
                response = response.header("x-test", v);
            }
            response.body(Full::new(body)).unwrap()
        }
        _ => Response::new(Full::new(Bytes::from_static(b"hello\n"))),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

fn h2c_server(rt: &tokio::runtime::Runtime) -> SocketAddr {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(server::serve(listener, handle));
        addr
    })
}

fn client() -> std::path::PathBuf {
    let features: &[&str] = if cfg!(feature = "rustls") { &["rustls"] } else { &[] };
    example("h2proto-tokio", "client", features)
}

#[test]
fn the_client_behaves_like_curl() {
    let rt = runtime();
    let addr = h2c_server(&rt);
    let bin = client();
    common_checks(&bin, addr, NOT_FOUND);
    let ok = run(&bin, &[&format!("http://{addr}/")]);
    assert_eq!((ok.code, ok.stdout.as_slice()), (0, &b"hello\n"[..]), "{ok:?}");
}

#[cfg(not(feature = "rustls"))]
#[test]
fn https_without_tls_is_refused_clearly() {
    let bin = client();
    let refused = run(&bin, &["https://127.0.0.1:1/"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("rustls"), "{refused:?}");
}

/// `https://` through rustls with ALPN h2, trusting a CA given with `--cacert`.
#[cfg(feature = "rustls")]
#[test]
fn https_works_with_the_rustls_feature() {
    use h2proto_tokio::tls::{self, rustls};
    let rt = runtime();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("h2proto-cli-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, certified.cert.pem()).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = tls::server_config(vec![cert], key).unwrap();
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(server::serve_tls(listener, config, handle));
        addr
    });
    let bin = client();
    let url = format!("https://localhost:{}/", addr.port());
    let ok = run(&bin, &["--cacert", ca.to_str().unwrap(), &url]);
    assert_eq!((ok.code, ok.stdout.as_slice()), (0, &b"hello\n"[..]), "{ok:?}");
    // Without the CA the certificate is not trusted: curl's 35 (TLS handshake failed).
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let untrusted = run(&bin, &["--cacert", empty.to_str().unwrap(), &url]);
    assert_eq!(untrusted.code, 35, "{untrusted:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
