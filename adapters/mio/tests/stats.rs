//! The core's counters of a running server, through `ServerStats::core`: the live
//! connections' and, once they end, kept in the total.

mod support;

use bytes::Bytes;
use h2proto_mio::{Client, Server};
use http::Request;
use std::time::{Duration, Instant};
use support::{TestServer, hello_echo, watchdog};

#[test]
fn core_counters_cover_live_and_ended_connections() {
    let _w = watchdog(30);
    let server = Server::bind("127.0.0.1:0").unwrap().threads(2);
    let stats = server.stats();
    let server = TestServer::start(server, hello_echo);

    let client = Client::connect(server.addr).unwrap();
    for _ in 0..10 {
        let response = client.request(Request::get("/").body(Bytes::new()).unwrap()).unwrap();
        assert_eq!(response.body(), "hello");
    }
    let live = stats.core();
    assert_eq!(live.streams_opened_remote, 10, "{live:?}");
    assert_eq!((live.data_received, live.data_sent), (0, 50), "{live:?}");
    assert!(live.frames_received >= 10 && live.frames_sent >= 10, "{live:?}");

    // The first connection ends; its counts stay in the total.
    drop(client);
    let deadline = Instant::now() + Duration::from_secs(5);
    while stats.connections() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(stats.connections(), 0);
    let client = Client::connect(server.addr).unwrap();
    for _ in 0..5 {
        let body = Bytes::from(vec![7; 1000]);
        let response = client.request(Request::post("/echo").body(body.clone()).unwrap()).unwrap();
        assert_eq!(response.body(), &body);
    }
    let total = stats.core();
    assert_eq!(total.streams_opened_remote, 15, "{total:?}");
    assert_eq!((total.data_received, total.data_sent), (5000, 5050), "{total:?}");
    assert_eq!(total.resets_received + total.resets_sent_local + total.glitches, 0, "{total:?}");
    drop(client);
    server.stop();
}
