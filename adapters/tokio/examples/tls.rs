//! HTTP/2 over TLS (ALPN `h2`) with rustls: a server with a self-signed certificate made at
//! start-up by `rcgen`, and a client that trusts exactly that certificate.
//!
//! ```text
//! cargo run -p h2proto-tokio --features rustls --example tls
//! ```
//!
//! The handshake negotiates X25519MLKEM768 (the provider's post-quantum hybrid group)
//! between these two rustls ends; the example prints it.

use bytes::Bytes;
use h2proto_tokio::tls::{self, rustls};
use h2proto_tokio::{Config, RecvBody, server};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};

const HELP: &str = "\
usage: tls

Starts an HTTP/2 server over TLS (ALPN h2) on 127.0.0.1 with a fresh self-signed
certificate, sends it one request with a client trusting that certificate, prints the
response and the TLS details the handler saw, and exits.

  -h, --help     this text
  -V, --version  print the version
";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(arg) = std::env::args().nth(1) {
        match arg.as_str() {
            "-h" | "--help" => print!("{HELP}"),
            "-V" | "--version" => println!("tls {}", env!("CARGO_PKG_VERSION")),
            _ => {
                eprintln!("tls: unknown argument {arg}\n\n{HELP}");
                std::process::exit(2);
            }
        }
        return Ok(());
    }
    // A self-signed certificate for "localhost".
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let server_tls = tls::server_config(vec![cert.clone()], key)?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(server::serve_tls(
        listener,
        server_tls,
        |request: Request<RecvBody>| async move {
            let tls = request.extensions().get::<tls::TlsInfo>();
            let body = format!(
                "hello over TLS, {} ({:?}, {:?}, SNI {:?})\n",
                request.uri().path(),
                tls.and_then(|t| t.protocol_version()),
                tls.and_then(|t| t.key_exchange_group()),
                tls.and_then(|t| t.server_name()),
            );
            Response::new(Full::new(Bytes::from(body)))
        },
    ));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert)?;
    let client_tls = tls::client_config(roots)?;
    let (send, connection) = tls::connect(addr, "localhost", client_tls, Config::default()).await?;
    tokio::spawn(connection);
    let request = Request::get(format!("https://localhost:{}/tls", addr.port()))
        .body(Empty::<Bytes>::new())?;
    let response = send.send_request(request).await?;
    println!("{:?} {}", response.version(), response.status());
    let body = response.into_body().collect().await?.to_bytes();
    print!("{}", String::from_utf8_lossy(&body));
    Ok(())
}
