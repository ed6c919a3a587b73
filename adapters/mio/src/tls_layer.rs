//! What a connection's socket carries under HTTP/2: bytes as they are, or TLS records
//! (feature `rustls`). Without the feature there is no TLS layer to have: the type is
//! uninhabited and every connection is cleartext.
//!
//! With TLS, what is read is decrypted before the core sees it, and what the core
//! transmits is encrypted into records that wait here until the socket takes them (a
//! write may take part of them; the rest goes first next time). A replacement connection's
//! handshake is driven by the same reads and writes: rustls keeps the core's first bytes
//! until it is done, and [`TlsLayer::check`] makes sure the server chose ALPN `h2`.

#[cfg(feature = "rustls")]
pub(crate) use with_tls::TlsLayer;
#[cfg(not(feature = "rustls"))]
pub(crate) use without_tls::TlsLayer;

#[cfg(feature = "rustls")]
mod with_tls {
    use crate::tls::Session;
    use bytes::Bytes;
    use std::io;
    use std::time::{Duration, Instant};

    pub(crate) struct TlsLayer {
        session: Session,
        /// Records not written yet, from `written` on.
        records: Vec<u8>,
        written: usize,
        /// Until the handshake is done: when it must be, and the timeout (armed once TCP
        /// is up).
        handshake_by: Option<(Instant, Duration)>,
        handshaken: bool,
    }

    impl TlsLayer {
        /// Over a session whose handshake is done already.
        pub(crate) fn established(session: Session) -> TlsLayer {
            let (records, written, handshake_by) = (Vec::new(), 0, None);
            TlsLayer { session, records, written, handshake_by, handshaken: true }
        }

        /// Over a session whose handshake is still to come.
        pub(crate) fn handshaking(session: Session) -> TlsLayer {
            let (records, written, handshake_by) = (Vec::new(), 0, None);
            TlsLayer { session, records, written, handshake_by, handshaken: false }
        }

        /// The handshake must be done within `timeout` from `now` (TCP is up).
        pub(crate) fn arm(&mut self, now: Instant, timeout: Duration) {
            if !self.handshaken && self.handshake_by.is_none() {
                self.handshake_by = Some((now.checked_add(timeout).unwrap_or(now), timeout));
            }
        }

        /// Whether the handshake is over (ALPN `h2` checked).
        pub(crate) fn is_handshaken(&self) -> bool {
            self.handshaken
        }

        /// When the handshake must be done, while it is not.
        pub(crate) fn deadline(&self) -> Option<Instant> {
            self.handshake_by.map(|(at, _)| at)
        }

        /// The handshake's timeout if it has run out at `now`.
        pub(crate) fn expired(&self, now: Instant) -> Option<Duration> {
            self.handshake_by.filter(|(at, _)| *at <= now).map(|(_, timeout)| timeout)
        }

        /// The plaintext that `ciphertext` carried; an error for a broken record, an
        /// untrusted certificate, or a server that did not choose ALPN `h2`.
        pub(crate) fn decrypt(&mut self, ciphertext: &[u8]) -> io::Result<Bytes> {
            let plain = self.session.decrypt(ciphertext)?;
            self.check()?;
            Ok(plain)
        }

        /// Notes the end of the handshake once it is there, checking ALPN (RFC 9113 §3.3).
        pub(crate) fn check(&mut self) -> io::Result<()> {
            if !self.handshaken && self.session.handshake_done()? {
                (self.handshaken, self.handshake_by) = (true, None);
            }
            Ok(())
        }

        /// Encrypts `plain` (the core's output) after the records still waiting.
        pub(crate) fn encrypt<'a>(
            &mut self,
            plain: impl IntoIterator<Item = &'a [u8]>,
        ) -> io::Result<()> {
            let records = self.session.encrypt(plain)?;
            if self.written == self.records.len() {
                (self.records, self.written) = (records, 0);
            } else {
                self.records.extend_from_slice(&records);
            }
            Ok(())
        }

        /// The records waiting for the socket.
        pub(crate) fn pending(&self) -> &[u8] {
            &self.records[self.written..]
        }

        /// The socket took `n` bytes of [`pending`](Self::pending).
        pub(crate) fn wrote(&mut self, n: usize) {
            self.written += n;
            if self.written == self.records.len() {
                self.records.clear();
                self.written = 0;
            }
        }
    }
}

#[cfg(not(feature = "rustls"))]
mod without_tls {
    use bytes::Bytes;
    use std::io;
    use std::time::{Duration, Instant};

    /// No TLS without the `rustls` feature: nothing of this type exists.
    pub(crate) enum TlsLayer {}

    impl TlsLayer {
        pub(crate) fn established(session: std::convert::Infallible) -> TlsLayer {
            match session {}
        }
        pub(crate) fn arm(&mut self, _: Instant, _: Duration) {
            match *self {}
        }
        pub(crate) fn is_handshaken(&self) -> bool {
            match *self {}
        }
        pub(crate) fn deadline(&self) -> Option<Instant> {
            match *self {}
        }
        pub(crate) fn expired(&self, _: Instant) -> Option<Duration> {
            match *self {}
        }
        pub(crate) fn decrypt(&mut self, _: &[u8]) -> io::Result<Bytes> {
            match *self {}
        }
        pub(crate) fn encrypt<'a>(
            &mut self,
            _: impl IntoIterator<Item = &'a [u8]>,
        ) -> io::Result<()> {
            match *self {}
        }
        pub(crate) fn pending(&self) -> &[u8] {
            match *self {}
        }
        pub(crate) fn wrote(&mut self, _: usize) {
            match *self {}
        }
    }
}
