//! `h2proto-conformance`: tools to check HTTP/2 implementations, h2proto's own first.
//!
//! Subcommands:
//! - `hpack [--encode] [--table-size N] FILE...`: check HPACK against hpack-test-case
//!   story files (see [`hpack_check`]).

mod hpack_check;

use std::process::ExitCode;

const USAGE: &str = "\
usage: h2proto-conformance <command> [options]

commands:
  hpack [--encode] [--table-size N] FILE...
      Decode every case of each hpack-test-case story FILE and compare it with the
      expected headers. With --encode, encode each story's headers with h2proto's
      encoder instead and decode them back, reporting the encoded size. --table-size
      sets the dynamic table size used for --encode (default: 4096, or the story's own
      header_table_size).";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("hpack") => hpack_check::main(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
