//! Runs a client example binary the way a user would, for the three adapters' `client_cli`
//! tests (each includes this file with `#[path]`): builds it with the cargo running the
//! test, runs it with a deadline (killing only the child it started, by its handle), and
//! offers the servers that only need std: a closed port and one that never answers.
#![allow(dead_code)]

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest any run may take before the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// Builds example `name` of `package` (with `features`) into this test's target directory
/// and returns its path.
pub fn example(package: &str, name: &str, features: &[&str]) -> PathBuf {
    // .../target/debug/deps/client_cli-HASH -> .../target/debug
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf();
    let target_dir = profile_dir.parent().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "-q", "-p", package, "--example", name, "--target-dir"]).arg(target_dir);
    if !features.is_empty() {
        build.args(["--features", &features.join(",")]);
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "building example {name} failed");
    profile_dir.join("examples").join(name)
}

/// What a run of the client printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// Runs `bin` with `args`, waiting at most [`RUN_LIMIT`].
pub fn run(bin: &PathBuf, args: &[&str]) -> Run {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
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
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            panic!("the client ran over {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().expect("exited, not killed"),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// An address nobody listens on (bound, then released).
pub fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// A TCP server that accepts and reads but never answers (not even SETTINGS); it stops by
/// itself once its client has gone.
pub fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut socket, _)) = listener.accept() {
            let mut buf = [0; 4096];
            while let Ok(1..) = socket.read(&mut buf) {}
        }
    });
    addr
}

/// A listener with room for one connection in its accept queue, which nobody accepts.
pub fn tiny_backlog() -> (socket2::Socket, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    (listener, addr)
}

/// Connects to `addr` until a connect is not answered: the backlog is full. Returns the
/// connections that got in (to keep them there).
pub fn fill_backlog(addr: SocketAddr) -> Vec<std::net::TcpStream> {
    let mut fillers = Vec::new();
    for _ in 0..64 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(socket) => fillers.push(socket),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return fillers,
            Err(e) => panic!("connect: {e}"),
        }
    }
    panic!("the backlog never filled");
}

/// A server that refuses the first request it sees with RST_STREAM REFUSED_STREAM (RFC
/// 9113 §8.7: certainly not processed) and answers every later one with 200 `answered`, on
/// any number of connections. Returns its address and the count of requests it has seen.
pub fn refusing_server() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(socket) = socket else { return };
            let seen = counter.clone();
            std::thread::spawn(move || serve_refusing_first(socket, &seen));
        }
    });
    (addr, seen)
}

fn serve_refusing_first(mut socket: std::net::TcpStream, seen: &std::sync::atomic::AtomicUsize) {
    use bytes::Bytes;
    use h2proto::{Config, Connection, ErrorCode, Event, buf_to_vec};
    use std::io::Write;
    use std::sync::atomic::Ordering;
    let mut conn = Connection::server(Config::default());
    conn.handle_timeout(Instant::now());
    let mut buf = vec![0; 64 << 10];
    loop {
        while let Some(event) = conn.poll_event() {
            let Event::Request { stream_id, .. } = event else { continue };
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                conn.reset(stream_id, ErrorCode::REFUSED_STREAM).unwrap();
            } else {
                conn.send_response(stream_id, http::Response::new(()), false).unwrap();
                conn.send_data(stream_id, Bytes::from_static(b"answered\n"), true).unwrap();
            }
        }
        if socket.write_all(&buf_to_vec(conn.transmit())).is_err() {
            return;
        }
        match socket.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if conn.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now()).is_err() {
                    let _ = socket.write_all(&buf_to_vec(conn.transmit()));
                    return;
                }
            }
        }
    }
}

/// The checks every adapter's client must pass against `ok` (a server answering `/` with
/// 200 and `/missing` with 404 and a body): curl's exit codes and output.
pub fn common_checks(bin: &PathBuf, ok: SocketAddr, not_found_body: &[u8]) {
    // --help: usage on stdout, exit 0.
    let help = run(bin, &["--help"]);
    assert_eq!(help.code, 0, "{help:?}");
    assert!(String::from_utf8_lossy(&help.stdout).contains("--max-time"));
    // --version: the crate and its version on stdout, exit 0.
    let version = run(bin, &["--version"]);
    assert_eq!(version.code, 0, "{version:?}");
    let printed = String::from_utf8_lossy(&version.stdout);
    assert!(printed.starts_with("client (h2proto-") && printed.contains("0.1.0"), "{printed}");

    // A bad option: exit 2.
    assert_eq!(run(bin, &["--bogus", "http://127.0.0.1/"]).code, 2);

    // Connection refused: 7.
    let refused = run(bin, &[&format!("http://{}/", closed_port())]);
    assert_eq!(refused.code, 7, "{refused:?}");

    // Bad --connect-timeout and --retry values: exit 2.
    assert_eq!(run(bin, &["--connect-timeout", "0", "http://127.0.0.1/"]).code, 2);
    assert_eq!(run(bin, &["--retry", "-1", "http://127.0.0.1/"]).code, 2);

    // A connect nobody answers (a full backlog), with --connect-timeout 0.5: 28, long
    // before --max-time.
    let (_listener, unanswered) = tiny_backlog();
    let _fillers = fill_backlog(unanswered);
    let started = Instant::now();
    let url = format!("http://{unanswered}/");
    let timed_out = run(bin, &["--connect-timeout", "0.5", "--max-time", "20", &url]);
    assert_eq!(timed_out.code, 28, "{timed_out:?}");
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());

    // REFUSED_STREAM: sent again by default (the server saw it twice and answered the
    // second); with --retry 0 the refusal is the result (56, curl's receive failure).
    let (refusing, seen) = refusing_server();
    let retried = run(bin, &[&format!("http://{refusing}/")]);
    assert_eq!((retried.code, retried.stdout.as_slice()), (0, &b"answered\n"[..]), "{retried:?}");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
    let (refusing, seen) = refusing_server();
    let once = run(bin, &["--retry", "0", &format!("http://{refusing}/")]);
    assert_eq!(once.code, 56, "{once:?}");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);

    // A server that never answers, with --max-time 1: 28.
    let silent = run(bin, &["--max-time", "1", &format!("http://{}/", silent_server())]);
    assert_eq!(silent.code, 28, "{silent:?}");

    // 404 without -f: the body is printed and the exit is 0, as curl does.
    let missing = format!("http://{ok}/missing");
    let plain = run(bin, &[&missing]);
    assert_eq!((plain.code, plain.stdout.as_slice()), (0, not_found_body), "{plain:?}");
    // With -f: exit 22 and no body.
    let failed = run(bin, &["-f", &missing]);
    assert_eq!(failed.code, 22, "{failed:?}");
    assert!(failed.stdout.is_empty());

    // -i prints the head first; -H, -X and -d reach the server (it echoes them on /echo).
    let dir = std::env::temp_dir().join(format!("h2proto-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data.bin");
    std::fs::write(&data, b"payload bytes").unwrap();
    let echo = format!("http://{ok}/echo");
    let data_arg = data.to_str().unwrap();
    let head = run(bin, &["-i", "-X", "PUT", "-H", "x-test: yes", "-d", data_arg, &echo]);
    assert_eq!(head.code, 0, "{head:?}");
    let text = String::from_utf8_lossy(&head.stdout).into_owned();
    assert!(text.starts_with("HTTP/2 200\r\n"), "{text}");
    assert!(text.contains("x-method: PUT\r\n"), "{text}");
    assert!(text.contains("x-test: yes\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\npayload bytes"), "{text}");

    // -o writes the body to a file, nothing to stdout.
    let out = dir.join("out.bin");
    let saved = run(bin, &["-o", out.to_str().unwrap(), "-d", data_arg, &echo]);
    assert_eq!(saved.code, 0, "{saved:?}");
    assert!(saved.stdout.is_empty());
    assert_eq!(std::fs::read(&out).unwrap(), b"payload bytes");
    let _ = std::fs::remove_dir_all(&dir);
}
