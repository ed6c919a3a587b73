//! HTTP/2 over TLS with rustls (feature `rustls`): configurations that offer ALPN `h2`
//! (RFC 9113 §3.2), a client connector, and the server's [`Acceptor`] that
//! [`serve_tls`](crate::server::serve_tls) runs on every connection.
//!
//! The acceptor bounds the handshake in time ([`DEFAULT_HANDSHAKE_TIMEOUT`]): a client that
//! connects and sends nothing, or trickles its ClientHello, would otherwise hold a socket and
//! a task for as long as it likes. It also records what the handshake settled ([`TlsInfo`]:
//! SNI, ALPN, the client's certificates, version, suite, key exchange) so the server can hand
//! it to handlers as a request extension.
//!
//! The crypto provider is *aws-lc-rs*, rustls' default, chosen explicitly so the build does
//! not depend on which provider other crates enable. Its default key exchange groups put the
//! post-quantum hybrid X25519MLKEM768 first (then P-384, X25519, P-256): a client that offers
//! it gets it, a classic client still gets ECDHE.

use crate::client::{Builder, Connection, SendRequest};
use crate::error::Error;
use h2proto::{Config, Origin};
use http::uri::{Authority, Scheme};
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs};
pub use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{
    CipherSuite, ClientConfig, NamedGroup, ProtocolVersion, RootCertStore, ServerConfig,
};

/// The TLS stream a client connection runs on.
pub type ClientTlsStream = tokio_rustls::client::TlsStream<TcpStream>;

// RFC 9113 §9.2.1, §9.2.2, Appendix A: the aws-lc-rs provider's suites are ECDHE with AEAD
// only (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 among them, none of Appendix A), its groups
// X25519MLKEM768, P-384, X25519 and P-256; no DHE, no TLS compression.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    // req 9113-9.2.1-8, 9113-9.2.2-1, 9113-9.2.2-4, 9113-A-1
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
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

/// Reads a certificate chain (leaf first) and its private key from PEM files, as written
/// by most CAs and tools (`openssl`, certbot): `CERTIFICATE` blocks, and one PKCS#8, PKCS#1
/// or SEC1 key.
pub fn load_pem(
    cert_file: impl AsRef<std::path::Path>,
    key_file: impl AsRef<std::path::Path>,
) -> io::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let (cert_file, key_file) = (cert_file.as_ref(), key_file.as_ref());
    let pem_error = |file: &std::path::Path, e: rustls::pki_types::pem::Error| {
        let kind = match &e {
            rustls::pki_types::pem::Error::Io(e) => e.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, format!("{}: {e}", file.display()))
    };
    let certs = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| pem_error(cert_file, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(cert_file, e))?;
    if certs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: no CERTIFICATE in the file", cert_file.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| pem_error(key_file, e))?;
    Ok((certs, key))
}

/// The server's TLS stream over a transport `IO`.
pub type ServerTlsStream<IO = TcpStream> = tokio_rustls::server::TlsStream<IO>;

/// How long a client gets to complete the TLS handshake unless told otherwise.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server side of the TLS handshake: the rustls configuration, a handshake timeout,
/// and the check that ALPN chose `h2`.
///
/// `Server::serve_tls_with_shutdown` takes one (or just an `Arc<ServerConfig>`, which gets
/// the default timeout):
///
/// ```no_run
/// # fn f(config: std::sync::Arc<h2proto_tokio::tls::rustls::ServerConfig>) {
/// use std::time::Duration;
/// let acceptor = h2proto_tokio::tls::Acceptor::new(config).handshake_timeout(Duration::from_secs(5));
/// # }
/// ```
#[derive(Clone)]
pub struct Acceptor {
    inner: tokio_rustls::TlsAcceptor,
    config: Arc<ServerConfig>,
    handshake_timeout: Duration,
    http1: Option<Http1Handoff>,
}

/// Where [`Acceptor::http1`] sends the connections whose client chose HTTP/1.1.
type Http1Handoff = Arc<
    dyn Fn(
            ServerTlsStream<TcpStream>,
            TlsInfo,
        ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
        + Send
        + Sync,
>;

impl Acceptor {
    /// An acceptor for this configuration, with [`DEFAULT_HANDSHAKE_TIMEOUT`].
    pub fn new(config: Arc<ServerConfig>) -> Acceptor {
        Acceptor {
            inner: config.clone().into(),
            config,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            http1: None,
        }
    }

    /// Also serves clients that do not speak HTTP/2, on the same listener: ALPN offers
    /// `http/1.1` after `h2`, and a connection whose client chose it, or offered no ALPN at
    /// all (clients without ALPN speak HTTP/1.1), is handed after its handshake to
    /// `handoff`, for an HTTP/1 server such as hyper's `server::conn::http1` to serve.
    /// Browsers and HTTP/2 tools still get `h2`, served by h2proto.
    ///
    /// The hand-off runs in a task of its own, outside the server's connection limit and
    /// graceful shutdown: the HTTP/1 server owns its connections, and its own shutdown
    /// (hyper's `graceful_shutdown`) is the caller's. `tests/http1_handoff.rs` serves one
    /// listener to curl over both protocols with hyper as the HTTP/1 server.
    ///
    /// ```no_run
    /// # async fn f(config: std::sync::Arc<h2proto_tokio::tls::rustls::ServerConfig>) {
    /// use h2proto_tokio::tls::{Acceptor, ServerTlsStream, TlsInfo};
    /// let acceptor = Acceptor::new(config).http1(|stream: ServerTlsStream, _info: TlsInfo| async move {
    ///     // e.g. hyper::server::conn::http1::Builder::new()
    ///     //     .serve_connection(hyper_util::rt::TokioIo::new(stream), service).await
    ///     drop(stream);
    /// });
    /// # }
    /// ```
    pub fn http1<F, Fut>(mut self, handoff: F) -> Acceptor
    where
        F: Fn(ServerTlsStream<TcpStream>, TlsInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut config = (*self.config).clone();
        if !config.alpn_protocols.iter().any(|p| p == b"http/1.1") {
            config.alpn_protocols.push(b"http/1.1".to_vec());
        }
        self.config = Arc::new(config);
        self.inner = self.config.clone().into();
        self.http1 = Some(Arc::new(move |stream, info| Box::pin(handoff(stream, info))));
        self
    }

    /// Sets how long a client has from the accepted TCP connection to the end of the TLS
    /// handshake; past it the connection is dropped.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Acceptor {
        self.handshake_timeout = timeout;
        self
    }

    /// Does the TLS handshake on `io` within the timeout (`ErrorKind::TimedOut` past it),
    /// and refuses the connection unless ALPN chose `h2` (`ErrorKind::InvalidData`).
    pub async fn accept<IO>(&self, io: IO) -> io::Result<(ServerTlsStream<IO>, TlsInfo)>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let stream = self.handshake(io).await?;
        let info = TlsInfo::of(stream.get_ref().1);
        // req 9113-3.3-1
        if info.alpn() != Some(b"h2") {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "ALPN did not choose h2"));
        }
        Ok((stream, info))
    }
}

impl Acceptor {
    /// The server's handshake: [`accept`](Self::accept), except that with an
    /// [`http1`](Self::http1) hand-off a client that chose HTTP/1.1 (or no ALPN) is handed
    /// to it, in a task of its own, instead of being refused: `Ok(None)`.
    pub(crate) async fn accept_or_hand_off(
        &self,
        io: TcpStream,
    ) -> io::Result<Option<(ServerTlsStream<TcpStream>, TlsInfo)>> {
        let stream = self.handshake(io).await?;
        let info = TlsInfo::of(stream.get_ref().1);
        // req 9113-3.3-1
        match (info.alpn(), &self.http1) {
            (Some(b"h2"), _) => Ok(Some((stream, info))),
            (Some(b"http/1.1") | None, Some(handoff)) => {
                tokio::spawn(handoff(stream, info));
                Ok(None)
            }
            _ => Err(io::Error::new(io::ErrorKind::InvalidData, "ALPN did not choose h2")),
        }
    }

    /// The TLS handshake within the timeout (`ErrorKind::TimedOut` past it).
    async fn handshake<IO>(&self, io: IO) -> io::Result<ServerTlsStream<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        tokio::time::timeout(self.handshake_timeout, self.inner.accept(io))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
    }
}

impl From<Arc<ServerConfig>> for Acceptor {
    fn from(config: Arc<ServerConfig>) -> Acceptor {
        Acceptor::new(config)
    }
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("http1", &self.http1.is_some())
            .finish_non_exhaustive()
    }
}

/// What a server's TLS handshake settled. Every request on a connection that
/// [`serve_tls`](crate::server::serve_tls) accepted carries it in its extensions, next to
/// [`Connected`](crate::server::Connected):
///
/// ```no_run
/// # fn f(request: http::Request<h2proto_tokio::RecvBody>) {
/// use h2proto_tokio::tls::TlsInfo;
/// if let Some(tls) = request.extensions().get::<TlsInfo>() {
///     println!("SNI {:?}, {:?}, {:?}", tls.server_name(), tls.protocol_version(), tls.key_exchange_group());
/// }
/// # }
/// ```
///
/// Cloning is cheap (the details are shared), so a clone goes with every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsInfo {
    inner: Arc<Details>,
}

#[derive(Debug, PartialEq, Eq)]
struct Details {
    server_name: Option<String>,
    alpn: Option<Vec<u8>>,
    peer_certificates: Vec<CertificateDer<'static>>,
    protocol_version: Option<ProtocolVersion>,
    cipher_suite: Option<CipherSuite>,
    key_exchange_group: Option<NamedGroup>,
}

impl TlsInfo {
    /// What the handshake of `conn` settled.
    pub fn of(conn: &rustls::ServerConnection) -> TlsInfo {
        let details = Details {
            server_name: conn.server_name().map(str::to_owned),
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            peer_certificates: conn
                .peer_certificates()
                .map(|chain| chain.iter().map(|c| c.clone().into_owned()).collect())
                .unwrap_or_default(),
            protocol_version: conn.protocol_version(),
            cipher_suite: conn.negotiated_cipher_suite().map(|s| s.suite()),
            key_exchange_group: conn.negotiated_key_exchange_group().map(|g| g.name()),
        };
        TlsInfo { inner: Arc::new(details) }
    }

    /// The name the client asked for (SNI), if it sent one.
    pub fn server_name(&self) -> Option<&str> {
        self.inner.server_name.as_deref()
    }

    /// The protocol ALPN chose (`h2` on every connection the server serves).
    pub fn alpn(&self) -> Option<&[u8]> {
        self.inner.alpn.as_deref()
    }

    /// The client's certificate chain, leaf first; empty unless the configuration asks for
    /// client certificates and the client sent some.
    pub fn peer_certificates(&self) -> &[CertificateDer<'static>] {
        &self.inner.peer_certificates
    }

    /// TLS 1.2 or 1.3.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.inner.protocol_version
    }

    /// The negotiated cipher suite.
    pub fn cipher_suite(&self) -> Option<CipherSuite> {
        self.inner.cipher_suite
    }

    /// The key exchange group, e.g. `X25519MLKEM768` (post-quantum hybrid) or `X25519`.
    pub fn key_exchange_group(&self) -> Option<NamedGroup> {
        self.inner.key_exchange_group
    }
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
