//! A message head that repeats the one before it is encoded once.
//!
//! A server answers most requests with the same head — the same status and the same
//! fields (`content-type`, `server`, `cache-control`, ...) — and a client polling or
//! calling the same method sends the same request; once the fields are in the dynamic
//! table, HPACK encodes each repeat to the same few bytes. Encoding is a pure
//! function of the fields and the encoder's table, so the bytes of a head that changed
//! nothing in the table are kept with the fields they encode, and a head with the same
//! fields, the table unchanged since ([`Encoder`](super::Encoder) counts its changes), is
//! copied rather than looked up field by field.
//!
//! Only heads without sensitive values are kept (a secret is not held longer than its
//! message), up to [`MAX_KEPT`] bytes of fields.

use super::field::FieldRef;

/// The most field bytes kept.
const MAX_KEPT: usize = 512;

/// The last head that left the table unchanged, and its encoding.
#[derive(Debug, Default)]
pub(crate) struct RepeatedHead {
    /// The encoder generation the head was encoded in; meaningless while `encoded` is empty.
    generation: u64,
    /// The response status, `None` for a request (whose pseudo-header fields are fields).
    status: Option<u16>,
    /// Each field's name and value lengths, and their bytes back to back in `bytes`.
    lengths: Vec<(usize, usize)>,
    bytes: Vec<u8>,
    /// The encoded `:status` and fields (empty: nothing kept).
    encoded: Vec<u8>,
}

impl RepeatedHead {
    /// The kept encoding, if `status` and `fields` are the kept head's and the encoder is
    /// still at `generation`.
    #[inline]
    pub(crate) fn get(
        &self,
        generation: u64,
        status: Option<u16>,
        fields: &[FieldRef<'_>],
    ) -> Option<&[u8]> {
        if self.encoded.is_empty()
            || self.generation != generation
            || self.status != status
            || self.lengths.len() != fields.len()
        {
            return None;
        }
        let mut at = 0;
        for (field, &(name_len, value_len)) in fields.iter().zip(&self.lengths) {
            let (name, value) = self.bytes[at..].split_at(name_len);
            if field.name != name || field.value != &value[..value_len] || field.sensitive {
                return None;
            }
            at += name_len + value_len;
        }
        Some(&self.encoded)
    }

    /// Keeps the encoding of a head that left the encoder at `generation`; forgets it if
    /// the head is not worth keeping.
    pub(crate) fn keep(
        &mut self,
        generation: u64,
        status: Option<u16>,
        fields: &[FieldRef<'_>],
        encoded: &[u8],
    ) {
        self.clear();
        let size: usize = fields.iter().map(|f| f.name.len() + f.value.len()).sum();
        if size > MAX_KEPT || fields.iter().any(|f| f.sensitive) {
            return;
        }
        for field in fields {
            self.lengths.push((field.name.len(), field.value.len()));
            self.bytes.extend_from_slice(field.name);
            self.bytes.extend_from_slice(field.value);
        }
        (self.generation, self.status) = (generation, status);
        self.encoded.extend_from_slice(encoded);
    }

    /// Forgets the kept head.
    pub(crate) fn clear(&mut self) {
        self.lengths.clear();
        self.bytes.clear();
        self.encoded.clear();
    }
}
