//! Prints runs: a text table like h2load's, or CSV / JSON rows; with several runs, the
//! mean and standard deviation of every column.

use crate::stats::Stats;
use std::io::{self, Write};
use std::time::Duration;

/// One finished run.
pub struct Run {
    pub elapsed: Duration,
    pub stats: Stats,
}

/// The figures of a run, in the order of [`COLUMNS`].
const COLUMNS: [&str; 17] = [
    "requests",
    "succeeded",
    "errors",
    "seconds",
    "requests_per_s",
    "bytes_per_s",
    "min_us",
    "mean_us",
    "p50_us",
    "p90_us",
    "p95_us",
    "p99_us",
    "max_us",
    "ttfb_p50_us",
    "ttfb_p99_us",
    "status_2xx",
    "status_non_2xx",
];

fn row(run: &Run) -> [f64; 17] {
    let s = &run.stats;
    let secs = run.elapsed.as_secs_f64().max(1e-9);
    let l = &s.latency;
    let q = |h: &hdrhistogram::Histogram<u32>, p: f64| h.value_at_quantile(p) as f64;
    [
        (s.responses() + s.failed) as f64,
        s.succeeded() as f64,
        s.errors() as f64,
        secs,
        s.responses() as f64 / secs,
        s.bytes as f64 / secs,
        l.min() as f64,
        l.mean(),
        q(l, 0.50),
        q(l, 0.90),
        q(l, 0.95),
        q(l, 0.99),
        l.max() as f64,
        q(&s.ttfb, 0.50),
        q(&s.ttfb, 0.99),
        s.status[1] as f64,
        (s.status[0] + s.status[2] + s.status[3] + s.status[4]) as f64,
    ]
}

/// Mean and sample standard deviation.
fn mean_sd(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count() as f64;
    let mean = values.clone().sum::<f64>() / n;
    let var =
        if n > 1.0 { values.map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var.sqrt())
}

/// A figure as printed: milliseconds' precision for what is below 100 (seconds, short
/// runs), one decimal otherwise.
fn cell(v: f64) -> String {
    if v.abs() < 100.0 { format!("{v:.3}") } else { format!("{v:.1}") }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Csv,
    Json,
}

/// Writes the report to `out`; a write error (a closed pipe) is returned, not a panic.
pub fn print(out: &mut dyn Write, format: Format, runs: &[Run]) -> io::Result<()> {
    let rows: Vec<[f64; 17]> = runs.iter().map(row).collect();
    let stats: Vec<(f64, f64)> =
        (0..COLUMNS.len()).map(|c| mean_sd(rows.iter().map(move |r| r[c]))).collect();
    match format {
        Format::Text => {
            for (i, run) in runs.iter().enumerate() {
                text(out, i + 1, run)?;
            }
            if runs.len() > 1 {
                writeln!(out, "\nover {} runs (mean, standard deviation):", runs.len())?;
                for (name, (mean, sd)) in COLUMNS.iter().zip(&stats) {
                    writeln!(out, "  {name:<15} {mean:>14.1} {sd:>12.1}")?;
                }
            }
        }
        Format::Csv => {
            writeln!(out, "run,{}", COLUMNS.join(","))?;
            let line = |out: &mut dyn Write, label: &str, cells: &mut dyn Iterator<Item = f64>| {
                let cells: Vec<String> = cells.map(cell).collect();
                writeln!(out, "{label},{}", cells.join(","))
            };
            for (i, r) in rows.iter().enumerate() {
                line(out, &(i + 1).to_string(), &mut r.iter().copied())?;
            }
            if runs.len() > 1 {
                line(out, "mean", &mut stats.iter().map(|s| s.0))?;
                line(out, "sd", &mut stats.iter().map(|s| s.1))?;
            }
        }
        Format::Json => {
            let object = |values: &mut dyn Iterator<Item = f64>| {
                let fields: Vec<String> = COLUMNS
                    .iter()
                    .zip(values)
                    .map(|(k, v)| format!("\"{k}\":{}", cell(v)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            };
            let runs_json: Vec<String> =
                rows.iter().map(|r| object(&mut r.iter().copied())).collect();
            writeln!(
                out,
                "{{\"runs\":[{}],\"mean\":{},\"sd\":{}}}",
                runs_json.join(","),
                object(&mut stats.iter().map(|s| s.0)),
                object(&mut stats.iter().map(|s| s.1)),
            )?;
        }
    }
    out.flush()
}

fn text(out: &mut dyn Write, index: usize, run: &Run) -> io::Result<()> {
    let s = &run.stats;
    let secs = run.elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "\nrun {index}: finished in {secs:.3} s, {:.2} req/s, {:.2} MB/s",
        s.responses() as f64 / secs,
        s.bytes as f64 / secs / 1e6
    )?;
    writeln!(
        out,
        "requests: {} total, {} succeeded, {} failed, {} errored",
        s.responses() + s.failed,
        s.succeeded(),
        s.failed,
        s.errors()
    )?;
    writeln!(
        out,
        "status codes: {} 2xx, {} 3xx, {} 4xx, {} 5xx",
        s.status[1], s.status[2], s.status[3], s.status[4]
    )?;
    writeln!(
        out,
        "{:<14}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "", "min", "p50", "p90", "p95", "p99", "max"
    )?;
    for (name, h) in [("latency (us)", &s.latency), ("ttfb (us)", &s.ttfb)] {
        writeln!(
            out,
            "{name:<14}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
            h.min(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.95),
            h.value_at_quantile(0.99),
            h.max()
        )?;
    }
    Ok(())
}
