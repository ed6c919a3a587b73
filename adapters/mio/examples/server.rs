//! A small HTTP/2 server on mio loops: every path answers 200 "hello", `/echo` echoes the
//! request body.
//!
//! ```text
//! cargo run -p h2proto-mio --example mio-server -- --addr 127.0.0.1:8080 --workers 4
//! h2load -n 100000 -c 100 -m 10 http://127.0.0.1:8080/
//! ```

use bytes::Bytes;
use h2proto_mio::Server;
use http::{Request, Response};

#[path = "../../tokio/examples/shared/serve_cli.rs"]
mod serve_cli;

fn main() -> std::io::Result<()> {
    let options = serve_cli::Options::parse(
        "mio-server",
        "An h2c server on h2proto-mio: every path answers 200 \"hello\", /echo echoes the \
         request body. --workers N: event-loop threads sharing the port (SO_REUSEPORT; \
         0, the default, is one).",
    );
    let (addr, threads) = (options.addr, options.workers.max(1));
    let server = Server::bind(&addr)?.threads(threads);
    eprintln!("listening on http://{} with {threads} loop thread(s)", server.local_addr()?);
    server.serve(|request: Request<Bytes>| match request.uri().path() {
        "/echo" => Response::new(request.into_body()),
        _ => Response::new(Bytes::from_static(b"hello")),
    })
}
