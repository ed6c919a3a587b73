//! What a case concludes, and how strictness turns a deviation into a verdict.
//!
//! A case returns [`Outcome`]: `Ok(())` when the peer did what the RFC requires, or a
//! [`Failure`] saying what was expected and what was observed. Some deviations are
//! *lenient*: the peer reacted, but not in the exact way the RFC asks (a bare TCP close
//! where a GOAWAY with a code is required, a connection error where a stream error is
//! required, a SHOULD not followed). Without `--strict` they are reported as warnings and do
//! not fail the run; with `--strict` they are failures.

use std::fmt;

/// The result of running one case.
pub type Outcome = Result<(), Failure>;

/// Why a case did not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What the RFC requires, in a few words.
    pub expected: String,
    /// What the peer did.
    pub observed: String,
    /// How serious the deviation is.
    pub kind: FailureKind,
}

/// How a [`Failure`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Always a failure.
    Hard,
    /// A warning unless `--strict`.
    Lenient,
    /// The case does not apply to this peer (e.g. it does not advertise a setting the case
    /// needs); neither a pass nor a failure.
    Skip,
}

impl Failure {
    /// A plain failure.
    pub fn new(expected: impl Into<String>, observed: impl Into<String>) -> Failure {
        Failure { expected: expected.into(), observed: observed.into(), kind: FailureKind::Hard }
    }

    /// A deviation that is a warning unless `--strict`.
    pub fn lenient(expected: impl Into<String>, observed: impl Into<String>) -> Failure {
        Failure { kind: FailureKind::Lenient, ..Failure::new(expected, observed) }
    }

    /// The case does not apply.
    pub fn skip(why: impl Into<String>) -> Failure {
        Failure { expected: String::new(), observed: why.into(), kind: FailureKind::Skip }
    }
}

/// The verdict printed for a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The peer did what the RFC requires.
    Pass,
    /// A lenient deviation in non-strict mode.
    Warn(Failure),
    /// A failure.
    Fail(Failure),
    /// Not applicable.
    Skip(String),
}

impl Verdict {
    /// Turns an outcome into a verdict under the given strictness.
    pub fn from_outcome(outcome: Outcome, strict: bool) -> Verdict {
        match outcome {
            Ok(()) => Verdict::Pass,
            Err(f) => match f.kind {
                FailureKind::Hard => Verdict::Fail(f),
                FailureKind::Lenient if strict => Verdict::Fail(f),
                FailureKind::Lenient => Verdict::Warn(f),
                FailureKind::Skip => Verdict::Skip(f.observed),
            },
        }
    }

    /// Whether this verdict fails the run.
    pub fn is_failure(&self) -> bool {
        matches!(self, Verdict::Fail(_))
    }

    /// A short label: `pass`, `warn`, `FAIL` or `skip`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn(_) => "warn",
            Verdict::Fail(_) => "FAIL",
            Verdict::Skip(_) => "skip",
        }
    }
}

/// The failure of a case whose code panicked, with the panic's message: a panicking case is
/// reported like any other failure, never dropped from the report.
pub fn panicked(payload: &(dyn std::any::Any + Send)) -> Failure {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    Failure::new("the case to run to its end", format!("the case panicked: {message}"))
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected: {}; observed: {}", self.expected, self.observed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_a_failure_that_carries_its_message() {
        let caught = std::panic::catch_unwind(|| panic!("index {} out of range", 7)).unwrap_err();
        let failure = panicked(caught.as_ref());
        assert_eq!(failure.kind, FailureKind::Hard);
        assert_eq!(failure.observed, "the case panicked: index 7 out of range");
        let caught = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panicked(caught.as_ref()).observed, "the case panicked: static");
        assert!(Verdict::from_outcome(Err(failure), false).is_failure());
    }
}
