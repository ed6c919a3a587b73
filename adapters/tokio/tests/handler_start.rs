//! When a request's handler starts. A request with a body is handed to its handler once the
//! events of the read that brought it have all been handled, so the DATA that came with the
//! HEADERS is already in the body: a handler that reads its whole body first (as every
//! tonic unary handler does) then answers in its first poll, with no task of its own, no
//! channel message and no extra turn of the connection. Proven by counting polls, not by
//! timing: HEADERS and DATA of every request arrive in one write the server reads at once.

use bytes::Bytes;
use h2proto::{Connection, Event};
use h2proto_tokio::{Config, RecvBody, server::Server};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Counts the polls of the future it wraps.
struct Counted<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        self.inner.as_mut().poll(cx)
    }
}

#[tokio::test]
async fn a_handler_that_reads_its_body_first_answers_in_its_first_poll() {
    const REQUESTS: usize = 8;
    let polls = Arc::new(AtomicUsize::new(0));
    let (mut client_io, server_io) = tokio::io::duplex(1 << 20);
    let counted = polls.clone();
    let served = tokio::spawn(Server::new(Config::default()).handshake(
        server_io,
        move |request: Request<RecvBody>| Counted {
            polls: counted.clone(),
            inner: Box::pin(async move {
                let body = request.into_body().collect().await.unwrap().to_bytes();
                Response::new(Full::new(body))
            }),
        },
    ));

    // Preface, SETTINGS and every request (HEADERS, then DATA with END_STREAM) in one write.
    let mut client = Connection::client(h2proto::Config::default());
    let mut ids = Vec::new();
    for i in 0..REQUESTS {
        let request = Request::post("http://localhost/echo").body(()).unwrap();
        let id = client.send_request(request, false).unwrap();
        client.send_data(id, Bytes::from(format!("request {i}")), true).unwrap();
        ids.push(id);
    }
    let wire = h2proto::buf_to_vec(client.transmit());
    client_io.write_all(&wire).await.unwrap();

    let mut answered = Vec::new();
    let mut buf = vec![0; 64 << 10];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while answered.len() < REQUESTS {
        let n = tokio::time::timeout_at(deadline, client_io.read(&mut buf))
            .await
            .expect("the server answers every request")
            .unwrap();
        assert!(n > 0, "the server closed with {} of {REQUESTS} answered", answered.len());
        client.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now()).unwrap();
        while let Some(event) = client.poll_event() {
            if let Event::Data { stream_id, end_stream: true } = event {
                let mut body = Vec::new();
                while let Some(chunk) = client.read_data(stream_id) {
                    body.extend_from_slice(&chunk);
                }
                answered.push((stream_id, body));
            }
        }
        let out = h2proto::buf_to_vec(client.transmit());
        client_io.write_all(&out).await.unwrap();
    }

    for (i, id) in ids.iter().enumerate() {
        let body = &answered.iter().find(|(s, _)| s == id).expect("answered").1;
        assert_eq!(body, format!("request {i}").as_bytes(), "each body echoed to its own stream");
    }
    // One poll per handler: none saw its body empty and had to wait in a task.
    assert_eq!(polls.load(Ordering::Relaxed), REQUESTS);
    drop(client_io);
    let _ = tokio::time::timeout(Duration::from_secs(5), served).await;
}
