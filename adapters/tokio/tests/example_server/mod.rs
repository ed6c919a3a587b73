//! Runs a server example (`axum_hello`, `axum_hyper`, `tonic_echo`) the way a user would:
//! built with the cargo running the test, started on an ephemeral port, its address read
//! from the line it prints, and killed (by its own handle) when the test drops it.
#![allow(dead_code)]

#[path = "../cli_support/mod.rs"]
mod cli_support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// A running example server.
pub struct Running {
    child: Child,
    pub addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds example `name` of h2proto-tokio.
pub fn build(name: &str) -> std::path::PathBuf {
    cli_support::example("h2proto-tokio", name, &[])
}

/// Starts example `name` on 127.0.0.1 (an ephemeral port) and waits for its "listening on
/// http://ADDR" line.
pub fn start(name: &str, extra: &[&str]) -> Running {
    let bin = build(name);
    let mut child = Command::new(bin)
        .args(["--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{name} printed {line:?}, not its address"));
    Running { child, addr }
}

/// `--help` and `--version` exit 0 with usage and `NAME VERSION` on stdout.
pub fn check_help_and_version(name: &str) {
    let bin = build(name);
    let help = Command::new(&bin).arg("--help").output().unwrap();
    assert!(help.status.success());
    let usage = String::from_utf8_lossy(&help.stdout);
    assert!(usage.contains(&format!("usage: {name}")) && usage.contains("--addr"), "{usage}");
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("{name} {}\n", env!("CARGO_PKG_VERSION"))
    );
    let bad = Command::new(&bin).arg("--bogus").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
