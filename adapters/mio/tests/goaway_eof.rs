//! RFC 9113 §5.4.1: an endpoint that ends a connection with an error sends GOAWAY and then
//! closes the transport. A server that does so while our request (at or below its
//! last_stream_id) is still open ends that request with the error it announced, not with
//! a bare end of file that would hide its reason.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{Frame, GoAway, StreamId};
use h2proto::{Connection, ConnectionErrorKind, ErrorCode, Event, Initiator};
use h2proto_mio::{Client, Config, ErrorKind};
use http::Request;
use std::io::Write;
use std::net::TcpListener;
use std::thread;
use support::*;

#[test]
fn eof_after_an_error_goaway_fails_the_open_request_with_the_servers_error() {
    let _w = watchdog(30);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Reads the request's HEADERS, answers GOAWAY(last_stream_id 1, INTERNAL_ERROR,
    // "boom"), then FIN; what the client still writes is read and dropped, so the close is
    // not turned into a reset that could discard the GOAWAY.
    let server = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let mut peer = RawPeer::new(socket, Connection::server(Config::default()));
        let mut id = None;
        peer.run_until(|e| match e {
            Event::Request { stream_id, .. } => {
                id = Some(*stream_id);
                true
            }
            _ => false,
        });
        let mut wire = BytesMut::new();
        Frame::GoAway(GoAway {
            last_stream_id: StreamId(1),
            error_code: ErrorCode::INTERNAL_ERROR,
            debug_data: Bytes::from_static(b"boom"),
        })
        .encode(&mut wire);
        peer.socket.write_all(&wire).unwrap();
        peer.close_gracefully();
        id
    });
    let client = Client::connect(addr).unwrap();
    let error = client.request(Request::get("/").body(Bytes::new()).unwrap()).unwrap_err();
    let ErrorKind::Connection(e) = error.kind() else { panic!("{error:?}") };
    assert_eq!(
        (e.code, e.initiator, e.kind),
        (ErrorCode::INTERNAL_ERROR, Initiator::Remote, ConnectionErrorKind::GoAway)
    );
    assert_eq!(e.reason, "boom");
    assert!(!error.is_retry_safe(), "stream 1 may have been processed: {error:?}");
    assert_eq!(client.retries(), 0, "not sent again");
    drop(client);
    assert_eq!(server.join().unwrap(), Some(StreamId(1)));
}
