//! The reference server on `h2proto-mio`: the routes of [`app`](super::app) as a callback
//! on the event loop.
//!
//! The mio adapter hands its handler whole request bodies, so `/echo` answers once the body
//! has arrived, and it has no CONNECT tunnels: this server therefore does not advertise
//! extended CONNECT, and the `rfc8441/*` cases that need it are skipped on it.

use super::app::{self, BODY, Route, SINK_REPLY};
use bytes::Bytes;
use h2proto_mio::{Body, Server};
use http::{Request, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

fn handle(request: Request<Bytes>) -> Response<Body> {
    let route = app::route(request.method(), request.uri().path());
    // The request's map carries the response head (see `app::head`).
    let (parts, request_body) = request.into_parts();
    let (mut head, ()) = app::head(route, parts.headers).into_parts();
    let body = match route {
        Route::Head => Body::from(Bytes::new()),
        Route::Hello => Body::from(BODY),
        Route::Echo => Body::from(request_body),
        Route::Sink => Body::from(Bytes::from_static(SINK_REPLY)),
        Route::Bytes(n) if n <= app::CHUNK as u64 => Body::from(app::fill(n)),
        Route::Bytes(n) => {
            // Streamed: the adapter cannot measure it.
            app::declare_length(&mut head.headers, n);
            let mut left = n;
            Body::from_chunks(std::iter::from_fn(move || {
                let chunk = app::fill(left);
                left -= chunk.len() as u64;
                (!chunk.is_empty()).then_some(chunk)
            }))
        }
    };
    Response::from_parts(head, body)
}

/// Binds `addr`, reports the bound address on `bound`, and serves on `threads` event loops
/// until `stop` is set.
pub fn serve(
    addr: SocketAddr,
    threads: usize,
    bound: std::sync::mpsc::Sender<Result<SocketAddr, String>>,
    stop: Arc<AtomicBool>,
) {
    let mut config = super::core_loop::reference_config();
    config.enable_connect_protocol = false;
    let server = match Server::bind(addr) {
        Ok(s) => s.config(config).threads(threads),
        Err(e) => {
            let _ = bound.send(Err(format!("bind {addr}: {e}")));
            return;
        }
    };
    let _ = bound.send(server.local_addr().map_err(|e| e.to_string()));
    let handle_stop = server.shutdown_handle();
    let watcher = super::on_stop(stop, move || handle_stop.shutdown());
    let _ = server.serve(handle);
    let _ = watcher.join();
}
