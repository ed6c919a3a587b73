//! The user-driven [`Connection`] in a hand-written loop: requests wait until the loop
//! chooses to answer them, on a later turn; a CONNECT answered late with a tunnel still
//! gets the bytes and the half-close its client sent before the answer; a tunnel fed
//! from outside the connection sends when the loop wakes it; and `ping`/`rtt` report the
//! core's round trip.

mod support;

use bytes::Bytes;
use h2proto::{Config, Event, Protocol, StreamId};
use h2proto_mio::{Body, Connection, TunnelIo};
use http::{Method, Request, Response, StatusCode};
use mio::{Events, Poll, Token};
use std::collections::{HashMap, VecDeque};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use support::{RawPeer, echo_tunnel, watchdog};

/// Serves one connection from its own `Poll`, holding every request until one for `/go`
/// arrives, then answering all of them: a CONNECT with an echo tunnel, anything else with
/// its path. Returns once the connection is closed.
fn serve_held(listener: TcpListener) {
    let (socket, _) = listener.accept().unwrap();
    socket.set_nonblocking(true).unwrap();
    let mut config = Config::default();
    config.enable_connect_protocol = true;
    let mut conn = Connection::server(mio::net::TcpStream::from_std(socket), config).unwrap();
    let mut poll = Poll::new().unwrap();
    conn.register(poll.registry(), Token(7)).unwrap();
    let mut events = Events::with_capacity(16);
    let mut held = Vec::new();
    while !conn.is_closed() {
        let mut wait = Duration::from_millis(50);
        if let Some(at) = conn.timeout() {
            wait = wait.min(at.saturating_duration_since(Instant::now()));
        }
        poll.poll(&mut events, Some(wait)).unwrap();
        for event in events.iter() {
            conn.ready(event);
        }
        if conn.timeout().is_some_and(|at| at <= Instant::now()) {
            conn.handle_timeout(Instant::now());
        }
        while let Some((id, request)) = conn.next_request() {
            held.push((id, request));
        }
        if held.iter().any(|(_, r)| r.uri().path() == "/go") {
            for (id, request) in held.drain(..) {
                let response = match *request.method() {
                    Method::CONNECT => Response::new(echo_tunnel()),
                    _ => Response::new(Body::from(request.uri().path().to_string())),
                };
                conn.respond(id, response).unwrap();
            }
        }
    }
    conn.deregister(poll.registry()).unwrap();
}

/// RFC 9113 §8.5: a tunnel whose bytes come from outside the connection (a backend, here
/// a queue the loop fills on each of its turns) sends them when the loop calls
/// `wake_tunnel`, with no news on the stream itself.
#[test]
fn a_tunnel_fed_from_outside_sends_when_woken() {
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        socket.set_nonblocking(true).unwrap();
        let mut config = Config::default();
        config.enable_connect_protocol = true;
        let socket = mio::net::TcpStream::from_std(socket);
        let mut conn = Connection::server(socket, config).unwrap();
        let mut poll = Poll::new().unwrap();
        conn.register(poll.registry(), Token(3)).unwrap();
        let backend = Arc::new(Mutex::new(VecDeque::<Bytes>::new()));
        let (mut events, mut opened, mut ticks) = (Events::with_capacity(16), None, 0);
        while !conn.is_closed() {
            poll.poll(&mut events, Some(Duration::from_millis(10))).unwrap();
            for event in events.iter() {
                conn.ready(event);
            }
            conn.handle_timeout(Instant::now());
            while let Some((id, _)) = conn.next_request() {
                let from = backend.clone();
                conn.respond(
                    id,
                    Response::new(Body::tunnel(move |io: &mut TunnelIo<'_>| {
                        let mut queue = from.lock().unwrap();
                        while let Some(bytes) = queue.pop_front() {
                            assert_eq!(io.send(bytes), 4, "small pieces, room for all");
                        }
                    })),
                )
                .unwrap();
                opened = Some(id);
            }
            if let Some(id) = opened.filter(|_| ticks < 3) {
                ticks += 1;
                backend.lock().unwrap().push_back(Bytes::from(format!("tik{ticks}")));
                conn.wake_tunnel(id);
            }
        }
    });
    let client = h2proto::Connection::client(Config::default());
    let mut peer = RawPeer::new(TcpStream::connect(addr).unwrap(), client);
    peer.run_until(|e| matches!(e, Event::RemoteSettings { .. }));
    let mut connect = Request::connect(format!("http://{addr}/feed")).body(()).unwrap();
    connect.extensions_mut().insert(Protocol::from("websocket"));
    let id = peer.conn.send_request(connect, false).unwrap();
    let mut got = Vec::new();
    while got.len() < 12 {
        peer.run_until(|e| matches!(e, Event::Data { .. }));
        while let Some(data) = peer.conn.read_data(id) {
            got.extend_from_slice(&data);
        }
    }
    assert_eq!(got, b"tik1tik2tik3");
    drop(peer);
    serving.join().unwrap();
}

#[test]
fn requests_are_answered_when_the_loop_chooses_and_late_tunnels_get_early_bytes() {
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = thread::spawn(move || serve_held(listener));
    let mut peer = RawPeer::new(
        TcpStream::connect(addr).unwrap(),
        h2proto::Connection::client(Config::default()),
    );
    peer.run_until(|e| matches!(e, Event::RemoteSettings { .. }));

    let get = |path: &str| Request::get(format!("http://{addr}{path}")).body(()).unwrap();
    let a = peer.conn.send_request(get("/a"), true).unwrap();
    let mut connect = Request::connect(format!("http://{addr}/chat")).body(()).unwrap();
    connect.extensions_mut().insert(Protocol::from("websocket"));
    let tunnel = peer.conn.send_request(connect, false).unwrap();
    // RFC 9113 §8.5: the tunnel's bytes and its half-close, before any answer.
    peer.conn.send_data(tunnel, Bytes::from_static(b"ping"), true).unwrap();
    peer.flush();

    // Nothing is answered while the loop holds the requests (ten reads of 50 ms each).
    let mut buf = vec![0; 64 << 10];
    for _ in 0..10 {
        if let Ok(n @ 1..) = std::io::Read::read(&mut peer.socket, &mut buf) {
            peer.conn.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now()).unwrap();
        }
        while let Some(event) = peer.conn.poll_event() {
            assert!(!matches!(event, Event::Response { .. }), "answered early: {event:?}");
        }
    }

    let go = peer.conn.send_request(get("/go"), true).unwrap();
    let mut status: HashMap<StreamId, StatusCode> = HashMap::new();
    let mut bodies: HashMap<StreamId, Vec<u8>> = HashMap::new();
    let mut ended = 0;
    peer.run_until(|event| {
        match event {
            Event::Response { stream_id, response, .. } => {
                status.insert(*stream_id, response.status());
            }
            Event::Data { end_stream: true, .. } => ended += 1,
            Event::Reset { .. } | Event::Closed { .. } => panic!("{event:?}"),
            _ => {}
        }
        ended == 3
    });
    // The bodies wait in the core (a few bytes each) until read.
    for id in [a, tunnel, go] {
        while let Some(data) = peer.conn.read_data(id) {
            bodies.entry(id).or_default().extend_from_slice(&data);
        }
    }
    assert_eq!(status.get(&a), Some(&StatusCode::OK));
    assert_eq!(status.get(&tunnel), Some(&StatusCode::OK));
    assert_eq!(bodies.get(&a).map(Vec::as_slice), Some(&b"/a"[..]));
    assert_eq!(bodies.get(&go).map(Vec::as_slice), Some(&b"/go"[..]));
    assert_eq!(
        bodies.get(&tunnel).map(Vec::as_slice),
        Some(&b"ping"[..]),
        "the early bytes, echoed"
    );

    drop(peer);
    serving.join().unwrap();
}

/// `ping` and `rtt` are the core's round trip (`h2proto::Connection::rtt`, the same as
/// `Stats::ping_rtt`): nothing before a PING is answered, then the sample the core took.
/// The PING is timed from the moment it is handed over, even after the connection sat idle
/// (no drive) for a while: the measured round trip lies within the interval from just
/// before `ping` to just after the drive that read the answer, not since the last drive.
#[test]
fn ping_reports_the_cores_round_trip() {
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = thread::spawn(move || {
        let mut peer = RawPeer::new(TcpStream::connect(addr).unwrap(), {
            h2proto::Connection::client(Config::default())
        });
        let request = Request::get(format!("http://{addr}/")).body(()).unwrap();
        peer.conn.send_request(request, true).unwrap();
        // The core answers the PING by itself meanwhile.
        peer.run_until(|e| matches!(e, Event::Data { end_stream: true, .. }));
        peer.conn.stats().pings_received
    });
    let (socket, _) = listener.accept().unwrap();
    socket.set_nonblocking(true).unwrap();
    let socket = mio::net::TcpStream::from_std(socket);
    let mut conn = Connection::server(socket, Config::default()).unwrap();
    let mut poll = Poll::new().unwrap();
    conn.register(poll.registry(), Token(1)).unwrap();
    let mut events = Events::with_capacity(16);
    let mut turn = |conn: &mut Connection| {
        poll.poll(&mut events, Some(Duration::from_millis(20))).unwrap();
        for event in events.iter() {
            conn.ready(event);
        }
    };
    let id = loop {
        turn(&mut conn);
        if let Some((id, _)) = conn.next_request() {
            break id;
        }
    };
    assert_eq!(conn.rtt(), None, "no PING answered yet");

    // Idle: no drive for a while, so the core's clock is the last drive's.
    thread::sleep(Duration::from_millis(200));
    let before = Instant::now();
    conn.ping().unwrap();
    // One of ours is out: a second call sends nothing more and is no error.
    conn.ping().unwrap();
    while conn.rtt().is_none() {
        turn(&mut conn);
    }
    let elapsed = before.elapsed();
    let rtt = conn.rtt().unwrap();
    assert!(rtt <= elapsed, "{rtt:?} measured, {elapsed:?} from ping to answer");
    assert_eq!(Some(rtt), conn.stats().ping_rtt);
    assert_eq!(Some(rtt), conn.h2().rtt());

    conn.respond(id, Response::new(Body::from("done"))).unwrap();
    assert_eq!(client.join().unwrap(), 1, "one PING reached the client");
    while !conn.is_closed() {
        turn(&mut conn);
    }
}
