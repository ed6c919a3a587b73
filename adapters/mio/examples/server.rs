//! A small HTTP/2 server on mio loops: every path answers 200 "hello", `/echo` echoes the
//! request body.
//!
//! ```text
//! cargo run -p h2proto-mio --example mio-server -- --addr 127.0.0.1:8080 --threads 4
//! h2load -n 100000 -c 100 -m 10 http://127.0.0.1:8080/
//! ```

use bytes::Bytes;
use h2proto_mio::Server;
use http::{Request, Response};

const USAGE: &str = "usage: mio-server [--addr HOST:PORT] [--threads N] [--help] [--version]";

fn main() -> std::io::Result<()> {
    let (mut addr, mut threads) = ("127.0.0.1:8080".to_string(), 1);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--help" | "-h" => {
                println!(
                    "{USAGE}\n\nEvery path answers 200 \"hello\"; /echo echoes the request body."
                );
                return Ok(());
            }
            "--version" | "-V" => {
                println!("mio-server {}", env!("CARGO_PKG_VERSION"));
                return Ok(());
            }
            _ => {}
        }
        match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            ("--threads", Some(n)) if n.parse::<usize>().is_ok() => threads = n.parse().unwrap(),
            _ => {
                eprintln!("{USAGE}");
                std::process::exit(2);
            }
        }
    }
    let server = Server::bind(&addr)?.threads(threads);
    eprintln!("listening on http://{} with {threads} loop thread(s)", server.local_addr()?);
    server.serve(|request: Request<Bytes>| match request.uri().path() {
        "/echo" => Response::new(request.into_body()),
        _ => Response::new(Bytes::from_static(b"hello")),
    })
}
