//! gRPC deadlines: the `grpc-timeout` request header enforced on the server.
//!
//! tonic's own server wraps every service in a layer that answers DEADLINE_EXCEEDED when
//! a call outlives the `grpc-timeout` its client sent; that layer is private to tonic's
//! transport, and a tonic service served by another server has no deadline at all.
//! [`GrpcTimeout`] is the same contract, written against the gRPC over HTTP/2 protocol
//! (PROTOCOL-HTTP2.md: `grpc-timeout` is at most 8 digits and a unit, `H M S m u n`).

use http::{HeaderMap, HeaderValue, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Timeout;
use tower_service::Service;

/// A service whose calls end with gRPC status 4 (DEADLINE_EXCEEDED) once the request's
/// `grpc-timeout` (or `limit`, if shorter) has passed before the response head. The call's
/// future is dropped then, so the handler stops.
///
/// ```no_run
/// # fn f<S: Clone>(tonic_service: S) {
/// use h2proto_tokio::service::{GrpcTimeout, ServiceHandler};
/// let handler = ServiceHandler::new(GrpcTimeout::new(tonic_service, None));
/// # let _ = handler;
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct GrpcTimeout<S> {
    inner: S,
    limit: Option<Duration>,
}

impl<S> GrpcTimeout<S> {
    /// Enforces each request's `grpc-timeout`, and `limit` for every call if given.
    pub fn new(inner: S, limit: Option<Duration>) -> GrpcTimeout<S> {
        GrpcTimeout { inner, limit }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GrpcTimeout<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = GrpcTimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let timeout = match (parse_timeout(request.headers()), self.limit) {
            (Some(asked), Some(limit)) => Some(asked.min(limit)),
            (asked, limit) => asked.or(limit),
        };
        let call = self.inner.call(request);
        let call = match timeout {
            None => Call::Unbounded { call },
            Some(timeout) => Call::Bounded { call: tokio::time::timeout(timeout, call) },
        };
        GrpcTimeoutFuture { call }
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`GrpcTimeout`] call: the service's own, bounded by the deadline
    /// if the call has one. Kept inline, not boxed: one allocation less per call.
    pub struct GrpcTimeoutFuture<F> {
        #[pin]
        call: Call<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = CallProj]
    enum Call<F> {
        Unbounded { #[pin] call: F },
        Bounded { #[pin] call: Timeout<F> },
    }
}

impl<F> std::fmt::Debug for GrpcTimeoutFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcTimeoutFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for GrpcTimeoutFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().call.project() {
            CallProj::Unbounded { call } => call.poll(cx),
            CallProj::Bounded { call } => match std::task::ready!(call.poll(cx)) {
                Ok(answer) => Poll::Ready(answer),
                Err(_elapsed) => Poll::Ready(Ok(deadline_exceeded())),
            },
        }
    }
}

/// A trailers-only gRPC response with status 4, DEADLINE_EXCEEDED.
fn deadline_exceeded<B: Default>() -> Response<B> {
    let mut response = Response::new(B::default());
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert("grpc-status", HeaderValue::from_static("4"));
    headers.insert("grpc-message", HeaderValue::from_static("Deadline%20exceeded"));
    response
}

/// The `grpc-timeout` of a request, if it has a valid one.
fn parse_timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let digits = value.get(..value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match value.as_bytes()[value.len() - 1] {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_timeout;
    use http::HeaderMap;
    use std::time::Duration;

    fn parse(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", value.parse().unwrap());
        parse_timeout(&headers)
    }

    #[test]
    fn grpc_timeout_values() {
        assert_eq!(parse("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse("200m"), Some(Duration::from_millis(200)));
        assert_eq!(parse("99999999n"), Some(Duration::from_nanos(99_999_999)));
        assert_eq!(parse("7u"), Some(Duration::from_micros(7)));
        // At most 8 digits, a known unit, nothing else.
        assert_eq!(parse("123456789S"), None);
        assert_eq!(parse("10"), None);
        assert_eq!(parse("S"), None);
        assert_eq!(parse("-1S"), None);
        assert_eq!(parse("1x"), None);
        assert_eq!(HeaderMap::new().get("grpc-timeout"), None);
    }
}
