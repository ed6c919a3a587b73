//! TLS for `https://` (feature `rustls`): the driver thread owns the rustls session next to
//! the HTTP/2 connection (the session itself is `adapters/tls_client.rs`, shared with the mio
//! adapter).
//!
//! The handshake is done on the connecting thread, before the driver starts, on the
//! blocking socket and within the connect timeout: a certificate the client does not trust,
//! a server that does not choose ALPN `h2` (RFC 9113 §3.3) or one that never answers fails
//! the connect, not a request. Then the reader and writer threads stay byte pipes: the
//! driver decrypts each read into one piece of plaintext for the core (possibly empty, so
//! the reader's credits still count one per read), and encrypts each batch the core
//! transmits into records for the writer. A rustls session cannot be split across threads,
//! and this keeps it on the one thread that already owns everything else.

#[path = "../../tls_client.rs"]
mod session;

pub use rustls;
pub use session::client_config;
pub(crate) use session::{Session, Settings};
