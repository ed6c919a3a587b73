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

#[path = "shared/serve_cli.rs"]
mod serve_cli;
#[path = "shared/tokio_runtime.rs"]
mod tokio_runtime;

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

fn main() -> std::io::Result<()> {
    let options = serve_cli::Options::parse(
        "server",
        "An h2c server on h2proto-tokio: hello on any path, echo on /echo.",
    );
    tokio_runtime::build(options.workers)?.block_on(async {
        let listener = tokio::net::TcpListener::bind(&options.addr).await?;
        serve_cli::listening("h2proto-tokio", listener.local_addr()?)?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        Server::default().serve_with_shutdown(listener, handle, shutdown).await
    })
}
