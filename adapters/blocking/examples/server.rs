//! A small HTTP/2 server: every path answers 200 "hello", `/echo` streams the request body
//! back.
//!
//! ```text
//! cargo run -p h2proto-blocking --example blocking-server -- --addr 127.0.0.1:8080
//! curl --http2-prior-knowledge http://127.0.0.1:8080/echo -d 'hi'
//! ```

use h2proto_blocking::{Body, RequestBody, Server};
use http::{Request, Response};

fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            _ => {
                eprintln!("usage: server [--addr HOST:PORT]");
                std::process::exit(2);
            }
        }
    }
    let server = Server::bind(&addr)?;
    eprintln!("listening on http://{}", server.local_addr()?);
    server.serve(|request: Request<RequestBody>| {
        let body = match request.uri().path() {
            "/echo" => Body::from_reader(request.into_body()),
            _ => Body::from("hello"),
        };
        Response::new(body)
    })
}
