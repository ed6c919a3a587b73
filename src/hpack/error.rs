//! Decoding errors.

use std::fmt;

/// Why a header block could not be decoded.
///
/// RFC 9113 §4.3: a header block that cannot be decompressed breaks the shared HPACK state,
/// so every variant except [`DecodeError::HeaderListTooLarge`] must end the connection with
/// COMPRESSION_ERROR ([`DecodeError::is_compression_error`]). `HeaderListTooLarge` leaves the
/// dynamic table in sync with the peer: the caller may refuse just that stream (RFC 9113
/// §8.2.2 suggests a 431 response) and keep the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// An index of 0, or past the end of the static plus dynamic table (§2.3.3, §6.1).
    InvalidIndex,
    /// An integer larger than 2^32 - 1, or with more than 5 continuation bytes (§5.1).
    IntegerOverflow,
    /// The block ended inside an integer or a string (a string longer than the rest of the
    /// block is reported here, before anything is allocated).
    Truncated,
    /// A Huffman string holds the EOS symbol, or its padding is longer than 7 bits or not
    /// the most significant bits of EOS (§5.2).
    InvalidHuffman,
    /// A dynamic table size update after the first field of a block (§4.2).
    SizeUpdateNotAtStart,
    /// A dynamic table size update above our acknowledged SETTINGS_HEADER_TABLE_SIZE (§6.3).
    SizeUpdateTooLarge,
    /// Our SETTINGS_HEADER_TABLE_SIZE went below the table size, but the next block did not
    /// start with a size update at or below the smallest value acknowledged since (§4.2).
    SizeUpdateMissing,
    /// The decoded header list exceeds the limit set with
    /// [`Decoder::set_max_header_list_size`](super::Decoder::set_max_header_list_size)
    /// (RFC 9113 §6.5.2). Not a compression error: the block was fully processed.
    HeaderListTooLarge,
}

impl DecodeError {
    /// Whether this error must be treated as a connection error of type COMPRESSION_ERROR
    /// (RFC 9113 §4.3). True for every variant except [`DecodeError::HeaderListTooLarge`].
    pub fn is_compression_error(&self) -> bool {
        !matches!(self, DecodeError::HeaderListTooLarge)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecodeError::InvalidIndex => "invalid HPACK table index",
            DecodeError::IntegerOverflow => "HPACK integer overflow",
            DecodeError::Truncated => "truncated HPACK header block",
            DecodeError::InvalidHuffman => "invalid Huffman-coded string",
            DecodeError::SizeUpdateNotAtStart => "dynamic table size update after the first field",
            DecodeError::SizeUpdateTooLarge => {
                "dynamic table size update above the allowed maximum"
            }
            DecodeError::SizeUpdateMissing => "required dynamic table size update missing",
            DecodeError::HeaderListTooLarge => "decoded header list exceeds the size limit",
        })
    }
}

impl std::error::Error for DecodeError {}
