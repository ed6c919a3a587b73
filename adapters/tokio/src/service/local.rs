//! `!Send` services beside the connection tasks: see "`!Send` services" in the
//! [service module docs](super).

use crate::RecvBody;
use crate::error::BoxError;
use crate::server::Handler;
use bytes::{Buf, Bytes};
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::{mpsc, oneshot};
use tower_service::Service;

/// One request on its way to the local service.
struct Job {
    request: Request<RecvBody>,
    respond: oneshot::Sender<Response<LocalBody>>,
}

/// A [`Handler`] for a `!Send` tower service, which runs on the
/// [`LocalSet`](tokio::task::LocalSet) that made the handler. Each request is handed to a
/// task on that `LocalSet`, which clones the service, waits until it is ready, calls it, and
/// pumps the response body (a `!Send` one too) into a [`LocalBody`]. Errors answer 500, as
/// with [`ServiceHandler`](super::ServiceHandler).
///
/// ```no_run
/// use std::rc::Rc;
/// use h2proto_tokio::{RecvBody, service::LocalHandler};
///
/// # fn main() -> std::io::Result<()> {
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// let local = tokio::task::LocalSet::new();
/// local.block_on(&runtime, async {
///     let state = Rc::new("not Send".to_string()); // a !Send service
///     let service = tower::service_fn(move |_request: http::Request<RecvBody>| {
///         let state = state.clone();
///         async move { Ok::<_, std::convert::Infallible>(http::Response::new(state.to_string())) }
///     });
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
///     h2proto_tokio::server::serve(listener, LocalHandler::new(service)).await
/// })
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct LocalHandler {
    jobs: mpsc::UnboundedSender<Job>,
}

impl LocalHandler {
    /// Moves `service` into a task on the current `LocalSet`; it ends when the last clone
    /// of the handler is dropped.
    ///
    /// # Panics
    ///
    /// Outside a `LocalSet` (as `tokio::task::spawn_local` does).
    pub fn new<S, B>(service: S) -> LocalHandler
    where
        S: Service<Request<RecvBody>, Response = Response<B>> + Clone + 'static,
        S::Error: Into<BoxError>,
        B: Body + 'static,
        B::Error: Into<BoxError>,
    {
        let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::task::spawn_local(async move {
            while let Some(job) = rx.recv().await {
                tokio::task::spawn_local(run(service.clone(), job));
            }
        });
        LocalHandler { jobs }
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

/// Runs one request on the local task set: readiness, call, body pump. Gives up as soon
/// as the request's [`LocalFuture`] is dropped (before the head) or its [`LocalBody`]
/// (after it).
async fn run<S, B>(mut service: S, job: Job)
where
    S: Service<Request<RecvBody>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
{
    let Job { request, mut respond } = job;
    let answer = async {
        std::future::poll_fn(|cx| service.poll_ready(cx)).await.ok()?;
        service.call(request).await.ok()
    };
    let response = tokio::select! {
        response = answer => response,
        () = respond.closed() => return,
    };
    let Some(response) = response else {
        let _ = respond.send(status(StatusCode::INTERNAL_SERVER_ERROR));
        return;
    };
    let (head, body) = response.into_parts();
    if body.is_end_stream() {
        let _ = respond.send(Response::from_parts(head, LocalBody::empty()));
        return;
    }
    // One frame in flight: the body is polled only as fast as the connection sends.
    let (tx, rx) = mpsc::channel(1);
    let hint = body.size_hint();
    if respond.send(Response::from_parts(head, LocalBody { rx: Some(rx), hint })).is_err() {
        return;
    }
    let mut body = std::pin::pin!(body);
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining())))
            .map_err(Into::into);
        let failed = frame.is_err();
        if tx.send(frame).await.is_err() || failed {
            return;
        }
    }
}

fn status(status: StatusCode) -> Response<LocalBody> {
    let mut response = Response::new(LocalBody::empty());
    *response.status_mut() = status;
    response
}

impl Handler for LocalHandler {
    type Body = LocalBody;
    type Data = Bytes;
    type Error = BoxError;
    type Future = LocalFuture;

    fn call(&self, request: Request<RecvBody>) -> LocalFuture {
        let (respond, rx) = oneshot::channel();
        // If the local task set is gone, the receiver fails at once: 503 below.
        let _ = self.jobs.send(Job { request, respond });
        LocalFuture { rx }
    }
}

/// The future of one request through a [`LocalHandler`].
#[derive(Debug)]
pub struct LocalFuture {
    rx: oneshot::Receiver<Response<LocalBody>>,
}

impl Future for LocalFuture {
    type Output = Response<LocalBody>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|answer| {
            // The service is gone (its LocalSet stopped, or it panicked).
            answer.unwrap_or_else(|_| status(StatusCode::SERVICE_UNAVAILABLE))
        })
    }
}

/// A response body produced on the local task set, delivered frame by frame.
#[derive(Debug)]
pub struct LocalBody {
    rx: Option<mpsc::Receiver<Result<Frame<Bytes>, BoxError>>>,
    /// The body's own size hint, until its first frame is taken.
    hint: SizeHint,
}

impl LocalBody {
    fn empty() -> LocalBody {
        LocalBody { rx: None, hint: SizeHint::with_exact(0) }
    }
}

impl Body for LocalBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let Some(rx) = &mut self.rx else { return Poll::Ready(None) };
        let frame = std::task::ready!(rx.poll_recv(cx));
        self.hint = SizeHint::default();
        if frame.is_none() {
            self.rx = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.rx.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        self.hint
    }
}
