//! Interop with nghttp2's tools and curl (Debian packages nghttp2-client, nghttp2-server,
//! curl) against the mio server, and the mio client against `nghttpd`. A missing tool
//! fails the test: interop is not optional.

mod support;

use bytes::Bytes;
use h2proto_mio::{Client, Server};
use http::Request;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use support::*;

/// The tool's path; panics (fails the test) if it is not installed.
fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed (apt-get install nghttp2 curl)"))
}

/// Runs a command to completion within 60 s and returns its stdout; fails on a non-zero
/// exit or past the deadline (the process is killed).
fn stdout_of(command: &mut Command) -> Vec<u8> {
    let child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(child.wait_with_output()));
    let Ok(output) = rx.recv_timeout(Duration::from_secs(60)) else {
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        panic!("{command:?} did not finish in time");
    };
    let Output { status, stdout, stderr } = output.unwrap();
    assert!(status.success(), "{command:?}: {status}\n{}", String::from_utf8_lossy(&stderr));
    stdout
}

/// A scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("h2proto-mio-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn server(threads: usize) -> TestServer {
    TestServer::start(Server::bind("127.0.0.1:0").unwrap().threads(threads), hello_echo)
}

#[test]
fn curl_against_the_server() {
    let _w = watchdog(120);
    let curl = tool("curl");
    let server = server(1);
    let url = format!("http://{}", server.addr);
    let args = ["-sS", "--fail", "--http2-prior-knowledge"];
    assert_eq!(stdout_of(Command::new(&curl).args(args).arg(&url)), b"hello");
    let dir = TempDir::new("curl");
    let body = pattern(3 << 20, 3);
    let file = dir.file("upload", &body);
    let echoed = stdout_of(
        Command::new(&curl)
            .args(args)
            .arg("--data-binary")
            .arg(format!("@{}", file.display()))
            .arg(format!("{url}/echo")),
    );
    assert!(echoed == body, "echo differs ({} bytes)", echoed.len());
    server.stop();
}

#[test]
fn nghttp_against_the_server() {
    let _w = watchdog(120);
    let nghttp = tool("nghttp");
    let server = server(1);
    let url = format!("http://{}", server.addr);
    assert_eq!(stdout_of(Command::new(&nghttp).arg(&url)), b"hello");
    let dir = TempDir::new("nghttp");
    let body = pattern(2 << 20, 5);
    let file = dir.file("upload", &body);
    // -w/-W: nghttp's own windows at 2^14 bytes, so the server's sends are flow-controlled.
    let mut command = Command::new(&nghttp);
    command.args(["-w", "14", "-W", "14", "-d"]).arg(&file).arg(format!("{url}/echo"));
    let echoed = stdout_of(&mut command);
    assert!(echoed == body, "echo differs ({} bytes)", echoed.len());
    server.stop();
}

/// h2load's (succeeded, failed, errored) from "requests: N total, ..., N succeeded, N
/// failed, N errored, ...".
fn h2load_counts(stdout: &[u8]) -> (u64, u64, u64) {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().find(|l| l.starts_with("requests:")).expect("h2load summary");
    let count = |what: &str| -> u64 {
        let at = line.find(what).unwrap_or_else(|| panic!("{what} in {line}"));
        line[..at].trim_end().rsplit([' ', ',']).next().unwrap().parse().unwrap()
    };
    (count("succeeded"), count("failed"), count("errored"))
}

#[test]
fn h2load_against_the_server_has_no_failures() {
    let _w = watchdog(180);
    let h2load = tool("h2load");
    let server = server(2);
    let url = format!("http://{}", server.addr);
    let out =
        stdout_of(Command::new(&h2load).args(["-n", "10000", "-c", "8", "-m", "16"]).arg(&url));
    assert_eq!(h2load_counts(&out), (10000, 0, 0), "{}", String::from_utf8_lossy(&out));
    let dir = TempDir::new("h2load");
    let file = dir.file("upload", &pattern(100_000, 9));
    let mut command = Command::new(&h2load);
    command.args(["-n", "400", "-c", "4", "-m", "8", "-d"]).arg(&file).arg(format!("{url}/echo"));
    let out = stdout_of(&mut command);
    assert_eq!(h2load_counts(&out), (400, 0, 0), "{}", String::from_utf8_lossy(&out));
    server.stop();
}

/// `nghttpd --no-tls` serving `dir` on a free port, killed on drop.
struct Nghttpd {
    child: Child,
    port: u16,
}

impl Nghttpd {
    fn start(dir: &Path) -> Nghttpd {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(tool("nghttpd"))
            .args(["--no-tls", "--echo-upload", "--address=127.0.0.1", "-d"])
            .arg(dir)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nghttpd did not start");
            thread::sleep(Duration::from_millis(20));
        }
        Nghttpd { child, port }
    }
}

impl Drop for Nghttpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn client_against_nghttpd() {
    let _w = watchdog(120);
    let dir = TempDir::new("nghttpd");
    let big = pattern(8 << 20, 11);
    dir.file("big", &big);
    dir.file("small", b"small file");
    let nghttpd = Nghttpd::start(&dir.0);
    let client = Client::connect_with(("127.0.0.1", nghttpd.port), small_windows()).unwrap();
    let get = |path: &str| Request::get(path).body(Bytes::new()).unwrap();

    let response = client.request(get("/big")).unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.body() == &big[..], "download differs");

    let (done, results) = mpsc::channel();
    for _ in 0..50 {
        let done = done.clone();
        client.send(get("/small"), move |r| done.send(r.map(|r| r.into_body())).unwrap());
    }
    drop(done);
    assert!(results.iter().all(|r| r.unwrap() == "small file"));

    let upload = Bytes::from(pattern(1 << 20, 13));
    let response = client.request(Request::post("/echo").body(upload.clone()).unwrap()).unwrap();
    assert!(response.body() == &upload, "echo differs");
    assert_eq!(client.request(get("/missing")).unwrap().status(), 404);
}
