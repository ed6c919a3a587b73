//! CONNECT tunnels on the mio server (RFC 9113 §8.5, RFC 8441): an extended CONNECT opens an
//! echo tunnel whose bytes go both ways at the pace flow control sets, and a tunnel's state
//! goes when its stream ends, is reset or is refused.

mod support;

use bytes::Bytes;
use h2proto::{Config, Connection, ErrorCode, Event, Protocol, StreamId};
use h2proto_mio::{Body, Server, TunnelIo};
use http::{Method, Request, Response, StatusCode};
use std::io::{self, Read};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{RawPeer, TestServer, echo_tunnel, pattern, small_windows, watchdog};

/// Counts drops of the value it is moved into.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn server_config() -> Config {
    let mut config = small_windows();
    config.enable_connect_protocol = true;
    // The server's send buffer per stream: part of the bound on bytes in flight.
    config.max_send_buffer_per_stream = 16 << 10;
    config
}

/// A client core that releases window only when the test says so.
fn client() -> Connection {
    let mut config = small_windows();
    config.auto_release_capacity = false;
    // Its own send buffer: the last part of the bound on bytes taken while nobody reads.
    config.max_send_buffer_per_stream = 16 << 10;
    Connection::client(config)
}

fn connect_request(addr: std::net::SocketAddr, path: &str) -> Request<()> {
    let mut request = Request::connect(format!("http://{addr}{path}")).body(()).unwrap();
    request.extensions_mut().insert(Protocol::from("websocket"));
    request
}

/// Reads once from the socket (up to its 50 ms timeout) into the core.
fn pump_in(peer: &mut RawPeer, buf: &mut [u8]) {
    match peer.socket.read(buf) {
        Ok(0) => panic!("server closed the connection"),
        Ok(n) => {
            peer.conn.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now()).unwrap();
        }
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
        Err(e) => panic!("read: {e}"),
    }
}

/// Opens an extended CONNECT (the server's SETTINGS must have come) and waits for its 2xx.
fn open_tunnel(peer: &mut RawPeer, addr: std::net::SocketAddr) -> StreamId {
    let id = peer.conn.send_request(connect_request(addr, "/chat"), false).unwrap();
    let events = peer.run_until(|e| matches!(e, Event::Response { .. }));
    match events.last() {
        Some(Event::Response { response, end_stream, .. }) => {
            assert_eq!(response.status(), StatusCode::OK);
            assert!(!end_stream, "a tunnel's response leaves the stream open");
        }
        other => panic!("no response: {other:?}"),
    }
    id
}

/// RFC 8441 §5, RFC 9113 §5.2: a client that stops reading the echo stops the tunnel from
/// sending, the tunnel then stops reading, and the client's own sending stalls after a
/// bounded number of bytes (both windows, both send buffers, one piece in hand).
/// When the client reads again, every byte comes back, in order, and the half-closes
/// cross.
#[test]
fn an_echo_tunnel_is_paced_by_flow_control_both_ways() {
    let _w = watchdog(30);
    let server = Server::bind("127.0.0.1:0").unwrap().config(server_config());
    let server = TestServer::start(server, |request: Request<Bytes>| match *request.method() {
        Method::CONNECT => Response::new(echo_tunnel()),
        _ => Response::new(Body::from("hello")),
    });
    let mut peer = RawPeer::new(TcpStream::connect(server.addr).unwrap(), client());
    peer.run_until(|e| matches!(e, Event::RemoteSettings { .. }));
    let id = open_tunnel(&mut peer, server.addr);

    let payload = Bytes::from(pattern(1 << 20, 7));
    let (mut sent, mut echoed, mut ended) = (0, Vec::new(), false);
    let mut buf = vec![0; 64 << 10];

    // Phase 1: send without reading until nothing more is taken for a while.
    let mut idle_rounds = 0;
    while idle_rounds < 20 {
        let before = sent;
        sent += peer.conn.send_data(id, payload.slice(sent..), false).unwrap();
        peer.flush();
        pump_in(&mut peer, &mut buf);
        while peer.conn.poll_event().is_some() {}
        idle_rounds = if sent == before { idle_rounds + 1 } else { 0 };
    }
    // The client's and the server's windows, both send buffers, the piece the tunnel holds.
    let bound = 5 * (16 << 10);
    assert!(sent > 0 && sent <= bound, "{sent} bytes taken with nobody reading");

    // Phase 2: read (and release) the echo; send the rest; then half-close.
    let mut closed = false;
    while !ended {
        if sent < payload.len() {
            sent += peer.conn.send_data(id, payload.slice(sent..), false).unwrap();
        } else if !closed {
            peer.conn.send_data(id, Bytes::new(), true).unwrap();
            closed = true;
        }
        peer.flush();
        pump_in(&mut peer, &mut buf);
        while let Some(event) = peer.conn.poll_event() {
            match event {
                Event::Data { end_stream, .. } => ended |= end_stream,
                Event::Reset { .. } | Event::Closed { .. } => panic!("{event:?}"),
                _ => {}
            }
        }
        while let Some(data) = peer.conn.read_data(id) {
            peer.conn.release_capacity(id, data.len()).unwrap();
            echoed.extend_from_slice(&data);
        }
    }
    assert_eq!(echoed.len(), payload.len());
    assert!(echoed == payload, "the echo differs from what was sent");
    drop(peer);
    server.stop();
}

/// A CONNECT the handler answers without a tunnel (403) is an ordinary response; a tunnel
/// the client resets is dropped; a tunnel that ends both ways is dropped; and the
/// connection goes on serving, holding no stream state after all of it.
#[test]
fn refused_reset_and_finished_tunnels_leave_nothing_behind() {
    let _w = watchdog(30);
    let drops = Arc::new(AtomicUsize::new(0));
    let counted = drops.clone();
    let server = Server::bind("127.0.0.1:0").unwrap().config(server_config());
    let stats = server.stats();
    let server = TestServer::start(server, move |request: Request<Bytes>| {
        if request.method() != Method::CONNECT {
            return Response::new(Body::from("hello"));
        }
        if request.uri().path() == "/forbidden" {
            let mut response = Response::new(Body::from("no"));
            *response.status_mut() = StatusCode::FORBIDDEN;
            return response;
        }
        // Greets, then closes when the peer does; counts its own drop.
        let (guard, mut greeted) = (DropCount(counted.clone()), false);
        Response::new(Body::tunnel(move |io: &mut TunnelIo<'_>| {
            let _counted = &guard;
            if !greeted {
                greeted = io.send(Bytes::from_static(b"hi")) == 2;
            }
            while io.read().is_some() {}
            if io.is_read_closed() {
                io.close();
            }
        }))
    });
    let mut peer = RawPeer::new(TcpStream::connect(server.addr).unwrap(), client());
    peer.run_until(|e| matches!(e, Event::RemoteSettings { .. }));

    // Refused: a 403 that ends the stream, with its body.
    let refused = peer.conn.send_request(connect_request(server.addr, "/forbidden"), false);
    let refused = refused.unwrap();
    let events = peer.run_until(|e| matches!(e, Event::Data { end_stream: true, .. }));
    assert!(events.iter().any(|e| matches!(e, Event::Response { response, .. }
            if response.status() == StatusCode::FORBIDDEN)));
    assert_eq!(peer.conn.read_data(refused).as_deref(), Some(&b"no"[..]));

    // Reset by the client: the tunnel is dropped.
    let reset = open_tunnel(&mut peer, server.addr);
    peer.conn.reset(reset, ErrorCode::CANCEL).unwrap();
    peer.flush();

    // Finished both ways: greeting read, half-closes cross, the tunnel is dropped.
    let done = open_tunnel(&mut peer, server.addr);
    peer.conn.send_data(done, Bytes::new(), true).unwrap();
    peer.run_until(
        |e| matches!(e, Event::Data { stream_id, end_stream: true } if *stream_id == done),
    );
    let mut greeting = Vec::new();
    while let Some(data) = peer.conn.read_data(done) {
        greeting.extend_from_slice(&data);
    }
    assert_eq!(greeting, b"hi");

    // Still serving; then nothing is held for any of those streams.
    peer.conn
        .send_request(Request::get(format!("http://{}/", server.addr)).body(()).unwrap(), true)
        .unwrap();
    peer.run_until(|e| matches!(e, Event::Data { end_stream: true, .. }));
    let deadline = Instant::now() + Duration::from_secs(5);
    while (drops.load(Ordering::SeqCst) < 2 || stats.open_streams() > 0)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(drops.load(Ordering::SeqCst), 2, "both tunnels dropped");
    assert_eq!(stats.open_streams(), 0);
    drop(peer);
    server.stop();
}

/// RFC 9113 §8.5: a CONNECT refused with a streamed body is an ordinary response, whatever
/// the client keeps sending on the stream: its DATA is dropped, not gathered (so it never
/// counts against the body limit and cannot cut the response short with a reset).
#[test]
fn a_connect_refused_with_a_streamed_body_drops_what_the_client_sends() {
    let _w = watchdog(30);
    let server = Server::bind("127.0.0.1:0").unwrap().config(server_config()).max_body_size(100);
    let server = TestServer::start(server, |_: Request<Bytes>| {
        let chunks = (0..50).map(|i| Bytes::from(vec![i as u8; 4096]));
        let mut response = Response::new(Body::from_chunks(chunks));
        *response.status_mut() = StatusCode::FORBIDDEN;
        response
    });
    let mut peer = RawPeer::new(TcpStream::connect(server.addr).unwrap(), client());
    peer.run_until(|e| matches!(e, Event::RemoteSettings { .. }));
    let id = peer.conn.send_request(connect_request(server.addr, "/chat"), false).unwrap();
    // Ten times the body limit, sent with the request: it arrives while the response waits
    // for window.
    for _ in 0..10 {
        assert_eq!(peer.conn.send_data(id, Bytes::from(vec![1; 100]), false).unwrap(), 100);
    }
    peer.flush();

    let (mut body, mut ended, mut status) = (Vec::new(), false, None);
    let mut buf = vec![0; 64 << 10];
    while !ended {
        pump_in(&mut peer, &mut buf);
        while let Some(event) = peer.conn.poll_event() {
            match event {
                Event::Response { response, .. } => status = Some(response.status()),
                Event::Data { end_stream, .. } => ended |= end_stream,
                Event::Reset { .. } | Event::Closed { .. } => panic!("{event:?}"),
                _ => {}
            }
        }
        while let Some(data) = peer.conn.read_data(id) {
            peer.conn.release_capacity(id, data.len()).unwrap();
            body.extend_from_slice(&data);
        }
        peer.flush();
    }
    assert_eq!(status, Some(StatusCode::FORBIDDEN));
    assert_eq!(body.len(), 50 * 4096);
    drop(peer);
    server.stop();
}
