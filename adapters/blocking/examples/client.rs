//! A curl-like HTTP/2 client on std threads: h2c with prior knowledge for `http://`, and
//! TLS with ALPN `h2` for `https://` when built with `--features rustls` (trusting
//! `--cacert FILE`, else the system's CA bundle); without the feature `https://` is refused
//! with curl's exit code 1 rather than sent in cleartext.
//!
//! ```text
//! cargo run -p h2proto-blocking --example blocking-client -- http://127.0.0.1:8080/echo -d FILE
//! cargo run -p h2proto-blocking --example blocking-client -- -i -f --max-time 5 http://127.0.0.1:8080/
//! cargo run -p h2proto-blocking --features rustls --example blocking-client -- --cacert ca.pem https://localhost:8443/
//! ```
//!
//! Options, output and exit codes are curl's and the same for the three adapters' clients
//! (`--help`; the shared parser is `adapters/tokio/examples/shared/curl_cli.rs`): 7 when
//! the connect fails, 28 when it or anything after it times out, 35 when the TLS handshake
//! fails.

#[path = "../../tokio/examples/shared/curl_cli.rs"]
mod curl_cli;

use curl_cli::{Args, Failure};
use h2proto_blocking::{Body, Builder, Client};
use std::io::{self, Read};
use std::process::ExitCode;

fn main() -> ExitCode {
    curl_cli::main_blocking(fetch)
}

fn fetch(args: &Args) -> Result<http::StatusCode, Failure> {
    let (host, port) = args.addr();
    let builder = if args.is_https() { with_tls(args, &host)? } else { Client::builder() };
    let client = builder.connect((host.as_str(), port)).map_err(|e| {
        let message = format!("connect to {host}:{port}: {e}");
        match e.kind() {
            io::ErrorKind::TimedOut => Failure::new(28, message),
            // What rustls reports: an untrusted certificate, no ALPN h2.
            io::ErrorKind::InvalidData => Failure::tls(message),
            _ => Failure::connect(message),
        }
    })?;
    let body = args.body()?.map_or_else(Body::empty, Body::from);
    let (head, ()) = args.head().into_parts();
    let response = client.request(http::Request::from_parts(head, body)).map_err(Failure::recv)?;
    let (head, mut body) = response.into_parts();
    if let Some(mut out) = args.output(&head)? {
        let mut buf = vec![0; 64 << 10];
        loop {
            let n = body.read(&mut buf).map_err(Failure::recv)?;
            if n == 0 {
                break;
            }
            out.write(&buf[..n])?;
        }
        out.finish()?;
    }
    Ok(head.status)
}

/// A builder for TLS to `host`, trusting `--cacert` or the system's CA bundle.
#[cfg(feature = "rustls")]
fn with_tls(args: &Args, host: &str) -> Result<Builder, Failure> {
    use h2proto_blocking::tls::{client_config, rustls};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let bundle = args.cacert.clone().unwrap_or_else(|| {
        std::env::var_os("SSL_CERT_FILE")
            .map_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into(), Into::into)
    });
    let certs = CertificateDer::pem_file_iter(&bundle)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Failure::new(77, format!("CA certificates {}: {e}", bundle.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(certs);
    let config = client_config(roots).map_err(Failure::tls)?;
    Client::builder().tls(config, host).map_err(|e| Failure::new(3, format!("{host}: {e}")))
}

#[cfg(not(feature = "rustls"))]
fn with_tls(_: &Args, _: &str) -> Result<Builder, Failure> {
    Err(Failure::unsupported(
        "https:// needs TLS: build this example with --features rustls (h2proto-blocking \
         speaks h2c over http:// without it)",
    ))
}
