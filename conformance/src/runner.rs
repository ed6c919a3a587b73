//! Runs the cases against a server and reports.
//!
//! Every case gets its own connection and runs on a small pool of threads: cases are
//! independent and mostly wait on the network, so running them side by side keeps the
//! whole suite within seconds while each wait keeps its own deadline.

use crate::cases::{self, Case, Ctx, Group};
use crate::verdict::{self, Verdict};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How to run the suite.
#[derive(Clone, Debug)]
pub struct Options {
    /// Lenient deviations fail instead of warning.
    pub strict: bool,
    /// Id prefixes to run (`http2/6.5`, `hpack`, `generic/3.1/2`); empty runs all.
    pub only: Vec<String>,
    /// The resource requested where a case needs a 2xx response.
    pub path: String,
    /// How long each expectation waits.
    pub wait: Duration,
    /// Worker threads.
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            strict: false,
            only: Vec::new(),
            path: "/".into(),
            wait: Duration::from_secs(2),
            jobs: 16,
        }
    }
}

/// One case's result.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// `http2/6.5/1`.
    pub id: String,
    /// The group's section, `http2/6.5`.
    pub section: &'static str,
    /// The group's title.
    pub title: &'static str,
    /// The case's description.
    pub desc: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
    /// How long it took.
    pub elapsed: Duration,
}

/// The results of a run, in case order.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every case run.
    pub results: Vec<CaseResult>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Report {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Pass))
    }

    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.count(Verdict::is_failure)
    }

    /// Cases that passed with a warning.
    pub fn warnings(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Warn(_)))
    }

    /// Cases skipped as not applicable.
    pub fn skipped(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Skip(_)))
    }

    fn count(&self, f: impl Fn(&Verdict) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.verdict)).count()
    }

    /// The verdict of a case by id.
    pub fn verdict(&self, id: &str) -> Option<&Verdict> {
        self.results.iter().find(|r| r.id == id).map(|r| &r.verdict)
    }

    /// Ids of failed cases.
    pub fn failed_ids(&self) -> Vec<&str> {
        self.results.iter().filter(|r| r.verdict.is_failure()).map(|r| r.id.as_str()).collect()
    }

    /// The table grouped by section, closed by a summary line.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let mut section = "";
        for r in &self.results {
            if r.section != section {
                section = r.section;
                let _ = writeln!(out, "\n{}  {}", r.section, r.title);
            }
            let _ = writeln!(out, "  [{}] {:<18} {}", r.verdict.label(), r.id, r.desc);
            match &r.verdict {
                Verdict::Fail(f) | Verdict::Warn(f) => {
                    let _ = writeln!(out, "         expected: {}", f.expected);
                    let _ = writeln!(out, "         observed: {}", f.observed);
                }
                Verdict::Skip(why) => {
                    let _ = writeln!(out, "         skipped: {why}");
                }
                Verdict::Pass => {}
            }
        }
        let _ = writeln!(
            out,
            "\n{} cases in {:.1} s: {} passed, {} failed, {} warnings, {} skipped",
            self.results.len(),
            self.elapsed.as_secs_f64(),
            self.passed(),
            self.failed(),
            self.warnings(),
            self.skipped()
        );
        out
    }
}

/// Whether the case `id` is selected by the `only` prefixes.
pub fn selected(id: &str, only: &[String]) -> bool {
    only.is_empty()
        || only.iter().any(|p| {
            let p = p.trim_end_matches('/');
            id == p
                || id
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('.'))
        })
}

/// Every case with its id, in order.
pub fn all_cases() -> Vec<(String, &'static Group, &'static Case)> {
    let mut all = Vec::new();
    for group in cases::groups() {
        for (i, case) in group.cases.iter().enumerate() {
            all.push((format!("{}/{}", group.section, i + 1), group, case));
        }
    }
    all
}

/// Runs the selected cases against `addr`.
pub fn run(addr: SocketAddr, authority: &str, options: &Options) -> Report {
    let start = Instant::now();
    let ctx = Ctx {
        addr,
        authority: authority.to_string(),
        path: options.path.clone(),
        wait: options.wait,
    };
    let selected: Vec<_> =
        all_cases().into_iter().filter(|(id, _, _)| selected(id, &options.only)).collect();
    let results: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; selected.len()]);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.clamp(1, 64) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((id, group, case)) = selected.get(i) else { return };
                    let started = Instant::now();
                    let outcome = std::panic::catch_unwind(|| (case.run)(&ctx))
                        .unwrap_or_else(|payload| Err(verdict::panicked(payload.as_ref())));
                    let result = CaseResult {
                        id: id.clone(),
                        section: group.section,
                        title: group.title,
                        desc: case.desc,
                        verdict: Verdict::from_outcome(outcome, options.strict),
                        elapsed: started.elapsed(),
                    };
                    results.lock().expect("no panic while locked")[i] = Some(result);
                }
            });
        }
    });
    let results = results.into_inner().expect("workers done").into_iter().flatten().collect();
    Report { results, elapsed: start.elapsed() }
}
