//! RFC 9113 §3.2 and §3.3 over TLS (feature `rustls`): HTTP/2 over TLS is negotiated with
//! ALPN "h2" only. Our configurations never offer or select "h2c", our server serves no
//! client that did not negotiate "h2", and our client refuses a server that did not.
#![cfg(feature = "rustls")]

mod support;

use bytes::Bytes;
use h2proto_tokio::tls::{self, rustls};
use h2proto_tokio::{Config, RecvBody, server};
use http::{Request, Response};
use http_body_util::Full;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A fresh self-signed certificate for "localhost" and its key.
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    (certified.cert.der().clone(), key)
}

/// Our TLS server (`tls::server_config`, `serve_tls`); returns its address and certificate.
async fn our_server() -> (SocketAddr, CertificateDer<'static>) {
    let (cert, key) = certificate();
    let config = tls::server_config(vec![cert.clone()], key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server::serve_tls(listener, config, |_: Request<RecvBody>| async {
        Response::new(Full::new(Bytes::from_static(b"hello\n")))
    }));
    (addr, cert)
}

/// A plain rustls client offering exactly `alpn`, trusting `cert`.
fn client_offering(alpn: &[&[u8]], cert: CertificateDer<'static>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

/// §3.2: "h2c" is never sent by our client nor selectable by our server: both
/// configurations offer "h2" and nothing else.
#[test]
fn rfc9113_3_2_our_tls_configurations_offer_only_h2() {
    let (cert, key) = certificate();
    let server = tls::server_config(vec![cert.clone()], key).unwrap();
    assert_eq!(server.alpn_protocols, vec![b"h2".to_vec()]);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = tls::client_config(roots).unwrap();
    assert_eq!(client.alpn_protocols, vec![b"h2".to_vec()]);
}

/// §3.2: our server does not select "h2c": a client that offers only "h2c" fails the TLS
/// handshake, and one that offers "h2c" before "h2" gets "h2".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9113_3_2_our_server_never_selects_h2c() {
    within(async {
        let (addr, cert) = our_server().await;
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let only_h2c = client_offering(&[b"h2c"], cert.clone()).connect(localhost(), tcp).await;
        assert!(only_h2c.is_err(), "a handshake offering only h2c must fail");

        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let both = client_offering(&[b"h2c", b"h2"], cert).connect(localhost(), tcp).await.unwrap();
        assert_eq!(both.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    })
    .await;
}

/// §3.3: HTTP/2 over TLS uses ALPN. Our server does not speak HTTP/2 to a client that
/// negotiated no protocol: even with a valid preface it gets no SETTINGS, only the close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9113_3_3_our_server_refuses_a_tls_client_without_alpn() {
    within(async {
        let (addr, cert) = our_server().await;
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut tls = client_offering(&[], cert).connect(localhost(), tcp).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), None);
        let mut hello = h2proto::PREFACE.to_vec();
        hello.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]); // empty SETTINGS
        let _ = tls.write_all(&hello).await;
        let _ = tls.flush().await;
        let mut got = Vec::new();
        let _ = tls.read_to_end(&mut got).await;
        assert!(got.is_empty(), "the server answered a client without ALPN: {got:?}");
    })
    .await;
}

/// §3.3: our client refuses a TLS server that did not negotiate "h2": the connection fails
/// before any HTTP/2 is spoken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9113_3_3_our_client_refuses_a_tls_server_without_alpn() {
    within(async {
        let (cert, key) = certificate();
        // A TLS server that ignores ALPN (none configured).
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            if let Ok(mut tls) = acceptor.accept(tcp).await {
                let mut sink = Vec::new();
                let _ = tls.read_to_end(&mut sink).await;
            }
        });
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client = tls::client_config(roots).unwrap();
        let result = tls::connect(addr, "localhost", client, Config::default()).await;
        let error = result.expect_err("a server without ALPN h2 is refused");
        assert!(error.to_string().contains("ALPN"), "{error}");
    })
    .await;
}
