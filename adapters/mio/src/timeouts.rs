//! The client's request timeouts on the loop (issue 15): the whole request
//! ([`ClientBuilder::request_timeout`](crate::ClientBuilder::request_timeout),
//! [`RequestTimeout`](crate::RequestTimeout)) and the stall of its response
//! ([`ClientBuilder::stall_timeout`](crate::ClientBuilder::stall_timeout)).
//!
//! They sit on the loop's hot path, so nothing here looks at every stream: each connection
//! keeps one min-heap of `(when, what)` entries ([`Deadlines`]), and its earliest entry is
//! one of the connection's deadlines, so the loop's timer set wakes the connection for it.
//! Deletion is lazy: a stream that finished, or one whose entry was superseded by an
//! earlier one, leaves its entry behind, and it is skipped when it comes due. Each stream
//! (and the connection's queue of requests waiting for a stream) remembers the time of its
//! one live entry ([`StreamTimers::armed`]); an entry popped at any other time is stale.
//! When the heap holds more than twice the entries that can be live (plus a little
//! slack) it is rebuilt from the live ones, so its memory stays bounded by the streams.
//!
//! A frame of the response does not move the stall entry: it only notes the drive's `now`
//! ([`StreamTimers::progress`]; no clock read of its own). An entry that pops before the
//! stream is really due is pushed again at its real expiry, so a steady response costs one
//! heap push per stall period, not one per frame. With no timeout configured no entry is
//! ever pushed: the cost is an empty heap's `peek`.

use crate::error::Timeout;
use h2proto::StreamId;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// Entries allowed beyond twice the live ones before the heap is rebuilt: small heaps are
/// never rebuilt for a handful of stale entries.
const SLACK: usize = 32;

/// What an entry of [`Deadlines`] is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Due {
    /// The request on this stream: its whole-request deadline or its stall.
    Stream(StreamId),
    /// The earliest deadline among the requests queued for a stream.
    Queued,
}

/// One connection's request timers: a min-heap with lazy deletion (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    heap: BinaryHeap<Reverse<(Instant, Due)>>,
    /// How long a response may go without a frame; `None`: no stall timeout.
    pub(crate) stall: Option<Duration>,
    /// The time of the live [`Due::Queued`] entry.
    pub(crate) queued: Option<Instant>,
}

impl Deadlines {
    /// The earliest entry's time (perhaps a stale one: waking for it only pops it).
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    pub(crate) fn push(&mut self, at: Instant, due: Due) {
        self.heap.push(Reverse((at, due)));
    }

    /// The earliest entry, if it is due at `now`.
    pub(crate) fn pop(&mut self, now: Instant) -> Option<(Instant, Due)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse(entry)| entry),
            _ => None,
        }
    }

    /// Whether the heap holds more than twice `live_bound` entries (plus [`SLACK`]): most
    /// of them are stale, and it is to be rebuilt ([`rebuild`](Self::rebuild)).
    pub(crate) fn is_oversized(&self, live_bound: usize) -> bool {
        self.heap.len() > 2 * live_bound + SLACK
    }

    /// Replaces the entries with the `live` ones (keeping the allocation).
    pub(crate) fn rebuild(&mut self, live: impl Iterator<Item = (Instant, Due)>) {
        let mut entries = std::mem::take(&mut self.heap).into_vec();
        entries.clear();
        entries.extend(live.map(Reverse));
        self.heap = BinaryHeap::from(entries);
    }

    /// Entries in the heap, live and stale.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

/// The timers of a request on its stream.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StreamTimers {
    /// When the whole request must be over.
    pub(crate) deadline: Option<Instant>,
    /// While the stall clock runs (from the request's end handed to the core until the
    /// response's end): the last frame of the response, or the request's end if later.
    pub(crate) quiet_since: Option<Instant>,
    /// The time of this stream's live entry in [`Deadlines`].
    pub(crate) armed: Option<Instant>,
}

impl StreamTimers {
    /// When the next of the timeouts passes, and which it is (`stall`: the connection's
    /// stall timeout).
    pub(crate) fn expiry(&self, stall: Option<Duration>) -> Option<(Instant, Timeout)> {
        let whole = self.deadline.map(|at| (at, Timeout::Request));
        let stalled =
            self.quiet_since.zip(stall).and_then(|(since, stall)| since.checked_add(stall));
        let stalled = stalled.map(|at| (at, Timeout::Stalled));
        [whole, stalled].into_iter().flatten().min_by_key(|(at, _)| *at)
    }

    /// The request's end was handed to the core at `now`: the stall clock starts, if there
    /// is one.
    pub(crate) fn start_stall(&mut self, stall: Option<Duration>, now: Instant) {
        if stall.is_some() && self.quiet_since.is_none() {
            self.quiet_since = Some(now);
        }
    }

    /// A frame of the response arrived at `now`: the stall clock, if it runs, restarts.
    pub(crate) fn progress(&mut self, now: Instant) {
        if self.quiet_since.is_some() {
            self.quiet_since = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_earlier_of_the_two_timeouts_is_next() {
        let t = Instant::now();
        let mut timers = StreamTimers { deadline: Some(t + 500 * MS), ..StreamTimers::default() };
        // The stall clock does not run before the request's end is sent.
        assert_eq!(timers.expiry(Some(100 * MS)), Some((t + 500 * MS, Timeout::Request)));
        timers.progress(t + 50 * MS);
        assert_eq!(timers.quiet_since, None, "a frame before the end starts nothing");
        timers.start_stall(Some(100 * MS), t);
        assert_eq!(timers.expiry(Some(100 * MS)), Some((t + 100 * MS, Timeout::Stalled)));
        // Each frame pushes the stall back; the whole deadline does not move.
        timers.progress(t + 350 * MS);
        assert_eq!(timers.expiry(Some(100 * MS)), Some((t + 450 * MS, Timeout::Stalled)));
        timers.progress(t + 450 * MS);
        assert_eq!(timers.expiry(Some(100 * MS)), Some((t + 500 * MS, Timeout::Request)));
        // No stall timeout: only the deadline; neither: nothing.
        assert_eq!(timers.expiry(None), Some((t + 500 * MS, Timeout::Request)));
        let mut off = StreamTimers::default();
        off.start_stall(None, t);
        assert_eq!((off.quiet_since, off.expiry(None)), (None, None));
    }

    #[test]
    fn entries_pop_in_order_and_only_when_due() {
        let t = Instant::now();
        let mut d = Deadlines::default();
        assert_eq!((d.next(), d.pop(t + 1000 * MS)), (None, None));
        d.push(t + 300 * MS, Due::Stream(StreamId(3)));
        d.push(t + 100 * MS, Due::Queued);
        d.push(t + 200 * MS, Due::Stream(StreamId(1)));
        assert_eq!(d.next(), Some(t + 100 * MS));
        assert_eq!(d.pop(t + 50 * MS), None);
        assert_eq!(d.pop(t + 250 * MS), Some((t + 100 * MS, Due::Queued)));
        assert_eq!(d.pop(t + 250 * MS), Some((t + 200 * MS, Due::Stream(StreamId(1)))));
        assert_eq!(d.pop(t + 250 * MS), None);
        assert_eq!(d.next(), Some(t + 300 * MS));
    }

    #[test]
    fn a_rebuild_keeps_only_the_live_entries() {
        let t = Instant::now();
        let mut d = Deadlines::default();
        for i in 0..100u32 {
            d.push(t + i * MS, Due::Stream(StreamId(2 * i + 1)));
        }
        // Two streams left: the heap is mostly stale.
        assert!(d.is_oversized(2));
        assert!(!d.is_oversized(100));
        let live = [(t + 70 * MS, Due::Stream(StreamId(141))), (t + 5 * MS, Due::Queued)];
        d.rebuild(live.into_iter());
        assert_eq!(d.len(), 2);
        assert_eq!(d.pop(t + 1000 * MS), Some((t + 5 * MS, Due::Queued)));
        assert_eq!(d.pop(t + 1000 * MS), Some((t + 70 * MS, Due::Stream(StreamId(141)))));
    }
}
