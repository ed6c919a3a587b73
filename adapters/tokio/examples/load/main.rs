//! `load`: an HTTP/2 load generator in the spirit of h2load, on this crate's client.
//!
//! ```text
//! cargo run --release -p h2proto-tokio --example load -- -n 100000 -c 10 -m 100 \
//!     http://127.0.0.1:8080/bytes/13
//! ```
//!
//! As h2load: `-c` clients (connections) each keep up to `-m` requests in flight until
//! `-n` requests are done in all, or for `-D` seconds (after `--warm-up` seconds that are
//! not measured). By default the requests go through one pooled [`Client`] capped at `-c`
//! connections of `-m` streams; `--raw` opens `-c` connections itself and sends on their
//! `SendRequest`s. `--rate R` is open-loop: requests are started on a fixed schedule of R
//! per second whatever the responses do, and latency is measured from the time a request
//! was *meant* to start, so a stall shows in the percentiles instead of slowing the
//! schedule (coordinated omission). Prints a progress line on stderr, then per run the
//! latency and time-to-first-byte percentiles, a breakdown by status and the throughput
//! (or `--csv` / `--json` rows), and with `--runs K` the mean and standard deviation.
//! Exits 1 if any request failed or got a status >= 400, 2 on bad usage, 23 (curl's write
//! error) when the report cannot be written, as to a pipe whose reader has gone.

mod report;
mod stats;

use bytes::Bytes;
use clap::Parser;
use h2proto_tokio::client::{self, SendRequest};
use h2proto_tokio::pool::Client;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use report::{Format, Run};
use stats::Stats;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// An HTTP/2 load generator (h2load's options, on h2proto's pooled client).
#[derive(Parser, Debug)]
#[command(
    name = "load",
    version,
    about = "An HTTP/2 load generator in the spirit of h2load, on h2proto's pooled client.",
    after_help = "Exit status: 0 all requests succeeded; 1 a request failed or got status >= 400; 2 bad usage; 23 the report could not be written (a closed pipe)."
)]
struct Cli {
    /// Requests in all (ignored with -D).
    #[arg(short = 'n', long = "requests", default_value_t = 1)]
    requests: u64,
    /// Concurrent clients: connections, and tasks each keeping -m requests in flight.
    #[arg(short = 'c', long = "clients",
        visible_alias = "connections", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    clients: u32,
    /// Requests in flight per client (streams per connection).
    #[arg(short = 'm', long = "max-concurrent-streams",
        visible_alias = "streams", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    streams: u32,
    /// POST the contents of FILE with every request.
    #[arg(short = 'd', long = "data", value_name = "FILE")]
    data: Option<PathBuf>,
    /// Duration mode: send requests for SECS seconds instead of -n requests.
    #[arg(short = 'D', long = "duration", value_name = "SECS")]
    duration: Option<f64>,
    /// Send requests for SECS seconds before measuring (their results are not counted).
    #[arg(long = "warm-up", value_name = "SECS", default_value_t = 0.0)]
    warm_up: f64,
    /// Add a request header, 'name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    headers: Vec<String>,
    /// Open loop: start R requests per second in all on a fixed schedule, latency from the
    /// intended start.
    #[arg(long, value_name = "R")]
    rate: Option<f64>,
    /// Repeat the whole measurement K times; prints the mean and standard deviation.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Print CSV rows instead of the text report.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    json: bool,
    /// Runtime threads (1: a current-thread runtime, as h2load's default -t 1).
    #[arg(short = 't', long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    threads: u32,
    /// One `SendRequest` per connection instead of the pooled `Client`.
    #[arg(long)]
    raw: bool,
    /// Trust the PEM certificates in FILE for https:// (default: the system bundle).
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Print the pooled client's metrics (connections, hits, misses, waits) on stderr after
    /// each run.
    #[arg(long)]
    metrics: bool,
    /// No progress line on stderr.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// http://HOST:PORT/PATH (h2c, prior knowledge) or https://... (feature rustls).
    uri: Uri,
}

/// What every request of a run is made of.
struct Template {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Template {
    fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        if !self.headers.is_empty() {
            *request.headers_mut() = self.headers.clone();
        }
        request
    }
}

/// How requests are sent: through the pool, or on one connection's handle.
#[derive(Clone)]
enum Sender {
    Pool(Client),
    Raw(SendRequest),
}

/// A completed request: status, time to the head, bytes of the response body.
type Outcome = Result<(u16, Instant, u64), String>;

impl Sender {
    /// Sends one request made from `template`. (Made in the call, not passed in: an
    /// argument would be kept in every task's future, which is touched at every response.)
    async fn send(&self, template: &Template) -> Outcome {
        // Only the body is kept across the awaits that read it, not the response (nor the
        // result it came in: no await inside a match on it), and it is read through a
        // reference: a task's future holds the body once, in this future's space.
        match self {
            Sender::Pool(client) => {
                let response = match client.request(template.request()).await {
                    Ok(response) => response,
                    Err(e) => return Err(e.to_string()),
                };
                let (head, status, mut body) = split(response);
                count(&mut body).await.map(|bytes| (status, head, bytes))
            }
            Sender::Raw(send) => {
                let response = match send.send_request(template.request()).await {
                    Ok(response) => response,
                    Err(e) => return Err(e.to_string()),
                };
                let (head, status, mut body) = split(response);
                count(&mut body).await.map(|bytes| (status, head, bytes))
            }
        }
    }
}

/// A response's arrival time, status and body.
fn split<B>(response: http::Response<B>) -> (Instant, u16, B) {
    let head = Instant::now();
    let status = response.status().as_u16();
    (head, status, response.into_body())
}

/// Reads a response body to its end, counting bytes.
async fn count<B>(body: &mut B) -> Result<u64, String>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut bytes = 0;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => bytes += frame.data_ref().map_or(0, |d| d.len() as u64),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(bytes)
}

/// What the tasks of one run share (read-only, but for the counters and the groups'
/// results).
struct Plan {
    template: Template,
    /// Requests left to start (`-n` mode).
    tickets: Option<AtomicU64>,
    /// Results count from here (after the warm-up).
    measure_from: Instant,
    /// No request starts after this (`-D` mode).
    stop_at: Option<Instant>,
    /// Between two intended starts of one task (`--rate`).
    interval: Option<Duration>,
    /// One per client (`-c`): what its `-m` tasks measured.
    groups: Vec<Group>,
}

/// A client's results: its tasks record here (each group its own lock, so recording a
/// request takes no lock shared by the whole run).
#[derive(Default)]
struct Group {
    results: Mutex<Results>,
    /// Requests completed (for the progress line).
    done: AtomicU64,
}

#[derive(Default)]
struct Results {
    stats: Option<Stats>,
    first_error: Option<String>,
}

impl Plan {
    /// Whether a request intended to start at `start` may start.
    fn admit(&self, start: Instant) -> bool {
        if self.stop_at.is_some_and(|stop| start >= stop) {
            return false;
        }
        match &self.tickets {
            // Warm-up requests take no ticket.
            Some(tickets) if start >= self.measure_from => tickets
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
            _ => true,
        }
    }
}

/// One of a client's `-m` tasks: a request at a time until the plan says stop; with
/// `--rate`, each started at its intended time (`first`, then every `interval`), or at
/// once if the previous one ended late, its latency still counted from the intended time.
async fn worker(sender: Sender, plan: Arc<Plan>, group: usize, first: Instant) {
    let sent = plan.template.body.len() as u64;
    let group = &plan.groups[group];
    let mut next = first;
    // Closed loop: a request starts when the previous one ended, so that clock reading
    // serves both (one read fewer per request).
    let mut ended = Instant::now();
    loop {
        let start = match plan.interval {
            Some(interval) => {
                tokio::time::sleep_until(next).await;
                let start = next;
                next += interval;
                start
            }
            None => ended,
        };
        if !plan.admit(start) {
            return;
        }
        let outcome = sender.send(&plan.template).await;
        ended = Instant::now();
        group.done.fetch_add(1, Ordering::Relaxed);
        if start < plan.measure_from {
            continue;
        }
        let mut results = group.results.lock().unwrap_or_else(PoisonError::into_inner);
        let results = &mut *results;
        let stats = results.stats.get_or_insert_with(Stats::new);
        match outcome {
            Ok((status, head, bytes)) => {
                stats.record(status, head - start, ended - start, bytes + sent);
            }
            Err(e) => {
                stats.failed += 1;
                results.first_error.get_or_insert(e);
            }
        }
    }
}

/// Prints, about once a second, how many requests are done.
async fn progress(plan: Arc<Plan>, total: Option<u64>) {
    let tty = std::io::stderr().is_terminal();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut last = 0;
    loop {
        tick.tick().await;
        let done: u64 = plan.groups.iter().map(|g| g.done.load(Ordering::Relaxed)).sum();
        let share = total.map(|t| format!(" of {t}")).unwrap_or_default();
        let line = format!("progress: {done}{share} done, {} req/s", done - last);
        last = done;
        let mut err = std::io::stderr().lock();
        let _ = if tty { write!(err, "\r{line}   ") } else { writeln!(err, "{line}") };
    }
}

async fn run_once(cli: &Cli, template: Template) -> Result<(Run, Option<String>), String> {
    let clients = cli.clients as usize;
    let senders = senders(cli).await?;
    let pooled = match senders.first() {
        Some(Sender::Pool(client)) if cli.metrics => Some(client.clone()),
        _ => None,
    };
    let begin = Instant::now();
    let warm = Duration::from_secs_f64(cli.warm_up.max(0.0));
    let measure_from = begin + warm;
    let tasks = clients * cli.streams as usize;
    // With --rate R, the tasks take turns: task i starts at i / R, then every tasks / R.
    let rate = cli.rate.filter(|r| *r > 0.0);
    let plan = Arc::new(Plan {
        template,
        tickets: cli.duration.is_none().then(|| AtomicU64::new(cli.requests)),
        measure_from,
        stop_at: cli.duration.map(|d| measure_from + Duration::from_secs_f64(d.max(0.0))),
        interval: rate.map(|r| Duration::from_secs_f64(tasks as f64 / r)),
        groups: (0..clients).map(|_| Group::default()).collect(),
    });
    let progress = (!cli.quiet).then(|| {
        tokio::spawn(progress(plan.clone(), cli.duration.is_none().then_some(cli.requests)))
    });
    let mut handles = Vec::with_capacity(tasks);
    for (group, sender) in senders.into_iter().enumerate() {
        for stream in 0..cli.streams as usize {
            let i = group * cli.streams as usize + stream;
            let first =
                begin + rate.map_or(Duration::ZERO, |r| Duration::from_secs_f64(i as f64 / r));
            handles.push(tokio::spawn(worker(sender.clone(), plan.clone(), group, first)));
        }
    }
    for handle in handles {
        handle.await.map_err(|e| format!("client task: {e}"))?;
    }
    let mut stats = Stats::new();
    let mut first_error = None;
    for group in &plan.groups {
        let mut results = group.results.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = &results.stats {
            stats.merge(s);
        }
        first_error = first_error.or(results.first_error.take());
    }
    let ended = Instant::now();
    if let Some(client) = pooled {
        eprintln!("load: pool metrics: {:?}", client.metrics());
    }
    if let Some(progress) = progress {
        progress.abort();
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
    }
    // The measured window: the duration asked for, or from the end of the warm-up to the
    // last response.
    let elapsed = match cli.duration {
        Some(d) => Duration::from_secs_f64(d.max(0.0)).min(ended - measure_from.min(ended)),
        None => ended - measure_from.min(ended),
    };
    Ok((Run { elapsed, stats }, first_error))
}

/// The senders of the client tasks: clones of one pooled client, or one connection each.
async fn senders(cli: &Cli) -> Result<Vec<Sender>, String> {
    let clients = cli.clients as usize;
    if !cli.raw {
        let mut builder = Client::builder()
            .max_connections_per_origin(clients)
            .max_streams_per_connection(Some(cli.streams))
            .max_waiting_per_origin(clients * cli.streams as usize)
            .request_timeout(None);
        if cli.uri.scheme_str() == Some("https") {
            builder = tls_builder(builder, cli)?;
        }
        let client = builder.build();
        return Ok((0..clients).map(|_| Sender::Pool(client.clone())).collect());
    }
    let host = cli.uri.host().ok_or("the URI has no host")?.to_owned();
    let https = cli.uri.scheme_str() == Some("https");
    let port = cli.uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let mut senders = Vec::new();
    for _ in 0..clients {
        let send = if https {
            connect_tls(cli, &host, port).await?
        } else {
            let (send, connection) = client::connect((host.as_str(), port))
                .await
                .map_err(|e| format!("connect to {host}:{port}: {e}"))?;
            tokio::spawn(connection);
            send
        };
        senders.push(Sender::Raw(send));
    }
    Ok(senders)
}

#[cfg(feature = "rustls")]
fn tls_config(cli: &Cli) -> Result<Arc<h2proto_tokio::tls::rustls::ClientConfig>, String> {
    use h2proto_tokio::tls::{self, rustls};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let bundle = match &cli.cacert {
        Some(path) => path.clone(),
        None => std::env::var_os("SSL_CERT_FILE")
            .map(Into::into)
            .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into()),
    };
    let certs = CertificateDer::pem_file_iter(&bundle)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("CA certificates {}: {e}", bundle.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(certs);
    tls::client_config(roots).map_err(|e| e.to_string())
}

#[cfg(feature = "rustls")]
fn tls_builder(
    builder: h2proto_tokio::pool::ClientBuilder,
    cli: &Cli,
) -> Result<h2proto_tokio::pool::ClientBuilder, String> {
    Ok(builder.tls(tls_config(cli)?))
}

#[cfg(feature = "rustls")]
async fn connect_tls(cli: &Cli, host: &str, port: u16) -> Result<SendRequest, String> {
    let config = tls_config(cli)?;
    let (send, connection) =
        h2proto_tokio::tls::connect((host, port), host, config, Default::default())
            .await
            .map_err(|e| format!("TLS with {host}:{port}: {e}"))?;
    tokio::spawn(connection);
    Ok(send)
}

#[cfg(not(feature = "rustls"))]
fn tls_builder(
    _: h2proto_tokio::pool::ClientBuilder,
    _: &Cli,
) -> Result<h2proto_tokio::pool::ClientBuilder, String> {
    Err("https:// needs TLS: build with --features rustls".into())
}

#[cfg(not(feature = "rustls"))]
async fn connect_tls(_: &Cli, _: &str, _: u16) -> Result<SendRequest, String> {
    Err("https:// needs TLS: build with --features rustls".into())
}

fn template(cli: &Cli) -> Result<Template, String> {
    if !matches!(cli.uri.scheme_str(), Some("http" | "https")) || cli.uri.host().is_none() {
        return Err(format!("{}: the URI must be http://HOST... or https://HOST...", cli.uri));
    }
    let mut headers = HeaderMap::new();
    for line in &cli.headers {
        let (name, value) = line.split_once(':').ok_or(format!("header {line:?}: no ':'"))?;
        let name =
            HeaderName::try_from(name.trim()).map_err(|e| format!("header {line:?}: {e}"))?;
        let value =
            HeaderValue::try_from(value.trim()).map_err(|e| format!("header {line:?}: {e}"))?;
        headers.append(name, value);
    }
    let body = match &cli.data {
        Some(path) => {
            Bytes::from(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Bytes::new(),
    };
    let method = if cli.data.is_some() { Method::POST } else { Method::GET };
    Ok(Template { method, uri: cli.uri.clone(), headers, body })
}

/// curl's exit code for an output that cannot be written.
const WRITE_ERROR: u8 = 23;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let usage = |e: String| {
        eprintln!("load: {e}");
        ExitCode::from(2)
    };
    if let Err(e) = template(&cli) {
        return usage(e);
    }
    let mut runtime = if cli.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(cli.threads as usize);
        b
    };
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return usage(format!("runtime: {e}")),
    };
    let format = if cli.csv {
        Format::Csv
    } else if cli.json {
        Format::Json
    } else {
        Format::Text
    };
    let mut runs = Vec::new();
    for _ in 0..cli.runs {
        let template = template(&cli).expect("checked above");
        match runtime.block_on(run_once(&cli, template)) {
            Ok((run, first_error)) => {
                if let Some(e) = first_error {
                    eprintln!("load: a request failed: {e}");
                }
                runs.push(run);
            }
            Err(e) => {
                eprintln!("load: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    // A reader that went away (`load URL | head -c1`) is curl's write error, 23: exit
    // quietly with it.
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    if report::print(&mut stdout, format, &runs).is_err() {
        return ExitCode::from(WRITE_ERROR);
    }
    if runs.iter().any(|r| r.stats.errors() > 0 || r.stats.responses() == 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
