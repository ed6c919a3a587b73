//! The reference server on `h2proto-mio`: the routes of [`app`](super::app) as a callback
//! on the event loop.
//!
//! The mio adapter hands its handler whole request bodies, so `/echo` answers once the body
//! has arrived; CONNECT (plain or extended, RFC 8441) opens an echo [`Tunnel`](h2proto_mio::Tunnel),
//! which reads only as fast as it can send back.

use super::app::{self, BODY, Route, SINK_REPLY};
use bytes::{Buf, Bytes};
use h2proto_mio::{Body, Server, TunnelIo};
use http::{Method, Request, Response};
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
        Route::Echo if parts.method == Method::CONNECT => echo_tunnel(),
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

/// A tunnel that sends back what it reads, reading the next piece only once the last is
/// taken (so flow control paces the peer), and ends its direction after the peer's.
fn echo_tunnel() -> Body {
    let mut pending = Bytes::new();
    Body::tunnel(move |io: &mut TunnelIo<'_>| {
        loop {
            let sent = io.send(pending.clone());
            pending.advance(sent);
            if !pending.is_empty() {
                return;
            }
            match io.read() {
                Some(bytes) => pending = bytes,
                None => break,
            }
        }
        if io.is_read_closed() {
            io.close();
        }
    })
}

/// Binds `addr`, reports the bound address on `bound`, and serves on `threads` event loops
/// until `stop` is set.
pub fn serve(
    addr: SocketAddr,
    threads: usize,
    bound: std::sync::mpsc::Sender<Result<SocketAddr, String>>,
    stop: Arc<AtomicBool>,
) {
    let config = super::core_loop::reference_config();
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
