//! The `https_server` example as a user runs it (feature `rustls`): certificate and key
//! from PEM files, a directory served over HTTP/2 + TLS to curl and to our client. Checks
//! content-type, content-length, HEAD, ETag / 304, byte ranges (206 / 416, several as
//! `multipart/byteranges`) and that no path leaves the directory.
#![cfg(feature = "rustls")]

#[path = "cli_support/mod.rs"]
mod cli_support;
mod support;

use bytes::Bytes;
use h2proto_tokio::tls::{self, rustls};
use h2proto_tokio::{Config, client};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use std::path::{Path, PathBuf};
use support::*;
use tokio::io::AsyncBufReadExt;

const BIG: usize = 300 << 10;

/// A running `https_server` on a fresh directory and certificate; the process is killed
/// (by its handle) when this is dropped.
struct Served {
    port: u16,
    dir: PathBuf,
    cert: PathBuf,
    cert_der: rustls::pki_types::CertificateDer<'static>,
    _child: tokio::process::Child,
}

impl Served {
    async fn start(name: &str) -> Served {
        let bin = tokio::task::spawn_blocking(|| {
            cli_support::example("h2proto-tokio", "https_server", &["rustls"])
        })
        .await
        .unwrap();
        let base =
            std::env::temp_dir().join(format!("h2proto-https-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let dir = base.join("public");
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::write(dir.join("index.html"), "<h1>home</h1>\n").unwrap();
        std::fs::write(dir.join("style.css"), "body { color: red }\n").unwrap();
        std::fs::write(dir.join("docs/index.html"), "<h1>docs</h1>\n").unwrap();
        std::fs::write(dir.join("big.bin"), pattern(BIG)).unwrap();
        // Outside the served directory, and a link to it from inside.
        std::fs::write(base.join("secret.txt"), "secret\n").unwrap();
        std::os::unix::fs::symlink(base.join("secret.txt"), dir.join("link.txt")).unwrap();

        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let (cert, key) = (base.join("cert.pem"), base.join("key.pem"));
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();

        let mut child = tokio::process::Command::new(bin)
            .args(["--cert", path(&cert), "--key", path(&key), "--dir", path(&dir)])
            .args(["--addr", "127.0.0.1:0"])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start https_server");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next_line().await.unwrap().expect("https_server prints its address");
        let port = first.rsplit(':').next().unwrap().parse().expect(&first);
        Served { port, dir, cert, cert_der: certified.cert.der().clone(), _child: child }
    }

    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// Our client, trusting the server's certificate.
    async fn client(&self) -> client::SendRequest {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert_der.clone()).unwrap();
        let config = tls::client_config(roots).unwrap();
        let addr = format!("127.0.0.1:{}", self.port);
        let (send, conn) =
            tls::connect(addr, "localhost", config, Config::default()).await.unwrap();
        tokio::spawn(conn);
        send
    }

    /// curl over HTTP/2 with our certificate as its CA: head (with -D), body, http_version.
    async fn curl(&self, args: &[&str]) -> (String, Vec<u8>, String) {
        let head = self.dir.parent().unwrap().join(format!("head-{}", rand_suffix()));
        let output = tokio::process::Command::new("curl")
            .args(["-sS", "--http2", "--cacert", path(&self.cert), "-D", path(&head)])
            .args(["-w", "\n%{http_version}"])
            .args(args)
            .output()
            .await
            .expect("curl must be installed to run this test");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let mut body = output.stdout;
        let at = body.iter().rposition(|&b| b == b'\n').unwrap();
        let version = String::from_utf8(body.split_off(at)).unwrap().trim().to_owned();
        (std::fs::read_to_string(&head).unwrap(), body, version)
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

async fn request(send: &client::SendRequest, req: Request<Empty<Bytes>>) -> (Response<()>, Bytes) {
    let response = send.send_request(req).await.unwrap();
    let (head, body) = response.into_parts();
    (Response::from_parts(head, ()), body.collect().await.unwrap().to_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_gets_files_with_type_and_length_over_h2() {
    within(async {
        let served = Served::start("curl").await;
        let (head, body, version) = served.curl(&[&served.url("/style.css")]).await;
        assert_eq!(version, "2");
        assert!(head.starts_with("HTTP/2 200"), "{head}");
        assert!(head.contains("content-type: text/css; charset=utf-8\r\n"), "{head}");
        assert!(head.contains("content-length: 20\r\n"), "{head}");
        assert_eq!(body, b"body { color: red }\n");

        // A directory serves its index.html.
        let (head, body, _) = served.curl(&[&served.url("/docs/")]).await;
        assert!(head.contains("content-type: text/html; charset=utf-8\r\n"), "{head}");
        assert_eq!(body, b"<h1>docs</h1>\n");

        // A large file, streamed, arrives whole.
        let (head, body, _) = served.curl(&[&served.url("/big.bin")]).await;
        assert!(head.contains("content-type: application/octet-stream\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {BIG}\r\n")), "{head}");
        assert!(body == pattern(BIG), "the body is the file");

        // A byte range, and one past the end.
        let (head, body, _) = served.curl(&["-r", "1000-1999", &served.url("/big.bin")]).await;
        assert!(head.starts_with("HTTP/2 206"), "{head}");
        assert!(head.contains(&format!("content-range: bytes 1000-1999/{BIG}\r\n")), "{head}");
        assert!(body == pattern(BIG)[1000..2000], "the range's bytes");
        let past = format!("{BIG}-");
        let (head, body, _) = served.curl(&["-r", &past, &served.url("/big.bin")]).await;
        assert!(head.starts_with("HTTP/2 416"), "{head}");
        assert!(head.contains(&format!("content-range: bytes */{BIG}\r\n")), "{head}");
        assert!(body.is_empty());

        // curl's --path-as-is sends ".." unchanged: refused.
        let (head, _, _) =
            served.curl(&["--path-as-is", &served.url("/docs/../../secret.txt")]).await;
        assert!(head.starts_with("HTTP/2 403"), "{head}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_gets_head_etag_304_ranges_and_refusals() {
    within(async {
        let served = Served::start("client").await;
        let send = served.client().await;
        let get = |path: &str| Request::get(served.url(path));

        // HEAD: the GET's head, no body.
        let head = Request::head(served.url("/big.bin")).body(Empty::new()).unwrap();
        let (response, body) = request(&send, head).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-length"], BIG.to_string());
        assert!(body.is_empty());
        let etag = response.headers()["etag"].clone();

        // If-None-Match with the current tag: 304 without a body; another tag: 200.
        let conditional = get("/big.bin").header("if-none-match", etag.clone());
        let (response, body) = request(&send, conditional.body(Empty::new()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()["etag"], etag);
        assert!(body.is_empty());
        let other = get("/big.bin").header("if-none-match", "\"other\"");
        let (response, body) = request(&send, other.body(Empty::new()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body.len(), BIG);

        // The last 100 bytes; and a range with If-Range naming another version: whole file.
        let suffix = get("/big.bin").header("range", "bytes=-100");
        let (response, body) = request(&send, suffix.body(Empty::new()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(response.headers()["content-length"], "100");
        assert!(body == pattern(BIG)[BIG - 100..]);
        let stale = get("/big.bin").header("range", "bytes=0-9").header("if-range", "\"old\"");
        let (response, body) = request(&send, stale.body(Empty::new()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body.len(), BIG);

        // Nothing outside the directory: "..", its percent-encoding, a symbolic link out.
        for path in ["/../secret.txt", "/docs/%2e%2e/%2e%2e/secret.txt", "/link.txt"] {
            let (response, _) = request(&send, get(path).body(Empty::new()).unwrap()).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        }
        let (response, _) = request(&send, get("/missing.txt").body(Empty::new()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let post = Request::builder().method(Method::POST).uri(served.url("/index.html"));
        let (response, _) = request(&send, post.body(Empty::new()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()["allow"], "GET, HEAD");
    })
    .await;
}

/// One part of a `multipart/byteranges` body: its Content-Type, its Content-Range
/// (first, last, length) and its bytes.
type Part = (String, (usize, usize, usize), Vec<u8>);

/// Reads a `multipart/byteranges` body (RFC 9110 §14.6, RFC 2046 §5.1.1) strictly: every
/// part after its delimiter, with a head naming its type and range and exactly the bytes of
/// that range, then the closing delimiter and nothing else.
fn parts(content_type: &str, body: &[u8]) -> Vec<Part> {
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("not multipart/byteranges: {content_type}"));
    let delimiter = format!("--{boundary}");
    let mut rest = body.strip_prefix(delimiter.as_bytes()).expect("starts with a delimiter");
    let mut parts = Vec::new();
    loop {
        if let Some(end) = rest.strip_prefix(b"--") {
            assert_eq!(end, b"\r\n", "only a CRLF after the closing delimiter");
            return parts;
        }
        rest = rest.strip_prefix(b"\r\n").expect("CRLF after a delimiter");
        let at = rest.windows(4).position(|w| w == b"\r\n\r\n").expect("a part's head ends");
        let head = std::str::from_utf8(&rest[..at]).unwrap().to_owned();
        rest = &rest[at + 4..];
        let field = |name: &str| {
            head.split("\r\n")
                .find_map(|line| line.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in {head:?}"))
                .to_owned()
        };
        let range = field("Content-Range: bytes ");
        let (span, len) = range.split_once('/').unwrap();
        let (first, last) = span.split_once('-').unwrap();
        let (first, last): (usize, usize) = (first.parse().unwrap(), last.parse().unwrap());
        let data = rest[..last - first + 1].to_vec();
        rest = &rest[last - first + 1..];
        parts.push((field("Content-Type: "), (first, last, len.parse().unwrap()), data));
        rest = rest.strip_prefix(b"\r\n").expect("CRLF before the next delimiter");
        rest = rest.strip_prefix(delimiter.as_bytes()).expect("the next delimiter");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_ranges_come_as_multipart_byteranges() {
    within(async {
        let served = Served::start("multipart").await;
        let send = served.client().await;
        let big = pattern(BIG);
        let ranged = |range: &str| {
            Request::get(served.url("/big.bin")).header("range", range).body(Empty::new()).unwrap()
        };

        // Three ranges, in the order asked (RFC 9110 §15.3.7.2), the last a suffix; the
        // head has no Content-Range and its length is the multipart body's.
        let (response, body) = request(&send, ranged("bytes=5000-5099, 0-9, -10")).await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert!(response.headers().get("content-range").is_none());
        assert_eq!(response.headers()["content-length"], body.len().to_string());
        let content_type = response.headers()["content-type"].to_str().unwrap();
        let got = parts(content_type, &body);
        let expected = [(5000, 5099), (0, 9), (BIG - 10, BIG - 1)];
        assert_eq!(got.len(), expected.len(), "{got:?}");
        for ((kind, range, data), (first, last)) in got.iter().zip(expected) {
            assert_eq!(kind, "application/octet-stream");
            assert_eq!(*range, (first, last, BIG));
            assert!(data[..] == big[first..=last], "the bytes of {first}-{last}");
        }
        // A fresh boundary for each response.
        let (again, _) = request(&send, ranged("bytes=5000-5099, 0-9, -10")).await;
        assert_ne!(again.headers()["content-type"], content_type);

        // Overlapping and nearly touching ranges are merged, in the place of the first
        // asked: 1000-1099 and 1050-1199 overlap, 1230-1239 lies within 80 bytes; 0-0 is
        // apart.
        let (response, body) =
            request(&send, ranged("bytes=1050-1199,0-0,1000-1099,1230-1239")).await;
        let content_type = response.headers()["content-type"].to_str().unwrap();
        let got = parts(content_type, &body);
        let ranges: Vec<_> = got.iter().map(|(_, range, _)| *range).collect();
        assert_eq!(ranges, [(1000, 1239, BIG), (0, 0, BIG)]);
        assert!(got[0].2[..] == big[1000..=1239]);

        // Ranges that merge into one, or of which only one exists, make a plain 206 with
        // its Content-Range.
        for (range, first, last) in
            [("bytes=0-99,50-199", 0, 199), ("bytes=10-19,999999999-", 10, 19)]
        {
            let (response, body) = request(&send, ranged(range)).await;
            assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT, "{range}");
            assert_eq!(
                response.headers()["content-range"],
                format!("bytes {first}-{last}/{BIG}"),
                "{range}"
            );
            assert_eq!(response.headers()["content-type"], "application/octet-stream");
            assert!(body == big[first..=last], "{range}");
        }

        // None exists: 416. Not a range set, or more ranges than served: the whole file.
        let (response, _) = request(&send, ranged("bytes=999999998-,999999999-")).await;
        assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        let many = (0..17).map(|i| format!("{}-{}", i * 1000, i * 1000 + 9)).collect::<Vec<_>>();
        for range in ["bytes=0-9,x-y".to_owned(), format!("bytes={}", many.join(","))] {
            let (response, body) = request(&send, ranged(&range)).await;
            assert_eq!(response.status(), StatusCode::OK, "{range}");
            assert_eq!(body.len(), BIG, "{range}");
        }
        // HEAD: the head of the multipart response, no body.
        let head = Request::head(served.url("/big.bin")).header("range", "bytes=0-9,100-109");
        let (response, body) = request(&send, head.body(Empty::new()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("multipart/"));
        assert!(body.is_empty());

        // curl asks for several ranges with -r and gets the same.
        let (head, body, _) = served.curl(&["-r", "0-9,2000-2999", &served.url("/big.bin")]).await;
        assert!(head.starts_with("HTTP/2 206"), "{head}");
        let content_type = head
            .split("\r\n")
            .find_map(|line| line.strip_prefix("content-type: "))
            .unwrap_or_else(|| panic!("no content-type in {head}"));
        let got = parts(content_type, &body);
        let ranges: Vec<_> = got.iter().map(|(_, range, _)| *range).collect();
        assert_eq!(ranges, [(0, 9, BIG), (2000, 2999, BIG)]);
        assert!(got[1].2[..] == big[2000..=2999]);
    })
    .await;
}

#[test]
fn https_server_help_version_and_usage_errors() {
    let bin = cli_support::example("h2proto-tokio", "https_server", &["rustls"]);
    let help = cli_support::run(&bin, &["--help"]);
    assert_eq!(help.code, 0, "{help:?}");
    assert!(String::from_utf8_lossy(&help.stdout).contains("--cert FILE"));
    let version = cli_support::run(&bin, &["--version"]);
    assert_eq!(version.code, 0);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("https_server {}\n", env!("CARGO_PKG_VERSION"))
    );
    let missing = cli_support::run(&bin, &["--dir", "."]);
    assert_eq!(missing.code, 2, "--cert is required: {missing:?}");
    let bogus = cli_support::run(&bin, &["--bogus"]);
    assert_eq!(bogus.code, 2);
}
