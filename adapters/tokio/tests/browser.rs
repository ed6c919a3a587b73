//! A real browser against h2proto-tokio + rustls (feature `rustls`): headless Chromium
//! (`/usr/bin/chromium`, Debian's `chromium`, installed by `.ci/run`) driven over the
//! DevTools protocol with `chromiumoxide`. The test fails, never skips, without Chromium.
//!
//! The server has a certificate made at test time; Chromium trusts exactly that key
//! through `--ignore-certificate-errors-spki-list` (SHA-256 of its SubjectPublicKeyInfo) and
//! otherwise checks certificates as usual (`respect_https_errors`). The page
//! (`tests/browser/index.html`) then:
//! - loads 120 images at once, each of which must report `nextHopProtocol === "h2"`
//!   (Resource Timing) — more than the server's concurrent-stream limit, so some wait;
//! - echoes 1,000 WebSocket messages, which Chromium carries over the HTTP/2 connection as
//!   an extended CONNECT (RFC 8441 §4, §5: the server sends SETTINGS_ENABLE_CONNECT_PROTOCOL),
//!   seen and counted by the handler here;
//! - reads an EventSource of 10,000 Server-Sent Events to its end;
//! - and is saved as a screenshot, `browser-screenshot.png` in the target directory.
//!
//! Everything is bounded by one 60 s deadline; the browser is the child process this test
//! started, killed at the end whatever happened.
#![cfg(feature = "rustls")]

#[path = "../examples/shared/sse.rs"]
mod sse;

use base64::Engine as _;
use bytes::Bytes;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::page::ScreenshotParams;
use futures_util::{SinkExt, StreamExt};
use h2proto_tokio::server::Server;
use h2proto_tokio::tls::{self, rustls};
use h2proto_tokio::{Config, Protocol, RecvBody, Tunnel};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

const CHROMIUM: &str = "/usr/bin/chromium";
const DEADLINE: Duration = Duration::from_secs(60);
const IMAGES: usize = 120;
const MESSAGES: u64 = 1000;
const EVENTS: u64 = 10_000;

type Body = BoxBody<Bytes, Infallible>;

/// What the server saw.
#[derive(Default)]
struct Seen {
    images: AtomicUsize,
    websockets: AtomicUsize,
    messages: AtomicU64,
    events: Arc<AtomicU64>,
    /// The key exchange group of every request's TLS connection.
    groups: Mutex<Vec<Option<rustls::NamedGroup>>>,
}

fn text(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, content_type.parse().unwrap());
    response
}

async fn handle(seen: Arc<Seen>, request: Request<RecvBody>) -> Response<Body> {
    let path = request.uri().path().to_owned();
    // RFC 8441 §4: the WebSocket arrives as CONNECT with :protocol = websocket.
    if request.method() == Method::CONNECT {
        let websocket =
            request.extensions().get::<Protocol>().is_some_and(|p| p.as_str() == "websocket");
        if !websocket || path != "/ws" {
            return text(StatusCode::BAD_REQUEST, "text/plain", "not a websocket");
        }
        seen.websockets.fetch_add(1, Ordering::SeqCst);
        let (tunnel, body) = Tunnel::new(request.into_body());
        tokio::spawn(async move {
            let mut ws = WebSocketStream::from_raw_socket(tunnel, Role::Server, None).await;
            // A Close from the page is answered by tungstenite inside next(), which then
            // ends the stream: the closing handshake completes (RFC 6455 §7.1.2).
            while let Some(Ok(message)) = ws.next().await {
                if message.is_text() || message.is_binary() {
                    seen.messages.fetch_add(1, Ordering::SeqCst);
                    if ws.send(message).await.is_err() {
                        break;
                    }
                }
            }
        });
        return Response::new(body.map_err(|never| match never {}).boxed());
    }
    match path.as_str() {
        "/" => text(StatusCode::OK, "text/html; charset=utf-8", PAGE),
        "/events" => {
            let response = sse::stream(Some(EVENTS), Duration::ZERO, seen.events.clone());
            response.map(|body| body.boxed())
        }
        p if p.starts_with("/img/") => {
            seen.images.fetch_add(1, Ordering::SeqCst);
            let n: u32 =
                p.trim_start_matches("/img/").trim_end_matches(".svg").parse().unwrap_or(0);
            let svg = format!(
                "<svg xmlns='http://www.w3.org/2000/svg' width='26' height='26'>\
                 <rect width='26' height='26' fill='hsl({} 70% 45%)'/>\
                 <text x='13' y='17' font-size='10' text-anchor='middle' fill='white'>{n}</text></svg>",
                n * 3
            );
            text(StatusCode::OK, "image/svg+xml", svg)
        }
        _ => text(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}

const PAGE: &str = include_str!("browser/index.html");

/// A certificate for "localhost", the TLS acceptor for it, and the base64 SHA-256 of its
/// SubjectPublicKeyInfo, which Chromium is told to trust.
fn certificate() -> (tls::Acceptor, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let spki = rcgen::PublicKeyData::subject_public_key_info(&certified.signing_key);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &spki);
    let pin = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = tls::server_config(vec![certified.cert.der().clone()], key).unwrap();
    (tls::Acceptor::new(config), pin)
}

/// The server: `serve_tls` with extended CONNECT enabled; it stops when the test ends.
async fn server(acceptor: tls::Acceptor, seen: Arc<Seen>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config::default();
    // RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 in the server's SETTINGS.
    config.enable_connect_protocol = true;
    let handler = move |request: Request<RecvBody>| {
        // The TLS details of the connection come with every request.
        let tls = request.extensions().get::<tls::TlsInfo>().cloned();
        seen.groups.lock().unwrap().push(tls.and_then(|t| t.key_exchange_group()));
        handle(seen.clone(), request)
    };
    tokio::spawn(async move {
        let server = Server::new(config);
        server.serve_tls_with_shutdown(listener, acceptor, handler, std::future::pending()).await
    });
    addr
}

/// The target directory (`CARGO_TARGET_TMPDIR` is its `tmp/`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().to_path_buf()
}

/// Opens the page, runs its checks and takes the screenshot; returns the page's report.
async fn drive(browser: &Browser, url: &str, screenshot: &Path) -> Result<String, String> {
    let page = browser.new_page(url).await.map_err(|e| format!("open {url}: {e}"))?;
    page.wait_for_navigation().await.map_err(|e| format!("navigation: {e}"))?;
    let report: String = match page.evaluate("runAll()").await {
        Ok(result) => result.into_value().map_err(|e| format!("runAll's result: {e}"))?,
        Err(e) => return Err(format!("runAll on {}: {e}", describe(&page).await)),
    };
    let params = ScreenshotParams::builder().full_page(true).build();
    page.save_screenshot(params, screenshot).await.map_err(|e| format!("screenshot: {e}"))?;
    Ok(report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_loads_subresources_websocket_and_events_over_h2() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium (.ci/run does)"
    );
    let seen = Arc::new(Seen::default());
    let (acceptor, pin) = certificate();
    let addr = server(acceptor, seen.clone()).await;
    let profile = tempdir();
    let config = BrowserConfig::builder()
        .chrome_executable(CHROMIUM)
        .user_data_dir(&profile)
        .respect_https_errors()
        .no_sandbox()
        .launch_timeout(Duration::from_secs(30))
        .request_timeout(DEADLINE)
        // chromiumoxide adds the leading "--" (and --headless, --no-sandbox from the builder
        // calls above and its own defaults, --user-data-dir from user_data_dir).
        .args([
            "disable-gpu".to_owned(),
            "disable-quic".to_owned(),
            "no-first-run".to_owned(),
            "disable-background-networking".to_owned(),
            "disable-component-update".to_owned(),
            "disable-sync".to_owned(),
            format!("ignore-certificate-errors-spki-list={pin}"),
        ])
        .build()
        .unwrap();
    let (mut browser, mut events) = Browser::launch(config).await.expect("launch chromium");
    let pump = tokio::spawn(async move { while events.next().await.is_some() {} });

    let screenshot = target_dir().join("browser-screenshot.png");
    let _ = std::fs::remove_file(&screenshot);
    let url = format!("https://localhost:{}/", addr.port());
    let outcome = tokio::time::timeout(DEADLINE, drive(&browser, &url, &screenshot)).await;
    // The browser is our child: killed (and reaped) before any assertion can fail.
    let _ = browser.kill().await;
    pump.abort();
    let _ = std::fs::remove_dir_all(&profile);

    let report = outcome.expect("the browser test took longer than 60 s").unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    eprintln!("page report: {report}");

    // 120 parallel subresources, every one loaded, every one over h2.
    assert_eq!(report["images"]["loaded"], IMAGES, "{report}");
    assert_eq!(report["images"]["failed"], 0, "{report}");
    assert_eq!(report["imageEntries"], IMAGES, "{report}");
    assert_eq!(report["notH2"], serde_json::json!([]), "{report}");
    assert_eq!(report["navigation"], "h2", "{report}");
    assert_eq!(seen.images.load(Ordering::SeqCst), IMAGES);

    // The WebSocket: one extended CONNECT, 1,000 messages echoed in order.
    assert_eq!(report["ws"]["echoed"], MESSAGES, "{report}");
    assert_eq!(report["ws"]["mismatched"], 0, "{report}");
    assert_eq!(report["ws"]["code"], 1000, "a clean closing handshake: {report}");
    assert_eq!(seen.websockets.load(Ordering::SeqCst), 1, "one extended CONNECT");
    assert_eq!(seen.messages.load(Ordering::SeqCst), MESSAGES);

    // The EventSource: 10,000 events, in order, to the end.
    assert_eq!(report["sse"]["count"], EVENTS, "{report}");
    assert_eq!(report["sse"]["outOfOrder"], 0, "{report}");
    assert_eq!(report["sse"]["error"], serde_json::Value::Null, "{report}");
    assert_eq!(seen.events.load(Ordering::SeqCst), EVENTS);

    // Chromium offers the post-quantum hybrid, and our provider takes it.
    let groups = seen.groups.lock().unwrap().clone();
    assert!(!groups.is_empty());
    assert!(groups.iter().all(|g| *g == Some(rustls::NamedGroup::X25519MLKEM768)), "{groups:?}");

    let png = std::fs::read(&screenshot).expect("the screenshot was saved");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG image");
    eprintln!("screenshot: {}", screenshot.display());
}

/// What the page shows, for a failure message.
async fn describe(page: &chromiumoxide::Page) -> String {
    let js = "`${location.href} ${document.title}: ${document.body && document.body.innerText.slice(0, 300)}`";
    match page.evaluate(js).await.map(|r| r.into_value::<String>()) {
        Ok(Ok(text)) => text,
        other => format!("(page unreadable: {other:?})"),
    }
}

/// A fresh, empty directory for the browser profile.
fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("h2proto-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
