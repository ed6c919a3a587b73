//! Table-driven Huffman decoding.
//!
//! The input is read into a 64-bit bit buffer, most significant bit first. While at least 8
//! input octets remain, the buffer is refilled branch-free with an unaligned big-endian word
//! (the "refill with lookahead" of F. Giesen's *Reading bits in far too many ways*), after
//! which it holds at least 56 valid bits: enough for four lookups of at most 12 bits each.
//! Every lookup indexes [`FAST`] with the top 12 bits and yields up to two symbols (stored
//! with one 16-bit write) and the bits they use, with no branch: the entry of a code longer
//! than 12 bits is 0, a no-op, and the next group sends it to the canonical-code slow path
//! ([`decode_long`]). The last octets are decoded one symbol at a time with the padding
//! rules of §5.2.
//!
//! # Two streams for long strings
//! Each lookup depends on the previous one (its length says where the next code starts), so
//! one stream runs at one table load per 1–2 symbols, whatever the CPU's width. Strings of
//! [`SPLIT_MIN`] octets or more are therefore decoded as two interleaved streams: stream A
//! from the start, stream B from the middle octet, as if a code started there. Huffman codes
//! resynchronise quickly: B records where its first [`SYNC_SYMBOLS`] codes start, and when A
//! reaches the middle it checks, symbol by symbol, whether it lands on one of those
//! positions. From that symbol on, B decoded exactly what A would have, so A stops and B's
//! output from that symbol on is moved after A's. If A passes them all without landing on
//! one (or B's start was garbage that failed to decode), A simply decodes the rest itself.
//! Any error B reports after the synchronisation point is an error of the string.
//!
//! On the 2-core VM this was tuned on, a dependent L1 load costs ~2 ns, so one stream
//! decodes ~0.55 GB/s of header text and two streams ~0.9 GB/s (with some loss when the
//! output buffer 4K-aliases the input).

use super::table::CODES;
use crate::hpack::DecodeError;

/// Bits used to index [`FAST`].
const LOOKUP_BITS: u32 = 12;

// Layout of a `FAST` entry. An entry for the prefix of a code longer than 12 bits is 0: it
// consumes and emits nothing, so the fast loop needs no branch for it (see `group`).
/// Bits 0..=5: total bits used by the decoded symbols (the shift count: `wrapping_shl`
/// ignores the bits above).
const LEN_MASK: u32 = 0x3f;
/// Bits 6..=7: how many symbols (0 = the 12 bits are the prefix of a longer code).
const COUNT_SHIFT: u32 = 6;
/// Bits 8..=11: the length of the first symbol alone.
const LEN1_SHIFT: u32 = 8;
/// Bits 16..=23 and 24..=31: the first and second symbol.
const SYMS_SHIFT: u32 = 16;

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
            let single = l1 | 1 << COUNT_SHIFT | l1 << LEN1_SHIFT | (s1 as u32) << SYMS_SHIFT;
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

/// Strings at least this long (encoded) are decoded as two streams.
pub(crate) const SPLIT_MIN: usize = 128;

/// How many code positions stream B records for stream A to synchronise on.
const SYNC_SYMBOLS: usize = 32;

/// The most bits one fast group consumes: a 30-bit code, or four lookups of 12.
const GROUP_MAX_BITS: usize = 48;

/// An upper bound of the decoded length of `encoded_len` octets (the shortest code is 5
/// bits), plus room for the decoder's wide stores and, for long strings, the gap between the
/// two streams' outputs. [`decode_into`] needs this much room.
#[inline]
pub(crate) fn max_decoded_len(encoded_len: usize) -> usize {
    if encoded_len >= SPLIT_MIN { split_layout(encoded_len).2 } else { bound(encoded_len) + 8 }
}

/// At least the number of 5-bit codes in `len` octets, without overflow.
#[inline]
const fn bound(len: usize) -> usize {
    len / 5 * 8 + 8
}

/// Split decoding's layout: the middle octet where stream B starts, where B's output goes
/// (past all that A may write: its half, up to `SYNC_SYMBOLS` codes of up to 30 bits = 6
/// symbols each, and store slack), and the total room needed.
#[inline]
const fn split_layout(len: usize) -> (usize, usize, usize) {
    let mid = len / 2;
    let b_start = bound(mid) + SYNC_SYMBOLS * 6 + 16;
    (mid, b_start, b_start + bound(len - mid) + 16)
}

/// Refills `buf` from the 8 octets `w` at `pos`: afterwards at least 56 bits are valid.
#[inline(always)]
fn refill(buf: &mut u64, nbits: &mut u32, pos: &mut usize, w: &[u8]) {
    let word = u64::from_be_bytes(w.try_into().unwrap_or_default());
    *buf |= word >> *nbits;
    *pos += ((63 - *nbits) >> 3) as usize;
    *nbits |= 56;
}

/// Four lookups from a freshly refilled buffer whose first entry `e` is not a long code;
/// stores the symbols in `dst` and returns their number. A long code's entry is 0: it and
/// every lookup after it are no-ops, and the next group starts with it.
#[inline(always)]
fn lookups(buf: &mut u64, nbits: &mut u32, e: u32, dst: &mut [u8; SLOT]) -> usize {
    let mut b = *buf;
    let mut nb = *nbits;
    let mut n = 0usize;
    let mut e = e;
    for i in 0..4 {
        if i > 0 {
            e = FAST[(b >> (64 - LOOKUP_BITS)) as usize];
        }
        // n ≤ 6 here; the mask only shows the compiler that the store is in bounds.
        let k = n & 7;
        dst[k..k + 2].copy_from_slice(&((e >> SYMS_SHIFT) as u16).to_le_bytes());
        n += ((e >> COUNT_SHIFT) & 3) as usize;
        // The shift count is the low 6 bits of the entry: `wrapping_shl` masks the rest.
        b = b.wrapping_shl(e);
        nb -= e & LEN_MASK;
    }
    *buf = b;
    *nbits = nb;
    n
}

/// One fast group: refills from the 8 octets `w` at `*pos` (to at least 56 valid bits) and
/// decodes a long code, or up to four lookups' worth of symbols, into `dst`. Returns how
/// many symbols it wrote. The state is passed in pieces so that callers keep it in
/// registers.
#[inline(always)]
fn group(
    buf: &mut u64,
    nbits: &mut u32,
    pos: &mut usize,
    w: &[u8],
    dst: &mut [u8; SLOT],
) -> Result<usize, DecodeError> {
    refill(buf, nbits, pos, w);
    let e = FAST[(*buf >> (64 - LOOKUP_BITS)) as usize];
    if e != 0 {
        return Ok(lookups(buf, nbits, e, dst));
    }
    let (sym, len) = decode_long(*buf);
    // req 7541-5.2-3
    if sym > 255 {
        return Err(DecodeError::InvalidHuffman);
    }
    dst[0] = sym as u8;
    *buf <<= len;
    *nbits -= len;
    Ok(1)
}

/// Output room one group needs.
const SLOT: usize = 10;

/// A bit reader over the input with a 64-bit buffer; valid bits are at the top.
struct Reader<'a> {
    src: &'a [u8],
    /// The next octet to load.
    pos: usize,
    buf: u64,
    /// Valid bits in `buf`. Bits below them hold look-ahead copies of the next input bits
    /// (never anything else), so OR-ing those octets in again is exact.
    nbits: u32,
}

impl<'a> Reader<'a> {
    fn new(src: &'a [u8], pos: usize) -> Self {
        Reader { src, pos, buf: 0, nbits: 0 }
    }

    /// The position of the next unconsumed bit in `src`.
    #[inline(always)]
    fn bit_pos(&self) -> usize {
        self.pos * 8 - self.nbits as usize
    }

    /// Decodes one symbol, applying the end-of-string rules of §5.2: `Ok(None)` at the end
    /// of the input (after valid padding). Two-stream decoding steps with this while it
    /// synchronises; the end of a string is decoded by [`decode_tail`].
    fn next_symbol(&mut self) -> Result<Option<u8>, DecodeError> {
        while self.nbits <= 48 {
            let Some(&b) = self.src.get(self.pos) else { break };
            self.buf |= u64::from(b) << (56 - self.nbits);
            self.nbits += 8;
            self.pos += 1;
        }
        let nbits = self.nbits;
        if nbits == 0 {
            return Ok(None);
        }
        if nbits < 8 {
            // Only possible at the very end: fewer than 8 bits that are all ones are padding
            // (and no code is all ones, so they cannot be a symbol).
            let mask = !0u64 << (64 - nbits);
            if self.buf & mask == mask {
                return Ok(None);
            }
        }
        // Pad the missing bits with ones: a code that fits only thanks to them is too long.
        let padded = self.buf | (!0u64 >> nbits);
        let e = FAST[(padded >> (64 - LOOKUP_BITS)) as usize];
        let (sym, len) = if e == 0 {
            decode_long(padded)
        } else {
            ((e >> SYMS_SHIFT) as u16 & 0xff, (e >> LEN1_SHIFT) & 0xf)
        };
        // req 7541-5.2-1, 7541-5.2-2, 7541-5.2-3
        if sym > 255 || len > nbits {
            return Err(DecodeError::InvalidHuffman);
        }
        self.buf <<= len;
        self.nbits -= len;
        Ok(Some(sym as u8))
    }

    /// Decodes everything up to `stop_bit` (for fast groups) and, if `to_end`, the rest,
    /// writing from `out[*o]`.
    fn run(
        &mut self,
        out: &mut [u8],
        o: &mut usize,
        stop_bit: usize,
        to_end: bool,
    ) -> Result<(), DecodeError> {
        let (mut buf, mut nbits, mut pos, mut n) = (self.buf, self.nbits, self.pos, *o);
        while pos * 8 - nbits as usize + GROUP_MAX_BITS <= stop_bit {
            let (Some(w), Some(dst)) = (self.src.get(pos..pos + 8), slot(out, n)) else { break };
            match group(&mut buf, &mut nbits, &mut pos, w, dst) {
                Ok(k) => n += k,
                Err(e) => return Err(e),
            }
        }
        (self.buf, self.nbits, self.pos, *o) = (buf, nbits, pos, n);
        if to_end {
            decode_tail(self.src, self.bit_pos(), out, o)?;
        }
        Ok(())
    }
}

/// Decodes `src` from bit `from` to its end, writing from `out[*o]`, with the end-of-string
/// rules of §5.2. This is the whole of a string shorter than 8 octets (most `:path`s) and
/// the last few octets of a longer one, so it is kept lean: the bits wait at the top of a
/// 64-bit window refilled an octet at a time, and every lookup pads the window's missing
/// bits with ones, so that a code which fits only thanks to them reads as running past the
/// end, where it is either the padding (fewer than 8 bits, all ones) or an error.
fn decode_tail(src: &[u8], from: usize, out: &mut [u8], o: &mut usize) -> Result<(), DecodeError> {
    let mut next = from / 8;
    // Real bits at the top, zeros below; at most 63 of them, so that the padding is never
    // an overlong shift.
    let mut window = 0u64;
    let mut avail = 0u32;
    let mut skip = (from % 8) as u32;
    loop {
        while avail < 56 {
            let Some(&b) = src.get(next) else { break };
            window |= u64::from(b) << (56 - avail);
            avail += 8;
            next += 1;
        }
        if skip > 0 {
            // The first octet's bits before `from` were decoded already.
            window <<= skip;
            avail = avail.saturating_sub(skip);
            skip = 0;
        }
        let padded = window | (!0u64 >> avail);
        // req 7541-5.2-1, 7541-5.2-2 (padding: fewer than 8 bits, all ones)
        if avail < 8 && padded == u64::MAX {
            return Ok(()); // the end, or valid padding
        }
        let e = FAST[(padded >> (64 - LOOKUP_BITS)) as usize];
        let (syms, count, len) = if e == 0 {
            let (sym, len) = decode_long(padded);
            (sym, 1, len)
        } else if e & LEN_MASK <= avail {
            ((e >> SYMS_SHIFT) as u16, ((e >> COUNT_SHIFT) & 3) as usize, e & LEN_MASK)
        } else {
            ((e >> SYMS_SHIFT) as u16 & 0xff, 1, (e >> LEN1_SHIFT) & 0xf)
        };
        // req 7541-5.2-1, 7541-5.2-2, 7541-5.2-3
        // A code running past the end (a truncated code or overlong padding), or EOS.
        if len > avail || (count == 1 && syms > 255) {
            return Err(DecodeError::InvalidHuffman);
        }
        let dst = out.get_mut(*o..*o + 2).ok_or(DecodeError::InvalidHuffman)?;
        dst.copy_from_slice(&syms.to_le_bytes());
        *o += count;
        window <<= len;
        avail -= len;
    }
}

/// Decodes `src` into `out` (at least [`max_decoded_len`]`(src.len())` long) and returns
/// the decoded length.
pub(crate) fn decode_into(src: &[u8], out: &mut [u8]) -> Result<usize, DecodeError> {
    if src.len() >= SPLIT_MIN && out.len() >= max_decoded_len(src.len()) {
        if let Some(n) = decode_split(src, out)? {
            return Ok(n);
        }
    }
    let mut o = 0;
    Reader::new(src, 0).run(out, &mut o, usize::MAX, true)?;
    Ok(o)
}

/// Two-stream decoding (see the module docs). `Ok(None)`: could not synchronise, decode
/// sequentially instead.
fn decode_split(src: &[u8], out: &mut [u8]) -> Result<Option<usize>, DecodeError> {
    let (mid, b_start, _) = split_layout(src.len());
    let mid_bit = mid * 8;
    let out_b = out.get_mut(b_start..).ok_or(DecodeError::InvalidHuffman)?;

    // B: record where its first codes start (a decoding error here only means that the
    // middle is not a code boundary, or that the error is A's to find).
    let mut b = Reader::new(src, mid);
    let mut starts = [0usize; SYNC_SYMBOLS];
    let mut ob = 0;
    for start in starts.iter_mut() {
        *start = b.bit_pos();
        match (b.next_symbol(), out_b.get_mut(ob)) {
            (Ok(Some(sym)), Some(dst)) => {
                *dst = sym;
                ob += 1;
            }
            _ => return Ok(None),
        }
    }

    // Both streams, interleaved: A up to the middle, B to the end of the fast region.
    let mut a = Reader::new(src, 0);
    let mut oa = 0;
    let mut ob = b_start + ob;
    let mut b_error = run_pair(&mut a, &mut b, out, &mut oa, &mut ob, b_start, mid_bit)?;
    a.run(&mut out[..b_start], &mut oa, mid_bit, false)?;
    if b_error.is_none() {
        b_error = b.run(out, &mut ob, usize::MAX, true).err();
    }

    // A, one symbol at a time, until it lands on one of B's recorded starts.
    let mut j = 0;
    loop {
        let p = a.bit_pos();
        while j < SYNC_SYMBOLS && starts[j] < p {
            j += 1;
        }
        if j == SYNC_SYMBOLS {
            return Ok(None);
        }
        if starts[j] == p {
            break;
        }
        match a.next_symbol()? {
            Some(sym) if oa < b_start => {
                out[oa] = sym;
                oa += 1;
            }
            Some(_) => return Ok(None), // unreachable: `split_layout` leaves room
            None => return Ok(None),    // unreachable: B's starts lie before the end
        }
    }
    // Synchronised at B's j-th symbol: everything B decoded from there on is right,
    // including any error it found.
    if let Some(e) = b_error {
        return Err(e);
    }
    out.copy_within(b_start + j..ob, oa);
    Ok(Some(oa + ob - b_start - j))
}

/// Runs streams A and B in lockstep, their lookups interleaved so that the CPU works on both
/// dependency chains at once, while A stays before `a_stop`, A's output below `b_start`,
/// and both have 8 octets to load. Returns B's error, if it hit one.
fn run_pair(
    a: &mut Reader<'_>,
    b: &mut Reader<'_>,
    out: &mut [u8],
    oa: &mut usize,
    ob: &mut usize,
    b_start: usize,
    a_stop: usize,
) -> Result<Option<DecodeError>, DecodeError> {
    let src = a.src;
    let (out_a, out_b) = out.split_at_mut(b_start);
    // The streams' state lives in locals (registers) for the whole loop.
    let (mut abuf, mut anb, mut apos, mut ao) = (a.buf, a.nbits, a.pos, *oa);
    let (mut bbuf, mut bnb, mut bpos, mut bo) = (b.buf, b.nbits, b.pos, *ob - b_start);
    let mut b_error = None;
    while apos * 8 - anb as usize + GROUP_MAX_BITS <= a_stop {
        let (Some(wa), Some(wb), Some(da), Some(db)) =
            (src.get(apos..apos + 8), src.get(bpos..bpos + 8), slot(out_a, ao), slot(out_b, bo))
        else {
            break;
        };
        ao += group(&mut abuf, &mut anb, &mut apos, wa, da)?;
        match group(&mut bbuf, &mut bnb, &mut bpos, wb, db) {
            Ok(k) => bo += k,
            Err(e) => {
                b_error = Some(e);
                break;
            }
        }
    }
    (a.buf, a.nbits, a.pos, *oa) = (abuf, anb, apos, ao);
    (b.buf, b.nbits, b.pos, *ob) = (bbuf, bnb, bpos, b_start + bo);
    Ok(b_error)
}

/// The output slot at `o`, if there is room.
#[inline(always)]
fn slot(out: &mut [u8], o: usize) -> Option<&mut [u8; SLOT]> {
    out.get_mut(o..o + SLOT).and_then(|d| d.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header text resynchronises: the two-stream path completes instead of falling back.
    #[test]
    fn split_path_synchronises_on_text() {
        let text = b"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.8; rv:16.0) Gecko/20100101 Firefox/16.0, \
            text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8 https://www.example.com/a/b?c=d";
        let mut wire = Vec::new();
        super::super::encode(text, &mut wire);
        assert!(wire.len() >= SPLIT_MIN);
        let mut out = vec![0; max_decoded_len(wire.len())];
        let n = decode_split(&wire, &mut out).unwrap().expect("synchronised");
        assert_eq!(&out[..n], &text[..]);
    }
}
