//! The connection core in memory: a client and a server wired together on one thread, no
//! sockets. Measures whole request/response exchanges (both state machines, HPACK, HTTP
//! semantics, flow control) and bulk DATA on the zero-copy path.
//!
//! `cargo bench --bench connection`

use bytes::{Buf, Bytes};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use h2proto::{Config, Connection, Event, StreamId};
use std::hint::black_box;

/// One fixed time for every `recv`: the benches measure no timers.
static CLOCK: std::sync::LazyLock<std::time::Instant> =
    std::sync::LazyLock::new(std::time::Instant::now);

/// Moves everything `from` has to send into `to`, chunk by chunk, without copying.
fn pump(from: &mut Connection, to: &mut Connection) {
    let out = from.transmit();
    while out.has_remaining() {
        let n = out.chunk().len();
        let bytes = out.copy_to_bytes(n);
        to.recv(bytes, *CLOCK).expect("valid HTTP/2");
    }
}

fn pair(config: Config) -> (Connection, Connection) {
    let mut client = Connection::client(config.clone());
    let mut server = Connection::server(config);
    for _ in 0..3 {
        pump(&mut client, &mut server);
        pump(&mut server, &mut client);
    }
    while client.poll_event().is_some() {}
    while server.poll_event().is_some() {}
    (client, server)
}

const BODY: &[u8] = b"Hello, world!";

/// `n` GET -> 200 exchanges with a 13-byte body, all in flight at once.
fn exchanges(
    client: &mut Connection,
    server: &mut Connection,
    n: usize,
    request: &http::Request<()>,
) {
    for _ in 0..n {
        client.send_request(request.clone(), true).unwrap();
    }
    pump(client, server);
    while let Some(event) = server.poll_event() {
        if let Event::Request { stream_id, .. } = event {
            server.send_response(stream_id, http::Response::new(()), false).unwrap();
            server.send_data(stream_id, Bytes::from_static(BODY), true).unwrap();
        }
    }
    pump(server, client);
    pump(client, server);
    while let Some(event) = client.poll_event() {
        if let Event::Data { stream_id, .. } = event {
            while let Some(data) = client.read_data(stream_id) {
                black_box(data);
            }
        }
    }
}

fn request_response(c: &mut Criterion) {
    let request = http::Request::get("http://example.com/index.html").body(()).unwrap();
    let mut group = c.benchmark_group("pair/get_13b");
    for batch in [1usize, 100] {
        let (mut client, mut server) = pair(Config::default());
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(format!("in_flight_{batch}"), |b| {
            b.iter(|| exchanges(&mut client, &mut server, batch, &request))
        });
    }
    group.finish();
}

fn bulk(c: &mut Criterion) {
    let mut config = Config::default();
    config.initial_stream_window_size = 16 << 20;
    config.initial_connection_window_size = 64 << 20;
    config.max_send_buffer_per_stream = 2 << 20;
    config.max_transmit_size = 2 << 20;
    let (mut client, mut server) = pair(config);
    let body = Bytes::from(vec![0x5a; 1 << 20]);
    let request = http::Request::get("http://example.com/big").body(()).unwrap();
    let mut group = c.benchmark_group("pair/bulk");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("1mib_response", |b| {
        b.iter(|| {
            let id = client.send_request(request.clone(), true).unwrap();
            pump(&mut client, &mut server);
            while server.poll_event().is_some() {}
            server.send_response(id, http::Response::new(()), false).unwrap();
            assert_eq!(server.send_data(id, body.clone(), true).unwrap(), body.len());
            let mut got = 0;
            while got < body.len() {
                pump(&mut server, &mut client);
                while let Some(data) = client.read_data(StreamId(id.0)) {
                    got += data.len();
                }
                pump(&mut client, &mut server);
            }
            while client.poll_event().is_some() {}
        })
    });
    group.finish();
}

criterion_group!(benches, request_response, bulk);
criterion_main!(benches);
