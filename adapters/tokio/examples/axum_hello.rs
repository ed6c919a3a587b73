//! An axum hello-world `Router` on h2proto-tokio's server (h2c, prior knowledge), unchanged
//! from what it would be on hyper: compare with `axum_hyper`, the same router on hyper.
//!
//! ```text
//! cargo run --release -p h2proto-tokio --example axum_hello -- --addr 127.0.0.1:8080
//! curl --http2-prior-knowledge http://127.0.0.1:8080/
//! h2load -n 100000 -c 10 -m 100 http://127.0.0.1:8080/
//! ```
//!
//! Ctrl-C shuts it down gracefully: requests in flight finish.

#[path = "shared/hello_router.rs"]
mod hello_router;
#[path = "shared/serve_cli.rs"]
mod serve_cli;

use h2proto_tokio::server::Server;
use h2proto_tokio::service::ServiceHandler;

fn main() -> std::io::Result<()> {
    let options = serve_cli::Options::parse(
        "axum_hello",
        "An axum hello-world Router served by h2proto-tokio (h2c, prior knowledge).",
    );
    options.runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(&options.addr).await?;
        serve_cli::listening("axum on h2proto", listener.local_addr()?)?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let handler = ServiceHandler::new(hello_router::router());
        Server::default().serve_with_shutdown(listener, handler, shutdown).await
    })
}
