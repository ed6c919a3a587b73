//! Table-driven Huffman decoding.
//!
//! The input is read into a 64-bit bit buffer `buf`, most significant bit first, holding
//! `nbits` valid bits. While at least 8 input octets remain, the buffer is refilled
//! branch-free with an unaligned big-endian word (the "refill with lookahead" of F. Giesen's
//! *Reading bits in far too many ways*), after which it holds at least 56 valid bits: enough
//! for four lookups of at most 12 bits each. Every lookup indexes [`FAST`] with the top 12
//! bits and yields up to two symbols and the bits they use; the symbols of four lookups are
//! gathered in a `u64` and stored with one write. A code longer than 12 bits goes to the
//! canonical-code slow path ([`decode_long`]). The last octets are decoded one symbol at a
//! time with the padding rules of §5.2.

use super::table::CODES;
use crate::hpack::DecodeError;

/// Bits used to index [`FAST`].
const LOOKUP_BITS: u32 = 12;

// Layout of a `FAST` entry.
/// Bits 0..=5: total bits used by the decoded symbols (0 for a long code).
const LEN_MASK: u32 = 0x3f;
/// Bits 8..=15 and 16..=23: the first and second symbol.
const SYMS_SHIFT: u32 = 8;
/// Bits 24..=25: how many symbols (0 = the 12 bits are the prefix of a longer code).
const COUNT_SHIFT: u32 = 24;
/// Bits 26..=29: the length of the first symbol alone.
const LEN1_SHIFT: u32 = 26;

/// Lookup table: top 12 bits of input -> up to two symbols.
static FAST: [u32; 1 << LOOKUP_BITS] = build_fast();

const fn build_fast() -> [u32; 1 << LOOKUP_BITS] {
    let mut t = [0u32; 1 << LOOKUP_BITS];
    let mut s1 = 0;
    while s1 < 256 {
        let (c1, l1) = CODES[s1];
        let l1 = l1 as u32;
        if l1 <= LOOKUP_BITS {
            let base1 = (c1 << (LOOKUP_BITS - l1)) as usize;
            let single = l1 | (s1 as u32) << SYMS_SHIFT | 1 << COUNT_SHIFT | l1 << LEN1_SHIFT;
            let mut i = 0;
            while i < 1 << (LOOKUP_BITS - l1) {
                t[base1 + i] = single;
                i += 1;
            }
            let mut s2 = 0;
            while s2 < 256 {
                let (c2, l2) = CODES[s2];
                let l2 = l2 as u32;
                if l1 + l2 <= LOOKUP_BITS {
                    let base = base1 | (c2 << (LOOKUP_BITS - l1 - l2)) as usize;
                    let pair = (l1 + l2)
                        | (s1 as u32) << SYMS_SHIFT
                        | (s2 as u32) << (SYMS_SHIFT + 8)
                        | 2 << COUNT_SHIFT
                        | l1 << LEN1_SHIFT;
                    let mut i = 0;
                    while i < 1 << (LOOKUP_BITS - l1 - l2) {
                        t[base + i] = pair;
                        i += 1;
                    }
                }
                s2 += 1;
            }
        }
        s1 += 1;
    }
    t
}

/// Canonical-code tables for the slow path, by code length (RFC 7541's code is canonical:
/// codes are assigned in order of (length, symbol), which `tests` checks).
struct Canonical {
    /// One past the last code of each length, as a code of that length.
    limit: [u32; 31],
    /// `sorted` index of the first code of each length, minus that code.
    offset: [i64; 31],
    /// Symbols in code order.
    sorted: [u16; 257],
}

static CANONICAL: Canonical = build_canonical();

const fn build_canonical() -> Canonical {
    let mut count = [0u32; 31];
    let mut s = 0;
    while s < 257 {
        count[CODES[s].1 as usize] += 1;
        s += 1;
    }
    let mut sorted = [0u16; 257];
    let mut limit = [0u32; 31];
    let mut offset = [0i64; 31];
    let mut code = 0u32;
    let mut index = 0usize;
    let mut len = 1;
    while len <= 30 {
        offset[len] = index as i64 - code as i64;
        let mut s = 0;
        while s < 257 {
            if CODES[s].1 as usize == len {
                sorted[index] = s as u16;
                index += 1;
            }
            s += 1;
        }
        code += count[len];
        limit[len] = code;
        code <<= 1;
        len += 1;
    }
    Canonical { limit, offset, sorted }
}

/// Decodes the code longer than 12 bits at the top of `buf` (which must hold at least 30
/// valid or one-padded bits). Returns the symbol (256 = EOS) and its length.
#[inline(never)]
fn decode_long(buf: u64) -> (u16, u32) {
    let mut len = LOOKUP_BITS + 1;
    while len <= 30 {
        let code = (buf >> (64 - len)) as u32;
        if code < CANONICAL.limit[len as usize] {
            let i = CANONICAL.offset[len as usize] + i64::from(code);
            let sym = CANONICAL.sorted.get(i as usize).copied().unwrap_or(256);
            return (sym, len);
        }
        len += 1;
    }
    (256, 30) // unreachable: the 30-bit all-ones code (EOS) ends the canonical range
}

/// An upper bound of the decoded length of `encoded_len` octets (the shortest code is 5
/// bits), plus slack for the decoder's wide stores. [`decode_into`] needs this much room.
#[inline]
pub(crate) fn max_decoded_len(encoded_len: usize) -> usize {
    encoded_len / 5 * 8 + 16
}

/// Decodes `src` into `out` (at least [`max_decoded_len`]`(src.len())` long) and returns
/// the decoded length.
pub(crate) fn decode_into(src: &[u8], out: &mut [u8]) -> Result<usize, DecodeError> {
    let mut buf: u64 = 0; // valid bits at the top
    let mut nbits: u32 = 0;
    let mut pos = 0;
    let mut o = 0;

    // Fast path: at least 8 input octets and 8 output octets remain.
    while let (Some(word), Some(dst)) = (src.get(pos..pos + 8), out.get_mut(o..o + 8)) {
        let word = u64::from_be_bytes(word.try_into().unwrap_or_default());
        buf |= word >> nbits;
        pos += ((63 - nbits) >> 3) as usize;
        nbits |= 56;

        let e = FAST[(buf >> (64 - LOOKUP_BITS)) as usize];
        if e >> COUNT_SHIFT == 0 {
            let (sym, len) = decode_long(buf);
            if sym > 255 {
                return Err(DecodeError::InvalidHuffman);
            }
            dst[0] = sym as u8;
            o += 1;
            buf <<= len;
            nbits -= len;
            continue;
        }
        let mut acc = u64::from((e >> SYMS_SHIFT) & 0xffff);
        let mut n = (e >> COUNT_SHIFT) & 3;
        buf <<= e & LEN_MASK;
        nbits -= e & LEN_MASK;
        // Three more lookups; a long code ends the group and is handled after a refill.
        'group: {
            for _ in 0..3 {
                let e = FAST[(buf >> (64 - LOOKUP_BITS)) as usize];
                if e >> COUNT_SHIFT == 0 {
                    break 'group;
                }
                acc |= u64::from((e >> SYMS_SHIFT) & 0xffff) << (8 * n);
                n += (e >> COUNT_SHIFT) & 3;
                buf <<= e & LEN_MASK;
                nbits -= e & LEN_MASK;
            }
        }
        dst.copy_from_slice(&acc.to_le_bytes());
        o += n as usize;
    }

    // Tail: one symbol at a time. Bits of `buf` past `nbits` may hold look-ahead copies of
    // the next input bits (never anything else), so OR-ing those octets in again is exact.
    loop {
        while nbits <= 48 {
            let Some(&b) = src.get(pos) else { break };
            buf |= u64::from(b) << (56 - nbits);
            nbits += 8;
            pos += 1;
        }
        if nbits == 0 {
            return Ok(o);
        }
        if nbits < 8 {
            // Only possible at the very end: fewer than 8 bits that are all ones are padding.
            let mask = !0u64 << (64 - nbits);
            if buf & mask == mask {
                return Ok(o);
            }
        }
        // Pad the missing bits with ones: a code that fits only thanks to them is too long.
        let padded = buf | (!0u64 >> nbits);
        let e = FAST[(padded >> (64 - LOOKUP_BITS)) as usize];
        let (sym, len) = if e >> COUNT_SHIFT == 0 {
            decode_long(padded)
        } else {
            (((e >> SYMS_SHIFT) & 0xff) as u16, (e >> LEN1_SHIFT) & 0xf)
        };
        if sym > 255 || len > nbits {
            return Err(DecodeError::InvalidHuffman);
        }
        *out.get_mut(o).ok_or(DecodeError::InvalidHuffman)? = sym as u8;
        o += 1;
        buf <<= len;
        nbits -= len;
    }
}
