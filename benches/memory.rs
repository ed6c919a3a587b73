//! Heap used per connection and per stream, measured with a counting allocator.
//!
//! `cargo bench --bench memory` prints:
//! - bytes per idle established connection, HPACK dynamic tables filled to 4 KiB both ways
//!   (each side of a client/server pair counted separately), and the same after a run of
//!   identical requests (which leaves the repeated-block and repeated-head copies kept);
//! - bytes per additional open stream with no buffered data (server side);
//! - heap allocations per small GET -> 200 exchange on each side, the request shaped like
//!   h2load's and the response like the reference server's (the `http` types the core
//!   builds and takes included), without and with header pools (`h2proto::HeaderPool`).

use bytes::{Buf, Bytes};
use h2proto::{Config, Connection, Event};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// One fixed time for every `recv`: the benches measure no timers.
static CLOCK: std::sync::LazyLock<std::time::Instant> =
    std::sync::LazyLock::new(std::time::Instant::now);

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn allocs() -> isize {
    ALLOCS.load(Ordering::Relaxed)
}

fn pump(from: &mut Connection, to: &mut Connection) {
    let wire = output(from);
    if !wire.is_empty() {
        to.recv(wire, *CLOCK).expect("valid HTTP/2");
    }
}

/// Everything `conn` has to send, as one buffer (its allocation counted to the sender).
fn output(conn: &mut Connection) -> Bytes {
    let out = conn.transmit();
    out.copy_to_bytes(out.remaining())
}

/// Feeds all of `wire` to `conn`, handing each event to `on_event` as it comes (a peer
/// stops reading while its event queue is full, so events are taken as we go).
fn deliver(
    conn: &mut Connection,
    mut wire: Bytes,
    mut on_event: impl FnMut(&mut Connection, Event),
) {
    while !wire.is_empty() {
        let n = conn.recv(wire.clone(), *CLOCK).expect("valid HTTP/2");
        wire.advance(n);
        while let Some(event) = conn.poll_event() {
            on_event(conn, event);
        }
    }
}

fn settle(client: &mut Connection, server: &mut Connection) {
    for _ in 0..4 {
        pump(client, server);
        pump(server, client);
    }
}

/// A request and a response whose headers fill both dynamic tables to about 4 KiB.
fn fill_tables(client: &mut Connection, server: &mut Connection) {
    let mut request = http::Request::get("http://example.com/").body(()).unwrap();
    for i in 0..40 {
        request.headers_mut().insert(
            http::HeaderName::from_bytes(format!("x-request-header-{i:02}").as_bytes()).unwrap(),
            "a-value-that-is-long-enough-to-fill-the-table-quickly".parse().unwrap(),
        );
    }
    let id = client.send_request(request, true).unwrap();
    settle(client, server);
    let mut response = http::Response::new(());
    for i in 0..40 {
        response.headers_mut().insert(
            http::HeaderName::from_bytes(format!("x-response-header-{i:02}").as_bytes()).unwrap(),
            "a-value-that-is-long-enough-to-fill-the-table-quickly".parse().unwrap(),
        );
    }
    server.send_response(id, response, true).unwrap();
    settle(client, server);
    while client.poll_event().is_some() {}
    while server.poll_event().is_some() {}
}

fn main() {
    const PAIRS: usize = 200;
    let before = live();
    let mut pairs = Vec::with_capacity(PAIRS);
    let vec_overhead = live() - before;
    for _ in 0..PAIRS {
        let mut client = Connection::client(Config::default());
        let mut server = Connection::server(Config::default());
        settle(&mut client, &mut server);
        fill_tables(&mut client, &mut server);
        pairs.push((client, server));
    }
    let per_connection = (live() - before - vec_overhead) as f64 / (2 * PAIRS) as f64;
    let inline = std::mem::size_of::<Connection>();
    println!(
        "idle established connection, HPACK tables full: {per_connection:.0} bytes of heap per connection (+{inline} bytes inline in the Connection value)"
    );
    let before = live();
    for (client, server) in &mut pairs {
        for _ in 0..4 {
            small_exchange(client, server);
        }
    }
    let repeated = (live() - before) as f64 / (2 * PAIRS) as f64;
    println!(
        "the same, after four identical small GET -> 200 exchanges: {:.0} bytes of heap per connection ({repeated:+.0})",
        per_connection + repeated
    );

    // Streams: open many request streams on one connection, no bodies buffered.
    let mut config = Config::default();
    config.max_concurrent_streams = 100_000;
    let mut client = Connection::client(config.clone());
    let mut server = Connection::server(config);
    settle(&mut client, &mut server);
    fill_tables(&mut client, &mut server);
    const STREAMS: usize = 10_000;
    let request = http::Request::post("http://example.com/upload").body(()).unwrap();
    let mut opened = Vec::with_capacity(STREAMS);
    let before = live();
    for _ in 0..STREAMS {
        opened.push(client.send_request(request.clone(), false).unwrap());
    }
    let client_heap = live() - before;
    let before_server = live();
    let mut requests = 0;
    deliver(&mut server, output(&mut client), |_, event| {
        if let Event::Request { .. } = event {
            requests += 1;
        }
    });
    assert_eq!(requests, STREAMS);
    let _ = server.transmit().remaining();
    let server_heap = live() - before_server;
    println!(
        "open stream, nothing buffered: {:.0} bytes per stream (server side, {} streams), {:.0} bytes (client side)",
        server_heap as f64 / STREAMS as f64,
        STREAMS,
        client_heap as f64 / STREAMS as f64,
    );
    drop(pairs);
    allocations_per_exchange(false);
    allocations_per_exchange(true);
}

/// One h2load-shaped GET -> 200 with a 13-byte body, everything read on both sides.
fn small_exchange(client: &mut Connection, server: &mut Connection) {
    let mut request = http::Request::get("http://127.0.0.1:8080/bytes/13").body(()).unwrap();
    let agent = http::HeaderValue::from_static("h2load nghttp2/1.52.0");
    request.headers_mut().insert(http::header::USER_AGENT, agent);
    client.send_request(request, true).unwrap();
    deliver(server, output(client), |server, event| {
        if let Event::Request { stream_id, .. } = event {
            let mut response = http::Response::new(());
            let name = http::HeaderValue::from_static("h2proto");
            response.headers_mut().insert(http::header::SERVER, name);
            server.send_response_with_length(stream_id, response, 13, false).unwrap();
            server.send_data(stream_id, Bytes::from_static(b"Hello, world!"), true).unwrap();
        }
    });
    deliver(client, output(server), |client, event| {
        if let Event::Data { stream_id, .. } = event {
            while client.read_data(stream_id).is_some() {}
        }
    });
}

/// Counts allocations (and reallocations) per exchange on each side, once the connection
/// is warm: HPACK tables hold the repeated fields and every buffer has grown to size.
fn allocations_per_exchange(pooled: bool) {
    use http::header::{HeaderValue, SERVER, USER_AGENT};
    let mut client = Connection::client(Config::default());
    let mut server = Connection::server(Config::default());
    if pooled {
        // As an event loop lends its pool: sent heads' maps serve received heads.
        *client.header_pool() = h2proto::HeaderPool::new(BATCH);
        *server.header_pool() = h2proto::HeaderPool::new(BATCH);
    }
    settle(&mut client, &mut server);
    let mut request = http::Request::get("http://127.0.0.1:8080/bytes/13").body(()).unwrap();
    let agent = HeaderValue::from_static("h2load nghttp2/1.52.0");
    request.headers_mut().insert(USER_AGENT, agent);
    const BATCH: usize = 100;
    let (mut on_client, mut on_server) = (0, 0);
    const ROUNDS: usize = 20;
    for round in 0..ROUNDS {
        let requests: Vec<_> = (0..BATCH).map(|_| request.clone()).collect();
        let start = allocs();
        for request in requests {
            client.send_request(request, true).unwrap();
        }
        let wire = output(&mut client);
        let client_send = allocs() - start;
        let start = allocs();
        deliver(&mut server, wire, |server, event| {
            if let Event::Request { stream_id, request, .. } = event {
                // Done with the request: with a pool its map serves a later head (as the
                // mio adapter does after its handler).
                server.header_pool().put(request.into_parts().0.headers);
                // As the reference server answers: the body's length is declared to the
                // core, which encodes content-length itself.
                let mut response = http::Response::new(());
                response.headers_mut().insert(SERVER, HeaderValue::from_static("h2proto"));
                server.send_response_with_length(stream_id, response, 13, false).unwrap();
                server.send_data(stream_id, Bytes::from_static(b"Hello, world!"), true).unwrap();
            }
        });
        let wire = output(&mut server);
        let server_side = allocs() - start;
        let start = allocs();
        deliver(&mut client, wire, |client, event| {
            if let Event::Data { stream_id, .. } = event {
                while client.read_data(stream_id).is_some() {}
            }
        });
        let client_recv = allocs() - start;
        // The first rounds grow tables and buffers; count the warm ones.
        if round >= ROUNDS / 2 {
            on_client += client_send + client_recv;
            on_server += server_side;
        }
    }
    let exchanges = (BATCH * (ROUNDS - ROUNDS / 2)) as f64;
    println!(
        "small GET -> 200 exchange, warm connection{}: {:.2} heap allocations on the server side, {:.2} on the client side (the http types in and out included)",
        if pooled { ", header pools" } else { "" },
        on_server as f64 / exchanges,
        on_client as f64 / exchanges,
    );
}
