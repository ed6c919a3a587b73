//! Flow-control windows (RFC 9113 §5.2, §6.9).
//!
//! A window is signed: SETTINGS_INITIAL_WINDOW_SIZE may shrink a send window below zero
//! (§6.9.2), and the sender then waits until WINDOW_UPDATEs bring it back above zero. No
//! operation lets a window leave [-2^31, 2^31-1]; growth past 2^31-1 is the peer's
//! FLOW_CONTROL_ERROR (§6.9.1).

use crate::frame::MAX_WINDOW_SIZE;

/// A flow-control window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window(i32);

/// The window would grow past 2^31-1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowOverflow;

impl Window {
    /// A window of `size` bytes (at most 2^31-1).
    pub fn new(size: u32) -> Window {
        Window(size.min(MAX_WINDOW_SIZE) as i32)
    }

    /// The current size; negative after a shrinking SETTINGS_INITIAL_WINDOW_SIZE.
    pub fn size(self) -> i32 {
        self.0
    }

    /// How many bytes may be sent or received now.
    pub fn available(self) -> u32 {
        // req 9113-6.9.2-3
        self.0.max(0) as u32
    }

    /// Grows the window by a WINDOW_UPDATE increment.
    pub fn increase(&mut self, increment: u32) -> Result<(), WindowOverflow> {
        let next = i64::from(self.0) + i64::from(increment);
        // req 9113-6.9.1-3
        if next > i64::from(MAX_WINDOW_SIZE) {
            return Err(WindowOverflow);
        }
        self.0 = next as i32;
        Ok(())
    }

    /// Takes `n` bytes out of the window; `false` (and no change) if they do not fit.
    pub fn consume(&mut self, n: u32) -> bool {
        if n > self.available() {
            return false;
        }
        self.0 -= n as i32;
        true
    }

    /// Applies a change of SETTINGS_INITIAL_WINDOW_SIZE from `old` to `new` (§6.9.2).
    pub fn adjust(&mut self, old: u32, new: u32) -> Result<(), WindowOverflow> {
        let next = i64::from(self.0) + i64::from(new) - i64::from(old);
        // req 9113-6.9.1-3, 9113-6.9.2-2
        if next > i64::from(MAX_WINDOW_SIZE) || next < i64::from(i32::MIN) {
            return Err(WindowOverflow);
        }
        self.0 = next as i32;
        Ok(())
    }
}

/// The receiving side of one window: what the peer may still send, and what the
/// application has released but we have not yet announced.
///
/// WINDOW_UPDATEs are batched: nothing is announced until the released bytes reach a
/// threshold, so a stream of small DATA frames does not cause a stream of small updates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecvWindow {
    /// What the peer may still send.
    window: Window,
    /// Released by the application, not yet announced.
    pending: u32,
    /// The window size we aim to restore.
    target: u32,
}

impl RecvWindow {
    /// A window the peer starts with `size` bytes of.
    pub fn new(size: u32) -> RecvWindow {
        RecvWindow { window: Window::new(size), pending: 0, target: size }
    }

    /// What the peer may still send.
    pub fn available(&self) -> u32 {
        self.window.available()
    }

    /// Accounts for `n` received bytes; `false` if the peer overran the window.
    pub fn receive(&mut self, n: u32) -> bool {
        self.window.consume(n)
    }

    /// The application is done with `n` bytes.
    pub fn release(&mut self, n: u32) {
        self.pending = self.pending.saturating_add(n);
    }

    /// Bytes received and not yet released (buffered or being processed).
    pub fn unreleased(&self) -> u32 {
        self.target.saturating_sub(self.window.available()).saturating_sub(self.pending)
    }

    /// The increment to announce now, if the released bytes reached `threshold`/256 of
    /// the target (or `force`). The window grows by it.
    pub fn take_update(&mut self, threshold: u32, force: bool) -> Option<u32> {
        let limit = (u64::from(self.target) * u64::from(threshold) / 256).max(1) as u32;
        if self.pending == 0 || (!force && self.pending < limit) {
            return None;
        }
        let increment =
            self.pending.min(MAX_WINDOW_SIZE - self.window.available().min(MAX_WINDOW_SIZE));
        self.pending -= increment;
        if increment == 0 {
            return None;
        }
        self.window.increase(increment).ok()?;
        Some(increment)
    }

    /// Changes the target size (our SETTINGS_INITIAL_WINDOW_SIZE changed and was ACKed).
    pub fn retarget(&mut self, old: u32, new: u32) -> Result<(), WindowOverflow> {
        self.window.adjust(old, new)?;
        self.target = new;
        Ok(())
    }

    /// Raises the target and announces the difference at once (used for the connection
    /// window, which SETTINGS cannot change).
    pub fn grow_target(&mut self, new: u32) -> Option<u32> {
        let increment = new.checked_sub(self.target)?;
        if increment == 0 {
            return None;
        }
        self.window.increase(increment).ok()?;
        self.target = new;
        Some(increment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9113_6_9_1_window_cannot_exceed_2_31_minus_1() {
        let mut w = Window::new(MAX_WINDOW_SIZE);
        assert_eq!(w.increase(1), Err(WindowOverflow));
        assert_eq!(w.size(), MAX_WINDOW_SIZE as i32);
    }

    #[test]
    fn rfc9113_6_9_2_initial_window_change_may_make_window_negative() {
        let mut w = Window::new(100);
        assert!(w.consume(80));
        w.adjust(100, 10).unwrap();
        assert_eq!(w.size(), -70);
        assert_eq!(w.available(), 0);
        assert!(!w.consume(1));
        w.increase(71).unwrap();
        assert_eq!(w.available(), 1);
    }

    #[test]
    fn window_updates_are_batched_until_the_threshold() {
        let mut r = RecvWindow::new(1000);
        assert!(r.receive(600));
        assert!(!r.receive(401), "overrun");
        r.release(100);
        assert_eq!(r.take_update(64, false), None, "100 < 250: wait");
        r.release(200);
        assert_eq!(r.take_update(64, false), Some(300));
        assert_eq!(r.available(), 700);
        r.release(1);
        assert_eq!(r.take_update(64, true), Some(1));
    }
}
