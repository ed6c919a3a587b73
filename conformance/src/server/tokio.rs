//! The reference server on `h2proto-tokio`: a multi-threaded runtime (two workers unless
//! told otherwise) or a current-thread runtime on a thread of its own, the routes of
//! [`app`](super::app) as an async handler.

use super::app::{self, BODY, Route, SINK_REPLY};
use bytes::Bytes;
use h2proto_tokio::{BoxError, RecvBody, server::Server};
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Empty, Full, combinators::BoxBody};
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

type ResponseBody = BoxBody<Bytes, BoxError>;

/// `/bytes/N`: N bytes in 16 KiB frames, made as they are polled.
struct Repeat(u64);

impl Body for Repeat {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.0 == 0 {
            return Poll::Ready(None);
        }
        let chunk = app::fill(self.0);
        self.0 -= chunk.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.0 == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.0)
    }
}

async fn handle(request: Request<RecvBody>) -> Response<ResponseBody> {
    let route = app::route(request.method(), request.uri().path());
    // The request's map carries the response head (see `app::head`).
    let (parts, request_body) = request.into_parts();
    let (head, ()) = app::head(route, parts.headers).into_parts();
    let body: ResponseBody = match route {
        Route::Head => Empty::new().map_err(|e| match e {}).boxed(),
        Route::Hello => {
            Full::new(Bytes::from_static(BODY.as_bytes())).map_err(|e| match e {}).boxed()
        }
        Route::Echo => request_body.map_err(BoxError::from).boxed(),
        Route::Sink => {
            let _ = request_body.collect().await;
            Full::new(Bytes::from_static(SINK_REPLY)).map_err(|e| match e {}).boxed()
        }
        Route::Bytes(n) => Repeat(n).boxed(),
    };
    Response::from_parts(head, body)
}

/// Serves on `listener` until `stop` is set, on a runtime of `workers` worker threads (0:
/// a current-thread runtime on this thread).
pub fn serve(listener: TcpListener, workers: usize, stop: Arc<AtomicBool>) {
    let mut builder = if workers == 0 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return eprintln!("tokio runtime: {e}"),
    };
    runtime.block_on(async move {
        let _ = listener.set_nonblocking(true);
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => return eprintln!("tokio listener: {e}"),
        };
        let signal = async move {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let server = Server::new(super::core_loop::reference_config());
        let _ = server.serve_with_shutdown(listener, handle, signal).await;
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
}
