//! When the client may open a fresh connection: the core's circuit breaker and backoff
//! ([`Breaker`], [`Backoff`]; the tokio pool drives the same two through `h2proto::pool::Pool`),
//! kept for the one server this client talks to and driven with the loop's clock.
//!
//! The decisions are the core's; this file only holds their state, the requests that wait
//! for a connect, and the jitter's randomness (which the core takes as an input):
//!
//! - A connect that fails (refused, reset, timed out, or a connection that ends before the
//!   server's SETTINGS: no HTTP/2 server is there, see [`failed`](Reconnect::failed))
//!   counts toward the breaker. Unless that opened it, no connect starts before the
//!   backoff's delay (exponential, with jitter, so clients that failed together do not come
//!   back together); requests arriving meanwhile wait, a bounded number, and go on the
//!   connect that follows.
//! - An open breaker fails requests at once ([`ErrorKind::BreakerOpen`]) until its cool-down
//!   is over; then one probe connect goes, later requests wait on it, and its success
//!   closes the breaker (its failure opens it again).
//! - A connect that succeeds (the server's SETTINGS arrived,
//!   [`connected`](Reconnect::connected)) resets both.
//! - A waiting request whose request timeout passes fails unsent
//!   ([`expire`](Reconnect::expire)): the wait for a connection counts toward it.

use crate::client::Outgoing;
use crate::error::{Error, ErrorKind, Timeout};
use h2proto::pool::{Backoff, Breaker, BreakerConfig, BreakerState, Transition};
use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

/// The breaker, the backoff and the requests waiting for a connect. See the module docs.
pub(crate) struct Reconnect {
    breaker: Breaker,
    backoff: Backoff,
    /// No connect starts before this (the backoff after a failed connect).
    until: Option<Instant>,
    /// Requests waiting for the backoff to end, at most `max_waiting`.
    waiting: VecDeque<Outgoing>,
    max_waiting: usize,
    /// The earliest request timeout among the waiting requests.
    expiry: Option<Instant>,
    /// The jitter: a hash of the seed and the number of draws so far.
    seed: u64,
    draws: u64,
}

impl Reconnect {
    pub(crate) fn new(
        breaker: BreakerConfig,
        backoff: Backoff,
        max_waiting: usize,
        seed: u64,
    ) -> Reconnect {
        let breaker = Breaker::new(breaker);
        let waiting = VecDeque::new();
        let (until, expiry, draws) = (None, None, 0);
        Reconnect { breaker, backoff, until, waiting, max_waiting, expiry, seed, draws }
    }

    /// A request needs a fresh connection at `now`. `Ok(true)`: open one now (the breaker
    /// counts it as started: report how it went). `Ok(false)`: the backoff runs (or the
    /// probe is under way): [`wait`](Self::wait). `Err`: fail the request at once, the
    /// breaker is open.
    pub(crate) fn gate(&mut self, now: Instant) -> Result<bool, Error> {
        let (admitted, _) = self.breaker.admit(now);
        if let Err(retry_after) = admitted {
            return Err(Error::new(ErrorKind::BreakerOpen { retry_after }));
        }
        if self.until.is_some_and(|until| until > now) {
            return Ok(false);
        }
        self.until = None;
        Ok(self.breaker.try_connect())
    }

    /// Queues a request until the backoff ends; fails it if too many wait.
    pub(crate) fn wait(&mut self, out: Outgoing) {
        if self.waiting.len() >= self.max_waiting {
            return (out.callback)(Err(Error::new(ErrorKind::QueueFull)));
        }
        if let Some(at) = out.deadline {
            self.expiry = Some(self.expiry.map_or(at, |expiry| expiry.min(at)));
        }
        self.waiting.push_back(out);
    }

    /// When the loop must wake to connect for the waiting requests, or to fail those whose
    /// request timeout passes.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let until = self.until.filter(|_| !self.waiting.is_empty());
        until.into_iter().chain(self.expiry).min()
    }

    /// Fails the waiting requests whose request timeout has passed at `now`, unsent.
    pub(crate) fn expire(&mut self, now: Instant) {
        if self.expiry.is_none_or(|at| at > now) {
            return;
        }
        let late = |out: &Outgoing| out.deadline.is_some_and(|at| at <= now);
        let (late, waiting): (VecDeque<_>, VecDeque<_>) =
            std::mem::take(&mut self.waiting).into_iter().partition(late);
        self.waiting = waiting;
        self.expiry = self.waiting.iter().filter_map(|out| out.deadline).min();
        for out in late {
            let timed_out = Error::new(ErrorKind::TimedOut(Timeout::Request));
            (out.callback)(Err(Error::not_sent(timed_out)));
        }
    }

    /// Whether requests wait for a connect.
    pub(crate) fn is_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// The waiting requests, once a connect may start at `now`: the backoff is over and no
    /// probe is under way (to be dispatched again: the first opens the connection, the
    /// others go on it).
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<Outgoing> {
        let probing = self.breaker.state() == BreakerState::HalfOpen { probing: true };
        if probing || self.until.is_some_and(|until| until > now) {
            return Vec::new();
        }
        self.expiry = None;
        self.waiting.drain(..).collect()
    }

    /// The connection opened last was established.
    pub(crate) fn connected(&mut self) {
        self.until = None;
        self.breaker.record_success();
    }

    /// The connection opened last could not be established at `now`: the backoff starts,
    /// or, if this failure opened the breaker, the waiting requests fail with it.
    pub(crate) fn failed(&mut self, now: Instant) {
        if self.breaker.record_failure(now) == Some(Transition::Opened) {
            // An open breaker sets the pace itself (its cool-down).
            self.until = None;
            let (admitted, _) = self.breaker.admit(now);
            let retry_after = admitted.err().unwrap_or_default();
            self.expiry = None;
            for out in self.waiting.drain(..) {
                (out.callback)(Err(Error::new(ErrorKind::BreakerOpen { retry_after })));
            }
            return;
        }
        let random = self.random();
        let delay = self.backoff.delay(self.breaker.failures(), random);
        self.until = Some(now.checked_add(delay).unwrap_or(now));
    }

    fn random(&mut self) -> u64 {
        self.draws += 1;
        let mut h = DefaultHasher::new();
        (self.seed, self.draws).hash(&mut h);
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    type Seen = Arc<Mutex<Vec<String>>>;

    /// A request whose outcome lands in `seen` ("ok" or the error's kind).
    fn request(seen: &Seen) -> Outgoing {
        let seen = seen.clone();
        Outgoing::get(Box::new(move |result| {
            let outcome = match result {
                Ok(_) => "ok".to_string(),
                Err(e) => format!("{:?}", e.kind()),
            };
            seen.lock().unwrap().push(outcome);
        }))
    }

    fn reconnect(threshold: u32, max_waiting: usize) -> Reconnect {
        let breaker = BreakerConfig { failure_threshold: threshold, cool_down: secs(5) };
        let backoff = Backoff { base: Duration::from_millis(100), max: secs(1) };
        Reconnect::new(breaker, backoff, max_waiting, 7)
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn failed_connects_back_off_exponentially_with_jitter_while_requests_wait() {
        let t = Instant::now();
        let mut r = reconnect(0, 16);
        let seen = Seen::default();
        let mut now = t;
        for failures in 1..=5u32 {
            assert!(r.gate(now).unwrap(), "a connect may start");
            r.failed(now);
            let until = r.until.unwrap();
            let ceiling =
                Backoff { base: Duration::from_millis(100), max: secs(1) }.ceiling(failures);
            assert!(until - now >= ceiling / 2 && until - now <= ceiling, "{failures}");
            // Meanwhile requests wait; the loop is woken at the backoff's end.
            assert!(!r.gate(now).unwrap(), "the backoff runs");
            assert_eq!(r.deadline(), None, "nobody waits yet");
            r.wait(request(&seen));
            assert_eq!(r.deadline(), Some(until));
            assert!(r.take_due(until - Duration::from_nanos(1)).is_empty());
            assert_eq!(r.take_due(until).len(), 1);
            now = until;
        }
        assert!(seen.lock().unwrap().is_empty(), "no request failed: they wait");
        r.connected();
        assert_eq!((r.gate(now).unwrap(), r.until), (true, None), "a success resets it");
    }

    #[test]
    fn the_jitter_comes_from_the_seed() {
        let delay = |seed| {
            let mut r = reconnect(0, 1);
            r.seed = seed;
            let t = Instant::now();
            r.failed(t);
            r.until.unwrap() - t
        };
        assert_eq!(delay(1), delay(1));
        let delays: std::collections::BTreeSet<_> = (0..16).map(delay).collect();
        assert!(delays.len() > 8, "seeds spread the delays: {delays:?}");
    }

    #[test]
    fn the_breaker_opens_fails_fast_and_a_probe_decides() {
        let t = Instant::now();
        let mut r = reconnect(2, 16);
        let seen = Seen::default();
        assert!(r.gate(t).unwrap());
        r.failed(t);
        // A request waits out the backoff; the failure that opens the breaker fails it.
        r.wait(request(&seen));
        r.failed(t);
        assert_eq!(*seen.lock().unwrap(), ["BreakerOpen { retry_after: 5s }"]);
        let open = r.gate(t + secs(1)).unwrap_err();
        assert_eq!(open.retry_after(), Some(secs(4)));

        // Cool-down over: one probe; requests meanwhile wait for it, and are not let go
        // while it runs.
        let later = t + secs(5);
        assert!(r.gate(later).unwrap(), "the probe");
        assert!(!r.gate(later).unwrap(), "one probe at a time");
        r.wait(request(&seen));
        assert!(r.take_due(later).is_empty());
        // It fails: open again at once.
        r.failed(later);
        assert_eq!(seen.lock().unwrap().len(), 2, "the waiting request failed fast");
        assert!(r.gate(later).is_err());

        // The next probe succeeds: closed, and what waited goes.
        let last = later + secs(5);
        assert!(r.gate(last).unwrap());
        r.wait(request(&seen));
        r.connected();
        assert_eq!(r.take_due(last).len(), 1);
        assert!(r.gate(last).unwrap(), "closed");
    }

    #[test]
    fn a_waiting_request_whose_timeout_passes_fails_unsent() {
        let t = Instant::now();
        let mut r = reconnect(0, 16);
        let seen = Seen::default();
        r.failed(t);
        let backoff_end = r.until.unwrap();
        let mut timed = request(&seen);
        timed.deadline = Some(t + Duration::from_nanos(1));
        r.wait(timed);
        r.wait(request(&seen));
        // The loop wakes for the timeout before the backoff's end.
        assert_eq!(r.deadline(), Some(t + Duration::from_nanos(1)));
        r.expire(t);
        assert!(seen.lock().unwrap().is_empty(), "not yet");
        r.expire(t + Duration::from_nanos(1));
        assert_eq!(*seen.lock().unwrap(), ["NotSent(Error { kind: TimedOut(Request) })"]);
        assert_eq!(r.deadline(), Some(backoff_end), "the other still waits for the connect");
        assert_eq!(r.take_due(backoff_end).len(), 1);
    }

    #[test]
    fn the_requests_that_wait_are_bounded() {
        let t = Instant::now();
        let mut r = reconnect(0, 2);
        let seen = Seen::default();
        r.failed(t);
        for _ in 0..3 {
            r.wait(request(&seen));
        }
        assert_eq!(*seen.lock().unwrap(), ["QueueFull"]);
        assert_eq!(r.take_due(r.until.unwrap()).len(), 2);
    }
}
