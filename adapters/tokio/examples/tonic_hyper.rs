//! The gRPC echo service of `tonic_echo` on tonic's own server (hyper), for comparisons
//! (`benches/frameworks.sh`): the same service, the same message limits, another server.
//!
//! ```text
//! cargo run --release -p h2proto-tokio --example tonic_hyper -- --addr 127.0.0.1:50052
//! ```

#[path = "shared/serve_cli.rs"]
mod serve_cli;
#[path = "shared/tokio_runtime.rs"]
mod tokio_runtime;

use h2proto_test_proto::{EchoServer, EchoService};

/// The largest message taken or sent (as `tonic_echo`).
const MAX_MESSAGE: usize = 16 << 20;

fn main() -> std::io::Result<()> {
    let options = serve_cli::Options::parse(
        "tonic_hyper",
        "The tonic gRPC echo server (h2proto.echo.Echo) on tonic's own server (hyper).",
    );
    tokio_runtime::build(options.workers)?.block_on(async {
        let listener = tokio::net::TcpListener::bind(&options.addr).await?;
        serve_cli::listening("tonic on hyper", listener.local_addr()?)?;
        let echo = EchoServer::new(EchoService)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        tonic::transport::Server::builder()
            .add_service(echo)
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
            .map_err(std::io::Error::other)
    })
}
