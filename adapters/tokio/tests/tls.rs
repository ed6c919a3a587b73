//! HTTP/2 over TLS with ALPN `h2` (feature `rustls`): this crate on both ends, and curl
//! against this crate's TLS server.
#![cfg(feature = "rustls")]

mod support;

use bytes::Bytes;
use h2proto_tokio::tls::{self, rustls};
use h2proto_tokio::{Config, RecvBody, server};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use std::net::SocketAddr;
use std::sync::Arc;
use support::*;

/// A TLS server with a fresh self-signed certificate for "localhost"; returns its address
/// and the certificate to trust.
async fn tls_server() -> (SocketAddr, rustls::pki_types::CertificateDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config: Arc<rustls::ServerConfig> = tls::server_config(vec![cert.clone()], key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server::serve_tls(listener, config, |request: Request<RecvBody>| async move {
        if request.uri().path() == "/echo" {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            return Response::new(Full::new(body));
        }
        Response::new(Full::new(Bytes::from_static(b"hello over tls\n")))
    }));
    (addr, cert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_client_and_server_negotiate_h2() {
    within(async {
        let (addr, cert) = tls_server().await;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client_tls = tls::client_config(roots).unwrap();
        let (send, conn) =
            tls::connect(addr, "localhost", client_tls, Config::default()).await.unwrap();
        tokio::spawn(conn);
        let uri = format!("https://localhost:{}/", addr.port());
        let response = send
            .send_request(Request::get(&uri).body(Empty::<Bytes>::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hello over tls\n");
        let uri = format!("https://localhost:{}/echo", addr.port());
        let request = Request::post(&uri).body(Full::new(pattern(1 << 20))).unwrap();
        let response = send.send_request(request).await.unwrap();
        assert!(response.into_body().collect().await.unwrap().to_bytes() == pattern(1 << 20));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_negotiates_h2_with_our_tls_server() {
    within(async {
        let (addr, _) = tls_server().await;
        let output = tokio::process::Command::new("curl")
            .args(["-sS", "-k", "--http2", "-w", "%{http_version}"])
            .arg(format!("https://127.0.0.1:{}/", addr.port()))
            .output()
            .await
            .expect("curl must be installed to run this test");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(String::from_utf8_lossy(&output.stdout), "hello over tls\n2");
    })
    .await;
}
