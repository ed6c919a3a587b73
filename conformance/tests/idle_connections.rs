//! Scale: 10,000 concurrent idle connections on the reference server, on the mio and the
//! tokio adapters. Each connection makes one request (a connection that makes none is
//! closed after `first_request_timeout`) and then stays open and quiet; afterwards every
//! one must still be usable. The server runs as a child process (its own descriptor
//! table: 10,000 sockets each side); its resident memory per connection is printed.

use bytes::Bytes;
use h2proto_tokio::client;
use http::Request;
use http_body_util::{BodyExt, Empty};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 10_000;
/// Connections being opened at once (the reference server's backlog is 1,024).
const OPENING: usize = 256;

/// Lifts the soft limit on open files to the hard one (children inherit it).
fn raise_nofile() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    setrlimit(Resource::Nofile, limit).expect("setrlimit(RLIMIT_NOFILE)");
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(runtime: &str) -> (Server, SocketAddr) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_h2proto-conformance"));
    command.args(["serve", "--addr", &addr.to_string(), "--runtime", runtime]);
    if runtime == "tokio" {
        command.args(["--workers", "0"]);
    }
    let server = Server(command.spawn().expect("the reference server starts"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{runtime}: the server never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    (server, addr)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn get(send: &client::SendRequest, addr: SocketAddr) -> Result<usize, String> {
    let request = Request::get(format!("http://{addr}/bytes/13")).body(Empty::<Bytes>::new());
    let response = send.send_request(request.unwrap()).await.map_err(|e| e.to_string())?;
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?;
    Ok(body.to_bytes().len())
}

fn hold_idle_connections(runtime: &str) {
    let (server, addr) = spawn(runtime);
    let before = rss_kib(server.0.id());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    rt.unwrap().block_on(async {
        // At most OPENING handshakes at once: fewer than the listener's accept backlog, so
        // no SYN or first data is dropped and retransmitted seconds later (which the
        // server's preface timeout would rightly end); what is measured is holding them.
        let opening_slots = std::sync::Arc::new(tokio::sync::Semaphore::new(OPENING));
        let mut opening = tokio::task::JoinSet::new();
        for _ in 0..CONNECTIONS {
            let slots = opening_slots.clone();
            opening.spawn(async move {
                let _slot = slots.acquire_owned().await.expect("never closed");
                let (send, conn) = client::connect(addr).await.map_err(|e| e.to_string())?;
                tokio::spawn(conn);
                assert_eq!(get(&send, addr).await?, 13);
                Ok::<_, String>(send)
            });
        }
        let mut open = Vec::with_capacity(CONNECTIONS);
        while let Some(joined) = opening.join_next().await {
            open.push(joined.unwrap().unwrap_or_else(|e| panic!("{runtime}: {e}")));
        }
        assert_eq!(open.len(), CONNECTIONS);
        // All of them open at once and quiet: the server holds them.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let during = rss_kib(server.0.id());
        println!(
            "{runtime}: {CONNECTIONS} idle connections, server RSS {before} -> {during} KiB, {:.1} KiB per connection",
            (during.saturating_sub(before)) as f64 / CONNECTIONS as f64
        );
        assert!(open.iter().all(|s| !s.is_closed()), "{runtime}: a connection was closed");
        // Every hundredth is still served.
        for send in open.iter().step_by(100) {
            assert_eq!(get(send, addr).await, Ok(13), "{runtime}");
        }
    });
}

#[test]
fn ten_thousand_idle_connections_on_mio_and_tokio() {
    let limit = raise_nofile();
    assert!(limit > CONNECTIONS as u64 + 100, "RLIMIT_NOFILE hard limit {limit} is too low");
    hold_idle_connections("mio");
    hold_idle_connections("tokio");
}
