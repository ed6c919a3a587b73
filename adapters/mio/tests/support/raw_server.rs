//! The servers played by a hand-driven core: `adapters/raw_peer.rs`, shared with the
//! blocking adapter's tests.

#[path = "../../../raw_peer.rs"]
mod raw_peer;

#[allow(unused_imports)] // not every test uses them
pub use raw_peer::*;
