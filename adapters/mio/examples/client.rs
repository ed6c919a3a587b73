//! A curl-like HTTP/2 client on a mio loop thread: h2c with prior knowledge for
//! `http://`, and TLS with ALPN `h2` for `https://` when built with `--features rustls`
//! (trusting `--cacert FILE`, or the system's CA bundle: `SSL_CERT_FILE`, else
//! `/etc/ssl/certs/ca-certificates.crt`; without the feature `https://` is refused with
//! curl's exit code 1 rather than sent in cleartext). The response arrives whole, so the
//! body is written once it is complete.
//!
//! ```text
//! cargo run -p h2proto-mio --example mio-client -- http://127.0.0.1:8080/echo -d FILE
//! cargo run -p h2proto-mio --example mio-client -- -i -f --max-time 5 http://127.0.0.1:8080/
//! cargo run -p h2proto-mio --features rustls --example mio-client -- --cacert ca.pem https://localhost:8443/
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
use curl_cli::{Args, Failure};
use h2proto::pool::RetryPolicy;
use h2proto_mio::{Client, ClientBuilder, RequestTimeout};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    curl_cli::main_sync(fetch)
}

fn fetch(args: &Args) -> Result<http::StatusCode, Failure> {
    let started = Instant::now();
    let (host, port) = args.addr();
    let builder = Client::builder((host.as_str(), port));
    let builder = if args.is_https() { with_tls(args, builder, &host)? } else { builder };
    let client = builder
        .connect_timeout(args.connect_timeout)
        .retry(RetryPolicy { max_retries: args.retries })
        .connect()
        .map_err(|e| {
            let message = format!("connect to {host}:{port}: {e}");
            match e.kind() {
                std::io::ErrorKind::TimedOut => Failure::new(28, message),
                // What rustls reports: an untrusted certificate, no ALPN h2.
                std::io::ErrorKind::InvalidData => Failure::tls(message),
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

/// A builder speaking TLS to `host`, trusting `--cacert` or the system's CA bundle.
#[cfg(feature = "rustls")]
fn with_tls(args: &Args, builder: ClientBuilder, host: &str) -> Result<ClientBuilder, Failure> {
    use h2proto_mio::tls::{client_config, rustls};

    let config = client_config(curl_cli::trusted_roots!(args)?).map_err(Failure::tls)?;
    builder.tls(config, host).map_err(|e| Failure::new(3, format!("{host}: {e}")))
}

#[cfg(not(feature = "rustls"))]
fn with_tls(args: &Args, builder: ClientBuilder, _: &str) -> Result<ClientBuilder, Failure> {
    // Asked for https:// only, which an example built without TLS refuses.
    args.cleartext_only("h2proto-mio").map(|()| builder)
}
