//! axum on h2proto-tokio, unchanged: one `Router` with extractors (`Path`, `Query`, `Json`,
//! `State`, `ConnectInfo`) under tower-http middleware (trace, compression, timeout), served
//! by [`ServiceHandler`] and exercised by this crate's clients, curl, nghttp and h2load.
//! WebSocket over HTTP/2 (RFC 8441) runs through a [`PendingTunnel`], and axum's own
//! `WebSocketUpgrade` through `HyperUpgrades` (feature `hyper-upgrade`: it needs a hyper
//! `OnUpgrade`, see the `service` module docs); without it the extractor refuses.
//!
//! The command-line tools come from the Debian packages `curl` and `nghttp2-client`; a
//! missing tool fails the test.

mod example_server;
mod support;

use axum::extract::{ConnectInfo, Path, Query, State, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use h2proto_tokio::server::{Connected, Server};
use h2proto_tokio::service::{PendingTunnel, ServiceHandler};
use h2proto_tokio::{Config, Protocol, TunnelBody};
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full};
use std::net::SocketAddr;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::{pattern, url, within};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;
use tower::{Layer, ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::DecompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The router's shared state: how many JSON posts it took.
#[derive(Clone, Default)]
struct AppState {
    posts: Arc<AtomicUsize>,
}

#[derive(serde::Deserialize)]
struct Greeting {
    greeting: Option<String>,
}

#[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
struct Order {
    item: String,
    quantity: u32,
}

#[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
struct Receipt {
    item: String,
    total: u32,
    number: usize,
}

async fn user(Path(id): Path<u32>, Query(query): Query<Greeting>) -> String {
    format!("{} user {id}\n", query.greeting.as_deref().unwrap_or("hello"))
}

async fn order(State(state): State<AppState>, Json(order): Json<Order>) -> Json<Receipt> {
    let number = state.posts.fetch_add(1, Ordering::SeqCst) + 1;
    Json(Receipt { item: order.item, total: order.quantity * 3, number })
}

async fn peer(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> String {
    peer.to_string()
}

/// 1 MiB of text that compresses well.
fn big_text() -> String {
    "all work and no play makes a dull stream\n".repeat((1 << 20) / 41)
}

/// WebSocket echo over an extended CONNECT stream, from an axum handler with extractors.
async fn ws_echo(
    Extension(pending): Extension<PendingTunnel>,
    Extension(protocol): Extension<Protocol>,
) -> Response<TunnelBody> {
    assert_eq!(protocol.as_str(), "websocket");
    let (tunnel, body) = pending.accept().expect("a CONNECT stream, accepted once");
    tokio::spawn(async move {
        let mut ws = WebSocketStream::from_raw_socket(tunnel, Role::Server, None).await;
        while let Some(Ok(message)) = ws.next().await {
            if message.is_close() {
                break;
            }
            if ws.send(message).await.is_err() {
                break;
            }
        }
    });
    Response::new(body)
}

/// axum's own WebSocket extractor: rejected here (see the module docs).
async fn axum_ws(upgrade: WebSocketUpgrade) -> impl IntoResponse {
    upgrade.on_upgrade(|_socket| async {})
}

/// The application, exactly as it would be written for hyper.
fn app() -> Router {
    Router::new()
        .route("/hello", get(|| async { "hello\n" }))
        .route("/users/{id}", get(user))
        .route("/orders", post(order))
        .route("/peer", get(peer))
        .route("/big", get(|| async { big_text() }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late\n"
            }),
        )
        .route("/ws", any(ws_echo))
        .route("/axum-ws", any(axum_ws))
        .with_state(AppState::default())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(200),
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// Serves [`app`] on an ephemeral port, with `ConnectInfo` made per connection, tunnels
/// set aside, and extended CONNECT enabled.
async fn serve_app() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config::default();
    config.enable_connect_protocol = true;
    let router = app();
    tokio::spawn(async move {
        let make = move |conn: &Connected| {
            let service = Extension(ConnectInfo(conn.remote_addr)).layer(router.clone());
            ServiceHandler::new(service).with_tunnels()
        };
        Server::new(config).serve_make_with_shutdown(listener, make, std::future::pending()).await
    });
    addr
}

fn get_request(addr: SocketAddr, path: &str) -> Request<Empty<Bytes>> {
    Request::get(url(addr, path)).body(Empty::new()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_extractors_and_middleware_over_our_connection_client() {
    within(async {
        let addr = serve_app().await;
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let ours = tcp.local_addr().unwrap();
        let (send, conn) = h2proto_tokio::client::handshake(tcp);
        tokio::spawn(conn);
        let text = |response: Response<h2proto_tokio::RecvBody>| async move {
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8(body.to_vec()).unwrap())
        };

        let response = send.send_request(get_request(addr, "/hello")).await.unwrap();
        assert_eq!(text(response).await, (StatusCode::OK, "hello\n".into()));
        // Path and Query.
        let response = send.send_request(get_request(addr, "/users/7?greeting=hi")).await.unwrap();
        assert_eq!(text(response).await, (StatusCode::OK, "hi user 7\n".into()));
        // ConnectInfo: the address this client connected from.
        let response = send.send_request(get_request(addr, "/peer")).await.unwrap();
        assert_eq!(text(response).await, (StatusCode::OK, ours.to_string()));
        // Json in and out, with State counting across requests.
        for number in 1..=3 {
            let order = serde_json::to_vec(&Order { item: "tea".into(), quantity: 2 }).unwrap();
            let request = Request::post(url(addr, "/orders"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(order)))
                .unwrap();
            let (status, body) = text(send.send_request(request).await.unwrap()).await;
            assert_eq!(status, StatusCode::OK);
            let receipt: Receipt = serde_json::from_str(&body).unwrap();
            assert_eq!(receipt, Receipt { item: "tea".into(), total: 6, number });
        }
        // A malformed body is axum's rejection, not a broken stream.
        let request = Request::post(url(addr, "/orders"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from_static(b"{not json")))
            .unwrap();
        assert_eq!(send.send_request(request).await.unwrap().status(), StatusCode::BAD_REQUEST);
        // The timeout layer answers for a handler that takes too long.
        let response = send.send_request(get_request(addr, "/slow")).await.unwrap();
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        let response = send.send_request(get_request(addr, "/missing")).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        // Compression: gzip when asked, identity otherwise.
        let mut request = get_request(addr, "/big");
        request.headers_mut().insert(header::ACCEPT_ENCODING, "gzip".parse().unwrap());
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        let compressed = response.into_body().collect().await.unwrap().to_bytes();
        assert!(compressed.len() < (1 << 20) / 10, "{} bytes", compressed.len());
        let response = send.send_request(get_request(addr, "/big")).await.unwrap();
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
        assert!(response.into_body().collect().await.unwrap().to_bytes() == big_text());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_behind_the_pool_client_as_a_tower_service_with_decompression() {
    within(async {
        let addr = serve_app().await;
        // tower-http's client-side decompression over the pooled client, itself a service.
        let client = ServiceBuilder::new()
            .layer(DecompressionLayer::new())
            .service(h2proto_tokio::pool::Client::new());
        let requests = (0..20).map(|i| {
            let client = client.clone();
            async move {
                let path = if i % 2 == 0 { "/big".to_string() } else { format!("/users/{i}") };
                let response = client.oneshot(get_request(addr, &path)).await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                let body = response.into_body().collect().await.unwrap().to_bytes();
                (i, body)
            }
        });
        for (i, body) in futures_util::future::join_all(requests).await {
            if i % 2 == 0 {
                assert!(body == big_text(), "request {i}: the decompressed text");
            } else {
                assert_eq!(body, format!("hello user {i}\n"));
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_from_an_axum_handler_over_extended_connect() {
    within(async {
        let addr = serve_app().await;
        let (send, conn) = h2proto_tokio::client::connect(addr).await.unwrap();
        tokio::spawn(conn);
        let mut request = Request::connect(url(addr, "/ws")).body(()).unwrap();
        request.extensions_mut().insert(Protocol::from("websocket"));
        let (response, tunnel) = send.connect(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut ws = WebSocketStream::from_raw_socket(tunnel, Role::Client, None).await;
        for i in 0..200 {
            let text = format!("message {i}");
            ws.send(Message::text(text.clone())).await.unwrap();
            let echoed = ws.next().await.unwrap().unwrap();
            assert_eq!(echoed.into_text().unwrap().as_str(), text);
        }
        let big = pattern(300 << 10).to_vec();
        ws.send(Message::binary(big.clone())).await.unwrap();
        let echoed = ws.next().await.unwrap().unwrap();
        assert!(echoed.into_data().as_ref() == big.as_slice());
        ws.close(None).await.unwrap();
        // Meanwhile, the same connection serves ordinary requests.
        let response = send.send_request(get_request(addr, "/hello")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axums_websocket_upgrade_extractor_needs_hyper_upgrades() {
    within(async {
        let addr = serve_app().await;
        let (send, conn) = h2proto_tokio::client::connect(addr).await.unwrap();
        tokio::spawn(conn);
        let mut request = Request::connect(url(addr, "/axum-ws"))
            .header(header::SEC_WEBSOCKET_VERSION, "13")
            .body(())
            .unwrap();
        request.extensions_mut().insert(Protocol::from("websocket"));
        let (response, _tunnel) = send.connect(request).await.unwrap();
        // axum takes the stream from hyper's `OnUpgrade` extension, which only hyper can
        // make: without `HyperUpgrades` to get one, "426 Upgrade Required"
        // (`ConnectionNotUpgradable`). With axum's `http2` feature it asks for hyper's own
        // `Protocol` extension first (400).
        assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
    })
    .await;
}

/// axum's own `WebSocketUpgrade`, unchanged, over extended CONNECT: through hyper's upgrade
/// API, which `HyperUpgrades` provides (feature `hyper-upgrade`).
#[cfg(feature = "hyper-upgrade")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axums_websocket_upgrade_works_through_hyper_upgrades() {
    use axum::extract::ws::{Message as AxumMessage, WebSocket};
    use h2proto_tokio::service::HyperUpgrades;
    async fn echo(mut socket: WebSocket) {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, AxumMessage::Close(_)) || socket.send(message).await.is_err() {
                break;
            }
        }
    }
    within(async {
        let router = Router::new()
            .route(
                "/ws",
                any(|ws: WebSocketUpgrade| async move { ws.protocols(["chat"]).on_upgrade(echo) }),
            )
            .route("/hello", get(|| async { "hello\n" }))
            .layer(TraceLayer::new_for_http());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config::default();
        config.enable_connect_protocol = true;
        let handler = ServiceHandler::new(HyperUpgrades::new(router));
        tokio::spawn(async move { Server::new(config).serve(listener, handler).await });

        let (send, conn) = h2proto_tokio::client::connect(addr).await.unwrap();
        tokio::spawn(conn);
        let websocket = |protocols: &str| {
            let mut request = Request::connect(url(addr, "/ws"))
                .header(header::SEC_WEBSOCKET_VERSION, "13")
                .header(header::SEC_WEBSOCKET_PROTOCOL, protocols)
                .body(())
                .unwrap();
            request.extensions_mut().insert(Protocol::from("websocket"));
            request
        };
        // Two sockets at once on one connection, each with its own messages.
        let mut sockets = Vec::new();
        for _ in 0..2 {
            let (response, tunnel) = send.connect(websocket("mqtt, chat")).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()[header::SEC_WEBSOCKET_PROTOCOL], "chat");
            sockets.push(WebSocketStream::from_raw_socket(tunnel, Role::Client, None).await);
        }
        for i in 0..200 {
            for (n, ws) in sockets.iter_mut().enumerate() {
                let text = format!("socket {n} message {i}");
                ws.send(Message::text(text.clone())).await.unwrap();
                let echoed = ws.next().await.unwrap().unwrap();
                assert_eq!(echoed.into_text().unwrap().as_str(), text);
            }
        }
        let big = pattern(300 << 10).to_vec();
        for ws in &mut sockets {
            ws.send(Message::binary(big.clone())).await.unwrap();
            let echoed = ws.next().await.unwrap().unwrap();
            assert!(echoed.into_data().as_ref() == big.as_slice());
        }
        // A close handshake: the server's echo loop ends, and so does the stream.
        for mut ws in sockets {
            ws.close(None).await.unwrap();
            while let Some(Ok(message)) = ws.next().await {
                assert!(message.is_close(), "{message:?}");
            }
        }
        // An upgrade axum refuses (no Sec-WebSocket-Version) is its answer, not a tunnel.
        let mut request = Request::connect(url(addr, "/ws")).body(()).unwrap();
        request.extensions_mut().insert(Protocol::from("websocket"));
        let (response, _) = send.connect(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let response = send.send_request(get_request(addr, "/hello")).await.unwrap();
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hello\n");
    })
    .await;
}

// ----- Real clients -----

/// Runs a tool to completion; panics (fails the test) if it cannot be started or fails.
async fn run(program: &str, args: &[&str]) -> Output {
    let output = tokio::process::Command::new(program)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{program} must be installed to run this test: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_against_axum() {
    within(async {
        let addr = serve_app().await;
        let h2 = ["-sS", "--http2-prior-knowledge"];
        let out = run(
            "curl",
            &[&h2[..], &["-w", "%{http_version}", &url(addr, "/users/3?greeting=hey")]].concat(),
        )
        .await;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hey user 3\n2");
        // gzip on the wire (curl decompresses with --compressed), the text intact.
        let out =
            run("curl", &[&h2[..], &["--compressed", "-D", "-", &url(addr, "/big")]].concat())
                .await;
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.to_ascii_lowercase().contains("content-encoding: gzip"), "{}", &text[..200]);
        assert!(text.ends_with(&big_text()));
        let order = r#"{"item":"cake","quantity":4}"#;
        let out = run(
            "curl",
            &[
                &h2[..],
                &["-H", "content-type: application/json", "--data", order, &url(addr, "/orders")],
            ]
            .concat(),
        )
        .await;
        let receipt: Receipt = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((receipt.item.as_str(), receipt.total), ("cake", 12));
        let out = run(
            "curl",
            &[&h2[..], &["-o", "/dev/null", "-w", "%{http_code}", &url(addr, "/slow")]].concat(),
        )
        .await;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "408");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nghttp_against_axum() {
    within(async {
        let addr = serve_app().await;
        let out = run("nghttp", &[&url(addr, "/hello")]).await;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
        // Several requests multiplexed on one connection, frames checked, gzip asked for.
        let paths = ["/hello", "/users/1", "/users/2?greeting=yo", "/big", "/missing"];
        let urls: Vec<String> = paths.iter().map(|p| url(addr, p)).collect();
        let mut args = vec!["-nv", "--header=accept-encoding: gzip"];
        args.extend(urls.iter().map(String::as_str));
        let out = run("nghttp", &args).await;
        let log = String::from_utf8_lossy(&out.stdout);
        assert_eq!(log.matches(":status: 200").count(), 4, "{log}");
        assert_eq!(log.matches(":status: 404").count(), 1, "{log}");
        assert!(log.contains("content-encoding: gzip"), "{log}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2load_against_axum() {
    within(async {
        let addr = serve_app().await;
        let out =
            run("h2load", &["-n", "5000", "-c", "4", "-m", "20", &url(addr, "/users/9")]).await;
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(report.contains("5000 succeeded, 0 failed, 0 errored"), "{report}");
        assert!(report.contains("5000 2xx"), "{report}");
    })
    .await;
}

// ----- TLS -----

/// axum's `ConnectInfo` from the [`Connected`] every request carries, as a layer: for
/// servers that take one handler for all connections (TLS here).
#[cfg(feature = "rustls")]
async fn connect_info_from_connected(
    mut request: axum::extract::Request,
) -> axum::extract::Request {
    if let Some(conn) = request.extensions().get::<Connected>().copied() {
        request.extensions_mut().insert(ConnectInfo(conn.remote_addr));
    }
    request
}

#[cfg(feature = "rustls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_router_over_tls_with_connect_info_from_a_layer() {
    use h2proto_tokio::tls::{self, rustls};
    within(async {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = certified.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let server_tls = tls::server_config(vec![cert.clone()], key).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = app().layer(axum::middleware::map_request(connect_info_from_connected));
        let handler = ServiceHandler::new(router);
        let server = Server::default();
        tokio::spawn(async move {
            server
                .serve_tls_with_shutdown(listener, server_tls, handler, std::future::pending())
                .await
        });

        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client_tls = tls::client_config(roots).unwrap();
        let (send, conn) =
            tls::connect(addr, "localhost", client_tls, Config::default()).await.unwrap();
        tokio::spawn(conn);
        let uri = |path: &str| format!("https://localhost:{}{path}", addr.port());
        let response = send
            .send_request(
                Request::get(uri("/users/5?greeting=hola")).body(Empty::<Bytes>::new()).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hola user 5\n");
        let mut request = Request::get(uri("/big")).body(Empty::<Bytes>::new()).unwrap();
        request.headers_mut().insert(header::ACCEPT_ENCODING, "gzip".parse().unwrap());
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");

        // curl from a port of its range: the router sees that very address.
        let out = run(
            "curl",
            &[
                "-sS",
                "-k",
                "--http2",
                "--local-port",
                "47100-47999",
                &format!("https://127.0.0.1:{}/peer", addr.port()),
            ],
        )
        .await;
        let peer: SocketAddr = String::from_utf8_lossy(&out.stdout).parse().unwrap();
        assert_eq!(peer.ip(), addr.ip());
        assert!((47100..=47999).contains(&peer.port()), "{peer}");
    })
    .await;
}

/// The Router of the h2c tests over TLS, unchanged: `ConnectInfo` made per connection as
/// for h2c (`serve_make_tls_with_shutdown`), and the connection's `TlsInfo` read as an
/// `Extension`. A handler answers with the client's address and the SNI it sent; a request
/// in flight when the shutdown signal comes still completes (the drain), then the server
/// returns `Ok`.
#[cfg(feature = "rustls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_info_and_tls_info_over_tls_from_a_make_service_with_graceful_shutdown() {
    use h2proto_tokio::tls::{self, TlsInfo, rustls};
    use tokio::sync::Notify;
    within(async {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = certified.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let server_tls = tls::server_config(vec![cert.clone()], key).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();

        let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let (in_handler, let_go) = (started.clone(), release.clone());
        let router = app()
            .route(
                "/whoami",
                get(
                    |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                     Extension(tls): Extension<TlsInfo>| async move {
                        format!("{peer} {}", tls.server_name().unwrap_or("(no SNI)"))
                    },
                ),
            )
            .route(
                "/wait",
                get(move || async move {
                    in_handler.notify_one();
                    let_go.notified().await;
                    "drained\n"
                }),
            );
        let make = move |conn: &Connected| {
            ServiceHandler::new(Extension(ConnectInfo(conn.remote_addr)).layer(router.clone()))
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            let signal = async {
                let _ = stopped.await;
            };
            Server::default().serve_make_tls_with_shutdown(listener, server_tls, make, signal).await
        });

        // This crate's client over a TLS stream of our own, to know its address.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let connector = tokio_rustls::TlsConnector::from(tls::client_config(roots).unwrap());
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let local = tcp.local_addr().unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let stream = connector.connect(name, tcp).await.unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (send, conn) = h2proto_tokio::client::Builder::new().handshake(stream);
        tokio::spawn(conn);
        let get = |path: &str| {
            let uri = format!("https://localhost:{}{path}", addr.port());
            Request::get(uri).body(Empty::<Bytes>::new()).unwrap()
        };

        let response = send.send_request(get("/whoami")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, format!("{local} localhost"));
        // The rest of the Router, middleware included, as over h2c.
        let response = send.send_request(get("/users/5?greeting=hola")).await.unwrap();
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hola user 5\n");

        // Graceful shutdown while a request is in flight: it finishes, then serve returns.
        let (sender, request) = (send.clone(), get("/wait"));
        let waiting = tokio::spawn(async move { sender.send_request(request).await });
        started.notified().await;
        stop.send(()).unwrap();
        release.notify_one();
        let response = waiting.await.unwrap().unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "drained\n");
        assert!(matches!(served.await, Ok(Ok(()))), "the server did not end cleanly");
    })
    .await;
}

// ----- The examples -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_axum_examples_serve_the_same_router_on_h2proto_and_on_hyper() {
    // Built first: the time limit is for serving, not for compiling.
    for name in ["axum_hello", "axum_hyper"] {
        example_server::build(name);
    }
    within(async {
        for name in ["axum_hello", "axum_hyper"] {
            example_server::check_help_and_version(name);
            for workers in ["0", "2"] {
                let server = example_server::start(name, &["--workers", workers]);
                let addr = server.addr;
                let out =
                    run("curl", &["-sS", "--http2-prior-knowledge", &url(addr, "/users/4")]).await;
                assert_eq!(String::from_utf8_lossy(&out.stdout), "user 4\n", "{name}");
                let out =
                    run("h2load", &["-n", "2000", "-c", "10", "-m", "100", &url(addr, "/")]).await;
                let report = String::from_utf8_lossy(&out.stdout);
                assert!(report.contains("2000 succeeded, 0 failed, 0 errored"), "{name}: {report}");
            }
        }
    })
    .await;
}
