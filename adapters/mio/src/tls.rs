//! TLS for `https://` (feature `rustls`): [`client_config`] and the [`rustls`] it is made
//! with, for [`ClientBuilder::tls`](crate::ClientBuilder::tls).
//!
//! The session is `adapters/tls_client.rs`, shared with the blocking adapter. The first
//! connection's handshake is done by [`ClientBuilder::connect`](crate::ClientBuilder::connect)
//! on the calling thread, within the connect timeout (an untrusted certificate or a server
//! that does not choose ALPN `h2` fails the connect, as a TCP failure would); a
//! replacement's runs on the loop like any other bytes (`tls_layer.rs`), within the connect
//! timeout again once TCP is up.

#[path = "../../tls_client.rs"]
mod session;

pub use rustls;
pub use session::client_config;
pub(crate) use session::{Session, Settings};
