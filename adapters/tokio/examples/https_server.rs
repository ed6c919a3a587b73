//! A static file server over HTTPS (HTTP/2, ALPN `h2`, rustls) with the certificate chain
//! and key read from PEM files.
//!
//! ```text
//! cargo run -p h2proto-tokio --features rustls --example https_server -- \
//!     --cert cert.pem --key key.pem --dir ./public --addr 127.0.0.1:8443
//! curl --http2 --cacert cert.pem https://localhost:8443/index.html
//! ```
//!
//! What a browser or a download tool expects of a file server: `content-type` from the file
//! extension, `content-length`, `HEAD`, a strong `etag` (file size and modification time)
//! answered with `304 Not Modified` on a matching `If-None-Match`, and one byte range
//! (`206 Partial Content`, `416 Range Not Satisfiable`; RFC 9110 §14). A directory serves its
//! `index.html`. Any path that would leave `--dir` (`..` segments, or a symbolic link
//! pointing outside) is refused with 403. Files are streamed, 64 KiB at a time, so the
//! connection's flow control paces reading the disk.

use bytes::Bytes;
use h2proto_tokio::server::Server;
use h2proto_tokio::{Config, RecvBody, tls};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, StreamBody};
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::UNIX_EPOCH;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

const HELP: &str = "\
usage: https_server --cert FILE --key FILE [--dir DIR] [--addr HOST:PORT]

Serves the files under DIR over HTTPS (HTTP/2 only, ALPN h2).

      --cert FILE       certificate chain in PEM, leaf first
      --key FILE        its private key in PEM (PKCS#8, PKCS#1 or SEC1)
      --dir DIR         the directory to serve (default: .)
      --addr HOST:PORT  where to listen (default: 127.0.0.1:8443; port 0 picks one)
  -h, --help            this text
  -V, --version         print the version
";

type Body = BoxBody<Bytes, io::Error>;

#[derive(Debug)]
struct Args {
    cert: PathBuf,
    key: PathBuf,
    dir: PathBuf,
    addr: String,
}

enum Parsed {
    Run(Args),
    Exit(ExitCode),
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let (mut cert, mut key) = (None, None);
    let mut dir = PathBuf::from(".");
    let mut addr = "127.0.0.1:8443".to_owned();
    while let Some(arg) = argv.next() {
        let mut value = || argv.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            "-V" | "--version" => {
                println!("https_server {}", env!("CARGO_PKG_VERSION"));
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            "--cert" => cert = Some(PathBuf::from(value()?)),
            "--key" => key = Some(PathBuf::from(value()?)),
            "--dir" => dir = PathBuf::from(value()?),
            "--addr" => addr = value()?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let cert = cert.ok_or("--cert is required")?;
    let key = key.ok_or("--key is required")?;
    Ok(Parsed::Run(Args { cert, key, dir, addr }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Exit(code)) => return code,
        Err(message) => {
            eprintln!("https_server: {message}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("https_server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> io::Result<()> {
    let (certs, key) = tls::load_pem(&args.cert, &args.key)?;
    let config = tls::server_config(certs, key).map_err(io::Error::other)?;
    let root = Arc::new(
        args.dir
            .canonicalize()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", args.dir.display())))?,
    );
    let listener = tokio::net::TcpListener::bind(&args.addr).await?;
    // The first line tells scripts (and the tests) the address, port 0 resolved.
    println!("serving {} on https://{}", root.display(), listener.local_addr()?);
    let handler = move |request: Request<RecvBody>| {
        let root = root.clone();
        async move { respond(&root, request).await }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Server::new(Config::default())
        .serve_tls_with_shutdown(listener, config, handler, shutdown)
        .await
}

async fn respond(root: &Path, request: Request<RecvBody>) -> Response<Body> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let Some(path) = resolve(root, request.uri().path()) else {
        return status(StatusCode::FORBIDDEN);
    };
    match serve_file(&path, request.method() == Method::HEAD, request.headers()).await {
        Ok(response) => response,
        Err(e) if e.kind() == io::ErrorKind::NotFound => status(StatusCode::NOT_FOUND),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => status(StatusCode::FORBIDDEN),
        Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// The file a request path names under `root`, or `None` if it would leave `root`.
/// Percent-escapes are decoded first, so `%2e%2e` is `..` and is refused as well.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path)?;
    let mut file = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.contains('\\') || s.contains('\0') => return None,
            s => file.push(s),
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    // A symbolic link may still point outside: the real path must stay under the root.
    // A file that does not exist is left for the open to report as 404.
    match file.canonicalize() {
        Ok(real) if !real.starts_with(root) => None,
        _ => Some(file),
    }
}

fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn serve_file(path: &Path, head: bool, headers: &HeaderMap) -> io::Result<Response<Body>> {
    let mut file = tokio::fs::File::open(path).await?;
    let meta = file.metadata().await?;
    if !meta.is_file() {
        return Err(io::ErrorKind::NotFound.into());
    }
    let len = meta.len();
    let modified = meta.modified()?.duration_since(UNIX_EPOCH).unwrap_or_default();
    let etag = format!("\"{len:x}-{:x}\"", modified.as_nanos());
    let etag_value = HeaderValue::from_str(&etag).map_err(io::Error::other)?;

    let mut response = Response::new(empty());
    response.headers_mut().insert(header::ETAG, etag_value.clone());
    response.headers_mut().insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // RFC 9110 §13.1.2: If-None-Match takes precedence; a match on GET/HEAD is 304.
    if let Some(tags) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        if tags.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag) {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            return Ok(response);
        }
    }
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime(path)));

    // RFC 9110 §14.2, §13.1.5: a Range is honoured unless an If-Range names another version.
    let if_range_ok = headers.get(header::IF_RANGE).is_none_or(|v| v == etag_value);
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).filter(|_| if_range_ok);
    let (start, count) = match range.map(|r| byte_range(r, len)) {
        None | Some(Range::Ignored) => (0, len),
        Some(Range::Satisfiable(start, end)) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let value = format!("bytes {start}-{end}/{len}");
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&value).map_err(io::Error::other)?,
            );
            (start, end - start + 1)
        }
        Some(Range::Unsatisfiable) => {
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let value = format!("bytes */{len}");
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&value).map_err(io::Error::other)?,
            );
            return Ok(response);
        }
    };
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if !head && count > 0 {
        file.seek(io::SeekFrom::Start(start)).await?;
        let chunks = tokio_util::io::ReaderStream::with_capacity(file.take(count), 64 << 10);
        let frames =
            futures_util::StreamExt::map(chunks, |chunk| chunk.map(http_body::Frame::data));
        *response.body_mut() = StreamBody::new(frames).boxed();
    }
    Ok(response)
}

enum Range {
    /// Not a single `bytes` range we serve: answer with the whole file (RFC 9110 §14.2
    /// lets a server ignore a Range it does not support).
    Ignored,
    /// First and last byte, inclusive.
    Satisfiable(u64, u64),
    /// No byte of the range exists (416).
    Unsatisfiable,
}

/// Parses one `bytes=first-last`, `bytes=first-` or `bytes=-suffix` range (RFC 9110 §14.1.2).
fn byte_range(value: &str, len: u64) -> Range {
    let Some(spec) = value.trim().strip_prefix("bytes=") else { return Range::Ignored };
    if spec.contains(',') {
        return Range::Ignored;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Range::Ignored };
    let (first, last) = (first.trim(), last.trim());
    let parsed = match (first.is_empty(), last.is_empty()) {
        // A suffix: the last N bytes.
        (true, false) => match last.parse::<u64>() {
            Ok(0) => return Range::Unsatisfiable,
            Ok(n) => Some((len.saturating_sub(n), len.saturating_sub(1))),
            Err(_) => None,
        },
        (false, true) => first.parse::<u64>().ok().map(|a| (a, len.saturating_sub(1))),
        (false, false) => match (first.parse::<u64>(), last.parse::<u64>()) {
            (Ok(a), Ok(b)) if a <= b => Some((a, b.min(len.saturating_sub(1)))),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        None => Range::Ignored,
        Some((first, _)) if first >= len => Range::Unsatisfiable,
        Some((first, last)) => Range::Satisfiable(first, last),
    }
}

fn mime(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "woff2" => "font/woff2",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

fn status(code: StatusCode) -> Response<Body> {
    let mut response = Response::new(empty());
    *response.status_mut() = code;
    response
}
