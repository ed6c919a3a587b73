//! CONNECT streams as byte streams: extended CONNECT (RFC 8441) and plain CONNECT
//! (RFC 9113 §8.5), echoed through a `Tunnel` on both ends.

mod support;

use bytes::Bytes;
use h2proto_tokio::{Config, Protocol, RecvBody, Tunnel, TunnelBody};
use http::{Method, Request, Response, StatusCode};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Accepts CONNECT and echoes the tunnel's bytes until the client ends its side.
async fn echo_tunnel(request: Request<RecvBody>) -> Response<TunnelBody> {
    assert_eq!(request.method(), Method::CONNECT);
    let protocol = request.extensions().get::<Protocol>().map(|p| p.as_str().to_owned());
    let (mut tunnel, body) = Tunnel::new(request.into_body());
    tokio::spawn(async move {
        let mut buf = vec![0u8; 8192];
        loop {
            let n = tunnel.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            tunnel.write_all(&buf[..n]).await.unwrap();
        }
        tunnel.shutdown().await.unwrap();
    });
    let mut response = Response::new(body);
    if let Some(p) = protocol {
        response.headers_mut().insert("x-protocol", p.parse().unwrap());
    }
    response
}

fn connect_config() -> Config {
    let mut config = Config::default();
    config.enable_connect_protocol = true;
    config
}

async fn roundtrip(tunnel: &mut Tunnel, data: &Bytes) {
    let (mut read, mut write) = tokio::io::split(tunnel);
    let writer = async {
        write.write_all(data).await.unwrap();
        write.shutdown().await.unwrap();
    };
    let reader = async {
        let mut got = Vec::new();
        read.read_to_end(&mut got).await.unwrap();
        got
    };
    let ((), got) = tokio::join!(writer, reader);
    assert_eq!(got.len(), data.len());
    assert!(got == data[..], "the tunnel echoed the bytes in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_connect_tunnel_echoes_a_megabyte() {
    within(async {
        let addr = serve(connect_config(), echo_tunnel).await;
        let (send, _conn) = connect(addr, small_windows()).await;
        let mut request = Request::connect(url(addr, "/chat")).body(()).unwrap();
        request.extensions_mut().insert(Protocol::from("websocket"));
        let (response, mut tunnel) = send.connect(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-protocol"], "websocket");
        roundtrip(&mut tunnel, &pattern(1 << 20)).await;
    })
    .await;
}

#[tokio::test]
async fn plain_connect_tunnel_echoes() {
    within(async {
        let addr = serve(Config::default(), echo_tunnel).await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let request = Request::connect(addr.to_string()).body(()).unwrap();
        let (response, mut tunnel) = send.connect(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        roundtrip(&mut tunnel, &Bytes::from_static(b"hello through the tunnel")).await;
    })
    .await;
}

#[tokio::test]
async fn extended_connect_is_refused_when_the_server_does_not_allow_it() {
    within(async {
        let addr = serve(Config::default(), echo_tunnel).await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let mut request = Request::connect(url(addr, "/chat")).body(()).unwrap();
        request.extensions_mut().insert(Protocol::from("websocket"));
        let error = send.connect(request).await.unwrap_err();
        assert!(matches!(error.kind(), h2proto_tokio::ErrorKind::User(_)), "{error}");
    })
    .await;
}
