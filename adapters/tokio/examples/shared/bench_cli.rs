//! The command line and the report line of the small client benches (`bench_hyper`,
//! `bench_h2`) that benches/clients.sh runs next to h2load and `load`: h2load's `-n`,
//! `-c`, `-m` and one URL; the result is one line of `key=value` fields.

use clap::Parser;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Parser, Debug)]
pub struct Args {
    /// Requests in all.
    #[arg(short = 'n', long = "requests", default_value_t = 1)]
    pub requests: u64,
    /// Connections (where the client lets the caller choose) / groups of tasks.
    #[arg(short = 'c', long = "clients", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub clients: u32,
    /// Requests in flight per connection.
    #[arg(short = 'm', long = "max-concurrent-streams", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub streams: u32,
    /// http://HOST:PORT/PATH, h2c with prior knowledge.
    pub uri: http::Uri,
}

/// Requests left to start, shared by every task.
pub struct Tickets(AtomicU64);

impl Tickets {
    pub fn new(n: u64) -> Tickets {
        Tickets(AtomicU64::new(n))
    }

    pub fn take(&self) -> bool {
        self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok()
    }
}

/// What one task measured.
#[derive(Default)]
pub struct Tally {
    pub ok: u64,
    pub failed: u64,
    pub latency: Duration,
    pub max: Duration,
}

impl Tally {
    pub fn record(&mut self, ok: bool, latency: Duration) {
        if ok {
            self.ok += 1;
            self.latency += latency;
            self.max = self.max.max(latency);
        } else {
            self.failed += 1;
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.latency += other.latency;
        self.max = self.max.max(other.max);
    }

    /// Prints the result line; the exit status is 1 if any request failed.
    pub fn report(&self, elapsed: Duration) -> std::process::ExitCode {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let mean = self.latency.as_secs_f64() * 1e6 / self.ok.max(1) as f64;
        println!(
            "requests={} failed={} seconds={secs:.3} req_per_s={:.0} mean_us={mean:.0} max_us={}",
            self.ok,
            self.failed,
            self.ok as f64 / secs,
            self.max.as_micros()
        );
        if self.failed > 0 || self.ok == 0 {
            std::process::ExitCode::FAILURE
        } else {
            std::process::ExitCode::SUCCESS
        }
    }
}
