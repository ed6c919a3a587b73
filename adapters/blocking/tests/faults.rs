//! Misbehaving peers, played by a hand-driven h2proto core over raw TCP: silence after the
//! handshake, vanishing mid-stream, refusing streams. Errors must surface; nothing hangs.

mod support;

use bytes::Bytes;
use h2proto::frame::StreamId;
use h2proto::{Connection, Event};
use h2proto_blocking::{Body, Client, Config, Error, RequestBody};
use http::{Request, Response};
use std::io::{self, Read};
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;
use support::*;

fn keepalive() -> Config {
    let mut c = Config::default();
    c.keepalive_interval = Some(Duration::from_millis(100));
    c.keepalive_timeout = Duration::from_millis(200);
    c
}

fn connection_error(e: &io::Error) -> Option<h2proto::ConnectionError> {
    match e.get_ref()?.downcast_ref::<Error>()? {
        Error::Connection(c) => Some(c.clone()),
        _ => None,
    }
}

#[test]
fn server_closes_a_connection_whose_peer_goes_silent() {
    // RFC 9113 §6.7: the server PINGs an idle peer; with no ACK within the keepalive
    // timeout it closes the connection with GOAWAY.
    let _w = watchdog(30);
    let server = TestServer::start(keepalive(), 1, hello_echo);
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
    let (addr, silent) = one_connection_server(|mut peer| {
        peer.run_until(|e| matches!(e, Event::Request { .. }));
        peer.silent_until_eof()
    });
    let client = Client::connect_with(addr, keepalive()).unwrap();
    let error = client.request(Request::get("/").body(()).unwrap()).unwrap_err();
    let conn = connection_error(&error).unwrap_or_else(|| panic!("{error:?}"));
    assert_eq!(conn.reason, "keepalive PING not answered");
    assert!(conn.is_keepalive_timeout(), "typed: {conn:?}");
    assert!(error.to_string().contains("keepalive timeout"), "{error}");
    let typed = blocking_error(&error);
    assert!(!typed.is_retry_safe(), "the request was in flight: it may have been processed");
    // The client closed the transport.
    silent.join().unwrap();
}

#[test]
fn client_body_fails_when_the_server_vanishes_mid_stream() {
    let _w = watchdog(30);
    let (addr, _server) = one_connection_server(|mut peer| {
        let events = peer.run_until(|e| matches!(e, Event::Request { .. }));
        let Some(Event::Request { stream_id, .. }) = events.last() else { unreachable!() };
        let id = *stream_id;
        peer.conn.send_response(id, Response::new(()), false).unwrap();
        peer.conn.send_data(id, Bytes::from(vec![b'x'; 1000]), false).unwrap();
        peer.flush();
        // Gone, mid-body.
    });
    let client = Client::connect(addr).unwrap();
    let response = client.request(Request::get("/").body(()).unwrap()).unwrap();
    let mut body = response.into_body();
    let mut first = vec![0; 1000];
    body.read_exact(&mut first).unwrap();
    // EOF, or a TCP reset if the vanished peer left bytes unread: an error either way.
    let error = body.read_to_vec().unwrap_err();
    let vanished = [io::ErrorKind::UnexpectedEof, io::ErrorKind::ConnectionReset];
    assert!(vanished.contains(&error.kind()), "{error}");
    // The next request goes to a fresh connection: refused, the server is gone.
    let error = client.request(Request::get("/").body(()).unwrap()).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    assert_eq!(client.connects(), 1);
}

#[test]
fn server_handler_sees_an_error_when_the_client_vanishes_mid_upload() {
    let _w = watchdog(30);
    let (seen_tx, seen) = mpsc::channel();
    let seen_tx = Mutex::new(seen_tx);
    let server = TestServer::start(Config::default(), 1, move |req: Request<RequestBody>| {
        let result = req.into_body().read_to_vec();
        seen_tx.lock().unwrap().send(result.map_err(|e| e.kind())).unwrap();
        Response::new(Body::empty())
    });
    let socket = TcpStream::connect(server.addr).unwrap();
    let mut peer = RawPeer::new(socket, Connection::client(Config::default()));
    peer.run_until(|e| matches!(e, Event::SettingsAcked));
    let request = Request::post(format!("http://{}/upload", server.addr)).body(()).unwrap();
    let id = peer.conn.send_request(request, false).unwrap();
    peer.conn.send_data(id, Bytes::from(vec![b'x'; 5000]), false).unwrap();
    peer.flush();
    drop(peer);
    // EOF, or a TCP reset if the vanished peer left bytes unread: an error either way.
    let kind = seen.recv().unwrap().unwrap_err();
    assert!(
        matches!(kind, io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset),
        "{kind}"
    );
    server.stop();
}

#[test]
fn refused_streams_are_sent_again() {
    // RFC 9113 §8.7: a stream refused with REFUSED_STREAM was not processed; a request
    // whose body is in memory is retried on a new stream, invisibly to the caller.
    let _w = watchdog(30);
    let (addr, server) = one_connection_server(|mut peer| {
        let mut bodies = Vec::new();
        for _ in 0..2 {
            let mut id = StreamId::ZERO;
            peer.run_until(|e| match e {
                Event::Request { stream_id, .. } => {
                    id = *stream_id;
                    false
                }
                Event::Data { end_stream: true, .. } => true,
                _ => false,
            });
            let mut body = Vec::new();
            while let Some(chunk) = peer.conn.read_data(id) {
                body.extend_from_slice(&chunk);
            }
            bodies.push((id, body));
            if bodies.len() == 1 {
                peer.refuse(id);
            } else {
                peer.conn.send_response(id, Response::new(()), false).unwrap();
                peer.conn.send_data(id, Bytes::from_static(b"second try"), true).unwrap();
                peer.flush();
            }
        }
        peer.silent_until_eof();
        bodies
    });
    let client = Client::connect(addr).unwrap();
    let response = client.request(Request::post("/").body("payload").unwrap()).unwrap();
    assert_eq!(response.into_body().read_to_vec().unwrap(), b"second try");
    drop(client);
    let bodies = server.join().unwrap();
    assert_eq!(bodies, [(StreamId(1), b"payload".to_vec()), (StreamId(3), b"payload".to_vec())]);
}
