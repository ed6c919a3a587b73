//! The reference server on `h2proto-blocking`: the routes of [`app`](super::app) as a
//! blocking handler on the adapter's worker pool.

use super::app::{self, BODY, Route, SINK_REPLY};
use h2proto_blocking::{Body, RequestBody, Server};
use http::{Request, Response};
use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

fn handle(request: Request<RequestBody>) -> Response<Body> {
    let route = app::route(request.method(), request.uri().path());
    // The request's map carries the response head (see `app::head`).
    let (parts, mut request_body) = request.into_parts();
    let (mut head, ()) = app::head(route, parts.headers).into_parts();
    let body = match route {
        Route::Head => Body::empty(),
        Route::Hello => Body::from(BODY),
        Route::Echo => Body::from_reader(request_body),
        Route::Sink => {
            let _ = request_body.read_to_end(&mut Vec::new());
            Body::from(&SINK_REPLY[..])
        }
        Route::Bytes(n) => {
            // Streamed from a reader: the adapter cannot measure it.
            app::declare_length(&mut head.headers, n);
            Body::from_reader(std::io::repeat(b'x').take(n))
        }
    };
    Response::from_parts(head, body)
}

/// Serves on `listener` until `stop` is set.
pub fn serve(listener: TcpListener, stop: Arc<AtomicBool>) {
    let server = match Server::from_listener(listener) {
        Ok(s) => s.config(super::core_loop::reference_config()).workers(128),
        Err(e) => return eprintln!("blocking server: {e}"),
    };
    let handle_stop = server.shutdown_handle();
    let watcher = super::on_stop(stop, move || handle_stop.shutdown());
    let _ = server.serve(handle);
    let _ = watcher.join();
}
