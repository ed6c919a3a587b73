//! Huffman code tests: the table against Appendix B, every symbol, and the §5.2 errors.

use super::table::CODES;
use super::*;

fn enc(src: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    encode(src, &mut v);
    v
}

fn dec(src: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut v = Vec::new();
    decode(src, &mut v).map(|()| v)
}

/// A bit-at-a-time reference decoder straight from the code list.
fn reference_decode(src: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let (mut code, mut len) = (0u32, 0u8);
    for i in 0..src.len() * 8 {
        code = code << 1 | u32::from(src[i / 8] >> (7 - i % 8) & 1);
        len += 1;
        if let Some(sym) = CODES.iter().position(|&(c, l)| l == len && c == code) {
            if sym == 256 {
                return Err(DecodeError::InvalidHuffman);
            }
            out.push(sym as u8);
            code = 0;
            len = 0;
        }
    }
    if len > 7 || code != (1 << len) - 1 {
        return Err(DecodeError::InvalidHuffman);
    }
    Ok(out)
}

#[test]
fn code_table_is_prefix_free_canonical_and_eos_is_all_ones() {
    assert_eq!(CODES[256], (0x3fff_ffff, 30));
    // Canonical: ordered by (length, symbol), each code is the previous plus one, shifted.
    let mut order: Vec<usize> = (0..257).collect();
    order.sort_by_key(|&s| (CODES[s].1, s));
    let mut expect = 0u32;
    let mut prev_len = CODES[order[0]].1;
    for (i, &s) in order.iter().enumerate() {
        let (code, len) = CODES[s];
        if i > 0 {
            expect = (expect + 1) << (len - prev_len);
        }
        assert_eq!(code, expect, "symbol {s}");
        assert!((5..=30).contains(&len));
        prev_len = len;
    }
}

#[test]
fn every_symbol_round_trips_alone_and_between_others() {
    for s in 0..=255u8 {
        let one = [s];
        assert_eq!(dec(&enc(&one)).unwrap(), one, "symbol {s}");
        // Exercise the fast path too: surrounded by enough input for the wide refill.
        let many: Vec<u8> =
            b"abcdefgh".iter().copied().chain([s, s, s]).chain(*b"0123456789/").collect();
        assert_eq!(dec(&enc(&many)).unwrap(), many, "symbol {s}");
    }
}

#[test]
fn all_257_codes_decode_as_their_symbol() {
    for (sym, &(code, len)) in CODES.iter().enumerate() {
        // Left-align the code and pad with ones to the next octet.
        let pad = (8 - len % 8) % 8;
        let bits = (u64::from(code) << pad) | ((1 << pad) - 1);
        let n = usize::from((len + pad) / 8);
        let bytes: Vec<u8> = (0..n).map(|i| (bits >> (8 * (n - 1 - i))) as u8).collect();
        let got = dec(&bytes);
        if sym == 256 {
            assert_eq!(got, Err(DecodeError::InvalidHuffman));
        } else {
            assert_eq!(got, Ok(vec![sym as u8]), "symbol {sym}");
            assert_eq!(enc(&[sym as u8]), bytes);
        }
    }
}

#[test]
fn all_byte_values_in_one_string() {
    let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let e = enc(&all);
    assert_eq!(e.len(), encoded_len(&all));
    assert_eq!(dec(&e).unwrap(), all);
    assert_eq!(reference_decode(&e).unwrap(), all);
}

/// RFC 7541 §C.4.1 and §C.6.1 strings.
#[test]
fn rfc_examples() {
    let cases: [(&[u8], &str); 5] = [
        (b"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"),
        (b"no-cache", "a8eb10649cbf"),
        (b"custom-key", "25a849e95ba97d7f"),
        (b"Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"),
        (b"https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"),
    ];
    for (text, hex) in cases {
        let wire: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(enc(text), wire);
        assert_eq!(encoded_len(text), wire.len());
        assert_eq!(dec(&wire).unwrap(), text);
    }
}

#[test]
fn empty_string() {
    assert_eq!(enc(b""), b"");
    assert_eq!(dec(b"").unwrap(), b"");
}

/// §5.2: "A Huffman-encoded string literal containing the EOS symbol MUST be treated as a
/// decoding error."
#[test]
fn eos_in_string_is_rejected() {
    // 'a' (00011) then EOS (30 ones) then one bit of padding: 36 bits -> 5 octets.
    let bits: u64 = (0b00011 << 31) | (0x3fff_ffff << 1) | 1;
    let bytes: Vec<u8> = (0..5).map(|i| (bits >> (8 * (4 - i))) as u8).collect();
    assert_eq!(dec(&bytes), Err(DecodeError::InvalidHuffman));
    // EOS alone (30 ones + 2 padding ones), and EOS in the fast path.
    assert_eq!(dec(&[0xff; 4]), Err(DecodeError::InvalidHuffman));
    let mut long = enc(b"abcdefghijklmnop");
    long.truncate(4);
    long.extend_from_slice(&[0xff; 12]);
    assert_eq!(dec(&long), Err(DecodeError::InvalidHuffman));
}

/// §5.2: "A padding strictly longer than 7 bits MUST be treated as a decoding error."
#[test]
fn padding_longer_than_seven_bits_is_rejected() {
    // '0' is 00000: 5 bits + 3 ones of padding is fine, + 11 ones is not.
    assert_eq!(dec(&[0b0000_0111]).unwrap(), b"0");
    assert_eq!(dec(&[0b0000_0111, 0xff]), Err(DecodeError::InvalidHuffman));
    // A whole octet of padding after a complete string.
    let mut e = enc(b"www.example.com");
    e.push(0xff);
    assert_eq!(dec(&e), Err(DecodeError::InvalidHuffman));
}

/// §5.2: "A padding not corresponding to the most significant bits of the code for the EOS
/// symbol MUST be treated as a decoding error."
#[test]
fn padding_not_all_ones_is_rejected() {
    assert_eq!(dec(&[0b0000_0110]), Err(DecodeError::InvalidHuffman));
    assert_eq!(dec(&[0b0000_0011]), Err(DecodeError::InvalidHuffman));
    let mut e = enc(b"custom-key");
    *e.last_mut().unwrap() &= 0xfe;
    assert_eq!(dec(&e), Err(DecodeError::InvalidHuffman));
}

#[test]
fn matches_reference_on_pseudo_random_input() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in 0..300 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly ones so that long codes and EOS show up too.
                (x as u8) | (x >> 8) as u8
            })
            .collect();
        assert_eq!(dec(&bytes), reference_decode(&bytes), "{bytes:02x?}");
    }
}

#[test]
fn decode_appends_and_leaves_dst_alone_on_error() {
    let mut dst = BytesMut::from(&b"x:"[..]);
    decode(&enc(b"hello"), &mut dst).unwrap();
    assert_eq!(&dst[..], b"x:hello");
    assert_eq!(decode(&[0xff; 4], &mut dst), Err(DecodeError::InvalidHuffman));
    assert_eq!(&dst[..], b"x:hello");
}

/// Long strings take the two-stream path: compare with the reference decoder on valid
/// strings, damaged ones (a flipped bit, a cut) and garbage, around `SPLIT_MIN`.
#[test]
fn split_decoding_matches_reference() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=% \"<>\\^`{|}";
    for round in 0..400 {
        let len = 100 + (next() % 900) as usize;
        let text: Vec<u8> = (0..len)
            .map(|_| {
                let r = next();
                if r % 50 == 0 {
                    (r >> 8) as u8
                } else {
                    alphabet[(r >> 8) as usize % alphabet.len()]
                }
            })
            .collect();
        let mut wire = enc(&text);
        assert_eq!(dec(&wire).unwrap(), text, "round {round}");
        match round % 4 {
            0 => {}
            1 => {
                let bit = next() as usize % (wire.len() * 8);
                wire[bit / 8] ^= 0x80 >> (bit % 8);
            }
            2 => wire.truncate(wire.len() - 1 - next() as usize % 8),
            _ => wire.iter_mut().for_each(|b| *b = next() as u8 | (next() as u8 & 0xf0)),
        }
        assert_eq!(dec(&wire), reference_decode(&wire), "round {round}");
    }
}

/// Strings shorter than 8 octets are decoded by the tail path alone: every bit flip and
/// every cut of short encoded texts decodes as the reference decoder says.
#[test]
fn short_strings_and_their_damage_match_reference() {
    let texts: &[&[u8]] =
        &[b"/", b"/bytes/13", b"/index.html", b"GET", b"h2", b"\x00\xff", b"~~~|"];
    for text in texts {
        let wire = enc(text);
        assert_eq!(dec(&wire).unwrap(), *text);
        for bit in 0..wire.len() * 8 {
            let mut damaged = wire.clone();
            damaged[bit / 8] ^= 0x80 >> (bit % 8);
            assert_eq!(dec(&damaged), reference_decode(&damaged), "{text:?} bit {bit}");
        }
        for cut in 0..wire.len() {
            assert_eq!(dec(&wire[..cut]), reference_decode(&wire[..cut]), "{text:?} cut {cut}");
        }
    }
}
