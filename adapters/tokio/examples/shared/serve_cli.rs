//! The command line of the tower examples (`axum_hello`, `axum_hyper`, `tonic_echo`),
//! shared so they take the same options and a benchmark script can start any of them the
//! same way. Each example includes this file with `#[path]`.

use std::io::Write;

/// What the command line asks for.
pub struct Options {
    /// Where to listen.
    pub addr: String,
    /// Worker threads: 0 for a current-thread runtime (one thread, as the hyper baseline
    /// of `benches/servers.sh`).
    pub workers: usize,
}

impl Options {
    /// Parses `std::env::args`; prints usage or the version and exits when asked, or on a
    /// bad argument (exit 2).
    pub fn parse(name: &str, about: &str) -> Options {
        let usage = format!(
            "{about}\n\nusage: {name} [--addr HOST:PORT] [--workers N]\n\n  \
             --addr HOST:PORT  where to listen (default 127.0.0.1:8080)\n  \
             --workers N       tokio worker threads; 0 (default) runs a current-thread runtime\n  \
             -h, --help        this text\n  \
             -V, --version     print the version\n"
        );
        let mut options = Options { addr: "127.0.0.1:8080".into(), workers: 0 };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = |what: &str| {
                args.next().unwrap_or_else(|| fail(name, &format!("{arg} needs {what}")))
            };
            match arg.as_str() {
                "-h" | "--help" => {
                    print!("{usage}");
                    std::process::exit(0);
                }
                "-V" | "--version" => {
                    println!("{name} {}", env!("CARGO_PKG_VERSION"));
                    std::process::exit(0);
                }
                "--addr" => options.addr = value("HOST:PORT"),
                "--workers" => {
                    let n = value("a number");
                    options.workers =
                        n.parse().unwrap_or_else(|_| fail(name, &format!("bad --workers {n}")));
                }
                _ => fail(name, &format!("unknown argument {arg}")),
            }
        }
        options
    }

    /// The runtime the options ask for.
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        match self.workers {
            0 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
            n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build(),
        }
    }
}

/// Tells where the server listens (a script waits for this line).
pub fn listening(what: &str, addr: std::net::SocketAddr) -> std::io::Result<()> {
    println!("{what} listening on http://{addr}");
    std::io::stdout().flush()
}

fn fail(name: &str, message: &str) -> ! {
    eprintln!("{name}: {message}\n(try --help)");
    std::process::exit(2);
}
