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
//! (`--help`; the shared parser is `adapters/tokio/examples/shared/curl_cli.rs`).

#[path = "../../tokio/examples/shared/curl_cli.rs"]
mod curl_cli;

use bytes::Bytes;
use curl_cli::{Args, Failure};
use h2proto::pool::RetryPolicy;
use h2proto_mio::Client;
use std::process::ExitCode;

fn main() -> ExitCode {
    curl_cli::main_blocking(fetch)
}

fn fetch(args: &Args) -> Result<http::StatusCode, Failure> {
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
    let (head, ()) = args.head().into_parts();
    let response = client.request(http::Request::from_parts(head, body)).map_err(Failure::recv)?;
    let (head, body) = response.into_parts();
    if let Some(mut out) = args.output(&head)? {
        out.write(&body)?;
        out.finish()?;
    }
    Ok(head.status)
}
