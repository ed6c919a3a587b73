//! A plain hyper 1.x HTTP/2 cleartext server (h2c, prior knowledge) on a single-threaded
//! tokio runtime: the baseline `benches/servers.sh` compares h2proto's servers with.
//!
//! It answers the routes of the conformance reference server
//! (`cargo run --release -p h2proto-conformance -- serve`) with the same bodies:
//! `/bytes/N` sends N bytes of `x`, `/echo` streams the request body back, `/sink` reads
//! the whole request body then answers the 13 bytes `Hello, world!`, and every other path
//! gets 200 with the reference server's few-hundred-byte text. HEAD gets the head alone.
//!
//! ```text
//! cargo run --release -p h2proto-tokio --example hyper_server -- --addr 127.0.0.1:8080
//! h2load -n 100000 -c 10 -m 100 http://127.0.0.1:8080/bytes/13
//! ```

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, SERVER};
use http::{Method, Request, Response};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Empty, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

#[path = "shared/serve_cli.rs"]
mod serve_cli;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ResponseBody = BoxBody<Bytes, BoxError>;

/// Same text as `h2proto_conformance::server::app::BODY`.
const BODY: &str = "h2proto reference server\n\
    This body is a few hundred bytes long so that clients and conformance suites can\n\
    watch flow control at work: a window of one byte yields a DATA frame of one byte,\n\
    a window of zero yields none until a WINDOW_UPDATE arrives. Paths: /echo streams\n\
    the request body back, /sink reads it all and answers 13 bytes, /bytes/N sends N.\n";

/// What `/sink` answers once it has the whole request body.
const SINK_REPLY: &[u8; 13] = b"Hello, world!";

/// Largest `/bytes/N` served (as the reference server).
const MAX_BYTES: u64 = 1 << 32;

/// `/bytes/N`: N bytes of `x` in 16 KiB frames, made as they are polled (as the reference
/// servers on h2proto do).
struct Repeat(u64);

/// What `Repeat` sends, borrowed chunk by chunk (no allocation, as the reference servers).
static FILL: [u8; 16 * 1024] = [b'x'; 16 * 1024];

impl Body for Repeat {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.0 == 0 {
            return Poll::Ready(None);
        }
        let n = self.0.min(FILL.len() as u64);
        self.0 -= n;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&FILL[..n as usize])))))
    }

    fn is_end_stream(&self) -> bool {
        self.0 == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.0)
    }
}

const SERVER_NAME: HeaderValue = HeaderValue::from_static("hyper");
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain");

fn full(bytes: Bytes) -> ResponseBody {
    Full::new(bytes).map_err(|e| match e {}).boxed()
}

async fn handle(request: Request<Incoming>) -> Result<Response<ResponseBody>, Infallible> {
    // As in the reference servers, the request's own map carries the response head, and
    // header names are `http`'s constants and values static.
    let (parts, request_body) = request.into_parts();
    let path = parts.uri.path();
    let mut headers = parts.headers;
    headers.clear();
    headers.insert(SERVER, SERVER_NAME);
    let body = if parts.method == Method::HEAD {
        headers.insert(CONTENT_TYPE, TEXT_PLAIN);
        Empty::new().map_err(|e| match e {}).boxed()
    } else if path == "/echo" {
        request_body.map_err(BoxError::from).boxed()
    } else if path == "/sink" {
        let _ = request_body.collect().await;
        full(Bytes::from_static(SINK_REPLY))
    } else if let Some(n) = path.strip_prefix("/bytes/").and_then(|n| n.parse::<u64>().ok()) {
        Repeat(n.min(MAX_BYTES)).boxed()
    } else {
        headers.insert(CONTENT_TYPE, TEXT_PLAIN);
        full(Bytes::from_static(BODY.as_bytes()))
    };
    let mut response = Response::new(body);
    *response.headers_mut() = headers;
    Ok(response)
}

fn main() -> std::io::Result<()> {
    let addr = serve_cli::Options::parse(
        "hyper_server",
        "hyper's HTTP/2 server (h2c, one thread; --workers is ignored), for comparisons.",
    )
    .addr;
    // One thread: the runtime's and the connections' work all happen on this one.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("hyper h2c server listening on http://{}", listener.local_addr()?);
        std::io::stdout().flush()?;
        loop {
            let (socket, _) = listener.accept().await?;
            let _ = socket.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(handle);
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    })
}
