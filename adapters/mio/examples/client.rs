//! A curl-like HTTP/2 client on a mio loop thread (h2c with prior knowledge; this crate
//! has no TLS, so `https://` is refused with curl's exit code 1 rather than sent in
//! cleartext). The response arrives whole, so the body is written once it is complete.
//!
//! ```text
//! cargo run -p h2proto-mio --example mio-client -- http://127.0.0.1:8080/echo -d FILE
//! cargo run -p h2proto-mio --example mio-client -- -i -f --max-time 5 http://127.0.0.1:8080/
//! ```
//!
//! Options, output and exit codes are curl's and the same for the three adapters' clients
//! (`--help`; the shared parser is `adapters/tokio/examples/shared/curl_cli.rs`): 7 when
//! the connect fails, 28 when it or anything after it times out.
//!
//! `--max-time` is the client's own timeouts, not a watchdog around it: the connect
//! timeout is at most `--max-time`, and what the connect left of it is the request's
//! timeout (`RequestTimeout`, as `ClientBuilder::request_timeout`), which bounds sending
//! the request and receiving its whole response. A transfer that runs out of time fails
//! with `ErrorKind::TimedOut`, its stream reset with CANCEL, and exits 28; so does one
//! whose response stalls for the client's stall timeout (`DEFAULT_STALL_TIMEOUT`), as
//! curl's `--speed-time` does.

#[path = "../../tokio/examples/shared/curl_cli.rs"]
mod curl_cli;

use bytes::Bytes;
use curl_cli::{Args, Command, Failure};
use h2proto::pool::RetryPolicy;
use h2proto_mio::{Client, RequestTimeout};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args = match curl_cli::parse(std::env::args().skip(1)) {
        Ok(Command::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(args)) => args,
        Err(failure) => return curl_cli::exit(failure),
    };
    match fetch(&args).and_then(|status| args.verdict(status)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => curl_cli::exit(failure),
    }
}

fn fetch(args: &Args) -> Result<http::StatusCode, Failure> {
    let started = Instant::now();
    args.cleartext_only("h2proto-mio")?;
    let (host, port) = args.addr();
    let client = Client::builder((host.as_str(), port))
        .connect_timeout(args.connect_timeout)
        .retry(RetryPolicy { max_retries: args.retries })
        .connect()
        .map_err(|e| {
            let message = format!("connect to {host}:{port}: {e}");
            match e.kind() {
                std::io::ErrorKind::TimedOut => Failure::new(28, message),
                _ => Failure::connect(message),
            }
        })?;
    let body = args.body()?.map(Bytes::from).unwrap_or_default();
    let (mut head, ()) = args.head().into_parts();
    // What the connect left of --max-time bounds the rest.
    let left = args.max_time.saturating_sub(started.elapsed());
    if left.is_zero() {
        return Err(Failure::timeout(args.max_time));
    }
    head.extensions.insert(RequestTimeout(Some(left)));
    let failed = |e: h2proto_mio::Error| match e.timeout() {
        Some(_) => Failure::new(28, format!("{}: {e}", args.url)),
        None => Failure::recv(e),
    };
    let response = client.request(http::Request::from_parts(head, body)).map_err(failed)?;
    let (head, body) = response.into_parts();
    if let Some(mut out) = args.output(&head)? {
        out.write(&body)?;
        out.finish()?;
    }
    Ok(head.status)
}
