//! A small HTTP/2 server: every path answers 200 "hello", `/echo` streams the request body
//! back.
//!
//! ```text
//! cargo run -p h2proto-blocking --example blocking-server -- --addr 127.0.0.1:8080
//! curl --http2-prior-knowledge http://127.0.0.1:8080/echo -d 'hi'
//! ```

use h2proto_blocking::{Body, RequestBody, Server};
use http::{Request, Response};

#[path = "../../tokio/examples/shared/serve_cli.rs"]
mod serve_cli;

fn main() -> std::io::Result<()> {
    let options = serve_cli::Options::parse(
        "blocking-server",
        "An h2c server on h2proto-blocking: every path answers 200 \"hello\", /echo streams \
         the request body back. --workers N: handler threads (0, the default, is the \
         server's default pool).",
    );
    let mut server = Server::bind(&options.addr)?;
    if options.workers > 0 {
        server = server.workers(options.workers);
    }
    eprintln!("listening on http://{}", server.local_addr()?);
    server.serve(|request: Request<RequestBody>| {
        let body = match request.uri().path() {
            "/echo" => Body::from_reader(request.into_body()),
            _ => Body::from("hello"),
        };
        Response::new(body)
    })
}
