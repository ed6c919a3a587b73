//! Cleared header maps, kept for the heads a connection receives.
//!
//! Every head is an `http::HeaderMap`, and a map that holds anything owns two heap blocks.
//! A connection consumes the heads it sends (`send_response`, `send_request`) and builds a
//! map for every head it receives, so instead of freeing the one and allocating the other it
//! can clear the map it has just encoded and fill it with the next head's fields. One
//! connection decodes a burst of heads before it sends any (ten requests in one read at
//! `h2load -m 10`), so the maps are pooled across connections: an event loop keeps one
//! [`HeaderPool`] and lends it to each connection for its turn.

use http::HeaderMap;

/// Maps with room for more fields than this are freed rather than kept: a map's capacity
/// never shrinks, and one large head must not inflate the pool.
const MAX_POOLED_CAPACITY: usize = 32;

/// Cleared header maps for reuse, up to a limit.
///
/// Every [`Connection`](crate::Connection) has one, empty and with a limit of 0 (it keeps
/// nothing) unless the application gives it another: an event loop that drives many
/// connections keeps one pool and swaps it in for each connection's turn, so that idle
/// connections hold no maps:
///
/// ```
/// use h2proto::{Config, Connection, HeaderPool};
///
/// let mut pool = HeaderPool::new(64);
/// let mut conn = Connection::server(Config::default());
/// // A connection's turn: feed input, handle events, answer, write output ...
/// std::mem::swap(conn.header_pool(), &mut pool);
/// // ... recv, poll_event, send_response, transmit ...
/// std::mem::swap(conn.header_pool(), &mut pool);
/// ```
///
/// Heads the connection sends leave their maps here; heads it receives take maps from
/// here. An application done with a received head's map can [`put`](Self::put) it back.
#[derive(Debug, Default)]
pub struct HeaderPool {
    maps: Vec<HeaderMap>,
    limit: usize,
}

impl HeaderPool {
    /// A pool that keeps up to `limit` maps (allocated as they come).
    pub fn new(limit: usize) -> HeaderPool {
        HeaderPool { maps: Vec::new(), limit }
    }

    /// Keeps `map`, cleared, if the pool has room and the map is small; frees it otherwise.
    pub fn put(&mut self, mut map: HeaderMap) {
        let capacity = map.capacity();
        if self.maps.len() < self.limit && capacity > 0 && capacity <= MAX_POOLED_CAPACITY {
            map.clear();
            self.maps.push(map);
        }
    }

    /// Maps kept now.
    pub fn len(&self) -> usize {
        self.maps.len()
    }

    /// Whether no map is kept.
    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// A cleared map, if one is kept.
    pub(crate) fn take(&mut self) -> Option<HeaderMap> {
        self.maps.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{HeaderValue, SERVER};

    fn map_with_one() -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(SERVER, HeaderValue::from_static("x"));
        map
    }

    #[test]
    fn keeps_small_maps_cleared_up_to_its_limit() {
        let mut pool = HeaderPool::new(2);
        pool.put(HeaderMap::new()); // nothing allocated: nothing worth keeping
        assert!(pool.is_empty());
        pool.put(map_with_one());
        pool.put(map_with_one());
        pool.put(map_with_one()); // over the limit: freed
        assert_eq!(pool.len(), 2);
        let map = pool.take().expect("kept");
        assert!(map.is_empty());
        assert!(map.capacity() > 0);
        pool.put(HeaderMap::with_capacity(10 * MAX_POOLED_CAPACITY)); // too large: freed
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn the_default_pool_keeps_nothing() {
        let mut pool = HeaderPool::default();
        pool.put(map_with_one());
        assert!(pool.take().is_none());
    }
}
