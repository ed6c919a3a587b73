//! Checked regular fields, kept by HPACK table entry.
//!
//! A client repeats most of its request fields on every request of a connection
//! (`user-agent`, `accept`, `accept-language`, ...), and HPACK sends each repeat as an index
//! into its dynamic table. Checking such a field against RFC 9113 §8.2 and turning it into
//! `http` types is then the same work on the same bytes every time: name lookup or copy,
//! value validation. The HPACK decoder numbers every table entry for good
//! ([`FieldView::table_entry`](crate::hpack::FieldView::table_entry)), so the result is
//! kept by entry number in a few slots, and a repeat costs two reference-count increments.
//!
//! Only fields that passed every check and need no special handling are kept. The cached
//! value is a copy (made once per entry): a slice of the decoder's table would keep the
//! table's arena chunks alive after their entries were evicted. Values longer than
//! [`MAX_CACHED_VALUE`] are checked every time instead.

use http::header::{HeaderName, HeaderValue};

/// How many entries are kept (direct-mapped by entry number).
const SLOTS: usize = 8;

/// The longest value kept.
const MAX_CACHED_VALUE: usize = 256;

/// Checked fields by table entry number.
#[derive(Debug, Default)]
pub(crate) struct FieldCache {
    slots: [Option<(u64, HeaderName, HeaderValue)>; SLOTS],
}

impl FieldCache {
    /// The checked field of table entry `entry`, if kept.
    #[inline]
    pub(crate) fn get(&self, entry: u64) -> Option<(HeaderName, HeaderValue)> {
        match &self.slots[slot(entry)] {
            Some((e, name, value)) if *e == entry => Some((name.clone(), value.clone())),
            _ => None,
        }
    }

    /// Keeps the checked field of table entry `entry` (replacing whatever shared its slot).
    pub(crate) fn put(&mut self, entry: u64, name: &HeaderName, value: &HeaderValue) {
        if value.len() > MAX_CACHED_VALUE {
            return;
        }
        let Ok(mut copy) = HeaderValue::from_bytes(value.as_bytes()) else { return };
        copy.set_sensitive(value.is_sensitive());
        self.slots[slot(entry)] = Some((entry, name.clone(), copy));
    }
}

#[inline]
fn slot(entry: u64) -> usize {
    (entry % SLOTS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_fields_by_entry_and_forgets_replaced_ones() {
        let mut cache = FieldCache::default();
        let name = HeaderName::from_static("user-agent");
        let value = HeaderValue::from_static("h2load nghttp2/1.52.0");
        assert!(cache.get(70).is_none());
        cache.put(70, &name, &value);
        assert_eq!(cache.get(70), Some((name.clone(), value.clone())));
        assert!(cache.get(71).is_none());
        // Entry 78 shares 70's slot: it replaces it.
        let other = HeaderValue::from_static("curl/7.88.1");
        cache.put(78, &name, &other);
        assert!(cache.get(70).is_none());
        assert_eq!(cache.get(78).map(|(_, v)| v), Some(other));
        // Long values are not kept.
        let long = HeaderValue::from_bytes(&[b'a'; MAX_CACHED_VALUE + 1]).unwrap();
        cache.put(79, &name, &long);
        assert!(cache.get(79).is_none());
    }
}
