//! The header block decoder (RFC 7541 §3, §6).

use super::field::{ENTRY_OVERHEAD, Field, FieldView};
use super::static_table::{STATIC_BYTES, STATIC_TABLE};
use super::table::{DEFAULT_TABLE_SIZE, DynamicTable, NewName};
use super::{DecodeError, huffman, integer};
use bytes::{Bytes, BytesMut};
use std::ops::Range;

/// The default cap on the decoded header list size: 64 KiB, counted as in RFC 9113 §6.5.2
/// (name + value + 32 per field). Generous for real traffic (the largest header list in the
/// hpack-test-case corpus is far below it), small enough that a flood of headers is refused
/// early. The connection layer normally sets it from its SETTINGS_MAX_HEADER_LIST_SIZE.
pub const DEFAULT_MAX_HEADER_LIST_SIZE: usize = 64 * 1024;

/// Huffman-decoded strings are cut from arena chunks of at least this size.
const SCRATCH_CHUNK: usize = 2048;

/// Decodes header blocks, keeping the dynamic table in step with the peer's encoder.
///
/// One `Decoder` per connection and direction; blocks must be fed in the order they were
/// received, each complete (HEADERS plus its CONTINUATIONs), because every block may change
/// the table the next one refers to.
///
/// ```
/// use bytes::Bytes;
/// use h2proto::hpack::Decoder;
///
/// let mut decoder = Decoder::new();
/// // RFC 7541 §C.3.1: ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com"
/// let block = Bytes::from_static(b"\x82\x86\x84\x41\x0fwww.example.com");
/// let mut fields = Vec::new();
/// decoder.decode(&block, |f| fields.push(f)).unwrap();
/// assert_eq!(fields[3].name, ":authority");
/// assert_eq!(fields[3].value, "www.example.com");
/// assert_eq!(decoder.table_size(), 57);
/// ```
#[derive(Debug)]
pub struct Decoder {
    table: DynamicTable,
    /// Our acknowledged SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask for.
    max_allowed: usize,
    /// Set when our setting went below the table's maximum: the smallest such value since the
    /// last block, which the next block must start by signalling (§4.2).
    required_update: Option<usize>,
    max_list_size: usize,
    /// Arena for Huffman-decoded strings.
    scratch: BytesMut,
    /// The last Huffman-coded value sent "without indexing".
    last_literal: LastLiteral,
    /// Counts every change that can make the same block decode differently (see
    /// [`generation`](Self::generation)).
    generation: u64,
}

/// The longest encoded value [`LastLiteral`] remembers.
const LAST_LITERAL_MAX: usize = 32;

/// The last Huffman-coded value of a literal "without indexing" (§6.2.2), encoded and
/// decoded. Encoders keep per-request values such as `:path` out of the dynamic table
/// (nghttp2, and so curl and h2load, never index `:path`), so a client that asks for the
/// same path again — polling, an RPC method — sends the same Huffman string every time: a
/// repeat is recognised by comparing the short encoded string and shares the earlier
/// decoding instead of decoding it again. Huffman decoding is a pure function of the
/// encoded bytes, so the result is the same either way. Never-indexed (§6.2.3) values are
/// not remembered, and the decoded copy is a slice of the decoder's own arena: it pins at
/// most one arena chunk.
#[derive(Debug, Default)]
struct LastLiteral {
    len: usize,
    encoded: [u8; LAST_LITERAL_MAX],
    decoded: Bytes,
}

impl LastLiteral {
    /// Whether `s` of `block` is the remembered string: its decoding is then `decoded`.
    #[inline]
    fn holds(&self, block: &[u8], s: RawStr) -> bool {
        let (start, end) = s.range;
        s.huffman
            && self.len == end - start
            && self.len > 0
            && self.encoded[..self.len] == block[start..end]
    }

    #[inline]
    fn set(&mut self, encoded: &[u8], decoded: &Bytes) {
        if let Some(dst) = self.encoded.get_mut(..encoded.len()) {
            dst.copy_from_slice(encoded);
            self.len = encoded.len();
            self.decoded = decoded.clone();
        }
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

/// A string literal's place in the block.
#[derive(Clone, Copy)]
struct RawStr {
    huffman: bool,
    range: (usize, usize),
}

/// Where a literal's name comes from.
enum Name {
    Static(&'static [u8]),
    Dynamic(Bytes),
    Literal(RawStr),
}

/// The running header list size of one block.
struct ListSize {
    size: usize,
    max: usize,
    over: bool,
}

impl ListSize {
    /// Counts a field; false (from then on) once the list is over the limit.
    #[inline]
    fn admit(&mut self, name_and_value: usize) -> bool {
        if self.over {
            return false;
        }
        self.size = self.size.saturating_add(name_and_value).saturating_add(ENTRY_OVERHEAD);
        self.over = self.size > self.max;
        !self.over
    }
}

impl Decoder {
    /// A decoder with the RFC's initial table size of 4096 octets and a header list limit of
    /// [`DEFAULT_MAX_HEADER_LIST_SIZE`]. Allocates nothing until the first block needs it.
    pub fn new() -> Self {
        Decoder {
            table: DynamicTable::new(DEFAULT_TABLE_SIZE),
            max_allowed: DEFAULT_TABLE_SIZE,
            required_update: None,
            max_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            scratch: BytesMut::new(),
            last_literal: LastLiteral::default(),
            generation: 0,
        }
    }

    /// A count of the changes to the decoder's state (table entries, sizes, a required size
    /// update, the header list limit): while it stands still, the same block decodes to the same fields, which
    /// lets a caller keep the decoding of a block that repeats. A block of indexed fields
    /// and literals without indexing leaves it where it was.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Sets our SETTINGS_HEADER_TABLE_SIZE, to be called once the peer has ACKed it: the
    /// upper bound for the peer's dynamic table size updates (§4.2, RFC 9113 §6.5.2).
    ///
    /// If it is below the table's current maximum, the next block must start with a size
    /// update no larger than the smallest value set since the previous block (§4.2); a block
    /// that does not is rejected with [`DecodeError::SizeUpdateMissing`].
    pub fn set_max_table_size(&mut self, max: usize) {
        self.generation += 1;
        self.max_allowed = max;
        if max < self.table.max_size() {
            self.required_update = Some(self.required_update.map_or(max, |r| r.min(max)));
        }
    }

    /// Caps the decoded header list size: the sum over the fields of name + value + 32
    /// (RFC 9113 §6.5.2, RFC 7541 §4.1). Default [`DEFAULT_MAX_HEADER_LIST_SIZE`]; pass
    /// `usize::MAX` for no limit. See [`Decoder::decode`] for how it is enforced.
    pub fn set_max_header_list_size(&mut self, max: usize) {
        self.generation += 1;
        self.max_list_size = max;
    }

    /// The current size of the dynamic table per §4.1 (name + value + 32 per entry).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's current maximum size: the last size update the peer sent, or 4096.
    pub fn max_table_size(&self) -> usize {
        self.table.max_size()
    }

    /// The number of entries in the dynamic table.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// The dynamic table entry at HPACK index `index` (62 is the newest), if any.
    pub fn table_entry(&self, index: usize) -> Option<(&Bytes, &Bytes)> {
        let e = self.table.get(index.checked_sub(STATIC_TABLE.len() + 1)?)?;
        Some((&e.name, &e.value))
    }

    /// Decodes one complete header block, calling `emit` for each field in order.
    ///
    /// # Header list limit
    /// The limit of [`Decoder::set_max_header_list_size`] is enforced while decoding: once
    /// the list exceeds it, nothing more is emitted and no more strings are materialised
    /// except those the dynamic table needs. The rest of the block is still processed so the
    /// table stays in sync with the peer's encoder, then `Err(HeaderListTooLarge)` is
    /// returned. An HPACK bomb (one large entry referenced thousands of times) therefore
    /// costs time in proportion to the block, not to the list it expands to.
    ///
    /// # Errors
    /// Any [`DecodeError`]. All but `HeaderListTooLarge` are connection errors of type
    /// COMPRESSION_ERROR, after which the decoder must not be used again; fields emitted
    /// before the error must then be discarded too.
    pub fn decode(
        &mut self,
        block: &Bytes,
        mut emit: impl FnMut(Field),
    ) -> Result<(), DecodeError> {
        self.decode_ref(block, |field| emit(field.to_field()))
    }

    /// [`Decoder::decode`], lending each field to `emit` instead of handing it over: fields
    /// from the tables are not cloned, so a caller that keeps only some strings (or parses
    /// them into other types) pays only for those. Same rules, limits and errors.
    pub fn decode_ref(
        &mut self,
        block: &Bytes,
        mut emit: impl FnMut(FieldView<'_>),
    ) -> Result<(), DecodeError> {
        let src: &[u8] = block;
        let mut pos = 0;

        // §4.2: dynamic table size updates may only open the block.
        while let Some(&b) = src.get(pos) {
            if b & 0xe0 != 0x20 {
                break;
            }
            pos += 1;
            self.generation += 1;
            let size = read_int(b, 0x1f, src, &mut pos)?;
            // req 7541-6.3-2
            if size > self.max_allowed {
                return Err(DecodeError::SizeUpdateTooLarge);
            }
            if self.required_update.is_some_and(|r| size <= r) {
                self.required_update = None;
            }
            self.table.set_max_size(size);
        }
        if self.required_update.is_some() {
            // req 9113-4.3.1-2
            return Err(DecodeError::SizeUpdateMissing);
        }

        // req 7541-2.1-2, 7541-3.2-1 (representations processed and emitted in block order)
        let mut list = ListSize { size: 0, max: self.max_list_size, over: false };
        while let Some(&b) = src.get(pos) {
            pos += 1;
            if b & 0x80 != 0 {
                // §6.1 Indexed Header Field.
                let index = read_int(b, 0x7f, src, &mut pos)?;
                if let Some((name, value)) = index.checked_sub(1).and_then(|i| STATIC_BYTES.get(i))
                {
                    if list.admit(name.len() + value.len()) {
                        let entry = Some(index as u64);
                        emit(FieldView { name, value, sensitive: false, entry });
                    }
                } else {
                    let i = index.checked_sub(STATIC_TABLE.len() + 1);
                    // req 7541-2.3.3-1, 7541-6.1-1 (index 0 is in neither table and lands here)
                    let entry =
                        i.and_then(|i| self.table.get(i)).ok_or(DecodeError::InvalidIndex)?;
                    if list.admit(entry.name.len() + entry.value.len()) {
                        emit(FieldView {
                            name: &entry.name,
                            value: &entry.value,
                            sensitive: false,
                            entry: i.map(|i| self.table.entry_number(i)),
                        });
                    }
                }
            } else if b & 0x40 != 0 {
                // §6.2.1 Literal Header Field with Incremental Indexing.
                self.generation += 1;
                let index = read_int(b, 0x3f, src, &mut pos)?;
                let name = self.name(index, src, &mut pos)?;
                let value = read_str(src, &mut pos)?;
                // req 7541-3.2-1
                let (field, entry) = self.insert(block, name, value)?;
                if list.admit(field.name.len() + field.value.len()) {
                    emit(FieldView {
                        name: &field.name,
                        value: &field.value,
                        sensitive: false,
                        entry,
                    });
                }
            } else if b & 0x20 != 0 {
                return Err(DecodeError::SizeUpdateNotAtStart);
            } else {
                // §6.2.2 Literal Header Field without Indexing, §6.2.3 Never Indexed.
                let index = read_int(b, 0x0f, src, &mut pos)?;
                let name = self.name(index, src, &mut pos)?;
                let value = read_str(src, &mut pos)?;
                if list.over {
                    // Nothing to emit or store, but Huffman errors are still errors.
                    if let Name::Literal(s) = name {
                        self.validate(src, s)?;
                    }
                    self.validate(src, value)?;
                    continue;
                }
                let name = match name {
                    Name::Static(s) => Bytes::from_static(s),
                    Name::Dynamic(b) => b,
                    Name::Literal(s) => self.string(block, s)?,
                };
                let sensitive = b & 0x10 != 0;
                // A repeat of the last value is lent from `last_literal`, not cloned.
                let fresh;
                let value = if !sensitive && self.last_literal.holds(src, value) {
                    &self.last_literal.decoded
                } else {
                    fresh = if sensitive {
                        self.string(block, value)?
                    } else {
                        self.remembered_string(block, value)?
                    };
                    &fresh
                };
                if list.admit(name.len() + value.len()) {
                    emit(FieldView { name: &name, value, sensitive, entry: None });
                }
            }
        }
        if list.over { Err(DecodeError::HeaderListTooLarge) } else { Ok(()) }
    }

    /// Reads a literal's name: an index (static or dynamic) or, for index 0, a string.
    #[inline]
    fn name(&self, index: usize, src: &[u8], pos: &mut usize) -> Result<Name, DecodeError> {
        if index == 0 {
            return Ok(Name::Literal(read_str(src, pos)?));
        }
        if let Some(&(name, _)) = STATIC_TABLE.get(index - 1) {
            return Ok(Name::Static(name));
        }
        // req 7541-2.3.3-1
        let entry =
            self.table.get(index - STATIC_TABLE.len() - 1).ok_or(DecodeError::InvalidIndex)?;
        Ok(Name::Dynamic(entry.name.clone()))
    }

    /// Materialises a string: a slice of the block, or Huffman-decoded into the arena.
    #[inline]
    fn string(&mut self, block: &Bytes, s: RawStr) -> Result<Bytes, DecodeError> {
        let (start, end) = s.range;
        if !s.huffman {
            return Ok(block.slice(start..end));
        }
        let r = huffman_into(&mut self.scratch, &block[start..end])?;
        Ok(self.scratch.split_to(r.end).freeze())
    }

    /// [`string`](Self::string) for a value sent without indexing (not a repeat: those are
    /// lent from [`LastLiteral`]), remembered if it is Huffman-coded and short enough.
    #[inline]
    fn remembered_string(&mut self, block: &Bytes, s: RawStr) -> Result<Bytes, DecodeError> {
        let (start, end) = s.range;
        let decoded = self.string(block, s)?;
        if s.huffman {
            self.last_literal.set(&block[start..end], &decoded);
        }
        Ok(decoded)
    }

    /// Checks a string that will not be materialised (over the list limit).
    fn validate(&mut self, src: &[u8], s: RawStr) -> Result<(), DecodeError> {
        if s.huffman {
            let (start, end) = s.range;
            let r = huffman_into(&mut self.scratch, &src[start..end])?;
            self.scratch.truncate(r.start);
        }
        Ok(())
    }

    /// §6.2.1: adds the field to the dynamic table and returns it, sharing the table's copy,
    /// with its entry number (none if it was too large to be added).
    fn insert(
        &mut self,
        block: &Bytes,
        name: Name,
        value: RawStr,
    ) -> Result<(Field, Option<u64>), DecodeError> {
        let src: &[u8] = block;
        // Huffman strings are decoded into the scratch arena, then copied into the table.
        let name_range = match name {
            Name::Literal(s) if s.huffman => {
                Some(huffman_into(&mut self.scratch, &src[s.range.0..s.range.1])?)
            }
            _ => None,
        };
        let value_range = if value.huffman {
            Some(huffman_into(&mut self.scratch, &src[value.range.0..value.range.1])?)
        } else {
            None
        };
        let name_bytes: &[u8] = match (&name, &name_range) {
            (_, Some(r)) => &self.scratch[r.clone()],
            (Name::Static(s), _) => s,
            (Name::Dynamic(b), _) => b,
            (Name::Literal(s), None) => &src[s.range.0..s.range.1],
        };
        let value_bytes = match &value_range {
            Some(r) => &self.scratch[r.clone()],
            None => &src[value.range.0..value.range.1],
        };
        let new_name = match name {
            Name::Static(s) => NewName::Static(s),
            _ => NewName::Copy(name_bytes),
        };
        let field = match self.table.insert(new_name, value_bytes) {
            Some((name, value)) => {
                self.scratch.clear();
                let entry = Some(self.table.entry_number(0));
                return Ok((Field { name, value, sensitive: false }, entry));
            }
            None => {
                // Larger than the whole table (§4.4): the table is now empty; emit as is.
                let decoded = self.scratch.split().freeze();
                let name = match (name, name_range) {
                    (_, Some(r)) => decoded.slice(r),
                    (Name::Static(s), _) => Bytes::from_static(s),
                    (Name::Dynamic(b), _) => b,
                    (Name::Literal(s), None) => block.slice(s.range.0..s.range.1),
                };
                let value = match value_range {
                    Some(r) => decoded.slice(r),
                    None => block.slice(value.range.0..value.range.1),
                };
                Field { name, value, sensitive: false }
            }
        };
        Ok((field, None))
    }
}

/// Reads the rest of an integer whose first octet `b` (already consumed) has a prefix
/// `mask` (2^N - 1).
#[inline(always)]
fn read_int(b: u8, mask: u8, src: &[u8], pos: &mut usize) -> Result<usize, DecodeError> {
    let v = b & mask;
    if v < mask { Ok(v as usize) } else { integer::decode_continuation(src, pos, mask as usize) }
}

/// Reads a string literal's header (§5.2) and skips its octets.
#[inline(always)]
fn read_str(src: &[u8], pos: &mut usize) -> Result<RawStr, DecodeError> {
    let b = *src.get(*pos).ok_or(DecodeError::Truncated)?;
    *pos += 1;
    let len = read_int(b, 0x7f, src, pos)?;
    let start = *pos;
    // Checked against what is left before anything is allocated.
    if len > src.len() - start {
        return Err(DecodeError::Truncated);
    }
    *pos = start + len;
    Ok(RawStr { huffman: b & 0x80 != 0, range: (start, start + len) })
}

/// Huffman-decodes `src` onto the end of `scratch`, returning where it landed.
fn huffman_into(scratch: &mut BytesMut, src: &[u8]) -> Result<Range<usize>, DecodeError> {
    let need = huffman::max_decoded_len(src.len());
    let start = scratch.len();
    if scratch.capacity() - start < need {
        // A fresh chunk; the old one lives on in the strings already handed out.
        let mut fresh = BytesMut::with_capacity((start + need).max(SCRATCH_CHUNK));
        fresh.extend_from_slice(scratch);
        *scratch = fresh;
    }
    scratch.resize(start + need, 0);
    match huffman::decode_into(src, &mut scratch[start..]) {
        Ok(n) => {
            scratch.truncate(start + n);
            Ok(start..start + n)
        }
        Err(e) => {
            scratch.truncate(start);
            Err(e)
        }
    }
}
