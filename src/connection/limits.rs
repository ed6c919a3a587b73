//! Rate limits against the known HTTP/2 floods, and the counters users observe.

use crate::config::RateLimit;
use std::time::Instant;

/// A token bucket over the caller's clock. Without a clock (no time given yet) it
/// never refills: the burst is all there is, which keeps tests deterministic.
#[derive(Clone, Debug)]
pub(crate) struct TokenBucket {
    limit: RateLimit,
    tokens: u32,
    /// Fractional refill carried between calls, in tokens * 1e9 (nanosecond-tokens).
    carry: u128,
    last: Option<Instant>,
}

impl TokenBucket {
    pub(crate) fn new(limit: RateLimit) -> TokenBucket {
        TokenBucket { limit, tokens: limit.burst, carry: 0, last: None }
    }

    /// Takes one token; `false` when the bucket is empty (abuse).
    pub(crate) fn take(&mut self, now: Option<Instant>) -> bool {
        self.refill(now);
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }

    fn refill(&mut self, now: Option<Instant>) {
        let Some(now) = now else { return };
        let Some(last) = self.last.replace(now) else { return };
        let elapsed = now.saturating_duration_since(last).as_nanos();
        self.carry += elapsed * u128::from(self.limit.per_second);
        let whole = self.carry / 1_000_000_000;
        self.carry %= 1_000_000_000;
        let tokens = u128::from(self.tokens) + whole;
        self.tokens = tokens.min(u128::from(self.limit.burst)) as u32;
        if self.tokens == self.limit.burst {
            self.carry = 0;
        }
    }
}

/// Counters of what happened on a connection, for metrics and for spotting abuse.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Frames received.
    pub frames_received: u64,
    /// Frames sent.
    pub frames_sent: u64,
    /// Bytes consumed by `recv` (bytes it hands back to be offered again count once, when
    /// consumed).
    pub bytes_received: u64,
    /// DATA payload bytes received.
    pub data_received: u64,
    /// DATA payload bytes sent.
    pub data_sent: u64,
    /// Streams the peer opened.
    pub streams_opened_remote: u64,
    /// Streams we opened.
    pub streams_opened_local: u64,
    /// RST_STREAM frames received.
    pub resets_received: u64,
    /// Streams the peer reset before we responded (the rapid-reset signal).
    pub resets_received_early: u64,
    /// RST_STREAM sent because the peer broke a stream-level rule.
    pub resets_sent_protocol: u64,
    /// RST_STREAM REFUSED_STREAM sent (concurrency limit, shutting down).
    pub resets_sent_refused: u64,
    /// RST_STREAM sent on the application's request.
    pub resets_sent_local: u64,
    /// Times sending stopped for want of flow-control window: a stream's window, or the
    /// connection's, ran out with DATA queued. Counted once per stall (when it begins), not
    /// per `transmit` call while it lasts.
    pub flow_control_stalls: u64,
    /// GOAWAY frames sent (a graceful shutdown sends two).
    pub goaways_sent: u64,
    /// PING frames received (not ACKs).
    pub pings_received: u64,
    /// SETTINGS frames received (not ACKs).
    pub settings_received: u64,
    /// Frames that carried nothing (empty DATA or CONTINUATION, updates for closed streams).
    pub empty_frames_received: u64,
    /// The latest PING round-trip time (see [`Connection::rtt`](crate::Connection::rtt)):
    /// keepalive, shutdown and application PINGs all count.
    pub ping_rtt: Option<std::time::Duration>,
    /// PINGs of ours answered and timed: each one a `ping_rtt` sample (so a pool can tell a
    /// new sample from the same figure again).
    pub ping_rtt_samples: u64,
    /// The window the adaptive receive window grew every stream's to
    /// ([`Config::adaptive_window`](crate::Config::adaptive_window)); 0 while it has not
    /// grown.
    pub adaptive_window: u32,
    /// Connection-specific fields left out of messages we sent
    /// ([`Config::strip_connection_fields`](crate::Config::strip_connection_fields)).
    pub connection_fields_stripped: u64,
    /// Protocol glitches counted against [`Config::glitch_rate`](crate::Config::glitch_rate).
    pub glitches: u64,
}

impl Stats {
    /// Adds `other`'s counters to these, for totals over many connections (a server's):
    /// counts are summed, the round-trip time is `other`'s when it has one, the adaptive
    /// window the larger of the two. Every field is named here, so a counter added to
    /// `Stats` cannot be left out of the totals unnoticed.
    pub fn accumulate(&mut self, other: &Stats) {
        let Stats {
            frames_received,
            frames_sent,
            bytes_received,
            data_received,
            data_sent,
            streams_opened_remote,
            streams_opened_local,
            resets_received,
            resets_received_early,
            resets_sent_protocol,
            resets_sent_refused,
            resets_sent_local,
            flow_control_stalls,
            goaways_sent,
            pings_received,
            settings_received,
            empty_frames_received,
            ping_rtt,
            ping_rtt_samples,
            adaptive_window,
            connection_fields_stripped,
            glitches,
        } = other;
        self.frames_received += frames_received;
        self.frames_sent += frames_sent;
        self.bytes_received += bytes_received;
        self.data_received += data_received;
        self.data_sent += data_sent;
        self.streams_opened_remote += streams_opened_remote;
        self.streams_opened_local += streams_opened_local;
        self.resets_received += resets_received;
        self.resets_received_early += resets_received_early;
        self.resets_sent_protocol += resets_sent_protocol;
        self.resets_sent_refused += resets_sent_refused;
        self.resets_sent_local += resets_sent_local;
        self.flow_control_stalls += flow_control_stalls;
        self.goaways_sent += goaways_sent;
        self.pings_received += pings_received;
        self.settings_received += settings_received;
        self.empty_frames_received += empty_frames_received;
        self.ping_rtt = ping_rtt.or(self.ping_rtt);
        self.ping_rtt_samples += ping_rtt_samples;
        self.adaptive_window = self.adaptive_window.max(*adaptive_window);
        self.connection_fields_stripped += connection_fields_stripped;
        self.glitches += glitches;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_burst_then_refills_at_rate() {
        let mut bucket = TokenBucket::new(RateLimit::new(3, 2));
        let t0 = Instant::now();
        assert!((0..3).all(|_| bucket.take(Some(t0))));
        assert!(!bucket.take(Some(t0)));
        assert!(bucket.take(Some(t0 + Duration::from_millis(500))), "one token after 0.5 s at 2/s");
        assert!(!bucket.take(Some(t0 + Duration::from_millis(600))));
        assert!((0..3).all(|_| bucket.take(Some(t0 + Duration::from_secs(60)))), "capped at burst");
        assert!(!bucket.take(Some(t0 + Duration::from_secs(60))));
    }

    #[test]
    fn bucket_without_clock_is_only_the_burst() {
        let mut bucket = TokenBucket::new(RateLimit::new(2, 1000));
        assert!(bucket.take(None) && bucket.take(None));
        assert!(!bucket.take(None));
    }
}

#[cfg(test)]
mod stats_tests {
    use super::Stats;
    use std::time::Duration;

    #[test]
    fn accumulated_stats_sum_counts_keep_the_latest_rtt_and_the_largest_window() {
        let a =
            Stats { frames_received: 3, glitches: 1, adaptive_window: 1 << 20, ..Stats::default() };
        let b = Stats {
            frames_received: 4,
            goaways_sent: 1,
            ping_rtt: Some(Duration::from_millis(7)),
            adaptive_window: 1 << 16,
            ..Stats::default()
        };
        let mut total = Stats::default();
        total.accumulate(&a);
        total.accumulate(&b);
        assert_eq!((total.frames_received, total.glitches, total.goaways_sent), (7, 1, 1));
        assert_eq!(
            (total.ping_rtt, total.adaptive_window),
            (Some(Duration::from_millis(7)), 1 << 20)
        );
        // A connection without a measured round trip leaves the latest one in place.
        total.accumulate(&Stats::default());
        assert_eq!(total.ping_rtt, Some(Duration::from_millis(7)));
    }
}
