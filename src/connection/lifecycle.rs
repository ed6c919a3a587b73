//! Starting, failing and closing: the connection's and each stream's.

use super::{Connection, PREFACE, Role, Shutdown};
use crate::error::{ConnectionError, ConnectionErrorKind, Initiator};
use crate::event::Event;
use crate::frame::{Frame, GoAway, Ping, RstStream, SettingId, Settings, StreamId, WindowUpdate};
use crate::streams::ClosedBy;
use crate::streams::Stream;
use crate::streams::state::{Event as StreamEvent, Outcome, State};
use crate::{ErrorCode, ProtocolError, Scope};
use bytes::Bytes;

/// Idle streams reset by us that are remembered as closed (see `Connection::reset_idle`).
/// A peer resetting more than this many of its idle streams pays for each in stream
/// errors (`local_reset_rate`); the oldest is then forgotten, as after our RST_STREAM
/// on an open stream once `max_closed_streams` is passed.
const MAX_RESET_IDLE: usize = 64;

impl Connection {
    /// Queues our preface: the client magic, our SETTINGS, and the connection window
    /// increase (§3.4, §6.9.2).
    pub(super) fn start(&mut self) {
        if self.role == Role::Client {
            self.out.frame_buf().extend_from_slice(PREFACE);
        }
        // req 9113-3.4-1, 9113-3.4-3, 9113-3.3-2, 9113-3.2-3
        let settings = self.initial_settings();
        // req 9113-6.5-1
        self.write_frame(&Frame::Settings(settings.clone()));
        self.pending_settings.push_back(settings);
        // req 9113-5.2.1-1
        if let Some(increment) =
            self.recv_window.grow_target(self.config.initial_connection_window_size)
        {
            self.write_frame(&Frame::WindowUpdate(WindowUpdate::new(StreamId::ZERO, increment)));
        }
    }

    fn initial_settings(&self) -> Settings {
        let c = &self.config;
        let mut s = Settings::new();
        if c.header_table_size != 4096 {
            s = s.with(SettingId::HEADER_TABLE_SIZE, c.header_table_size);
        }
        if self.role == Role::Client {
            // req 9113-6.5.2-4, 9113-6.5.2-5
            s = s.with(SettingId::ENABLE_PUSH, u32::from(c.enable_push));
        }
        // req 9113-6.5.2-9
        s = s.with(SettingId::MAX_CONCURRENT_STREAMS, c.max_concurrent_streams);
        if c.initial_stream_window_size != 65_535 {
            // req 9113-5.2.1-1
            s = s.with(SettingId::INITIAL_WINDOW_SIZE, c.initial_stream_window_size);
        }
        if c.max_frame_size != 16_384 {
            s = s.with(SettingId::MAX_FRAME_SIZE, c.max_frame_size);
        }
        s = s.with(SettingId::MAX_HEADER_LIST_SIZE, c.max_header_list_size);
        if self.role == Role::Server && c.enable_connect_protocol {
            s = s.with(SettingId::ENABLE_CONNECT_PROTOCOL, 1);
        }
        // RFC 9218 §2.1: we schedule by RFC 9218 signals, not RFC 7540 priorities.
        s.with(SettingId::NO_RFC7540_PRIORITIES, 1)
    }

    /// Writes a control frame into the output.
    pub(super) fn write_frame(&mut self, frame: &Frame) {
        frame.encode(self.out.frame_buf());
        self.stats.frames_sent += 1;
    }

    /// Ends the connection with GOAWAY `code` for a protocol error (a connection error,
    /// §5.4.1) and returns the sticky error.
    pub(super) fn fail(&mut self, code: ErrorCode, reason: &'static str) -> ConnectionError {
        self.fail_with(code, ConnectionErrorKind::Protocol, reason)
    }

    /// Ends the connection with GOAWAY `code` and returns the sticky error, of `kind`.
    /// Every stream still open ends with it (`Event::Closed` reports it for all).
    pub(super) fn fail_with(
        &mut self,
        code: ErrorCode,
        kind: ConnectionErrorKind,
        reason: &'static str,
    ) -> ConnectionError {
        // req 9113-5.4-1, 9113-5.4-2, 9113-5.4-5
        if let Some(e) = &self.error {
            return e.clone();
        }
        let error = ConnectionError::local(code, kind, reason);
        // req 9113-5.4-3, 9113-5.4-4
        // req 9113-6.8-5
        if self.goaway_sent.is_none() || code != ErrorCode::NO_ERROR {
            // §6.8: the last stream id never grows from one GOAWAY to the next (streams
            // ignored after a final GOAWAY were not processed).
            // req 9113-8.7-4
            // req 9113-6.8-6
            let last =
                self.goaway_sent.map_or(self.last_remote_id, |sent| sent.min(self.last_remote_id));
            // req 9113-5.4-6, 9113-5.4.1-1, 9113-5.4.1-4
            // req 9113-6.8-2, 9113-6.8-11
            self.send_goaway(last, code, Bytes::from_static(reason.as_bytes()));
        }
        self.error = Some(error.clone());
        self.abort_streams();
        // req 9113-5.4.1-2
        self.finish_closing();
        error
    }

    /// Applies a protocol error: a connection error fails the connection; a stream error
    /// resets the stream.
    pub(super) fn protocol_error(&mut self, e: ProtocolError) -> Result<(), ConnectionError> {
        match e.scope {
            Scope::Connection => Err(self.fail(e.code, e.reason)),
            Scope::Stream(id) => self.stream_error(id, e.code),
        }
    }

    /// A stream error (§5.4.2) caused by the peer: RST_STREAM, counted against the reset
    /// flood limit (CVE-2019-9514).
    pub(super) fn stream_error(
        &mut self,
        id: StreamId,
        code: ErrorCode,
    ) -> Result<(), ConnectionError> {
        // req 9113-5.4.1-3
        if !self.local_resets.take(self.now) {
            // req 9113-10.5-2, 9113-10.5-3
            return Err(self.fail(ErrorCode::ENHANCE_YOUR_CALM, "too many stream errors"));
        }
        self.glitch()?;
        if code == ErrorCode::REFUSED_STREAM {
            self.stats.resets_sent_refused += 1;
        } else {
            self.stats.resets_sent_protocol += 1;
        }
        self.send_reset(id, code);
        Ok(())
    }

    /// Writes RST_STREAM and closes the stream as reset by us.
    pub(super) fn send_reset(&mut self, id: StreamId, code: ErrorCode) {
        self.write_frame(&Frame::RstStream(RstStream::new(id, code)));
        self.pending_control += 1;
        if self.store.get(id).is_some() {
            // The event before closing: closing the last stream of a draining connection
            // ends it, and `Closed` must be the last event.
            self.events.push_back(Event::Reset {
                stream_id: id,
                error_code: code,
                initiator: Initiator::Local,
                retryable: code == ErrorCode::REFUSED_STREAM,
            });
            self.close_stream(id, ClosedBy::LocalReset);
        } else {
            if !self.is_local(id) && self.is_idle(id) {
                // §5.1: RST_STREAM closes even an idle stream. Streams at or below the
                // highest opened id are closed anyway (§5.1.1); the rest are kept, a few at
                // most: each costs the peer a stream error from its reset budget.
                let last = self.last_remote_id;
                self.reset_idle.retain(|s| *s > last);
                if self.reset_idle.len() >= MAX_RESET_IDLE {
                    self.reset_idle.remove(0);
                }
                self.reset_idle.push(id);
            }
            self.store.remember_closed(id, ClosedBy::LocalReset);
        }
    }

    /// Applies a stream state transition; returns what the table says when it is not a
    /// plain move.
    pub(super) fn transition(&mut self, id: StreamId, event: StreamEvent) -> Outcome {
        let Some(stream) = self.store.get_mut(id) else {
            return State::Closed.on(event);
        };
        let before = stream.state;
        let outcome = before.on(event);
        if let Outcome::Next(after) = outcome {
            if after == State::Closed {
                if before != State::Closed {
                    self.close_stream(id, ClosedBy::EndStream);
                }
            } else {
                stream.state = after;
                if !before.is_active() && after.is_active() {
                    *self.active_count(id) += 1;
                }
            }
        }
        outcome
    }

    /// Opens stream `id`: a fresh stream with the connection's initial windows, moved
    /// through `events` by the same table and counting as [`Connection::transition`], then
    /// built straight into the store and handed back for the caller to fill in. None of the
    /// events may close it.
    pub(super) fn open_stream(&mut self, id: StreamId, events: &[StreamEvent]) -> &mut Stream {
        let mut state = State::Idle;
        for &event in events {
            if let Outcome::Next(next) = state.on(event) {
                state = next;
            }
        }
        debug_assert!(state != State::Closed, "open_stream closed {id:?}");
        if state.is_active() {
            *self.active_count(id) += 1;
        }
        // §6.9.2: the receive window starts at our *acknowledged* initial window; a change
        // still unacknowledged reaches every stream with its ACK (`apply_local_settings`).
        // req 9113-6.9.3-1
        let (send, recv) = (self.peer.initial_window_size, self.local.initial_window_size);
        self.store.insert_with(id, || Stream::new(state, send, recv))
    }

    fn active_count(&mut self, id: StreamId) -> &mut u32 {
        if self.is_local(id) { &mut self.active_local } else { &mut self.active_remote }
    }

    /// Whether we initiate streams with this id's parity.
    pub(super) fn is_local(&self, id: StreamId) -> bool {
        id.is_client_initiated() == (self.role == Role::Client)
    }

    /// Marks a stream closed: counts, buffers, memory, and the events that follow.
    pub(super) fn close_stream(&mut self, id: StreamId, how: ClosedBy) {
        let Some(stream) = self.store.get_mut(id) else { return };
        let was_active = stream.state.is_active();
        let was_unread = stream.state == State::Closed && !stream.recv_buf.is_empty();
        stream.state = State::Closed;
        let mut unread = 0;
        let mut unsent = 0;
        // RFC 9113 §8.1: a message the peer completed before its RST_STREAM (NO_ERROR after
        // a complete response asks us only to stop sending) stays readable: the data already
        // reported in `Event::Data` must not vanish before the application reads it.
        let complete = how == ClosedBy::RemoteReset && stream.recv_end;
        // req 9113-6.4-1
        if how != ClosedBy::EndStream {
            // req 9113-8.1-7
            if !complete {
                unread = stream.recv_buf.clear() as u32;
            }
            unsent = stream.send_buffered;
            stream.send_buf.clear();
            stream.send_buffered = 0;
        }
        // Nothing left for the application to read: no need to keep the stream.
        let forget = stream.recv_buf.is_empty();
        if !self.is_local(id) {
            // Kept for its unread data, it still holds memory the peer made us keep.
            match (was_unread, forget) {
                (false, false) => self.unread_remote += 1,
                (true, true) => self.unread_remote = self.unread_remote.saturating_sub(1),
                _ => {}
            }
        }
        if was_active {
            *self.active_count(id) -= 1;
            if self.active_streams() == 0 {
                self.streams_ended();
            }
            // A slot freed at the limit: tell whoever is waiting for one, whether they
            // learned of the limit from `send_request` or from `can_open_stream`.
            let was_full = self.active_local + 1 >= self.peer.max_concurrent_streams;
            if self.is_local(id) && (self.want_streams || was_full) && self.role == Role::Client {
                self.want_streams = false;
                self.events.push_back(Event::StreamsAvailable);
            }
        }
        self.send_buffered -= unsent as usize;
        // Data dropped unread still counts as consumed for the connection window.
        if unread > 0 {
            self.release_connection(unread);
        }
        self.store.remember_closed(id, how);
        if forget {
            self.store.remove(id);
        }
        self.check_drained();
    }

    /// Drops every stream (the connection is ending with an error). No stream gets an
    /// `Event::Reset`: none was reset by RST_STREAM, and a reset's code would hide why they
    /// ended (a keepalive timeout looked like a NO_ERROR reset). `Event::Closed`, which
    /// follows, carries the connection's error for every stream still open.
    fn abort_streams(&mut self) {
        self.store.clear();
        self.active_local = 0;
        self.active_remote = 0;
        self.unread_remote = 0;
        self.send_buffered = 0;
        for queue in &mut self.ready {
            queue.clear();
        }
    }

    fn finish_closing(&mut self) {
        if self.error.is_none() {
            // Drained after the peer's error GOAWAY: the connection ends with its error.
            self.error = self.peer_error.take();
        }
        if !self.closing {
            self.closing = true;
            self.timers.clear();
        }
        if !self.closed_reported {
            self.closed_reported = true;
            self.events.push_back(Event::Closed { error: self.error.clone() });
        }
    }

    pub(super) fn send_goaway(&mut self, last: StreamId, code: ErrorCode, debug: Bytes) {
        self.goaway_sent = Some(last);
        self.stats.goaways_sent += 1;
        self.write_frame(&Frame::GoAway(GoAway {
            last_stream_id: last,
            error_code: code,
            debug_data: debug,
        }));
    }

    /// Closes the connection gracefully once GOAWAY has been exchanged and no stream is
    /// left.
    pub(super) fn check_drained(&mut self) {
        let going_away = self.goaway_received.is_some() || self.shutdown == Shutdown::Draining;
        if going_away
            && !self.closing
            && self.active_local + self.active_remote == 0
            && self.send_buffered == 0
        {
            self.answer_goaway();
            self.finish_closing();
        }
    }

    /// §6.8: a receiver of GOAWAY that has no more use for the connection still sends a
    /// GOAWAY of its own before closing it (with the last stream it processed), unless it
    /// sent one already.
    fn answer_goaway(&mut self) {
        if self.goaway_received.is_some() && self.goaway_sent.is_none() {
            // req 9113-6.8-3
            self.send_goaway(self.last_remote_id, ErrorCode::NO_ERROR, Bytes::new());
        }
    }

    // ----- Graceful shutdown (§6.8) -----

    /// Begins a graceful shutdown: a GOAWAY announcing the end, a PING to learn when streams
    /// already in flight have arrived, then the final GOAWAY with the last stream processed.
    /// Streams in progress finish; the connection closes when none is left.
    pub fn shutdown(&mut self) {
        if self.closing || self.shutdown != Shutdown::None {
            return;
        }
        if self.role == Role::Client {
            // A client only refuses pushes; one GOAWAY says it all.
            // req 9113-8.7-4, 9113-9.1-4
            self.send_goaway(self.last_remote_id, ErrorCode::NO_ERROR, Bytes::new());
            self.shutdown = Shutdown::Draining;
        } else {
            // req 9113-5.4.1-4
            // req 9113-6.8-2, 9113-6.8-7
            // req 9113-9.1-4
            self.send_goaway(StreamId::MAX, ErrorCode::NO_ERROR, Bytes::new());
            self.write_frame(&Frame::Ping(Ping { ack: false, payload: self.ping_secret }));
            self.shutdown_ping_sent = self.now;
            self.shutdown = Shutdown::Announced;
            self.timers.shutdown = self.now.map(|now| now + self.config.shutdown_timeout);
        }
        self.check_drained();
    }

    /// The second phase of a graceful shutdown: the final GOAWAY.
    pub(super) fn finish_shutdown(&mut self) {
        if self.shutdown == Shutdown::Announced {
            self.shutdown = Shutdown::Draining;
            self.timers.shutdown = None;
            // req 9113-8.7-4
            // req 9113-6.8-5, 9113-6.8-8
            self.send_goaway(self.last_remote_id, ErrorCode::NO_ERROR, Bytes::new());
            self.check_drained();
        }
    }

    /// Ends an idle connection: GOAWAY NO_ERROR, and a clean close — no error, since
    /// nothing went wrong (the `Closed` event carries `None`).
    pub(super) fn close_idle(&mut self, why: &'static str) {
        // req 9113-6.8-6
        let last =
            self.goaway_sent.map_or(self.last_remote_id, |sent| sent.min(self.last_remote_id));
        // req 9113-5.4.1-4
        // req 9113-6.8-2, 9113-6.8-11
        // req 9113-9.1-4
        self.send_goaway(last, ErrorCode::NO_ERROR, Bytes::from_static(why.as_bytes()));
        self.finish_closing();
    }

    /// The peer closed the transport (the adapter read EOF). After the peer's GOAWAY with an
    /// error code, this is the connection error it announced (RFC 9113 §5.4.1: the endpoint
    /// that sends it closes the connection next): the connection ends with that error, and
    /// the streams still open end with it through `Event::Closed`, rather than with a bare
    /// EOF that would hide the peer's reason. Otherwise nothing changes here: an EOF with
    /// streams open is the adapter's transport error to report.
    pub fn recv_eof(&mut self) {
        if self.closed_reported || self.peer_error.is_none() {
            return;
        }
        self.error = self.peer_error.take();
        self.abort_streams();
        self.finish_closing();
    }

    /// Ends the connection at once with GOAWAY `code` (use `shutdown` for a graceful end).
    pub fn close(&mut self, code: ErrorCode, reason: &'static str) {
        self.fail_with(code, ConnectionErrorKind::Closed, reason);
    }

    /// The peer sent GOAWAY: streams we opened above `last` were not processed and are
    /// reset as retryable (§6.8, §8.7); the others go on, whatever the code: "activity on
    /// streams numbered lower than or equal to the last stream identifier might still
    /// complete successfully" (§6.8), and a response the peer completes is the caller's.
    /// With an error code the connection ends with that error once they are done (or when
    /// the peer closes the transport, as §5.4.1 says it will).
    pub(super) fn recv_goaway(&mut self, frame: GoAway) {
        let last = frame.last_stream_id;
        self.goaway_received = Some(self.goaway_received.map_or(last, |prev| prev.min(last)));
        // Streams already closed (their bodies complete, maybe still unread) were processed.
        let refused: Vec<StreamId> = self
            .store
            .ids()
            .filter(|&id| self.is_local(id) && id > last)
            .filter(|&id| self.store.get(id).is_some_and(|s| s.state != State::Closed))
            .collect();
        // req 9113-7-1, 9113-7-2
        if frame.error_code != ErrorCode::NO_ERROR && self.peer_error.is_none() {
            self.peer_error = Some(ConnectionError {
                code: frame.error_code,
                initiator: Initiator::Remote,
                kind: ConnectionErrorKind::GoAway,
                reason: String::from_utf8_lossy(&frame.debug_data).into_owned().into(),
            });
        }
        self.events.push_back(Event::GoAway {
            last_stream_id: last,
            error_code: frame.error_code,
            debug_data: frame.debug_data,
        });
        for id in refused {
            // The event before closing, which may end the connection (`Closed` comes last).
            self.events.push_back(Event::Reset {
                stream_id: id,
                error_code: ErrorCode::REFUSED_STREAM,
                initiator: Initiator::Remote,
                // req 9113-8.7-1
                retryable: true,
            });
            self.close_stream(id, ClosedBy::RemoteReset);
        }
        self.check_drained();
    }
}
