//! Reconnecting to a server that cannot be reached: the connect is bounded by the client's
//! connect timeout and made without the client's lock, so a request fails in time with a
//! typed error and no other caller is stuck behind it.

mod support;

use h2proto_blocking::{Client, Error, Server};
use http::{Request, Response};
use socket2::{Domain, Socket, Type};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;
use support::*;

const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// A listener with a backlog of one connection: once one waits in it unaccepted, the
/// kernel drops further SYNs and a connect hangs, as to a blackholed address.
fn tiny_backlog() -> TcpListener {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&addr.into()).unwrap();
    socket.listen(0).unwrap();
    socket.into()
}

#[test]
fn a_reconnect_to_an_unreachable_server_times_out_and_blocks_no_other_caller() {
    let _w = watchdog(60);
    let listener = tiny_backlog();
    let addr = listener.local_addr().unwrap();
    let client = Client::builder().connect_timeout(CONNECT_TIMEOUT).connect(addr).unwrap();
    let (first, _) = listener.accept().unwrap();
    // Fill the backlog, and check that a connect now hangs.
    let filler = TcpStream::connect(addr).unwrap();
    let probe = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).unwrap_err();
    assert_eq!(probe.kind(), io::ErrorKind::TimedOut, "the listener must drop SYNs: {probe}");

    // The server closes the connection: the next request needs a new one.
    drop(first);
    while client.stats().is_some() {
        thread::sleep(Duration::from_millis(5));
    }
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            thread::spawn(move || client.request(Request::get("/").body(()).unwrap()).unwrap_err())
        })
        .collect();
    // The lock is free while they connect: the client answers.
    assert!(client.stats().is_none());
    assert_eq!(client.connects(), 1);
    for caller in callers {
        let error = caller.join().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        let error = blocking_error(&error);
        assert!(
            matches!(error, Error::Connect(e) if e.kind() == io::ErrorKind::TimedOut),
            "{error:?}"
        );
        assert!(error.is_retry_safe(), "nothing was sent");
    }
    assert_eq!(client.connects(), 1);

    // The server is back (the backlog has room again): the next request connects and is
    // answered; a failed connect leaves nothing behind.
    let (waiting, _) = listener.accept().unwrap();
    assert_eq!(waiting.peer_addr().unwrap(), filler.local_addr().unwrap());
    drop((waiting, filler));
    let server = Server::from_listener(listener).unwrap();
    let stop = server.shutdown_handle();
    let serving = thread::spawn(move || server.serve(|_| Response::new("back")));
    let response = client.request(Request::get("/").body(()).unwrap()).unwrap();
    assert_eq!(response.into_body().read_to_vec().unwrap(), b"back");
    assert_eq!(client.connects(), 2);
    drop(client);
    stop.shutdown();
    serving.join().unwrap().unwrap();
}
