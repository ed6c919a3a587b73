//! Client backpressure: how many requests one connection takes at once.
//!
//! A request holds a [`Slot`] from the moment a handle accepts it until the connection task
//! forgets its stream (the response ended, or the stream was reset or cancelled). The
//! connection offers as many slots as the server's SETTINGS_MAX_CONCURRENT_STREAMS allows
//! (before its SETTINGS: `Config::initial_max_send_streams`) plus a configured number
//! waiting to be opened. So `ready` means "a request sent now is opened at once or queued
//! within the bound", and what waits beyond that waits in the callers' futures, never in an
//! unbounded queue (tower's contract: a service that is always ready hides an unbounded
//! queue). A pool uses [`try_acquire`](Slots::try_acquire) to learn, without waiting, that
//! this connection is full and another is needed.
//!
//! The count is one atomic; no lock is shared by the requests. Waiters park on a
//! [`Notify`]: a released slot wakes one, a raised limit or a closed connection wakes all.

use crate::error::{Error, ErrorKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use tokio::sync::Notify;

/// The slot accounting of one client connection, shared by its handles and its task.
#[derive(Debug)]
pub(crate) struct Slots {
    in_use: AtomicUsize,
    limit: AtomicUsize,
    /// Requests accepted beyond the server's concurrency, waiting for a stream.
    max_pending: usize,
    /// The connection takes no new requests (GOAWAY, closed, stream ids exhausted).
    closed: AtomicBool,
    notify: Notify,
    /// Names requests, so a dropped response future can cancel its own.
    next_key: AtomicU64,
    /// Told each round trip the connection measured with a PING of its own (keepalive,
    /// adaptive window): the pool's metrics.
    rtt_listener: std::sync::OnceLock<RttListener>,
}

/// A callback for round-trip samples (see [`Slots::rtt_measured`]).
pub(crate) struct RttListener(Box<dyn Fn(std::time::Duration) + Send + Sync>);

impl std::fmt::Debug for RttListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RttListener")
    }
}

impl Slots {
    pub(crate) fn new(peer_limit: u32, max_pending: usize) -> Arc<Slots> {
        Arc::new(Slots {
            in_use: AtomicUsize::new(0),
            limit: AtomicUsize::new(limit(peer_limit, max_pending)),
            max_pending,
            closed: AtomicBool::new(false),
            notify: Notify::new(),
            next_key: AtomicU64::new(0),
            rtt_listener: std::sync::OnceLock::new(),
        })
    }

    /// A slot if one is free now.
    pub(crate) fn try_acquire(self: &Arc<Self>) -> Option<Slot> {
        let limit = self.limit.load(Ordering::Acquire);
        self.in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1))
            .ok()
            .map(|_| Slot { slots: self.clone() })
    }

    /// Waits for a slot; fails once the connection takes no new requests (the request was
    /// not sent: safe to send elsewhere).
    pub(crate) async fn acquire(self: Arc<Self>) -> Result<Slot, Error> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Registered before looking, so a release in between is not missed.
            notified.as_mut().enable();
            if self.is_closed() {
                return Err(Error::new(ErrorKind::NotSent));
            }
            if let Some(slot) = self.try_acquire() {
                return Ok(slot);
            }
            notified.await;
        }
    }

    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS changed.
    pub(crate) fn set_peer_limit(&self, peer_limit: u32) {
        let new = limit(peer_limit, self.max_pending);
        if self.limit.swap(new, Ordering::AcqRel) < new {
            self.notify.notify_waiters();
        }
    }

    /// No new requests from now on; waiters fail.
    pub(crate) fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.notify.notify_waiters();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Slots held: requests queued or in flight.
    pub(crate) fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Acquire)
    }

    /// Sets the callback for round-trip samples (once; later calls change nothing).
    pub(crate) fn on_rtt(&self, listener: impl Fn(std::time::Duration) + Send + Sync + 'static) {
        let _ = self.rtt_listener.set(RttListener(Box::new(listener)));
    }

    /// The connection task measured `rtt` with a PING of its own.
    pub(crate) fn rtt_measured(&self, rtt: std::time::Duration) {
        if let Some(listener) = self.rtt_listener.get() {
            (listener.0)(rtt);
        }
    }

    pub(crate) fn next_key(&self) -> u64 {
        self.next_key.fetch_add(1, Ordering::Relaxed)
    }
}

fn limit(peer_limit: u32, max_pending: usize) -> usize {
    (peer_limit as usize).saturating_add(max_pending)
}

/// One request's place on the connection; dropping it frees the place and wakes a waiter.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.in_use.fetch_sub(1, Ordering::AcqRel);
        self.slots.notify.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_limit_and_come_back_when_dropped() {
        let slots = Slots::new(2, 1);
        let a = slots.try_acquire().unwrap();
        let _b = slots.try_acquire().unwrap();
        let _c = slots.try_acquire().unwrap();
        assert!(slots.try_acquire().is_none(), "2 streams + 1 pending");
        drop(a);
        let _d = slots.try_acquire().unwrap();
        assert_eq!(slots.in_use(), 3);
        // A lower limit admits nothing new until enough slots are back.
        slots.set_peer_limit(0);
        drop(_d);
        assert!(slots.try_acquire().is_none());
        slots.set_peer_limit(5);
        assert!(slots.try_acquire().is_some());
    }

    #[tokio::test]
    async fn a_waiter_gets_a_released_slot_and_fails_on_close() {
        let slots = Slots::new(1, 0);
        let held = slots.try_acquire().unwrap();
        let waiter = tokio::spawn(slots.clone().acquire());
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(held);
        let slot = waiter.await.unwrap().unwrap();
        let second = tokio::spawn(slots.clone().acquire());
        tokio::task::yield_now().await;
        slots.close();
        let err = second.await.unwrap().unwrap_err();
        assert!(err.is_retryable());
        drop(slot);
    }
}
