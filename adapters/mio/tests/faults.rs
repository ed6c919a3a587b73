//! Misbehaving peers, played by a hand-driven h2proto core over raw TCP: silence after the
//! handshake, vanishing mid-stream. Errors must surface; the loop never stalls.

mod support;

use bytes::Bytes;
use h2proto::{Connection, ConnectionErrorKind, Event};
use h2proto_mio::{Client, Config, ErrorKind};
use http::{Request, Response};
use std::io;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;
use support::*;

fn keepalive() -> Config {
    let mut c = Config::default();
    c.keepalive_interval = Some(Duration::from_millis(100));
    c.keepalive_timeout = Duration::from_millis(200);
    c
}

fn get() -> Request<Bytes> {
    Request::get("/").body(Bytes::new()).unwrap()
}

#[test]
fn server_closes_a_connection_whose_peer_goes_silent() {
    // RFC 9113 §6.7: an unanswered keepalive PING closes the connection with GOAWAY.
    let _w = watchdog(30);
    let server = TestServer::hello_echo(keepalive());
    let socket = TcpStream::connect(server.addr).unwrap();
    let mut peer = RawPeer::new(socket, Connection::client(Config::default()));
    peer.run_until(|e| matches!(e, Event::SettingsAcked));
    let events = peer.silent_until_eof();
    let goaway = events.iter().find_map(|e| match e {
        Event::GoAway { debug_data, .. } => Some(debug_data.clone()),
        _ => None,
    });
    assert_eq!(goaway.as_deref(), Some(&b"keepalive PING not answered"[..]), "{events:?}");
    server.stop();
}

#[test]
fn client_request_fails_when_the_server_goes_silent() {
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let mut peer = RawPeer::new(socket, Connection::server(Config::default()));
        peer.run_until(|e| matches!(e, Event::Request { .. }));
        peer.silent_until_eof()
    });
    let client = Client::connect_with(addr, keepalive()).unwrap();
    let error = client.request(get()).unwrap_err();
    let ended = error.connection_error().map(|e| e.kind);
    assert_eq!(ended, Some(ConnectionErrorKind::KeepaliveTimeout), "{error:?}");
    assert!(error.to_string().contains("keepalive PING not answered"), "{error}");
    // The request was on the wire when the server went silent: it may have been processed,
    // so it is not sent again (RFC 9113 §8.7).
    assert!(!error.is_retry_safe());
    assert_eq!(client.retries(), 0);
    silent.join().unwrap();
}

#[test]
fn client_request_fails_when_the_server_vanishes_mid_stream() {
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let vanishing = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let mut peer = RawPeer::new(socket, Connection::server(Config::default()));
        let events = peer.run_until(|e| matches!(e, Event::Request { .. }));
        let Some(Event::Request { stream_id, .. }) = events.last() else { unreachable!() };
        let id = *stream_id;
        peer.conn.send_response(id, Response::new(()), false).unwrap();
        peer.conn.send_data(id, Bytes::from(vec![b'x'; 1000]), false).unwrap();
        peer.flush();
    });
    let client = Client::connect(addr).unwrap();
    // EOF, or a TCP reset if the vanished peer left bytes unread: an error either way, and
    // one that may have been processed (its response had begun), so it is not retried.
    let error = client.request(get()).unwrap_err();
    let ErrorKind::Io(cause) = error.kind() else { panic!("{error:?}") };
    let vanished = [io::ErrorKind::UnexpectedEof, io::ErrorKind::ConnectionReset];
    assert!(vanished.contains(&cause.kind()), "{error}");
    assert!(!error.is_retry_safe());
    vanishing.join().unwrap();
    // The next request gets a fresh connection, which nobody accepts any more: a connect
    // error (nothing sent), not retried.
    let error = client.request(get()).unwrap_err();
    let ErrorKind::Connect(cause) = error.kind() else { panic!("{error:?}") };
    assert_eq!(cause.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    assert!(error.is_retry_safe());
    assert_eq!((client.connects(), client.retries()), (2, 0));
}

#[test]
fn server_loop_carries_on_when_a_client_vanishes_mid_upload() {
    let _w = watchdog(30);
    let server = TestServer::hello_echo(Config::default());
    for _ in 0..10 {
        let socket = TcpStream::connect(server.addr).unwrap();
        let mut peer = RawPeer::new(socket, Connection::client(Config::default()));
        peer.run_until(|e| matches!(e, Event::SettingsAcked));
        let request = Request::post(format!("http://{}/echo", server.addr)).body(()).unwrap();
        let id = peer.conn.send_request(request, false).unwrap();
        peer.conn.send_data(id, Bytes::from(vec![b'x'; 5000]), false).unwrap();
        peer.flush();
    }
    // The ten half-uploads are gone; the loop serves others and shuts down promptly (it
    // waits for every connection it still holds).
    let client = Client::connect(server.addr).unwrap();
    assert_eq!(client.request(get()).unwrap().body(), "hello");
    drop(client);
    server.stop();
}
