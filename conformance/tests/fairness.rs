//! The fairness probe (`h2proto-conformance fairness`, `benches/fairness.sh`) measures
//! what it claims: against the reference server on each single-thread adapter, every kind
//! of flood really runs (megabytes of it), stays legal (the server never closes the flood
//! connection: no limit or glitch budget trips on it), and the probe is answered beside it
//! every time. Latencies are printed, not asserted: they are timings.

use h2proto_conformance::fairness::{self, Flood, Options};
use h2proto_conformance::server::{self, Runtime};
use std::time::Duration;

fn check(runtime: Runtime, workers: Option<usize>) {
    let server = server::spawn_with_workers(runtime, "127.0.0.1:0".parse().unwrap(), workers)
        .expect("start the reference server");
    let options = Options {
        target: server.addr(),
        duration: Duration::from_millis(600),
        flooders: 1,
        probe_interval: Duration::from_millis(1),
    };
    let mut scenarios = Vec::new();
    for flood in std::iter::once(None).chain(Flood::ALL.map(Some)) {
        let s = fairness::run(&options, flood).expect("the probe runs");
        let name = flood.map_or("none", Flood::name);
        assert!(!s.latencies.is_empty(), "{name}: no probe request was answered");
        assert_eq!(s.probe_errors, 0, "{name}: probe requests failed");
        if flood.is_some() {
            assert!(s.flood_bytes > 256 << 10, "{name}: the flood sent {} bytes", s.flood_bytes);
            assert_eq!(
                (s.flood_connections, &s.closes),
                (1, &Vec::<String>::new()),
                "{name}: the server closed a legal flood connection"
            );
        }
        scenarios.push(s);
    }
    println!("{} server:\n{}", runtime.name(), fairness::table(&scenarios));
    server.stop();
}

#[test]
fn every_flood_runs_legally_beside_the_probe_on_mio() {
    check(Runtime::Mio, None);
}

#[test]
fn every_flood_runs_legally_beside_the_probe_on_tokio_current_thread() {
    check(Runtime::Tokio, Some(0));
}
