//! Generates the tonic client and server of the echo service from a definition in Rust:
//! no `.proto` file, so no `protoc` (tonic-build's `manual` builder; the messages are
//! prost derives in `src/lib.rs`).

use tonic_build::manual::{Builder, Method, Service};

fn method(name: &str, route: &str) -> tonic_build::manual::MethodBuilder {
    Method::builder()
        .name(name)
        .route_name(route)
        .input_type("crate::EchoRequest")
        .output_type("crate::EchoReply")
        .codec_path("crate::ProstCodec")
}

fn main() {
    let echo = Service::builder()
        .name("Echo")
        .package("h2proto.echo")
        .method(method("unary", "Unary").build())
        .method(method("server_stream", "ServerStream").server_streaming().build())
        .method(method("client_stream", "ClientStream").client_streaming().build())
        .method(method("bidi", "Bidi").client_streaming().server_streaming().build())
        .build();
    Builder::new().compile(&[echo]);
    println!("cargo:rerun-if-changed=build.rs");
}
