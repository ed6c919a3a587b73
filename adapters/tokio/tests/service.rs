//! tower services as handlers (`h2proto_tokio::service`): readiness before each call,
//! service errors as 500, the connection's addresses and the caller's own extensions in
//! every request, graceful shutdown, and `!Send` services on a current-thread runtime.

mod support;

use bytes::Bytes;
use h2proto_tokio::server::{Connected, Server};
use h2proto_tokio::service::{LocalHandler, ServiceHandler};
use h2proto_tokio::{BoxError, RecvBody};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Empty, Full};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use support::{connect, small_windows, url, within};
use tower::Service;

fn get(addr: SocketAddr, path: &str) -> Request<Empty<Bytes>> {
    Request::get(url(addr, path)).body(Empty::new()).unwrap()
}

async fn listen() -> (tokio::net::TcpListener, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Ready only on its second poll, and it knows whether it was made ready before a call.
#[derive(Clone, Default)]
struct Gate {
    polls: Arc<AtomicUsize>,
    polled_once: bool,
    ready: bool,
}

impl Service<Request<RecvBody>> for Gate {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if !std::mem::replace(&mut self.polled_once, true) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.ready = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: Request<RecvBody>) -> Self::Future {
        // tower's contract: this very clone said it is ready.
        let status =
            if std::mem::take(&mut self.ready) { StatusCode::OK } else { StatusCode::CONFLICT };
        let mut response = Response::new(Full::new(Bytes::from_static(b"gated\n")));
        *response.status_mut() = status;
        std::future::ready(Ok(response))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_waits_for_its_clone_to_be_ready_then_calls_it() {
    within(async {
        let (listener, addr) = listen().await;
        let gate = Gate::default();
        let polls = gate.polls.clone();
        tokio::spawn(h2proto_tokio::service::serve(listener, gate));
        let (send, _conn) = connect(addr, Default::default()).await;
        for round in 1..=5 {
            let response = send.send_request(get(addr, "/")).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "round {round}");
            assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "gated\n");
            // A fresh clone per request: pending once, then ready.
            assert_eq!(polls.load(Ordering::SeqCst), 2 * round);
        }
    })
    .await;
}

/// Fails its readiness always.
#[derive(Clone)]
struct NeverReady;

impl Service<Request<RecvBody>> for NeverReady {
    type Response = Response<Full<Bytes>>;
    type Error = BoxError;
    type Future = std::future::Ready<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Err("overloaded".into()))
    }

    fn call(&mut self, _request: Request<RecvBody>) -> Self::Future {
        unreachable!("never ready, never called")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_errors_answer_500_and_the_connection_goes_on() {
    within(async {
        // An error from the call, on one path.
        let (listener, addr) = listen().await;
        let service = tower::service_fn(|request: Request<RecvBody>| async move {
            if request.uri().path() == "/fail" {
                return Err::<Response<Full<Bytes>>, BoxError>("the database is gone".into());
            }
            Ok(Response::new(Full::new(Bytes::from_static(b"fine\n"))))
        });
        tokio::spawn(h2proto_tokio::service::serve(listener, service));
        let (send, _conn) = connect(addr, Default::default()).await;
        for _ in 0..3 {
            let response = send.send_request(get(addr, "/fail")).await.unwrap();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert!(response.into_body().collect().await.unwrap().to_bytes().is_empty());
            let response = send.send_request(get(addr, "/ok")).await.unwrap();
            assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "fine\n");
        }
        // An error from readiness.
        let (listener, addr) = listen().await;
        tokio::spawn(h2proto_tokio::service::serve(listener, NeverReady));
        let (send, _conn) = connect(addr, Default::default()).await;
        for _ in 0..3 {
            let response = send.send_request(get(addr, "/")).await.unwrap();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_carries_its_connections_addresses() {
    within(async {
        let (listener, addr) = listen().await;
        let handler = |request: Request<RecvBody>| async move {
            let conn = request.extensions().get::<Connected>().copied().expect("Connected");
            let text = format!("{} {}", conn.remote_addr, conn.local_addr);
            Response::new(Full::new(Bytes::from(text)))
        };
        tokio::spawn(h2proto_tokio::server::serve(listener, handler));
        for _ in 0..2 {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let ours = tcp.local_addr().unwrap();
            let (send, conn) = h2proto_tokio::client::handshake(tcp);
            tokio::spawn(conn);
            for _ in 0..3 {
                let response = send.send_request(get(addr, "/")).await.unwrap();
                let text = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(text, format!("{ours} {addr}"));
            }
        }
    })
    .await;
}

#[derive(Clone, Debug, PartialEq)]
struct Tenant(String);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_own_extensions_reach_every_request_of_its_connection() {
    within(async {
        let (listener, addr) = listen().await;
        tokio::spawn(async move {
            for n in 0..2 {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut extensions = http::Extensions::new();
                extensions.insert(Tenant(format!("tenant {n}")));
                let router = axum::Router::new().route(
                    "/",
                    axum::routing::get(|axum::Extension(Tenant(name)): axum::Extension<Tenant>| async move { name }),
                );
                let handler = ServiceHandler::new(router);
                tokio::spawn(Server::default().handshake_with_extensions(tcp, extensions, handler));
            }
        });
        for n in 0..2 {
            let (send, _conn) = connect(addr, Default::default()).await;
            for _ in 0..3 {
                let response = send.send_request(get(addr, "/")).await.unwrap();
                let text = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(text, format!("tenant {n}"));
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_a_service_finish_its_request() {
    within(async {
        let (listener, addr) = listen().await;
        let release = Arc::new(tokio::sync::Notify::new());
        let entered = Arc::new(tokio::sync::Notify::new());
        let service = {
            let (release, entered) = (release.clone(), entered.clone());
            tower::service_fn(move |_request: Request<RecvBody>| {
                let (release, entered) = (release.clone(), entered.clone());
                async move {
                    entered.notify_one();
                    release.notified().await;
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"done\n"))))
                }
            })
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let make = move |_conn: &Connected| ServiceHandler::new(service.clone());
            let signal = async move {
                let _ = stopped.await;
            };
            Server::default().serve_make_with_shutdown(listener, make, signal).await
        });
        let (send, _conn) = connect(addr, Default::default()).await;
        let in_flight = tokio::spawn(async move { send.send_request(get(addr, "/")).await });
        entered.notified().await;
        stop.send(()).unwrap();
        release.notify_one();
        let response = in_flight.await.unwrap().unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "done\n");
        server.await.unwrap().unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the listener is closed");
    })
    .await;
}

// ----- !Send services -----

/// A `!Send` body: `chunks` pieces of `chunk` bytes, then trailers; counts its drop.
struct RcBody {
    chunk: usize,
    chunks: usize,
    trailers: bool,
    dropped: Rc<Cell<bool>>,
}

impl Body for RcBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.chunks > 0 {
            self.chunks -= 1;
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; self.chunk])))));
        }
        if std::mem::take(&mut self.trailers) {
            let mut trailers = HeaderMap::new();
            trailers.insert("x-served-by", "a local task".parse().unwrap());
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        Poll::Ready(None)
    }
}

impl Drop for RcBody {
    fn drop(&mut self) {
        self.dropped.set(true);
    }
}

/// A `!Send` service: its state is an `Rc`, its future holds it, its body is `RcBody`.
#[derive(Clone)]
struct RcService {
    calls: Rc<Cell<usize>>,
    dropped: Rc<Cell<bool>>,
}

impl Service<Request<RecvBody>> for RcService {
    type Response = Response<RcBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<RcBody>, BoxError>>>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<RecvBody>) -> Self::Future {
        let calls = self.calls.clone();
        let dropped = self.dropped.clone();
        Box::pin(async move {
            // Wait across an await point with the Rc held.
            tokio::task::yield_now().await;
            calls.set(calls.get() + 1);
            let (chunks, chunk) = match request.uri().path() {
                "/fail" => return Err("refused".into()),
                "/big" => (64, 32 << 10),
                "/endless" => (usize::MAX, 16 << 10),
                _ => (1, calls.get()),
            };
            Ok(Response::new(RcBody { chunk, chunks, trailers: true, dropped }))
        })
    }
}

#[test]
fn a_not_send_service_runs_on_a_current_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(
        &runtime,
        within(async {
            let (listener, addr) = listen().await;
            let calls = Rc::new(Cell::new(0));
            let dropped = Rc::new(Cell::new(false));
            let service = RcService { calls: calls.clone(), dropped: dropped.clone() };
            // Small windows: the 2 MiB body flows only as the client reads.
            let server = Server::new(small_windows());
            tokio::task::spawn_local(async move {
                server.serve(listener, LocalHandler::new(service)).await
            });
            let (send, _conn) = connect(addr, small_windows()).await;

            for n in 1..=3 {
                let response = send.send_request(get(addr, "/small")).await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                let collected = response.into_body().collect().await.unwrap();
                assert_eq!(collected.trailers().unwrap()["x-served-by"], "a local task");
                assert_eq!(collected.to_bytes().len(), n, "call {n} of the shared Rc state");
            }
            assert_eq!(calls.get(), 3);
            let response = send.send_request(get(addr, "/big")).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert!(body.len() == 64 * (32 << 10) && body.iter().all(|&b| b == b'x'));
            // The service's error is a 500, as with ServiceHandler.
            let response = send.send_request(get(addr, "/fail")).await.unwrap();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

            // An endless body: the client reads a little and drops the response; the stream is
            // cancelled and the local body is dropped with it, not pumped forever.
            dropped.set(false);
            let response = send.send_request(get(addr, "/endless")).await.unwrap();
            let mut body = response.into_body();
            for _ in 0..4 {
                body.frame().await.unwrap().unwrap();
            }
            drop(body);
            while !dropped.get() {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            // The connection is still fine.
            let response = send.send_request(get(addr, "/small")).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }),
    );
}

/// Sets its flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn dropping_a_local_handlers_future_cancels_the_local_call() {
    use h2proto_tokio::server::Handler;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(
        &runtime,
        within(async {
            let started = Rc::new(Cell::new(false));
            let cancelled = Rc::new(Cell::new(false));
            let service = {
                let (started, cancelled) = (started.clone(), cancelled.clone());
                tower::service_fn(move |_request: Request<RecvBody>| {
                    let guard = DropFlag(cancelled.clone());
                    started.set(true);
                    async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                        Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
                    }
                })
            };
            let handler = LocalHandler::new(service);
            let mut future = Box::pin(handler.call(Request::new(RecvBody::empty())));
            // Let the local task take the request and start the call.
            while !started.get() {
                assert!(futures_util::poll!(future.as_mut()).is_pending());
                tokio::task::yield_now().await;
            }
            assert!(!cancelled.get());
            drop(future);
            while !cancelled.get() {
                tokio::task::yield_now().await;
            }
        }),
    );
}
