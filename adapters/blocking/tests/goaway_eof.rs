//! RFC 9113 §5.4.1: an endpoint that ends a connection with an error sends GOAWAY and then
//! closes the transport. A server that does so while our request (at or below its
//! last_stream_id) is still open ends that request with the error it announced, not with
//! a bare "the peer closed the connection" that would hide its reason.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{Frame, GoAway, StreamId};
use h2proto::{ConnectionErrorKind, Initiator};
use h2proto_blocking::{Client, Error, ErrorCode};
use http::Request;
use std::io::Write;
use support::*;

#[test]
fn eof_after_an_error_goaway_fails_the_open_request_with_the_servers_error() {
    let _w = watchdog(30);
    // Reads the request's HEADERS, answers GOAWAY(last_stream_id 1, INTERNAL_ERROR,
    // "boom"), then FIN; what the client still writes is read and dropped, so the close is
    // not turned into a reset that could discard the GOAWAY.
    let (addr, server) = one_connection_server(|mut peer| {
        let id = peer.next_request();
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
    let typed = blocking_error(&error);
    let Error::Connection(e) = typed else { panic!("{typed:?}") };
    assert_eq!(
        (e.code, e.initiator, e.kind),
        (ErrorCode::INTERNAL_ERROR, Initiator::Remote, ConnectionErrorKind::GoAway)
    );
    assert_eq!(e.reason, "boom");
    assert!(!typed.is_retry_safe(), "stream 1 may have been processed: {typed:?}");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionAborted);
    assert_eq!(server.join().unwrap(), StreamId(1));
}
