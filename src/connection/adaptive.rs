//! The adaptive receive window: grows the windows we grant when they, not the network,
//! limit how fast the peer can send (a long fat pipe), from a bandwidth-delay product
//! (BDP) estimate over PING round trips. Off unless [`Config::adaptive_window`] is set.
//!
//! Why: a sender can have at most one window of data in flight per round trip, so a
//! stream's throughput is at most window / RTT (1 MiB at 100 ms is 10 MiB/s, whatever the
//! link). A fixed large window costs memory on every connection; this one grows only where
//! the data shows it is needed, up to [`Config::max_adaptive_window`].
//!
//! How (the idea of gRPC's BDP estimator and hyper's `adaptive_window`; this code is our
//! own): when DATA arrives and no probe is out, a PING goes out and the DATA bytes that
//! arrive until its ACK are counted: that is what the peer sent in one round trip, the BDP
//! sample. If the sample filled at least 2/3 of the window, and the bandwidth it shows
//! (sample / RTT) beats the best seen by a quarter (more window still brings more
//! throughput; a queue that only stretches the round trip does not count), the window
//! becomes twice the sample, bounded by the maximum: the streams' by SETTINGS_INITIAL_
//! WINDOW_SIZE (RFC 9113 §6.9.2 raises open streams too), the connection's by
//! WINDOW_UPDATE (§6.9). Windows never shrink.
//!
//! Politeness: peers limit PINGs (ours allows 10/s sustained). Probes go out back to back
//! only while the window grows (a handful of times: doubling from 1 MiB to 16 MiB is four
//! steps); after a sample that did not grow it, the next probe waits 100 ms, then twice as
//! long after each further one, up to 10 s. At the maximum no probe is sent at all.

use super::Connection;
use crate::frame::{Frame, Ping, SettingId, Settings, StreamId, WindowUpdate};
use std::time::{Duration, Instant};

/// Pause after the first sample that did not grow the window; doubles after each next one.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
/// The longest pause between probes.
const MAX_PAUSE: Duration = Duration::from_secs(10);

/// The BDP estimator: pure arithmetic over byte counts and the caller's clock.
#[derive(Clone, Debug)]
pub(crate) struct Estimator {
    /// The window granted so far (every stream's initial window).
    window: u32,
    /// The bound.
    max: u32,
    /// The probe PING in flight: when it left.
    probe_sent: Option<Instant>,
    /// DATA bytes received since the probe left.
    sample: u64,
    /// The best bandwidth seen, in bytes per second.
    best_rate: u64,
    /// No probe before this (after samples that did not grow the window).
    next_probe: Option<Instant>,
    /// Samples in a row that did not grow the window.
    stable: u32,
}

impl Estimator {
    pub(crate) fn new(window: u32, max: u32) -> Estimator {
        Estimator {
            window,
            max: max.max(window),
            probe_sent: None,
            sample: 0,
            best_rate: 0,
            next_probe: None,
            stable: 0,
        }
    }

    /// The window granted so far.
    #[cfg(test)]
    pub(crate) fn window(&self) -> u32 {
        self.window
    }

    /// `n` bytes of DATA arrived at `now`; `true` when a probe PING should go out now.
    pub(crate) fn on_data(&mut self, n: u32, now: Instant) -> bool {
        if self.probe_sent.is_some() {
            self.sample += u64::from(n);
            return false;
        }
        if n == 0 || self.window >= self.max || self.next_probe.is_some_and(|at| now < at) {
            return false;
        }
        self.probe_sent = Some(now);
        self.sample = u64::from(n);
        true
    }

    /// Whether a probe is waiting for its ACK.
    pub(crate) fn probing(&self) -> bool {
        self.probe_sent.is_some()
    }

    /// The probe's ACK arrived at `now`: its round trip, and the new window if it grows.
    pub(crate) fn on_ack(&mut self, now: Instant) -> (Option<Duration>, Option<u32>) {
        let Some(sent) = self.probe_sent.take() else { return (None, None) };
        let rtt = now.saturating_duration_since(sent);
        // A round trip shorter than the clock's resolution counts as 1 µs.
        let micros = (rtt.as_micros() as u64).max(1);
        let rate = self.sample.saturating_mul(1_000_000) / micros;
        let fills = self.sample.saturating_mul(3) >= u64::from(self.window) * 2;
        // A quarter more than the best: a queue on the path makes the round trip grow with
        // the window, and the same bandwidth then looks like a full window every time.
        let faster = rate >= self.best_rate.saturating_add(self.best_rate / 4);
        self.best_rate = self.best_rate.max(rate);
        let grown = self.sample.saturating_mul(2).min(u64::from(self.max)) as u32;
        if fills && faster && grown > self.window {
            self.window = grown;
            self.stable = 0;
            self.next_probe = None;
            return (Some(rtt), Some(grown));
        }
        let pause = FIRST_PAUSE.saturating_mul(1 << self.stable.min(10)).min(MAX_PAUSE);
        self.stable += 1;
        self.next_probe = Some(now + pause);
        (Some(rtt), None)
    }
}

impl Connection {
    /// The payload of BDP probe PINGs: the shutdown secret with every byte changed, and
    /// different from the keepalive payload (its complement).
    pub(super) fn probe_payload(&self) -> [u8; 8] {
        self.ping_secret.map(|b| b ^ 0x5a)
    }

    /// DATA of `n` flow-controlled bytes was accepted: counts it, and sends a probe if due.
    #[inline]
    pub(super) fn adaptive_on_data(&mut self, n: u32) {
        let (Some(estimator), Some(now)) = (&mut self.adaptive, self.now) else { return };
        if estimator.on_data(n, now) {
            let payload = self.probe_payload();
            self.write_frame(&Frame::Ping(Ping { ack: false, payload }));
        }
    }

    /// Whether `payload` answers our BDP probe (then it is handled).
    pub(super) fn adaptive_on_ack(&mut self, payload: [u8; 8]) -> bool {
        let probe = self.probe_payload();
        let Some(estimator) = &mut self.adaptive else { return false };
        if !estimator.probing() || payload != probe {
            return false;
        }
        let Some(now) = self.now else { return true };
        let (rtt, grown) = estimator.on_ack(now);
        if let Some(rtt) = rtt {
            self.stats.ping_rtt = Some(rtt);
            self.stats.ping_rtt_samples += 1;
        }
        if let Some(window) = grown {
            self.grow_windows(window);
        }
        true
    }

    /// Raises every stream's window (SETTINGS_INITIAL_WINDOW_SIZE, applied to open streams
    /// when acknowledged, §6.9.2) and the connection's (WINDOW_UPDATE) to `window`.
    fn grow_windows(&mut self, window: u32) {
        let settings = Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, window);
        // Only fails with too many SETTINGS unacknowledged: the next growth tries again.
        let _ = self.update_settings(settings);
        let target = window.max(self.config.initial_connection_window_size);
        if let Some(increment) = self.recv_window.grow_target(target) {
            self.write_frame(&Frame::WindowUpdate(WindowUpdate::new(StreamId::ZERO, increment)));
        }
        self.stats.adaptive_window = window;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u32 = 1 << 20;

    /// One probe: `bytes` arrive during a round trip of `rtt`; returns the new window.
    fn round(e: &mut Estimator, now: &mut Instant, bytes: u32, rtt: Duration) -> Option<u32> {
        assert!(e.on_data(bytes.min(16_384), *now), "a probe goes out with the first DATA");
        let mut left = bytes.saturating_sub(16_384);
        while left > 0 {
            let n = left.min(16_384);
            assert!(!e.on_data(n, *now), "one probe at a time");
            left -= n;
        }
        *now += rtt;
        e.on_ack(*now).1
    }

    #[test]
    fn the_window_grows_when_the_bdp_exceeds_it() {
        // 100 ms round trip, a sender that always fills the window: each sample is a whole
        // window, so each round doubles it.
        let mut e = Estimator::new(MIB, 16 * MIB);
        let mut now = Instant::now();
        let rtt = Duration::from_millis(100);
        assert_eq!(round(&mut e, &mut now, MIB, rtt), Some(2 * MIB));
        assert_eq!(round(&mut e, &mut now, 2 * MIB, rtt), Some(4 * MIB));
        assert_eq!(e.window(), 4 * MIB);
    }

    #[test]
    fn the_window_stays_within_the_maximum_and_probes_stop_there() {
        let mut e = Estimator::new(MIB, 3 * MIB);
        let mut now = Instant::now();
        let rtt = Duration::from_millis(50);
        assert_eq!(round(&mut e, &mut now, MIB, rtt), Some(2 * MIB));
        assert_eq!(round(&mut e, &mut now, 2 * MIB, rtt), Some(3 * MIB), "bounded");
        assert!(!e.on_data(16_384, now), "at the maximum: no more probes");
        assert_eq!(e.window(), 3 * MIB);
        // A maximum below the initial window never shrinks it.
        assert_eq!(Estimator::new(4 * MIB, MIB).window(), 4 * MIB);
    }

    #[test]
    fn a_sample_well_below_the_window_does_not_grow_it() {
        // The network (or a slow reader), not the window, limits the sender: 400 KiB per
        // round trip of a 1 MiB window is under 2/3 of it.
        let mut e = Estimator::new(MIB, 16 * MIB);
        let mut now = Instant::now();
        assert_eq!(round(&mut e, &mut now, 400 << 10, Duration::from_millis(100)), None);
        assert_eq!(e.window(), MIB);
    }

    #[test]
    fn no_growth_without_more_bandwidth() {
        // The window doubled but the round trip doubled too: the same bandwidth, so more
        // window buys nothing (a queue filled up) and it stays; less bandwidth neither.
        for later_rtt in [200, 300] {
            let mut e = Estimator::new(MIB, 16 * MIB);
            let mut now = Instant::now();
            assert_eq!(round(&mut e, &mut now, MIB, Duration::from_millis(100)), Some(2 * MIB));
            let rtt = Duration::from_millis(later_rtt);
            assert_eq!(round(&mut e, &mut now, 2 * MIB, rtt), None, "{later_rtt} ms");
            assert_eq!(e.window(), 2 * MIB);
        }
    }

    #[test]
    fn probes_back_off_while_the_window_is_stable() {
        let mut e = Estimator::new(MIB, 16 * MIB);
        let mut now = Instant::now();
        let rtt = Duration::from_millis(1);
        assert_eq!(round(&mut e, &mut now, 1000, rtt), None);
        // 100 ms pause, then 200 ms, then 400 ms...
        for pause in [100, 200, 400, 800] {
            now += Duration::from_millis(pause - 1);
            assert!(!e.on_data(1000, now), "no probe before {pause} ms");
            now += Duration::from_millis(1);
            assert!(e.on_data(1000, now), "a probe after {pause} ms");
            now += rtt;
            assert_eq!(e.on_ack(now).1, None);
        }
        // Capped at 10 s.
        for _ in 0..20 {
            now += MAX_PAUSE;
            assert!(e.on_data(1000, now));
            now += rtt;
            e.on_ack(now);
        }
        // The pause restarts after growth.
        now += MAX_PAUSE;
        assert_eq!(round(&mut e, &mut now, MIB, Duration::from_millis(10)), Some(2 * MIB));
        assert!(e.on_data(1, now), "growing: the next probe at once");
    }
}
