//! Huffman encoding with a 64-bit accumulator.

use super::table::CODES;

/// The number of bits the codes of `src` take, before padding.
#[inline]
pub(super) fn encoded_bits(src: &[u8]) -> usize {
    // Four independent sums let the loads overlap.
    let mut sums = [0usize; 4];
    let mut chunks = src.chunks_exact(4);
    for c in &mut chunks {
        for (sum, &b) in sums.iter_mut().zip(c) {
            *sum += CODES[b as usize].1 as usize;
        }
    }
    let tail: usize = chunks.remainder().iter().map(|&b| CODES[b as usize].1 as usize).sum();
    sums.iter().sum::<usize>() + tail
}

/// Writes the encoding of `src` into `out`, which must be exactly
/// [`encoded_len`](super::encoded_len)`(src)` octets long.
pub(crate) fn encode_into(src: &[u8], out: &mut [u8]) {
    debug_assert_eq!(out.len(), super::encoded_len(src));
    let mut acc: u64 = 0;
    let mut bits: u32 = 0; // pending bits in the low end of `acc`, always < 32 between symbols
    let mut o = 0;
    let mut chunks = out.chunks_exact_mut(4);
    for &b in src {
        let (code, len) = CODES[b as usize];
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        if bits >= 32 {
            bits -= 32;
            if let Some(dst) = chunks.next() {
                dst.copy_from_slice(&((acc >> bits) as u32).to_be_bytes());
                o += 4;
            }
        }
    }
    if bits > 0 {
        // Pad to an octet boundary with the high bits of EOS (all ones), §5.2.
        let pad = (8 - bits % 8) % 8;
        acc = (acc << pad) | ((1u64 << pad) - 1);
        let total = (bits + pad) / 8;
        let rest = &mut out[o..];
        for (i, dst) in rest.iter_mut().take(total as usize).enumerate() {
            *dst = (acc >> (8 * (total as usize - 1 - i))) as u8;
        }
    }
}
