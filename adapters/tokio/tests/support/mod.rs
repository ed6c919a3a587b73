//! Shared helpers: servers and clients on 127.0.0.1 with ephemeral ports, bounded waits.
#![allow(dead_code)]

use bytes::Bytes;
use h2proto_tokio::server::{Handler, Server};
use h2proto_tokio::{Config, Error, client};
use http_body::{Body, Frame};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::task::JoinHandle;

/// Every test finishes within this or fails.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Runs `f`, failing the test if it takes longer than [`LIMIT`].
pub async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f).await.expect("test timed out")
}

/// Starts a server with `config` on an ephemeral port.
pub async fn serve<H: Handler>(config: Config, handler: H) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { Server::new(config).serve(listener, handler).await });
    addr
}

/// Connects a client with `config`; the connection task is spawned.
pub async fn connect(
    addr: SocketAddr,
    config: Config,
) -> (client::SendRequest, JoinHandle<Result<(), Error>>) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (send, conn) = client::handshake_with(tcp, config);
    (send, tokio::spawn(conn))
}

pub fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// `len` bytes of a recognizable pattern.
pub fn pattern(len: usize) -> Bytes {
    (0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into()
}

/// A config with small windows (16 KiB streams, the minimum connection window) and a
/// small send buffer, to make flow control do the work.
pub fn small_windows() -> Config {
    let mut config = Config::default();
    config.initial_stream_window_size = 16 << 10;
    config.initial_connection_window_size = 65_535;
    config.max_send_buffer_per_stream = 32 << 10;
    config
}

/// A body that yields `chunk`-sized pieces of `total` bytes as fast as it is polled,
/// counting what it produced; `dropped` is set when it is dropped.
pub struct CountingBody {
    pub chunk: usize,
    pub left: usize,
    pub produced: Arc<AtomicUsize>,
    pub dropped: Option<tokio::sync::oneshot::Sender<()>>,
    /// Notified at every chunk produced.
    pub progress: Arc<tokio::sync::Notify>,
}

impl CountingBody {
    pub fn new(total: usize, chunk: usize) -> (CountingBody, Arc<AtomicUsize>) {
        let produced = Arc::new(AtomicUsize::new(0));
        let body = CountingBody {
            chunk,
            left: total,
            produced: produced.clone(),
            dropped: None,
            progress: Arc::default(),
        };
        (body, produced)
    }
}

impl Body for CountingBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.chunk.min(self.left);
        self.left -= n;
        self.produced.fetch_add(n, Ordering::SeqCst);
        self.progress.notify_one();
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![7u8; n])))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }
}

impl Drop for CountingBody {
    fn drop(&mut self) {
        if let Some(tx) = self.dropped.take() {
            let _ = tx.send(());
        }
    }
}

/// A body that never yields anything (and never ends), telling when it is dropped.
pub struct PendingBody {
    pub dropped: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Body for PendingBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Pending
    }
}

impl Drop for PendingBody {
    fn drop(&mut self) {
        if let Some(tx) = self.dropped.take() {
            let _ = tx.send(());
        }
    }
}
