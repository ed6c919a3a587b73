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

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration for this certificate chain and key that offers only `h2`.
pub fn server_config(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(cert_chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration trusting `roots` that offers only `h2`.
pub fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, rustls::Error> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
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
    if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err(Error::io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the server did not choose ALPN h2",
        )));
    }
    Ok(Builder::new()
        .config(config)
        .origin(Origin::new(Scheme::HTTPS, authority))
        .handshake(stream))
}
