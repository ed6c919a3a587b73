//! A curl-like h2c client: prints the response body to stdout.
//!
//! ```text
//! cargo run -p h2proto-tokio --example client -- http://127.0.0.1:8080/
//! cargo run -p h2proto-tokio --example client -- -d file.bin http://127.0.0.1:8080/echo
//! cargo run -p h2proto-tokio --example client -- -n 10 http://127.0.0.1:8080/
//! ```
//!
//! `-d FILE` POSTs the file; `-n N` sends N requests at once on one connection and prints
//! each body in order; `-v` prints the status and headers to stderr. Exits non-zero on any
//! failure, an HTTP status of 400 or more included.

use bytes::Bytes;
use h2proto_tokio::client;
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use std::io::Write;
use std::process::ExitCode;

struct Args {
    uri: Uri,
    data: Option<Bytes>,
    count: usize,
    verbose: bool,
}

fn parse() -> Result<Args, String> {
    let (mut uri, mut data, mut count, mut verbose) = (None, None, 1, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-d" => {
                let path = args.next().ok_or("-d needs a file")?;
                let bytes = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
                data = Some(Bytes::from(bytes));
            }
            "-n" => {
                let n = args.next().ok_or("-n needs a number")?;
                count = n.parse().map_err(|_| format!("bad -n {n}"))?;
            }
            "-v" => verbose = true,
            _ if uri.is_none() && !arg.starts_with('-') => {
                uri = Some(arg.parse::<Uri>().map_err(|e| format!("{arg}: {e}"))?)
            }
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    let uri = uri.ok_or("usage: client [-d FILE] [-n N] [-v] http://HOST:PORT/PATH")?;
    Ok(Args { uri, data, count, verbose })
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.uri.scheme_str() != Some("http") {
        return Err("only http:// (h2c with prior knowledge) is supported".into());
    }
    let host = args.uri.host().ok_or("the URL has no host")?;
    let port = args.uri.port_u16().unwrap_or(80);
    let (send, connection) = client::connect((host, port)).await?;
    let connection = tokio::spawn(connection);
    let requests: Vec<_> = (0..args.count.max(1))
        .map(|_| {
            let send = send.clone();
            let (uri, data, verbose) = (args.uri.clone(), args.data.clone(), args.verbose);
            tokio::spawn(async move {
                let method = if data.is_some() { Method::POST } else { Method::GET };
                let body = Full::new(data.unwrap_or_default());
                let request = Request::builder().method(method).uri(uri).body(body)?;
                let response = send.send_request(request).await?;
                if verbose {
                    eprintln!("{:?} {}", response.version(), response.status());
                    for (name, value) in response.headers() {
                        eprintln!("{name}: {}", value.to_str().unwrap_or("<binary>"));
                    }
                }
                let status = response.status();
                let body = response.into_body().collect().await?.to_bytes();
                if status.as_u16() >= 400 {
                    return Err(format!("HTTP status {status}").into());
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(body)
            })
        })
        .collect();
    let mut stdout = std::io::stdout().lock();
    for request in requests {
        let body = request.await?.map_err(|e| e.to_string())?;
        stdout.write_all(&body)?;
    }
    stdout.flush()?;
    drop(send);
    connection.await??;
    Ok(())
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
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
