//! The `Client`: requests to any origin over pooled HTTP/2 connections.

use super::ClientBuilder;
use super::error::{ClientError, ClientErrorKind};
use super::lane;
use super::lease::{Lease, ResponseBody};
use super::shared::{Inner, now};
use crate::{BoxError, ErrorKind};
use futures_util::future;
use h2proto::ErrorCode;
use h2proto::pool::{
    Checkout, Failure, NotProcessed, Origin, OriginError, Pool, PoolMetrics, RetryPolicy, Verdict,
};
use http::{Request, Response};
use http_body::Body;
use http_body_util::{Either, Empty};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::oneshot;

pin_project_lite::pin_project! {
    /// A request's attempts under the client's time limit (`tokio::time::timeout`, but the
    /// timer starts at the first poll: a request's future may be made outside the runtime).
    struct Limited<F> {
        #[pin]
        attempts: F,
        #[pin]
        timer: Timer,
    }
}

pin_project_lite::pin_project! {
    #[project = TimerProj]
    enum Timer {
        Unstarted { limit: Duration },
        Started { #[pin] sleep: tokio::time::Sleep },
    }
}

impl<F> Future for Limited<F>
where
    F: Future<Output = Result<Response<ResponseBody>, ClientError>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        if let TimerProj::Unstarted { limit } = this.timer.as_mut().project() {
            let sleep = tokio::time::sleep(*limit);
            this.timer.set(Timer::Started { sleep });
        }
        if let Poll::Ready(result) = this.attempts.poll(cx) {
            return Poll::Ready(result);
        }
        match this.timer.project() {
            TimerProj::Started { sleep } => {
                sleep.poll(cx).map(|()| Err(ClientError::new(ClientErrorKind::Timeout)))
            }
            TimerProj::Unstarted { .. } => Poll::Pending,
        }
    }
}

/// An HTTP/2 client over a pool of connections. Cheap to clone (`Arc`); `Send + Sync`;
/// share one among all tasks. Requests must be made within a tokio runtime (the client
/// can be built anywhere).
///
/// See the [module docs](super) for what it does with requests.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    request_timeout: Option<Duration>,
    body_timeout: Option<Duration>,
    default_origin: Option<Origin>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

/// Marks a request's body as replayable: if the server did not process the request
/// (RFC 9113 §8.7), the client sends it again with a clone of this body. A body that is
/// empty from the start (`Empty`, `()`) is always replayable; others are sent once.
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// let request = http::Request::post("http://127.0.0.1:1/")
///     .body(Full::new(Bytes::from_static(b"order #7")))
///     .unwrap();
/// let request = h2proto_tokio::pool::replayable(request);
/// # drop(request);
/// ```
pub fn replayable<B>(mut request: Request<B>) -> Request<B>
where
    B: Clone + Send + Sync + 'static,
{
    let body = request.body().clone();
    request.extensions_mut().insert(Replay::<B>(Arc::new(move || body.clone())));
    request
}

/// Makes a body again, for a retry.
type MakeBody<B> = Arc<dyn Fn() -> B + Send + Sync>;

/// How an attempt makes its body again: empty, or with the closure of [`replayable`]
/// (shared, as the request may be retried more than once).
enum Remake<B> {
    Empty,
    Shared(MakeBody<B>),
}

impl<B: Body> Remake<B> {
    fn make(&self) -> Either<Empty<B::Data>, B> {
        match self {
            Remake::Empty => Either::Left(Empty::new()),
            Remake::Shared(f) => Either::Right(f()),
        }
    }
}

/// How to make a body again (a request extension).
struct Replay<B>(MakeBody<B>);

/// Times a connection may answer "busy" to one request before it waits there.
const MAX_BUSY: u32 = 16;

fn respond(
    response: Response<crate::RecvBody>,
    lease: Lease,
    body_timeout: Option<Duration>,
) -> Response<ResponseBody> {
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, ResponseBody::new(body, lease, body_timeout))
}

impl<B> Clone for Replay<B> {
    fn clone(&self) -> Self {
        Replay(self.0.clone())
    }
}

impl Client {
    /// A client with the defaults ([`ClientBuilder`] says what they are).
    pub fn new() -> Client {
        ClientBuilder::new().build()
    }

    /// A builder, to set the knobs.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    pub(crate) fn from_builder(builder: ClientBuilder) -> Client {
        let seed = builder.seed.unwrap_or_else(random_seed);
        let retry = builder.pool.retry;
        let pool = Pool::new(builder.pool, seed);
        let inner = Inner::new(
            pool,
            builder.config,
            builder.connect_timeout,
            builder.max_streams_per_connection,
            #[cfg(feature = "rustls")]
            builder.tls,
        );
        Client {
            inner,
            request_timeout: builder.request_timeout,
            body_timeout: builder.body_timeout,
            default_origin: builder.default_origin,
            retry,
        }
    }

    /// A snapshot of the pool's counters (connections opened and closed by reason, hits,
    /// misses, waits, retries, breaker transitions).
    pub fn metrics(&self) -> PoolMetrics {
        self.inner.run(|shared, _| {
            let mut metrics = shared.pool.metrics();
            metrics.hits += Inner::hits(shared);
            metrics
        })
    }

    /// Takes a stream of a connection to `uri`'s origin from its lane, the way a request
    /// does before it is sent, and gives it back when the returned guard drops; `None` if
    /// no connection keeps a free stream. Sends nothing. For the `pool_checkout` bench
    /// only: not part of the API.
    #[doc(hidden)]
    pub fn bench_checkout(&self, uri: &http::Uri) -> Option<impl Send + Sync + use<>> {
        lane::take(&self.inner, uri).map(|l| Lease::new(self.inner.clone(), l))
    }

    /// Sends a request to the origin of its URI (`http://` or `https://`) and waits for
    /// the response head. Requests that the server did not process (RFC 9113 §8.7) are
    /// sent again when their body is replayable (see [`replayable`]); any other failure is
    /// returned, saying whether a retry would be safe ([`ClientError::is_safe_to_retry`]).
    pub fn request<B>(
        &self,
        request: Request<B>,
    ) -> impl Future<Output = Result<Response<ResponseBody>, ClientError>> + Send + use<'_, B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let (mut parts, body) = request.into_parts();
        let replay = parts.extensions.remove::<Replay<B>>().map(|r| Remake::Shared(r.0));
        // Empty from the start: every attempt sends `Empty`, always replayable.
        let (body, replay) = match body.is_end_stream() {
            true => (Either::Left(Empty::new()), Some(Remake::Empty)),
            false => (Either::Right(body), replay),
        };
        let attempts = self.attempts(parts, body, replay);
        // No `async` wrapper: it would keep `attempts` twice in every request's future (the
        // moved-from local beside the awaited copy), and each task of a busy client is
        // touched at every response (its size is cache misses).
        match self.request_timeout {
            Some(limit) => {
                future::Either::Left(Limited { attempts, timer: Timer::Unstarted { limit } })
            }
            None => future::Either::Right(attempts),
        }
    }

    /// The origin a request goes to: its URI's, or for a path alone the default origin
    /// (the connection completes `:scheme` and `:authority` from it).
    fn origin_of(&self, uri: &http::Uri) -> Result<Origin, ClientError> {
        let origin = match (Origin::from_uri(uri), &self.default_origin) {
            (Ok(origin), _) => origin,
            (Err(OriginError::MissingScheme), Some(default)) if uri.authority().is_none() => {
                default.clone()
            }
            (Err(e), _) => return Err(ClientError::new(ClientErrorKind::Uri(e))),
        };
        if !self.inner.can_reach(&origin) {
            return Err(ClientError::new(ClientErrorKind::TlsUnavailable));
        }
        Ok(origin)
    }

    /// Sends the request until it is answered, fails in a way that may not be retried, or
    /// has used its retries. (One body type, so that a request's future holds one copy of
    /// this state: the future is moved at every level of await.)
    ///
    /// An `async` block rather than an `async fn`: an `async fn` keeps its arguments twice
    /// in its future (as captured, and as the locals they are moved to), the block uses
    /// the captured ones in place.
    #[allow(clippy::manual_async_fn)] // the async block is the point (see above)
    fn attempts<B>(
        &self,
        parts: http::request::Parts,
        // The next attempt's body; its head is a copy of `parts` made as it is sent. No
        // `Request` is kept across an await: the future of every request would carry it.
        mut body: Either<Empty<B::Data>, B>,
        replay: Option<Remake<B>>,
    ) -> impl Future<Output = Result<Response<ResponseBody>, ClientError>> + Send + use<'_, B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        async move {
            let mut origin = None;
            let mut retries = 0;
            let mut busy = 0;
            loop {
                // A credit on a lane of the origin, else the pool (see `lane.rs`).
                let fast =
                    lane::take(&self.inner, &parts.uri).map(|l| Lease::new(self.inner.clone(), l));
                let mut lease = match fast {
                    Some(lease) => lease,
                    None => {
                        // Only the pool needs the origin (building it allocates).
                        let origin = match &origin {
                            Some(origin) => origin,
                            None => origin.insert(self.origin_of(&parts.uri)?),
                        };
                        // Boxed: the pool's path is the rare one, and its future is large
                        // (every request's future would carry it, and be moved with it).
                        Box::pin(self.checkout(origin)).await?
                    }
                };
                let next = std::mem::replace(&mut body, Either::Left(Empty::new()));
                // No await inside this match: what `try_send` returned would be kept across
                // it (304 bytes in every request's future). A request still busy after many
                // tries waits on this connection, its (rare, large) future boxed.
                let (future, waiting) =
                    match lease.lane.send.try_send(Request::from_parts(parts.clone(), next)) {
                        Ok(future) => (future::Either::Left(future), false),
                        Err(refused)
                            if matches!(refused.error().kind(), ErrorKind::Busy)
                                && busy < MAX_BUSY =>
                        {
                            // The connection's real limit is below what the pool assumed (its
                            // SETTINGS came after the pool counted): teach the pool, look again.
                            busy += 1;
                            lease.busy();
                            body = refused.into_request().into_body();
                            continue;
                        }
                        Err(refused) if matches!(refused.error().kind(), ErrorKind::Busy) => {
                            let wait = lease.lane.send.send_request(refused.into_request());
                            (future::Either::Right(Box::pin(wait)), true)
                        }
                        Err(refused) => {
                            // Handed back unsent (the connection is going away): the same
                            // request, body untouched, goes elsewhere.
                            lease.going_away();
                            drop(lease);
                            let error = refused.error().clone();
                            let failure = Failure::NotProcessed(NotProcessed::NotSent);
                            let verdict = self.retry.verdict(failure, true, retries);
                            if verdict != Verdict::Retry {
                                return Err(ClientError::new(ClientErrorKind::Request {
                                    error,
                                    verdict,
                                }));
                            }
                            retries += 1;
                            self.inner.run(|shared, _| shared.pool.count_retry());
                            body = refused.into_request().into_body();
                            continue;
                        }
                    };
                let error = match future.await {
                    Ok(response) => return Ok(respond(response, lease, self.body_timeout)),
                    Err(error) => error,
                };
                if waiting {
                    // It waited for a stream on this connection: not retried.
                    let verdict = self.retry.verdict(classify(&error), false, retries);
                    return Err(ClientError::new(ClientErrorKind::Request { error, verdict }));
                }
                if lease.lane.send.is_closed() || matches!(error.kind(), ErrorKind::NotSent) {
                    lease.going_away();
                } else if error.reset_code() == Some(ErrorCode::REFUSED_STREAM) {
                    lease.refused();
                }
                drop(lease);
                let verdict = self.retry.verdict(classify(&error), replay.is_some(), retries);
                match (verdict, &replay) {
                    (Verdict::Retry, Some(replay)) => {
                        body = replay.make();
                    }
                    _ => return Err(ClientError::new(ClientErrorKind::Request { error, verdict })),
                }
                retries += 1;
                self.inner.run(|shared, _| shared.pool.count_retry());
            }
        }
    }

    /// A stream on a connection to `origin`: at once, or after waiting in the pool's queue.
    async fn checkout(&self, origin: &Origin) -> Result<Lease, ClientError> {
        let inner = &self.inner;
        let waiting = inner.run(|shared, now| {
            loop {
                match shared.pool.checkout(origin, now) {
                    Ok(Checkout::Use(conn)) => match shared.lanes.get(&conn) {
                        Some(lane) if !lane.send.is_closed() => {
                            return Ok(Ok(Lease::new(inner.clone(), lane.clone())));
                        }
                        // It takes no new requests: drain it and look again.
                        lane => {
                            let credits = lane.map_or(0, |lane| lane.drain());
                            shared.pool.go_away(conn);
                            for _ in 0..=credits {
                                shared.pool.stream_finished(conn, now);
                            }
                        }
                    },
                    Ok(Checkout::Wait(ticket)) => {
                        let (tx, rx) = oneshot::channel();
                        shared.waiters.insert(ticket, tx);
                        // Credits kept by the lanes go to the waiters (see `lane.rs`):
                        // published first, so a lane adding one sees this wait.
                        inner.waiting.store(shared.waiters.len() as u64, Ordering::SeqCst);
                        Inner::reclaim(shared, origin, now);
                        return Ok(Err((ticket, rx)));
                    }
                    Err(e) => return Err(ClientError::new(ClientErrorKind::Pool(e))),
                }
            }
        })?;
        let (ticket, rx) = match waiting {
            Ok(lease) => return Ok(lease),
            Err(waiting) => waiting,
        };
        let cancel = CancelWait { inner, ticket: Some(ticket) };
        let result = rx.await;
        cancel.disarm();
        match result {
            Ok(result) => result,
            // The client's state went away under us: cannot happen while `self` lives.
            Err(_) => Err(ClientError::new(ClientErrorKind::Timeout)),
        }
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

/// RFC 9113 §8.7 from the connection's error: REFUSED_STREAM, above GOAWAY's last stream
/// id, or never sent are not processed; anything else may have been.
fn classify(error: &crate::Error) -> Failure {
    match error.kind() {
        ErrorKind::NotSent | ErrorKind::Busy => Failure::NotProcessed(NotProcessed::NotSent),
        ErrorKind::Reset { retryable: true, code, .. } if *code == ErrorCode::REFUSED_STREAM => {
            Failure::NotProcessed(NotProcessed::Refused)
        }
        ErrorKind::Reset { retryable: true, .. } => {
            Failure::NotProcessed(NotProcessed::AboveGoAway)
        }
        _ => Failure::MayHaveBeenProcessed,
    }
}

/// Leaves the queue if the wait is abandoned (timeout, dropped future).
struct CancelWait<'a> {
    inner: &'a Arc<Inner>,
    ticket: Option<h2proto::pool::Ticket>,
}

impl CancelWait<'_> {
    fn disarm(mut self) {
        self.ticket = None;
    }
}

impl Drop for CancelWait<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.inner.run(|shared, _| {
                shared.pool.cancel(ticket);
                shared.waiters.remove(&ticket)
            });
        }
    }
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(now().elapsed().as_nanos());
    hasher.finish()
}

impl<B> tower_service::Service<Request<B>> for Client
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = ClientError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, ClientError>> + Send>>;

    /// Always ready: the pool's queue is bounded and a request beyond it fails at once
    /// (`QueueFull`) rather than waiting without bound.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), ClientError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let client = self.clone();
        Box::pin(async move { client.request(request).await })
    }
}
