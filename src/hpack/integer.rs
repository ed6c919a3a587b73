//! Integer representation (RFC 7541 §5.1).
//!
//! An integer fills the low `N` bits of a first octet (the *prefix*, 1 ≤ N ≤ 8); if it does
//! not fit, the prefix is all ones and the rest follows 7 bits per octet, least significant
//! first, with the high bit marking continuation.
//!
//! The RFC sets no upper bound, so a peer could send endless continuation octets. We accept
//! values up to [`MAX_VALUE`] (2^32 - 1, far above any HPACK length or index a sane peer sends)
//! in at most [`MAX_CONTINUATION_OCTETS`] continuation octets; anything else is
//! [`DecodeError::IntegerOverflow`]. Arithmetic is done in `u64`, so nothing can wrap.

use super::DecodeError;
use bytes::BufMut;

/// The largest integer the decoder accepts.
pub const MAX_VALUE: usize = u32::MAX as usize;

/// The most continuation octets the decoder accepts (5 × 7 bits cover 32 bits).
pub const MAX_CONTINUATION_OCTETS: usize = 5;

/// The longest encoding [`encode`] can produce: one prefix octet plus ten 7-bit groups
/// (enough for a 64-bit `usize`).
pub const MAX_ENCODED_LEN: usize = 11;

/// Encodes `value` with an `prefix_bits`-bit prefix into `out`, OR-ing `flags` into the
/// first octet (the representation's pattern bits, which must lie above the prefix).
/// Returns the number of octets written.
///
/// # Panics
/// If `prefix_bits` is not in `1..=8` (a programming error, never peer input).
#[inline]
pub fn encode_to_array(value: usize, prefix_bits: u8, flags: u8) -> ([u8; MAX_ENCODED_LEN], usize) {
    assert!((1..=8).contains(&prefix_bits), "HPACK prefix must be 1..=8 bits");
    let mut out = [0u8; MAX_ENCODED_LEN];
    let max_prefix = (1usize << prefix_bits) - 1;
    if value < max_prefix {
        out[0] = flags | value as u8;
        return (out, 1);
    }
    out[0] = flags | max_prefix as u8;
    let mut rest = value - max_prefix;
    let mut n = 1;
    while rest >= 0x80 {
        out[n] = (rest as u8 & 0x7f) | 0x80;
        rest >>= 7;
        n += 1;
    }
    out[n] = rest as u8;
    (out, n + 1)
}

/// Appends the encoding of `value` with an `prefix_bits`-bit prefix to `dst`, OR-ing `flags`
/// into the first octet.
///
/// # Panics
/// If `prefix_bits` is not in `1..=8`.
#[inline]
pub fn encode(value: usize, prefix_bits: u8, flags: u8, dst: &mut impl BufMut) {
    // Most integers (indexes, short lengths) fit the prefix or one more octet, and a call
    // small enough to inline; longer ones take the out-of-line path.
    if (1..=8).contains(&prefix_bits) {
        let max_prefix = (1usize << prefix_bits) - 1;
        if value < max_prefix {
            dst.put_u8(flags | value as u8);
            return;
        }
        if value - max_prefix < 0x80 {
            // Two octets (a name index past a 4-bit prefix, a length past 126): still inline.
            dst.put_slice(&[flags | max_prefix as u8, (value - max_prefix) as u8]);
            return;
        }
    }
    encode_long(value, prefix_bits, flags, dst);
}

#[inline(never)]
fn encode_long(value: usize, prefix_bits: u8, flags: u8, dst: &mut impl BufMut) {
    let (out, n) = encode_to_array(value, prefix_bits, flags);
    dst.put_slice(&out[..n]);
}

/// The number of octets [`encode`] writes for `value` with an `prefix_bits`-bit prefix.
pub fn encoded_len(value: usize, prefix_bits: u8) -> usize {
    encode_to_array(value, prefix_bits, 0).1
}

/// Decodes an integer with an `prefix_bits`-bit prefix from the start of `src` (the pattern
/// bits above the prefix are ignored). Returns the value and the number of octets read.
///
/// # Errors
/// [`DecodeError::Truncated`] if `src` ends first; [`DecodeError::IntegerOverflow`] past
/// [`MAX_VALUE`] or [`MAX_CONTINUATION_OCTETS`].
///
/// # Panics
/// If `prefix_bits` is not in `1..=8`.
pub fn decode(src: &[u8], prefix_bits: u8) -> Result<(usize, usize), DecodeError> {
    assert!((1..=8).contains(&prefix_bits), "HPACK prefix must be 1..=8 bits");
    let first = *src.first().ok_or(DecodeError::Truncated)?;
    let max_prefix = ((1u16 << prefix_bits) - 1) as u8;
    let mut pos = 1;
    let value = first & max_prefix;
    if value < max_prefix {
        return Ok((value as usize, 1));
    }
    let value = decode_continuation(src, &mut pos, max_prefix as usize)?;
    Ok((value, pos))
}

/// Reads the continuation octets of an integer whose prefix was saturated (`base` is the
/// prefix value, 2^N - 1), starting at `src[*pos]`, and advances `pos` past them.
#[inline(never)]
pub(crate) fn decode_continuation(
    src: &[u8],
    pos: &mut usize,
    base: usize,
) -> Result<usize, DecodeError> {
    let mut value = base as u64;
    let mut shift = 0u32;
    for i in 0..MAX_CONTINUATION_OCTETS {
        let Some(&b) = src.get(*pos + i) else {
            return Err(DecodeError::Truncated);
        };
        value += u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            // req 7541-5.1-1
            if value > MAX_VALUE as u64 {
                return Err(DecodeError::IntegerOverflow);
            }
            *pos += i + 1;
            return Ok(value as usize);
        }
        shift += 7;
    }
    // req 7541-5.1-1
    // A sixth continuation octet: no valid integer can follow (overflow or over-long).
    Err(DecodeError::IntegerOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(value: usize, prefix: u8) -> Vec<u8> {
        let mut v = Vec::new();
        encode(value, prefix, 0, &mut v);
        v
    }

    /// RFC 7541 §C.1.1: 10 with a 5-bit prefix.
    #[test]
    fn c_1_1_small_value_fits_prefix() {
        assert_eq!(enc(10, 5), [0b0000_1010]);
        assert_eq!(decode(&[0b1110_1010], 5), Ok((10, 1)));
    }

    /// RFC 7541 §C.1.2: 1337 with a 5-bit prefix.
    #[test]
    fn c_1_2_value_needs_continuation() {
        assert_eq!(enc(1337, 5), [0b0001_1111, 0b1001_1010, 0b0000_1010]);
        assert_eq!(decode(&[0b0001_1111, 0b1001_1010, 0b0000_1010], 5), Ok((1337, 3)));
    }

    /// RFC 7541 §C.1.3: 42 starting at an octet boundary (8-bit prefix).
    #[test]
    fn c_1_3_eight_bit_prefix() {
        assert_eq!(enc(42, 8), [0b0010_1010]);
        assert_eq!(decode(&[0b0010_1010], 8), Ok((42, 1)));
    }

    #[test]
    fn flags_are_kept_and_ignored() {
        let mut v = Vec::new();
        encode(3, 6, 0x40, &mut v);
        assert_eq!(v, [0x43]);
        assert_eq!(decode(&v, 6), Ok((3, 1)));
    }

    #[test]
    fn prefix_boundary() {
        for prefix in 1..=8u8 {
            let max = (1usize << prefix) - 1;
            assert_eq!(enc(max - 1, prefix).len(), 1);
            assert_eq!(enc(max, prefix), [max as u8, 0]);
            assert_eq!(decode(&enc(max, prefix), prefix), Ok((max, 2)));
        }
    }

    #[test]
    fn largest_accepted_value() {
        for prefix in 1..=8u8 {
            let e = enc(MAX_VALUE, prefix);
            assert_eq!(decode(&e, prefix), Ok((MAX_VALUE, e.len())));
            let e = enc(MAX_VALUE + 1, prefix);
            assert_eq!(decode(&e, prefix), Err(DecodeError::IntegerOverflow));
        }
    }

    #[test]
    fn overflow_and_overlong_are_rejected() {
        // 2^35-ish in five continuation octets.
        assert_eq!(
            decode(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f], 5),
            Err(DecodeError::IntegerOverflow)
        );
        // Six continuation octets, even if the value is small (zero padding).
        assert_eq!(
            decode(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 5),
            Err(DecodeError::IntegerOverflow)
        );
        // An endless stream of continuation octets stops after six.
        assert_eq!(decode(&[0xff; 100], 8), Err(DecodeError::IntegerOverflow));
        // A redundant zero continuation within the limit is accepted.
        assert_eq!(decode(&[0x1f, 0x80, 0x00], 5), Ok((31, 3)));
    }

    #[test]
    fn truncation() {
        assert_eq!(decode(&[], 5), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0x1f], 5), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0x1f, 0x80, 0x80], 5), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0x1f, 0x80, 0x80, 0x80, 0x80], 5), Err(DecodeError::Truncated));
        assert_eq!(
            decode(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80], 5),
            Err(DecodeError::IntegerOverflow)
        );
    }

    #[test]
    fn encoded_len_matches() {
        for v in [0, 1, 30, 31, 32, 127, 128, 1337, 1 << 20, usize::MAX] {
            for p in 1..=8 {
                assert_eq!(encoded_len(v, p), enc(v, p).len());
            }
        }
    }
}
