//! HPACK: header compression for HTTP/2 (RFC 7541).
//!
//! * [`Decoder`] turns header blocks into [`Field`]s, zero-copy where it can, and enforces
//!   every decoding rule of the RFC plus a header list size limit (the HPACK bomb defence).
//! * [`Encoder`] turns [`FieldRef`]s into header blocks, choosing indexes, literals and
//!   Huffman coding to keep blocks small; see its docs for the indexing policy.
//! * [`huffman`] and [`integer`] are the primitive codecs (§5), public for tests, fuzzing and
//!   benches.
//!
//! Both sides own one dynamic table each, of at most the negotiated
//! SETTINGS_HEADER_TABLE_SIZE (4096 by default), and allocate nothing until the first field
//! is added to it. Nothing here does IO: the frame layer hands the decoder complete header
//! blocks (HEADERS + CONTINUATION payloads) and sends what the encoder produces.
//!
//! Layout: `static_table` (Appendix A), `table` (the decoder's dynamic table),
//! `encoder_table` (the encoder's, with lookup), `huffman/` (Appendix B), `integer` (§5.1),
//! `decoder`, `encoder`; RFC Appendix C examples are the tests in `appendix_c`.

mod decoder;
mod encoder;
mod encoder_table;
mod error;
mod field;
pub mod huffman;
pub mod integer;
mod repeated_head;
mod static_table;
mod table;

#[cfg(test)]
mod appendix_c;
#[cfg(test)]
mod decoder_tests;
#[cfg(test)]
mod encoder_tests;

pub use decoder::{DEFAULT_MAX_HEADER_LIST_SIZE, Decoder};
pub use encoder::Encoder;
pub use error::DecodeError;
pub use field::{ENTRY_OVERHEAD, Field, FieldRef, FieldView};

/// The initial SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2), and the largest table the
/// encoder uses by default.
pub const DEFAULT_TABLE_SIZE: usize = table::DEFAULT_TABLE_SIZE;
