//! The encoder's dynamic table (RFC 7541 §2.3.2, §4) with the lookup the encoder needs.
//!
//! Mirrors the peer decoder's table exactly (same sizes, same eviction), and answers "which
//! index holds this name and value, or at least this name?". Each entry keeps a 64-bit hash
//! of its name and of name + value, so a lookup is a scan of a few dozen integers with a byte
//! comparison only on a hash hit; a 4 KiB table rarely holds more than ~60 entries. Each
//! entry is one allocation holding name and value back to back.

use super::field::ENTRY_OVERHEAD;
use std::collections::VecDeque;

#[derive(Debug)]
struct Entry {
    hash: u64,
    name_hash: u64,
    name_len: usize,
    data: Box<[u8]>,
}

impl Entry {
    fn name(&self) -> &[u8] {
        &self.data[..self.name_len]
    }
    fn value(&self) -> &[u8] {
        &self.data[self.name_len..]
    }
    fn size(&self) -> usize {
        self.data.len() + ENTRY_OVERHEAD
    }
}

/// The hashes of a field, computed once per field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hashes {
    pub(crate) name: u64,
    pub(crate) full: u64,
}

impl Hashes {
    #[inline]
    pub(crate) fn of(name: &[u8], value: &[u8]) -> Self {
        let name = hash(0x243f_6a88_85a3_08d3, name);
        Hashes { name, full: hash(name, value) }
    }
}

/// A small multiplicative hash, 8 bytes per step (quality only needs to keep false hits
/// rare: every hit is confirmed by comparing bytes).
#[inline]
fn hash(seed: u64, s: &[u8]) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let mut h = (seed ^ s.len() as u64).wrapping_mul(K);
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(23);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(23);
    }
    h
}

/// The result of a lookup: dynamic indexes (0 = newest).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Found {
    pub(crate) full: Option<usize>,
    pub(crate) name: Option<usize>,
}

#[derive(Debug)]
pub(crate) struct EncoderTable {
    entries: VecDeque<Entry>,
    size: usize,
    max_size: usize,
}

impl EncoderTable {
    pub(crate) fn new(max_size: usize) -> Self {
        EncoderTable { entries: VecDeque::new(), size: 0, max_size }
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    /// The newest entry holding `name` and `value`, and the newest holding `name`.
    #[inline]
    pub(crate) fn find(&self, name: &[u8], value: &[u8], h: Hashes) -> Found {
        let mut found = Found::default();
        for (i, e) in self.entries.iter().enumerate() {
            if e.name_hash != h.name {
                continue;
            }
            if e.hash == h.full && e.name() == name && e.value() == value {
                found.full = Some(i);
                found.name.get_or_insert(i);
                return found;
            }
            if found.name.is_none() && e.name() == name {
                found.name = Some(i);
            }
        }
        found
    }

    /// The size an entry for `name` and `value` takes (§4.1).
    pub(crate) fn entry_size(name: &[u8], value: &[u8]) -> usize {
        name.len() + value.len() + ENTRY_OVERHEAD
    }

    /// §4.4: adds an entry, evicting the oldest as needed; one larger than the table empties it.
    pub(crate) fn insert(&mut self, name: &[u8], value: &[u8], h: Hashes) {
        let size = Self::entry_size(name, value);
        if size > self.max_size {
            self.evict_to(0);
            return;
        }
        self.evict_to(self.max_size - size);
        let mut data = Vec::with_capacity(name.len() + value.len());
        data.extend_from_slice(name);
        data.extend_from_slice(value);
        self.entries.push_front(Entry {
            hash: h.full,
            name_hash: h.name,
            name_len: name.len(),
            data: data.into_boxed_slice(),
        });
        self.size += size;
    }

    /// §4.3: a new maximum evicts from the oldest end until the table fits.
    pub(crate) fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
        if self.entries.is_empty() {
            self.entries.shrink_to_fit();
        }
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            match self.entries.pop_back() {
                Some(e) => self.size -= e.size(),
                None => {
                    self.size = 0;
                    break;
                }
            }
        }
    }
}
