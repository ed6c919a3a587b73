//! The HPACK Huffman code (RFC 7541 §5.2, Appendix B).
//!
//! * Encoding packs codes into a 64-bit accumulator and stores 32 bits at a time into a
//!   buffer sized exactly by [`encoded_len`].
//! * Decoding is table driven: a 4096-entry table indexed by the next 12 bits of input yields
//!   up to two whole symbols and the number of bits they use (every pair of codes of 5–7
//!   bits, the common case in header text, is decoded by one lookup). Codes longer than 12
//!   bits (rare bytes) take a canonical-code slow path. The table is computed at compile time
//!   from the RFC code list in `table.rs`.
//! * Decoding rejects what §5.2 forbids: the EOS symbol inside a string, padding longer than
//!   7 bits, and padding that is not a prefix of EOS (all ones).

mod decode;
mod encode;
mod table;

#[cfg(test)]
mod tests;

use super::DecodeError;
use bytes::BytesMut;

pub(crate) use decode::{decode_into, max_decoded_len};
pub(crate) use encode::encode_into;

/// A growable byte buffer the Huffman functions append to: implemented for `Vec<u8>` and
/// [`BytesMut`].
pub trait Buffer: std::ops::DerefMut<Target = [u8]> {
    /// Resizes to `new_len` bytes, filling new space with zeros.
    fn resize_zeroed(&mut self, new_len: usize);
    /// Shortens to `new_len` bytes.
    fn truncate_to(&mut self, new_len: usize);
}

impl Buffer for Vec<u8> {
    fn resize_zeroed(&mut self, new_len: usize) {
        self.resize(new_len, 0);
    }
    fn truncate_to(&mut self, new_len: usize) {
        self.truncate(new_len);
    }
}

impl Buffer for BytesMut {
    fn resize_zeroed(&mut self, new_len: usize) {
        self.resize(new_len, 0);
    }
    fn truncate_to(&mut self, new_len: usize) {
        self.truncate(new_len);
    }
}

/// The number of octets [`encode`](fn@encode) produces for `src`, padding included.
#[inline]
pub fn encoded_len(src: &[u8]) -> usize {
    encode::encoded_bits(src).div_ceil(8)
}

/// Appends the Huffman encoding of `src` to `dst`, padded with the most significant bits
/// of EOS.
pub fn encode(src: &[u8], dst: &mut impl Buffer) {
    let start = dst.len();
    dst.resize_zeroed(start + encoded_len(src));
    encode_into(src, &mut dst[start..]);
}

/// Appends the decoding of the Huffman string `src` to `dst`.
///
/// # Errors
/// [`DecodeError::InvalidHuffman`] if `src` contains EOS or is badly padded (§5.2); `dst`
/// is then left as it was.
pub fn decode(src: &[u8], dst: &mut impl Buffer) -> Result<(), DecodeError> {
    let start = dst.len();
    dst.resize_zeroed(start + max_decoded_len(src.len()));
    match decode_into(src, &mut dst[start..]) {
        Ok(n) => {
            dst.truncate_to(start + n);
            Ok(())
        }
        Err(e) => {
            dst.truncate_to(start);
            Err(e)
        }
    }
}
