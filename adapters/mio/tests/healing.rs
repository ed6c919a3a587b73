//! A client that heals (issue 15): connects that time out, reconnects paced by the core's
//! backoff and cut short by its circuit breaker (`h2proto::pool::{Backoff, Breaker}`), and
//! keepalive PINGs that find a server gone silent on an idle connection.
//!
//! A server that does not answer at all is a listener whose backlog is full: the kernel
//! drops the SYN of every further connect, as for a host that is down behind a firewall. A
//! server that is down and comes back is a mio server stopped and bound again on its port.

#[path = "../../tokio/tests/cli_support/mod.rs"]
mod cli_support;
mod support;

use bytes::Bytes;
use cli_support::{fill_backlog, tiny_backlog};
use h2proto::pool::{Backoff, BreakerConfig};
use h2proto::{Connection, Event};
use h2proto_mio::{Client, Config, Error, ErrorKind, Server};
use http::{Request, Response};
use std::io;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;
use support::*;

fn get() -> Request<Bytes> {
    Request::get("/").body(Bytes::new()).unwrap()
}

fn refused(error: &Error) -> bool {
    matches!(error.kind(), ErrorKind::Connect(e) if e.kind() == io::ErrorKind::ConnectionRefused)
}

#[test]
fn the_first_connect_times_out_with_a_typed_error() {
    let _w = watchdog(30);
    let (_listener, addr) = tiny_backlog();
    let _fillers = fill_backlog(addr);
    let timeout = Duration::from_millis(300);
    let error = Client::builder(addr).connect_timeout(timeout).connect().unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
    let typed = error.get_ref().and_then(|e| e.downcast_ref::<Error>()).expect("typed");
    assert!(matches!(typed.kind(), ErrorKind::ConnectTimeout { timeout: t } if *t == timeout));
    assert!(typed.is_retry_safe());
}

#[test]
fn a_fresh_connection_that_gets_no_answer_times_out_and_counts_toward_the_breaker() {
    let _w = watchdog(30);
    let (listener, addr) = tiny_backlog();
    let timeout = Duration::from_millis(750);
    let breaker = BreakerConfig { failure_threshold: 1, cool_down: Duration::from_secs(60) };
    // The core's preface timeout is shorter, yet it is the connect timeout that fires: the
    // core's clock starts once the connection is there.
    let mut config = Config::default();
    config.preface_timeout = Some(Duration::from_millis(250));
    let client = Client::builder(addr)
        .config(config)
        .connect_timeout(timeout)
        .breaker(breaker)
        .connect()
        .unwrap();
    // The client's connection is taken from the queue (and sent the server's SETTINGS),
    // and the queue filled behind it.
    let (socket, _) = listener.accept().unwrap();
    let mut peer = RawPeer::new(socket.into(), Connection::server(Config::default()));
    peer.flush();
    let _fillers = fill_backlog(addr);
    let server = thread::spawn(move || {
        // Answers one request, with a GOAWAY first: the client needs a fresh connection.
        let events = peer.run_until(|e| matches!(e, Event::Request { .. }));
        let Some(Event::Request { stream_id, .. }) = events.last() else { unreachable!() };
        peer.conn.shutdown();
        peer.conn.send_response(*stream_id, Response::new(()), true).unwrap();
        peer.flush();
        peer.silent_until_eof();
    });
    assert_eq!(client.request(get()).unwrap().status(), 200);

    // The fresh connection's SYN is dropped: the loop gives up after the timeout.
    let error = client.request(get()).unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::ConnectTimeout { timeout: t } if *t == timeout));
    assert!(error.is_retry_safe(), "nothing was sent");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert_eq!(client.connects(), 2);
    // One failure is this breaker's threshold: the next request fails at once, no connect.
    let error = client.request(get()).unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::BreakerOpen { .. }), "{error:?}");
    assert_eq!(client.connects(), 2);
    drop(client);
    server.join().unwrap();
}

#[test]
fn a_server_that_accepts_but_never_speaks_http2_counts_toward_the_breaker() {
    // A connect is a success only once the server's SETTINGS arrived (RFC 9113 §3.4): one
    // that accepts TCP and closes at once is as down as one that refuses.
    let _w = watchdog(30);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The first connection (made by `connect`), then the two fresh ones the breaker allows.
    let server = thread::spawn(move || listener.incoming().take(3).for_each(drop));
    let breaker = BreakerConfig { failure_threshold: 2, cool_down: Duration::from_secs(60) };
    let backoff = Backoff { base: Duration::from_millis(1), max: Duration::from_millis(2) };
    let client = Client::builder(addr).breaker(breaker).backoff(backoff).connect().unwrap();
    let mut open = None;
    for _ in 0..10 {
        match client.request(get()) {
            Err(e) if e.retry_after().is_some() => {
                open = Some(e);
                break;
            }
            Err(_) => {}
            Ok(response) => panic!("answered: {response:?}"),
        }
    }
    assert!(open.is_some(), "the breaker never opened");
    assert_eq!(client.connects(), 3, "the first connection and two failed handshakes");
    server.join().unwrap();
}

#[test]
fn the_breaker_opens_fails_fast_and_a_probe_closes_it_when_the_server_is_back() {
    let _w = watchdog(30);
    let server = TestServer::hello_echo(Config::default());
    let addr = server.addr;
    // Long enough that two back-to-back requests on a loaded CI machine fall within it.
    let cool_down = Duration::from_secs(3);
    let client = Client::builder(addr)
        .breaker(BreakerConfig { failure_threshold: 3, cool_down })
        .backoff(Backoff { base: Duration::from_millis(1), max: Duration::from_millis(4) })
        .connect()
        .unwrap();
    assert_eq!(client.request(get()).unwrap().body(), "hello");
    server.stop();

    // Down: each request (after a backoff of a few ms) tries a connect, which is refused.
    for _ in 0..3 {
        let error = client.request(get()).unwrap_err();
        assert!(refused(&error), "{error:?}");
        assert!(error.is_retry_safe());
    }
    assert_eq!(client.connects(), 4);

    // Three failures open the breaker: requests fail at once, and no connect is tried.
    let error = client.request(get()).unwrap_err();
    let retry_after = error.retry_after().expect("breaker open");
    assert!(retry_after <= cool_down, "{retry_after:?}");
    assert!(error.is_retry_safe());
    assert!(error.to_string().contains("circuit breaker open"), "{error}");
    assert_eq!(client.connects(), 4);

    // After the cool-down one probe goes; the server is still down, so it opens again.
    thread::sleep(retry_after);
    assert!(refused(&client.request(get()).unwrap_err()));
    assert_eq!(client.connects(), 5);
    let retry_after = client.request(get()).unwrap_err().retry_after().expect("open again");
    assert_eq!(client.connects(), 5);

    // Back on the same port: after the cool-down the probe connects and closes the breaker.
    let server = TestServer::start(Server::bind(addr).unwrap(), hello_echo);
    thread::sleep(retry_after);
    assert_eq!(client.request(get()).unwrap().body(), "hello");
    assert_eq!(client.request(get()).unwrap().body(), "hello");
    assert_eq!(client.connects(), 6, "the probe's connection serves what follows");

    // Closed, its count back at zero: down again, one failure does not open it.
    server.stop();
    assert!(refused(&client.request(get()).unwrap_err()));
    let error = client.request(get()).unwrap_err();
    assert!(refused(&error), "a connect is tried again: {error:?}");
    assert_eq!(client.connects(), 8);
}

#[test]
fn requests_wait_out_the_backoff_and_share_the_connect_that_follows() {
    let _w = watchdog(30);
    let server = TestServer::hello_echo(Config::default());
    let addr = server.addr;
    // A backoff of 3 to 6 s (jittered) after the first failure, so the restart below falls
    // well within it even on a loaded machine; no breaker.
    let backoff = Backoff { base: Duration::from_secs(6), max: Duration::from_secs(6) };
    let breaker = BreakerConfig { failure_threshold: 0, ..BreakerConfig::default() };
    let client = Client::builder(addr).backoff(backoff).breaker(breaker).connect().unwrap();
    assert_eq!(client.request(get()).unwrap().body(), "hello");
    server.stop();
    assert!(refused(&client.request(get()).unwrap_err()));

    // While the backoff runs the requests wait instead of connecting to a server that is
    // down (they would be refused); the server comes back meanwhile (a while later, well
    // within the backoff) and one connect, made when the backoff ends, serves them all.
    let (tx, rx) = mpsc::channel();
    for _ in 0..5 {
        let tx = tx.clone();
        client.send(get(), move |r| tx.send(r.map(|r| r.into_body())).unwrap());
    }
    thread::sleep(Duration::from_millis(300));
    let server = TestServer::start(Server::bind(addr).unwrap(), hello_echo);
    for _ in 0..5 {
        assert_eq!(rx.recv().unwrap().unwrap(), "hello");
    }
    assert_eq!(client.connects(), 3);
    drop(client);
    server.stop();
}

#[test]
fn keepalive_finds_an_idle_connection_dead_and_the_next_request_goes_on_a_fresh_one() {
    // RFC 9113 §6.7: the server stops answering PINGs while the connection is idle; the
    // keepalive closes it, so the next request is not sent into a connection that is dead.
    let _w = watchdog(30);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    let server = thread::spawn(move || {
        for silent in [true, false] {
            let (socket, _) = listener.accept().unwrap();
            let mut peer = RawPeer::new(socket, Connection::server(Config::default()));
            let events = peer.run_until(|e| matches!(e, Event::Request { .. }));
            let Some(Event::Request { stream_id, .. }) = events.last() else { unreachable!() };
            peer.conn.send_response(*stream_id, Response::new(()), true).unwrap();
            peer.flush();
            // Reads on, answers nothing (no PING ACK), until the client closes (the second
            // connection only at the end: its answer must not be lost to a reset).
            peer.silent_until_eof();
            if silent {
                tx.send(peer.conn.stats().pings_received).unwrap();
            }
        }
    });
    let client = Client::builder(addr)
        .keepalive(Some(Duration::from_millis(100)), Duration::from_millis(300))
        .connect()
        .unwrap();
    assert_eq!(client.request(get()).unwrap().status(), 200);
    let pings = rx.recv().unwrap();
    assert!(pings >= 1, "the client PINGed the idle connection before giving it up");
    assert_eq!(client.request(get()).unwrap().status(), 200);
    assert_eq!(client.connects(), 2);
    drop(client);
    server.join().unwrap();
}
