//! The command line of the three client examples (tokio, blocking, mio), shared so they
//! behave alike: curl's options, output and exit codes. Each example includes this file
//! with `#[path]`; it knows nothing of HTTP/2 or of any adapter, only arguments, output
//! and how a failure maps to an exit code.
//!
//! Exit codes are curl's: 0 success (an HTTP error status too, unless `-f`), 1 unsupported
//! protocol, 2 bad usage, 3 malformed URL, 7 could not connect, 22 HTTP status >= 400 with
//! `-f`, 23 could not write the output, 26 could not read the `-d` file, 28 timeout,
//! 35 TLS handshake failed, 56 failure receiving data (reset, connection lost), 77 could
//! not read the CA certificates.
//!
//! `--max-time` defaults to 300 s: curl waits forever by default, which a script rarely
//! wants; five minutes is long enough for any transfer an example makes and short enough
//! that a stuck server does not hang a CI job.
#![allow(dead_code)] // each example uses the part that fits its adapter

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The default of `--max-time`, in seconds.
pub const DEFAULT_MAX_TIME: u64 = 300;
/// The default of `--connect-timeout`, in seconds: the adapters' clients' own default.
pub const DEFAULT_CONNECT_TIMEOUT: u64 = 10;
/// The default of `--retry`: the adapters' `RetryPolicy` default (only requests the
/// server did not process are ever sent again, so retrying is safe by default).
pub const DEFAULT_RETRIES: u32 = 3;

pub const HELP: &str = "\
usage: client [options] URL

  -X, --request METHOD   method (default GET, or POST with -d)
  -H, --header 'N: V'    add a request header (repeatable)
  -d, --data-binary @FILE  send FILE as the request body (also -d FILE)
  -o, --output FILE      write the body to FILE instead of stdout
  -i, --include          print the response head before the body
  -f, --fail             exit 22 without printing the body on HTTP status >= 400
  -m, --max-time SECS    give up after SECS seconds, exit 28 (default 300)
      --connect-timeout SECS  give up connecting after SECS seconds, exit 28
                         (default 10, or --max-time if shorter)
      --retry N          send a request the server did not process (REFUSED_STREAM,
                         above a GOAWAY's last stream, a connection lost before it left:
                         RFC 9113 §8.7) again, at most N times, after a jittered backoff
                         (default 3; 0: never)
      --cacert FILE      trust the PEM certificates in FILE (https, where TLS is built in)
  -h, --help             this text
  -V, --version          print the version and exit

URL: http://HOST[:PORT]/PATH (h2c, prior knowledge) or https://... where the adapter has
TLS. Exit codes as curl: 7 connect, 22 HTTP error with -f, 28 timeout, others non-zero.
";

/// What the command line asks for.
#[derive(Debug)]
pub struct Args {
    pub url: http::Uri,
    pub method: http::Method,
    pub headers: http::HeaderMap,
    pub data: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub include: bool,
    pub fail: bool,
    pub max_time: Duration,
    /// `--connect-timeout`, already no longer than `max_time`.
    pub connect_timeout: Duration,
    /// `--retry`: how many times a request the server did not process is sent again.
    pub retries: u32,
    pub cacert: Option<PathBuf>,
}

/// A failure, with the exit code curl gives it.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl std::fmt::Display) -> Failure {
        Failure { code, message: message.to_string() }
    }
    pub fn unsupported(message: impl std::fmt::Display) -> Failure {
        Failure::new(1, message)
    }
    pub fn connect(message: impl std::fmt::Display) -> Failure {
        Failure::new(7, message)
    }
    pub fn timeout(max_time: Duration) -> Failure {
        Failure::new(28, format!("operation timed out after {} s", max_time.as_secs_f64()))
    }
    pub fn tls(message: impl std::fmt::Display) -> Failure {
        Failure::new(35, message)
    }
    pub fn recv(message: impl std::fmt::Display) -> Failure {
        Failure::new(56, message)
    }
    pub fn write(message: impl std::fmt::Display) -> Failure {
        Failure::new(23, message)
    }
}

/// Text to print before exiting 0 (`--help`, `--version`), or what to do.
pub enum Command {
    Print(String),
    Run(Box<Args>),
}

/// What `--version` prints: the example's crate and its version, as `curl -V` opens.
pub fn version() -> String {
    format!("client ({} {})\n", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
}

/// Parses the command line (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, Failure> {
    let usage = |m: String| Failure::new(2, format!("{m}\n(try --help)"));
    let mut args = args.into_iter();
    let (mut url, mut method, mut headers) = (None, None, http::HeaderMap::new());
    let (mut data, mut output, mut include, mut fail) = (None, None, false, false);
    let (mut max_time, mut cacert) = (Duration::from_secs(DEFAULT_MAX_TIME), None);
    let mut connect_timeout = Duration::from_secs(DEFAULT_CONNECT_TIMEOUT);
    let mut retries = DEFAULT_RETRIES;
    let seconds = |name: &str, s: &str| -> Result<Duration, Failure> {
        match s.parse::<f64>() {
            Ok(secs) if secs > 0.0 && secs.is_finite() => Ok(Duration::from_secs_f64(secs)),
            _ => Err(usage(format!("bad {name} {s}"))),
        }
    };
    while let Some(arg) = args.next() {
        let mut value =
            |name: &str| args.next().ok_or_else(|| usage(format!("{name} needs a value")));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Print(HELP.to_owned())),
            "-V" | "--version" => return Ok(Command::Print(version())),
            "-X" | "--request" => {
                let m = value(&arg)?;
                method = Some(m.parse().map_err(|_| usage(format!("bad method {m}")))?);
            }
            "-H" | "--header" => {
                let h = value(&arg)?;
                let (name, v) =
                    h.split_once(':').ok_or_else(|| usage(format!("bad header {h}")))?;
                let name: http::HeaderName =
                    name.trim().parse().map_err(|_| usage(format!("bad header name in {h}")))?;
                let v = v.trim().parse().map_err(|_| usage(format!("bad header value in {h}")))?;
                headers.append(name, v);
            }
            "-d" | "--data-binary" | "--data" => {
                let d = value(&arg)?;
                data = Some(PathBuf::from(d.strip_prefix('@').unwrap_or(&d)));
            }
            "-o" | "--output" => output = Some(PathBuf::from(value(&arg)?)),
            "-i" | "--include" => include = true,
            "-f" | "--fail" => fail = true,
            "-m" | "--max-time" => max_time = seconds("--max-time", &value(&arg)?)?,
            "--connect-timeout" => {
                connect_timeout = seconds("--connect-timeout", &value(&arg)?)?;
            }
            "--retry" => {
                let n = value(&arg)?;
                retries = n.parse().map_err(|_| usage(format!("bad --retry {n}")))?;
            }
            "--cacert" => cacert = Some(PathBuf::from(value(&arg)?)),
            _ if arg.starts_with('-') && arg.len() > 1 => {
                return Err(usage(format!("unknown option {arg}")));
            }
            _ if url.is_none() => url = Some(arg),
            _ => return Err(usage(format!("unexpected argument {arg}"))),
        }
    }
    let url = url.ok_or_else(|| usage("no URL given".into()))?;
    let url: http::Uri = url.parse().map_err(|e| Failure::new(3, format!("{url}: {e}")))?;
    if url.host().is_none() {
        return Err(Failure::new(3, format!("{url}: the URL needs a host")));
    }
    match url.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(Failure::unsupported(format!("{url}: only http:// and https://"))),
    }
    let method =
        method.unwrap_or(if data.is_some() { http::Method::POST } else { http::Method::GET });
    let connect_timeout = connect_timeout.min(max_time);
    let args = Args {
        url,
        method,
        headers,
        data,
        output,
        include,
        fail,
        max_time,
        connect_timeout,
        retries,
        cacert,
    };
    Ok(Command::Run(Box::new(args)))
}

impl Args {
    /// Whether the URL asks for TLS.
    pub fn is_https(&self) -> bool {
        self.url.scheme_str() == Some("https")
    }

    /// For an example built without TLS: an `https://` URL is refused (exit 1, curl's
    /// "unsupported protocol") rather than sent in cleartext.
    pub fn cleartext_only(&self, adapter: &str) -> Result<(), Failure> {
        if self.is_https() {
            return Err(Failure::unsupported(format!(
                "https:// needs TLS: build this example with --features rustls ({adapter} \
                 speaks h2c over http:// without it)"
            )));
        }
        Ok(())
    }

    /// The PEM file of the CA certificates to trust for `https://`: `--cacert`, else
    /// `SSL_CERT_FILE`, else the system's bundle.
    pub fn ca_bundle(&self) -> PathBuf {
        self.cacert.clone().unwrap_or_else(|| {
            std::env::var_os("SSL_CERT_FILE")
                .map_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into(), Into::into)
        })
    }

    /// `host:port` to connect to (the scheme's port when the URL has none).
    pub fn addr(&self) -> (String, u16) {
        let host = self.url.host().unwrap_or_default().trim_matches(['[', ']']).to_owned();
        let port = self.url.port_u16().unwrap_or(if self.is_https() { 443 } else { 80 });
        (host, port)
    }

    /// The request head: method, URL and headers (the body is the adapter's).
    pub fn head(&self) -> http::Request<()> {
        let mut request = http::Request::new(());
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.url.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }

    /// The request body: the `-d` file's bytes, or none.
    pub fn body(&self) -> Result<Option<Vec<u8>>, Failure> {
        let Some(path) = &self.data else { return Ok(None) };
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::new(26, format!("{}: {e}", path.display())))?;
        Ok(Some(bytes))
    }

    /// Where the response goes, after the head is known: `None` with `-f` on an HTTP error
    /// (nothing is printed, as curl does). The head is written first with `-i`.
    pub fn output(&self, head: &http::response::Parts) -> Result<Option<Output>, Failure> {
        if self.fail && head.status.as_u16() >= 400 {
            return Ok(None);
        }
        let mut out: Box<dyn Write + Send> = match &self.output {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path)
                    .map_err(|e| Failure::write(format!("{}: {e}", path.display())))?,
            )),
            None => Box::new(std::io::stdout()),
        };
        if self.include {
            let mut text = format!("HTTP/2 {}\r\n", head.status.as_u16());
            for (name, value) in &head.headers {
                text.push_str(&format!(
                    "{name}: {}\r\n",
                    String::from_utf8_lossy(value.as_bytes())
                ));
            }
            text.push_str("\r\n");
            out.write_all(text.as_bytes()).map_err(Failure::write)?;
        }
        Ok(Some(Output(out)))
    }

    /// The outcome of a transfer whose head had `status`: 22 with `-f` on an error status.
    pub fn verdict(&self, status: http::StatusCode) -> Result<(), Failure> {
        if self.fail && status.as_u16() >= 400 {
            return Err(Failure::new(22, format!("the requested URL returned error: {status}")));
        }
        Ok(())
    }
}

/// The body's destination.
pub struct Output(Box<dyn Write + Send>);

impl Output {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.0.write_all(bytes).map_err(Failure::write)
    }
    pub fn finish(mut self) -> Result<(), Failure> {
        self.0.flush().map_err(Failure::write)
    }
}

/// Parses the process's arguments and runs `fetch` (which returns the response status)
/// within `--max-time`, on a thread of its own so that a transfer stuck anywhere ends with
/// exit 28. Prints the failure, if any, to stderr; returns the exit code.
/// The `rustls::RootCertStore` of the CA certificates to trust ([`Args::ca_bundle`]), or
/// curl's 77 if they cannot be read. A macro, for the `rustls` each adapter re-exports
/// (`use h2proto_ADAPTER::tls::rustls` where it is used).
#[allow(unused_macros)] // the examples built with TLS use it
macro_rules! trusted_roots {
    ($args:expr) => {{
        use rustls::pki_types::pem::PemObject;
        let bundle = $args.ca_bundle();
        rustls::pki_types::CertificateDer::pem_file_iter(&bundle)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map(|certs| {
                let mut roots = rustls::RootCertStore::empty();
                roots.add_parsable_certificates(certs);
                roots
            })
            .map_err(|e| {
                $crate::curl_cli::Failure::new(
                    77,
                    format!("CA certificates {}: {e}", bundle.display()),
                )
            })
    }};
}
#[allow(unused_imports)]
pub(crate) use trusted_roots;

/// The `main` of a client example whose `fetch` is blocking: parses the arguments (or
/// prints `--help`/`--version`), fetches, and maps the outcome to curl's exit code.
/// `--max-time` is `fetch`'s to keep, through its client's own timeouts.
pub fn main_sync(fetch: impl FnOnce(&Args) -> Result<http::StatusCode, Failure>) -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Command::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(args)) => args,
        Err(failure) => return exit(failure),
    };
    match fetch(&args).and_then(|status| args.verdict(status)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => exit(failure),
    }
}

/// Prints `failure` as curl does and returns its exit code.
pub fn exit(failure: Failure) -> ExitCode {
    let _ = std::io::stdout().flush();
    eprintln!("client: ({}) {}", failure.code, failure.message);
    ExitCode::from(failure.code)
}
