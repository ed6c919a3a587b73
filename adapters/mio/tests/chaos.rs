//! Chaos through the self-healing client: batches of requests from many threads, each
//! batch sharing one [`Client`], through a loopback proxy that splits every write at random
//! offsets and breaks connections mid-frame: RST (ECONNRESET), EOF, or a peer that vanishes
//! with its streams open (see `adapters/chaos_proxy.rs`; the n-th connection gets the n-th
//! fault, so faults cycle as clients replace broken connections).
//!
//! Every request must end: the right echo, or an [`h2proto_mio::Error`]. The server logs
//! each request id with the connection it came on (through `adapters/chaos_threads.rs`'s
//! tap, which numbers connections as the proxy does): none is processed twice (RFC 9113
//! §8.7: what may have been processed is never sent again), and every one processed on an
//! unbroken connection was answered. Afterwards nothing is left: the server's live
//! connections and the streams they hold ([`h2proto_mio::ServerStats`]) and the handlers'
//! streamed response bodies (counted by guards) all return to zero.

mod support;

#[path = "../../chaos_proxy.rs"]
mod chaos_proxy;
#[path = "../../chaos_threads.rs"]
mod chaos_threads;

use bytes::Bytes;
use chaos_threads::{Chaos, Guard, Outcome, keepalive};
use h2proto_mio::{Body, Client, RemoteAddr, Server};
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

/// Request `id`; `Err` only for a wrong echo (every error of this client is typed).
fn echo_once(client: &Client, id: usize, sent: Vec<u8>) -> Result<Outcome, String> {
    let request = Request::post("/echo")
        .header("x-request-id", id.to_string())
        .body(Bytes::from(sent.clone()))
        .unwrap();
    let response = match client.request(request) {
        Ok(response) => response,
        Err(e) => return Ok(Outcome::Failed { retry_safe: e.is_retry_safe() }),
    };
    let got = response.into_body();
    if got != sent {
        return Err(format!("request {id}: {} bytes echoed as {} others", sent.len(), got.len()));
    }
    Ok(Outcome::Echoed)
}

#[test]
fn chaos_through_the_healing_client_processes_nothing_twice_and_leaves_nothing() {
    let _w = watchdog(150);
    let live = Arc::new(AtomicUsize::new(0));
    let chaos = Chaos::new();
    let server = Server::bind("127.0.0.1:0").unwrap().config(keepalive()).remote_addr(true);
    let addr = server.local_addr().unwrap();
    let (stop, stats) = (server.shutdown_handle(), server.stats());
    let serving = {
        let (live, chaos) = (live.clone(), chaos.clone());
        thread::spawn(move || {
            server.serve(move |request: Request<Bytes>| {
                let guard = Guard::new(&live);
                let id = request.headers()["x-request-id"].to_str().unwrap().parse().unwrap();
                let RemoteAddr(peer) = *request.extensions().get::<RemoteAddr>().unwrap();
                chaos.processed(id, peer);
                Response::new(Body::from_chunks(Echo { data: request.into_body(), _guard: guard }))
            })
        })
    };
    let counts = move || (stats.connections(), stats.open_streams());
    let connect = |proxy| Client::builder(proxy).config(keepalive()).connect().unwrap();
    chaos_threads::run(&chaos, addr, connect, Client::connects, echo_once, counts, &live);
    stop.shutdown();
    serving.join().unwrap().unwrap();
}
