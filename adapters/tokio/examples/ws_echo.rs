//! WebSocket echo over HTTP/2 (RFC 8441 extended CONNECT), with tokio-tungstenite on both
//! ends of a `Tunnel`.
//!
//! ```text
//! cargo run -p h2proto-tokio --example ws_echo            # server and client in one process
//! cargo run -p h2proto-tokio --example ws_echo -- --server 127.0.0.1:9000   # server only
//! ```
//!
//! The server allows extended CONNECT (`enable_connect_protocol`); the client opens the
//! stream with `:protocol websocket` (the `h2proto::Protocol` request extension). Over
//! HTTP/2 there is no Upgrade handshake: the 200 response opens the tunnel, and both sides
//! start the WebSocket protocol on it directly (`from_raw_socket`).

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use h2proto_tokio::server::Server;
use h2proto_tokio::{Config, Protocol, RecvBody, Tunnel, TunnelBody, client};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{Either, Empty};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

const HELP: &str = "\
usage: ws_echo [--server HOST:PORT]

WebSocket over HTTP/2 (RFC 8441 extended CONNECT, h2c). Without arguments: an echo server
and a client in one process, which echo a few messages and exit. With --server: only the
server, on HOST:PORT.

  -h, --help     this text
  -V, --version  print the version
";

type Body = Either<TunnelBody, Empty<Bytes>>;

async fn handle(request: Request<RecvBody>) -> Response<Body> {
    let websocket = request.method() == Method::CONNECT
        && request.extensions().get::<Protocol>().is_some_and(|p| p.as_str() == "websocket");
    if !websocket {
        let mut response = Response::new(Either::Right(Empty::new()));
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    }
    let (tunnel, body) = Tunnel::new(request.into_body());
    tokio::spawn(async move {
        let mut ws = WebSocketStream::from_raw_socket(tunnel, Role::Server, None).await;
        // A Close from the client is answered inside next(), which then ends the stream,
        // so the closing handshake completes (RFC 6455 §7.1.2).
        while let Some(Ok(message)) = ws.next().await {
            if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
                break;
            }
        }
    });
    Response::new(Either::Left(body))
}

async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let mut config = Config::default();
    config.enable_connect_protocol = true;
    Server::new(config).serve(listener, handle).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => {}
        ["-h" | "--help"] => {
            print!("{HELP}");
            return Ok(());
        }
        ["-V" | "--version"] => {
            println!("ws_echo {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        ["--server", addr] => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            println!("WebSocket echo on ws over h2c at {}", listener.local_addr()?);
            return Ok(serve(listener).await?);
        }
        _ => {
            eprintln!("ws_echo: bad arguments {args:?}\n\n{HELP}");
            std::process::exit(2);
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(serve(listener));

    let (send, connection) = client::connect(addr).await?;
    tokio::spawn(connection);
    let mut request = Request::connect(format!("http://{addr}/echo"))
        .header("sec-websocket-version", "13")
        .body(())?;
    request.extensions_mut().insert(Protocol::from("websocket"));
    let (response, tunnel) = send.connect(request).await?;
    if response.status() != StatusCode::OK {
        return Err(format!("server answered {}", response.status()).into());
    }
    let mut ws = WebSocketStream::from_raw_socket(tunnel, Role::Client, None).await;
    for i in 0..5 {
        let text = format!("hello #{i} over HTTP/2");
        ws.send(Message::text(text.clone())).await?;
        let echoed = ws.next().await.ok_or("the server closed")??;
        println!("echoed: {echoed}");
        if echoed.into_text()?.as_str() != text {
            return Err("echo mismatch".into());
        }
    }
    ws.send(Message::binary(vec![0u8, 1, 2, 3])).await?;
    let echoed = ws.next().await.ok_or("the server closed")??;
    if echoed.into_data().as_ref() != [0u8, 1, 2, 3] {
        return Err("binary echo mismatch".into());
    }
    ws.close(None).await?;
    println!("WebSocket over HTTP/2: ok");
    Ok(())
}
