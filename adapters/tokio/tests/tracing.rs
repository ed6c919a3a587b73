//! The `tracing` feature: what a subscriber sees of connections, streams, resets and
//! GOAWAY. The tests run on a current-thread runtime, so one thread-local subscriber sees
//! the server's and the client's tasks alike.

mod support;

use bytes::Bytes;
use h2proto_tokio::server::Server;
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response};
use http_body_util::{Empty, Full};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use support::*;
use tokio::sync::{mpsc, oneshot};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// One event as seen: its fields, and the spans it happened in (outermost first).
#[derive(Clone, Debug)]
struct Seen {
    fields: String,
    spans: Vec<String>,
}

/// A subscriber that keeps every span's fields and every event with its span stack.
#[derive(Default)]
struct Capture {
    spans: Mutex<HashMap<u64, String>>,
    stack: Mutex<Vec<u64>>,
    events: Arc<Mutex<Vec<Seen>>>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut spans = self.spans.lock().unwrap();
        let id = spans.len() as u64 + 1;
        let mut text = format!("{}: ", span.metadata().name());
        span.record(&mut Fields(&mut text));
        spans.insert(id, text);
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(text) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(text));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = String::new();
        event.record(&mut Fields(&mut fields));
        let spans = self.spans.lock().unwrap();
        let stack = self.stack.lock().unwrap();
        let spans = stack.iter().filter_map(|id| spans.get(id).cloned()).collect();
        self.events.lock().unwrap().push(Seen { fields, spans });
    }

    fn enter(&self, span: &Id) {
        self.stack.lock().unwrap().push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut stack = self.stack.lock().unwrap();
        if let Some(at) = stack.iter().rposition(|id| *id == span.into_u64()) {
            stack.remove(at);
        }
    }
}

/// Installs a capturing subscriber on this thread; returns what it saw so far on demand.
fn capture() -> (tracing::subscriber::DefaultGuard, Arc<Mutex<Vec<Seen>>>) {
    let subscriber = Capture::default();
    let events = subscriber.events.clone();
    (tracing::subscriber::set_default(subscriber), events)
}

/// The events whose fields contain every one of `parts`.
fn find(events: &Mutex<Vec<Seen>>, parts: &[&str]) -> Vec<Seen> {
    let events = events.lock().unwrap();
    events.iter().filter(|e| parts.iter().all(|p| e.fields.contains(p))).cloned().collect()
}

#[tokio::test]
async fn a_reset_is_traced_on_both_sides_with_its_code_in_the_connection_and_stream_spans() {
    let (_guard, events) = capture();
    within(async {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let handler = move |_request: Request<RecvBody>| {
            let started_tx = started_tx.clone();
            async move {
                tracing::info!("handler running");
                let _ = started_tx.send(());
                std::future::pending::<()>().await;
                Response::new(Full::new(Bytes::new()))
            }
        };
        let addr = serve(Config::default(), handler).await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let request = Request::get(url(addr, "/reset-me")).body(Empty::<Bytes>::new()).unwrap();
        let pending = tokio::spawn(async move { send.send_request(request).await });
        started.recv().await.unwrap();
        pending.abort();
        // The client's CANCEL reaches the server.
        while find(&events, &["RST_STREAM received"]).is_empty() {
            tokio::task::yield_now().await;
        }
    })
    .await;

    let handler = find(&events, &["handler running"]);
    let spans = &handler[0].spans;
    assert!(
        spans[0].contains("h2 connection") && spans[0].contains("role=\"server\""),
        "{spans:?}"
    );
    assert!(spans[0].contains("peer=127.0.0.1:"), "the peer is named: {spans:?}");
    assert!(spans[1].contains("h2 stream") && spans[1].contains("path=\"/reset-me\""), "{spans:?}");

    let sent = find(&events, &["RST_STREAM sent", "code=CANCEL"]);
    assert!(sent[0].spans[0].contains("role=\"client\""), "{sent:?}");
    let received = find(&events, &["RST_STREAM received", "code=CANCEL", "stream=1"]);
    assert!(received[0].spans[0].contains("role=\"server\""), "{received:?}");
}

#[tokio::test]
async fn a_graceful_shutdown_traces_goaway_sent_and_received() {
    let (_guard, events) = capture();
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = |_request: Request<RecvBody>| async {
            Response::new(Full::new(Bytes::from_static(b"ok")))
        };
        let (stop_tx, stop) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let signal = async { stop.await.unwrap() };
            Server::default().serve_with_shutdown(listener, handler, signal).await
        });
        let (send, conn) = connect(addr, Config::default()).await;
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        assert_eq!(send.send_request(request).await.unwrap().status(), 200);
        stop_tx.send(()).unwrap();
        server.await.unwrap().unwrap();
        drop(send);
        conn.await.unwrap().unwrap();
    })
    .await;

    let sent = find(&events, &["GOAWAY sent", "code=NO_ERROR"]);
    assert!(sent.iter().any(|e| e.spans[0].contains("role=\"server\"")), "{sent:?}");
    let received = find(&events, &["GOAWAY received", "code=NO_ERROR"]);
    assert!(received.iter().any(|e| e.spans[0].contains("role=\"client\"")), "{received:?}");
    // The client answers with its own GOAWAY (RFC 9113 §6.8).
    assert!(sent.iter().any(|e| e.spans[0].contains("role=\"client\"")), "{sent:?}");
}

#[tokio::test]
async fn a_response_held_back_by_flow_control_traces_the_stall() {
    let (_guard, events) = capture();
    within(async {
        let handler = |_request: Request<RecvBody>| async {
            Response::new(Full::new(Bytes::from(vec![7u8; 256 << 10])))
        };
        let addr = serve(Config::default(), handler).await;
        // The client's windows are far smaller than the body.
        let (send, _conn) = connect(addr, small_windows()).await;
        let request = Request::get(url(addr, "/big")).body(Empty::<Bytes>::new()).unwrap();
        let body = send.send_request(request).await.unwrap().into_body();
        let body = http_body_util::BodyExt::collect(body).await.unwrap().to_bytes();
        assert_eq!(body.len(), 256 << 10);
    })
    .await;
    let stalls = find(&events, &["sending stalled on flow control"]);
    assert!(stalls.iter().any(|e| e.spans[0].contains("role=\"server\"")), "{stalls:?}");
}

#[tokio::test]
async fn connection_specific_fields_left_out_of_a_response_are_warned_about() {
    let (_guard, events) = capture();
    within(async {
        let handler = |_request: Request<RecvBody>| async {
            let response = Response::builder().header("connection", "close");
            response.body(Full::new(Bytes::from_static(b"ok"))).unwrap()
        };
        let addr = serve(Config::default(), handler).await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        let response = send.send_request(request).await.unwrap();
        assert!(!response.headers().contains_key("connection"));
    })
    .await;
    let warned = find(&events, &["connection-specific fields", "from a response", "count=1"]);
    assert!(warned.iter().any(|e| e.fields.contains("stream=1")), "{warned:?}");
}

#[tokio::test]
async fn a_handler_that_panics_is_warned_about_not_reset_silently() {
    let (_guard, events) = capture();
    within(async {
        let handler = |request: Request<RecvBody>| async move {
            if request.uri().path() == "/panic" {
                panic!("handler bug");
            }
            Response::new(Full::new(Bytes::new()))
        };
        let addr = serve(Config::default(), handler).await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let request = Request::get(url(addr, "/panic")).body(Empty::<Bytes>::new()).unwrap();
        assert!(send.send_request(request).await.is_err(), "the stream was reset");
    })
    .await;
    let warned = find(&events, &["handler ended without a response", "stream=1"]);
    assert!(warned[0].spans[0].contains("role=\"server\""), "{warned:?}");
}
