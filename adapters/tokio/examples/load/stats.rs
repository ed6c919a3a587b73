//! What one run measured: latency and time-to-first-byte histograms, statuses, errors,
//! bytes. Each client (`-c`) keeps its own and they are merged at the end.

use hdrhistogram::Histogram;
use std::time::Duration;

/// The measurements of one client task, or of a whole run once merged.
pub struct Stats {
    /// Request latency in microseconds: from the send (or, with `--rate`, the intended
    /// send) to the end of the response body.
    pub latency: Histogram<u32>,
    /// Time to the response head, in microseconds, from the same start.
    pub ttfb: Histogram<u32>,
    /// Responses by status class: 1xx (never final, so unused), 2xx, 3xx, 4xx, 5xx.
    pub status: [u64; 5],
    /// Requests that failed without a response (reset, connection lost, pool error).
    pub failed: u64,
    /// Request and response body bytes of completed requests.
    pub bytes: u64,
}

impl Stats {
    pub fn new() -> Stats {
        // Three significant digits, microseconds up to an hour; 32-bit counts (a run
        // counts far fewer than 4 billion requests per bucket): ~25 KiB per task, half
        // the memory to clear when a task starts.
        let histogram = || Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds");
        Stats { latency: histogram(), ttfb: histogram(), status: [0; 5], failed: 0, bytes: 0 }
    }

    pub fn record(&mut self, status: u16, ttfb: Duration, latency: Duration, bytes: u64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.status[class] += 1;
        self.ttfb.saturating_record(micros(ttfb));
        self.latency.saturating_record(micros(latency));
        self.bytes += bytes;
    }

    pub fn merge(&mut self, other: &Stats) {
        let _ = self.latency.add(&other.latency);
        let _ = self.ttfb.add(&other.ttfb);
        for (a, b) in self.status.iter_mut().zip(other.status) {
            *a += b;
        }
        self.failed += other.failed;
        self.bytes += other.bytes;
    }

    /// Responses received, whatever their status.
    pub fn responses(&self) -> u64 {
        self.status.iter().sum()
    }

    /// Responses with a 2xx or 3xx status.
    pub fn succeeded(&self) -> u64 {
        self.status[1] + self.status[2]
    }

    /// Failures: requests without a response, and responses with status >= 400.
    pub fn errors(&self) -> u64 {
        self.failed + self.status[3] + self.status[4]
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}
