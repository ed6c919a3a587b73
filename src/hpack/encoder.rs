//! The header block encoder (RFC 7541 §3, §6) and its indexing policy.

use super::encoder_table::{EncoderTable, Hashes};
use super::field::FieldRef;
use super::repeated_head::RepeatedHead;
use super::static_table::{STATIC_TABLE, find_name};
use super::table::DEFAULT_TABLE_SIZE;
use super::{huffman, integer};
use bytes::BytesMut;

/// Encodes header blocks, keeping a dynamic table in step with the peer's decoder.
///
/// # What it sends
/// For each field, the shortest of the representations it allows itself:
/// * an index, for a full match in the static table or the dynamic table;
/// * otherwise a literal, naming the field by index when the name is in a table (static
///   first: its indexes are shorter), and adding it to the dynamic table if the policy
///   below says the field is likely to repeat;
/// * every string as Huffman code only when that is strictly shorter (§5.2).
///
/// # Indexing policy
/// Tuned on the hpack-test-case corpus, where it encodes the `raw-data` stories in fewer
/// bytes than nghttp2's encoder (see `tests/hpack_test_case.rs`):
/// * **never indexed** (§6.2.3, §7.1.3): fields the caller marks sensitive
///   ([`FieldRef::sensitive`]), `authorization`, `proxy-authorization`, and `cookie` values
///   shorter than 20 octets (short enough to guess by probing the table);
/// * **not indexed** (§6.2.2): values that are typically unique per message and would
///   only evict useful entries: `:path`, `content-length`, `etag`, `age`,
///   `if-modified-since`, `if-none-match`, `set-cookie` (plain "without indexing", not
///   "never indexed": they are not secret from intermediaries, but `set-cookie` is kept out
///   of our table so that its value cannot be probed), and any field larger than 3/4 of
///   the table;
/// * everything else is indexed — including `location`, which nghttp2 does not index but
///   which repeats often (redirects to the same login or canonical page): indexing it saves
///   0.3% over the corpus. Other per-name tweaks measured there gained under 0.1% and were
///   left out as over-fitting.
///
/// # Table size
/// The table is `min(peer's SETTINGS_HEADER_TABLE_SIZE, our limit)`, with a default limit
/// of 4096 ([`Encoder::set_table_size_limit`]): a larger table buys little compression and
/// costs memory per connection. Size changes are signalled at the start of the next block
/// (§4.2, §6.3).
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use h2proto::hpack::{Decoder, Encoder, FieldRef};
///
/// let mut encoder = Encoder::new();
/// let mut block = BytesMut::new();
/// encoder.encode([FieldRef::new(b":method", b"GET"), FieldRef::new(b"x-id", b"42")], &mut block);
///
/// let mut decoder = Decoder::new();
/// let mut fields = Vec::new();
/// decoder.decode(&block.freeze(), |f| fields.push(f)).unwrap();
/// assert_eq!(fields[1].value, Bytes::from_static(b"42"));
/// ```
#[derive(Debug)]
pub struct Encoder {
    table: EncoderTable,
    /// Our own cap on the table size.
    limit: usize,
    /// The peer's SETTINGS_HEADER_TABLE_SIZE.
    peer_max: usize,
    /// The table size the peer's decoder currently assumes (last signalled, initially 4096).
    announced: usize,
    /// The smallest table size since the last block, if it changed (§4.2).
    pending_min: Option<usize>,
    huffman: bool,
    /// Counts the changes that can make the same fields encode differently (table
    /// entries, sizes, Huffman use).
    generation: u64,
    /// The last head (response or request) that changed nothing, and its encoding.
    repeated: RepeatedHead,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

/// How a literal is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Indexing {
    /// §6.2.1: and added to both tables.
    Index,
    /// §6.2.2.
    NoIndex,
    /// §6.2.3.
    Never,
}

// Static table indexes the policy looks at.
const PATH: usize = 4;
const AGE: usize = 21;
const AUTHORIZATION: usize = 23;
const CONTENT_LENGTH: usize = 28;
const COOKIE: usize = 32;
const ETAG: usize = 34;
const IF_MODIFIED_SINCE: usize = 40;
const IF_NONE_MATCH: usize = 41;
const PROXY_AUTHORIZATION: usize = 49;
const SET_COOKIE: usize = 55;

/// Cookies shorter than this are never indexed (nghttp2 and RFC 7541 §7.1.3's advice).
const MIN_INDEXED_COOKIE: usize = 20;

/// Whether a field with this static name index may ever be in the dynamic table (if not,
/// looking there is pointless).
#[inline]
fn name_indexable(static_index: Option<usize>) -> bool {
    !matches!(
        static_index,
        Some(
            PATH | AGE
                | AUTHORIZATION
                | CONTENT_LENGTH
                | ETAG
                | IF_MODIFIED_SINCE
                | IF_NONE_MATCH
                | PROXY_AUTHORIZATION
                | SET_COOKIE
        )
    )
}

#[inline]
fn policy(static_index: Option<usize>, field: &FieldRef<'_>, table_max: usize) -> Indexing {
    // req 7541-6.2.3-2, 7541-6.2.3-1, 7541-6.2.3-3, 7541-7.1.3-1, 7541-7.1.3-2
    // req 9113-10.6-1, 9113-10.6-2
    if field.sensitive {
        return Indexing::Never;
    }
    match static_index {
        // req 9113-10.6-1
        Some(AUTHORIZATION | PROXY_AUTHORIZATION) => return Indexing::Never,
        Some(COOKIE) if field.value.len() < MIN_INDEXED_COOKIE => return Indexing::Never,
        _ if !name_indexable(static_index) => return Indexing::NoIndex,
        _ => {}
    }
    if EncoderTable::entry_size(field.name, field.value) > table_max / 4 * 3 {
        Indexing::NoIndex
    } else {
        Indexing::Index
    }
}

impl Encoder {
    /// An encoder for a peer with the default SETTINGS_HEADER_TABLE_SIZE of 4096.
    /// Allocates nothing until it indexes a field.
    pub fn new() -> Self {
        Encoder {
            table: EncoderTable::new(DEFAULT_TABLE_SIZE),
            limit: DEFAULT_TABLE_SIZE,
            peer_max: DEFAULT_TABLE_SIZE,
            announced: DEFAULT_TABLE_SIZE,
            pending_min: None,
            huffman: true,
            generation: 0,
            repeated: RepeatedHead::default(),
        }
    }

    /// The peer's SETTINGS_HEADER_TABLE_SIZE changed: the table shrinks or grows to
    /// `min(max, limit)` now, and the next block starts with the size update(s) — the
    /// smallest size reached since the previous block first, if it was smaller (§4.2).
    pub fn set_max_table_size(&mut self, max: usize) {
        self.peer_max = max;
        self.resize();
    }

    /// Caps the table size we use, whatever the peer allows (default 4096).
    pub fn set_table_size_limit(&mut self, limit: usize) {
        self.limit = limit;
        self.resize();
    }

    /// Turns Huffman coding of strings on (the default) or off.
    pub fn set_use_huffman(&mut self, enabled: bool) {
        self.generation += 1;
        self.huffman = enabled;
    }

    /// The current size of the dynamic table per §4.1.
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's maximum size: `min(peer's setting, limit)`.
    pub fn max_table_size(&self) -> usize {
        self.table.max_size()
    }

    fn resize(&mut self) {
        self.generation += 1;
        // req 7541-4.2-1, 7541-6.3-1
        let size = self.peer_max.min(self.limit);
        self.table.set_max_size(size);
        self.pending_min = Some(self.pending_min.map_or(size, |m| m.min(size)));
    }

    /// Appends one header block holding `fields`, in order, to `dst`.
    pub fn encode<'a, I>(&mut self, fields: I, dst: &mut BytesMut)
    where
        I: IntoIterator<Item = FieldRef<'a>>,
    {
        self.start_block(dst);
        for field in fields {
            // req 7541-2.1-1
            self.encode_field(&field, dst);
        }
    }

    /// Begins a header block: the table size updates owed since the last one (§4.2). The
    /// block's fields follow through [`encode_field`](Self::encode_field) and the
    /// `encode_*` shortcuts.
    pub(crate) fn start_block(&mut self, dst: &mut BytesMut) {
        // req 7541-4.2-2
        if let Some(min) = self.pending_min.take() {
            let size = self.table.max_size();
            // req 7541-4.2-3
            if min < self.announced.min(size) {
                integer::encode(min, 5, 0x20, dst);
                if size != min {
                    integer::encode(size, 5, 0x20, dst);
                }
            } else if size != self.announced {
                integer::encode(size, 5, 0x20, dst);
            }
            self.announced = size;
        }
    }

    /// `:status` with the three digits of `status` (100–999): what
    /// [`encode_field`](Self::encode_field) sends for it, without looking the name up. The
    /// seven statuses in the static table are one octet.
    pub(crate) fn encode_status(&mut self, status: u16, dst: &mut BytesMut) {
        let index = match status {
            200 => 8,
            204 => 9,
            206 => 10,
            304 => 11,
            400 => 12,
            404 => 13,
            500 => 14,
            _ => {
                let digits = [
                    b'0' + (status / 100 % 10) as u8,
                    b'0' + (status / 10 % 10) as u8,
                    b'0' + (status % 10) as u8,
                ];
                return self.encode_field(&FieldRef::new(b":status", &digits), dst);
            }
        };
        dst.reserve(1);
        integer::encode(index, 7, 0x80, dst);
    }

    /// Encodes a message head, after [`start_block`](Self::start_block): a response's
    /// `:status` (if `status` is given) and `fields`, which for a request include its
    /// pseudo-header fields. A head that repeats the last one, with nothing changed in the
    /// table since, is copied from its earlier encoding (see `repeated_head.rs`).
    pub(crate) fn encode_head(
        &mut self,
        status: Option<u16>,
        fields: &[FieldRef<'_>],
        dst: &mut BytesMut,
    ) {
        if let Some(encoded) = self.repeated.get(self.generation, status, fields) {
            dst.extend_from_slice(encoded);
            return;
        }
        let (generation, start) = (self.generation, dst.len());
        if let Some(status) = status {
            self.encode_status(status, dst);
        }
        for field in fields {
            // req 7541-2.1-1
            self.encode_field(field, dst);
        }
        if self.generation == generation {
            self.repeated.keep(generation, status, fields, &dst[start..]);
        } else {
            self.repeated.clear();
        }
    }

    /// Whether `status` and `fields` would be copied from the kept head.
    #[cfg(test)]
    pub(crate) fn repeats(&self, status: Option<u16>, fields: &[FieldRef<'_>]) -> bool {
        self.repeated.get(self.generation, status, fields).is_some()
    }

    /// `content-length` with the decimal `digits`: what [`encode_field`](Self::encode_field)
    /// sends for it (the static name, never added to the table: see the policy), without
    /// looking the name up.
    pub(crate) fn encode_content_length(&mut self, digits: &[u8], dst: &mut BytesMut) {
        debug_assert!(!digits.is_empty() && digits.iter().all(u8::is_ascii_digit));
        dst.reserve(digits.len() + 2 * integer::MAX_ENCODED_LEN);
        integer::encode(CONTENT_LENGTH, 4, 0x00, dst);
        self.put_string(digits, dst);
    }

    /// Appends one field of the current block.
    pub(crate) fn encode_field(&mut self, field: &FieldRef<'_>, dst: &mut BytesMut) {
        let (name, value) = (field.name, field.value);
        dst.reserve(name.len() + value.len() + 2 * integer::MAX_ENCODED_LEN);
        let static_name = find_name(name);
        let static_index = static_name.map(|(first, _)| first);
        // req 7541-6.2.3-2 (a sensitive field is never sent as an index)
        if let (Some((first, count)), false) = (static_name, field.sensitive) {
            for index in first..first + count {
                if STATIC_TABLE[index - 1].1 == value {
                    integer::encode(index, 7, 0x80, dst);
                    return;
                }
            }
        }
        let indexing = policy(static_index, field, self.table.max_size());
        let mut hashes = None;
        let mut dynamic_name = None;
        if name_indexable(static_index) && self.table.size() > 0 {
            let h = Hashes::of(name, value);
            hashes = Some(h);
            let found = self.table.find(name, value, h);
            // req 7541-6.2.3-2
            if let (Some(i), false) = (found.full, indexing == Indexing::Never) {
                integer::encode(STATIC_TABLE.len() + 1 + i, 7, 0x80, dst);
                return;
            }
            dynamic_name = found.name.map(|i| STATIC_TABLE.len() + 1 + i);
        }
        let name_index = static_index.or(dynamic_name);
        let (prefix, flags) = match indexing {
            Indexing::Index => (6, 0x40),
            Indexing::NoIndex => (4, 0x00),
            Indexing::Never => (4, 0x10),
        };
        match name_index {
            Some(i) => integer::encode(i, prefix, flags, dst),
            None => {
                integer::encode(0, prefix, flags, dst);
                self.put_string(name, dst);
            }
        }
        self.put_string(value, dst);
        if indexing == Indexing::Index {
            let h = hashes.unwrap_or_else(|| Hashes::of(name, value));
            self.generation += 1;
            self.table.insert(name, value, h);
        }
    }

    /// §5.2: a string literal, Huffman-coded only if strictly shorter.
    #[inline]
    fn put_string(&self, s: &[u8], dst: &mut BytesMut) {
        if self.huffman {
            let len = huffman::encoded_len(s);
            if len < s.len() {
                integer::encode(len, 7, 0x80, dst);
                let start = dst.len();
                dst.resize(start + len, 0);
                huffman::encode_into(s, &mut dst[start..]);
                return;
            }
        }
        integer::encode(s.len(), 7, 0x00, dst);
        dst.extend_from_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_indexes_name_the_static_table() {
        for (index, name) in [
            (PATH, ":path"),
            (AGE, "age"),
            (AUTHORIZATION, "authorization"),
            (CONTENT_LENGTH, "content-length"),
            (COOKIE, "cookie"),
            (ETAG, "etag"),
            (IF_MODIFIED_SINCE, "if-modified-since"),
            (IF_NONE_MATCH, "if-none-match"),
            (PROXY_AUTHORIZATION, "proxy-authorization"),
            (SET_COOKIE, "set-cookie"),
        ] {
            assert_eq!(STATIC_TABLE[index - 1].0, name.as_bytes());
            assert_eq!(find_name(name.as_bytes()).map(|(i, _)| i), Some(index));
        }
    }
}
