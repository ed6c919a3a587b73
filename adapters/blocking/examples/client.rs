//! A curl-like HTTP/2 client: prints the response body to stdout, exits non-zero on any
//! failure (including a non-2xx status).
//!
//! ```text
//! cargo run -p h2proto-blocking --example blocking-client -- http://127.0.0.1:8080/echo -d FILE -n 4
//! ```

use h2proto_blocking::{Body, Client};
use std::io::{Read, Write};
use std::process::ExitCode;

struct Args {
    url: http::Uri,
    data: Option<String>,
    n: usize,
}

fn parse() -> Result<Args, String> {
    let (mut url, mut data, mut n) = (None, None, 1);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-d" => data = Some(args.next().ok_or("-d needs a file")?),
            "-n" => n = args.next().and_then(|v| v.parse().ok()).ok_or("-n needs a number")?,
            _ if url.is_none() => url = Some(arg.parse().map_err(|e| format!("{arg}: {e}"))?),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    let url = url.ok_or("usage: client URL [-d FILE] [-n N]")?;
    Ok(Args { url, data, n })
}

fn fetch(client: &Client, args: &Args) -> Result<Vec<u8>, String> {
    let request = http::Request::builder().uri(args.url.clone());
    let request = match &args.data {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
            request.method("POST").body(Body::from_reader(file))
        }
        None => request.body(Body::empty()),
    }
    .map_err(|e| e.to_string())?;
    let response = client.request(request).map_err(|e| e.to_string())?;
    let status = response.status();
    let mut body = Vec::new();
    response.into_body().read_to_end(&mut body).map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("status {status}"));
    }
    Ok(body)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let authority = args.url.authority().map(|a| a.as_str()).unwrap_or("");
    let port = args.url.port_u16().map_or(":80", |_| "");
    let client = match Client::connect(format!("{authority}{port}")) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("connect {authority}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let results: Vec<_> = std::thread::scope(|s| {
        let tasks: Vec<_> = (0..args.n).map(|_| s.spawn(|| fetch(&client, &args))).collect();
        tasks.into_iter().map(|t| t.join().unwrap_or_else(|_| Err("panic".into()))).collect()
    });
    let mut failed = false;
    let mut stdout = std::io::stdout().lock();
    for result in results {
        match result {
            Ok(body) => {
                let _ = stdout.write_all(&body);
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
