//! The `load` example as a user runs it: a report to a reader that has gone
//! (`load URL | head -c1`) ends quietly with curl's write error, 23, not a panic.

#[path = "cli_support/mod.rs"]
mod cli_support;

use bytes::Bytes;
use cli_support::*;
use h2proto_tokio::{RecvBody, server};
use http::{Request, Response};
use http_body_util::Full;
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A server answering "x" on its own runtime (kept alive by the caller).
fn server() -> (tokio::runtime::Runtime, SocketAddr) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = |_: Request<RecvBody>| async { Response::new(Full::new(Bytes::from("x"))) };
        tokio::spawn(server::serve(listener, handler));
        addr
    });
    (rt, addr)
}

#[test]
fn a_closed_stdout_pipe_exits_23_without_a_panic() {
    let (_rt, addr) = server();
    let load = example("h2proto-tokio", "load", &[]);
    let url = format!("http://{addr}/");
    let mut child = Command::new(&load)
        .args(["-q", "-n", "20", "-c", "2", "-m", "2", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start load");
    // The reader goes before anything is written: every write to the pipe fails (EPIPE).
    drop(child.stdout.take());
    let mut stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("load ran over 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = err.join().unwrap();
    assert_eq!(status.code(), Some(23), "curl's write error; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
}

#[test]
fn the_report_goes_to_stdout_when_it_can() {
    let (_rt, addr) = server();
    let load = example("h2proto-tokio", "load", &[]);
    let out = run(&load, &["-q", "-n", "20", "-c", "2", "-m", "2", &format!("http://{addr}/")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("requests: 20 total, 20 succeeded"), "{text}");
}
