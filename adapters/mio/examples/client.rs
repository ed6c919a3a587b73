//! A curl-like HTTP/2 client on a mio loop: prints the response body to stdout, exits
//! non-zero on any failure (including a non-2xx status). `-n N` sends N requests at once,
//! all multiplexed on one connection by one loop thread.
//!
//! ```text
//! cargo run -p h2proto-mio --example mio-client -- http://127.0.0.1:8080/echo -d FILE -n 4
//! ```

use bytes::Bytes;
use h2proto_mio::Client;
use std::io::Write;
use std::process::ExitCode;
use std::sync::mpsc;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let (mut url, mut data, mut n) = (None::<http::Uri>, None, 1usize);
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
    let body = match &data {
        Some(path) => Bytes::from(std::fs::read(path).map_err(|e| format!("{path}: {e}"))?),
        None => Bytes::new(),
    };
    let authority = url.authority().ok_or("the URL needs a host")?;
    let addr = format!("{}:{}", authority.host(), url.port_u16().unwrap_or(80));
    let client = Client::connect(&addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let (done, results) = mpsc::channel();
    for i in 0..n {
        let method = if data.is_some() { "POST" } else { "GET" };
        let request = http::Request::builder().method(method).uri(url.clone()).body(body.clone());
        let done = done.clone();
        client.send(request.map_err(|e| e.to_string())?, move |r| drop(done.send((i, r))));
    }
    drop(done);
    let mut responses: Vec<_> = results.iter().collect();
    responses.sort_by_key(|(i, _)| *i);
    let mut ok = responses.len() == n;
    let mut stdout = std::io::stdout().lock();
    for (_, response) in responses {
        match response {
            Ok(response) => {
                let _ = stdout.write_all(response.body());
                if !response.status().is_success() {
                    eprintln!("status {}", response.status());
                    ok = false;
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ok = false;
            }
        }
    }
    Ok(ok)
}
