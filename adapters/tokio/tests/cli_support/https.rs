//! `https://` checks for the client examples built with TLS (the blocking and mio
//! adapters' `client_cli` tests include this file): against a TLS terminator in front of
//! an h2c test server, with a CA made at test time and given with `--cacert`. The
//! including file brings `rustls` (its adapter's re-export) into scope.

use super::cli_support::run;
use super::rustls;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `https://` through rustls with ALPN h2, trusting the CA given with `--cacert`: the body
/// of `/`, `-X` and `-H` reaching `/echo` (which answers with `x-method` and `x-test`),
/// and an untrusted certificate failing with curl's 35. `backend` is the h2c server.
pub fn https_checks(bin: &PathBuf, backend: SocketAddr) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let name = bin.file_name().unwrap().to_string_lossy().into_owned();
    let dir = std::env::temp_dir().join(format!("h2proto-cli-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, certified.cert.pem()).unwrap();
    let front = tls_front(&certified, backend);
    let url = format!("https://localhost:{}/", front.port());
    let ok = run(bin, &["--cacert", ca.to_str().unwrap(), &url]);
    assert_eq!((ok.code, ok.stdout.as_slice()), (0, &b"hello\n"[..]), "{ok:?}");
    // -X and -H reach the server over TLS too.
    let echo = format!("https://localhost:{}/echo", front.port());
    let head = run(
        bin,
        &["-i", "-X", "PUT", "-H", "x-test: tls", "--cacert", ca.to_str().unwrap(), &echo],
    );
    let text = String::from_utf8_lossy(&head.stdout).into_owned();
    assert_eq!(head.code, 0, "{head:?}");
    assert!(text.contains("x-method: PUT\r\n") && text.contains("x-test: tls\r\n"), "{text}");
    // Without the CA the certificate is not trusted: curl's 35 (TLS handshake failed).
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let untrusted = run(bin, &["--cacert", empty.to_str().unwrap(), &url]);
    assert_eq!(untrusted.code, 35, "{untrusted:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TLS terminator on 127.0.0.1:0 for `localhost` (ALPN h2) that relays each connection's
/// plaintext to `backend`; its threads end with their connections.
fn tls_front(certified: &rcgen::CertifiedKey<rcgen::KeyPair>, backend: SocketAddr) -> SocketAddr {
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
