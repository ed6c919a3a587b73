//! Timeouts. The clock is the caller's: time enters with every input, `recv(data, now)` and
//! `handle_timeout(now)`, and every deadline is computed from the latest `now` given. Only
//! `handle_timeout` fires what is due, so the same inputs at the same times give the same
//! output whatever else the caller does in between.

use super::{Connection, Role, Shutdown};
use crate::ErrorCode;
use crate::error::ConnectionErrorKind as Kind;
use crate::frame::{Frame, Ping};
use std::time::Instant;

/// Armed deadlines.
#[derive(Clone, Debug, Default)]
pub(super) struct Timers {
    /// The peer's preface and first SETTINGS (slowloris).
    pub(super) preface: Option<Instant>,
    /// Server: the first request head.
    pub(super) first_request: Option<Instant>,
    /// The end of a header block spread over CONTINUATION frames.
    pub(super) header_block: Option<Instant>,
    /// The ACK of our oldest unacknowledged SETTINGS.
    pub(super) settings: Option<Instant>,
    /// Idle check: due `idle_timeout` after the last frame received or the last stream
    /// closing, whichever is later (or after a check that found streams open).
    pub(super) idle: Option<Instant>,
    /// When the connection last went from some streams to none.
    pub(super) streams_ended: Option<Instant>,
    /// When the last frame arrived (the clock's start before any did): the idle and
    /// keepalive deadlines count from it, so both are exact, not checks once per period.
    pub(super) last_activity: Option<Instant>,
    /// When to send a keepalive PING (checked against `last_activity` when due).
    pub(super) keepalive: Option<Instant>,
    /// When an outstanding keepalive PING counts as lost.
    pub(super) keepalive_ack: Option<Instant>,
    /// Graceful shutdown: the final GOAWAY at the latest.
    pub(super) shutdown: Option<Instant>,
}

impl Timers {
    pub(super) fn clear(&mut self) {
        *self = Timers::default();
    }

    fn earliest(&self) -> Option<Instant> {
        [
            self.preface,
            self.first_request,
            self.header_block,
            self.settings,
            self.idle,
            self.keepalive,
            self.keepalive_ack,
            self.shutdown,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// The payload of our shutdown PING: `entropy` mixed with the time the connection's clock
/// started (each connection's own, unknown to the peer).
pub(super) fn ping_secret(entropy: u64, start: Option<Instant>) -> [u8; 8] {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    entropy.hash(&mut h);
    start.hash(&mut h);
    h.finish().to_be_bytes()
}

impl Connection {
    /// When `handle_timeout` should next be called, if any timer is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closing {
            return None;
        }
        self.timers.earliest()
    }

    /// Advances the clock to `now` and fires what is due. Call it once right after creating
    /// the connection, whenever the timer from `poll_timeout` fires, and whenever else the
    /// caller wakes up (cheap when nothing is due).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closing {
            return;
        }
        let now = self.advance_clock(now);
        let t = &self.timers;
        let due = |at: Option<Instant>| at.is_some_and(|at| at <= now);
        if due(t.preface) {
            self.fail_with(
                ErrorCode::PROTOCOL_ERROR,
                Kind::PrefaceTimeout,
                "no connection preface in time",
            );
            return;
        }
        if due(t.first_request) {
            // No request in time: nothing went wrong, the slot is simply taken back.
            self.timers.first_request = None;
            self.close_idle("no request in time");
            return;
        }
        let t = &self.timers;
        if due(t.header_block) {
            // A block left open blocks every other frame: abuse, like a CONTINUATION flood.
            self.fail_with(
                ErrorCode::ENHANCE_YOUR_CALM,
                Kind::HeaderBlockTimeout,
                "header block not finished in time",
            );
            return;
        }
        // req 9113-6.5.3-5
        if due(t.settings) {
            self.fail_with(
                ErrorCode::SETTINGS_TIMEOUT,
                Kind::SettingsTimeout,
                "SETTINGS not acknowledged in time",
            );
            return;
        }
        if due(t.keepalive_ack) {
            // Typed, so every adapter can say "keepalive timeout"; NO_ERROR on the wire: the
            // peer broke no rule, it stopped answering.
            self.fail_with(
                ErrorCode::NO_ERROR,
                Kind::KeepaliveTimeout,
                "keepalive PING not answered",
            );
            return;
        }
        if due(self.timers.shutdown) {
            self.finish_shutdown();
        }
        if due(self.timers.keepalive) {
            self.timers.keepalive = None;
            // A PING once nothing has arrived for a whole interval; until then the timer
            // moves to an interval after the last frame.
            let quiet_until = self.quiet_until(self.config.keepalive_interval);
            if self.timers.keepalive_ack.is_some() {
                self.arm_keepalive(now);
            } else if quiet_until.is_some_and(|at| at > now) {
                self.timers.keepalive = quiet_until;
            } else {
                let payload = self.keepalive_payload();
                self.write_frame(&Frame::Ping(Ping { ack: false, payload }));
                self.keepalive_sent = Some(now);
                self.timers.keepalive_ack = Some(now + self.config.keepalive_timeout);
                self.arm_keepalive(now);
            }
        }
        if due(self.timers.idle) {
            self.timers.idle = None;
            let quiet_until = self.idle_until();
            if self.active_streams() > 0 {
                // Streams open: checked again a period from now (then, if they closed
                // meanwhile, it waits on until a whole period after the last one did).
                self.timers.idle = self.config.idle_timeout.map(|d| now + d);
            } else if quiet_until.is_some_and(|at| at > now) {
                self.timers.idle = quiet_until;
            } else {
                self.close_idle("idle timeout");
            }
        }
    }

    /// Moves the clock to `now` (never back: an earlier time counts as the latest seen) and
    /// arms the timers that were waiting for a clock. Returns the clock's time.
    pub(super) fn advance_clock(&mut self, now: Instant) -> Instant {
        if self.now.is_none() && self.shutdown == Shutdown::None {
            // The clock starts: the PING secret becomes this connection's own (no PING of
            // ours that carries it can be out yet; keepalive needs the clock too).
            self.ping_secret = ping_secret(self.config.entropy, Some(now));
        }
        let now = self.now.map_or(now, |seen| seen.max(now));
        self.now = Some(now);
        self.arm_missing(now);
        now
    }

    /// Arms the timers whose condition holds but which were waiting for a clock.
    fn arm_missing(&mut self, now: Instant) {
        let c = &self.config;
        let t = &mut self.timers;
        if !self.got_settings && t.preface.is_none() {
            t.preface = c.preface_timeout.map(|d| now + d);
        }
        // Armed with the first clock, which every input brings before any frame is read:
        // no request can have come yet.
        if self.role == Role::Server && !self.first_request_armed {
            self.first_request_armed = true;
            t.first_request = c.first_request_timeout.map(|d| now + d);
        }
        if !self.pending_settings.is_empty() && t.settings.is_none() {
            t.settings = c.settings_timeout.map(|d| now + d);
        }
        if self.header_block.is_some() && t.header_block.is_none() {
            t.header_block = c.header_block_timeout.map(|d| now + d);
        }
        if t.last_activity.is_none() {
            t.last_activity = Some(now);
        }
        if t.idle.is_none() {
            t.idle = c.idle_timeout.map(|d| now + d);
        }
        if t.keepalive.is_none() && t.keepalive_ack.is_none() {
            self.arm_keepalive(now);
        }
        if self.shutdown == Shutdown::Announced && self.timers.shutdown.is_none() {
            self.timers.shutdown = Some(now + self.config.shutdown_timeout);
        }
    }

    /// The payload of keepalive PINGs: the complement of the shutdown PING's.
    pub(super) fn keepalive_payload(&self) -> [u8; 8] {
        self.ping_secret.map(|b| !b)
    }

    fn arm_keepalive(&mut self, now: Instant) {
        self.timers.keepalive = self.config.keepalive_interval.map(|d| now + d);
    }

    /// Something arrived from the peer (every input brings the clock first).
    pub(super) fn note_activity(&mut self) {
        self.timers.last_activity = self.now;
    }

    /// The last stream closed: the idle period begins (RFC 9113 §9.1). Only noted: the
    /// idle check armed is never later than a period from now (it counts from an earlier
    /// frame or check), and when it comes due it waits on until `idle_until`.
    pub(super) fn streams_ended(&mut self) {
        self.timers.streams_ended = self.now;
    }

    /// `period` after the last frame received.
    fn quiet_until(&self, period: Option<std::time::Duration>) -> Option<Instant> {
        Some(self.timers.last_activity? + period?)
    }

    /// The end of the idle period: `idle_timeout` after the last frame received or the
    /// last stream closing, whichever is later.
    fn idle_until(&self) -> Option<Instant> {
        let quiet = self.quiet_until(self.config.idle_timeout)?;
        let ended = self.timers.streams_ended.zip(self.config.idle_timeout).map(|(at, d)| at + d);
        Some(ended.map_or(quiet, |ended| ended.max(quiet)))
    }

    /// A keepalive PING was answered.
    pub(super) fn keepalive_answered(&mut self) {
        self.timers.keepalive_ack = None;
        if let Some(now) = self.now {
            self.arm_keepalive(now);
        }
    }
}
