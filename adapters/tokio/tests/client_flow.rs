//! Receive flow control on the client (RFC 9113 §6.9): the connection credit of bodies
//! that ended is returned as the application reads them, summed over the connection's
//! bodies rather than one message each, so responses far beyond the connection window
//! all arrive, one after another and many at once.

mod support;

use bytes::Bytes;
use h2proto_tokio::{Config, RecvBody};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use support::*;

/// A client whose connection window is the protocol's initial 65,535 bytes.
fn small_connection_window() -> Config {
    let mut config = Config::default();
    config.initial_connection_window_size = 65_535;
    config
}

async fn fetch(send: &h2proto_tokio::client::SendRequest, url: &str) -> usize {
    let request = Request::get(url).body(Empty::<Bytes>::new()).unwrap();
    let response = send.send_request(request).await.unwrap();
    response.into_body().collect().await.unwrap().to_bytes().len()
}

#[tokio::test]
async fn ended_bodies_return_their_connection_credit() {
    within(async {
        let addr = serve(Config::default(), |_: Request<RecvBody>| async {
            Response::new(Full::new(pattern(4_000)))
        })
        .await;
        let (send, _conn) = connect(addr, small_connection_window()).await;
        let url = url(addr, "/");
        // 400 KB in sequence through a 64 KiB connection window.
        for _ in 0..100 {
            assert_eq!(fetch(&send, &url).await, 4_000);
        }
        // And 50 at once, read concurrently.
        let all = (0..50).map(|_| fetch(&send, &url));
        let sizes = futures_util::future::join_all(all).await;
        assert!(sizes.iter().all(|n| *n == 4_000), "{sizes:?}");
        let stats = send.stats().await.unwrap();
        assert_eq!(stats.counters.data_received, 150 * 4_000);
    })
    .await
}

#[tokio::test]
async fn unread_bodies_hold_the_connection_window_until_dropped() {
    within(async {
        let addr = serve(Config::default(), |_: Request<RecvBody>| async {
            Response::new(Full::new(pattern(30_000)))
        })
        .await;
        let (send, _conn) = connect(addr, small_connection_window()).await;
        let url = url(addr, "/");
        // Two bodies held unread: 60,000 of the 65,535 bytes the server may send.
        let mut held = Vec::new();
        for _ in 0..2 {
            let request = Request::get(&url).body(Empty::<Bytes>::new()).unwrap();
            held.push(send.send_request(request).await.unwrap());
        }
        let request = Request::get(&url).body(Empty::<Bytes>::new()).unwrap();
        let third = send.send_request(request).await.unwrap();
        let mut body = third.into_body();
        // At most 5,535 bytes of the third can come before credit is returned.
        let mut got = 0;
        while got < 5_535 {
            let frame = body.frame().await.unwrap().unwrap();
            got += frame.data_ref().map_or(0, |d| d.len());
        }
        let stalled =
            tokio::time::timeout(std::time::Duration::from_millis(200), body.frame()).await;
        assert!(stalled.is_err(), "the window is exhausted: nothing more may arrive");
        // Dropping the unread bodies returns their credit: the rest arrives.
        drop(held);
        let rest = body.collect().await.unwrap().to_bytes().len();
        assert_eq!(got + rest, 30_000);
    })
    .await
}
