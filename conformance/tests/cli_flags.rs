//! Every binary and example of the workspace behaves like the classic tools people script:
//! `--help` prints its usage on stdout and exits 0, `--version` prints its name and version
//! and exits 0. The targets are read from `cargo metadata`, so a new example is checked
//! without being listed here.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one `--help` or `--version` run may take.
const RUN_LIMIT: Duration = Duration::from_secs(20);

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The workspace's (kind, name) targets that are programs: `bin` and `example`.
fn programs() -> Vec<(String, String)> {
    let output = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "cargo metadata failed");
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    let mut programs = Vec::new();
    for package in metadata["packages"].as_array().expect("packages") {
        for target in package["targets"].as_array().expect("targets") {
            let name = target["name"].as_str().expect("target name");
            for kind in target["kind"].as_array().expect("target kinds") {
                let kind = kind.as_str().expect("kind");
                if kind == "bin" || kind == "example" {
                    programs.push((kind.to_owned(), name.to_owned()));
                }
            }
        }
    }
    programs
}

/// Builds every bin and example of the workspace with every feature into this test's
/// target directory; returns the profile directory (`.../target/debug`).
fn build_all() -> PathBuf {
    // .../target/debug/deps/cli_flags-HASH -> .../target/debug
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf();
    let status = cargo()
        .args(["build", "-q", "--workspace", "--bins", "--examples", "--all-features"])
        .arg("--target-dir")
        .arg(profile_dir.parent().unwrap())
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the workspace's programs failed");
    profile_dir
}

/// Runs `bin arg` with a deadline; returns (exit code, stdout).
fn run(bin: &Path, arg: &str) -> (Option<i32>, String) {
    let mut child = Command::new(bin)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stdout = String::new();
            use std::io::Read;
            child.stdout.take().unwrap().read_to_string(&mut stdout).expect("read stdout");
            return (status.code(), stdout);
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} {arg} still running after {RUN_LIMIT:?}", bin.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_program_answers_help_and_version() {
    let programs = programs();
    // The conformance runner and the curl-like clients at least: the list is not empty.
    assert!(programs.iter().any(|(kind, _)| kind == "bin"), "{programs:?}");
    assert!(programs.iter().filter(|(kind, _)| kind == "example").count() >= 6, "{programs:?}");
    let profile_dir = build_all();
    let mut failures = Vec::new();
    for (kind, name) in &programs {
        let bin = match kind.as_str() {
            "bin" => profile_dir.join(name),
            _ => profile_dir.join("examples").join(name),
        };
        let (code, help) = run(&bin, "--help");
        if code != Some(0) || !help.to_lowercase().contains("usage") {
            failures.push(format!("{name} --help: exit {code:?}, stdout {help:?}"));
        }
        let (code, version) = run(&bin, "--version");
        let expected = env!("CARGO_PKG_VERSION");
        if code != Some(0) || !version.contains(expected) {
            failures.push(format!("{name} --version: exit {code:?}, stdout {version:?}"));
        }
    }
    assert!(failures.is_empty(), "programs that do not behave:\n{}", failures.join("\n"));
}
