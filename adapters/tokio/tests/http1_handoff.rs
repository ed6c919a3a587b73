//! One TLS listener for HTTP/2 and HTTP/1.1 (feature `rustls`): `tls::Acceptor::http1`
//! offers `http/1.1` after `h2` and hands the connections that choose it, or offer no ALPN,
//! to an HTTP/1 server (hyper's here); `h2` stays with h2proto.
#![cfg(feature = "rustls")]

mod support;

use bytes::Bytes;
use h2proto_tokio::tls::{self, ServerTlsStream, TlsInfo, rustls};
use h2proto_tokio::{RecvBody, server};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use support::*;

/// A listener served by h2proto for `h2` and by hyper's HTTP/1 server for the rest; each
/// answers with the protocol it speaks.
async fn both_protocols() -> (SocketAddr, rustls::pki_types::CertificateDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = tls::server_config(vec![cert.clone()], key).unwrap();
    let acceptor = tls::Acceptor::new(config).http1(|stream: ServerTlsStream, info: TlsInfo| {
        // The hand-off gets the TLS details too: what hyper's handler sees of them here.
        let alpn = info.alpn().map(|a| String::from_utf8_lossy(a).into_owned());
        async move {
            let service = hyper::service::service_fn(move |_: Request<hyper::body::Incoming>| {
                let alpn = alpn.clone().unwrap_or_else(|| "none".into());
                async move {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
                        "hyper http/1.1 (alpn {alpn})\n"
                    )))))
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server::serve_tls(listener, acceptor, |_: Request<RecvBody>| async {
        Response::new(Full::new(Bytes::from_static(b"h2proto h2\n")))
    }));
    (addr, cert)
}

/// curl with `args` against the listener; returns what it printed (body, then the HTTP
/// version it used, from `-w`).
async fn curl(addr: SocketAddr, args: &[&str]) -> String {
    let output = tokio::process::Command::new("curl")
        .args(["-sS", "-k", "-w", "%{http_version}"])
        .args(args)
        .arg(format!("https://127.0.0.1:{}/", addr.port()))
        .output()
        .await
        .expect("curl must be installed to run this test");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_listener_serves_h2_to_h2_clients_and_hands_http1_to_hyper() {
    within(async {
        let (addr, cert) = both_protocols().await;
        // curl offering h2 and http/1.1 gets h2, from h2proto.
        assert_eq!(curl(addr, &["--http2"]).await, "h2proto h2\n2");
        // curl offering only http/1.1 is handed to hyper.
        assert_eq!(curl(addr, &["--http1.1"]).await, "hyper http/1.1 (alpn http/1.1)\n1.1");
        // curl offering no ALPN at all speaks HTTP/1.1: handed to hyper too.
        assert_eq!(
            curl(addr, &["--http1.1", "--no-alpn"]).await,
            "hyper http/1.1 (alpn none)\n1.1"
        );

        // Our own TLS client (ALPN h2 only) is served by h2proto.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client = tls::client_config(roots).unwrap();
        let (send, connection) =
            tls::connect(addr, "localhost", client, h2proto_tokio::Config::default())
                .await
                .unwrap();
        tokio::spawn(connection);
        let request = Request::get(format!("https://localhost:{}/", addr.port()))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = send.send_request(request).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "h2proto h2\n");
    })
    .await;
}

#[tokio::test]
async fn without_a_hand_off_only_h2_is_offered_and_http1_clients_are_refused() {
    within(async {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let config: Arc<rustls::ServerConfig> =
            tls::server_config(vec![certified.cert.der().clone()], key).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(server::serve_tls(listener, config, |_: Request<RecvBody>| async {
            Response::new(Full::new(Bytes::from_static(b"h2proto h2\n")))
        }));
        let output = tokio::process::Command::new("curl")
            .args(["-sS", "-k", "--http1.1"])
            .arg(format!("https://127.0.0.1:{}/", addr.port()))
            .output()
            .await
            .expect("curl must be installed to run this test");
        assert!(!output.status.success(), "an HTTP/1.1-only client must not be served");
    })
    .await;
}
