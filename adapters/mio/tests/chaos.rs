//! Chaos: many requests through a loopback proxy that splits every write at random offsets
//! and breaks connections mid-frame: RST (ECONNRESET), EOF, or a peer that vanishes with
//! its streams open (see `adapters/chaos_proxy.rs`). Every request must end (a response
//! with the right body, or an error; on an unbroken connection always the response), and
//! afterwards nothing may be left: the server's live connections and the streams they hold
//! ([`h2proto_mio::ServerStats`]) and the handlers' streamed response bodies (counted by
//! guards) all return to zero.

mod support;

#[path = "../../chaos_proxy.rs"]
mod chaos_proxy;
#[path = "../../chaos_threads.rs"]
mod chaos_threads;

use bytes::Bytes;
use chaos_threads::{Guard, keepalive};
use h2proto_mio::{Body, Client, Server};
use http::{Request, Response};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::thread;
use support::watchdog;

/// The echoed body, streamed in pieces; it holds the request's guard until the loop drops
/// it (sent, or its stream or connection gone).
struct Echo {
    data: Bytes,
    _guard: Guard,
}

impl Iterator for Echo {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        let n = self.data.len().min(10_000);
        (n > 0).then(|| self.data.split_to(n))
    }
}

/// One request: `Ok(true)` echoed correctly, `Ok(false)` ended with an error.
fn echo_once(client: &Client, sent: Vec<u8>) -> Result<bool, String> {
    let request = Request::post("/echo").body(Bytes::from(sent.clone())).unwrap();
    let Ok(response) = client.request(request) else { return Ok(false) };
    let got = response.into_body();
    if got != sent {
        return Err(format!("echo of {} bytes came back as {} other bytes", sent.len(), got.len()));
    }
    Ok(true)
}

#[test]
fn chaos_proxy_faults_end_every_stream_and_connection() {
    let _w = watchdog(120);
    let live = Arc::new(AtomicUsize::new(0));
    let handler_live = live.clone();
    let server = Server::bind("127.0.0.1:0").unwrap().config(keepalive());
    let addr = server.local_addr().unwrap();
    let (stop, stats) = (server.shutdown_handle(), server.stats());
    let serving = thread::spawn(move || {
        server.serve(move |request: Request<Bytes>| {
            let guard = Guard::new(&handler_live);
            Response::new(Body::from_chunks(Echo { data: request.into_body(), _guard: guard }))
        })
    });
    let counts = move || (stats.connections(), stats.open_streams());
    // One connection per client, never replaced: the proxy gives each its fault by the
    // order it accepts them.
    let connect = |proxy| Client::connect_single(proxy, keepalive()).unwrap();
    chaos_threads::run(addr, connect, echo_once, counts, &live);
    stop.shutdown();
    serving.join().unwrap().unwrap();
}
