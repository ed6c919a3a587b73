//! Chaos: many requests through a loopback proxy that splits every write at random offsets
//! and breaks connections mid-frame: RST (ECONNRESET), EOF, or a peer that vanishes with
//! its streams open (see `adapters/chaos_proxy.rs`). Every request must end (a response
//! with the right body, or an error; on an unbroken connection always the response), and
//! afterwards nothing may be left: the server's live connections and the streams they hold
//! ([`h2proto_blocking::ServerStats`]) and the handlers' requests and response bodies
//! (counted by guards) all return to zero.

mod support;

#[path = "../../chaos_proxy.rs"]
mod chaos_proxy;
#[path = "../../chaos_threads.rs"]
mod chaos_threads;

use chaos_threads::{Guard, keepalive};
use h2proto_blocking::{Body, Client, RequestBody, Server};
use http::{Request, Response};
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::thread;
use support::watchdog;

/// The echoed body, streamed; it holds the request's guard until the server drops it.
struct Echo {
    data: io::Cursor<Vec<u8>>,
    _guard: Guard,
}

impl Read for Echo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.data.read(buf)
    }
}

/// One request: `Ok(true)` echoed correctly, `Ok(false)` ended with an error.
fn echo_once(client: &Client, sent: Vec<u8>) -> Result<bool, String> {
    let request = Request::post("/echo").body(sent.clone()).unwrap();
    let Ok(response) = client.request(request) else { return Ok(false) };
    let Ok(got) = response.into_body().read_to_vec() else { return Ok(false) };
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
    let server = Server::bind("127.0.0.1:0").unwrap().workers(8).config(keepalive());
    let addr = server.local_addr().unwrap();
    let (stop, stats) = (server.shutdown_handle(), server.stats());
    let serving = thread::spawn(move || {
        server.serve(move |request: Request<RequestBody>| {
            let guard = Guard::new(&handler_live);
            let data = request.into_body().read_to_vec().unwrap_or_default();
            Response::new(Body::from_reader(Echo { data: io::Cursor::new(data), _guard: guard }))
        })
    });
    let counts = move || (stats.connections(), stats.open_streams());
    let connect = |proxy| Client::connect_with(proxy, keepalive()).unwrap();
    chaos_threads::run(addr, connect, echo_once, counts, &live);
    stop.shutdown();
    serving.join().unwrap().unwrap();
}
