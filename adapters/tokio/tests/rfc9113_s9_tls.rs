//! RFC 9113 §9.2 and §10.6 over TLS (feature `rustls`): what the tokio adapter's rustls
//! configurations negotiate. Each test looks at the handshake itself: the parameters our
//! server saw and chose, or the ClientHello our client wrote, or our server's answer to a
//! hand-edited ClientHello, since that is where a TLS rule of HTTP/2 is kept or broken.
#![cfg(feature = "rustls")]

mod support;

use bytes::Bytes;
use h2proto_tokio::tls::{self, rustls};
use h2proto_tokio::{Config, RecvBody, server};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{CipherSuite, NamedGroup, ProtocolVersion};
use std::net::SocketAddr;
use std::sync::Arc;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What our server saw of one TLS handshake.
#[derive(Debug)]
struct Seen {
    version: Option<ProtocolVersion>,
    suite: Option<CipherSuite>,
    group: Option<NamedGroup>,
    sni: Option<String>,
    alpn: Option<Vec<u8>>,
}

/// The cipher suites a ClientHello of ours may offer: TLS 1.3's, TLS 1.2's ECDHE with AEAD
/// (none of them in RFC 9113 Appendix A), and the renegotiation-info signal (not a suite).
const PERMITTED: &[u16] = &[
    0x1301, 0x1302, 0x1303, // TLS 1.3
    0xc02b, 0xc02c, 0xcca9, // ECDHE_ECDSA with AES-GCM, ChaCha20-Poly1305
    0xc02f, 0xc030, 0xcca8, // ECDHE_RSA with AES-GCM, ChaCha20-Poly1305
    0x00ff, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
];

fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// A fresh self-signed ECDSA P-256 certificate for "localhost" and its key.
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    (certified.cert.der().clone(), key)
}

/// A fresh self-signed certificate for "localhost" with an RSA 2048 key, the key made with
/// the openssl tool (rcgen signs with ring here, which cannot generate RSA keys).
fn rsa_certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let output = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .stderr(std::process::Stdio::null())
        .output()
        .expect("the openssl tool must be installed to run this test");
    assert!(output.status.success());
    let pem = String::from_utf8(output.stdout).unwrap();
    let key = rcgen::KeyPair::from_pem(&pem).unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.der().clone(), PrivateKeyDer::from_pem_slice(pem.as_bytes()).unwrap())
}

/// Our server configuration (`tls::server_config`) behind an accept loop that reports what
/// each handshake negotiated, then serves HTTP/2 on it as `serve_tls` does.
async fn observed_server(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> (SocketAddr, mpsc::UnboundedReceiver<Seen>) {
    let config = tls::server_config(vec![cert], key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(stream) = acceptor.accept(tcp).await else { continue };
            let conn = stream.get_ref().1;
            let _ = tx.send(Seen {
                version: conn.protocol_version(),
                suite: conn.negotiated_cipher_suite().map(|s| s.suite()),
                group: conn.negotiated_key_exchange_group().map(|g| g.name()),
                sni: conn.server_name().map(str::to_owned),
                alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            });
            let handler = |_: Request<RecvBody>| async {
                Response::new(Full::new(Bytes::from_static(b"hello over tls\n")))
            };
            tokio::spawn(server::Server::new(Config::default()).handshake(stream, handler));
        }
    });
    (addr, rx)
}

fn roots(cert: CertificateDer<'static>) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    roots
}

/// A client configuration like `tls::client_config` (ALPN "h2") restricted to TLS 1.2.
fn tls12_client(
    provider: rustls::crypto::CryptoProvider,
    roots: rustls::RootCertStore,
) -> Arc<rustls::ClientConfig> {
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// One GET over `tls::connect`: the HTTP/2 connection works on the negotiated session.
async fn get_over(addr: SocketAddr, client: Arc<rustls::ClientConfig>) {
    let (send, conn) = tls::connect(addr, "localhost", client, Config::default()).await.unwrap();
    tokio::spawn(conn);
    let uri = format!("https://localhost:{}/", addr.port());
    let response =
        send.send_request(Request::get(&uri).body(Empty::<Bytes>::new()).unwrap()).await.unwrap();
    assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hello over tls\n");
}

/// §9.2, §9.2.1, §9.2.2: with our default client (TLS 1.3) and with a TLS 1.2-only one,
/// our server negotiates TLS 1.2 or higher, an ECDHE group of at least 224 bits, a cipher
/// suite that Appendix A does not prohibit, ALPN h2, and it receives the client's SNI;
/// HTTP/2 then runs without any INADEQUATE_SECURITY error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9113_9_2_handshakes_negotiate_permitted_parameters() {
    within(async {
        let (cert, key) = certificate();
        let (addr, mut seen) = observed_server(cert.clone(), key).await;
        let default_client = tls::client_config(roots(cert.clone())).unwrap();
        let tls12 = tls12_client(provider(), roots(cert));
        for (client, version) in
            [(default_client, ProtocolVersion::TLSv1_3), (tls12, ProtocolVersion::TLSv1_2)]
        {
            get_over(addr, client).await;
            let seen = seen.recv().await.unwrap();
            assert_eq!(seen.version, Some(version), "{seen:?}");
            let suite = u16::from(seen.suite.unwrap());
            assert!(PERMITTED.contains(&suite) && suite != 0x00ff, "{seen:?}");
            // Ephemeral key exchange (§9.2.1): over TLS 1.3 the post-quantum hybrid
            // X25519MLKEM768 (ECDHE X25519 with ML-KEM-768) that the provider prefers; TLS 1.2
            // has no hybrid groups, so classic ECDHE.
            if version == ProtocolVersion::TLSv1_3 {
                assert_eq!(seen.group, Some(NamedGroup::X25519MLKEM768), "{seen:?}");
            } else {
                assert!(
                    matches!(
                        seen.group,
                        Some(NamedGroup::X25519 | NamedGroup::secp256r1 | NamedGroup::secp384r1)
                    ),
                    "{seen:?}"
                );
            }
            assert_eq!(seen.sni.as_deref(), Some("localhost"), "{seen:?}");
            assert_eq!(seen.alpn.as_deref(), Some(&b"h2"[..]), "{seen:?}");
        }
    })
    .await;
}

/// §9.2.2: deployments over TLS 1.2 must support TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
/// with P-256: given an RSA certificate, our server negotiates exactly that with a client
/// that offers nothing else, and HTTP/2 runs on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9113_9_2_2_the_mandatory_tls12_suite_is_supported() {
    within(async {
        let (cert, key) = rsa_certificate();
        let (addr, mut seen) = observed_server(cert.clone(), key).await;
        let mut only = provider();
        only.cipher_suites =
            vec![rustls::crypto::aws_lc_rs::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256];
        only.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::SECP256R1];
        get_over(addr, tls12_client(only, roots(cert))).await;
        let seen = seen.recv().await.unwrap();
        assert_eq!(seen.version, Some(ProtocolVersion::TLSv1_2), "{seen:?}");
        assert_eq!(seen.suite, Some(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256));
        assert_eq!(seen.group, Some(NamedGroup::secp256r1));
    })
    .await;
}

/// §9.1.1 (and RFC 9110 §4.3.4): our client checks the server's certificate for the name
/// it connects to; a certificate for another name fails the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9113_9_1_1_the_certificate_must_match_the_host() {
    within(async {
        let (cert, key) = certificate();
        let (addr, _seen) = observed_server(cert.clone(), key).await;
        let client = tls::client_config(roots(cert.clone())).unwrap();
        let wrong = tls::connect(addr, "example.com", client.clone(), Config::default()).await;
        assert!(wrong.is_err(), "a certificate for localhost accepted for example.com");
        get_over(addr, client).await;
    })
    .await;
}

/// One TLS record read from `tcp`: (content type, body).
async fn read_record(tcp: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut header = [0u8; 5];
    tcp.read_exact(&mut header).await.unwrap();
    let mut body = vec![0; u16::from_be_bytes([header[3], header[4]]) as usize];
    tcp.read_exact(&mut body).await.unwrap();
    (header[0], body)
}

/// The ClientHello record our client writes with `config`, captured by a listener that
/// answers nothing.
async fn client_hello(config: Arc<rustls::ClientConfig>) -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connect = tokio::spawn(tls::connect(addr, "localhost", config, Config::default()));
    let (mut tcp, _) = listener.accept().await.unwrap();
    let (kind, body) = read_record(&mut tcp).await;
    drop(tcp);
    let _ = connect.await;
    assert_eq!((kind, body[0]), (22, 1), "a handshake record holding a ClientHello");
    body
}

/// The parts of a ClientHello handshake message (`hello`, from its type byte on).
struct Hello {
    /// Offsets of the cipher suite list and the compression method list (their length
    /// prefixes).
    suites_at: usize,
    compression_at: usize,
    suites: Vec<u16>,
    compression: Vec<u8>,
    /// (type, data) of each extension.
    extensions: Vec<(u16, Vec<u8>)>,
}

fn parse_hello(hello: &[u8]) -> Hello {
    let u16_at = |i: usize| u16::from_be_bytes([hello[i], hello[i + 1]]) as usize;
    let session_at = 4 + 2 + 32;
    let suites_at = session_at + 1 + hello[session_at] as usize;
    let suites_len = u16_at(suites_at);
    let suites = hello[suites_at + 2..suites_at + 2 + suites_len]
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    let compression_at = suites_at + 2 + suites_len;
    let compression_len = hello[compression_at] as usize;
    let compression = hello[compression_at + 1..compression_at + 1 + compression_len].to_vec();
    let mut at = compression_at + 1 + compression_len + 2;
    let mut extensions = Vec::new();
    while at < hello.len() {
        let (kind, len) = (u16_at(at) as u16, u16_at(at + 2));
        extensions.push((kind, hello[at + 4..at + 4 + len].to_vec()));
        at += 4 + len;
    }
    Hello { suites_at, compression_at, suites, compression, extensions }
}

/// `hello` (a ClientHello handshake message) with the bytes `at..at + old` replaced by
/// `new`, its length field fixed, wrapped in a handshake record.
fn edited_record(hello: &[u8], at: usize, old: usize, new: &[u8]) -> Vec<u8> {
    let mut body = [&hello[..at], new, &hello[at + old..]].concat();
    let len = (body.len() - 4) as u32;
    body[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
    let mut record = vec![22, 3, 1];
    record.extend_from_slice(&(body.len() as u16).to_be_bytes());
    record.extend(body);
    record
}

/// §9.2, §9.2.1, §9.2.2, §10.6: the ClientHello of our client (default and TLS 1.2-only)
/// offers only the null compression method, only cipher suites Appendix A does not
/// prohibit, the server_name extension for the host, and ALPN h2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9113_9_2_our_client_hello_offers_no_compression_and_no_prohibited_suite() {
    within(async {
        let (cert, _) = certificate();
        let configs = [
            tls::client_config(roots(cert.clone())).unwrap(),
            tls12_client(provider(), roots(cert)),
        ];
        for config in configs {
            let hello = parse_hello(&client_hello(config).await);
            assert_eq!(hello.compression, [0], "only the null compression method");
            assert!(!hello.suites.is_empty());
            for suite in &hello.suites {
                assert!(PERMITTED.contains(suite), "offered suite {suite:#06x}");
            }
            let sni = hello.extensions.iter().find(|(kind, _)| *kind == 0).map(|(_, d)| d);
            // server_name_list: length, name_type 0 (host_name), length, "localhost".
            assert_eq!(sni.map(|d| &d[5..]), Some(&b"localhost"[..]), "server_name extension");
            let alpn = hello.extensions.iter().find(|(kind, _)| *kind == 16).map(|(_, d)| d);
            assert_eq!(alpn.map(|d| &d[..]), Some(&b"\x00\x03\x02h2"[..]), "ALPN h2 only");
        }
    })
    .await;
}

/// Sends `record` to our TLS server at `addr` and returns the first record it answers.
async fn server_answer(addr: SocketAddr, record: &[u8]) -> (u8, Vec<u8>) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(record).await.unwrap();
    read_record(&mut tcp).await
}

/// §9.2.1, §9.2.2, §10.6: our server, offered DEFLATE besides null, selects null
/// compression; offered only prohibited cipher suites (TLS_RSA_WITH_AES_128_CBC_SHA,
/// TLS_RSA_WITH_AES_128_GCM_SHA256: no ephemeral key exchange), it ends the handshake with
/// an alert instead of using one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9113_9_2_our_server_refuses_compression_and_prohibited_suites() {
    within(async {
        let (cert, key) = certificate();
        let (addr, _seen) = observed_server(cert.clone(), key).await;
        let hello = client_hello(tls12_client(provider(), roots(cert))).await;
        let parsed = parse_hello(&hello);

        let deflate = edited_record(&hello, parsed.compression_at, 2, &[2, 1, 0]);
        let (kind, answer) = server_answer(addr, &deflate).await;
        assert_eq!((kind, answer[0]), (22, 2), "a ServerHello");
        let session_at = 4 + 2 + 32;
        let compression_at = session_at + 1 + answer[session_at] as usize + 2;
        assert_eq!(answer[compression_at], 0, "the null compression method");
        // Unedited, the same ClientHello gets the same answer: the edit was understood.
        let plain = [&[22, 3, 1][..], &(hello.len() as u16).to_be_bytes(), &hello].concat();
        assert_eq!(server_answer(addr, &plain).await.0, 22);

        let old = 2 + parsed.suites.len() * 2;
        let prohibited =
            edited_record(&hello, parsed.suites_at, old, &[0, 4, 0x00, 0x2f, 0x00, 0x9c]);
        let (kind, alert) = server_answer(addr, &prohibited).await;
        assert_eq!(kind, 21, "an alert, not a ServerHello: {alert:?}");
        assert_eq!(alert, [2, 40], "fatal handshake_failure");
    })
    .await;
}

/// §9.2.1: renegotiation is disabled: a TLS 1.2 client (openssl s_client) that asks to
/// renegotiate once the session is up gets our server's no_renegotiation alert, and no
/// second handshake takes place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9113_9_2_1_renegotiation_is_refused() {
    use tokio::io::AsyncBufReadExt;
    within(async {
        let (cert, key) = certificate();
        let (addr, mut seen) = observed_server(cert, key).await;
        let mut child = tokio::process::Command::new("openssl")
            .args(["s_client", "-msg", "-tls1_2", "-alpn", "h2", "-servername", "localhost"])
            .arg("-connect")
            .arg(addr.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the openssl tool must be installed to run this test");
        assert_eq!(seen.recv().await.unwrap().version, Some(ProtocolVersion::TLSv1_2));
        let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
        let mut transcript = String::new();
        let mut line = Vec::new();
        // Wait for the server's Finished and then its first record of application data
        // (our SETTINGS), so the renegotiation does not cross it.
        let mut finished = false;
        loop {
            line.clear();
            assert!(stdout.read_until(b'\n', &mut line).await.unwrap() > 0, "{transcript}");
            let text = String::from_utf8_lossy(&line).into_owned();
            transcript.push_str(&text);
            if text.starts_with("<<<") && text.contains("Finished") {
                finished = true;
            } else if finished && text.starts_with("<<< TLS 1.2, RecordHeader") {
                break;
            }
        }
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"R\n").await.unwrap();
        // Read until the server's answer to the new ClientHello is in.
        let mut answered = false;
        while !answered {
            line.clear();
            if stdout.read_until(b'\n', &mut line).await.unwrap() == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&line).into_owned();
            answered =
                text.starts_with("<<<") && (text.contains("Alert") || text.contains("ServerHello"));
            transcript.push_str(&text);
        }
        drop(stdin);
        let _ = child.kill().await;
        let answer = transcript.lines().rev().find(|l| l.starts_with("<<<")).unwrap_or("");
        assert!(answer.contains("warning no_renegotiation"), "{transcript}");
        assert_eq!(transcript.matches("ServerHello\n").count(), 1, "{transcript}");
    })
    .await;
}
