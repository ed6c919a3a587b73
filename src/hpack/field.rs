//! The decoder's output and the encoder's input.

use bytes::Bytes;

/// The per-entry overhead of RFC 7541 §4.1, also used for the header list size of
/// RFC 9113 §6.5.2.
pub const ENTRY_OVERHEAD: usize = 32;

/// One decoded header field.
///
/// `name` and `value` are [`Bytes`] so that decoding does not copy: static-table strings
/// are `Bytes::from_static`, plain literals are slices of the input block, dynamic-table
/// hits share the table's storage, and Huffman-coded strings are cut from an arena the
/// decoder refills in chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field name, as sent (HTTP/2 requires lowercase; HPACK does not check).
    pub name: Bytes,
    /// The field value, as sent.
    pub value: Bytes,
    /// Sent as a literal *never indexed* (§6.2.3): an intermediary must re-encode it the
    /// same way, and the application should treat it as secret.
    pub sensitive: bool,
}

impl Field {
    /// The size of the field per RFC 7541 §4.1: name + value + 32 octets.
    pub fn size(&self) -> usize {
        self.name.len() + self.value.len() + ENTRY_OVERHEAD
    }

    /// Borrows the field as encoder input, keeping its `sensitive` flag.
    pub fn as_field_ref(&self) -> FieldRef<'_> {
        FieldRef { name: &self.name, value: &self.value, sensitive: self.sensitive }
    }
}

/// One decoded header field, borrowed from the decoder for the duration of a callback
/// ([`Decoder::decode_ref`](super::Decoder::decode_ref)).
///
/// Indexed fields borrow the static or dynamic table's own `Bytes`, so a caller that only
/// looks at a field costs no reference-count traffic; one that keeps a string clones it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldView<'a> {
    /// The field name, as sent.
    pub name: &'a Bytes,
    /// The field value, as sent.
    pub value: &'a Bytes,
    /// Sent as a literal *never indexed* (§6.2.3).
    pub sensitive: bool,
    /// See [`FieldView::table_entry`].
    pub(crate) entry: Option<u64>,
}

impl FieldView<'_> {
    /// Which table entry the field is, if it is one: a static-table index (1–61) for a
    /// field read whole from the static table, or a number above 61 for a dynamic-table
    /// entry (read from the table, or added to it by this representation). Numbers are
    /// never reused by a decoder, so two fields with the same number are the same field:
    /// a caller can keep what it derived from one (a parsed or validated form) and reuse
    /// it for the next. Literals not added to the table have none.
    pub fn table_entry(&self) -> Option<u64> {
        self.entry
    }

    /// An owned copy of the field (two reference-count increments, no byte copies).
    pub fn to_field(&self) -> Field {
        Field { name: self.name.clone(), value: self.value.clone(), sensitive: self.sensitive }
    }
}

/// One header field to encode, borrowed from the caller.
///
/// The name should be lowercase for HTTP/2 (RFC 9113 §8.2.1); this module does not check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRef<'a> {
    /// The field name.
    pub name: &'a [u8],
    /// The field value.
    pub value: &'a [u8],
    /// Must never be indexed (§7.1.3): the encoder emits a literal never indexed, so no
    /// table on the path (ours or an intermediary's) ever holds it.
    pub sensitive: bool,
}

impl<'a> FieldRef<'a> {
    /// A field the encoder may index as it sees fit.
    pub fn new(name: &'a [u8], value: &'a [u8]) -> Self {
        FieldRef { name, value, sensitive: false }
    }

    /// A field that must never be indexed (credentials, tokens, short cookies).
    pub fn sensitive(name: &'a [u8], value: &'a [u8]) -> Self {
        FieldRef { name, value, sensitive: true }
    }
}

impl<'a> From<&'a Field> for FieldRef<'a> {
    fn from(field: &'a Field) -> Self {
        field.as_field_ref()
    }
}
