//! The hello-world axum `Router` of `axum_hello` on hyper's HTTP/2 server (h2c, prior
//! knowledge) with hyper-util's tokio runtime glue: the baseline `axum_hello` is compared
//! with. Each request goes through the router as hyper-util's `TowerToHyperService` does
//! (clone, ready, call).
//!
//! ```text
//! cargo run --release -p h2proto-tokio --example axum_hyper -- --addr 127.0.0.1:8081
//! h2load -n 100000 -c 10 -m 100 http://127.0.0.1:8081/
//! ```

#[path = "shared/hello_router.rs"]
mod hello_router;
#[path = "shared/serve_cli.rs"]
mod serve_cli;

use hyper_util::rt::{TokioExecutor, TokioIo};
use tower::ServiceExt;

fn main() -> std::io::Result<()> {
    let options = serve_cli::Options::parse(
        "axum_hyper",
        "The same axum hello-world Router served by hyper's HTTP/2 server (h2c, prior knowledge).",
    );
    options.runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(&options.addr).await?;
        serve_cli::listening("axum on hyper", listener.local_addr()?)?;
        let router = hello_router::router();
        let accept = async {
            loop {
                let (socket, _) = listener.accept().await?;
                let _ = socket.set_nodelay(true);
                let router = router.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request| router.clone().oneshot(request));
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        };
        tokio::select! {
            result = accept => result,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}
