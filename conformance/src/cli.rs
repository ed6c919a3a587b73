//! Command-line parsing and the `run`, `serve`, `client-run` and `requirements` commands.

use h2proto_conformance::doubles::Double;
use h2proto_conformance::requirements::{self, Registry};
use h2proto_conformance::runner::{self, Options, Report};
use h2proto_conformance::server::{self, Runtime};
use h2proto_conformance::{client, report};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

pub(crate) const USAGE: &str = "\
usage: h2proto-conformance [command] [options]

commands:
  run (the default)
      [--target HOST:PORT] [--strict] [--only SECTION...] [--report junit|json FILE]
      [--runtime tokio|blocking|mio|core|all] [--path PATH] [--timeout SECS] [--jobs N]
      [--list]
      Run the server conformance suite. Without --target the reference server is started
      in-process on an ephemeral 127.0.0.1 port, once per runtime (default: all adapters).
      Cases are grouped like h2spec: generic/*, http2/<section>, hpack/<section>, plus
      rfc9113/*, rfc8441/*, rfc9218/* and dos/*. --only takes id prefixes (http2/6.5,
      hpack, generic/3.1/2). By default a deviation the RFC frames loosely (a bare close
      instead of GOAWAY, a connection error where a stream error is required, a SHOULD) is
      a warning; --strict makes it a failure. --path is the resource requested where a
      case needs a 2xx response with some content (default /). --timeout is how long each
      wait lasts (default 2). Prints a table and `N passed, M failed`; exit status 1 on any failure.
  serve [--addr 127.0.0.1:PORT] [--runtime tokio|blocking|mio|core] [--workers N]
      The reference server in the foreground (default 127.0.0.1:8080, tokio): GET/HEAD/POST
      on any path -> 200 and a few hundred bytes, /echo streams the body back, /bytes/N
      sends N bytes, /sink reads the body then answers 13 bytes; extended CONNECT is an
      echo tunnel. --workers: tokio's worker threads (default 2; 0 runs a current-thread
      runtime) or mio's event-loop threads (default 1); the other runtimes ignore it.
  fairness [--target HOST:PORT | --runtime tokio|blocking|mio|core] [--workers N]
      [--seconds S] [--flood headers|continuation|data|all] [--flooders N]
      How a well-behaved client fares while other connections flood the server: a probe
      sends one GET at a time (1 ms apart) and its latencies are reported (p50, p95, p99,
      max), alone and beside each flood (default all, 1 flooder, 3 s each). Every flood is
      legal within the default Config limits (see the fairness module). Without --target
      the reference server runs in-process (default mio, 1 thread). Reports, never judges:
      exit 1 only when the probe could not run or no probe request succeeded.
  client-run [--runtime tokio|blocking|mio|core|all] [--only CASE...]
      The client-role suite: a scripted server on a loopback port misbehaves on purpose and
      h2proto's client, driven through each runtime, must react as RFC 9113 requires.
  hpack [--encode] [--table-size N] FILE...
      Decode every case of each hpack-test-case story FILE and compare it with the
      expected headers (a story without wire data is encoded and decoded back; every
      field of the story format is read, null as if absent). With --encode, encode each story's headers with h2proto's
      encoder instead and decode them back, reporting the encoded size. --table-size
      sets the dynamic table size used for --encode (default: 4096, or the story's own
      header_table_size).
  requirements [--missing] [--markdown] [--write FILE] [--root DIR]
      The traceability check: every normative statement of RFC 9113 and RFC 7541 in
      conformance/requirements/*.toml, with the code sites that keep it (`// req <id>`
      comments in src/, adapters/*/src/, conformance/src/) and the tests that prove it.
      Prints them by RFC and section, the exempt ones apart, counts by level and RFC, the
      problems, and last `N of M requirements traced to code and test`. --missing prints
      only the untraced ones; --markdown prints the Markdown report instead; --write FILE
      also writes that report to FILE (conformance/REQUIREMENTS.md is the checked-in one).
      --root is the repository (default: the nearest directory up from here that holds
      conformance/requirements). Exit status 1 on a problem (malformed entry, duplicate
      id, annotation naming an unknown id, cited test missing), not on untraced ones.";

fn usage_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

/// Values following a flag, up to the next flag.
fn values(args: &[String], i: &mut usize) -> Vec<String> {
    let mut out = Vec::new();
    while *i + 1 < args.len() && !args[*i + 1].starts_with("--") {
        *i += 1;
        out.push(args[*i].clone());
    }
    out
}

fn one_value(args: &[String], i: &mut usize, flag: &str) -> Result<String, String> {
    *i += 1;
    args.get(*i).cloned().ok_or_else(|| format!("{flag} needs a value"))
}

fn runtimes(name: &str) -> Result<Vec<Runtime>, String> {
    if name == "all" {
        return Ok(Runtime::ADAPTERS.to_vec());
    }
    Runtime::parse(name).map(|r| vec![r]).ok_or_else(|| format!("unknown runtime {name:?}"))
}

struct RunArgs {
    target: Option<String>,
    options: Options,
    report: Option<(String, String)>,
    runtimes: Vec<Runtime>,
    list: bool,
    double: Option<Double>,
}

fn parse_run(args: &[String]) -> Result<RunArgs, String> {
    let mut run = RunArgs {
        target: None,
        options: Options::default(),
        report: None,
        runtimes: Runtime::ADAPTERS.to_vec(),
        list: false,
        double: None,
    };
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--target" => run.target = Some(one_value(args, &mut i, "--target")?),
            "--strict" => run.options.strict = true,
            "--list" => run.list = true,
            "--double" => {
                let name = one_value(args, &mut i, "--double")?;
                let double = Double::ALL.into_iter().find(|d| format!("{d:?}") == name);
                run.double = Some(double.ok_or_else(|| format!("unknown double {name:?}"))?);
            }
            "--only" => {
                let v = values(args, &mut i);
                if v.is_empty() {
                    return Err("--only needs at least one section".into());
                }
                run.options.only.extend(v);
            }
            "--report" => {
                let format = one_value(args, &mut i, "--report")?;
                let file = one_value(args, &mut i, "--report")?;
                if format != "junit" && format != "json" {
                    return Err(format!("unknown report format {format:?}"));
                }
                run.report = Some((format, file));
            }
            "--runtime" => run.runtimes = runtimes(&one_value(args, &mut i, "--runtime")?)?,
            "--timeout" => {
                let v = one_value(args, &mut i, "--timeout")?;
                let secs: f64 = v.parse().map_err(|_| format!("bad --timeout {v:?}"))?;
                run.options.wait = Duration::from_secs_f64(secs.clamp(0.05, 60.0));
            }
            "--path" => run.options.path = one_value(args, &mut i, "--path")?,
            "--jobs" => {
                let v = one_value(args, &mut i, "--jobs")?;
                run.options.jobs = v.parse().map_err(|_| format!("bad --jobs {v:?}"))?;
            }
            other => return Err(format!("unknown option {other:?}")),
        }
        i += 1;
    }
    Ok(run)
}

fn resolve(target: &str) -> Result<SocketAddr, String> {
    target
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {target}: {e}"))?
        .next()
        .ok_or_else(|| format!("{target} resolves to no address"))
}

fn write_report(format: &str, file: &str, report: &Report, target: &str) -> Result<(), String> {
    let text = match format {
        "json" => report::json(report, target),
        _ => report::junit(report, target),
    };
    std::fs::write(file, text).map_err(|e| format!("cannot write {file}: {e}"))
}

/// `report.json` -> `report.tokio.json` when several runtimes run.
fn report_file(file: &str, runtime: Runtime, several: bool) -> String {
    if !several {
        return file.to_string();
    }
    match file.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{}.{ext}", runtime.name()),
        None => format!("{file}.{}", runtime.name()),
    }
}

/// A server to run the suite against: label, address, authority, the in-process server
/// to keep alive (if any) and its runtime.
type Target = (String, SocketAddr, String, Option<server::Server>, Option<Runtime>);

pub(crate) fn run(args: &[String]) -> ExitCode {
    let run = match parse_run(args) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    if run.list {
        for (id, _, case) in runner::all_cases() {
            if runner::selected(&id, &run.options.only) {
                println!("{id:<20} {}", case.desc);
            }
        }
        return ExitCode::SUCCESS;
    }
    let mut targets: Vec<Target> = Vec::new();
    if let Some(double) = run.double {
        let server = match double.spawn() {
            Ok(s) => s,
            Err(e) => return usage_error(e),
        };
        let addr = server.addr();
        targets.push((
            format!("test double {double:?} ({addr})"),
            addr,
            addr.to_string(),
            Some(server),
            None,
        ));
    }
    match &run.target {
        _ if run.double.is_some() => {}
        Some(target) => match resolve(target) {
            Ok(addr) => targets.push((target.clone(), addr, target.clone(), None, None)),
            Err(e) => return usage_error(e),
        },
        None => {
            for &runtime in &run.runtimes {
                let addr = "127.0.0.1:0".parse().expect("literal address");
                match server::spawn(runtime, addr) {
                    Ok(s) => {
                        let addr = s.addr();
                        let label = format!("reference server on {} ({addr})", runtime.name());
                        targets.push((label, addr, addr.to_string(), Some(s), Some(runtime)));
                    }
                    Err(e) => {
                        eprintln!("error: cannot start the reference server: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
        }
    }
    let several = targets.len() > 1;
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (label, addr, authority, server, runtime) in targets {
        println!("== {label}{}", if run.options.strict { " (strict)" } else { "" });
        let report = runner::run(addr, &authority, &run.options);
        print!("{}", report.table());
        if several {
            println!("{}: {} passed, {} failed\n", label, report.passed(), report.failed());
        }
        passed += report.passed();
        failed += report.failed();
        skipped += report.skipped();
        if let Some((format, file)) = &run.report {
            let file = match runtime {
                Some(r) => report_file(file, r, several),
                None => file.clone(),
            };
            if let Err(e) = write_report(format, &file, &report, &label) {
                eprintln!("error: {e}");
                failed += 1;
            }
        }
        drop(server);
    }
    println!("{}", summary(passed, failed, skipped));
    if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// The closing line: `N passed, M failed`, and `, K skipped` when cases did not run (a
/// skipped case is neither a pass nor hidden).
fn summary(passed: usize, failed: usize, skipped: usize) -> String {
    if skipped == 0 {
        format!("{passed} passed, {failed} failed")
    } else {
        format!("{passed} passed, {failed} failed, {skipped} skipped")
    }
}

pub(crate) fn serve(args: &[String]) -> ExitCode {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut runtime = Runtime::Tokio;
    let mut workers = None;
    let mut i = 0;
    while i < args.len() {
        let parsed = match args[i].as_str() {
            "--addr" => one_value(args, &mut i, "--addr").map(|v| addr = v),
            "--workers" => one_value(args, &mut i, "--workers").and_then(|v| {
                workers =
                    Some(v.parse().map_err(|_| format!("--workers wants a number, not {v:?}"))?);
                Ok(())
            }),
            "--runtime" => one_value(args, &mut i, "--runtime").and_then(|v| {
                runtime = Runtime::parse(&v).ok_or_else(|| format!("unknown runtime {v:?}"))?;
                Ok(())
            }),
            other => Err(format!("unknown option {other:?}")),
        };
        if let Err(e) = parsed {
            return usage_error(e);
        }
        i += 1;
    }
    let addr = match resolve(&addr) {
        Ok(a) => a,
        Err(e) => return usage_error(e),
    };
    match server::spawn_with_workers(runtime, addr, workers) {
        Ok(server) => {
            println!(
                "h2proto reference server on {} listening on http://{}",
                runtime.name(),
                server.addr()
            );
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn client_run(args: &[String]) -> ExitCode {
    let mut selected = Runtime::ADAPTERS.to_vec();
    let mut only = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--runtime" => match one_value(args, &mut i, "--runtime").and_then(|v| runtimes(&v)) {
                Ok(r) => selected = r,
                Err(e) => return usage_error(e),
            },
            "--only" => only.extend(values(args, &mut i)),
            other => return usage_error(format!("unknown option {other:?}")),
        }
        i += 1;
    }
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for runtime in selected {
        println!("== h2proto client on {}", runtime.name());
        let report = client::run(runtime, &only);
        print!("{}", report.table());
        println!("{}: {} passed, {} failed\n", runtime.name(), report.passed(), report.failed());
        passed += report.passed();
        failed += report.failed();
        skipped += report.skipped();
    }
    println!("{}", summary(passed, failed, skipped));
    if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// The repository root: the nearest directory up from the current one that holds the
/// requirement files, else the one this binary was built from.
fn repo_root() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_default();
    let found = here.ancestors().find(|d| d.join(requirements::REQUIREMENTS_DIR).is_dir());
    match found {
        Some(dir) => dir.to_path_buf(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
    }
}

pub(crate) fn requirements(args: &[String]) -> ExitCode {
    let (mut missing, mut markdown, mut write, mut root) = (false, false, None, None);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--missing" => missing = true,
            "--markdown" => markdown = true,
            "--write" => match one_value(args, &mut i, "--write") {
                Ok(v) => write = Some(v),
                Err(e) => return usage_error(e),
            },
            "--root" => match one_value(args, &mut i, "--root") {
                Ok(v) => root = Some(PathBuf::from(v)),
                Err(e) => return usage_error(e),
            },
            other => return usage_error(format!("unknown option {other:?}")),
        }
        i += 1;
    }
    let root = root.unwrap_or_else(repo_root);
    let trace = requirements::check(&root, &Registry::builtin());
    if markdown {
        print!("{}", requirements::report::markdown(&trace));
    } else {
        print!("{}", requirements::report::text(&trace, missing));
    }
    if let Some(file) = write {
        if let Err(e) = std::fs::write(&file, requirements::report::markdown(&trace)) {
            eprintln!("error: cannot write {file}: {e}");
            return ExitCode::FAILURE;
        }
    }
    if trace.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

pub(crate) fn fairness(args: &[String]) -> ExitCode {
    use h2proto_conformance::fairness::{self, Flood, Options};
    let (mut target, mut runtime, mut workers) = (None, Runtime::Mio, None);
    let (mut seconds, mut floods, mut flooders) = (3.0f64, Flood::ALL.to_vec(), 1usize);
    let mut i = 0;
    while i < args.len() {
        let parsed = match args[i].as_str() {
            "--target" => one_value(args, &mut i, "--target").map(|v| target = Some(v)),
            "--runtime" => one_value(args, &mut i, "--runtime").and_then(|v| {
                runtime = Runtime::parse(&v).ok_or_else(|| format!("unknown runtime {v:?}"))?;
                Ok(())
            }),
            "--workers" => one_value(args, &mut i, "--workers").and_then(|v| {
                workers =
                    Some(v.parse().map_err(|_| format!("--workers wants a number, not {v:?}"))?);
                Ok(())
            }),
            "--seconds" => one_value(args, &mut i, "--seconds").and_then(|v| {
                seconds = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && s.is_finite())
                    .ok_or_else(|| format!("--seconds wants a positive number, not {v:?}"))?;
                Ok(())
            }),
            "--flood" => one_value(args, &mut i, "--flood").and_then(|v| {
                floods = match v.as_str() {
                    "all" => Flood::ALL.to_vec(),
                    name => vec![Flood::parse(name).ok_or_else(|| format!("unknown flood {v:?}"))?],
                };
                Ok(())
            }),
            "--flooders" => one_value(args, &mut i, "--flooders").and_then(|v| {
                flooders = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--flooders wants a positive number, not {v:?}"))?;
                Ok(())
            }),
            other => Err(format!("unknown option {other:?}")),
        };
        if let Err(e) = parsed {
            return usage_error(e);
        }
        i += 1;
    }
    let (addr, _server) = match target {
        Some(t) => match resolve(&t) {
            Ok(a) => (a, None),
            Err(e) => return usage_error(e),
        },
        None => {
            match server::spawn_with_workers(runtime, "127.0.0.1:0".parse().unwrap(), workers) {
                Ok(s) => (s.addr(), Some(s)),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let options = Options {
        target: addr,
        duration: Duration::from_secs_f64(seconds),
        flooders,
        probe_interval: Duration::from_millis(1),
    };
    let mut scenarios = Vec::new();
    for flood in std::iter::once(None).chain(floods.into_iter().map(Some)) {
        match fairness::run(&options, flood) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    print!("{}", fairness::table(&scenarios));
    if scenarios.iter().any(|s| s.latencies.is_empty()) {
        eprintln!("error: a scenario had no successful probe request");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
