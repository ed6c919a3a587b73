//! Field blocks: HEADERS / PUSH_PROMISE + CONTINUATION assembly (RFC 9113 §4.3, §6.10),
//! HPACK decoding, and what a complete block means in the stream's state (§8.1).
//!
//! Every complete block is decoded, even one for a stream that is closed or about to be
//! refused: HPACK is one shared context, and skipping a block would desynchronize it
//! (§4.3). Only a connection error makes decoding moot.

use super::{Connection, HeaderBlock, Role};
use crate::error::ConnectionError;
use crate::event::Event;
use crate::frame::{Continuation, FrameType, Headers, PushPromise, StreamId};
use crate::semantics::{FieldCollector, MessageKind};
use crate::streams::state::{Event as StreamEvent, Outcome, State};
use crate::streams::{RecvPhase, Stream, parse_priority};
use crate::{ErrorCode, ProtocolError};
use bytes::{Bytes, BytesMut};
use http::StatusCode;

/// What a complete field block is, given its stream.
enum Disposition {
    /// Server: a new request stream.
    NewRequest,
    /// Trailers on an open stream.
    Trailers,
    /// Client: a response head (informational or final) on our stream or a promised one.
    Response,
    /// Client: a PUSH_PROMISE's request.
    Push { promised: StreamId },
    /// A stream error once the block is decoded (e.g. HEADERS in half-closed (remote)).
    StreamError(ErrorCode),
    /// A frame on a closed stream: decoded, then §5.1's closed-stream rules.
    Closed,
}

/// More fields than this in one block is a protocol glitch (browsers send a few dozen,
/// a page's cookie crumbs included).
const MANY_FIELDS: u32 = 512;

/// Decoded header list size limit exceeded (the connection survives).
struct TooLarge;

impl Connection {
    pub(super) fn recv_headers(
        &mut self,
        frame: Headers,
        stream_error: Option<ProtocolError>,
    ) -> Result<(), ConnectionError> {
        if frame.end_headers {
            return self.block_complete(
                frame.stream_id,
                None,
                frame.end_stream,
                stream_error,
                frame.fragment,
            );
        }
        self.begin_block(frame.stream_id, None, frame.end_stream, stream_error, &frame.fragment)
    }

    pub(super) fn recv_push_promise(&mut self, frame: PushPromise) -> Result<(), ConnectionError> {
        // req 9113-8.4-7
        // §8.4: a client cannot push.
        if self.role == Role::Server {
            return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "PUSH_PROMISE from a client"));
        }
        // §6.6: push disabled by our SETTINGS_ENABLE_PUSH = 0.
        // req 9113-6.6-9
        if !self.local.enable_push {
            // req 9113-6.5.2-2
            return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "PUSH_PROMISE with push disabled"));
        }
        let promised = Some(frame.promised_id);
        if frame.end_headers {
            return self.block_complete(frame.stream_id, promised, false, None, frame.fragment);
        }
        self.begin_block(frame.stream_id, promised, false, None, &frame.fragment)
    }

    fn begin_block(
        &mut self,
        stream_id: StreamId,
        promised: Option<StreamId>,
        end_stream: bool,
        stream_error: Option<ProtocolError>,
        fragment: &[u8],
    ) -> Result<(), ConnectionError> {
        self.check_block_size(fragment.len())?;
        self.header_block = Some(HeaderBlock {
            stream_id,
            promised,
            end_stream,
            stream_error,
            fragments: BytesMut::from(fragment),
            continuations: 0,
        });
        self.timers.header_block =
            self.now.zip(self.config.header_block_timeout).map(|(now, d)| now + d);
        // A request head has begun: its own deadline takes over from the first-request one.
        self.timers.first_request = None;
        Ok(())
    }

    /// The compressed block is buffered whole before decoding; bound it (CONTINUATION flood).
    fn check_block_size(&mut self, total: usize) -> Result<(), ConnectionError> {
        let limit = (self.config.max_header_list_size as usize).saturating_mul(2).max(64 << 10);
        if total > limit {
            return Err(self.fail(ErrorCode::ENHANCE_YOUR_CALM, "header block too large"));
        }
        Ok(())
    }

    pub(super) fn recv_continuation(&mut self, frame: Continuation) -> Result<(), ConnectionError> {
        // §6.10: a CONTINUATION must follow a HEADERS, PUSH_PROMISE or CONTINUATION
        // without END_HEADERS (interleaving was rejected before dispatch).
        let Some(block) = self.header_block.as_mut() else {
            // req 9113-6.10-6
            return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "CONTINUATION without a field block"));
        };
        block.continuations += 1;
        let count = block.continuations;
        let total = block.fragments.len() + frame.fragment.len();
        block.fragments.extend_from_slice(&frame.fragment);
        if count > self.config.max_continuation_frames {
            // req 9113-5.4-7
            // req 9113-10.5-2, 9113-10.5-3
            return Err(self.fail(ErrorCode::ENHANCE_YOUR_CALM, "too many CONTINUATION frames"));
        }
        self.check_block_size(total)?;
        if frame.fragment.is_empty() && !frame.end_headers {
            self.count_empty_frame()?;
        }
        if !frame.end_headers {
            return Ok(());
        }
        let block = self.header_block.take().expect("checked above");
        self.timers.header_block = None;
        self.block_complete(
            block.stream_id,
            block.promised,
            block.end_stream,
            block.stream_error,
            block.fragments.freeze(),
        )
    }

    fn block_complete(
        &mut self,
        id: StreamId,
        promised: Option<StreamId>,
        end_stream: bool,
        stream_error: Option<ProtocolError>,
        block: Bytes,
    ) -> Result<(), ConnectionError> {
        let disposition = self.disposition(id, promised)?;
        let kind = match disposition {
            Disposition::NewRequest => MessageKind::Request {
                // req 9113-5.5-5
                connect_protocol: self.local.enable_connect_protocol
                    || self.config.enable_connect_protocol,
            },
            Disposition::Push { .. } => MessageKind::Request { connect_protocol: false },
            Disposition::Response => MessageKind::Response,
            _ => MessageKind::Trailers,
        };
        let map = self.header_pool.take();
        let generation = self.decoder.generation();
        // A block that repeats one already decoded is replayed (see `RepeatedBlock`).
        if let Some(kept) = self.repeated_block.get(kind, &block, generation) {
            let mut collector = kept.replay(map);
            return self.block_decoded(
                id,
                disposition,
                end_stream,
                stream_error,
                Ok(&mut collector),
            );
        }
        let mut collector = FieldCollector::new(kind, map);
        let (checked, targets) = (&mut self.checked_fields, &mut self.targets);
        // req 9113-5.1-11
        // §10.5.1: every block is decoded, whatever becomes of its stream.
        // req 9113-10.5.1-2
        let decoded = match self
            .decoder
            // req 9113-6.8-9
            .decode_ref(&block, |field| collector.push(field, checked, targets))
        {
            Ok(()) => {
                let generations = (generation, self.decoder.generation());
                self.repeated_block.note(kind, &block, generations, &collector);
                Ok(&mut collector)
            }
            Err(e) if e.is_compression_error() => {
                // req 9113-4.3-2, 9113-4.3-3
                // §4.3: a block that cannot be decoded is a connection error COMPRESSION_ERROR.
                return Err(
                    self.fail(ErrorCode::COMPRESSION_ERROR, "header block cannot be decoded")
                );
            }
            Err(_) => Err(TooLarge),
        };
        self.block_decoded(id, disposition, end_stream, stream_error, decoded)
    }

    /// What a decoded block means, by its disposition.
    fn block_decoded(
        &mut self,
        id: StreamId,
        disposition: Disposition,
        end_stream: bool,
        stream_error: Option<ProtocolError>,
        decoded: Result<&mut FieldCollector, TooLarge>,
    ) -> Result<(), ConnectionError> {
        // Hundreds of fields (each maybe one byte: an empty value indexed) cost decoding and
        // checking work no real message needs.
        if decoded.as_ref().is_ok_and(|c| c.field_count() > MANY_FIELDS) {
            self.glitch()?;
        }
        match disposition {
            Disposition::Closed => self.closed_stream_frame(id, FrameType::HEADERS),
            Disposition::StreamError(code) => self.stream_error(id, code),
            Disposition::NewRequest => self.new_request(id, end_stream, stream_error, decoded),
            // §5.3.1: a self-dependent priority resets the stream, after decoding.
            Disposition::Trailers | Disposition::Response if stream_error.is_some() => {
                let code = stream_error.map_or(ErrorCode::PROTOCOL_ERROR, |e| e.code);
                self.stream_error(id, code)
            }
            Disposition::Trailers => self.trailers(id, end_stream, decoded),
            Disposition::Response => self.response(id, end_stream, decoded),
            Disposition::Push { promised } => self.push_promise(id, promised, decoded),
        }
    }

    /// Classifies a complete block by role and stream state; connection errors that make
    /// decoding pointless are returned at once.
    fn disposition(
        &mut self,
        id: StreamId,
        promised: Option<StreamId>,
    ) -> Result<Disposition, ConnectionError> {
        if let Some(promised) = promised {
            // §6.6: the promised id must be a new server stream; the associated stream must
            // be one of ours that is open or half-closed (local).
            // req 9113-5.1.1-4
            // req 9113-6.6-14
            if !promised.is_server_initiated() || !self.is_idle(promised) {
                return Err(self.fail(
                    ErrorCode::PROTOCOL_ERROR,
                    "PUSH_PROMISE with an invalid promised stream",
                ));
            }
            self.last_remote_id = promised;
            return match self.store.get(id).map(|s| s.state) {
                // req 9113-8.4.1-6
                // §8.4.1: only on a request stream we opened, never on a pushed one.
                Some(State::Open | State::HalfClosedLocal) if self.is_local(id) => {
                    Ok(Disposition::Push { promised })
                }
                // req 9113-6.6-13
                _ if self.store.closed_by(id) == Some(crate::streams::ClosedBy::LocalReset) => {
                    // We reset the associated stream; the promise crossed our RST_STREAM.
                    // req 9113-5.1-11
                    self.store.remember_closed(promised, crate::streams::ClosedBy::LocalReset);
                    Ok(Disposition::StreamError(ErrorCode::CANCEL))
                        .map(|_| Disposition::Push { promised })
                }
                // req 9113-5.1-14, 9113-5.1-7
                // req 9113-6.6-12
                _ => Err(self
                    .fail(ErrorCode::PROTOCOL_ERROR, "PUSH_PROMISE on a stream that is not open")),
            };
        }
        if let Some(stream) = self.store.get(id) {
            if stream.state != State::Closed {
                return Ok(match stream.state.on(StreamEvent::RecvHeaders) {
                    Outcome::Next(_)
                        if self.role == Role::Client && stream.recv_phase == RecvPhase::Head =>
                    {
                        Disposition::Response
                    }
                    Outcome::Next(_) => Disposition::Trailers,
                    // req 9113-5.1-8
                    Outcome::StreamError(code) => Disposition::StreamError(code),
                    Outcome::ConnectionError(code) => {
                        return Err(self.fail(code, "HEADERS in a reserved stream"));
                    }
                    Outcome::Refused => Disposition::StreamError(ErrorCode::PROTOCOL_ERROR),
                });
            }
            return Ok(Disposition::Closed);
        }
        if self.role == Role::Server {
            // §5.1.1: a client opens odd streams only, in increasing order.
            if !id.is_client_initiated() {
                // req 9113-5.1-2, 9113-5.1.1-4
                return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "client opened an even stream"));
            }
            // §5.1: an idle stream we reset is closed: its HEADERS opens nothing.
            if id > self.last_remote_id && !self.reset_idle.contains(&id) {
                return Ok(Disposition::NewRequest);
            }
            return Ok(Disposition::Closed);
        }
        if self.is_idle(id) {
            // req 9113-5.1-2
            return Err(self.fail(ErrorCode::PROTOCOL_ERROR, "HEADERS on an idle stream"));
        }
        Ok(Disposition::Closed)
    }

    fn new_request(
        &mut self,
        id: StreamId,
        end_stream: bool,
        stream_error: Option<ProtocolError>,
        decoded: Result<&mut FieldCollector, TooLarge>,
    ) -> Result<(), ConnectionError> {
        self.last_remote_id = id;
        // §6.8: after our final GOAWAY, streams above its last id are ignored; the client
        // knows they were not processed. Their later frames are discarded like those after
        // our RST_STREAM (§5.1), still counted for the connection window.
        // req 9113-6.8-9, 9113-6.8-10
        if self.goaway_sent.is_some_and(|last| id > last) {
            self.store.remember_closed(id, crate::streams::ClosedBy::LocalReset);
            return Ok(());
        }
        self.open_stream(id, &[StreamEvent::RecvHeaders]).recv_phase = RecvPhase::Body;
        self.stats.streams_opened_remote += 1;
        self.timers.first_request = None;
        if let Some(e) = stream_error {
            return self.stream_error(id, e.code);
        }
        let collector = match decoded {
            Ok(c) => c,
            Err(TooLarge) => return self.refuse_too_large(id, end_stream),
        };
        let content_length = collector.content_length();
        let priority = collector.priority().cloned();
        let request = match collector.request(&mut self.targets) {
            Ok(r) => r,
            // req 9113-8.1.1-2, 9113-8.1.1-3, 9113-8.1.1-4
            // §8.1.1: malformed requests are a stream error PROTOCOL_ERROR.
            _ => return self.stream_error(id, ErrorCode::PROTOCOL_ERROR),
        };
        // req 9113-8.7-2, 9113-8.7-3
        // §5.1.2: streams beyond our limit are refused (REFUSED_STREAM: safe to retry).
        // Closed streams whose data the application has not read yet still hold memory the
        // peer made us keep: they count until read.
        // req 9113-5.1.2-2
        if self.active_remote + self.unread_remote > self.local.max_concurrent_streams {
            return self.stream_error(id, ErrorCode::REFUSED_STREAM);
        }
        // req 9113-8.1.1-3
        if end_stream && content_length.is_some_and(|n| n != 0) {
            return self.stream_error(id, ErrorCode::PROTOCOL_ERROR);
        }
        let (mut urgency, mut incremental) = (3, false);
        let mut explicit = false;
        if let Some(at) = self.idle_priorities.iter().position(|(s, _, _)| *s == id) {
            let (_, u, i) = self.idle_priorities.remove(at).expect("found");
            (urgency, incremental, explicit) = (u, i, true);
        } else if let Some(value) = priority {
            parse_priority(&value, &mut urgency, &mut incremental);
            explicit = true;
        }
        let stream = self.store.get_mut(id).expect("inserted above");
        stream.content_length = content_length;
        stream.head_request = request.method() == http::Method::HEAD;
        stream.connect_request = request.method() == http::Method::CONNECT;
        if explicit {
            stream.urgency = urgency;
            stream.incremental = incremental;
        }
        // The message may end with its head (`end_of_message`, minus a second lookup).
        stream.recv_end = end_stream;
        self.events.push_back(Event::Request { stream_id: id, request, end_stream });
        if end_stream {
            self.transition(id, StreamEvent::RecvEndStream);
        }
        Ok(())
    }

    /// §8.2.2 / RFC 6585: a request head over our header list limit gets a 431 response,
    /// and the rest of the request is refused with RST_STREAM NO_ERROR.
    ///
    /// The answer is output the peer provokes (an oversized head can cost it a few indexed
    /// bytes): it counts like the control frames, so a peer that does not read stops being
    /// read once `max_pending_control_frames` wait.
    fn refuse_too_large(&mut self, id: StreamId, end_stream: bool) -> Result<(), ConnectionError> {
        self.glitch()?;
        let mut response = http::Response::new(());
        *response.status_mut() = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
        if end_stream {
            self.transition(id, StreamEvent::RecvEndStream);
        }
        // req 9113-8.1-6
        let _ = self.send_response(id, response, true);
        self.pending_control += 1;
        if !end_stream {
            self.stream_error(id, ErrorCode::NO_ERROR)?;
        }
        Ok(())
    }

    fn trailers(
        &mut self,
        id: StreamId,
        end_stream: bool,
        decoded: Result<&mut FieldCollector, TooLarge>,
    ) -> Result<(), ConnectionError> {
        // §8.5: after the heads, a CONNECT stream is a tunnel: a HEADERS frame on it is a
        // stream error (decoded first, as every block is).
        // req 9113-8.5-3
        if self.store.get(id).is_some_and(|s| s.connect_request) {
            return self.stream_error(id, ErrorCode::PROTOCOL_ERROR);
        }
        // §8.1: trailers MUST end the stream; a HEADERS in the body without END_STREAM is
        // malformed.
        // req 9113-8.1-5
        if !end_stream {
            return self.stream_error(id, ErrorCode::PROTOCOL_ERROR);
        }
        // req 9113-8.1-4
        let trailers = match decoded.map(|c| c.trailers()) {
            Ok(Ok(t)) => t,
            _ => return self.stream_error(id, ErrorCode::PROTOCOL_ERROR),
        };
        let stream = self.store.get(id).expect("disposition checked");
        // req 9113-8.1.1-3
        if !stream.no_body && stream.content_length.is_some_and(|cl| cl != stream.received) {
            return self.stream_error(id, ErrorCode::PROTOCOL_ERROR);
        }
        self.events.push_back(Event::Trailers { stream_id: id, trailers });
        self.end_of_message(id);
        Ok(())
    }

    fn response(
        &mut self,
        id: StreamId,
        end_stream: bool,
        decoded: Result<&mut FieldCollector, TooLarge>,
    ) -> Result<(), ConnectionError> {
        // §5.1.2: a pushed response opens one of the peer's streams; over our
        // SETTINGS_MAX_CONCURRENT_STREAMS it is refused.
        let reserved = self.store.get(id).is_some_and(|s| s.state == State::ReservedRemote);
        // req 9113-5.1.2-2
        if reserved && self.active_remote >= self.local.max_concurrent_streams {
            return self.stream_error(id, ErrorCode::REFUSED_STREAM);
        }
        // req 9113-8.1.1-5
        let Ok(collector) = decoded else {
            return self.stream_error(id, ErrorCode::PROTOCOL_ERROR);
        };
        let content_length = collector.content_length();
        let response = match collector.response() {
            Ok(r) => r,
            _ => return self.stream_error(id, ErrorCode::PROTOCOL_ERROR),
        };
        let status = response.status();
        if status.is_informational() {
            // req 9113-8.1-1
            // §8.1: an informational response cannot end the stream.
            if end_stream {
                return self.stream_error(id, ErrorCode::PROTOCOL_ERROR);
            }
            self.transition(id, StreamEvent::RecvHeaders);
            self.events.push_back(Event::Informational { stream_id: id, response });
            return Ok(());
        }
        let stream = self.store.get_mut(id).expect("disposition checked");
        // req 9113-8.1.1-1
        stream.no_body = stream.head_request
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED;
        stream.content_length = content_length;
        stream.recv_phase = RecvPhase::Body;
        // req 9113-8.1.1-3, 9113-8.1.1-5
        let bad_length = end_stream && !stream.no_body && content_length.is_some_and(|n| n != 0);
        self.transition(id, StreamEvent::RecvHeaders);
        if bad_length {
            return self.stream_error(id, ErrorCode::PROTOCOL_ERROR);
        }
        self.events.push_back(Event::Response { stream_id: id, response, end_stream });
        if end_stream {
            self.end_of_message(id);
        }
        Ok(())
    }

    fn push_promise(
        &mut self,
        associated: StreamId,
        promised: StreamId,
        decoded: Result<&mut FieldCollector, TooLarge>,
    ) -> Result<(), ConnectionError> {
        if self.store.get(associated).is_none_or(|s| s.state == State::Closed) {
            // The associated stream was reset by us: refuse the push too.
            return self.stream_error(promised, ErrorCode::CANCEL);
        }
        // req 9113-10.5-1
        // §10.5: promised streams wait in the store until used; past our stream limit,
        // further promises are a stream error ENHANCE_YOUR_CALM.
        let is_reserved = |s: &Stream| s.state == State::ReservedRemote;
        let reserved =
            self.store.ids().filter(|&s| self.store.get(s).is_some_and(is_reserved)).count();
        if reserved >= self.local.max_concurrent_streams as usize {
            return self.stream_error(promised, ErrorCode::ENHANCE_YOUR_CALM);
        }
        self.open_stream(promised, &[StreamEvent::RecvPushPromise]);
        let content_length = decoded.as_ref().ok().and_then(|c| c.content_length());
        let request = match decoded.map(|c| c.request(&mut self.targets)) {
            Ok(Ok(r)) => r,
            _ => return self.stream_error(promised, ErrorCode::PROTOCOL_ERROR),
        };
        // req 9113-8.4-2, 9113-8.4.1-3, 9113-8.4-6, 9113-8.4.2-2, 9113-10.4-2
        // §8.4, §8.4.1: a promised request is safe and cacheable (GET or HEAD), has no
        // content, and names the authority the push is for.
        let head = request.method() == http::Method::HEAD;
        if !(head || request.method() == http::Method::GET)
            || content_length.is_some_and(|n| n != 0)
            || request.uri().authority().is_none()
        {
            return self.stream_error(promised, ErrorCode::PROTOCOL_ERROR);
        }
        self.store.get_mut(promised).expect("inserted above").head_request = head;
        // req 9113-8.4-4
        self.events.push_back(Event::PushPromise {
            stream_id: associated,
            promised_id: promised,
            request,
        });
        Ok(())
    }

    /// The peer's message ended with its head (END_STREAM on HEADERS).
    fn end_of_message(&mut self, id: StreamId) {
        if let Some(stream) = self.store.get_mut(id) {
            stream.recv_end = true;
        }
        self.transition(id, StreamEvent::RecvEndStream);
    }
}
