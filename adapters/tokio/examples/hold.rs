//! Holds many idle HTTP/2 connections open: each makes one request, then stays quiet.
//! For measuring what an idle connection costs a server (`benches/idle_connections.sh`).
//!
//! ```sh
//! cargo run --release -p h2proto-tokio --example hold -- --connections 10000 --seconds 5 http://127.0.0.1:8080/
//! ```
//!
//! Prints `held N connections` once all are open and answered, holds them `--seconds`,
//! and exits non-zero if any connection or request failed. Raise `ulimit -n` first.

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: hold [--connections N] [--seconds S] URL";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let (mut connections, mut seconds, mut url) = (1000usize, 5u64, None::<String>);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<u64>().ok());
        match arg.as_str() {
            "--connections" => connections = value().unwrap_or(0) as usize,
            "--seconds" => seconds = value().unwrap_or(0),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                println!("hold ({} {})", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            _ if url.is_none() && !arg.starts_with('-') => url = Some(arg),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(uri) = url.and_then(|u| u.parse::<http::Uri>().ok()) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let mut opening = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (uri, authority) = (uri.clone(), authority.clone());
        opening.spawn(async move {
            let (send, conn) = h2proto_tokio::client::connect(authority.as_str())
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(conn);
            let request = Request::get(uri).body(Empty::<Bytes>::new()).unwrap();
            let response = send.send_request(request).await.map_err(|e| e.to_string())?;
            response.into_body().collect().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(send)
        });
    }
    let mut held = Vec::with_capacity(connections);
    while let Some(joined) = opening.join_next().await {
        match joined {
            Ok(Ok(send)) => held.push(send),
            Ok(Err(e)) => {
                eprintln!("hold: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("hold: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("held {} connections", held.len());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let closed = held.iter().filter(|s| s.is_closed()).count();
    if closed > 0 {
        eprintln!("hold: the server closed {closed} of them");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
