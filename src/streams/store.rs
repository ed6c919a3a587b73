//! The stream store: open streams by id, and a bounded memory of closed ones.

use super::Stream;
use crate::frame::StreamId;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// How a stream closed, which decides what a late frame on it means (§5.1, §6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClosedBy {
    /// Both sides sent END_STREAM: further frames are a STREAM_CLOSED connection error.
    EndStream,
    /// We sent RST_STREAM: frames already in flight are ignored.
    LocalReset,
    /// The peer sent RST_STREAM: further frames are a STREAM_CLOSED stream error.
    RemoteReset,
}

/// Stream ids are sequential integers chosen by the peer; SipHash's protection buys nothing
/// here and costs a lot per frame, so the map hashes with one multiplication. (The client
/// pool keys its connections and tickets, ids it numbers itself, the same way.)
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type IdMap<V> = HashMap<StreamId, V, BuildHasherDefault<IdHasher>>;

/// A map keyed by ids this side numbers itself (or the peer numbers in order), hashed with
/// [`IdHasher`].
pub(crate) type IdKeyed<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Live streams and the memory of closed ones.
#[derive(Default)]
pub(crate) struct Store {
    streams: IdMap<Stream>,
    closed: VecDeque<(StreamId, ClosedBy)>,
    max_closed: usize,
}

impl Store {
    pub(crate) fn new(max_closed: usize) -> Store {
        Store { streams: IdMap::default(), closed: VecDeque::new(), max_closed }
    }

    pub(crate) fn get(&self, id: StreamId) -> Option<&Stream> {
        self.streams.get(&id)
    }

    pub(crate) fn get_mut(&mut self, id: StreamId) -> Option<&mut Stream> {
        self.streams.get_mut(&id)
    }

    /// Adds (or replaces) stream `id`, returning it. The stream is made by `make` where it
    /// is stored, not built elsewhere and moved in (152 bytes copied, twice).
    #[inline]
    pub(crate) fn insert_with(
        &mut self,
        id: StreamId,
        make: impl FnOnce() -> Stream,
    ) -> &mut Stream {
        match self.streams.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let s = e.into_mut();
                *s = make();
                s
            }
            std::collections::hash_map::Entry::Vacant(e) => e.insert(make()),
        }
    }

    pub(crate) fn remove(&mut self, id: StreamId) -> Option<Stream> {
        self.streams.remove(&id)
    }

    /// Drops every live stream (the connection ended); the memory of closed ones stays.
    pub(crate) fn clear(&mut self) {
        self.streams.clear();
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.streams.keys().copied()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (StreamId, &mut Stream)> {
        self.streams.iter_mut().map(|(id, s)| (*id, s))
    }

    /// Remembers how `id` closed, forgetting the oldest memory beyond the bound.
    pub(crate) fn remember_closed(&mut self, id: StreamId, how: ClosedBy) {
        if self.max_closed == 0 {
            return;
        }
        if self.closed.len() == self.max_closed {
            self.closed.pop_front();
        }
        self.closed.push_back((id, how));
    }

    /// How `id` closed, if it is still remembered.
    pub(crate) fn closed_by(&self, id: StreamId) -> Option<ClosedBy> {
        self.closed.iter().rev().find(|(c, _)| *c == id).map(|(_, how)| *how)
    }
}
