//! The adapter's timers follow tokio's clock (issue 16): a user's tests with paused time
//! (`tokio::time::pause`, `start_paused`) drive the core's deadlines too, as they drive
//! `tokio::time::sleep`. Here the server's idle timeout (60 s) ends a connection after 61
//! virtual seconds, which take no real time; were the adapter reading the system clock,
//! the core would see no time pass and keep the connection open.

use bytes::Bytes;
use h2proto_tokio::{Config, RecvBody, client, server::Server};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn the_idle_timeout_runs_on_tokios_paused_clock() {
    let (client_io, server_io) = tokio::io::duplex(64 << 10);
    let mut config = Config::default();
    config.idle_timeout = Some(Duration::from_secs(60));
    let served =
        tokio::spawn(Server::new(config).handshake(server_io, |_: Request<RecvBody>| async {
            Response::new(Full::new(Bytes::from_static(b"hello")))
        }));
    let (send, connection) = client::handshake(client_io);
    tokio::spawn(connection);
    let request = Request::get("http://localhost/").body(Empty::<Bytes>::new()).unwrap();
    let response = send.send_request(request).await.unwrap();
    assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hello");

    // Well inside the idle timeout: the connection stays.
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(!served.is_finished(), "closed after 30 of its 60 idle seconds");
    // Past it: the server ends the connection (GOAWAY NO_ERROR), at once in real time.
    tokio::time::sleep(Duration::from_secs(31)).await;
    let ended = tokio::time::timeout(Duration::from_secs(1), served).await;
    // The server's connection future has ended (its result may be a broken pipe: the
    // client closes its end as soon as it has the GOAWAY and no streams are left).
    assert!(matches!(ended, Ok(Ok(_))), "the idle connection was not closed: {ended:?}");
    assert!(send.is_closed(), "the client saw the server's GOAWAY");
}
