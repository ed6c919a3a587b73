//! An endless Server-Sent Events stream over h2c, paced by flow control.
//!
//! ```text
//! cargo run -p h2proto-tokio --example sse -- --addr 127.0.0.1:8080 --interval 0
//! curl -sN --http2-prior-knowledge http://127.0.0.1:8080/events | head
//! ```
//!
//! `GET /events` answers `text/event-stream` with events `0, 1, 2, ...`, one per
//! `--interval` milliseconds (0: as fast as the client reads). The producer is a task that
//! writes into a channel of one event; the connection takes from it only while the client's
//! stream window is open, so a client that stops reading pauses the producer, with at most
//! a window and a send buffer of events made and unread (see `shared/sse.rs`). Each stream's
//! producer logs how far it got when the client goes.

#[path = "shared/sse.rs"]
mod sse;

use h2proto_tokio::server::Server;
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response, StatusCode};
use http_body_util::{Either, Empty};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const HELP: &str = "\
usage: sse [--addr HOST:PORT] [--interval MS]

Serves an endless text/event-stream on GET /events over h2c (HTTP/2 prior knowledge).

      --addr HOST:PORT  where to listen (default: 127.0.0.1:8080; port 0 picks one)
      --interval MS     milliseconds between events (default: 1000; 0: as fast as read)
  -h, --help            this text
  -V, --version         print the version
";

#[tokio::main]
async fn main() -> ExitCode {
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut interval = Duration::from_secs(1);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("-h" | "--help", _) => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            ("-V" | "--version", _) => {
                println!("sse {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            ("--addr", Some(value)) => addr = value,
            ("--interval", Some(value)) => match value.parse() {
                Ok(ms) => interval = Duration::from_millis(ms),
                Err(_) => return usage(&format!("--interval: not a number: {value:?}")),
            },
            (other, _) => return usage(&format!("unknown argument or missing value: {other}")),
        }
    }
    match run(&addr, interval).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sse: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("sse: {message}\n\n{HELP}");
    ExitCode::from(2)
}

async fn run(addr: &str, interval: Duration) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("events on http://{}/events (h2c)", listener.local_addr()?);
    let handler = move |request: Request<RecvBody>| async move {
        if request.uri().path() != "/events" {
            let mut response = Response::new(Either::Right(Empty::new()));
            *response.status_mut() = StatusCode::NOT_FOUND;
            return response;
        }
        let produced = Arc::new(AtomicU64::new(0));
        let watched = produced.clone();
        let response = sse::stream(None, interval, produced);
        // Tell when the client went: the producer's channel is closed by then.
        tokio::spawn(async move {
            while Arc::strong_count(&watched) > 1 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            println!("a client left after {} events", watched.load(Ordering::SeqCst));
        });
        response.map(Either::Left)
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Server::new(Config::default()).serve_with_shutdown(listener, handler, shutdown).await
}
