//! What the client's `SendRequest` tells about its connection: the core's counters and
//! windows (`stats`), and PING round trips (`ping`, RFC 9113 §6.7) as the core measures
//! them (`Connection::rtt`), the same as the server's `ConnectionHandle`.

mod support;

use bytes::Bytes;
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use support::*;

fn get(addr: std::net::SocketAddr) -> Request<Empty<Bytes>> {
    Request::get(url(addr, "/")).body(Empty::new()).unwrap()
}

#[tokio::test]
async fn the_client_reads_its_connections_counters_and_windows() {
    within(async {
        let mut server = Config::default();
        server.initial_stream_window_size = 100_000;
        server.initial_connection_window_size = 200_000;
        let addr = serve(server, |_: Request<RecvBody>| async {
            Response::new(Full::new(pattern(10_000)))
        })
        .await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let response = send.send_request(get(addr)).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 10_000);
        let stats = send.stats().await.expect("the connection is alive");
        assert_eq!(stats.counters.data_received, 10_000);
        assert_eq!(stats.counters.streams_opened_local, 1);
        assert_eq!(stats.active_streams, 0, "the stream ended");
        // RFC 9113 §6.9.2: the server's SETTINGS_INITIAL_WINDOW_SIZE; the connection
        // window raised by its WINDOW_UPDATE, untouched since (the client sent no DATA).
        assert_eq!(stats.peer_settings.initial_window_size, 100_000);
        assert_eq!(stats.send_window, 200_000);
        // Ours: the client's 4 MiB connection window less the 10,000 bytes received (read,
        // but too few for a WINDOW_UPDATE yet).
        assert_eq!(stats.recv_window, (4 << 20) - 10_000);
        assert!(!stats.going_away);
    })
    .await
}

#[tokio::test]
async fn a_ping_from_the_client_reports_the_cores_round_trip_time() {
    within(async {
        let addr = serve(Config::default(), |_: Request<RecvBody>| async {
            Response::new(Full::new(Bytes::new()))
        })
        .await;
        let (send, _conn) = connect(addr, Config::default()).await;
        let response = send.send_request(get(addr)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(send.stats().await.unwrap().rtt, None, "no PING answered yet");
        // RFC 9113 §6.7: the server answers with an ACK carrying the same payload.
        let rtt = send.ping().await.expect("the server answered");
        assert!(rtt > std::time::Duration::ZERO, "a round trip takes time: {rtt:?}");
        let stats = send.stats().await.unwrap();
        assert_eq!(stats.rtt, Some(rtt), "one measurement: the core's");
        let second = send.ping().await.expect("answered again");
        assert_eq!(send.stats().await.unwrap().rtt, Some(second), "the latest sample");
    })
    .await
}

#[tokio::test]
async fn stats_and_ping_of_an_ended_connection_are_none() {
    within(async {
        let addr = serve(Config::default(), |_: Request<RecvBody>| async {
            Response::new(Full::new(Bytes::new()))
        })
        .await;
        let (send, conn) = connect(addr, Config::default()).await;
        conn.abort();
        let _ = conn.await;
        assert!(send.stats().await.is_none());
        assert!(send.ping().await.is_none());
    })
    .await
}
