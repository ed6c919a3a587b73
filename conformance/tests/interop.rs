//! Real peers against the reference server (`serve`) on every adapter: curl, nghttp and
//! h2load from Debian's packages. A missing tool fails the test (`.ci/run` installs them).

use h2proto_conformance::server::{self, Runtime};
use std::net::SocketAddr;
use std::process::{Command, Output};

fn run(program: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new("timeout");
    cmd.arg("60").arg(program).args(args);
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn upload_file(len: usize) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("h2proto-interop-{}-{len}", std::process::id()));
    let body: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(&path, body).unwrap();
    path
}

fn with_each_runtime(test: impl Fn(SocketAddr)) {
    for runtime in Runtime::ADAPTERS {
        let server = server::spawn(runtime, "127.0.0.1:0".parse().unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", runtime.name()));
        test(server.addr());
        server.stop();
    }
}

#[test]
fn curl_get_post_and_large_download() {
    let file = upload_file(100_000);
    with_each_runtime(|addr| {
        let base = format!("http://{addr}");
        let get = run(
            "curl",
            &["-sS", "--http2-prior-knowledge", "-w", "\n%{http_code} %{http_version}", &base],
        );
        let text = stdout(&get);
        assert!(text.starts_with("h2proto reference server"), "{text}");
        assert!(text.ends_with("200 2"), "{text}");

        let echo = run(
            "curl",
            &[
                "-sS",
                "--http2-prior-knowledge",
                "--data-binary",
                &format!("@{}", file.display()),
                &format!("{base}/echo"),
            ],
        );
        assert_eq!(echo.stdout, std::fs::read(&file).unwrap(), "echoed body differs ({addr})");

        let big = run(
            "curl",
            &[
                "-sS",
                "--http2-prior-knowledge",
                "-o",
                "/dev/null",
                "-w",
                "%{size_download}",
                &format!("{base}/bytes/4194304"),
            ],
        );
        assert_eq!(stdout(&big), "4194304");
    });
    std::fs::remove_file(file).ok();
}

#[test]
fn nghttp_concurrent_streams_and_upload() {
    let file = upload_file(300_000);
    with_each_runtime(|addr| {
        let base = format!("http://{addr}");
        // Ten requests for the same resource on one connection (-m), all multiplexed.
        let many = run("nghttp", &["-n", "-s", "-m", "10", &format!("{base}/bytes/20000")]);
        let stats = stdout(&many);
        assert_eq!(stats.matches("/bytes/20000").count(), 10, "{stats}");
        // An upload, echoed back.
        let up = run("nghttp", &["-d", &file.display().to_string(), &format!("{base}/echo")]);
        assert_eq!(up.stdout, std::fs::read(&file).unwrap(), "echoed upload differs ({addr})");
    });
    std::fs::remove_file(file).ok();
}

#[test]
fn h2load_thousands_of_requests_without_errors() {
    with_each_runtime(|addr| {
        let out =
            run("h2load", &["-n", "3000", "-c", "4", "-m", "100", &format!("http://{addr}/")]);
        let text = stdout(&out);
        let line =
            text.lines().find(|l| l.starts_with("requests:")).unwrap_or_else(|| panic!("{text}"));
        assert!(line.contains("3000 succeeded, 0 failed, 0 errored"), "{addr}: {line}");
    });
}
