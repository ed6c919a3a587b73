//! `--help` and `--version` of the TLS and WebSocket examples (the `https_server` and `sse`
//! examples are run in their own tests): usage on stdout and exit 0, `NAME VERSION`, and
//! exit 2 on an unknown argument.

#[path = "cli_support/mod.rs"]
mod cli_support;

fn check(name: &str, features: &[&str], usage_mentions: &str) {
    let bin = cli_support::example("h2proto-tokio", name, features);
    let help = cli_support::run(&bin, &["--help"]);
    assert_eq!(help.code, 0, "{help:?}");
    assert!(String::from_utf8_lossy(&help.stdout).contains(usage_mentions), "{help:?}");
    let version = cli_support::run(&bin, &["--version"]);
    assert_eq!(version.code, 0, "{version:?}");
    let expected = format!("{name} {}\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(String::from_utf8_lossy(&version.stdout), expected);
    assert_eq!(cli_support::run(&bin, &["--bogus"]).code, 2);
}

#[test]
fn ws_echo_has_help_and_version() {
    check("ws_echo", &[], "--server HOST:PORT");
}

#[cfg(feature = "rustls")]
#[test]
fn tls_has_help_and_version() {
    check("tls", &["rustls"], "usage: tls");
}
