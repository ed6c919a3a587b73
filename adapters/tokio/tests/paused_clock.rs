//! The adapter's timers follow tokio's clock (issue 16): a user's tests with paused time
//! (`tokio::time::pause`, `start_paused`) drive the core's deadlines too, as they drive
//! `tokio::time::sleep`. Here the server's idle timeout (60 s; the check is coarse, so it
//! fires between 60 and 120 s after the last activity, see `Config::idle_timeout`) ends a
//! connection within 121 virtual seconds, which take no real time; were the adapter
//! reading the system clock, the core would see no time pass and keep the connection open.
//!
//! An idle close is graceful (RFC 9113 §6.8: GOAWAY NO_ERROR, no stream open), so the
//! server's connection future ends `Ok` whichever side closes first, also when the client
//! leaves right after its GOAWAY and the server's answering GOAWAY meets a broken pipe
//! (over an in-memory pipe) or a closed socket (over TCP).

mod support;

use bytes::Bytes;
use h2proto_tokio::{Config, RecvBody, client, server::Server};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use std::time::Duration;
use support::within;
use tokio::io::{AsyncRead, AsyncWrite};

async fn hello(_: Request<RecvBody>) -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(b"hello")))
}

/// A client config that never closes an idle connection itself.
fn patient_client() -> Config {
    let mut config = Config::default();
    config.idle_timeout = None;
    config
}

fn idle_after(seconds: u64) -> Config {
    let mut config = Config::default();
    config.idle_timeout = Some(Duration::from_secs(seconds));
    config
}

/// Opens a client over `io`, completes one request, and returns the handle.
async fn one_request<I>(io: I, config: Config) -> client::SendRequest
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (send, connection) = client::Builder::new().config(config).handshake(io);
    tokio::spawn(connection);
    let request = Request::get("http://localhost/").body(Empty::<Bytes>::new()).unwrap();
    let response = send.send_request(request).await.unwrap();
    assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hello");
    send
}

#[tokio::test(start_paused = true)]
async fn the_idle_timeout_runs_on_tokios_paused_clock() {
    let (client_io, server_io) = tokio::io::duplex(64 << 10);
    let served = tokio::spawn(Server::new(idle_after(60)).handshake(server_io, hello));
    let send = one_request(client_io, patient_client()).await;

    // Well inside the idle timeout: the connection stays.
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(!served.is_finished(), "closed after 30 of its 60 idle seconds");
    // Past twice its length: the server has ended the connection (GOAWAY NO_ERROR), at
    // once in real time, and cleanly.
    tokio::time::sleep(Duration::from_secs(91)).await;
    let ended = tokio::time::timeout(Duration::from_secs(1), served).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "the idle connection did not end cleanly: {ended:?}");
    assert!(send.is_closed(), "the client saw the server's GOAWAY");
}

/// The client goes idle first (10 s, so within 20 s): it sends GOAWAY and closes its end of the pipe as
/// soon as no stream is left, before the server's answering GOAWAY (RFC 9113 §6.8) is
/// written. That write fails with a broken pipe, and the close is still clean.
#[tokio::test(start_paused = true)]
async fn a_client_that_leaves_right_after_its_goaway_ends_the_server_cleanly_over_a_pipe() {
    let (client_io, server_io) = tokio::io::duplex(64 << 10);
    let served = tokio::spawn(Server::new(idle_after(60)).handshake(server_io, hello));
    let send = one_request(client_io, idle_after(10)).await;

    tokio::time::sleep(Duration::from_secs(21)).await;
    let ended = tokio::time::timeout(Duration::from_secs(1), served).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "the idle connection did not end cleanly: {ended:?}");
    assert!(send.is_closed(), "the client closed on its own idle timeout");
}

/// The same over a real TCP socket (real time: the client's idle timeout is 1 s, so it leaves within 2 s).
#[tokio::test]
async fn a_client_that_leaves_right_after_its_goaway_ends_the_server_cleanly_over_tcp() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            Server::new(idle_after(60)).handshake(tcp, hello).await
        });
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let send = one_request(tcp, idle_after(1)).await;

        let ended = served.await;
        assert!(matches!(ended, Ok(Ok(()))), "the idle connection did not end cleanly: {ended:?}");
        assert!(send.is_closed(), "the client closed on its own idle timeout");
    })
    .await;
}
