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
//! arrives.

#[path = "shared/curl_cli.rs"]
mod curl_cli;

use bytes::Bytes;
use curl_cli::{Args, Command, Failure};
use h2proto_tokio::client::SendRequest;
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
    let send = connect(args).await?;
    let body = Full::new(args.body()?.map(Bytes::from).unwrap_or_default());
    let (head, ()) = args.head().into_parts();
    let response =
        send.send_request(Request::from_parts(head, body)).await.map_err(Failure::recv)?;
    let (head, mut body) = response.into_parts();
    if let Some(mut out) = args.output(&head)? {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.map_err(Failure::recv)?.into_data() {
                out.write(&data)?;
            }
        }
        out.finish()?;
    }
    Ok(head.status)
}

/// Whether a failed connection attempt is curl's "could not connect" (7).
#[cfg(feature = "rustls")]
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

async fn connect(args: &Args) -> Result<SendRequest, Failure> {
    let (host, port) = args.addr();
    if args.is_https() {
        return connect_tls(args, &host, port).await;
    }
    let (send, connection) = h2proto_tokio::client::connect((host.as_str(), port))
        .await
        .map_err(|e| Failure::connect(format!("connect to {host}:{port}: {e}")))?;
    tokio::spawn(connection);
    Ok(send)
}

#[cfg(not(feature = "rustls"))]
async fn connect_tls(_: &Args, _: &str, _: u16) -> Result<SendRequest, Failure> {
    Err(Failure::unsupported("https:// needs TLS: build this example with --features rustls"))
}

#[cfg(feature = "rustls")]
async fn connect_tls(args: &Args, host: &str, port: u16) -> Result<SendRequest, Failure> {
    use h2proto_tokio::tls::{self, rustls};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let bundle = match &args.cacert {
        Some(path) => path.clone(),
        None => std::env::var_os("SSL_CERT_FILE")
            .map(Into::into)
            .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into()),
    };
    let certs = CertificateDer::pem_file_iter(&bundle)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Failure::new(77, format!("CA certificates {}: {e}", bundle.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(certs);
    let config = tls::client_config(roots).map_err(Failure::tls)?;
    let (send, connection) = tls::connect((host, port), host, config, Default::default())
        .await
        .map_err(|e| match e.kind() {
            h2proto_tokio::ErrorKind::Io(io) if is_connect_error(io) => {
                Failure::connect(format!("connect to {host}:{port}: {e}"))
            }
            _ => Failure::tls(format!("TLS with {host}:{port}: {e}")),
        })?;
    tokio::spawn(connection);
    Ok(send)
}
