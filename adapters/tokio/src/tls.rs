//! HTTP/2 over TLS with rustls (feature `rustls`): configurations that offer ALPN `h2`
//! (RFC 9113 §3.2), a client connector, and [`serve_tls`](crate::server::serve_tls).
//!
//! The crypto provider is *ring*, chosen explicitly so the build does not depend on which
//! provider other crates enable.

use crate::client::{Builder, Connection, SendRequest};
use crate::error::Error;
use h2proto::{Config, Origin};
use http::uri::{Authority, Scheme};
use std::sync::Arc;
use tokio::net::{TcpStream, ToSocketAddrs};
pub use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};

/// The TLS stream a client connection runs on.
pub type ClientTlsStream = tokio_rustls::client::TlsStream<TcpStream>;

// RFC 9113 §9.2.1, §9.2.2, Appendix A: the ring provider's suites are ECDHE with AEAD only
// (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 among them, none of Appendix A), its groups X25519,
// P-256 and P-384; no DHE, no TLS compression.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    // req 9113-9.2.1-8, 9113-9.2.2-1, 9113-9.2.2-4, 9113-A-1
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration for this certificate chain and key that offers only `h2`.
pub fn server_config(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    // RFC 9113 §9.2: TLS 1.2 and 1.3 only; rustls has neither TLS compression nor
    // renegotiation, and its server no post-handshake authentication.
    // req 9113-9.2-1, 9113-9.2-2, 9113-9.2-3, 9113-9.2.1-2, 9113-9.2.1-3, 9113-9.2.1-6, 9113-10.6-3
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        // req 9113-9.2.3-1
        .with_no_client_auth()
        .with_single_cert(cert_chain, key)?;
    // req 9113-3.2-2, 9113-3.3-1 (only "h2" can be selected, never "h2c")
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration trusting `roots` that offers only `h2`.
pub fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, rustls::Error> {
    // RFC 9113 §9.2: as the server's; rustls sends SNI for a DNS name (enable_sni).
    // req 9113-9.2-1, 9113-9.2-2, 9113-9.2.1-2, 9113-9.2.1-3, 9113-9.2.3-2, 9113-10.6-3
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // req 9113-3.2-1, 9113-3.3-1 (only "h2" is offered, never "h2c")
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Connects over TCP, does the TLS handshake for `server_name` (SNI and the certificate's
/// name), checks that ALPN chose `h2`, and starts the HTTP/2 connection. Its origin is
/// `https://server_name` (with the port unless 443), for requests that name only a path.
pub async fn connect(
    addr: impl ToSocketAddrs,
    server_name: &str,
    tls: Arc<ClientConfig>,
    config: Config,
) -> Result<(SendRequest, Connection<ClientTlsStream>), Error> {
    let name = ServerName::try_from(server_name.to_owned()).map_err(|e| {
        Error::io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))
    })?;
    let tcp = TcpStream::connect(addr).await.map_err(Error::io)?;
    tcp.set_nodelay(true).map_err(Error::io)?;
    // RFC 9113 §9.2, §9.1.1: `name` goes out as SNI and the certificate is verified for
    // it; no check of the negotiated suite follows (§9.2.2: none is refused after the fact).
    // req 9113-9.2-4, 9113-9.1.1-2, 9113-9.2.2-3
    let port = tcp.peer_addr().map_err(Error::io)?.port();
    let authority = match port {
        443 => server_name.to_owned(),
        port => format!("{server_name}:{port}"),
    };
    let authority = Authority::try_from(authority).map_err(|e| {
        Error::io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))
    })?;
    let stream =
        tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.map_err(Error::io)?;
    // req 9113-3.3-1
    if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err(Error::io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the server did not choose ALPN h2",
        )));
    }
    // req 9113-3.2-3 (the connection, and so its preface, starts once TLS is done)
    Ok(Builder::new()
        .config(config)
        .origin(Origin::new(Scheme::HTTPS, authority))
        .handshake(stream))
}
