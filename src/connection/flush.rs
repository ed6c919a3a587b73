//! The send scheduler: which stream's DATA goes out next, chunked to flow-control windows
//! and the peer's SETTINGS_MAX_FRAME_SIZE (RFC 9113 §5.2, §6.9; RFC 9218 §4).
//!
//! Streams with something to send wait in one queue per RFC 9218 urgency (0 first). Within
//! an urgency, incremental streams — and streams that sent no priority signal — take turns
//! frame by frame (fair round-robin); non-incremental ones are served one after the other,
//! in ascending stream id order, each to the end of its data. A stream whose own window is
//! empty leaves the queue until a WINDOW_UPDATE brings it back; an empty connection window
//! pauses everything.

use super::Connection;
use crate::event::Event;
use crate::frame::{FrameHeader, FrameType, StreamId, flags};
use crate::semantics;
use crate::streams::SendEnd;
use crate::streams::state::Event as StreamEvent;

/// What the stream at the head of the queue can do now.
enum Step {
    /// Send a DATA frame of `len` bytes.
    Data { len: u32, end_stream: bool },
    /// Send an empty DATA frame with END_STREAM.
    EndStream,
    /// Send the trailers.
    Trailers,
    /// The stream's own window is empty: it leaves the queue.
    StreamBlocked,
    /// The connection window is empty: everything waits.
    ConnectionBlocked,
    /// Nothing left to send.
    Done,
}

impl Connection {
    /// Puts a stream with something to send into its urgency queue.
    pub(super) fn schedule(&mut self, id: StreamId) {
        let Some(stream) = self.store.get_mut(id) else { return };
        if stream.queued || !stream.has_pending_send() || !stream.state.can_send() {
            return;
        }
        stream.queued = true;
        let (urgency, incremental) = (stream.urgency.min(7) as usize, stream.incremental);
        // RFC 9218 §10: non-incremental streams of one urgency go in ascending id order
        // (the order the client asked), not in the order their data was queued.
        let store = &self.store;
        let queue = &mut self.ready[urgency];
        let before = if incremental {
            None
        } else {
            queue.iter().position(|&s| s > id && store.get(s).is_some_and(|s| !s.incremental))
        };
        match before {
            Some(at) => queue.insert(at, id),
            None => queue.push_back(id),
        }
    }

    /// The stream's priority changed: move it to its new queue.
    pub(super) fn requeue(&mut self, id: StreamId) {
        for queue in &mut self.ready {
            queue.retain(|s| *s != id);
        }
        if let Some(stream) = self.store.get_mut(id) {
            stream.queued = false;
        }
        self.schedule(id);
    }

    /// Frames queued data into the output until it holds `max_transmit_size` bytes or
    /// nothing more can be sent.
    pub(super) fn flush_streams(&mut self) {
        let max = self.config.max_transmit_size as usize;
        while !self.send_blocked && self.out.len() < max {
            let Some(urgency) = self.ready.iter().position(|q| !q.is_empty()) else { break };
            let id = *self.ready[urgency].front().expect("non-empty");
            // After a frame: `Some(incremental)` if the stream has more to send, `None` if
            // it is done (its `queued` flag already cleared, it may even be gone).
            let more = match self.next_step(id) {
                Step::Data { len, end_stream } => self.send_data_frame(id, len, end_stream),
                Step::EndStream => {
                    FrameHeader {
                        length: 0,
                        kind: FrameType::DATA,
                        flags: flags::END_STREAM,
                        stream_id: id,
                    }
                    .encode(self.out.frame_buf());
                    self.stats.frames_sent += 1;
                    self.finish_sending(id);
                    None
                }
                Step::Trailers => {
                    self.send_trailers_frame(id);
                    None
                }
                Step::StreamBlocked => {
                    self.stats.flow_control_stalls += 1;
                    self.dequeue(urgency, id);
                    continue;
                }
                Step::ConnectionBlocked => {
                    // Once per stall: nothing moves until the connection window grows.
                    self.stats.flow_control_stalls += 1;
                    self.send_blocked = true;
                    break;
                }
                Step::Done => {
                    self.dequeue(urgency, id);
                    continue;
                }
            };
            let queue = &mut self.ready[urgency];
            match more {
                // Incremental streams share the urgency level round-robin (RFC 9218 §4.2).
                Some(true) if queue.len() > 1 => {
                    queue.pop_front();
                    queue.push_back(id);
                }
                Some(_) => {}
                None => {
                    queue.pop_front();
                }
            }
        }
        self.notify_capacity();
    }

    fn next_step(&self, id: StreamId) -> Step {
        let Some(stream) = self.store.get(id) else { return Step::Done };
        // req 9113-5.1-9, 9113-6.4-1
        if !stream.state.can_send() {
            return Step::Done;
        }
        if stream.send_buffered > 0 {
            let stream_window = stream.send_window.available();
            // req 9113-6.9.2-3
            if stream_window == 0 {
                return Step::StreamBlocked;
            }
            // req 9113-5.2.1-2
            // req 9113-6.9.1-1
            let window = stream_window.min(self.send_window.available());
            if window == 0 {
                return Step::ConnectionBlocked;
            }
            // req 9113-4.1-1
            let len = stream.send_buffered.min(window).min(self.peer.max_frame_size);
            let end_stream =
                len == stream.send_buffered && matches!(stream.send_end, SendEnd::EndStream);
            return Step::Data { len, end_stream };
        }
        match stream.send_end {
            // req 9113-6.9.1-2
            SendEnd::EndStream => Step::EndStream,
            SendEnd::Trailers(_) => Step::Trailers,
            SendEnd::Open | SendEnd::Sent => Step::Done,
        }
    }

    /// Writes one DATA frame; `Some(incremental)` if the stream has more to send.
    fn send_data_frame(&mut self, id: StreamId, len: u32, end_stream: bool) -> Option<bool> {
        // req 9113-6.1-1
        let flags = if end_stream { flags::END_STREAM } else { 0 };
        FrameHeader { length: len, kind: FrameType::DATA, flags, stream_id: id }
            .encode(self.out.frame_buf());
        let stream = self.store.get_mut(id).expect("scheduled stream exists");
        let mut left = len as usize;
        while left > 0 {
            let front = stream.send_buf.front_mut().expect("send_buffered counts these bytes");
            let piece = if front.len() <= left {
                stream.send_buf.pop_front().expect("front exists")
            } else {
                front.split_to(left)
            };
            left -= piece.len();
            self.out.push_payload(piece);
        }
        stream.send_buffered -= len;
        stream.send_window.consume(len);
        let more = (!end_stream && stream.has_pending_send()).then_some(stream.incremental);
        self.send_window.consume(len);
        self.send_buffered -= len as usize;
        self.stats.data_sent += u64::from(len);
        self.stats.frames_sent += 1;
        if more.is_none() {
            stream.queued = false;
        }
        if end_stream {
            // `end_sent`, minus a lookup.
            stream.send_end = SendEnd::Sent;
            self.transition(id, StreamEvent::SendEndStream);
        }
        more
    }

    /// The stream's last frame went out: off the queue, and END_STREAM recorded.
    fn finish_sending(&mut self, id: StreamId) {
        if let Some(stream) = self.store.get_mut(id) {
            stream.queued = false;
        }
        self.end_sent(id);
    }

    fn send_trailers_frame(&mut self, id: StreamId) {
        let stream = self.store.get_mut(id).expect("scheduled stream exists");
        let SendEnd::Trailers(trailers) = std::mem::take(&mut stream.send_end) else {
            return;
        };
        // Checked by `send_trailers`, so encoding cannot fail here.
        let written = self.write_field_block(id, true, |enc, dst| {
            semantics::encode_trailers(&trailers, enc, dst)
        });
        debug_assert!(written.is_ok());
        self.finish_sending(id);
    }

    /// Leaves the stream at the front (sequential) or sends it to the back (round-robin),
    /// or drops it from the queue when it has nothing more to send now.
    fn dequeue(&mut self, urgency: usize, id: StreamId) {
        self.ready[urgency].pop_front();
        if let Some(stream) = self.store.get_mut(id) {
            stream.queued = false;
        }
    }

    /// Tells streams that were refused buffer space that there is room again (at least
    /// half of the per-stream buffer).
    fn notify_capacity(&mut self) {
        if self.capacity_waiters.is_empty() {
            return;
        }
        let half = (self.config.max_send_buffer_per_stream / 2).max(1) as usize;
        let mut waiters = std::mem::take(&mut self.capacity_waiters);
        let mut ready = Vec::new();
        waiters.retain(|&id| match self.store.get(id) {
            Some(stream) if stream.state.can_send() => {
                let roomy = self.send_room(stream) >= half;
                if roomy {
                    ready.push(id);
                }
                !roomy
            }
            _ => false,
        });
        self.capacity_waiters = waiters;
        for id in ready {
            if let Some(stream) = self.store.get_mut(id) {
                stream.want_capacity = false;
            }
            self.events.push_back(Event::SendCapacity { stream_id: id });
        }
    }
}
