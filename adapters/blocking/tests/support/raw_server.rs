//! The servers played by a hand-driven core (`adapters/raw_peer.rs`, shared with the mio
//! adapter's tests), with what only this crate's tests need.

#[path = "../../../raw_peer.rs"]
mod raw_peer;

#[allow(unused_imports)] // not every test uses them
pub use raw_peer::*;

use h2proto::Config;
use h2proto_blocking::Error;
use std::io;
use std::net::SocketAddr;
use std::thread::JoinHandle;

/// [`one_connection_server_with`] the default configuration.
pub fn one_connection_server<T: Send + 'static>(
    serve: impl FnOnce(RawPeer) -> T + Send + 'static,
) -> (SocketAddr, JoinHandle<T>) {
    one_connection_server_with(Config::default(), serve)
}

/// The HTTP/2 error inside an error of this crate (panics if there is none).
pub fn blocking_error(e: &io::Error) -> &Error {
    e.get_ref().and_then(|e| e.downcast_ref::<Error>()).unwrap_or_else(|| panic!("{e:?}"))
}
