//! RFC 9113 §5.4.1: an endpoint that ends a connection with an error sends GOAWAY and then
//! closes the transport. A server that does so while our request (at or below its
//! last_stream_id) is still open ends that request with the error it announced, not with
//! a bare "connection closed" that would hide its reason; the connection ends with it too.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{Frame, FrameDecoder, GoAway, Settings, StreamId};
use h2proto::{ConnectionErrorKind, ErrorCode, Initiator, PREFACE};
use h2proto_tokio::ErrorKind;
use http::Request;
use http_body_util::Empty;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Accepts one client, completes the handshake, waits for its first HEADERS, answers with
/// GOAWAY(last_stream_id 1, INTERNAL_ERROR, "boom") and closes the connection.
async fn goaway_then_close() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut preface = [0u8; 24];
        tcp.read_exact(&mut preface).await.unwrap();
        assert_eq!(&preface, PREFACE);
        let mut wire = BytesMut::new();
        Frame::Settings(Settings::new()).encode(&mut wire);
        Frame::Settings(Settings::ack()).encode(&mut wire);
        tcp.write_all(&wire).await.unwrap();
        let mut decoder = FrameDecoder::new();
        let mut buf = vec![0u8; 16 << 10];
        loop {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client left before its request");
            decoder.extend(&buf[..n]);
            let mut headers = false;
            while let Some(frame) = decoder.next_frame().unwrap() {
                headers |= matches!(frame, Frame::Headers(_));
            }
            if headers {
                break;
            }
        }
        let mut wire = BytesMut::new();
        Frame::GoAway(GoAway {
            last_stream_id: StreamId(1),
            error_code: ErrorCode::INTERNAL_ERROR,
            debug_data: Bytes::from_static(b"boom"),
        })
        .encode(&mut wire);
        tcp.write_all(&wire).await.unwrap();
        // FIN after the GOAWAY; what the client still writes is read and dropped, so the
        // close is not turned into a reset that could discard the GOAWAY.
        tcp.shutdown().await.unwrap();
        while tcp.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    });
    addr
}

#[tokio::test]
async fn eof_after_an_error_goaway_fails_the_open_request_with_the_servers_error() {
    within(async {
        let addr = goaway_then_close().await;
        let (send, connection) = connect(addr, h2proto_tokio::Config::default()).await;
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        let error = send.send_request(request).await.expect_err("no response came");
        let ErrorKind::Connection(e) = error.kind() else { panic!("{error:?}") };
        assert_eq!(
            (e.code, e.initiator, e.kind),
            (ErrorCode::INTERNAL_ERROR, Initiator::Remote, ConnectionErrorKind::GoAway)
        );
        assert_eq!(e.reason, "boom");
        assert!(!error.is_retryable(), "stream 1 may have been processed: {error:?}");
        let ended = connection.await.unwrap().expect_err("the connection ended with the error");
        assert!(
            matches!(ended.kind(), ErrorKind::Connection(c) if c.code == ErrorCode::INTERNAL_ERROR)
        );
    })
    .await
}
