//! Flow control reaches the application: a reader that does not read stops the sender
//! after a bounded amount, in both directions (RFC 9113 §5.2).

mod support;

use bytes::Bytes;
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

/// Stream window of the slow reader.
const WINDOW: usize = 64 << 10;
/// Per-stream send buffer of the fast sender.
const SEND_BUFFER: usize = 64 << 10;
/// The sender's body chunk.
const CHUNK: usize = 16 << 10;
/// What may be produced beyond what was read: the receive window (credit returns only as
/// the application reads), the sender's buffer and one chunk held while the core was full.
const BOUND: usize = WINDOW + SEND_BUFFER + CHUNK;

fn reader_config() -> Config {
    let mut config = Config::default();
    config.initial_stream_window_size = WINDOW as u32;
    config
}

fn sender_config() -> Config {
    let mut config = Config::default();
    config.max_send_buffer_per_stream = SEND_BUFFER as u32;
    config
}

/// Reads `body` slowly, asserting after every pause that the sender is at most `BOUND`
/// ahead. Returns the bytes read.
async fn read_slowly(
    body: &mut RecvBody,
    produced: &std::sync::atomic::AtomicUsize,
    upto: usize,
) -> usize {
    let mut consumed = 0;
    while consumed < upto {
        // The pause is the slow reader's behaviour; the assertion holds at any moment.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let ahead = produced.load(Ordering::SeqCst) - consumed;
        assert!(ahead <= BOUND, "sender is {ahead} bytes ahead of the reader (bound {BOUND})");
        let Some(frame) = body.frame().await else { break };
        consumed += frame.unwrap().into_data().map(|d| d.len()).unwrap_or(0);
    }
    consumed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_reader_stops_the_server() {
    within(async {
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel();
        let (body, produced) = CountingBody::new(64 << 20, CHUNK);
        let slot = std::sync::Mutex::new(Some((body, dropped_tx)));
        let addr = serve(sender_config(), move |_req: Request<RecvBody>| {
            let (mut body, dropped) = slot.lock().unwrap().take().expect("one request");
            body.dropped = Some(dropped);
            async move { Response::new(body) }
        })
        .await;
        let (send, _conn) = connect(addr, reader_config()).await;
        let request = Request::get(url(addr, "/firehose")).body(Empty::<Bytes>::new()).unwrap();
        let mut body = send.send_request(request).await.unwrap().into_body();
        // Let the server run ahead as far as it can, then check it was stopped.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let ahead = produced.load(Ordering::SeqCst);
        assert!(ahead <= BOUND, "server produced {ahead} bytes nobody read (bound {BOUND})");
        let consumed = read_slowly(&mut body, &produced, 2 << 20).await;
        assert!(consumed >= 2 << 20);
        assert!(produced.load(Ordering::SeqCst) < 64 << 20, "the server never ran to the end");
        // Dropping the body cancels the stream; the server drops its body.
        drop(body);
        dropped_rx.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_reader_stops_the_client() {
    within(async {
        let (produced_tx, produced_rx) = tokio::sync::oneshot::channel();
        let produced_slot = std::sync::Mutex::new(Some(produced_rx));
        let addr = serve(reader_config(), move |request: Request<RecvBody>| {
            let produced_rx = produced_slot.lock().unwrap().take().expect("one request");
            async move {
                let produced: std::sync::Arc<std::sync::atomic::AtomicUsize> =
                    produced_rx.await.unwrap();
                let mut body = request.into_body();
                tokio::time::sleep(Duration::from_millis(200)).await;
                let ahead = produced.load(Ordering::SeqCst);
                assert!(ahead <= BOUND, "client produced {ahead} bytes nobody read");
                let consumed = read_slowly(&mut body, &produced, 1 << 20).await;
                Response::new(Full::new(Bytes::from(consumed.to_string())))
            }
        })
        .await;
        let (send, _conn) = connect(addr, sender_config()).await;
        let (body, produced) = CountingBody::new(1 << 20, CHUNK);
        produced_tx.send(produced).unwrap();
        let request = Request::post(url(addr, "/upload")).body(body).unwrap();
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let got = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(got, (1usize << 20).to_string(), "the server read the whole upload");
    })
    .await;
}

#[tokio::test]
async fn connection_credit_returns_for_bodies_read_after_their_stream_closed_or_dropped() {
    // RFC 9113 §6.9: every byte received counts against the connection window until
    // released. Bodies here are read after the core has closed and forgotten their stream,
    // or dropped unread; a leak would stall the connection after four responses (a 64 KiB
    // connection window, 16 KiB bodies).
    within(async {
        let addr = serve(Config::default(), |_req: Request<RecvBody>| async {
            Response::new(Full::new(pattern(16 << 10)))
        })
        .await;
        let (send, _conn) = connect(addr, small_windows()).await;
        for i in 0..40 {
            let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
            let mut body = send.send_request(request).await.unwrap().into_body();
            match i % 3 {
                0 => drop(body),
                1 => {
                    // Read part, drop the rest.
                    body.frame().await.unwrap().unwrap();
                    drop(body);
                }
                _ => assert!(body.collect().await.unwrap().to_bytes() == pattern(16 << 10)),
            }
        }
    })
    .await;
}
