//! The input path: bytes in, frames dispatched by type (RFC 9113 §3.4, §5, §6).

use super::{Connection, PREFACE, Role};
use crate::error::{ConnectionError, Initiator};
use crate::event::Event;
use crate::frame::{
    Data, Frame, FrameHeader, FrameType, Ping, PriorityUpdate, RstStream, SettingId, Settings,
    StreamId, WindowUpdate,
};
use crate::streams::state::{Event as StreamEvent, Outcome};
use crate::streams::{ClosedBy, parse_priority};
use crate::{ErrorCode, ProtocolError, Scope};
use bytes::{Buf, Bytes};
use std::time::Instant;

impl Connection {
    /// Feeds bytes received from the transport, in any chunking.
    ///
    /// Returns how many bytes were consumed. Fewer than given means the peer is not reading
    /// our control frames (or the application is not polling events) and a limit was hit:
    /// write out `transmit`, drain `poll_event`, then offer the rest again. DATA payloads
    /// are handed out later as slices of `data`, never copied.
    ///
    /// `now` is when the bytes arrived, on the same clock as
    /// [`handle_timeout`](Self::handle_timeout): the deadlines and rate limits these frames
    /// arm or draw on count from it, so no call order can make them use a stale time (a
    /// header block begun after a long idle period is timed from its arrival). The clock
    /// never moves back: an earlier `now` than one already seen counts as that one. Timers
    /// that fall due still fire only in `handle_timeout`.
    ///
    /// On a connection error the GOAWAY is queued in `transmit` and the error returned, now
    /// and on every later call.
    pub fn recv(&mut self, mut data: Bytes, now: Instant) -> Result<usize, ConnectionError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.closing {
            return Ok(data.len());
        }
        self.advance_clock(now);
        // The caller took all output since the last call: no control frame waits unread.
        if self.out.is_empty() {
            self.pending_control = 0;
        }
        let total = data.len();
        if self.preface_remaining > 0 {
            let offset = PREFACE.len() - self.preface_remaining;
            let n = self.preface_remaining.min(data.len());
            // req 9113-3.4-5, 9113-3.4-6 (fail() always sends the GOAWAY: we do not omit it)
            if data[..n] != PREFACE[offset..offset + n] {
                // §3.4: an invalid preface is a connection error of type PROTOCOL_ERROR.
                return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "invalid connection preface"));
            }
            self.preface_remaining -= n;
            data.advance(n);
        }
        self.frames.push(data);
        // req 9113-5.2.2-1
        while !self.input_paused() {
            let next = match self.frames.next_raw() {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(e) => return Err(self.fail(e.code, e.reason)),
            };
            self.on_frame(next.0, next.1)?;
            if self.closing {
                break;
            }
        }
        // A connection that ended in this call (a GOAWAY with an error code from the peer
        // and no stream left to finish, say) reports it now, whatever the chunking.
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let unconsumed = if self.input_paused() { self.frames.take_input().len() } else { 0 };
        // Bytes handed back are offered again later: count each byte once.
        self.stats.bytes_received += (total - unconsumed) as u64;
        Ok(total - unconsumed)
    }

    /// Whether input waits for output to drain: the peer is not reading the control frames
    /// it provokes, or the application is not taking events.
    fn input_paused(&self) -> bool {
        self.pending_control >= self.config.max_pending_control_frames
            || self.events.len() >= self.config.max_pending_control_frames as usize
    }

    fn on_frame(&mut self, head: FrameHeader, payload: Bytes) -> Result<(), ConnectionError> {
        self.stats.frames_received += 1;
        self.note_activity();
        // §3.4: the first frame from the peer MUST be SETTINGS.
        if !self.got_settings {
            // req 9113-3.4-5, 9113-3.4-2 (any SETTINGS, empty included)
            if head.kind != FrameType::SETTINGS || head.has(crate::frame::flags::ACK) {
                return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "first frame is not SETTINGS"));
            }
            self.got_settings = true;
            self.timers.preface = None;
        }
        // §6.10: a field block is a contiguous run of HEADERS/PUSH_PROMISE + CONTINUATION.
        // req 9113-6.2-4, 9113-5.5-3
        if let Some(block) = &self.header_block {
            // req 9113-6.6-5, 9113-6.10-2, 9113-6.10-4
            if head.kind != FrameType::CONTINUATION || head.stream_id != block.stream_id {
                // req 9113-8.1-2
                return Err(
                    self.fail(ErrorCode::PROTOCOL_ERROR, "frame interleaved in a field block")
                );
            }
        }
        if head.kind == FrameType::HEADERS {
            return match crate::frame::Headers::decode_parts(&head, payload) {
                Ok((frame, stream_error)) => self.recv_headers(frame, stream_error),
                Err(e) => self.protocol_error(e),
            };
        }
        let frame = match Frame::decode(head, payload) {
            Ok(frame) => frame,
            Err(e) => return self.frame_error(head.kind, e),
        };
        // req 9113-6.9-1, 9113-6.9-2
        match frame {
            Frame::Data(f) => self.recv_data(f),
            Frame::Headers(_) => unreachable!("decoded above"),
            Frame::Priority(f) => {
                self.count_priority_signal()?;
                // §5.3.2: RFC 7540 priorities are parsed and validated only. A PRIORITY
                // frame is valid in any state, idle included (§5.1).
                let _ = f;
                Ok(())
            }
            Frame::RstStream(f) => self.recv_reset(f),
            Frame::Settings(f) => self.recv_settings(f),
            Frame::PushPromise(f) => self.recv_push_promise(f),
            Frame::Ping(f) => self.recv_ping(f),
            Frame::GoAway(f) => {
                // Each GOAWAY looks at every stream; a correct peer sends one or two.
                if self.goaway_received.is_some() {
                    self.glitch()?;
                }
                self.recv_goaway(f);
                Ok(())
            }
            Frame::WindowUpdate(f) => self.recv_window_update(f),
            Frame::Continuation(f) => self.recv_continuation(f),
            Frame::PriorityUpdate(f) => self.recv_priority_update(f),
            Frame::Unknown(mut f) => {
                // req 9113-5.5-2, 9113-5.5-1
                // req 9113-4.1-2
                // §5.5: unknown frame types are ignored; the application may look. A copy
                // of the payload pins no input, and a flood of them is a flood of glitches.
                self.glitch()?;
                f.payload = Bytes::copy_from_slice(&f.payload);
                self.events.push_back(Event::UnknownFrame(f));
                Ok(())
            }
        }
    }

    /// A frame failed its own rules. A stream error on a stream that is still idle is a
    /// connection error for all but PRIORITY (§5.1: idle streams accept only HEADERS and
    /// PRIORITY).
    fn frame_error(&mut self, kind: FrameType, e: ProtocolError) -> Result<(), ConnectionError> {
        if let Scope::Stream(id) = e.scope {
            // req 9113-5.1-1, 9113-5.4.1-3
            if self.is_idle(id) && kind != FrameType::PRIORITY {
                return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "frame on an idle stream"));
            }
        }
        self.protocol_error(e)
    }

    /// Whether `id` has never been used (§5.1 idle).
    pub(super) fn is_idle(&self, id: StreamId) -> bool {
        if id.is_zero() {
            return false;
        }
        if self.is_local(id) {
            id.0 >= self.next_local_id && self.store.get(id).is_none()
        } else {
            id > self.last_remote_id
                && self.store.get(id).is_none()
                && (self.reset_idle.is_empty() || !self.reset_idle.contains(&id))
        }
    }

    /// A frame on a stream not in the store, or in the store but closed: §5.1's reactions.
    /// Returns Ok(true) when the frame should be ignored.
    pub(super) fn closed_stream_frame(
        &mut self,
        id: StreamId,
        kind: FrameType,
    ) -> Result<(), ConnectionError> {
        match self.store.closed_by(id) {
            // §5.1: after our RST_STREAM, frames in flight are ignored. DATA in flight is
            // normal; a new field block on a stream we reset is not.
            // req 9113-5.1-11, 9113-5.4.2-1, 9113-6.4-2, 9113-5.4.2-2, 9113-5.4.2-3, 9113-5.1-12, 9113-5.1-13
            Some(ClosedBy::LocalReset) if kind == FrameType::HEADERS => self.glitch(),
            Some(ClosedBy::LocalReset) => Ok(()),
            // §5.1: after the peer's RST_STREAM, a stream error STREAM_CLOSED.
            // req 9113-6.1-6
            Some(ClosedBy::RemoteReset) => self.stream_error(id, ErrorCode::STREAM_CLOSED),
            // §5.1: after END_STREAM both ways, a connection error STREAM_CLOSED.
            // req 9113-5.1-10
            Some(ClosedBy::EndStream) => {
                Err(self.fail(ErrorCode::STREAM_CLOSED, "frame on a closed stream"))
            }
            // Long forgotten, or never opened below the highest id (§5.1.1).
            // req 9113-5.1.1-4, 9113-5.1-14
            None if kind == FrameType::HEADERS => {
                Err(self.fail(ErrorCode::PROTOCOL_ERROR, "HEADERS on a closed or skipped stream"))
            }
            // req 9113-6.1-6
            None => self.stream_error(id, ErrorCode::STREAM_CLOSED),
        }
    }

    // ----- DATA (§6.1) -----

    fn recv_data(&mut self, frame: Data) -> Result<(), ConnectionError> {
        let id = frame.stream_id;
        let len = frame.flow_controlled_len() as u32;
        self.stats.data_received += frame.data.len() as u64;
        // §6.9: DATA counts against the connection window whatever the stream's state.
        // req 9113-6.9-6, 9113-6.9-4, 9113-6.8-10
        if !self.recv_window.receive(len) {
            return Err(
                self.fail(ErrorCode::FLOW_CONTROL_ERROR, "connection flow-control window exceeded")
            );
        }
        if self.adaptive.is_some() {
            self.adaptive_on_data(len);
        }
        if self.is_idle(id) {
            // req 9113-5.1-1
            return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "DATA on an idle stream"));
        }
        if len == 0 && !frame.end_stream {
            self.count_empty_frame()?;
        }
        let stream = match self.store.get_mut(id) {
            // req 9113-6.1-6
            Some(stream) if stream.state.can_recv() => stream,
            other => {
                let state = other.map(|s| s.state);
                // req 9113-5.1-11
                // Discarded data is consumed at once for the connection window.
                self.release_connection(len);
                return match state {
                    Some(state) if state != crate::streams::state::State::Closed => {
                        // half-closed (remote), reserved: what the table says.
                        match state.on(StreamEvent::RecvData) {
                            Outcome::ConnectionError(code) => {
                                // req 9113-5.1-7
                                Err(self.fail(code, "DATA in a reserved stream"))
                            }
                            // req 9113-5.1-8, 9113-6.1-6
                            Outcome::StreamError(code) => self.stream_error(id, code),
                            _ => Ok(()),
                        }
                    }
                    _ => self.closed_stream_frame(id, FrameType::DATA),
                };
            }
        };
        // §5.2 / §6.9: a stream error when the peer overruns the stream window.
        if !stream.recv.receive(len) {
            self.release_connection(len);
            return self.stream_error(id, ErrorCode::FLOW_CONTROL_ERROR);
        }
        if stream.recv_phase == crate::streams::RecvPhase::Head {
            // §8.1: DATA before the message head is malformed.
            self.release_connection(len);
            return self.stream_error(id, ErrorCode::PROTOCOL_ERROR);
        }
        stream.received += frame.data.len() as u64;
        let over = stream.content_length.is_some_and(|cl| stream.received > cl)
            || (stream.no_body && stream.received > 0);
        let short = frame.end_stream
            && !stream.no_body
            && stream.content_length.is_some_and(|cl| stream.received != cl);
        if over || short {
            // req 9113-8.1.1-3
            // §8.1.1: content-length disagreeing with the DATA is malformed.
            self.release_connection(len);
            return self.stream_error(id, ErrorCode::PROTOCOL_ERROR);
        }
        // Padding is flow-controlled but never reaches the application: release it now.
        let padding = len - frame.data.len() as u32;
        let was_empty = stream.recv_buf.is_empty();
        if !frame.data.is_empty() {
            stream.recv_buf.push_back(unpinned(frame.data, len));
        }
        stream.recv_end = frame.end_stream;
        if padding > 0 {
            self.release(id, padding);
        }
        if frame.end_stream {
            self.events.push_back(Event::Data { stream_id: id, end_stream: true });
            self.transition(id, StreamEvent::RecvEndStream);
        } else if was_empty && len > padding {
            self.events.push_back(Event::Data { stream_id: id, end_stream: false });
        }
        Ok(())
    }

    // ----- RST_STREAM (§6.4) -----

    fn recv_reset(&mut self, frame: RstStream) -> Result<(), ConnectionError> {
        let id = frame.stream_id;
        self.stats.resets_received += 1;
        // §6.4: RST_STREAM on an idle stream is a connection error PROTOCOL_ERROR.
        if self.is_idle(id) {
            // req 9113-6.4-6, 9113-5.1-1
            return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "RST_STREAM on an idle stream"));
        }
        // A reset of a stream already closed does nothing: a few cross a response, a flood
        // of them only costs us lookups.
        // req 9113-5.4.2-4
        let Some(stream) = self.store.get(id) else { return self.glitch() };
        if stream.state == crate::streams::state::State::Closed {
            return self.glitch();
        }
        // Rapid reset (CVE-2023-44487): streams cancelled before we answered them cost us
        // work for nothing; past the budget the connection ends.
        if self.role == Role::Server && !stream.head_sent {
            self.stats.resets_received_early += 1;
            if !self.remote_resets.take(self.now) {
                // req 9113-10.5-2, 9113-10.5-3
                return Err(self.fail(ErrorCode::ENHANCE_YOUR_CALM, "too many streams reset early"));
            }
        }
        // The event first: closing the last stream of a draining connection ends it, and
        // `Closed` must be the last event.
        self.events.push_back(Event::Reset {
            stream_id: id,
            error_code: frame.error_code,
            initiator: Initiator::Remote,
            // req 9113-7-1, 9113-7-2
            retryable: frame.error_code == ErrorCode::REFUSED_STREAM,
        });
        self.close_stream(id, ClosedBy::RemoteReset);
        Ok(())
    }

    // ----- SETTINGS (§6.5) -----

    fn recv_settings(&mut self, frame: Settings) -> Result<(), ConnectionError> {
        if frame.ack {
            let Some(acked) = self.pending_settings.pop_front() else {
                // An ACK for nothing: harmless, but a cheap flood if repeated.
                return self.count_empty_frame();
            };
            self.timers.settings = None;
            if !self.pending_settings.is_empty() {
                self.timers.settings =
                    self.now.zip(self.config.settings_timeout).map(|(n, d)| n + d);
            }
            self.apply_local_settings(&acked)?;
            self.events.push_back(Event::SettingsAcked);
            return Ok(());
        }
        self.stats.settings_received += 1;
        // req 9113-5.4-7
        if !self.settings_frames.take(self.now) {
            // req 9113-10.5-2, 9113-10.5-3
            return Err(self.fail(ErrorCode::ENHANCE_YOUR_CALM, "SETTINGS flood"));
        }
        let mut streams_available = false;
        // req 9113-6.5.3-1, 9113-6.5.3-2, 9113-6.5-3
        for setting in &frame.entries {
            let value = setting.value;
            match setting.id {
                SettingId::HEADER_TABLE_SIZE => {
                    self.peer.header_table_size = value;
                    // req 9113-4.3.1-1 (applied before our ACK is written; the encoder signals it in its next block)
                    self.encoder.set_max_table_size(value as usize);
                }
                SettingId::ENABLE_PUSH => {
                    // §6.5.2: a server MUST NOT send 1; a client receiving it errs.
                    // req 9113-6.5.2-7
                    if self.role == Role::Client && value == 1 {
                        return Err(
                            self.fail(ErrorCode::PROTOCOL_ERROR, "server sent ENABLE_PUSH 1")
                        );
                    }
                    self.peer.enable_push = value == 1;
                }
                SettingId::MAX_CONCURRENT_STREAMS => {
                    // req 9113-6.5.2-8
                    let was_full = self.active_local >= self.peer.max_concurrent_streams;
                    let raised = value > self.peer.max_concurrent_streams;
                    self.peer.max_concurrent_streams = value;
                    // Told once per frame below, however many entries it repeats.
                    streams_available |=
                        raised && (self.want_streams || was_full) && self.role == Role::Client;
                }
                SettingId::INITIAL_WINDOW_SIZE => self.apply_initial_send_window(value)?,
                SettingId::MAX_FRAME_SIZE => self.peer.max_frame_size = value,
                SettingId::MAX_HEADER_LIST_SIZE => self.peer.max_header_list_size = value,
                SettingId::ENABLE_CONNECT_PROTOCOL => {
                    // RFC 8441 §3: once 1, never back to 0.
                    if self.peer.enable_connect_protocol && value == 0 {
                        return Err(self
                            .fail(ErrorCode::PROTOCOL_ERROR, "ENABLE_CONNECT_PROTOCOL withdrawn"));
                    }
                    self.peer.enable_connect_protocol = value == 1;
                }
                // req 9113-6.5.2-14, 9113-6.5.3-3, 9113-5.5-1
                _ => {} // §6.5.2: unknown settings are ignored (and shown in the event).
            }
        }
        if streams_available {
            self.want_streams = false;
            self.events.push_back(Event::StreamsAvailable);
        }
        // req 9113-6.5.3-4
        // req 9113-3.4-4 (our own preface was queued when the connection was made, so this follows it)
        self.write_frame(&Frame::Settings(Settings::ack()));
        self.pending_control += 1;
        self.events.push_back(Event::RemoteSettings { settings: frame });
        Ok(())
    }

    /// §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE shifts every stream's send window by the
    /// difference; past 2^31-1 is a connection error FLOW_CONTROL_ERROR.
    fn apply_initial_send_window(&mut self, value: u32) -> Result<(), ConnectionError> {
        let old = self.peer.initial_window_size;
        self.peer.initial_window_size = value;
        let mut overflow = false;
        let mut grown = Vec::new();
        for (id, stream) in self.store.iter_mut() {
            // req 9113-6.9.2-1
            if stream.send_window.adjust(old, value).is_err() {
                overflow = true;
            }
            if value > old && stream.has_pending_send() {
                grown.push(id);
            }
        }
        // req 9113-6.9.2-4
        if overflow {
            return Err(
                self.fail(ErrorCode::FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE overflows a window")
            );
        }
        for id in grown {
            self.schedule(id);
        }
        Ok(())
    }

    fn apply_local_settings(&mut self, acked: &Settings) -> Result<(), ConnectionError> {
        // req 9113-6.5-3
        for setting in &acked.entries {
            let value = setting.value;
            match setting.id {
                SettingId::HEADER_TABLE_SIZE => {
                    self.local.header_table_size = value;
                    // req 9113-4.3.1-2
                    self.decoder.set_max_table_size(value as usize);
                }
                // req 9113-6.6-9
                SettingId::ENABLE_PUSH => self.local.enable_push = value == 1,
                SettingId::MAX_CONCURRENT_STREAMS => self.local.max_concurrent_streams = value,
                SettingId::INITIAL_WINDOW_SIZE => {
                    let old = self.local.initial_window_size;
                    self.local.initial_window_size = value;
                    let mut overflow = false;
                    for (_, stream) in self.store.iter_mut() {
                        // req 9113-6.9.2-1, 9113-6.9.3-1, 9113-6.9.3-2, 9113-6.9.3-3
                        overflow |= stream.recv.retarget(old, value).is_err();
                    }
                    if overflow {
                        // req 9113-6.9.2-4
                        return Err(self.fail(ErrorCode::FLOW_CONTROL_ERROR, "window overflow"));
                    }
                }
                SettingId::MAX_FRAME_SIZE => {
                    self.local.max_frame_size = value;
                    self.frames.set_max_frame_size(value);
                }
                SettingId::MAX_HEADER_LIST_SIZE => {
                    self.local.max_header_list_size = value;
                    self.decoder.set_max_header_list_size(value as usize);
                }
                SettingId::ENABLE_CONNECT_PROTOCOL => {
                    self.local.enable_connect_protocol = value == 1
                }
                _ => {}
            }
        }
        Ok(())
    }

    // ----- PING (§6.7) -----

    fn recv_ping(&mut self, frame: Ping) -> Result<(), ConnectionError> {
        // req 9113-6.7-5
        if frame.ack {
            match frame.payload {
                payload if payload == self.keepalive_payload() => {
                    let sent = self.keepalive_sent.take();
                    self.note_rtt(sent);
                    self.keepalive_answered()
                }
                payload if self.adaptive_on_ack(payload) => {}
                payload if payload == self.ping_secret => {
                    let sent = self.shutdown_ping_sent.take();
                    self.note_rtt(sent);
                    self.finish_shutdown()
                }
                payload => {
                    if let Some(at) = self.user_pings.iter().position(|p| p.payload == payload) {
                        let sent = self.user_pings.remove(at).and_then(|p| p.at);
                        self.note_rtt(sent);
                        self.events.push_back(Event::PingAck { payload });
                    } else {
                        // An ACK for nothing we sent: ignored (§6.7), but a flood of them
                        // costs work for nothing.
                        return self.count_empty_frame();
                    }
                }
            }
            return Ok(());
        }
        self.stats.pings_received += 1;
        if !self.pings.take(self.now) {
            // req 9113-10.5-2, 9113-10.5-3
            return Err(self.fail(ErrorCode::ENHANCE_YOUR_CALM, "PING flood"));
        }
        // §6.7: answer with the same payload and ACK set.
        // req 9113-6.7-2, 9113-6.7-3, 9113-6.7-4
        self.write_frame(&Frame::Ping(Ping { ack: true, payload: frame.payload }));
        self.pending_control += 1;
        Ok(())
    }

    // ----- WINDOW_UPDATE (§6.9) -----

    fn recv_window_update(&mut self, frame: WindowUpdate) -> Result<(), ConnectionError> {
        let id = frame.stream_id;
        if id.is_zero() {
            // §6.9.1: past 2^31-1 is a connection error FLOW_CONTROL_ERROR.
            // req 9113-6.9-4, 9113-6.9.1-4
            if self.send_window.increase(frame.increment).is_err() {
                return Err(self.fail(ErrorCode::FLOW_CONTROL_ERROR, "connection window overflow"));
            }
            // Streams blocked on the connection window never left their queues: the next
            // `transmit` resumes them.
            self.send_blocked = false;
            return Ok(());
        }
        // §5.1: WINDOW_UPDATE on an idle stream is a connection error PROTOCOL_ERROR.
        if self.is_idle(id) {
            // req 9113-5.1-1
            return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream"));
        }
        // req 9113-6.9-5
        let Some(stream) = self.store.get_mut(id) else {
            // §5.1: closed streams may still see WINDOW_UPDATE for a while; ignore, but
            // count it, as a flood of them costs work for nothing.
            return self.count_empty_frame();
        };
        // §5.1: in reserved (remote) the peer may send only HEADERS, RST_STREAM or PRIORITY.
        // req 9113-5.1-7
        if stream.state == crate::streams::state::State::ReservedRemote {
            return Err(
                self.fail(ErrorCode::PROTOCOL_ERROR, "WINDOW_UPDATE on a reserved (remote) stream")
            );
        }
        // req 9113-6.9.1-4
        if stream.send_window.increase(frame.increment).is_err() {
            // §6.9.1: past 2^31-1 on a stream is a stream error FLOW_CONTROL_ERROR.
            return self.stream_error(id, ErrorCode::FLOW_CONTROL_ERROR);
        }
        if stream.has_pending_send() {
            self.schedule(id);
        }
        Ok(())
    }

    // ----- PRIORITY_UPDATE (RFC 9218 §7.1) -----

    fn recv_priority_update(&mut self, frame: PriorityUpdate) -> Result<(), ConnectionError> {
        // RFC 9218 §7.1: servers MUST NOT send it; a client receiving one errs.
        if self.role == Role::Client {
            return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "PRIORITY_UPDATE from a server"));
        }
        self.count_priority_signal()?;
        let id = frame.prioritized_stream_id;
        if !id.is_client_initiated() {
            // Push streams are never idle-prioritizable (§7.1); we never push.
            return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "PRIORITY_UPDATE for a push stream"));
        }
        // RFC 9218 §7: the frame carries the complete priority; what it omits takes its
        // default, not the stream's previous value.
        let (mut urgency, mut incremental) = (3, false);
        parse_priority(&frame.field_value, &mut urgency, &mut incremental);
        if let Some(stream) = self.store.get_mut(id) {
            stream.urgency = urgency;
            stream.incremental = incremental;
            if stream.queued {
                self.requeue(id);
            }
        } else if self.is_idle(id) {
            // §7.1: idle prioritized streams plus active ones MUST NOT exceed
            // MAX_CONCURRENT_STREAMS; we keep at most `max_idle_priorities` of them.
            let limit = (self.config.max_idle_priorities as usize)
                .min(self.local.max_concurrent_streams.saturating_sub(self.active_remote) as usize);
            // Streams skipped by a higher one are closed (§5.1.1), no longer idle.
            let last = self.last_remote_id;
            self.idle_priorities.retain(|(s, _, _)| *s != id && *s > last);
            if self.idle_priorities.len() >= limit {
                return Err(
                    self.fail(ErrorCode::PROTOCOL_ERROR, "too many idle streams prioritized")
                );
            }
            self.idle_priorities.push_back((id, urgency, incremental));
        } else {
            return Ok(()); // closed: §7.1 lets servers discard it.
        }
        self.events.push_back(Event::PriorityUpdate { stream_id: id, urgency, incremental });
        Ok(())
    }

    // ----- Flood accounting -----

    pub(super) fn count_empty_frame(&mut self) -> Result<(), ConnectionError> {
        self.stats.empty_frames_received += 1;
        if !self.empty_frames.take(self.now) {
            // req 9113-10.5-2, 9113-10.5-3
            return Err(self.fail(ErrorCode::ENHANCE_YOUR_CALM, "too many empty frames"));
        }
        Ok(())
    }

    /// A protocol glitch (see [`Config::glitch_rate`](crate::Config::glitch_rate)): past the
    /// budget, the connection ends with ENHANCE_YOUR_CALM.
    pub(super) fn glitch(&mut self) -> Result<(), ConnectionError> {
        self.stats.glitches += 1;
        if !self.glitches.take(self.now) {
            return Err(self.fail(ErrorCode::ENHANCE_YOUR_CALM, "too many protocol glitches"));
        }
        Ok(())
    }

    fn count_priority_signal(&mut self) -> Result<(), ConnectionError> {
        if !self.priorities.take(self.now) {
            // req 9113-10.5-2, 9113-10.5-3
            return Err(self.fail(ErrorCode::ENHANCE_YOUR_CALM, "priority frame flood"));
        }
        Ok(())
    }
}

/// Payloads below this are copied out of their input: a few bytes of DATA in a large read
/// would otherwise keep the whole read buffer alive while the application has not read.
const COPY_BELOW: usize = 4096;

/// The received body bytes, as kept until the application reads them. A slice of the
/// input keeps the whole input alive, and padding is credited back to the peer at once
/// (§6.1), so a small payload, or one that is mostly padding, is copied: what a stream holds
/// stays within what its window allowed (at most twice the data, in frames of at least
/// `COPY_BELOW` bytes of data). Payloads that fill their frame stay zero-copy.
fn unpinned(data: Bytes, flow_controlled: u32) -> Bytes {
    if data.len() < COPY_BELOW || data.len() * 2 < flow_controlled as usize {
        Bytes::copy_from_slice(&data)
    } else {
        data
    }
}
