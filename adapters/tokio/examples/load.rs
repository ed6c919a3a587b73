//! A load generator in the spirit of h2load, on this crate's client.
//!
//! ```text
//! cargo run --release -p h2proto-tokio --example load -- \
//!     --connections 4 --streams 32 --requests 100000 [--body BYTES] [--runs R] [--csv|--json] \
//!     http://127.0.0.1:8080/
//! ```
//!
//! `C` connections each run `S` requests at a time until `N` requests are done in all.
//! With `--body`, each request POSTs that many bytes (point it at `/echo` to load both
//! directions). Prints requests/s, latency p50/p90/p99/max, bytes/s (request and response
//! bodies) and errors per run, and with `--runs` the mean and standard deviation over runs.

use bytes::Bytes;
use h2proto_tokio::client;
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Text,
    Csv,
    Json,
}

struct Args {
    uri: Uri,
    connections: usize,
    streams: usize,
    requests: usize,
    body: usize,
    runs: usize,
    format: Format,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        uri: Uri::default(),
        connections: 1,
        streams: 1,
        requests: 1000,
        body: 0,
        runs: 1,
        format: Format::Text,
    };
    let mut uri = None;
    let mut it = std::env::args().skip(1);
    let number = |it: &mut dyn Iterator<Item = String>, name: &str| -> Result<usize, String> {
        let v = it.next().ok_or(format!("{name} needs a number"))?;
        v.parse().map_err(|_| format!("bad {name} {v}"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--connections" | "-c" => args.connections = number(&mut it, &arg)?.max(1),
            "--streams" | "-m" => args.streams = number(&mut it, &arg)?.max(1),
            "--requests" | "-n" => args.requests = number(&mut it, &arg)?,
            "--body" => args.body = number(&mut it, &arg)?,
            "--runs" => args.runs = number(&mut it, &arg)?.max(1),
            "--csv" => args.format = Format::Csv,
            "--json" => args.format = Format::Json,
            _ if !arg.starts_with('-') => {
                uri = Some(arg.parse::<Uri>().map_err(|e| format!("{arg}: {e}"))?)
            }
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    args.uri = uri.ok_or(
        "usage: load --connections C --streams S --requests N [--body BYTES] [--runs R] \
         [--csv|--json] http://HOST:PORT/PATH",
    )?;
    if args.uri.scheme_str() != Some("http") {
        return Err("only http:// (h2c with prior knowledge) is supported".into());
    }
    Ok(args)
}

/// The result of one run.
struct Run {
    elapsed: Duration,
    ok: usize,
    errors: usize,
    bytes: u64,
    /// Sorted latencies of successful requests, in microseconds.
    latencies: Vec<u64>,
}

impl Run {
    fn requests_per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn bytes_per_second(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> u64 {
        if self.latencies.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    fn max(&self) -> u64 {
        self.latencies.last().copied().unwrap_or(0)
    }
}

async fn run_once(args: &Args) -> Run {
    let host = args.uri.host().unwrap_or("127.0.0.1").to_owned();
    let port = args.uri.port_u16().unwrap_or(80);
    let tickets = Arc::new(AtomicUsize::new(0));
    let body = Bytes::from(vec![b'x'; args.body]);
    let mut connections = Vec::new();
    for _ in 0..args.connections {
        connections.push(client::connect((host.as_str(), port)).await);
    }
    let start = Instant::now();
    let mut workers = Vec::new();
    let mut failed_connections = 0;
    for connection in connections {
        let (send, task) = match connection {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("connect failed: {e}");
                failed_connections += 1;
                continue;
            }
        };
        tokio::spawn(task);
        for _ in 0..args.streams {
            let (send, tickets, body, uri) =
                (send.clone(), tickets.clone(), body.clone(), args.uri.clone());
            let total = args.requests;
            workers.push(tokio::spawn(async move {
                let (mut latencies, mut errors, mut bytes) = (Vec::new(), 0usize, 0u64);
                while tickets.fetch_add(1, Ordering::Relaxed) < total {
                    let began = Instant::now();
                    let method = if body.is_empty() { Method::GET } else { Method::POST };
                    let request = Request::builder()
                        .method(method)
                        .uri(uri.clone())
                        .body(Full::new(body.clone()))
                        .expect("a valid request");
                    let result = async {
                        let response = send.send_request(request).await?;
                        let ok = response.status().is_success();
                        let got = response.into_body().collect().await?.to_bytes();
                        Ok::<_, h2proto_tokio::Error>((ok, got.len()))
                    }
                    .await;
                    match result {
                        Ok((true, n)) => {
                            latencies.push(began.elapsed().as_micros() as u64);
                            bytes += (n + body.len()) as u64;
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors, bytes)
            }));
        }
    }
    let mut run = Run {
        elapsed: Duration::ZERO,
        ok: 0,
        errors: failed_connections,
        bytes: 0,
        latencies: Vec::new(),
    };
    for worker in workers {
        let (latencies, errors, bytes) = worker.await.expect("worker task");
        run.ok += latencies.len();
        run.latencies.extend(latencies);
        run.errors += errors;
        run.bytes += bytes;
    }
    run.elapsed = start.elapsed();
    run.latencies.sort_unstable();
    run
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

const COLUMNS: [&str; 7] =
    ["requests_per_s", "p50_us", "p90_us", "p99_us", "max_us", "bytes_per_s", "errors"];

fn values(run: &Run) -> [f64; 7] {
    [
        run.requests_per_second(),
        run.percentile(50.0) as f64,
        run.percentile(90.0) as f64,
        run.percentile(99.0) as f64,
        run.max() as f64,
        run.bytes_per_second(),
        run.errors as f64,
    ]
}

fn report(args: &Args, runs: &[Run]) {
    let rows: Vec<[f64; 7]> = runs.iter().map(values).collect();
    let stats: Vec<(f64, f64)> = (0..COLUMNS.len())
        .map(|c| mean_sd(&rows.iter().map(|r| r[c]).collect::<Vec<_>>()))
        .collect();
    match args.format {
        Format::Text => {
            for (i, run) in runs.iter().enumerate() {
                println!(
                    "run {}: {} requests in {:.3} s: {:.0} req/s, latency p50 {} us, p90 {} us, \
                     p99 {} us, max {} us, {:.2} MB/s, {} errors",
                    i + 1,
                    run.ok,
                    run.elapsed.as_secs_f64(),
                    run.requests_per_second(),
                    run.percentile(50.0),
                    run.percentile(90.0),
                    run.percentile(99.0),
                    run.max(),
                    run.bytes_per_second() / 1e6,
                    run.errors
                );
            }
            if runs.len() > 1 {
                for (name, (mean, sd)) in COLUMNS.iter().zip(&stats) {
                    println!("{name}: mean {mean:.1}, sd {sd:.1}");
                }
            }
        }
        Format::Csv => {
            println!("run,{}", COLUMNS.join(","));
            for (i, row) in rows.iter().enumerate() {
                let cells: Vec<String> = row.iter().map(|v| format!("{v:.1}")).collect();
                println!("{},{}", i + 1, cells.join(","));
            }
            if runs.len() > 1 {
                let means: Vec<String> = stats.iter().map(|(m, _)| format!("{m:.1}")).collect();
                let sds: Vec<String> = stats.iter().map(|(_, s)| format!("{s:.1}")).collect();
                println!("mean,{}", means.join(","));
                println!("sd,{}", sds.join(","));
            }
        }
        Format::Json => {
            let object = |row: &[f64; 7]| {
                let fields: Vec<String> =
                    COLUMNS.iter().zip(row).map(|(k, v)| format!("\"{k}\":{v:.1}")).collect();
                format!("{{{}}}", fields.join(","))
            };
            let runs_json: Vec<String> = rows.iter().map(object).collect();
            let mean: [f64; 7] = std::array::from_fn(|c| stats[c].0);
            let sd: [f64; 7] = std::array::from_fn(|c| stats[c].1);
            println!(
                "{{\"connections\":{},\"streams\":{},\"requests\":{},\"body\":{},\"runs\":[{}],\
                 \"mean\":{},\"sd\":{}}}",
                args.connections,
                args.streams,
                args.requests,
                args.body,
                runs_json.join(","),
                object(&mean),
                object(&sd)
            );
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut runs = Vec::new();
    for _ in 0..args.runs {
        runs.push(run_once(&args).await);
    }
    report(&args, &runs);
    if runs.iter().any(|r| r.errors > 0 || r.ok == 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
