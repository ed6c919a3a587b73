//! Requests the server did not process are reported as safe to retry (RFC 9113 §8.7):
//! REFUSED_STREAM, and streams above a GOAWAY's last stream id. The server here is a raw
//! frame-level peer, so the refusal is exact and not a race.

mod support;

use bytes::{Bytes, BytesMut};
use h2proto::frame::{Frame, FrameDecoder, GoAway, RstStream, Settings, StreamId};
use h2proto::{ErrorCode, PREFACE};
use http::Request;
use http_body_util::Empty;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Accepts one client, completes the handshake, waits for its first request's HEADERS
/// and answers with `answer`; then keeps the connection open, reading.
async fn raw_server(answer: Frame) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut preface = [0u8; 24];
        tcp.read_exact(&mut preface).await.unwrap();
        assert_eq!(&preface, PREFACE);
        send(&mut tcp, Frame::Settings(Settings::new())).await;
        send(&mut tcp, Frame::Settings(Settings::ack())).await;
        let mut decoder = FrameDecoder::new();
        let mut buf = vec![0u8; 16 << 10];
        let mut answered = false;
        loop {
            let n = tcp.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                return;
            }
            decoder.extend(&buf[..n]);
            while let Some(frame) = decoder.next_frame().unwrap() {
                if matches!(frame, Frame::Headers(_)) && !answered {
                    answered = true;
                    send(&mut tcp, answer.clone()).await;
                }
            }
        }
    });
    addr
}

async fn send(tcp: &mut TcpStream, frame: Frame) {
    let mut wire = BytesMut::new();
    frame.encode(&mut wire);
    tcp.write_all(&wire).await.unwrap();
}

#[tokio::test]
async fn refused_stream_is_retryable() {
    within(async {
        let addr =
            raw_server(Frame::RstStream(RstStream::new(StreamId(1), ErrorCode::REFUSED_STREAM)))
                .await;
        let (send, _conn) = connect(addr, h2proto_tokio::Config::default()).await;
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        let error = send.send_request(request).await.unwrap_err();
        assert!(error.is_retryable(), "{error}");
        assert_eq!(error.reset_code(), Some(ErrorCode::REFUSED_STREAM));
    })
    .await;
}

#[tokio::test]
async fn goaway_below_the_stream_is_retryable_and_so_are_later_requests() {
    within(async {
        let goaway = Frame::GoAway(GoAway::new(StreamId(0), ErrorCode::NO_ERROR));
        let addr = raw_server(goaway).await;
        let (send, _conn) = connect(addr, h2proto_tokio::Config::default()).await;
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        let error = send.send_request(request).await.unwrap_err();
        assert!(error.is_retryable(), "stream 1 is above last_stream_id 0: {error}");
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        let error = send.send_request(request).await.unwrap_err();
        assert!(error.is_retryable(), "after GOAWAY nothing is sent: {error}");
        assert!(error.to_string().contains("retry"), "the message says so: {error}");
    })
    .await;
}
