//! A TLS client session for `https://` (feature `rustls`), shared by the blocking and mio
//! adapters (each includes this file): the configuration (ALPN `h2` only), the name sent
//! as SNI, and one rustls session turning ciphertext into plaintext for the core and the
//! core's output into records.
//!
//! The handshake either runs on a blocking socket within a timeout ([`Session::client`]:
//! the blocking adapter's connects, the mio client's first one) or is driven by the
//! ciphertext read and the records written like any other bytes ([`Session::start`]: the
//! mio loop's reconnects), ALPN checked once it is done ([`Session::handshake_done`]).

use bytes::Bytes;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// The handshake's end was seen (and ALPN checked).
    done: bool,
}

impl Session {
    /// A session whose handshake is still to be driven by [`decrypt`](Self::decrypt) and
    /// [`encrypt`](Self::encrypt) (its first records, the ClientHello, are waiting).
    #[allow(dead_code)] // the mio loop's; the blocking adapter handshakes in `client`
    pub(crate) fn start(settings: &Settings) -> io::Result<Session> {
        let mut tls = ClientConnection::new(settings.config.clone(), settings.server_name.clone())
            .map_err(io::Error::other)?;
        // What the core transmits is bounded by its flow control and buffers already.
        tls.set_buffer_limit(None);
        Ok(Session { tls, early: Vec::new(), done: false })
    }

    /// Does the handshake on `socket` (blocking), for at most `timeout`.
    pub(crate) fn client(
        settings: &Settings,
        socket: &mut TcpStream,
        timeout: Duration,
    ) -> io::Result<Session> {
        let mut session = Session::start(settings)?;
        let deadline = Instant::now() + timeout;
        let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out");
        while session.tls.is_handshaking() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out());
            }
            socket.set_read_timeout(Some(left))?;
            socket.set_write_timeout(Some(left))?;
            match session.tls.complete_io(socket) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(timed_out()),
                Err(e) => return Err(e),
            }
        }
        socket.set_read_timeout(None)?;
        socket.set_write_timeout(None)?;
        session.handshake_done()?;
        let mut early = Vec::new();
        session.drain_plaintext(&mut early)?;
        session.early = early;
        Ok(session)
    }

    /// Whether the handshake is over. The first time it is, checks that the server chose
    /// ALPN `h2` (RFC 9113 §3.3: HTTP/2 over TLS only then); an error if it did not.
    pub(crate) fn handshake_done(&mut self) -> io::Result<bool> {
        if self.done || self.tls.is_handshaking() {
            return Ok(self.done);
        }
        if self.tls.alpn_protocol() != Some(b"h2") {
            let e = "the server did not choose ALPN h2";
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        self.done = true;
        Ok(true)
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

    /// Encrypts the core's output (`plain`, in order); returns the records to write, with
    /// any handshake message rustls has waiting (empty when there is nothing to write).
    /// Before the handshake is done, rustls keeps the plaintext and sends it after.
    pub(crate) fn encrypt<'a>(
        &mut self,
        plain: impl IntoIterator<Item = &'a [u8]>,
    ) -> io::Result<Vec<u8>> {
        for chunk in plain {
            self.tls.writer().write_all(chunk)?;
        }
        let mut records = Vec::new();
        while self.tls.wants_write() {
            self.tls.write_tls(&mut records)?;
        }
        Ok(records)
    }
}
