//! The core's `Stats`, send windows and PING round-trip times, reached from both ends of a
//! blocking connection: a handler through the `ConnectionHandle` in its request's
//! extensions, a client through `Client::stats` and `Client::ping`. Each figure is shown
//! to move: bytes counted, a PING answered with the core's RTT, windows shrinking under an
//! unread body and growing again once it is read.

mod support;

use h2proto_blocking::{
    Body, Client, Config, ConnectionHandle, ConnectionStats, RequestBody, Server,
};
use http::{Request, Response};
use std::sync::Mutex;
use std::sync::mpsc::{self, Sender};
use std::thread;
use std::time::Duration;
use support::*;

const PING_WAIT: Duration = Duration::from_secs(10);

fn handle_of(request: &Request<RequestBody>) -> ConnectionHandle {
    request.extensions().get::<ConnectionHandle>().expect("every request has one").clone()
}

/// Polls `stats` until `done` accepts a snapshot (bounded by the test's watchdog).
fn wait_until(
    mut stats: impl FnMut() -> Option<ConnectionStats>,
    done: impl Fn(&ConnectionStats) -> bool,
) -> ConnectionStats {
    loop {
        let now = stats().expect("the connection is open");
        if done(&now) {
            return now;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn both_ends_count_the_bytes_of_an_exchange() {
    let _w = watchdog(30);
    let (tx, seen) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = TestServer::start(Config::default(), 1, move |request: Request<RequestBody>| {
        let handle = handle_of(&request);
        let body = request.into_body().read_to_vec().unwrap();
        tx.lock().unwrap().send(handle.stats().unwrap()).unwrap();
        Response::new(Body::from(vec![b'r'; body.len() * 2]))
    });
    let client = Client::connect(server.addr).unwrap();
    let before = client.stats().unwrap();
    assert_eq!((before.counters.data_sent, before.counters.streams_opened_local), (0, 0));

    let response = client.request(Request::post("/").body(vec![b'q'; 3000]).unwrap()).unwrap();
    assert_eq!(response.into_body().read_to_vec().unwrap().len(), 6000);

    let at_server = seen.recv().unwrap();
    assert_eq!(at_server.counters.streams_opened_remote, 1);
    assert_eq!(at_server.counters.data_received, 3000);
    assert!(at_server.counters.bytes_received > 3000, "frame headers count too: {at_server:?}");
    let after = wait_until(|| client.stats(), |s| s.active_streams == 0);
    assert_eq!(after.counters.streams_opened_local, 1);
    assert_eq!(after.counters.data_sent, 3000);
    assert_eq!(after.counters.data_received, 6000);
    assert!(after.counters.frames_sent > before.counters.frames_sent, "{after:?}");
    drop(client);
    server.stop();
}

#[test]
fn a_ping_from_either_end_is_answered_with_the_cores_rtt() {
    // RFC 9113 §6.7: the peer ACKs our PING; the round trip is the core's measure.
    let _w = watchdog(30);
    let (tx, pinged) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = TestServer::start(Config::default(), 1, move |request: Request<RequestBody>| {
        let handle = handle_of(&request);
        let rtt = handle.ping(PING_WAIT).unwrap();
        tx.lock().unwrap().send((rtt, handle.stats().unwrap())).unwrap();
        Response::new(Body::empty())
    });
    let client = Client::connect(server.addr).unwrap();
    assert_eq!(client.stats().unwrap().rtt, None, "keepalive is off: no PING yet");

    let rtt = client.ping(PING_WAIT).unwrap();
    let stats = client.stats().unwrap();
    assert_eq!(stats.rtt, Some(rtt));
    assert_eq!(stats.counters.ping_rtt, Some(rtt), "the core's figure");

    // The server's handler PINGs the client while the request waits for its response.
    client.request(Request::get("/").body(()).unwrap()).unwrap();
    let (server_rtt, at_server) = pinged.recv().unwrap();
    assert_eq!(at_server.rtt, Some(server_rtt));
    assert_eq!(at_server.counters.ping_rtt, Some(server_rtt));
    assert_eq!(at_server.counters.pings_received, 1, "the client's PING");
    assert_eq!(client.stats().unwrap().counters.pings_received, 1, "the server's PING");
    drop(client);
    server.stop();
}

/// Receive windows a 1 MiB body overflows: 256 KiB per stream, 128 KiB per connection, so
/// the connection's window is the one that runs out.
fn windows_of_128k() -> Config {
    let mut c = Config::default();
    c.initial_stream_window_size = 256 << 10;
    c.initial_connection_window_size = 128 << 10;
    c
}

const BIG: usize = 1 << 20;

#[test]
fn the_clients_send_window_shrinks_under_a_request_body_the_handler_does_not_read() {
    let _w = watchdog(30);
    let (tx, requests) = mpsc::channel::<(RequestBody, Sender<usize>)>();
    let tx = Mutex::new(tx);
    let server = TestServer::start(windows_of_128k(), 1, move |request: Request<RequestBody>| {
        // The body goes to the test, which reads it when it has seen the window closed.
        let (read_tx, read) = mpsc::channel();
        tx.lock().unwrap().send((request.into_body(), read_tx)).unwrap();
        Response::new(Body::from(read.recv().unwrap().to_string()))
    });
    let client = Client::connect(server.addr).unwrap();
    let open = wait_until(|| client.stats(), |s| s.send_window == 128 << 10);

    let uploading = {
        let client = client.clone();
        thread::spawn(move || {
            let body = Body::from_reader(Counting::new(BIG).0);
            let response = client.request(Request::post("/").body(body).unwrap()).unwrap();
            response.into_body().read_to_vec().unwrap()
        })
    };
    let (mut body, read) = requests.recv().unwrap();
    // RFC 9113 §6.9: DATA the server has not read uses up the window it gave.
    let closed = wait_until(|| client.stats(), |s| s.send_window == 0);
    assert!(closed.counters.flow_control_stalls > open.counters.flow_control_stalls);
    assert!(closed.counters.data_sent < BIG as u64, "{closed:?}");

    let n = body.read_to_vec().unwrap().len();
    read.send(n).unwrap();
    assert_eq!(uploading.join().unwrap(), BIG.to_string().as_bytes());
    let done = wait_until(|| client.stats(), |s| s.active_streams == 0);
    assert_eq!(done.counters.data_sent, BIG as u64);
    assert!(done.send_window > 0, "read bytes were given back: {done:?}");
    drop(client);
    server.stop();
}

#[test]
fn the_servers_send_window_shrinks_under_a_response_the_client_does_not_read() {
    let _w = watchdog(30);
    let (tx, handles) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = TestServer::start(Config::default(), 1, move |request: Request<RequestBody>| {
        tx.lock().unwrap().send(handle_of(&request)).unwrap();
        Response::new(Body::from_reader(Counting::new(BIG).0))
    });
    let client = Client::builder().config(windows_of_128k()).connect(server.addr).unwrap();
    let response = client.request(Request::get("/").body(()).unwrap()).unwrap();
    let connection = handles.recv().unwrap();
    // The client reads nothing yet: the server's window closes.
    let closed = wait_until(|| connection.stats(), |s| s.send_window == 0);
    assert!(closed.counters.flow_control_stalls >= 1, "{closed:?}");
    assert!(closed.counters.data_sent < BIG as u64, "{closed:?}");
    // The same window seen from the client: what the server may still send, nothing.
    let full = wait_until(|| client.stats(), |s| s.recv_window == 0);
    assert_eq!(full.counters.data_received, closed.counters.data_sent, "{full:?}");

    assert_eq!(response.into_body().read_to_vec().unwrap().len(), BIG);
    // Read, the bytes come back as credit (WINDOW_UPDATE): the window opens again.
    wait_until(|| client.stats(), |s| s.recv_window > 0);
    let done = wait_until(|| connection.stats(), |s| s.counters.data_sent == BIG as u64);
    assert_eq!(done.counters.streams_opened_remote, 1);
    drop(client);
    server.stop();
}

#[test]
fn the_server_reaches_every_live_connection() {
    let _w = watchdog(30);
    let server = Server::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let (stats, stop) = (server.stats(), server.shutdown_handle());
    let serving = thread::spawn(move || server.serve(|_| Response::new(vec![b'x'; 100])));
    let clients: Vec<Client> = (0..2).map(|_| Client::connect(addr).unwrap()).collect();
    for client in &clients {
        let response = client.request(Request::get("/").body(()).unwrap()).unwrap();
        assert_eq!(response.into_body().read_to_vec().unwrap().len(), 100);
    }
    let handles = stats.handles();
    assert_eq!(handles.len(), 2);
    for handle in &handles {
        let one = wait_until(|| handle.stats(), |s| s.counters.data_sent == 100);
        assert_eq!(one.counters.streams_opened_remote, 1);
    }
    let total = stats.totals();
    assert_eq!((total.streams_opened_remote, total.data_sent), (2, 200));
    // A PING from the server's side reaches a client, which answers it.
    handles[0].ping(PING_WAIT).unwrap();
    let pinged: u64 = clients.iter().map(|c| c.stats().unwrap().counters.pings_received).sum();
    assert_eq!(pinged, 1);
    drop(clients);
    stop.shutdown();
    serving.join().unwrap().unwrap();
}
