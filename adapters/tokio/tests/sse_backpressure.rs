//! Streaming with backpressure (RFC 9113 §5.2, §6.9): an endless Server-Sent Events stream
//! whose client stops reading pauses the server's producer, with what was made and not read
//! bounded by the client's stream window and the server's send buffer (both `Config`), and
//! the producer resumes, in order, when the client reads again. The producer is the `sse`
//! example's (`examples/shared/sse.rs`).

#[path = "cli_support/mod.rs"]
mod cli_support;
#[path = "../examples/shared/sse.rs"]
mod sse;
mod support;

use bytes::Bytes;
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

/// The client's stream window: what the server may send before the client reads.
const CLIENT_WINDOW: u32 = 16 << 10;
/// The server's per-stream send buffer: what its core queues beyond the window.
const SEND_BUFFER: u32 = 16 << 10;

/// Events that may be produced and not read: the window and the send buffer full of the
/// smallest event, one in the producer's channel, one taken from the body by the connection
/// and not yet accepted by the core, and one the parser holds partially.
fn bound() -> u64 {
    let smallest = sse::event(0).len() as u64;
    u64::from(CLIENT_WINDOW + SEND_BUFFER) / smallest + 3
}

fn client_config() -> Config {
    let mut config = Config::default();
    config.initial_stream_window_size = CLIENT_WINDOW;
    config
}

fn server_config() -> Config {
    let mut config = Config::default();
    config.max_send_buffer_per_stream = SEND_BUFFER;
    config
}

/// Reads `n` events from `body`, checking that their ids continue from `next`.
async fn read_events(body: &mut RecvBody, parser: &mut sse::Parser, next: &mut u64, n: u64) {
    let until = *next + n;
    while *next < until {
        let frame = body.frame().await.expect("the stream is endless").unwrap();
        let Ok(data) = frame.into_data() else { continue };
        for id in parser.feed(&data) {
            assert_eq!(id, Some(*next), "events arrive in order, none lost");
            *next += 1;
        }
    }
}

/// Waits until `produced` has not moved for 200 ms, and returns it.
async fn settled(produced: &AtomicU64) -> u64 {
    let mut last = produced.load(Ordering::SeqCst);
    let mut still = 0;
    while still < 10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = produced.load(Ordering::SeqCst);
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_pauses_the_event_producer_until_it_reads_again() {
    within(async {
        let produced = Arc::new(AtomicU64::new(0));
        let slot = Mutex::new(Some(produced.clone()));
        let addr = serve(server_config(), move |_: Request<RecvBody>| {
            let produced = slot.lock().unwrap().take().expect("one request");
            async move { sse::stream(None, Duration::ZERO, produced) }
        })
        .await;
        let (send, _conn) = connect(addr, client_config()).await;
        let request = Request::get(url(addr, "/events")).body(Empty::<Bytes>::new()).unwrap();
        let response: Response<RecvBody> = send.send_request(request).await.unwrap();
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut body = response.into_body();
        let (mut parser, mut next) = (sse::Parser::default(), 0);

        // The client reads a little, then stops: the producer stops too, within the bound.
        read_events(&mut body, &mut parser, &mut next, 100).await;
        let paused = settled(&produced).await;
        eprintln!("paused with {} events made and not read (bound {})", paused - next, bound());
        assert!(
            paused - next <= bound(),
            "{} events made and not read (bound {})",
            paused - next,
            bound()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(produced.load(Ordering::SeqCst), paused, "the paused producer made more");

        // The client reads again: the producer resumes where it was, nothing lost.
        read_events(&mut body, &mut parser, &mut next, 5 * bound()).await;
        assert!(produced.load(Ordering::SeqCst) > paused, "the producer resumed");
        let paused_again = settled(&produced).await;
        assert!(paused_again - next <= bound(), "bounded again after the second pause");

        // Dropping the body cancels the stream; the producer ends (drops its counter).
        drop(body);
        while Arc::strong_count(&produced) > 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// The `sse` example as a user runs it: `--help`, `--version`, and an event stream that a
/// client reads in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sse_example_streams_events_in_order() {
    within(async {
        let bin = tokio::task::spawn_blocking(|| cli_support::example("h2proto-tokio", "sse", &[]))
            .await
            .unwrap();
        let help = cli_support::run(&bin, &["--help"]);
        assert_eq!(help.code, 0, "{help:?}");
        assert!(String::from_utf8_lossy(&help.stdout).contains("--interval MS"));
        let version = cli_support::run(&bin, &["--version"]);
        assert_eq!(
            String::from_utf8_lossy(&version.stdout),
            format!("sse {}\n", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(cli_support::run(&bin, &["--interval", "soon"]).code, 2);

        let mut child = tokio::process::Command::new(&bin)
            .args(["--addr", "127.0.0.1:0", "--interval", "0"])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
        let first = lines.next_line().await.unwrap().expect("the example prints its address");
        let addr: std::net::SocketAddr = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .expect(&first);
        let (send, _conn) = connect(addr, Config::default()).await;
        let request = Request::get(url(addr, "/events")).body(Empty::<Bytes>::new()).unwrap();
        let mut body = send.send_request(request).await.unwrap().into_body();
        let (mut parser, mut next) = (sse::Parser::default(), 0);
        read_events(&mut body, &mut parser, &mut next, 1000).await;
        drop(body);
        child.kill().await.unwrap();
    })
    .await;
}
