//! A curl-like HTTP/2 client on tokio: h2c with prior knowledge for `http://`, and TLS with
//! ALPN `h2` for `https://` when built with `--features rustls` (trusting `--cacert FILE`,
//! or the system's CA bundle: `SSL_CERT_FILE`, else `/etc/ssl/certs/ca-certificates.crt`).
//!
//! ```text
//! cargo run -p h2proto-tokio --example client -- http://127.0.0.1:8080/
//! cargo run -p h2proto-tokio --example client -- -d file.bin http://127.0.0.1:8080/echo
//! cargo run -p h2proto-tokio --features rustls --example client -- --cacert ca.pem https://localhost:8443/
//! ```
//!
//! Options, output and exit codes are curl's and the same for the three adapters' clients
//! (`--help`; the shared parser is `shared/curl_cli.rs`). The body is written as it
//! arrives. Requests go through the pooled [`pool::Client`], so `--connect-timeout` and
//! `--retry` are its own connect timeout and RFC 9113 §8.7 retries.

#[path = "shared/curl_cli.rs"]
mod curl_cli;

use bytes::Bytes;
use curl_cli::{Args, Command, Failure};
use h2proto_tokio::pool::{self, ClientError, ClientErrorKind};
use http::Request;
use http_body_util::{BodyExt, Full};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args = match curl_cli::parse(std::env::args().skip(1)) {
        Ok(Command::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(args)) => args,
        Err(failure) => return curl_cli::exit(failure),
    };
    let outcome = match tokio::time::timeout(args.max_time, fetch(&args)).await {
        Ok(result) => result.and_then(|status| args.verdict(status)),
        Err(_) => Err(Failure::timeout(args.max_time)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => curl_cli::exit(failure),
    }
}

async fn fetch(args: &Args) -> Result<http::StatusCode, Failure> {
    let client = client(args)?;
    let body = Full::new(args.body()?.map(Bytes::from).unwrap_or_default());
    let (head, ()) = args.head().into_parts();
    // A body in memory can be sent again if the server did not process the request.
    let request = pool::replayable(Request::from_parts(head, body));
    let response = client.request(request).await.map_err(|e| failure(args, e))?;
    let (head, mut body) = response.into_parts();
    if let Some(mut out) = args.output(&head)? {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.map_err(|e| failure(args, e))?.into_data() {
                out.write(&data)?;
            }
        }
        out.finish()?;
    }
    Ok(head.status)
}

/// The pooled client (one origin, one connection here), with the command line's connect
/// timeout and retries.
fn client(args: &Args) -> Result<pool::Client, Failure> {
    let builder =
        pool::Client::builder().connect_timeout(args.connect_timeout).max_retries(args.retries);
    if args.is_https() {
        return with_tls(args, builder);
    }
    Ok(builder.build())
}

/// curl's exit code for a failed request.
fn failure(args: &Args, e: ClientError) -> Failure {
    let (host, port) = args.addr();
    match e.kind() {
        ClientErrorKind::TlsUnavailable => Failure::unsupported(e),
        ClientErrorKind::ConnectTimeout => {
            Failure::new(28, format!("connect to {host}:{port}: {e}"))
        }
        ClientErrorKind::Connect(io) if args.is_https() && !is_connect_error(io) => {
            Failure::tls(format!("TLS with {host}:{port}: {e}"))
        }
        ClientErrorKind::Connect(_) | ClientErrorKind::Pool(_) => {
            Failure::connect(format!("connect to {host}:{port}: {e}"))
        }
        ClientErrorKind::Uri(_) => Failure::new(3, e),
        ClientErrorKind::Timeout | ClientErrorKind::BodyStalled => Failure::timeout(args.max_time),
        _ => Failure::recv(e),
    }
}

/// Whether a failed connection attempt is curl's "could not connect" (7) rather than a
/// failed TLS handshake (35).
fn is_connect_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused
            | ConnectionReset
            | TimedOut
            | AddrNotAvailable
            | HostUnreachable
            | NetworkUnreachable
            | NotFound
    )
}

#[cfg(not(feature = "rustls"))]
fn with_tls(_: &Args, _: pool::ClientBuilder) -> Result<pool::Client, Failure> {
    Err(Failure::unsupported("https:// needs TLS: build this example with --features rustls"))
}

#[cfg(feature = "rustls")]
fn with_tls(args: &Args, builder: pool::ClientBuilder) -> Result<pool::Client, Failure> {
    use h2proto_tokio::tls::{self, rustls};

    let config = tls::client_config(curl_cli::trusted_roots!(args)?).map_err(Failure::tls)?;
    Ok(builder.tls(config).build())
}
