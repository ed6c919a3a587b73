//! The decoder's dynamic table (RFC 7541 §2.3.2, §4).
//!
//! Entries are kept newest first in a `VecDeque` (HPACK index 62 is `entries[0]`), with the
//! size accounting of §4.1 (name + value + 32 per entry) and eviction from the oldest end
//! (§4.4). An entry larger than the whole table empties it and is not added.
//!
//! Inserted strings are *copied* into a table-owned arena instead of keeping slices of the
//! peer's header block: a 10-byte entry must not pin a 16 KiB frame buffer. The arena is a
//! `BytesMut` chunk of up to 4 KiB that entries are split off (one allocation per chunk, an
//! atomic increment per entry); because eviction is FIFO, the live entries are a contiguous
//! run of insertions and span at most three chunks, so the memory the table pins stays within
//! a small multiple of its maximum size. Names from the static table are not copied at all.

use super::field::ENTRY_OVERHEAD;
use super::static_table::STATIC_TABLE;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// The largest arena chunk, and the default table size (SETTINGS_HEADER_TABLE_SIZE's
/// initial value, RFC 9113 §6.5.2).
pub(crate) const DEFAULT_TABLE_SIZE: usize = 4096;

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: Bytes,
    pub(crate) value: Bytes,
}

/// Where the name of a new entry comes from.
pub(crate) enum NewName<'a> {
    /// A static-table name: kept as `Bytes::from_static`, not copied.
    Static(&'static [u8]),
    /// Anything else: copied into the arena.
    Copy(&'a [u8]),
}

#[derive(Debug)]
pub(crate) struct DynamicTable {
    entries: VecDeque<Entry>,
    size: usize,
    max_size: usize,
    arena: BytesMut,
    /// Entries ever inserted: the newest entry is number `inserted - 1`.
    inserted: u64,
}

/// Entry numbers (see `FieldView::table_entry`) of dynamic entries start above the static
/// table's indexes.
const FIRST_DYNAMIC_ENTRY: u64 = STATIC_TABLE.len() as u64 + 1;

impl DynamicTable {
    pub(crate) fn new(max_size: usize) -> Self {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size,
            arena: BytesMut::new(),
            inserted: 0,
        }
    }

    /// The current size per §4.1.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entry at dynamic index `i` (0 = newest = HPACK index 62).
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&Entry> {
        self.entries.get(i)
    }

    /// The number (unique for the table's life) of the entry at dynamic index `i`, which
    /// must exist.
    #[inline]
    pub(crate) fn entry_number(&self, i: usize) -> u64 {
        FIRST_DYNAMIC_ENTRY + self.inserted - 1 - i as u64
    }

    /// §4.3: a new maximum evicts from the oldest end until the table fits.
    pub(crate) fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
        if self.entries.is_empty() {
            // Nothing pins the arena any more through the table; drop our handle on it.
            self.arena = BytesMut::new();
            self.entries.shrink_to_fit();
        }
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            match self.entries.pop_back() {
                Some(e) => self.size -= e.name.len() + e.value.len() + ENTRY_OVERHEAD,
                None => {
                    self.size = 0;
                    break;
                }
            }
        }
    }

    /// §4.4: adds an entry, evicting as needed. Returns the stored name and value, or
    /// `None` if the entry is larger than the table (which is then empty).
    pub(crate) fn insert(&mut self, name: NewName<'_>, value: &[u8]) -> Option<(Bytes, Bytes)> {
        let name_len = match name {
            NewName::Static(n) | NewName::Copy(n) => n.len(),
        };
        let entry_size = name_len.saturating_add(value.len()).saturating_add(ENTRY_OVERHEAD);
        if entry_size > self.max_size {
            self.evict_to(0);
            return None;
        }
        self.evict_to(self.max_size - entry_size);
        let name = match name {
            NewName::Static(n) => Bytes::from_static(n),
            NewName::Copy(n) => self.copy(n),
        };
        let value = self.copy(value);
        self.size += entry_size;
        self.inserted += 1;
        // req 7541-2.3.2-1, 7541-3.2-1 (inserted at the front, duplicates or not)
        self.entries.push_front(Entry { name: name.clone(), value: value.clone() });
        Some((name, value))
    }

    fn copy(&mut self, s: &[u8]) -> Bytes {
        if s.is_empty() {
            return Bytes::new();
        }
        if self.arena.capacity() - self.arena.len() < s.len() {
            let chunk = self.max_size.min(DEFAULT_TABLE_SIZE).max(s.len());
            self.arena = BytesMut::with_capacity(chunk);
        }
        self.arena.extend_from_slice(s);
        self.arena.split().freeze()
    }
}
