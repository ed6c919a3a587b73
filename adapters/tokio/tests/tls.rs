//! HTTP/2 over TLS with ALPN `h2` (feature `rustls`): this crate on both ends, and curl
//! against this crate's TLS server.
#![cfg(feature = "rustls")]

mod support;

use bytes::Bytes;
use h2proto_tokio::server::Server;
use h2proto_tokio::tls::{self, rustls};
use h2proto_tokio::{Config, RecvBody, server};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
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

/// A certificate for "localhost", its key, and an acceptor for it.
fn acceptor() -> (tls::Acceptor, rustls::pki_types::CertificateDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    (tls::Acceptor::new(tls::server_config(vec![cert.clone()], key).unwrap()), cert)
}

/// Accepts one TCP connection, does the TLS handshake, and returns what it settled while
/// keeping the connection open until the peer closes it.
async fn accept_one(
    acceptor: tls::Acceptor,
) -> (SocketAddr, tokio::task::JoinHandle<tls::TlsInfo>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (mut stream, info) = acceptor.accept(tcp).await.unwrap();
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut sink).await;
        info
    });
    (addr, task)
}

/// The provider (aws-lc-rs) offers the post-quantum hybrid X25519MLKEM768 first: our client
/// and server, both on it, agree on it, over TLS 1.3 with ALPN h2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustls_on_both_ends_negotiates_x25519mlkem768() {
    within(async {
        let (acceptor, cert) = acceptor();
        let (addr, server) = accept_one(acceptor).await;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let connector = tokio_rustls::TlsConnector::from(tls::client_config(roots).unwrap());
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let stream = connector.connect(name, tcp).await.unwrap();
        let client = stream.get_ref().1;
        let group = client.negotiated_key_exchange_group().map(|g| g.name());
        assert_eq!(group, Some(rustls::NamedGroup::X25519MLKEM768));
        assert_eq!(client.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));
        drop(stream);
        let info = server.await.unwrap();
        assert_eq!(info.key_exchange_group(), Some(rustls::NamedGroup::X25519MLKEM768));
        assert_eq!(info.server_name(), Some("localhost"));
        assert_eq!(info.alpn(), Some(&b"h2"[..]));
    })
    .await;
}

/// A classic client (the openssl tool, offering only X25519 and P-256) still gets TLS
/// with ALPN h2, over a classic group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_with_classic_groups_still_connects() {
    within(async {
        let (acceptor, _) = acceptor();
        let (addr, server) = accept_one(acceptor).await;
        let output = tokio::process::Command::new("openssl")
            .args(["s_client", "-alpn", "h2", "-groups", "X25519:P-256", "-servername"])
            .args(["localhost", "-connect", &addr.to_string()])
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .expect("the openssl tool must be installed to run this test");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("ALPN protocol: h2"), "{stdout}");
        let info = server.await.unwrap();
        assert_eq!(info.key_exchange_group(), Some(rustls::NamedGroup::X25519));
        assert_eq!(info.alpn(), Some(&b"h2"[..]));
    })
    .await;
}

/// A client that connects and sends nothing is dropped by the server once the handshake
/// timeout has passed (without one it would hold its socket and task forever, and this
/// test would hit its deadline). A client that does its handshake meanwhile is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_dropped_after_the_handshake_timeout() {
    within(async {
        let (acceptor, cert) = acceptor();
        let acceptor = acceptor.handshake_timeout(Duration::from_millis(300));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Server::new(Config::default());
        tokio::spawn(async move {
            server.serve_tls_with_shutdown(listener, acceptor, hello, std::future::pending()).await
        });
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();

        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client_tls = tls::client_config(roots).unwrap();
        let (send, conn) =
            tls::connect(addr, "localhost", client_tls, Config::default()).await.unwrap();
        tokio::spawn(conn);
        let uri = format!("https://localhost:{}/", addr.port());
        let request = Request::get(&uri).body(Empty::<Bytes>::new()).unwrap();
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hello\n");

        let mut byte = [0u8; 1];
        let read = tokio::io::AsyncReadExt::read(&mut silent, &mut byte).await;
        assert!(matches!(read, Ok(0)) || read.is_err(), "the server closed it: {read:?}");
    })
    .await;
}

async fn hello(_: Request<RecvBody>) -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(b"hello\n")))
}

/// The handler finds the TLS details of its connection in the request's extensions (SNI,
/// ALPN, version, key exchange, the client's certificate when the configuration asks for
/// one) next to the peer's address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_see_the_tls_details_and_the_client_certificate() {
    within(async {
        let server_cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let client_cert = rcgen::generate_simple_self_signed(vec!["client".to_owned()]).unwrap();
        let der = |c: &rcgen::CertifiedKey<rcgen::KeyPair>| c.cert.der().clone();
        let key = |c: &rcgen::CertifiedKey<rcgen::KeyPair>| {
            rustls::pki_types::PrivateKeyDer::Pkcs8(c.signing_key.serialize_der().into())
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());

        // A server that asks for client certificates it can verify against `client_cert`.
        let mut client_roots = rustls::RootCertStore::empty();
        client_roots.add(der(&client_cert)).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(client_roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let mut server_tls = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![der(&server_cert)], key(&server_cert))
            .unwrap();
        server_tls.alpn_protocols = vec![b"h2".to_vec()];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let expected_chain = vec![der(&client_cert)];
        tokio::spawn(server::serve_tls(
            listener,
            Arc::new(server_tls),
            move |request: Request<RecvBody>| {
                let expected_chain = expected_chain.clone();
                async move {
                    let tls = request.extensions().get::<tls::TlsInfo>().expect("TLS details");
                    let peer =
                        request.extensions().get::<server::Connected>().expect("peer address");
                    let body = format!(
                        "{:?} {:?} {:?} {:?} {} {}",
                        tls.server_name(),
                        tls.alpn().map(String::from_utf8_lossy),
                        tls.protocol_version(),
                        tls.key_exchange_group(),
                        tls.peer_certificates().len(),
                        peer.remote_addr,
                    );
                    let same_chain = tls.peer_certificates() == expected_chain.as_slice();
                    let mut response = Response::new(Full::new(Bytes::from(body)));
                    response.headers_mut().insert(
                        "x-client-chain",
                        if same_chain { "same" } else { "other" }.parse().unwrap(),
                    );
                    response
                }
            },
        ));

        let mut roots = rustls::RootCertStore::empty();
        roots.add(der(&server_cert)).unwrap();
        let mut client_tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(vec![der(&client_cert)], key(&client_cert))
            .unwrap();
        client_tls.alpn_protocols = vec![b"h2".to_vec()];
        let (send, conn) =
            tls::connect(addr, "localhost", Arc::new(client_tls), Config::default()).await.unwrap();
        let conn = tokio::spawn(conn);
        let uri = format!("https://localhost:{}/", addr.port());
        let response = send
            .send_request(Request::get(&uri).body(Empty::<Bytes>::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.headers()["x-client-chain"], "same", "the client's certificate");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body).into_owned();
        let expected_prefix =
            r#"Some("localhost") Some("h2") Some(TLSv1_3) Some(X25519MLKEM768) 1 127.0.0.1:"#;
        assert!(body.starts_with(expected_prefix), "{body}");
        drop(send);
        let _ = conn.await;
    })
    .await;
}

/// `load_pem` reads what `openssl` and rcgen write (a chain and a PKCS#8 key), and says
/// which file is wrong otherwise.
#[test]
fn load_pem_reads_a_chain_and_key_and_names_the_bad_file() {
    let dir = std::env::temp_dir().join(format!("h2proto-pem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key, empty) = (dir.join("cert.pem"), dir.join("key.pem"), dir.join("empty.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    std::fs::write(&empty, "no pem here\n").unwrap();

    let (chain, loaded_key) = tls::load_pem(&cert, &key).unwrap();
    assert_eq!(chain, vec![certified.cert.der().clone()]);
    assert_eq!(loaded_key.secret_der(), certified.signing_key.serialize_der().as_slice());
    assert!(tls::server_config(chain, loaded_key).is_ok());

    let no_certs = tls::load_pem(&empty, &key).unwrap_err();
    assert_eq!(no_certs.kind(), std::io::ErrorKind::InvalidData);
    assert!(no_certs.to_string().contains("empty.pem"), "{no_certs}");
    let no_key = tls::load_pem(&cert, &empty).unwrap_err();
    assert!(no_key.to_string().contains("empty.pem"), "{no_key}");
    let missing = tls::load_pem(dir.join("missing.pem"), &key).unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    assert!(missing.to_string().contains("missing.pem"), "{missing}");
    let _ = std::fs::remove_dir_all(&dir);
}
