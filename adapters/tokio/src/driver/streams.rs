//! The stream side of the connection task: commands from handles, bodies being sent,
//! events routed to the streams' handles, received data moved to bodies.

use super::{
    Command, Driver, INLINE_FRAMES, MAX_COMMANDS, OnInformational, Open, Responder, ResponseTx,
    RoleState,
};
use crate::body::{BoxBody, RecvBody, RecvShared};
use crate::error::{BoxError, Error, ErrorKind};
use crate::slots::Slot;
use crate::trace;
use bytes::{Buf, Bytes};
use futures_util::StreamExt;
use futures_util::future::{AbortHandle, Abortable};
use h2proto::{ErrorCode, Event, StreamId, UserError};
use http::{HeaderMap, Request, Response};
use http_body::{Body as _, Frame};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};

/// What the connection task keeps per stream.
#[derive(Default)]
pub(super) struct Entry {
    /// The body handle's queue, if the message has a body.
    recv: Option<Arc<RecvShared>>,
    /// The peer ended its side (END_STREAM or trailers).
    recv_end_seen: bool,
    /// Everything received was handed to the body (or there was none).
    recv_done: bool,
    /// The body was dropped: received data is read and thrown away.
    discard: bool,
    /// Client: waiting for the response head.
    respond: Option<ResponseTx>,
    /// Client: the response head is held back in `Driver::held`.
    held: bool,
    informational: Option<OnInformational>,
    /// Server: the handler answered.
    responded: bool,
    /// Our side is ended (END_STREAM or trailers handed to the core).
    send_done: bool,
    /// A body waiting for `Event::SendCapacity`, with the bytes the core did not accept.
    /// Boxed: rare, and every stream in flight has an entry (56 bytes inline).
    parked: Option<Box<Parked>>,
    /// Cancels the body being polled.
    abort: Option<AbortHandle>,
    /// Server: cancels the handler's task (one that had to wait), dropping its future when
    /// the stream is reset or the connection ends, as hyper does.
    handler: Option<tokio::task::AbortHandle>,
    /// Client: the request's key (for `Command::Cancel`) and its place on the connection,
    /// freed when the entry goes.
    key: u64,
    _slot: Option<Slot>,
}

struct Parked {
    rest: Bytes,
    end: bool,
    body: Option<BoxBody>,
}

/// A body polled for its next frame.
pub(super) struct Pump {
    id: StreamId,
    body: Option<BoxBody>,
}

pub(super) enum Pumped {
    Data(Bytes),
    Trailers(HeaderMap),
    End,
    Error(BoxError),
}

impl Pumped {
    fn from_frame(frame: Option<Result<Frame<Bytes>, BoxError>>) -> Pumped {
        match frame {
            None => Pumped::End,
            Some(Err(e)) => Pumped::Error(e),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => Pumped::Data(data),
                Err(frame) => match frame.into_trailers() {
                    Ok(trailers) => Pumped::Trailers(trailers),
                    Err(_) => Pumped::Data(Bytes::new()), // a frame kind we do not know
                },
            },
        }
    }
}

impl Future for Pump {
    type Output = (StreamId, BoxBody, Pumped);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let body = self.body.as_mut().expect("pump polled after completion");
        let out = match body.as_mut().poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(frame) => Pumped::from_frame(frame),
        };
        let body = self.body.take().expect("checked above");
        Poll::Ready((self.id, body, out))
    }
}

/// Room for held response heads kept between reads (see `Driver::hold_head`): a read
/// that answers more streams than this grows the queue for its own events only.
const HELD_KEPT: usize = 128;

impl<I> Driver<I>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    // ----- Commands -----

    /// Releases the connection credit finished bodies summed up (see `body::Deferred`).
    pub(super) fn release_deferred(&mut self) {
        if self.deferred.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            let n = self.deferred.swap(0, std::sync::atomic::Ordering::Relaxed);
            self.conn.release_connection_capacity(n);
        }
    }

    pub(super) fn poll_commands(&mut self, cx: &mut Context<'_>) -> bool {
        self.release_deferred();
        let mut progress = false;
        for _ in 0..MAX_COMMANDS {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(cmd)) => {
                    self.on_command(cmd, cx);
                    progress = true;
                }
                Poll::Ready(None) => {
                    if !self.handles_gone {
                        self.handles_gone = true;
                        if matches!(self.role, RoleState::Client { .. }) {
                            // No handle can open a stream or read a body any more.
                            self.conn.shutdown();
                        }
                        progress = true;
                    }
                    break;
                }
                Poll::Pending => break,
            }
        }
        progress
    }

    fn on_command(&mut self, cmd: Command, cx: &mut Context<'_>) {
        match cmd {
            Command::Open(respond) => {
                if self.closed {
                    let _ = respond.send(Err(Error::new(ErrorKind::NotSent)));
                    return;
                }
                if let RoleState::Client { pending, .. } = &mut self.role {
                    pending.push_back(respond);
                }
                self.open_pending();
            }
            Command::Cancel(key) => self.cancel(key),
            Command::Respond { id, head, body } => self.respond(id, head, body, cx),
            Command::Interim { id, head } => {
                let _ = self.conn.send_response(id, head, false);
            }
            Command::HandlerGone(id) => self.handler_gone(id),
            // After the core forgot a closed stream, its bytes still return connection
            // credit.
            Command::Release(id, n) => {
                let _ = self.conn.release_capacity(id, n);
            }
            Command::ReleaseDeferred => self.release_deferred(),
            Command::RecvDropped(id) => {
                let Some(entry) = self.entries.get_mut(&id) else { return };
                if entry.recv_done {
                    return;
                }
                // Data moved after the body's last look is released here.
                if let Some(shared) = &entry.recv {
                    let unread = {
                        let mut st = shared.lock();
                        st.chunks.clear();
                        std::mem::take(&mut st.buffered)
                    };
                    let _ = self.conn.release_capacity(id, unread);
                }
                match self.role {
                    // The response is no longer wanted: cancel the stream.
                    RoleState::Client { .. } => {
                        let _ = self.conn.reset(id, ErrorCode::CANCEL);
                    }
                    // The handler may still answer: keep the stream, drop what arrives.
                    RoleState::Server { .. } => {
                        entry.discard = true;
                        self.move_data(id);
                    }
                }
            }
            Command::Shutdown | Command::HandlesGone => self.conn.shutdown(),
            Command::Stats(tx) => {
                let _ = tx.send(self.stats());
            }
            Command::Ping(tx) => self.ping(tx),
        }
    }

    /// Client: the caller gave up on request `key` before its response head. A request
    /// still waiting is forgotten; an open one is reset with CANCEL (RFC 9113 §8.1), which
    /// removes its entry (`Event::Reset`) and frees its slot in this same turn.
    fn cancel(&mut self, key: u64) {
        let RoleState::Client { pending, .. } = &mut self.role else { return };
        if let Some(at) = pending.iter().position(|respond| respond.key() == Some(key)) {
            pending.remove(at);
            return;
        }
        let found = self.entries.iter().find(|(_, e)| e.key == key && e.respond.is_some());
        if let Some((&id, _)) = found {
            if self.conn.reset(id, ErrorCode::CANCEL).is_err() {
                // The core forgot the stream already: nothing more will come for it.
                self.entries.remove(&id);
            }
        }
    }

    /// Client: opens waiting requests while the core allows.
    fn open_pending(&mut self) {
        loop {
            let RoleState::Client { pending, slots } = &mut self.role else { return };
            let Some(front) = pending.front() else { return };
            if front.is_closed() {
                pending.pop_front(); // the caller gave up
                continue;
            }
            if self.conn.is_going_away() {
                slots.close();
                for respond in pending.drain(..) {
                    let _ = respond.send(Err(Error::new(ErrorKind::NotSent)));
                }
                return;
            }
            // RFC 8441 §3: extended CONNECT needs the server's SETTINGS first.
            if !self.got_settings && front.is_extended_connect() {
                return;
            }
            if !self.conn.can_open_stream() {
                // At the concurrency limit the request keeps its place until the core
                // reports `StreamsAvailable`. Asking with a copy of the head tells the limit
                // apart from a refusal that will not pass (stream ids exhausted).
                let Some(head) = front.head_copy() else {
                    pending.pop_front(); // opened already: cannot be
                    continue;
                };
                match self.conn.send_request(head, true) {
                    Err(UserError::ConcurrencyLimit) => return,
                    Err(e) => {
                        if matches!(e, UserError::StreamIdsExhausted) {
                            slots.close();
                        }
                        let respond = pending.pop_front().expect("front exists");
                        let _ = respond.send(Err(map_open_error(e)));
                        continue;
                    }
                    Ok(_) => unreachable!("can_open_stream said no"),
                }
            }
            let respond = pending.pop_front().expect("front exists");
            if let Some(open) = Open::take(respond) {
                self.open_stream(open);
            }
        }
    }

    fn open_stream(&mut self, open: Open) {
        let Open { head, body, respond, informational, key, slot } = open;
        // A body of exact size (or none) has a known length: the core declares it as
        // content-length, as hyper does from an exact size hint.
        #[cfg(feature = "tracing")]
        let stripped = self.conn.stats().connection_fields_stripped;
        let opened = match body.as_ref().map_or(Some(0), |b| b.size_hint().exact()) {
            Some(length) => self.conn.send_request_with_length(head, length, body.is_none()),
            None => self.conn.send_request(head, body.is_none()),
        };
        #[cfg(feature = "tracing")]
        if let Ok(id) = opened {
            trace::fields_stripped(
                id,
                "request",
                self.conn.stats().connection_fields_stripped - stripped,
            );
        }
        match opened {
            Ok(id) => {
                let entry = Entry {
                    respond: Some(respond),
                    informational,
                    send_done: body.is_none(),
                    key,
                    _slot: Some(slot),
                    ..Entry::default()
                };
                self.entries.insert(id, entry);
                if let Some(body) = body {
                    self.resume_pump(id, body);
                }
            }
            Err(e) => {
                let _ = respond.send(Err(map_open_error(e)));
            }
        }
    }

    /// Server: the handler ended (or panicked) without responding.
    fn handler_gone(&mut self, id: StreamId) {
        if self.entries.get(&id).is_some_and(|e| !e.responded) {
            trace::handler_gone(id);
            let _ = self.conn.reset(id, ErrorCode::INTERNAL_ERROR);
        }
    }

    /// Server: sends the handler's response.
    fn respond(
        &mut self,
        id: StreamId,
        head: Response<()>,
        body: Option<BoxBody>,
        cx: &mut Context<'_>,
    ) {
        let Some(entry) = self.entries.get_mut(&id) else { return }; // reset meanwhile
        entry.responded = true;
        #[cfg(feature = "tracing")]
        let stripped = self.conn.stats().connection_fields_stripped;
        // A body of exact size (or none) has a known length: the core declares it as
        // content-length.
        let sent = match body.as_ref().map_or(Some(0), |b| b.size_hint().exact()) {
            Some(length) => self.conn.send_response_with_length(id, head, length, body.is_none()),
            None => self.conn.send_response(id, head, body.is_none()),
        };
        #[cfg(feature = "tracing")]
        trace::fields_stripped(
            id,
            "response",
            self.conn.stats().connection_fields_stripped - stripped,
        );
        match sent {
            Ok(()) => match body {
                Some(body) => self.send_body(id, body, cx),
                None => {
                    entry.send_done = true;
                    self.maybe_remove(id);
                }
            },
            Err(UserError::InvalidMessage(why)) => {
                trace::invalid_message(id, "response", why);
                let _ = self.conn.reset(id, ErrorCode::INTERNAL_ERROR);
            }
            Err(_) => {}
        }
    }

    // ----- Sending bodies -----

    /// Sends a body's frames in place while they are ready and the stream takes them whole:
    /// most response bodies (a `Full`, a few chunks) are sent without ever being parked in
    /// the pump set. A body that waits, or that used up its turn, goes to the pump set; one
    /// the core took only in part waits for `Event::SendCapacity`.
    fn send_body(&mut self, id: StreamId, mut body: BoxBody, cx: &mut Context<'_>) {
        for _ in 0..INLINE_FRAMES {
            let pumped = match body.as_mut().poll_frame(cx) {
                Poll::Pending => break,
                Poll::Ready(frame) => Pumped::from_frame(frame),
            };
            match self.on_pumped(id, body, pumped) {
                Some(more) => body = more,
                None => return,
            }
        }
        self.resume_pump(id, body);
    }

    fn resume_pump(&mut self, id: StreamId, body: BoxBody) {
        let (abort, registration) = AbortHandle::new_pair();
        self.pumps.push(Abortable::new(Pump { id, body: Some(body) }, registration));
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.abort = Some(abort);
        }
    }

    pub(super) fn poll_pumps(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while let Poll::Ready(Some(out)) = self.pumps.poll_next_unpin(cx) {
            progress = true;
            if let Ok((id, body, pumped)) = out {
                if let Some(entry) = self.entries.get_mut(&id) {
                    entry.abort = None;
                }
                if let Some(body) = self.on_pumped(id, body, pumped) {
                    self.send_body(id, body, cx);
                }
            }
        }
        progress
    }

    /// Hands one frame of a body to the core. Returns the body when the next frame can
    /// follow at once.
    fn on_pumped(&mut self, id: StreamId, body: BoxBody, pumped: Pumped) -> Option<BoxBody> {
        if !self.entries.contains_key(&id) {
            return None; // the stream is gone; so is the body
        }
        match pumped {
            Pumped::Data(data) => {
                let end = body.is_end_stream();
                if data.is_empty() && !end {
                    return Some(body);
                }
                self.offer(id, data, end, Some(body))
            }
            Pumped::End => self.offer(id, Bytes::new(), true, None),
            Pumped::Trailers(trailers) => {
                #[cfg(feature = "tracing")]
                let stripped = self.conn.stats().connection_fields_stripped;
                let sent = self.conn.send_trailers(id, trailers);
                #[cfg(feature = "tracing")]
                trace::fields_stripped(
                    id,
                    "trailers",
                    self.conn.stats().connection_fields_stripped - stripped,
                );
                match sent {
                    Ok(()) => self.sent_end(id),
                    Err(UserError::InvalidMessage(why)) => {
                        trace::invalid_message(id, "trailers", why);
                        let _ = self.conn.reset(id, ErrorCode::INTERNAL_ERROR);
                    }
                    Err(_) => {}
                }
                None
            }
            Pumped::Error(e) => {
                trace::body_error(id, &*e);
                let error = Error::body(e);
                if let Some(respond) = self.entries.get_mut(&id).and_then(|e| e.respond.take()) {
                    let _ = respond.send(Err(error));
                }
                let _ = self.conn.reset(id, ErrorCode::INTERNAL_ERROR);
                None
            }
        }
    }

    /// Offers body data to the core; parks the body when not all was accepted. Returns the
    /// body when all was accepted and more is to come.
    fn offer(
        &mut self,
        id: StreamId,
        mut data: Bytes,
        end: bool,
        body: Option<BoxBody>,
    ) -> Option<BoxBody> {
        let len = data.len();
        match self.conn.send_data(id, data.clone(), end) {
            Ok(n) if n == len => {
                if end {
                    self.sent_end(id);
                    None
                } else {
                    body
                }
            }
            Ok(n) => {
                data.advance(n);
                if let Some(entry) = self.entries.get_mut(&id) {
                    let body = if end { None } else { body };
                    entry.parked = Some(Box::new(Parked { rest: data, end, body }));
                }
                None
            }
            Err(_) => None, // the stream can no longer send (reset or closed)
        }
    }

    fn sent_end(&mut self, id: StreamId) {
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.send_done = true;
            entry.abort = None;
        }
        self.maybe_remove(id);
    }

    // ----- Events -----

    pub(super) fn drain_events(&mut self, cx: &mut Context<'_>) -> bool {
        let mut any = false;
        while let Some(event) = self.conn.poll_event() {
            any = true;
            self.on_event(event, cx);
        }
        self.release_held();
        if self.held.capacity() > HELD_KEPT {
            // A burst of heads (hundreds of streams answered at once) grew it: give the room
            // back rather than keep ~110 bytes per head of the largest burst seen.
            self.held = std::collections::VecDeque::new();
        }
        self.start_deferred_handlers(cx);
        any
    }

    fn on_event(&mut self, event: Event, cx: &mut Context<'_>) {
        if !self.held.is_empty() {
            // What concerns a held head: its whole body, or anything else, which first
            // sees the head handed out with a queued body.
            match &event {
                Event::Data { stream_id, end_stream } if self.is_held(*stream_id) => {
                    if *end_stream {
                        return self.respond_whole(*stream_id);
                    }
                    self.release_one(*stream_id);
                }
                Event::Trailers { stream_id, .. } | Event::Reset { stream_id, .. }
                    if self.is_held(*stream_id) =>
                {
                    self.release_one(*stream_id)
                }
                Event::Closed { .. } => self.release_held(),
                _ => {}
            }
        }
        match event {
            Event::Request { stream_id, request, end_stream } => {
                self.on_request(stream_id, request, end_stream, cx)
            }
            Event::Informational { stream_id, response } => {
                if let Some(callback) =
                    self.entries.get(&stream_id).and_then(|e| e.informational.as_ref())
                {
                    callback(&response);
                }
            }
            Event::Response { stream_id, response, end_stream } => {
                self.on_response(stream_id, response, end_stream)
            }
            Event::Data { stream_id, end_stream } => {
                if let Some(entry) = self.entries.get_mut(&stream_id) {
                    entry.recv_end_seen |= end_stream;
                }
                self.move_data(stream_id);
            }
            Event::Trailers { stream_id, trailers } => {
                if let Some(entry) = self.entries.get_mut(&stream_id) {
                    entry.recv_end_seen = true;
                    if let Some(shared) = &entry.recv {
                        shared.lock().trailers = Some(Box::new(trailers));
                    }
                }
                self.move_data(stream_id);
            }
            Event::Reset { stream_id, error_code, initiator, retryable } => {
                trace::reset(stream_id, error_code, initiator);
                if let Some(entry) = self.entries.remove(&stream_id) {
                    fail_entry(entry, &Error::reset(error_code, initiator, retryable));
                }
            }
            Event::SendCapacity { stream_id } => self.on_send_capacity(stream_id, cx),
            Event::PingAck { payload } => self.ping_answered(payload),
            Event::StreamsAvailable => self.open_pending(),
            Event::RemoteSettings { .. } => {
                self.got_settings = true;
                if let RoleState::Client { slots, .. } = &self.role {
                    slots.set_peer_limit(self.conn.peer_settings().max_concurrent_streams);
                }
                self.open_pending();
            }
            Event::GoAway { last_stream_id, error_code, debug_data } => {
                trace::goaway_received(last_stream_id, error_code, &debug_data);
                // No new stream will be opened: handles stop handing out places, and what
                // waits fails as not sent.
                if let RoleState::Client { slots, .. } = &self.role {
                    slots.close();
                }
                self.open_pending();
            }
            Event::Closed { error } => {
                trace::closed(error.as_ref());
                let error = match error {
                    Some(e) => Error::from(e),
                    None => Error::new(ErrorKind::Closed),
                };
                if matches!(error.kind(), ErrorKind::Connection(_)) {
                    self.close_result = Err(error.clone());
                }
                self.closed = true;
                if let RoleState::Client { slots, .. } = &self.role {
                    slots.close();
                }
                self.finish_all(&error);
            }
            _ => {}
        }
    }

    /// Server: a request's stream is set up at once (so DATA of the same read reaches its
    /// body); its handler starts here for a request without a body, or at the end of the
    /// batch of events for one with a body (see `RoleState::Server::deferred`).
    fn on_request(
        &mut self,
        id: StreamId,
        request: Request<()>,
        end_stream: bool,
        cx: &mut Context<'_>,
    ) {
        if !matches!(self.role, RoleState::Server { .. }) {
            return;
        }
        let Some(tx) = self.tx.get() else { return };
        let mut entry =
            Entry { recv_end_seen: end_stream, recv_done: end_stream, ..Entry::default() };
        let body = if end_stream {
            RecvBody::empty()
        } else {
            let shared = Arc::new(RecvShared::default());
            entry.recv = Some(shared.clone());
            RecvBody::new(id, shared, tx.clone(), self.deferred.clone())
        };
        self.entries.insert(id, entry);
        #[cfg(feature = "tracing")]
        let span = self.trace.stream(id, &request);
        let (parts, ()) = request.into_parts();
        let mut request = Request::from_parts(parts, body);
        request.extensions_mut().insert(crate::server::Interim::new(id, tx.clone()));
        let start = StartHandler {
            id,
            request,
            tx,
            #[cfg(feature = "tracing")]
            span,
        };
        match &mut self.role {
            RoleState::Server { deferred, .. } if !end_stream => deferred.push(start),
            _ => self.start_handler(start, cx),
        }
    }

    /// Server: starts the handlers of the requests with a body that came in the batch of
    /// events just handed out. A request whose stream was reset meanwhile (its entry gone)
    /// is not started.
    fn start_deferred_handlers(&mut self, cx: &mut Context<'_>) {
        let RoleState::Server { deferred, .. } = &mut self.role else { return };
        if deferred.is_empty() {
            return;
        }
        let mut batch = std::mem::take(deferred);
        for start in batch.drain(..) {
            if self.entries.contains_key(&start.id) {
                self.start_handler(start, cx);
            }
        }
        // The vector goes back for the next batch, keeping its room.
        if let RoleState::Server { deferred, .. } = &mut self.role {
            *deferred = batch;
        }
    }

    /// Server: starts the handler. Its future is polled once right here: a handler that
    /// answers without waiting (most do) has its response sent in this same pass, with no
    /// task, channel message or wakeup; one that waits continues in a task of its own.
    fn start_handler(&mut self, start: StartHandler, cx: &mut Context<'_>) {
        let RoleState::Server { serve, .. } = &self.role else { return };
        let serve = serve.clone();
        let StartHandler {
            id,
            request,
            tx,
            #[cfg(feature = "tracing")]
            span,
        } = start;
        // A panic in the handler resets its stream only, as it would in a task of its own.
        let polled = catch_unwind(AssertUnwindSafe(|| {
            #[cfg(feature = "tracing")]
            let _span = span.enter();
            let mut future = serve(request);
            match future.as_mut().poll(cx) {
                Poll::Ready(answer) => Ok(answer),
                Poll::Pending => Err(future),
            }
        }));
        match polled {
            Ok(Ok((head, body))) => {
                // Informational responses the handler queued go out before the final one.
                while let Ok(cmd) = self.rx.try_recv() {
                    self.on_command(cmd, cx);
                }
                self.respond(id, head, body, cx)
            }
            Ok(Err(future)) => {
                self.handlers_spawned = true;
                let responder = Responder { id, tx, done: false };
                let task = async move {
                    let (head, body) = future.await;
                    responder.respond(head, body);
                };
                #[cfg(feature = "tracing")]
                let task = tracing::Instrument::instrument(task, span);
                let task = tokio::spawn(task);
                if let Some(entry) = self.entries.get_mut(&id) {
                    entry.handler = Some(task.abort_handle());
                }
            }
            Err(_) => self.handler_gone(id),
        }
    }

    fn on_response(&mut self, id: StreamId, response: Response<()>, end_stream: bool) {
        let Some(entry) = self.entries.get_mut(&id) else { return };
        if entry.respond.is_none() {
            return;
        }
        if !end_stream {
            return self.hold_head(id, response);
        }
        let Some(respond) = entry.respond.take() else { return };
        entry.recv_end_seen = true;
        entry.recv_done = true;
        let (parts, ()) = response.into_parts();
        let _ = respond.send(Ok(Response::from_parts(parts, RecvBody::empty())));
        self.maybe_remove(id);
    }

    /// Client: holds a response head back while the read's events are handed out: if the
    /// stream's DATA with END_STREAM comes among them, carrying all its data in one chunk,
    /// head and body go out together ([`respond_whole`](Self::respond_whole)); any other
    /// event of the stream, or the end of the read's events, hands the head out with a
    /// queued body ([`release_one`](Self::release_one)). The events of one read are handed
    /// out in one go, so holding a head back never delays it.
    fn hold_head(&mut self, id: StreamId, response: Response<()>) {
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.held = true;
            self.held.push_back((id, response));
        }
    }

    fn is_held(&self, id: StreamId) -> bool {
        self.entries.get(&id).is_some_and(|entry| entry.held)
    }

    /// The held head of stream `id` (most often the first held).
    fn take_held(&mut self, id: StreamId) -> Option<Response<()>> {
        let at = self.held.iter().position(|(held, _)| *held == id)?;
        let (_, response) = self.held.remove(at)?;
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.held = false;
        }
        Some(response)
    }

    /// Every held head goes out with a queued body, the data so far moved into it.
    fn release_held(&mut self) {
        while let Some((id, _)) = self.held.front() {
            self.release_one(*id);
        }
    }

    /// The held head of stream `id` goes out with a queued body, the data so far moved
    /// into it.
    fn release_one(&mut self, id: StreamId) {
        if let Some(response) = self.take_held(id) {
            self.respond_queued(id, response, []);
            self.move_data(id);
        }
    }

    /// The held head of stream `id`, whose data has all come: with its one chunk as a
    /// whole body, else (several chunks) with a queued body holding them.
    fn respond_whole(&mut self, id: StreamId) {
        let Some(response) = self.take_held(id) else { return };
        let Some(tx) = self.tx.get() else {
            // The connection is ending: the queued path resets the stream.
            return self.respond_queued(id, response, []);
        };
        let first = self.conn.read_data(id).unwrap_or_default();
        if let Some(second) = self.conn.read_data(id) {
            self.respond_queued(id, response, [first, second]);
        } else {
            let Some(entry) = self.entries.get_mut(&id) else { return };
            let Some(respond) = entry.respond.take() else { return };
            (entry.recv_end_seen, entry.recv_done) = (true, true);
            let body = RecvBody::whole(id, first, tx, self.deferred.clone());
            let (parts, ()) = response.into_parts();
            // If the caller is gone, the body is dropped with the message: its data is
            // released, and the stream has ended.
            let _ = respond.send(Ok(Response::from_parts(parts, body)));
            self.maybe_remove(id);
            return;
        }
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.recv_end_seen = true;
        }
        self.move_data(id);
    }

    /// Hands out the head of stream `id` with a body fed through a shared queue (`chunks`
    /// already in it).
    fn respond_queued(
        &mut self,
        id: StreamId,
        response: Response<()>,
        chunks: impl IntoIterator<Item = Bytes>,
    ) {
        let Some(entry) = self.entries.get_mut(&id) else { return };
        let Some(respond) = entry.respond.take() else { return };
        let Some(tx) = self.tx.get() else {
            let _ = self.conn.reset(id, ErrorCode::CANCEL);
            return;
        };
        let shared = Arc::new(RecvShared::default());
        {
            let mut st = shared.lock();
            for chunk in chunks {
                st.buffered += chunk.len();
                st.chunks.push_back(chunk);
            }
        }
        entry.recv = Some(shared.clone());
        let body = RecvBody::new(id, shared, tx, self.deferred.clone());
        let (parts, ()) = response.into_parts();
        // If the caller is gone, the body is dropped with the message and cancels.
        let _ = respond.send(Ok(Response::from_parts(parts, body)));
        self.maybe_remove(id);
    }

    fn on_send_capacity(&mut self, id: StreamId, cx: &mut Context<'_>) {
        let Some(parked) = self.entries.get_mut(&id).and_then(|e| e.parked.take()) else {
            return;
        };
        if let Some(body) = self.offer(id, parked.rest, parked.end, parked.body) {
            self.send_body(id, body, cx);
        }
    }

    /// Moves received data from the core to the stream's body queue. Nothing is released
    /// here: the body releases what the application reads (`Command::Release`). The queue is
    /// bounded by the stream's receive window.
    fn move_data(&mut self, id: StreamId) {
        let Some(entry) = self.entries.get_mut(&id) else {
            // Nobody reads this stream: consume what the core holds and return the credit.
            while let Some(data) = self.conn.read_data(id) {
                let _ = self.conn.release_capacity(id, data.len());
            }
            return;
        };
        if entry.recv_done {
            return;
        }
        let Some(shared) = &entry.recv else { return };
        if entry.discard {
            // The body is gone: what arrives is read and its credit returned at once.
            while let Some(data) = self.conn.read_data(id) {
                let _ = self.conn.release_capacity(id, data.len());
            }
        }
        let waker = {
            let mut st = shared.lock();
            let mut moved = false;
            while let Some(data) = self.conn.read_data(id) {
                st.buffered += data.len();
                st.chunks.push_back(data);
                moved = true;
            }
            if entry.recv_end_seen {
                st.finished = true;
                entry.recv_done = true;
                moved = true;
            }
            if moved { st.take_waker() } else { None }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        if entry.recv_done {
            self.maybe_remove(id);
        }
    }

    /// Forgets a stream once both sides are done.
    fn maybe_remove(&mut self, id: StreamId) {
        if self.entries.get(&id).is_some_and(|e| e.send_done && e.recv_done && e.respond.is_none())
        {
            self.entries.remove(&id);
        }
    }

    /// The connection ended: hand out what was received, fail everything else. Returns
    /// whether any stream or request was still waiting.
    pub(super) fn finish_all(&mut self, error: &Error) -> bool {
        self.release_held();
        let mut affected = false;
        if let RoleState::Client { pending, slots } = &mut self.role {
            slots.close();
            for respond in pending.drain(..) {
                affected = true;
                let _ = respond.send(Err(Error::new(ErrorKind::NotSent)));
            }
        }
        let ids: Vec<StreamId> = self.entries.keys().copied().collect();
        for id in ids {
            self.move_data(id);
        }
        for (_, entry) in self.entries.drain() {
            affected |= fail_entry(entry, error);
        }
        affected
    }
}

/// Delivers `error` to whatever of the stream still waits; `true` if anything did.
pub(super) fn fail_entry(entry: Entry, error: &Error) -> bool {
    let mut affected = false;
    if let Some(respond) = entry.respond {
        affected = true;
        let _ = respond.send(Err(error.clone()));
    }
    if let Some(shared) = entry.recv {
        let waker = {
            let mut st = shared.lock();
            if st.finished || st.error.is_some() {
                None
            } else {
                affected = true;
                st.error = Some(Box::new(error.clone()));
                st.take_waker()
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
    if let Some(abort) = entry.abort {
        abort.abort();
    }
    // A handler still waiting answers nobody: its future is dropped.
    if let Some(handler) = entry.handler {
        handler.abort();
    }
    affected || (!entry.send_done && entry.responded)
}

/// What a refused `send_request` means for the caller.
fn map_open_error(e: UserError) -> Error {
    match e {
        UserError::GoingAway | UserError::Closed | UserError::StreamIdsExhausted => {
            Error::new(ErrorKind::NotSent)
        }
        e => Error::from(e),
    }
}

/// Server: a request handed to the application, with what its handler needs to start.
pub(crate) struct StartHandler {
    id: StreamId,
    request: Request<RecvBody>,
    tx: tokio::sync::mpsc::UnboundedSender<super::Command>,
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}
