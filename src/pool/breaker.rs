//! The circuit breaker of one origin.
//!
//! A server that is down costs every request a connect timeout, and a crowd of clients
//! reconnecting at once keeps it down. The breaker turns repeated failure into fast
//! failure:
//!
//! ```text
//!   Closed --(failure_threshold consecutive connect/handshake failures)--> Open
//!   Open   --(cool_down elapsed, seen at the next request)--------------> HalfOpen
//!   HalfOpen: one connect attempt (the probe); other requests wait for it
//!   HalfOpen --(probe connects)--> Closed       HalfOpen --(probe fails)--> Open
//! ```
//!
//! While open, requests fail at once with the time left until the probe. Only connect and
//! handshake failures count: a stream error says nothing about whether the origin is up.

use std::time::{Duration, Instant};

/// The breaker's knobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive connect/handshake failures that open the breaker; 0 disables it.
    /// Default 5.
    pub failure_threshold: u32,
    /// How long it stays open before one probe is let through. Default 5 s.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig { failure_threshold: 5, cool_down: Duration::from_secs(5) }
    }
}

/// Where a breaker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests and connects go through.
    Closed,
    /// Requests fail fast until `until`.
    Open {
        /// When the probe may go.
        until: Instant,
    },
    /// One probe connect is allowed (`probing` once it started); requests wait for it.
    HalfOpen {
        /// Whether the probe is under way.
        probing: bool,
    },
}

/// A change of state, for the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Closed or half-open -> open.
    Opened,
    /// Open -> half-open.
    HalfOpened,
    /// Half-open -> closed.
    Closed,
}

/// A circuit breaker. See the module docs.
#[derive(Clone, Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: BreakerState,
    failures: u32,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Breaker {
        Breaker { config, state: BreakerState::Closed, failures: 0 }
    }

    /// The current state (an open breaker whose cool-down is over is still `Open` until
    /// [`admit`](Self::admit) sees it).
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Consecutive connect failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether a request may go on (wait or be sent) at `now`: `Err(retry_after)` while
    /// open. Moves an open breaker whose cool-down is over to half-open.
    pub fn admit(&mut self, now: Instant) -> (Result<(), Duration>, Option<Transition>) {
        match self.state {
            BreakerState::Open { until } if now < until => (Err(until - now), None),
            BreakerState::Open { .. } => {
                self.state = BreakerState::HalfOpen { probing: false };
                (Ok(()), Some(Transition::HalfOpened))
            }
            _ => (Ok(()), None),
        }
    }

    /// Whether [`try_connect`](Self::try_connect) would allow a connect now.
    pub fn can_connect(&self) -> bool {
        matches!(self.state, BreakerState::Closed | BreakerState::HalfOpen { probing: false })
    }

    /// Whether a connect attempt may start: always when closed, once when half-open (the
    /// probe), never when open.
    pub fn try_connect(&mut self) -> bool {
        match self.state {
            BreakerState::Closed => true,
            BreakerState::HalfOpen { probing: false } => {
                self.state = BreakerState::HalfOpen { probing: true };
                true
            }
            _ => false,
        }
    }

    /// A connect attempt succeeded.
    pub fn record_success(&mut self) -> Option<Transition> {
        self.failures = 0;
        let was = std::mem::replace(&mut self.state, BreakerState::Closed);
        matches!(was, BreakerState::HalfOpen { .. } | BreakerState::Open { .. })
            .then_some(Transition::Closed)
    }

    /// A connect attempt failed at `now`.
    pub fn record_failure(&mut self, now: Instant) -> Option<Transition> {
        self.failures = self.failures.saturating_add(1);
        let open = match self.state {
            BreakerState::HalfOpen { .. } => true,
            BreakerState::Closed => {
                self.config.failure_threshold != 0 && self.failures >= self.config.failure_threshold
            }
            BreakerState::Open { .. } => false,
        };
        if !open {
            return None;
        }
        let until = now.checked_add(self.config.cool_down).unwrap_or(now);
        self.state = BreakerState::Open { until };
        Some(Transition::Opened)
    }

    /// The connect attempt of a half-open breaker was abandoned without an answer (its
    /// requests went away): let another probe go.
    pub fn probe_abandoned(&mut self) {
        if let BreakerState::HalfOpen { probing: true } = self.state {
            self.state = BreakerState::HalfOpen { probing: false };
        }
    }

    /// Whether the breaker holds nothing worth remembering (closed, no failures).
    pub fn is_pristine(&self) -> bool {
        self.state == BreakerState::Closed && self.failures == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig { failure_threshold: 3, cool_down: Duration::from_secs(5) })
    }

    #[test]
    fn opens_after_the_threshold_of_consecutive_failures() {
        let t = Instant::now();
        let mut b = breaker();
        assert_eq!(b.record_failure(t), None);
        assert_eq!(b.record_failure(t), None);
        assert_eq!(b.record_failure(t), Some(Transition::Opened));
        assert_eq!(b.admit(t + Duration::from_secs(1)).0, Err(Duration::from_secs(4)));
        assert!(!b.try_connect());
    }

    #[test]
    fn a_success_resets_the_count() {
        let t = Instant::now();
        let mut b = breaker();
        b.record_failure(t);
        b.record_failure(t);
        assert_eq!(b.record_success(), None);
        assert_eq!(b.record_failure(t), None);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn half_open_admits_one_probe_then_closes_on_success() {
        let t = Instant::now();
        let mut b = breaker();
        (0..3).for_each(|_| {
            b.record_failure(t);
        });
        let later = t + Duration::from_secs(5);
        assert_eq!(b.admit(later), (Ok(()), Some(Transition::HalfOpened)));
        assert!(b.try_connect(), "the probe");
        assert!(!b.try_connect(), "only one probe");
        assert_eq!(b.admit(later), (Ok(()), None), "requests wait for the probe");
        assert_eq!(b.record_success(), Some(Transition::Closed));
        assert!(b.is_pristine());
    }

    #[test]
    fn a_failed_probe_opens_again() {
        let t = Instant::now();
        let mut b = breaker();
        (0..3).for_each(|_| {
            b.record_failure(t);
        });
        let later = t + Duration::from_secs(6);
        assert_eq!(b.admit(later), (Ok(()), Some(Transition::HalfOpened)));
        assert!(b.try_connect());
        assert_eq!(b.record_failure(later), Some(Transition::Opened));
        assert_eq!(b.admit(later).0, Err(Duration::from_secs(5)));
    }

    #[test]
    fn threshold_zero_never_opens() {
        let t = Instant::now();
        let mut b = Breaker::new(BreakerConfig { failure_threshold: 0, ..Default::default() });
        for _ in 0..100 {
            assert_eq!(b.record_failure(t), None);
        }
        assert!(b.try_connect());
    }
}
