//! WebSocket over HTTP/2 (RFC 8441) with tokio-tungstenite on both ends of a `Tunnel`: the
//! same wiring as `examples/ws_echo.rs`, checked.

mod support;

use futures_util::{SinkExt, StreamExt};
use h2proto_tokio::{Config, Protocol, RecvBody, Tunnel, TunnelBody};
use http::{Request, Response, StatusCode};
use support::*;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

async fn ws_echo(request: Request<RecvBody>) -> Response<TunnelBody> {
    assert_eq!(request.extensions().get::<Protocol>().unwrap().as_str(), "websocket");
    let (tunnel, body) = Tunnel::new(request.into_body());
    tokio::spawn(async move {
        let mut ws = WebSocketStream::from_raw_socket(tunnel, Role::Server, None).await;
        while let Some(Ok(message)) = ws.next().await {
            if message.is_close() {
                break;
            }
            ws.send(message).await.unwrap();
        }
    });
    Response::new(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_messages_echo_over_an_extended_connect_stream() {
    within(async {
        let mut config = Config::default();
        config.enable_connect_protocol = true;
        let addr = serve(config, ws_echo).await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let mut request = Request::connect(url(addr, "/ws")).body(()).unwrap();
        request.extensions_mut().insert(Protocol::from("websocket"));
        let (response, tunnel) = send.connect(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut ws = WebSocketStream::from_raw_socket(tunnel, Role::Client, None).await;
        for i in 0..50 {
            let text = format!("message {i}");
            ws.send(Message::text(text.clone())).await.unwrap();
            let echoed = ws.next().await.unwrap().unwrap();
            assert_eq!(echoed.into_text().unwrap().as_str(), text);
        }
        let big = pattern(256 << 10).to_vec();
        ws.send(Message::binary(big.clone())).await.unwrap();
        let echoed = ws.next().await.unwrap().unwrap();
        assert!(echoed.into_data().as_ref() == big.as_slice());
        ws.close(None).await.unwrap();
    })
    .await;
}
