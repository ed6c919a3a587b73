//! Reconnect delays: exponential, capped, with jitter.
//!
//! After the n-th consecutive failed connect to an origin the next attempt waits
//! `base * 2^(n-1)`, capped at `max`, then jittered down to a value in `[d/2, d]` ("equal
//! jitter"): clients that failed together do not retry together, and the delay still grows
//! visibly. The randomness is the caller's (a `u64` per call), so the same inputs give the
//! same delay and tests need no real random source.

use std::time::Duration;

/// Exponential backoff with jitter. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The delay after the first failure (before jitter). Default 100 ms.
    pub base: Duration,
    /// The cap (before jitter). Default 10 s.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_millis(100), max: Duration::from_secs(10) }
    }
}

impl Backoff {
    /// The delay before the next attempt after `failures` consecutive failures (0 means
    /// none: no delay). `random` is any `u64`; it picks the point inside `[d/2, d]`.
    pub fn delay(&self, failures: u32, random: u64) -> Duration {
        let ceiling = self.ceiling(failures);
        let nanos = ceiling.as_nanos();
        let half = nanos / 2;
        let spread = nanos - half;
        let offset = if spread == 0 { 0 } else { u128::from(random) % (spread + 1) };
        duration_from_nanos(half + offset)
    }

    /// The un-jittered delay after `failures` consecutive failures: `base * 2^(failures-1)`
    /// capped at `max`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let shift = (failures - 1).min(64);
        let grown = self.base.as_nanos().checked_shl(shift).unwrap_or(u128::MAX);
        let grown = if shift > 0 && grown >> shift != self.base.as_nanos() {
            u128::MAX // the shift lost bits: overflowed
        } else {
            grown
        };
        duration_from_nanos(grown.min(self.max.as_nanos()))
    }
}

fn duration_from_nanos(nanos: u128) -> Duration {
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % 1_000_000_000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_failure_no_delay() {
        assert_eq!(Backoff::default().delay(0, 12345), Duration::ZERO);
    }

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        let b = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1) };
        let ms: Vec<u128> = (1..=6).map(|n| b.ceiling(n).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(1), "no overflow");
    }

    #[test]
    fn jitter_stays_within_half_and_the_whole_ceiling() {
        let b = Backoff::default();
        for n in 1..20 {
            let ceiling = b.ceiling(n);
            for random in [0, 1, 7, u64::MAX / 3, u64::MAX] {
                let d = b.delay(n, random);
                assert!(d >= ceiling / 2 && d <= ceiling, "{n} {random}: {d:?} vs {ceiling:?}");
            }
        }
    }

    #[test]
    fn jitter_spreads_and_is_deterministic() {
        let b = Backoff::default();
        let delays: std::collections::BTreeSet<Duration> =
            (0..64u64).map(|r| b.delay(3, r.wrapping_mul(0x9E37_79B9_7F4A_7C15))).collect();
        assert!(delays.len() > 32, "different randoms give different delays: {delays:?}");
        assert_eq!(b.delay(3, 42), b.delay(3, 42));
    }
}
