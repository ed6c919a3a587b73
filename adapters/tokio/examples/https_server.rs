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
//! answered with `304 Not Modified` on a matching `If-None-Match`, and byte ranges
//! (`206 Partial Content`, `416 Range Not Satisfiable`; RFC 9110 §14): one range comes with
//! its `Content-Range`, several as `multipart/byteranges` (§14.6), at most 16 of them, those
//! that overlap or nearly touch merged into one part. A directory serves its `index.html`.
//! Any path that would leave `--dir` (`..` segments, or a symbolic link pointing outside)
//! is refused with 403. Files are streamed, 64 KiB at a time, so the connection's flow
//! control paces reading the disk.

use bytes::{Bytes, BytesMut};
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

/// Bytes read from a file at a time.
const CHUNK: u64 = 64 << 10;
/// The most ranges one request may ask for; a Range with more is ignored (the whole file
/// is sent), as RFC 9110 §14.2 allows: many small ranges make a small request costly.
const MAX_RANGES: usize = 16;
/// Ranges closer than this are sent as one part: about what the head of a part costs
/// (RFC 9110 §14.6).
const COALESCE_GAP: u64 = 80;

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
    let file = tokio::fs::File::open(path).await?;
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
    let pieces = match range.map(|r| byte_ranges(r, len)) {
        None | Some(Ranges::Ignored) => vec![Piece::File { start: 0, count: len }],
        Some(Ranges::Unsatisfiable) => {
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let value = format!("bytes */{len}");
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&value).map_err(io::Error::other)?,
            );
            return Ok(response);
        }
        // RFC 9110 §15.3.7.1: one part, its range in the head.
        Some(Ranges::Satisfiable(ranges)) if ranges.len() == 1 => {
            let (first, last) = ranges[0];
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let value = format!("bytes {first}-{last}/{len}");
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&value).map_err(io::Error::other)?,
            );
            vec![Piece::File { start: first, count: last - first + 1 }]
        }
        // RFC 9110 §15.3.7.2: several, each with its own Content-Range, none in the head.
        Some(Ranges::Satisfiable(ranges)) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let boundary = boundary();
            let value = format!("multipart/byteranges; boundary={boundary}");
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&value).map_err(io::Error::other)?,
            );
            multipart(&ranges, mime(path), len, &boundary)
        }
    };
    let count: u64 = pieces.iter().map(Piece::len).sum();
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if !head && count > 0 {
        *response.body_mut() = file_body(file, pieces);
    }
    Ok(response)
}

/// What a body is made of: bytes of the file, and the heads of multipart parts.
enum Piece {
    File { start: u64, count: u64 },
    Text(Bytes),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::File { count, .. } => *count,
            Piece::Text(text) => text.len() as u64,
        }
    }
}

/// Streams `pieces`, the file's bytes read [`CHUNK`] at a time as the connection takes
/// them.
fn file_body(file: tokio::fs::File, pieces: Vec<Piece>) -> Body {
    let state = Some((file, pieces.into_iter(), 0u64));
    let frames = futures_util::stream::unfold(state, |state| async move {
        // `left`: bytes of the current file piece still to read.
        let (mut file, mut pieces, mut left) = state?;
        loop {
            if left > 0 {
                let mut buf = BytesMut::with_capacity(left.min(CHUNK) as usize);
                return match file.read_buf(&mut buf).await {
                    Ok(0) => Some((Err(io::ErrorKind::UnexpectedEof.into()), None)),
                    Ok(n) => {
                        let data = http_body::Frame::data(buf.freeze());
                        Some((Ok(data), Some((file, pieces, left - n as u64))))
                    }
                    Err(e) => Some((Err(e), None)),
                };
            }
            match pieces.next()? {
                Piece::Text(text) => {
                    return Some((Ok(http_body::Frame::data(text)), Some((file, pieces, 0))));
                }
                Piece::File { start, count } => {
                    if let Err(e) = file.seek(io::SeekFrom::Start(start)).await {
                        return Some((Err(e), None));
                    }
                    left = count;
                }
            }
        }
    });
    StreamBody::new(frames).boxed()
}

/// The pieces of a `multipart/byteranges` body (RFC 9110 §14.6, the syntax of RFC 2046
/// §5.1.1): each range after a delimiter and a head naming its type and range, then the
/// closing delimiter.
fn multipart(ranges: &[(u64, u64)], content_type: &str, len: u64, boundary: &str) -> Vec<Piece> {
    let mut pieces = Vec::with_capacity(2 * ranges.len() + 1);
    for (i, &(first, last)) in ranges.iter().enumerate() {
        // The CRLF before a delimiter belongs to the delimiter; the first needs none.
        let crlf = if i == 0 { "" } else { "\r\n" };
        let head = format!(
            "{crlf}--{boundary}\r\nContent-Type: {content_type}\r\n\
             Content-Range: bytes {first}-{last}/{len}\r\n\r\n"
        );
        pieces.push(Piece::Text(head.into()));
        pieces.push(Piece::File { start: first, count: last - first + 1 });
    }
    pieces.push(Piece::Text(format!("\r\n--{boundary}--\r\n").into()));
    pieces
}

/// A boundary no file is likely to contain: 128 random bits (RFC 2046 §5.1.1 asks that it
/// occur in no part; a fixed one could be planted in a file by whoever writes it).
fn boundary() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Each `RandomState` has keys of its own, random for the process.
    let random = || std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("h2proto-{:016x}{:016x}", random(), random())
}

enum Ranges {
    /// Not a Range we serve: answer with the whole file (RFC 9110 §14.2 lets a server
    /// ignore a Range it does not support, or an invalid one).
    Ignored,
    /// First and last byte of each range, inclusive, in the order to send them.
    Satisfiable(Vec<(u64, u64)>),
    /// No byte of any range exists (416).
    Unsatisfiable,
}

/// Parses `bytes=` and its ranges (RFC 9110 §14.1.2): `first-last`, `first-` or `-suffix`,
/// separated by commas. A range past the end is dropped (§14.1.1); if none is left, the
/// set is unsatisfiable. Ranges that overlap or nearly touch are merged (§14.6).
fn byte_ranges(value: &str, len: u64) -> Ranges {
    let Some(set) = value.trim().strip_prefix("bytes=") else { return Ranges::Ignored };
    // A list may hold empty elements (RFC 9110 §5.6.1).
    let specs: Vec<&str> = set.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if specs.is_empty() || specs.len() > MAX_RANGES {
        return Ranges::Ignored;
    }
    let mut ranges = Vec::with_capacity(specs.len());
    for spec in specs {
        match range_spec(spec, len) {
            Err(()) => return Ranges::Ignored,
            Ok(Some(range)) => ranges.push(range),
            Ok(None) => {}
        }
    }
    if ranges.is_empty() {
        return Ranges::Unsatisfiable;
    }
    Ranges::Satisfiable(coalesce(ranges))
}

/// One range of a file of `len` bytes: its first and last byte, `None` if none of its
/// bytes exists, `Err` if it is not a range at all.
fn range_spec(spec: &str, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let (first, last) = spec.split_once('-').ok_or(())?;
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| s.parse::<u64>().map_err(|_| ());
    let (first, last) = match (first.is_empty(), last.is_empty()) {
        // A suffix: the last N bytes.
        (true, false) => match number(last)? {
            0 => return Ok(None),
            n => (len.saturating_sub(n), len.saturating_sub(1)),
        },
        (false, true) => (number(first)?, len.saturating_sub(1)),
        (false, false) => match (number(first)?, number(last)?) {
            (a, b) if a <= b => (a, b.min(len.saturating_sub(1))),
            _ => return Err(()),
        },
        (true, true) => return Err(()),
    };
    Ok((first < len).then_some((first, last)))
}

/// Merges the ranges that overlap or lie within [`COALESCE_GAP`] of each other, whatever
/// their order (RFC 9110 §15.3.7.2); the rest keep the order of the request, a merged range
/// taking the place of its first member.
fn coalesce(ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    let mut by_start: Vec<(u64, u64, usize)> =
        ranges.into_iter().enumerate().map(|(at, (first, last))| (first, last, at)).collect();
    by_start.sort_unstable();
    let mut merged: Vec<(u64, u64, usize)> = Vec::with_capacity(by_start.len());
    for (first, last, at) in by_start {
        match merged.last_mut() {
            Some(prev) if first <= prev.1.saturating_add(COALESCE_GAP + 1) => {
                prev.1 = prev.1.max(last);
                prev.2 = prev.2.min(at);
            }
            _ => merged.push((first, last, at)),
        }
    }
    merged.sort_unstable_by_key(|&(_, _, at)| at);
    merged.into_iter().map(|(first, last, _)| (first, last)).collect()
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
