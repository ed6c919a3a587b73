//! What a production server needs around the handler: handlers cancelled when nobody
//! waits for their answer any more, accept errors survived, a connection limit, and a
//! drain deadline for graceful shutdown.

mod support;

use bytes::Bytes;
use h2proto_tokio::server::Server;
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;
use tokio::sync::{mpsc, oneshot};

/// Signals when dropped: the handler's future (which owns it) is gone.
struct Guard(Option<oneshot::Sender<()>>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// How long a test waits for something that must happen before calling it a failure.
const WAIT: Duration = Duration::from_secs(10);

/// A handler that reports it started, then waits forever holding a [`Guard`]; returns the
/// handler, the "started" receiver and the "dropped" receiver.
#[allow(clippy::type_complexity)]
fn forever_handler() -> (
    impl Fn(Request<RecvBody>) -> std::pin::Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>
    + Send
    + Sync
    + 'static,
    mpsc::UnboundedReceiver<()>,
    oneshot::Receiver<()>,
) {
    let (started_tx, started) = mpsc::unbounded_channel();
    let (dropped_tx, dropped) = oneshot::channel();
    let dropped_tx = Arc::new(Mutex::new(Some(dropped_tx)));
    let handler = move |_request: Request<RecvBody>| {
        let guard = Guard(dropped_tx.lock().unwrap().take());
        let started_tx = started_tx.clone();
        Box::pin(async move {
            let _guard = guard;
            let _ = started_tx.send(());
            std::future::pending::<()>().await;
            Response::new(Full::new(Bytes::new()))
        }) as std::pin::Pin<Box<dyn Future<Output = _> + Send>>
    };
    (handler, started, dropped)
}

fn get(addr: std::net::SocketAddr) -> Request<Empty<Bytes>> {
    Request::get(url(addr, "/wait")).body(Empty::new()).unwrap()
}

#[tokio::test]
async fn a_handler_whose_stream_the_client_reset_is_dropped() {
    within(async {
        let (handler, mut started, dropped) = forever_handler();
        let addr = serve(Config::default(), handler).await;
        let (send, _conn) = connect(addr, Config::default()).await;
        // Dropping the response future resets the stream with CANCEL (RFC 9113 §8.1).
        let request = tokio::spawn(async move { send.send_request(get(addr)).await });
        started.recv().await.expect("the handler started");
        request.abort();
        tokio::time::timeout(WAIT, dropped)
            .await
            .expect("the handler's future was dropped after RST_STREAM")
            .unwrap();
    })
    .await
}

#[tokio::test]
async fn a_handler_whose_connection_died_is_dropped() {
    within(async {
        let (handler, mut started, dropped) = forever_handler();
        let addr = serve(Config::default(), handler).await;
        let (send, conn) = connect(addr, Config::default()).await;
        let _request = tokio::spawn(async move { send.send_request(get(addr)).await });
        started.recv().await.expect("the handler started");
        // The client's connection task ends: its socket closes under the server.
        conn.abort();
        tokio::time::timeout(WAIT, dropped)
            .await
            .expect("the handler's future was dropped after the connection closed")
            .unwrap();
    })
    .await
}

#[tokio::test]
async fn a_handler_whose_server_connection_was_dropped_is_dropped() {
    within(async {
        let (handler, mut started, dropped) = forever_handler();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let connection = Server::new(Config::default()).handshake(tcp, handler);
            // The application stops polling the connection and drops it.
            tokio::select! {
                _ = connection => {}
                _ = stop => {}
            }
        });
        let (send, _conn) = connect(addr, Config::default()).await;
        let _request = tokio::spawn(async move { send.send_request(get(addr)).await });
        started.recv().await.expect("the handler started");
        stop_tx.send(()).unwrap();
        tokio::time::timeout(WAIT, dropped)
            .await
            .expect("the handler's future was dropped with its connection")
            .unwrap();
    })
    .await
}

/// Set in the child process that runs the EMFILE test (its file limit is lowered).
const EMFILE_CHILD: &str = "H2PROTO_TOKIO_EMFILE_CHILD";

#[test]
fn accept_running_out_of_file_descriptors_does_not_end_serve() {
    // The file limit is the process's: the test runs in a child of its own, so the other
    // tests of this binary keep theirs.
    if std::env::var_os(EMFILE_CHILD).is_some() {
        return emfile_child();
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "accept_running_out_of_file_descriptors_does_not_end_serve"])
        .args(["--nocapture", "--test-threads=1"])
        .env(EMFILE_CHILD, "1")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{log}");
    assert!(log.contains("1 passed"), "the child ran the test:\n{log}");
}

/// Exhausts the descriptors while a connection waits to be accepted: `accept` fails with
/// EMFILE; once descriptors are free again the same `serve` accepts and answers it.
fn emfile_child() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = |_request: Request<RecvBody>| async {
            Response::new(Full::new(Bytes::from_static(b"ok")))
        };
        let server = tokio::spawn(async move { Server::default().serve(listener, handler).await });

        let mut limit = getrlimit(Resource::Nofile);
        limit.current = Some(limit.current.map_or(256, |n| n.min(256)));
        setrlimit(Resource::Nofile, limit).unwrap();
        let mut fillers = Vec::new();
        loop {
            match std::fs::File::open("/dev/null") {
                Ok(file) => fillers.push(file),
                Err(e) => {
                    assert_eq!(e.raw_os_error(), Some(rustix::io::Errno::MFILE.raw_os_error()));
                    break;
                }
            }
        }
        // One descriptor for the client's socket; none is left for the server's accept.
        fillers.pop();
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        // The listener is readable now; let the server try (and fail) to accept.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!server.is_finished(), "serve ended on EMFILE: {:?}", server.await);
        drop(fillers);

        let (send, conn) = h2proto_tokio::client::handshake(tcp);
        tokio::spawn(conn);
        let response = send.send_request(get(addr)).await.expect("served after EMFILE");
        assert_eq!(response.status(), 200);
        assert!(!server.is_finished());
    }));
}

#[tokio::test]
async fn at_the_connection_limit_a_new_connection_waits_until_one_closes() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = |_request: Request<RecvBody>| async {
            Response::new(Full::new(Bytes::from_static(b"ok")))
        };
        let server = Server::default().max_connections(1);
        tokio::spawn(async move { server.serve(listener, handler).await });

        let (first, first_conn) = connect(addr, Config::default()).await;
        assert_eq!(first.send_request(get(addr)).await.unwrap().status(), 200);
        // The second connection is made (the kernel's backlog holds it) but not served.
        let (second, _second_conn) = connect(addr, Config::default()).await;
        let waiting = tokio::spawn(async move { second.send_request(get(addr)).await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "a second connection was served beyond the limit");
        // The first closes; the second takes its place.
        drop(first);
        first_conn.abort();
        let response = tokio::time::timeout(WAIT, waiting).await.expect("served").unwrap();
        assert_eq!(response.unwrap().status(), 200);
    })
    .await
}

#[tokio::test]
async fn an_endless_response_cannot_hold_graceful_shutdown_past_the_drain_deadline() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // An event stream that never ends.
        let handler = |_request: Request<RecvBody>| async {
            Response::new(CountingBody::new(usize::MAX, 1024).0)
        };
        let (stop_tx, stop) = oneshot::channel::<()>();
        let server = Server::default().drain_timeout(Some(Duration::from_millis(200)));
        let serving = tokio::spawn(async move {
            server.serve_with_shutdown(listener, handler, async { stop.await.unwrap() }).await
        });
        let (send, _conn) = connect(addr, Config::default()).await;
        let mut body = send.send_request(get(addr)).await.unwrap().into_body();
        body.frame().await.unwrap().unwrap();

        stop_tx.send(()).unwrap();
        let served = tokio::time::timeout(WAIT, serving).await.expect("serve returned");
        served.unwrap().unwrap();
        // The stream was cut, not ended: the client sees an error.
        let end = loop {
            match body.frame().await {
                Some(Ok(_)) => continue,
                other => break other,
            }
        };
        assert!(matches!(end, Some(Err(_))), "the endless body ended with {end:?}");
    })
    .await
}

/// The fields of an HTTP/1.1 message that HTTP/2 forbids (RFC 9113 §8.2.2).
const HTTP1_FIELDS: [(&str, &str); 5] = [
    ("connection", "keep-alive"),
    ("keep-alive", "timeout=5"),
    ("proxy-connection", "keep-alive"),
    ("transfer-encoding", "chunked"),
    ("upgrade", "websocket"),
];

#[tokio::test]
async fn a_proxied_http1_response_goes_out_without_its_connection_specific_fields() {
    within(async {
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let handler = move |request: Request<RecvBody>| {
            let _ = seen_tx.send(request.headers().clone());
            async {
                // What a proxy forwards from an HTTP/1.1 origin.
                let mut response =
                    Response::builder().header("x-origin", "h1").header("te", "gzip");
                for (name, value) in HTTP1_FIELDS {
                    response = response.header(name, value);
                }
                response.body(Full::new(Bytes::from_static(b"proxied"))).unwrap()
            }
        };
        let addr = serve(Config::default(), handler).await;
        let (send, _conn) = connect(addr, Config::default()).await;
        // The client forwards an HTTP/1.1 request the same way.
        let mut request = Request::get(url(addr, "/")).header("x-client", "1");
        for (name, value) in HTTP1_FIELDS {
            request = request.header(name, value);
        }
        let response = send.send_request(request.body(Empty::<Bytes>::new()).unwrap()).await;
        let response = response.expect("the response was sent, not reset");
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(headers["x-origin"], "h1");
        for (name, _) in HTTP1_FIELDS.iter().chain(&[("te", "")]) {
            assert!(!headers.contains_key(*name), "{name} reached the client: {headers:?}");
        }
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "proxied");
        let request_headers = seen.recv().await.unwrap();
        assert_eq!(request_headers["x-client"], "1");
        for (name, _) in HTTP1_FIELDS {
            assert!(!request_headers.contains_key(name), "{name} reached the server");
        }
    })
    .await
}
