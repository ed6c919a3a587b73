//! The core's counters and windows reached from the tokio server: from a handler through
//! its request's `Interim` extension, and on `server::Connection`.

mod support;

use bytes::Bytes;
use h2proto_tokio::server::{Interim, Server};
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use support::*;

#[tokio::test]
async fn a_handler_reads_its_connections_stats_from_the_request() {
    within(async {
        let handler = |request: Request<RecvBody>| async move {
            let connection = request.extensions().get::<Interim>().unwrap().connection();
            // Read the body first: its bytes are then counted.
            let _ = request.into_body().collect().await.unwrap();
            let stats = connection.stats().await.expect("the connection is alive");
            let text = format!(
                "{} {} {} {}",
                stats.counters.streams_opened_remote,
                stats.counters.data_received,
                stats.peer_settings.initial_window_size,
                stats.active_streams,
            );
            Response::new(Full::new(Bytes::from(text)))
        };
        let addr = serve(Config::default(), handler).await;
        let (send, _conn) = connect(addr, small_windows()).await;
        for (n, expected) in [(1, "1 1000 16384 1"), (2, "2 2000 16384 1")] {
            let request = Request::post(url(addr, "/")).body(Full::new(pattern(1000))).unwrap();
            let body = send.send_request(request).await.unwrap().into_body();
            let body = body.collect().await.unwrap().to_bytes();
            assert_eq!(body, expected, "request {n}: streams, DATA, peer window, open");
        }
    })
    .await
}

#[tokio::test]
async fn a_server_connection_reports_its_stats_and_send_window() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let (send, conn) = connect(addr, small_windows()).await;
            let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
            let response = send.send_request(request).await.unwrap();
            // The body takes part of the client's windows, and is not read.
            let body = response.into_body();
            (send, conn, body)
        });
        let (tcp, _) = listener.accept().await.unwrap();
        let handler = |_request: Request<RecvBody>| async {
            Response::new(Full::new(Bytes::from(vec![1u8; 10_000])))
        };
        let mut connection = Server::default().handshake(tcp, handler);
        let before = connection.stats();
        assert_eq!(before.counters.streams_opened_remote, 0);
        let (_send, _conn, _body) = tokio::select! {
            done = client => done.unwrap(),
            _ = &mut connection => panic!("the connection ended early"),
        };
        // Let the connection write the body and take in the client's frames.
        while connection.stats().counters.data_sent < 10_000 {
            tokio::select! {
                _ = &mut connection => panic!("the connection ended early"),
                () = tokio::task::yield_now() => {}
            }
        }
        let stats = connection.stats();
        assert_eq!(stats.counters.streams_opened_remote, 1);
        assert_eq!(stats.counters.data_sent, 10_000);
        // RFC 9113 §6.9.1: the connection window starts at 65,535; the unread body holds it.
        assert_eq!(stats.send_window, 65_535 - 10_000);
        assert_eq!(stats.peer_settings.initial_window_size, 16 << 10);
        // The handle answers the same from another task.
        let handle = connection.handle();
        let from_handle = tokio::spawn(async move { handle.stats().await });
        let from_handle = tokio::select! {
            stats = from_handle => stats.unwrap().unwrap(),
            _ = &mut connection => panic!("the connection ended early"),
        };
        assert_eq!(from_handle.counters.data_sent, 10_000);
    })
    .await
}

#[tokio::test]
async fn a_ping_from_the_server_reports_its_round_trip_time() {
    within(async {
        let handler = |request: Request<RecvBody>| async move {
            let connection = request.extensions().get::<Interim>().unwrap().connection();
            assert_eq!(connection.stats().await.unwrap().rtt, None, "no PING answered yet");
            // RFC 9113 §6.7: the client answers the PING with an ACK.
            let rtt = connection.ping().await.expect("the client answered");
            let stats = connection.stats().await.unwrap();
            assert_eq!(stats.rtt, Some(rtt));
            assert!(stats.counters.frames_sent >= 2, "SETTINGS and PING: {stats:?}");
            Response::new(Full::new(Bytes::new()))
        };
        let addr = serve(Config::default(), handler).await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let request = Request::get(url(addr, "/")).body(Empty::<Bytes>::new()).unwrap();
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200, "the handler's checks held");
    })
    .await
}
