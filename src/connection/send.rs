//! Commands from the application: open streams, answer them, send bodies and trailers,
//! reset, ping, change settings, release receive capacity.

use super::{Connection, Role};
use crate::ErrorCode;
use crate::error::UserError;
use crate::frame::{
    Continuation, Frame, FrameHeader, FrameType, HEADER_LEN, Ping, SettingId, Settings, StreamId,
    WindowUpdate, flags,
};
use crate::hpack::Encoder;
use crate::semantics::{self, Malformed, Protocol};
use crate::streams::state::{Event as StreamEvent, State};
use crate::streams::{SendEnd, Stream, parse_priority};
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, Request, Response, StatusCode};

/// RFC 9218's `priority` request header.
static PRIORITY: http::HeaderName = http::HeaderName::from_static("priority");

/// PINGs of the application's that may wait for an ACK at once.
const MAX_USER_PINGS: usize = 16;
/// SETTINGS frames of the application's that may wait for an ACK at once.
const MAX_PENDING_SETTINGS: usize = 8;

impl Connection {
    /// Client: opens a stream and sends the request head. With `end_stream` the request
    /// has no body; otherwise send it with [`send_data`](Self::send_data) and finish with
    /// `end_stream` or [`send_trailers`](Self::send_trailers).
    ///
    /// A URI that names only a path (`/path`) gets `:scheme` and `:authority` from the
    /// connection's [origin](Self::set_origin) (a `host` header, if any, wins for the
    /// authority); without an origin the scheme is `https` and the authority is left out.
    /// For extended CONNECT (RFC 8441) put a [`Protocol`] in the request's extensions; the
    /// server must have allowed it.
    pub fn send_request(
        &mut self,
        request: Request<()>,
        end_stream: bool,
    ) -> Result<StreamId, UserError> {
        self.open_request(request, None, end_stream)
    }

    /// Client: [`send_request`](Self::send_request) for a body whose length is known (in
    /// memory, or a stream with an exact size): a `content-length` of `length` is sent
    /// with the head unless it has one already, so the server can check the body
    /// (RFC 9113 §8.1.1) and size its buffers. Nothing is added for CONNECT (a tunnel has
    /// no length, §8.5), nor for an empty body of a method that defines no request content
    /// (GET, HEAD, DELETE, OPTIONS, TRACE: RFC 9110 §8.6 says not to send
    /// `content-length: 0` where no content is expected). Adapters call this for every
    /// body they can measure.
    pub fn send_request_with_length(
        &mut self,
        request: Request<()>,
        length: u64,
        end_stream: bool,
    ) -> Result<StreamId, UserError> {
        self.open_request(request, Some(length), end_stream)
    }

    /// Client: the origin this connection was opened to (RFC 9110 §4.3.1), for requests
    /// that name only a path. An adapter sets it once when it connects (`http` and the
    /// address for h2c, `https` and the server name for TLS), so `/path` is sent the same
    /// way whatever the adapter; absolute URIs are sent as they are.
    ///
    /// ```
    /// use h2proto::{Config, Connection, Event, Origin};
    /// let mut client = Connection::client(Config::default());
    /// client.set_origin(Origin::of(&"http://127.0.0.1:8080".parse().unwrap()).unwrap());
    /// client.send_request(http::Request::get("/status").body(()).unwrap(), true).unwrap();
    ///
    /// // The server reads :scheme http and :authority 127.0.0.1:8080.
    /// let mut server = Connection::server(Config::default());
    /// server.recv(h2proto::buf_to_vec(client.transmit()).into(), std::time::Instant::now()).unwrap();
    /// let uri = std::iter::from_fn(|| server.poll_event()).find_map(|event| match event {
    ///     Event::Request { request, .. } => Some(request.uri().clone()),
    ///     _ => None,
    /// });
    /// assert_eq!(uri.unwrap(), "http://127.0.0.1:8080/status");
    /// ```
    pub fn set_origin(&mut self, origin: semantics::Origin) {
        self.origin = Some(origin);
    }

    /// The origin set with [`set_origin`](Self::set_origin).
    pub fn origin(&self) -> Option<&semantics::Origin> {
        self.origin.as_ref()
    }

    fn open_request(
        &mut self,
        request: Request<()>,
        length: Option<u64>,
        end_stream: bool,
    ) -> Result<StreamId, UserError> {
        if self.role != Role::Client {
            return Err(UserError::WrongRole);
        }
        if self.closing {
            return Err(UserError::Closed);
        }
        // req 9113-6.8-1
        if self.is_going_away() {
            return Err(UserError::GoingAway);
        }
        if self.next_local_id > StreamId::MAX.0 {
            return Err(UserError::StreamIdsExhausted);
        }
        // req 9113-5.1.2-1
        if self.active_local >= self.peer.max_concurrent_streams {
            self.want_streams = true;
            return Err(UserError::ConcurrencyLimit);
        }
        // req 9113-5.5-5
        if request.extensions().get::<Protocol>().is_some() && !self.peer.enable_connect_protocol {
            return Err(UserError::NotAllowed(
                "extended CONNECT needs SETTINGS_ENABLE_CONNECT_PROTOCOL",
            ));
        }
        let method = request.method();
        let length = length.filter(|&n| {
            *method != Method::CONNECT && (n > 0 || !semantics::no_request_content(method))
        });
        let id = StreamId(self.next_local_id);
        // Taken out for the encoding, which borrows the connection's output.
        let origin = self.origin.take();
        let max_list_size = self.peer.max_header_list_size;
        let mut stripped = 0;
        let strip = self.strip(&mut stripped);
        let written = self.write_field_block(id, end_stream, |enc, dst| {
            let origin = origin.as_ref();
            semantics::encode_request(&request, origin, length, max_list_size, strip, enc, dst)
        });
        self.origin = origin;
        written.map_err(UserError::InvalidMessage)?;
        self.stats.connection_fields_stripped += stripped;
        // req 9113-5.1.1-1, 9113-5.1.1-3
        self.next_local_id += 2;
        let events: &[StreamEvent] = if end_stream {
            &[StreamEvent::SendHeaders, StreamEvent::SendEndStream]
        } else {
            &[StreamEvent::SendHeaders]
        };
        let stream = self.open_stream(id, events);
        stream.head_request = request.method() == Method::HEAD;
        stream.connect_request = request.method() == Method::CONNECT;
        stream.head_sent = true;
        if end_stream {
            stream.send_end = SendEnd::Sent;
        }
        if let Some(value) = request.headers().get(&PRIORITY) {
            stream.incremental = false;
            parse_priority(value.as_bytes(), &mut stream.urgency, &mut stream.incremental);
        }
        self.stats.streams_opened_local += 1;
        self.header_pool.put(request.into_parts().0.headers);
        Ok(id)
    }

    /// Server: sends a response head on stream `id`. A 1xx status sends an informational
    /// response (more heads may follow); the final response may end the stream.
    pub fn send_response(
        &mut self,
        id: StreamId,
        response: Response<()>,
        end_stream: bool,
    ) -> Result<(), UserError> {
        self.respond(id, response, None, end_stream)
    }

    /// Server: [`send_response`](Self::send_response) for a body whose length is known
    /// (a buffered body, or a stream with an exact size): a `content-length` of `length` is
    /// sent with the head unless it has one already, encoded straight from the number.
    /// Nothing is added where RFC 9110 §8.6 rules it out or where it would mislead: 1xx,
    /// 204 and 304 responses, 2xx answers to CONNECT (a tunnel has no length), and answers
    /// to HEAD (whose body is empty whatever the resource's length). Adapters call this for bodies they can measure, so handlers
    /// need not set the field themselves.
    pub fn send_response_with_length(
        &mut self,
        id: StreamId,
        response: Response<()>,
        length: u64,
        end_stream: bool,
    ) -> Result<(), UserError> {
        self.respond(id, response, Some(length), end_stream)
    }

    fn respond(
        &mut self,
        id: StreamId,
        response: Response<()>,
        length: Option<u64>,
        end_stream: bool,
    ) -> Result<(), UserError> {
        if self.role != Role::Server {
            return Err(UserError::WrongRole);
        }
        // §8.1.1: a response may go out before the request has ended.
        // req 9113-8.1.1-6
        let stream = self.sendable(id)?;
        if stream.head_sent {
            return Err(UserError::InvalidState(id, "a final response was already sent"));
        }
        let status = response.status();
        let informational = status.is_informational();
        if status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(UserError::InvalidMessage(
                "101 Switching Protocols is not allowed in HTTP/2",
            ));
        }
        // req 9113-8.1-1
        if informational && end_stream {
            return Err(UserError::InvalidMessage(
                "an informational response cannot end the stream",
            ));
        }
        let length = length.filter(|_| {
            !(informational
                || status == StatusCode::NO_CONTENT
                || status == StatusCode::NOT_MODIFIED
                || stream.head_request
                || (stream.connect_request && status.is_success()))
        });
        let max_list_size = self.peer.max_header_list_size;
        let mut stripped = 0;
        let strip = self.strip(&mut stripped);
        self.write_field_block(id, end_stream, |enc, dst| {
            semantics::encode_response(&response, length, max_list_size, strip, enc, dst)
        })
        .map_err(UserError::InvalidMessage)?;
        self.stats.connection_fields_stripped += stripped;
        self.header_pool.put(response.into_parts().0.headers);
        if !informational {
            self.store.get_mut(id).expect("checked").head_sent = true;
        }
        self.transition(id, StreamEvent::SendHeaders);
        if end_stream {
            self.end_sent(id);
        }
        Ok(())
    }

    /// Queues body data, returning how much was accepted: all of it, or less when the
    /// stream's or the connection's send buffer is full (backpressure). When less was
    /// accepted, [`Event::SendCapacity`](crate::Event::SendCapacity) tells when to offer
    /// the rest. `end_stream` takes effect only if all of `data` was accepted.
    ///
    /// The bytes are framed later, as flow control allows, and written out as the same
    /// `Bytes` without copying.
    pub fn send_data(
        &mut self,
        id: StreamId,
        mut data: Bytes,
        end_stream: bool,
    ) -> Result<usize, UserError> {
        let stream = self.sendable(id)?;
        if !stream.head_sent {
            return Err(UserError::InvalidState(id, "data before the message head"));
        }
        let room = self.send_room(stream);
        let len = data.len();
        let accepted = len.min(room);
        if accepted < len {
            data.truncate(accepted);
        }
        let stream = self.store.get_mut(id).expect("checked");
        if accepted > 0 {
            stream.send_buf.push_back(data);
            stream.send_buffered += accepted as u32;
            self.send_buffered += accepted;
        }
        if accepted == len {
            if end_stream {
                stream.send_end = SendEnd::EndStream;
            }
        } else if !stream.want_capacity {
            stream.want_capacity = true;
            self.capacity_waiters.push(id);
        }
        self.schedule(id);
        Ok(accepted)
    }

    /// Ends the stream with trailers, after all data queued so far.
    pub fn send_trailers(
        &mut self,
        id: StreamId,
        mut trailers: HeaderMap,
    ) -> Result<(), UserError> {
        let stream = self.sendable(id)?;
        if !stream.head_sent {
            return Err(UserError::InvalidState(id, "trailers before the message head"));
        }
        // RFC 9113 §8.5: a CONNECT stream carries DATA and stream management frames only.
        // req 9113-8.5-2
        if stream.connect_request {
            return Err(UserError::InvalidState(id, "no trailers on a CONNECT stream"));
        }
        if self.config.strip_connection_fields {
            self.stats.connection_fields_stripped +=
                semantics::strip_connection_specific(&mut trailers);
        }
        semantics::check_trailers(&trailers, self.peer.max_header_list_size)
            .map_err(UserError::InvalidMessage)?;
        self.store.get_mut(id).expect("checked").send_end = SendEnd::Trailers(Box::new(trailers));
        self.schedule(id);
        Ok(())
    }

    /// Resets a stream with RST_STREAM `code` (use CANCEL when the response is no longer
    /// wanted).
    pub fn reset(&mut self, id: StreamId, code: ErrorCode) -> Result<(), UserError> {
        match self.store.get(id) {
            // req 9113-6.4-5, 9113-6.4-3, 9113-5.4.2-2, 9113-5.1-9
            Some(s) if s.state != State::Closed && s.state != State::Idle => {}
            _ => return Err(UserError::UnknownStream(id)),
        }
        self.stats.resets_sent_local += 1;
        self.send_reset(id, code);
        Ok(())
    }

    /// Sends a PING; [`Event::PingAck`](crate::Event::PingAck) reports the answer, and
    /// [`rtt`](Self::rtt) how long it took (timed from the latest `now` the connection was
    /// given).
    pub fn ping(&mut self, payload: [u8; 8]) -> Result<(), UserError> {
        if self.closing {
            return Err(UserError::Closed);
        }
        if self.user_pings.len() >= MAX_USER_PINGS {
            return Err(UserError::NotAllowed("too many PINGs waiting for an answer"));
        }
        self.user_pings.push_back(super::ping::SentPing { payload, at: self.now });
        self.write_frame(&Frame::Ping(Ping { ack: false, payload }));
        Ok(())
    }

    /// Sends new SETTINGS; they take effect when the peer acknowledges them
    /// ([`Event::SettingsAcked`](crate::Event::SettingsAcked)).
    pub fn update_settings(&mut self, settings: Settings) -> Result<(), UserError> {
        if self.closing {
            return Err(UserError::Closed);
        }
        if self.pending_settings.len() >= MAX_PENDING_SETTINGS {
            return Err(UserError::NotAllowed("too many SETTINGS waiting for an ACK"));
        }
        for s in &settings.entries {
            // req 9113-6.5.2-11
            s.id.validate(s.value).map_err(UserError::InvalidSetting)?;
            // req 9113-6.5.2-4, 9113-6.5.2-6
            if s.id == SettingId::ENABLE_PUSH && self.role == Role::Server && s.value == 1 {
                return Err(UserError::NotAllowed("a server cannot enable push"));
            }
        }
        let settings = Settings { ack: false, entries: settings.entries };
        // req 9113-6.5-2
        self.write_frame(&Frame::Settings(settings.clone()));
        self.pending_settings.push_back(settings);
        if self.timers.settings.is_none() {
            self.timers.settings = self.now.zip(self.config.settings_timeout).map(|(n, d)| n + d);
        }
        Ok(())
    }

    /// Manual flow control: the application is done with `n` more bytes of stream `id`.
    /// (With [`Config::auto_release_capacity`](crate::Config::auto_release_capacity),
    /// `read_data` already does this.) WINDOW_UPDATEs are batched.
    ///
    /// Bytes of a stream that has closed and been forgotten (all its data read) still
    /// return their connection-level credit (§6.9): the application usually finishes
    /// consuming a body after its last `read_data`.
    pub fn release_capacity(&mut self, id: StreamId, n: usize) -> Result<(), UserError> {
        let Some(stream) = self.store.get(id) else {
            if id.is_zero() || self.is_idle(id) {
                return Err(UserError::UnknownStream(id));
            }
            let n = (n as u32).min(self.recv_window.unreleased());
            self.release_connection(n);
            return Ok(());
        };
        let n = (n as u32).min(stream.recv.unreleased());
        self.release(id, n);
        Ok(())
    }

    /// Manual flow control, connection level only: the application is done with `n` more
    /// bytes of streams whose data has all arrived (ended by the peer), whose own windows
    /// no longer matter. An adapter can sum them over many streams and release them at
    /// once. Never more than was received and not released yet (§6.9).
    pub fn release_connection_capacity(&mut self, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX).min(self.recv_window.unreleased());
        self.release_connection(n);
    }

    // ----- Internals shared with the input path -----

    /// The stream, if we may still send on it.
    fn sendable(&self, id: StreamId) -> Result<&Stream, UserError> {
        if self.closing {
            return Err(UserError::Closed);
        }
        // req 9113-6.1-4, 9113-6.2-5
        let stream = self.store.get(id).ok_or(UserError::UnknownStream(id))?;
        // req 9113-5.1-6, 9113-5.1-9, 9113-6.4-1
        if !stream.state.can_send() || !matches!(stream.send_end, SendEnd::Open) {
            return Err(UserError::InvalidState(id, "the stream's sending side is closed"));
        }
        Ok(stream)
    }

    /// What `send_data` would accept now on this stream.
    pub(super) fn send_room(&self, stream: &Stream) -> usize {
        let per_stream = (self.config.max_send_buffer_per_stream as usize)
            .saturating_sub(stream.send_buffered as usize);
        let total = (self.config.max_send_buffer as usize).saturating_sub(self.send_buffered);
        per_stream.min(total)
    }

    /// Marks END_STREAM as sent on a head.
    pub(super) fn end_sent(&mut self, id: StreamId) {
        if let Some(stream) = self.store.get_mut(id) {
            stream.send_end = SendEnd::Sent;
        }
        self.transition(id, StreamEvent::SendEndStream);
    }

    /// How connection-specific fields in a head we send are treated (§8.2.2), counting into
    /// `n`.
    fn strip<'a>(&self, n: &'a mut u64) -> semantics::Strip<'a> {
        if self.config.strip_connection_fields {
            semantics::Strip::Count(n)
        } else {
            semantics::Strip::Refuse
        }
    }

    /// HPACK-encodes a field block and writes it as HEADERS (+ CONTINUATION as the peer's
    /// SETTINGS_MAX_FRAME_SIZE requires). Encoding happens here, as the frame is written,
    /// so the peer's decoder sees blocks in the order the encoder produced them (§4.3).
    pub(super) fn write_field_block(
        &mut self,
        id: StreamId,
        end_stream: bool,
        encode: impl FnOnce(&mut Encoder, &mut BytesMut) -> Result<(), Malformed>,
    ) -> Result<(), Malformed> {
        // The block is encoded straight into the output behind a header placeholder; only
        // a block over the peer's frame size is moved, into CONTINUATION frames.
        // req 9113-8.1-2
        let out = self.out.frame_buf();
        let start = out.len();
        out.extend_from_slice(&[0; HEADER_LEN]);
        if let Err(e) = encode(&mut self.encoder, out) {
            out.truncate(start);
            return Err(e);
        }
        // req 9113-4.1-1, 9113-4.3-1 (the block is written whole, HEADERS then its CONTINUATIONs)
        let max = self.peer.max_frame_size as usize;
        let block_len = out.len() - start - HEADER_LEN;
        // req 9113-6.2-3
        let rest = (block_len > max).then(|| out.split_off(start + HEADER_LEN + max));
        let mut flags = if end_stream { flags::END_STREAM } else { 0 };
        // req 9113-6.10-1, 9113-6.10-5
        if rest.is_none() {
            flags |= flags::END_HEADERS;
        }
        let head = FrameHeader {
            length: block_len.min(max) as u32,
            kind: FrameType::HEADERS,
            flags,
            stream_id: id,
        };
        out[start..start + HEADER_LEN].copy_from_slice(&head.to_bytes());
        if let Some(rest) = rest {
            Continuation::encode_chunks(id, &rest, max, out);
        }
        self.stats.frames_sent += 1;
        Ok(())
    }

    /// Releases `n` bytes of a stream's and the connection's receive window.
    pub(super) fn release(&mut self, id: StreamId, n: u32) {
        if n == 0 {
            return;
        }
        let threshold = self.config.window_update_threshold;
        if let Some(stream) = self.store.get_mut(id) {
            if let Some(increment) = release_stream_window(stream, n, threshold) {
                self.write_frame(&Frame::WindowUpdate(WindowUpdate::new(id, increment)));
            }
        }
        self.release_connection(n);
    }

    /// Releases `n` bytes of the connection's receive window.
    pub(super) fn release_connection(&mut self, n: u32) {
        self.recv_window.release(n);
        if let Some(increment) =
            self.recv_window.take_update(self.config.window_update_threshold, false)
        {
            self.write_frame(&Frame::WindowUpdate(WindowUpdate::new(StreamId::ZERO, increment)));
        }
    }
}

/// Releases `n` bytes of a stream's receive window; the WINDOW_UPDATE increment to send,
/// if one is due.
pub(super) fn release_stream_window(stream: &mut Stream, n: u32, threshold: u32) -> Option<u32> {
    stream.recv.release(n);
    // No point in announcing window for a stream the peer has finished.
    // req 9113-5.1-6, 9113-5.1-9, 9113-6.4-1
    if stream.state.can_recv() && !stream.recv_end {
        stream.recv.take_update(threshold, false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    /// RFC 9113 §5.1.1: stream identifiers cannot be reused; a client that has used them
    /// all must open a new connection. Reaching 2^31-1 by sending a billion requests is
    /// too slow for a test, so this one starts near the end.
    #[test]
    fn rfc9113_5_1_1_client_stream_ids_run_out() {
        let mut client = Connection::client(Config::default());
        client.next_local_id = StreamId::MAX.0 - 2;
        let request = || Request::get("https://example.com/").body(()).unwrap();
        assert_eq!(client.send_request(request(), true), Ok(StreamId(StreamId::MAX.0 - 2)));
        assert_eq!(client.send_request(request(), true), Ok(StreamId::MAX));
        assert!(!client.can_open_stream());
        assert!(client.stream_ids_exhausted());
        assert_eq!(client.send_request(request(), true), Err(UserError::StreamIdsExhausted));
    }
}
