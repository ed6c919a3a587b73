//! A queue of body chunks whose first chunk is held inline.
//!
//! Most streams carry their body, or the part of it in flight, as a single `Bytes`; keeping
//! that one in the stream itself spares an allocation per stream and direction on the
//! request/response hot path. Further chunks go to a boxed `VecDeque`, so that a stream
//! carries two of these queues in 80 bytes rather than 128.

use bytes::Bytes;
use std::collections::VecDeque;

/// FIFO of chunks. Invariant: `rest` is empty whenever `head` is `None`.
#[derive(Debug, Default)]
pub(crate) struct Chunks {
    head: Option<Bytes>,
    // Boxed on purpose: the rare overflow pays one allocation so that every stream is
    // 24 bytes smaller per queue.
    #[allow(clippy::box_collection)]
    rest: Option<Box<VecDeque<Bytes>>>,
}

impl Chunks {
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    pub(crate) fn push_back(&mut self, chunk: Bytes) {
        if self.head.is_none() {
            self.head = Some(chunk);
        } else {
            self.rest.get_or_insert_default().push_back(chunk);
        }
    }

    pub(crate) fn pop_front(&mut self) -> Option<Bytes> {
        let head = self.head.take()?;
        self.head = self.rest.as_mut().and_then(|rest| rest.pop_front());
        Some(head)
    }

    pub(crate) fn front_mut(&mut self) -> Option<&mut Bytes> {
        self.head.as_mut()
    }

    /// Empties the queue, returning how many bytes it held.
    pub(crate) fn clear(&mut self) -> usize {
        let rest = self.rest.take().map_or(0, |rest| rest.iter().map(|b| b.len()).sum());
        self.head.take().map_or(0, |h| h.len()) + rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_and_clear() {
        let mut q = Chunks::default();
        assert!(q.is_empty());
        for s in ["a", "bb", "ccc"] {
            q.push_back(Bytes::from_static(s.as_bytes()));
        }
        assert_eq!(q.pop_front().as_deref(), Some(&b"a"[..]));
        q.front_mut().unwrap().truncate(1);
        assert_eq!(q.pop_front().as_deref(), Some(&b"b"[..]));
        q.push_back(Bytes::from_static(b"dddd"));
        assert_eq!(q.clear(), 7);
        assert!(q.is_empty() && q.pop_front().is_none());
    }
}
