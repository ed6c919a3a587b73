//! The command line of the example servers, shared by every adapter's examples (each
//! includes this file with `#[path]`) so they take the same options: `--addr HOST:PORT`,
//! `--help` and `--version`, like the classic servers people script.
#![allow(dead_code)] // not every example uses every part

/// Parses `--addr HOST:PORT` (default `127.0.0.1:8080`), `--help` and `--version` from the
/// process's arguments. `--help` prints `usage` with the options, `--version` the crate and
/// its version; both exit 0. Anything else prints the usage to stderr and exits 2.
pub fn addr(name: &str, about: &str) -> String {
    let help = format!(
        "{about}\n\nusage: {name} [--addr HOST:PORT]\n\n  \
         --addr HOST:PORT  listen there (default 127.0.0.1:8080)\n  \
         -h, --help        this text\n  \
         -V, --version     print the version and exit\n"
    );
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => match args.next() {
                Some(value) => addr = value,
                None => usage_error(&help, "--addr needs a value"),
            },
            "-h" | "--help" => {
                print!("{help}");
                std::process::exit(0);
            }
            "-V" | "--version" => {
                println!("{name} ({} {})", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            other => usage_error(&help, &format!("unexpected argument {other}")),
        }
    }
    addr
}

fn usage_error(help: &str, message: &str) -> ! {
    eprintln!("{message}\n\n{help}");
    std::process::exit(2);
}
