//! `h2proto-conformance`: tools to check HTTP/2 implementations, h2proto's own first.
//!
//! Subcommands (`run` is the default):
//! - `run`: the server conformance suite, against `--target` or the reference server.
//! - `serve`: the reference server in the foreground.
//! - `client-run`: the client-role suite against h2proto's clients.
//! - `fairness`: a probe's latency while other connections flood the server.
//! - `hpack`: check HPACK against hpack-test-case story files (see [`hpack_check`]).
//! - `requirements`: the RFC 9113 / RFC 7541 traceability check and report.

mod cli;
mod hpack_check;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("hpack") => hpack_check::main(&args[1..]),
        Some("run") => cli::run(&args[1..]),
        Some("serve") => cli::serve(&args[1..]),
        Some("client-run") => cli::client_run(&args[1..]),
        Some("fairness") => cli::fairness(&args[1..]),
        Some("requirements") => cli::requirements(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("h2proto-conformance {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(opt) if opt.starts_with("--") => cli::run(&args),
        None => cli::run(&[]),
        Some(other) => {
            eprintln!("unknown command {other:?}\n\n{}", cli::USAGE);
            ExitCode::from(2)
        }
    }
}
