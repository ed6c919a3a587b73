//! TLS for `https://` (feature `rustls`): the driver thread owns the rustls session next to
//! the HTTP/2 connection.
//!
//! The handshake is done on the connecting thread, before the driver starts, on the
//! blocking socket and within the connect timeout: a certificate the client does not trust,
//! a server that does not choose ALPN `h2` (RFC 9113 §3.3) or one that never answers fails
//! the connect, not a request. Then the reader and writer threads stay byte pipes: the
//! driver decrypts each read into one piece of plaintext for the core (possibly empty, so
//! the reader's credits still count one per read), and encrypts each batch the core
//! transmits into records for the writer. A rustls session cannot be split across threads,
//! and this keeps it on the one thread that already owns everything else.

use bytes::Bytes;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use rustls;

/// A client configuration trusting `roots` that offers only ALPN `h2`, with the aws-lc-rs
/// provider (ECDHE and AEAD suites only, post-quantum X25519MLKEM768 among its groups;
/// RFC 9113 §9.2).
pub fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// What a client needs to open a TLS connection: the configuration (ALPN `h2` enforced)
/// and the name to send as SNI and to verify the certificate for.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) server_name: ServerName<'static>,
}

impl Settings {
    pub(crate) fn new(config: Arc<ClientConfig>, server_name: &str) -> io::Result<Settings> {
        let server_name = ServerName::try_from(server_name.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let config = if config.alpn_protocols == [b"h2".to_vec()] {
            config
        } else {
            // Only `h2` is offered (RFC 9113 §3.3), whatever the caller's config had.
            let mut own = (*config).clone();
            own.alpn_protocols = vec![b"h2".to_vec()];
            Arc::new(own)
        };
        Ok(Settings { config, server_name })
    }

    /// The host part of the connection's origin.
    pub(crate) fn host(&self) -> String {
        self.server_name.to_str().into_owned()
    }
}

/// One client session: ciphertext in and out, plaintext to and from the core.
pub(crate) struct Session {
    tls: ClientConnection,
    /// Plaintext that came with the end of the handshake (the server's SETTINGS, often),
    /// handed to the core with the next read's: the server's SETTINGS ACK always follows.
    early: Vec<u8>,
}

impl Session {
    /// Does the handshake on `socket`, for at most `timeout`.
    pub(crate) fn client(
        settings: &Settings,
        socket: &mut TcpStream,
        timeout: Duration,
    ) -> io::Result<Session> {
        let mut tls = ClientConnection::new(settings.config.clone(), settings.server_name.clone())
            .map_err(io::Error::other)?;
        // What the core transmits is bounded by its flow control and buffers already.
        tls.set_buffer_limit(None);
        let deadline = Instant::now() + timeout;
        let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out");
        while tls.is_handshaking() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out());
            }
            socket.set_read_timeout(Some(left))?;
            socket.set_write_timeout(Some(left))?;
            match tls.complete_io(socket) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(timed_out()),
                Err(e) => return Err(e),
            }
        }
        socket.set_read_timeout(None)?;
        socket.set_write_timeout(None)?;
        // RFC 9113 §3.3: h2 over TLS only when ALPN selected "h2".
        if tls.alpn_protocol() != Some(b"h2") {
            let e = "the server did not choose ALPN h2";
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        let mut session = Session { tls, early: Vec::new() };
        let mut early = Vec::new();
        session.drain_plaintext(&mut early)?;
        session.early = early;
        Ok(session)
    }

    /// Takes in what was read from the socket; returns the plaintext it carried.
    pub(crate) fn decrypt(&mut self, mut ciphertext: &[u8]) -> io::Result<Bytes> {
        let mut plain = std::mem::take(&mut self.early);
        while !ciphertext.is_empty() {
            self.tls.read_tls(&mut ciphertext)?;
            let processed = self.tls.process_new_packets();
            processed.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.drain_plaintext(&mut plain)?;
        }
        Ok(plain.into())
    }

    fn drain_plaintext(&mut self, plain: &mut Vec<u8>) -> io::Result<()> {
        let mut buf = [0; 16 << 10];
        loop {
            match self.tls.reader().read(&mut buf) {
                // close_notify: the EOF that follows ends the connection.
                Ok(0) => return Ok(()),
                Ok(n) => plain.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Encrypts the core's output; returns the records to write, with any handshake
    /// message rustls has waiting (empty when there is nothing to write).
    pub(crate) fn encrypt(&mut self, plain: Vec<Bytes>) -> io::Result<Vec<Bytes>> {
        for chunk in &plain {
            self.tls.writer().write_all(chunk)?;
        }
        let mut records = Vec::new();
        while self.tls.wants_write() {
            self.tls.write_tls(&mut records)?;
        }
        Ok(if records.is_empty() { Vec::new() } else { vec![records.into()] })
    }
}
