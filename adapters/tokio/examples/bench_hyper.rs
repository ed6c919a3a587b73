//! hyper-util's pooled `Client` (client-legacy, HTTP/2 only, h2c prior knowledge) under
//! the same closed loop as `load`: `-c` × `-m` tasks share one client and send requests
//! until `-n` are done. hyper-util multiplexes one origin over one HTTP/2 connection, so
//! `-c` only groups tasks. For benches/clients.sh; prints one `key=value` line.
//!
//! ```text
//! cargo run --release -p h2proto-tokio --example bench_hyper -- -n 20000 -c 10 -m 100 \
//!     http://127.0.0.1:8080/bytes/13
//! ```

#[path = "shared/bench_cli.rs"]
mod bench_cli;

use bench_cli::{Args, Tally, Tickets};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Instant;

/// hyper-util's pooled HTTP/2 client in a closed loop (for benches/clients.sh).
#[derive(Parser)]
#[command(
    name = "bench_hyper",
    version,
    about = "hyper-util's pooled HTTP/2 client in a closed loop (benches/clients.sh)."
)]
struct Cli {
    #[command(flatten)]
    args: Args,
}

fn main() -> std::process::ExitCode {
    let args = Cli::parse().args;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let client =
            Client::builder(TokioExecutor::new()).http2_only(true).build_http::<Empty<Bytes>>();
        let tickets = Arc::new(Tickets::new(args.requests));
        let start = Instant::now();
        let tasks: Vec<_> = (0..args.clients * args.streams)
            .map(|_| {
                let (client, tickets, uri) = (client.clone(), tickets.clone(), args.uri.clone());
                tokio::spawn(async move {
                    let mut tally = Tally::default();
                    while tickets.take() {
                        let began = Instant::now();
                        let ok = match client.get(uri.clone()).await {
                            Ok(response) => {
                                let success = response.status().is_success();
                                success && response.into_body().collect().await.is_ok()
                            }
                            Err(_) => false,
                        };
                        tally.record(ok, began.elapsed());
                    }
                    tally
                })
            })
            .collect();
        let mut tally = Tally::default();
        for task in tasks {
            tally.merge(task.await.expect("task"));
        }
        tally.report(start.elapsed())
    })
}
