//! The `h2` crate's client (hyperium/h2, the HTTP/2 of hyper) under the same closed loop
//! as `load`: `-c` connections, `-m` tasks on each, sending requests until `-n` are done.
//! For benches/clients.sh; prints one `key=value` line.
//!
//! ```text
//! cargo run --release -p h2proto-tokio --example bench_h2 -- -n 20000 -c 10 -m 100 \
//!     http://127.0.0.1:8080/bytes/13
//! ```

#[path = "shared/bench_cli.rs"]
mod bench_cli;

use bench_cli::{Args, Tally, Tickets};
use bytes::Bytes;
use clap::Parser;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpStream;

/// hyperium/h2's client in a closed loop (for benches/clients.sh).
#[derive(Parser)]
#[command(
    name = "bench_h2",
    version,
    about = "hyperium/h2's client in a closed loop (benches/clients.sh)."
)]
struct Cli {
    #[command(flatten)]
    args: Args,
}

/// One request: send the head, read the body to its end, releasing its flow control.
async fn one(
    send: &mut h2::client::SendRequest<Bytes>,
    uri: &http::Uri,
) -> Result<bool, h2::Error> {
    let request = http::Request::get(uri.clone()).body(()).expect("a valid request");
    let mut ready = send.clone().ready().await?;
    let (response, _) = ready.send_request(request, true)?;
    let response = response.await?;
    let ok = response.status().is_success();
    let mut body = response.into_body();
    while let Some(data) = body.data().await {
        let data = data?;
        let _ = body.flow_control().release_capacity(data.len());
    }
    Ok(ok)
}

fn main() -> std::process::ExitCode {
    let args = Cli::parse().args;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let host = args.uri.host().unwrap_or("127.0.0.1").to_owned();
        let port = args.uri.port_u16().unwrap_or(80);
        let tickets = Arc::new(Tickets::new(args.requests));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..args.clients {
            let tcp = TcpStream::connect((host.as_str(), port)).await.expect("connect");
            let _ = tcp.set_nodelay(true);
            let (send, connection) = h2::client::handshake(tcp).await.expect("handshake");
            tokio::spawn(connection);
            for _ in 0..args.streams {
                let (mut send, tickets, uri) = (send.clone(), tickets.clone(), args.uri.clone());
                tasks.push(tokio::spawn(async move {
                    let mut tally = Tally::default();
                    while tickets.take() {
                        let began = Instant::now();
                        let ok = matches!(one(&mut send, &uri).await, Ok(true));
                        tally.record(ok, began.elapsed());
                    }
                    tally
                }));
            }
        }
        let mut tally = Tally::default();
        for task in tasks {
            tally.merge(task.await.expect("task"));
        }
        tally.report(start.elapsed())
    })
}
