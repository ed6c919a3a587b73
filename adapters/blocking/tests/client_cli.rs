//! The blocking client example used as curl is: exit codes (7, 22, 28), output (`-i`, `-o`,
//! the body on an HTTP error), `-H`/`-X`/`-d`, `--max-time` as the client's request
//! timeout; `https://` with the `rustls` feature (35 for an untrusted certificate), and
//! without it refused with curl's code 1 instead of being sent in cleartext.

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
/// TLS terminator in front of the h2c test server.
#[cfg(feature = "rustls")]
#[test]
fn https_works_with_the_rustls_feature() {
    let _w = watchdog(300);
    let server = TestServer::start(Config::default(), 2, handle);
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("h2proto-blocking-cli-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, certified.cert.pem()).unwrap();
    let front = tls_front(&certified, server.addr);
    let bin = client();
    let url = format!("https://localhost:{}/", front.port());
    let ok = run(&bin, &["--cacert", ca.to_str().unwrap(), &url]);
    assert_eq!((ok.code, ok.stdout.as_slice()), (0, &b"hello\n"[..]), "{ok:?}");
    // -X and -H reach the server over TLS too.
    let echo = format!("https://localhost:{}/echo", front.port());
    let head = run(
        &bin,
        &["-i", "-X", "PUT", "-H", "x-test: tls", "--cacert", ca.to_str().unwrap(), &echo],
    );
    let text = String::from_utf8_lossy(&head.stdout).into_owned();
    assert_eq!(head.code, 0, "{head:?}");
    assert!(text.contains("x-method: PUT\r\n") && text.contains("x-test: tls\r\n"), "{text}");
    // Without the CA the certificate is not trusted: curl's 35 (TLS handshake failed).
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let untrusted = run(&bin, &["--cacert", empty.to_str().unwrap(), &url]);
    assert_eq!(untrusted.code, 35, "{untrusted:?}");
    let _ = std::fs::remove_dir_all(&dir);
    server.stop();
}

/// A TLS terminator on 127.0.0.1:0 for `localhost` (ALPN h2) that relays each connection's
/// plaintext to `backend`; its threads end with their connections.
#[cfg(feature = "rustls")]
fn tls_front(
    certified: &rcgen::CertifiedKey<rcgen::KeyPair>,
    backend: std::net::SocketAddr,
) -> std::net::SocketAddr {
    use h2proto_blocking::tls::rustls;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            let config = config.clone();
            std::thread::spawn(move || {
                let mut tls = rustls::ServerConnection::new(config).unwrap();
                while tls.is_handshaking() {
                    if tls.complete_io(&mut socket).is_err() {
                        return;
                    }
                }
                let Ok(plain) = TcpStream::connect(backend) else { return };
                socket.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
                let tls = Arc::new(Mutex::new(rustls::StreamOwned::new(tls, socket)));
                // Backend to client: written into the TLS stream under the lock.
                let (to_client, mut from_backend) = (tls.clone(), plain.try_clone().unwrap());
                std::thread::spawn(move || {
                    let mut buf = vec![0; 16 << 10];
                    while let Ok(n @ 1..) = from_backend.read(&mut buf) {
                        let mut tls = to_client.lock().unwrap();
                        if tls.write_all(&buf[..n]).and_then(|()| tls.flush()).is_err() {
                            return;
                        }
                    }
                });
                // Client to backend: reads with a short timeout, so the lock is free often.
                let mut to_backend = plain;
                let mut buf = vec![0; 16 << 10];
                loop {
                    let read = tls.lock().unwrap().read(&mut buf);
                    match read {
                        Ok(0) => break,
                        Ok(n) => {
                            if to_backend.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                            ) => {}
                        Err(_) => break,
                    }
                }
                let _ = to_backend.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    addr
}
