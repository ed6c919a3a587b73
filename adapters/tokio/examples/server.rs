//! An h2c (HTTP/2 with prior knowledge) server: hello on any path, echo on `/echo`.
//!
//! ```text
//! cargo run -p h2proto-tokio --example server -- --addr 127.0.0.1:8080
//! curl --http2-prior-knowledge http://127.0.0.1:8080/
//! curl --http2-prior-knowledge --data-binary @file http://127.0.0.1:8080/echo
//! ```
//!
//! Ctrl-C shuts it down gracefully: requests in flight finish.

use bytes::Bytes;
use h2proto_tokio::RecvBody;
use h2proto_tokio::server::Server;
use http::{Request, Response};
use http_body_util::{Either, Full};
use std::io::Write;

#[path = "shared/server_cli.rs"]
mod server_cli;

async fn handle(request: Request<RecvBody>) -> Response<Either<Full<Bytes>, RecvBody>> {
    if request.uri().path() == "/echo" {
        // Streams the request body back as it arrives, with flow control end to end.
        return Response::new(Either::Right(request.into_body()));
    }
    Response::builder()
        .header("content-type", "text/plain")
        .body(Either::Left(Full::new(Bytes::from_static(b"hello from h2proto-tokio\n"))))
        .expect("a valid response")
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = server_cli::addr("server", "An h2c server: hello on any path, echo on /echo.");
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Server::default().serve_with_shutdown(listener, handle, shutdown).await
}
