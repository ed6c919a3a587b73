//! Requirements traceability: every normative statement of RFC 9113 and RFC 7541, tied to
//! the code that keeps it and to the tests that prove it.
//!
//! A conformance claim is only as good as the sentence nobody checked. The statements live
//! in `conformance/requirements/*.toml` (one `[[req]]` per statement: id, section, level,
//! whom it binds, whether a peer can observe it, the sentence, the tests, or the reason it is
//! exempt). The code that keeps one says so with a comment at the deciding line,
//! `// req 9113-6.9.1-3`, in `src/`, `adapters/*/src/` or `conformance/src/` ([`scan`]).
//! [`check`] loads the files under a repository root, scans for the annotations, resolves
//! every cited test (a `fn` in a file, a server case id, a client case id) and gives each
//! requirement a [`Status`]; [`report`] prints the result as text or as the Markdown checked
//! in as `conformance/REQUIREMENTS.md`.
//!
//! The check takes the root and the case registries as arguments so that the tests can run
//! it over small fixture trees that break one rule each.

mod check;
pub mod report;
mod scan;

pub use scan::{looks_like_id, parse_line};

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// The normative keywords (RFC 2119 / RFC 8174), in report order.
pub const LEVELS: [&str; 8] =
    ["MUST", "MUST NOT", "REQUIRED", "SHALL", "SHALL NOT", "SHOULD", "SHOULD NOT", "MAY"];

/// Whom a statement can bind.
pub const BINDS: [&str; 8] =
    ["client", "server", "sender", "receiver", "both", "encoder", "decoder", "intermediary"];

/// The parties an endpoint library plays (everything but `intermediary`).
pub const ENDPOINT_BINDS: [&str; 7] =
    ["client", "server", "sender", "receiver", "both", "encoder", "decoder"];

/// Where the requirement files live, relative to the repository root.
pub const REQUIREMENTS_DIR: &str = "conformance/requirements";

/// Where the generated report is checked in, relative to the repository root.
pub const REPORT_PATH: &str = "conformance/REQUIREMENTS.md";

/// One normative statement, as written in a requirements file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// `<rfc>-<section>-<ordinal>`, e.g. `9113-6.9.1-3`.
    pub id: String,
    /// The (sub)section that holds the sentence, e.g. `6.9.1`.
    pub section: String,
    /// One of [`LEVELS`].
    pub level: String,
    /// One of [`BINDS`].
    pub binds: String,
    /// Whether a peer can see on the wire if we keep it.
    pub observable: bool,
    /// The sentence, as the RFC words it.
    pub text: String,
    /// Test references: `path/file.rs::fn_name`, `case:<id>`, `client-case:<id>`.
    #[serde(default)]
    pub tests: Vec<String>,
    /// Why it cannot be tested or does not apply; an exempt requirement has no tests and
    /// no annotations.
    pub exempt: Option<String>,
    /// A remark for the reader (e.g. why we do not follow a SHOULD).
    pub note: Option<String>,
}

impl Requirement {
    /// The RFC number part of the id (`9113`).
    pub fn rfc(&self) -> &str {
        self.id.split('-').next().unwrap_or("")
    }

    /// The ordinal part of the id (`3` in `9113-6.9.1-3`), 0 when malformed.
    pub fn ordinal(&self) -> u32 {
        self.id.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(0)
    }

    /// Whether it binds a party an endpoint plays and is a MUST or MUST NOT: the ones the
    /// issue wants all traced.
    pub fn is_endpoint_must(&self) -> bool {
        matches!(self.level.as_str(), "MUST" | "MUST NOT" | "REQUIRED" | "SHALL" | "SHALL NOT")
            && ENDPOINT_BINDS.contains(&self.binds.as_str())
    }
}

/// A `// req <id>` comment in the code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Site {
    /// The file, relative to the root, with `/` separators.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A cited test and whether it was found.
#[derive(Clone, Debug)]
pub struct TestRef {
    /// The reference as written in the requirements file.
    pub cite: String,
    /// Whether the file holds that `fn`, or the registry that case id.
    pub found: bool,
}

/// Why a requirement that is not exempt is not traced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    /// No `// req <id>` comment names it.
    NoAnnotation,
    /// It cites no test.
    NoTest,
    /// A test it cites does not exist.
    MissingTest,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Gap::NoAnnotation => "no code annotation",
            Gap::NoTest => "no test",
            Gap::MissingTest => "cited test missing",
        })
    }
}

/// Where a requirement stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Annotated in the code, and every cited test (at least one) exists.
    Traced,
    /// Does not apply or cannot be tested; the reason is in [`Requirement::exempt`].
    Exempt,
    /// Not (yet) traced, for these reasons.
    Untraced(Vec<Gap>),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Traced => f.write_str("traced"),
            Status::Exempt => f.write_str("exempt"),
            Status::Untraced(gaps) => {
                let gaps: Vec<String> = gaps.iter().map(Gap::to_string).collect();
                write!(f, "untraced ({})", gaps.join(", "))
            }
        }
    }
}

/// A requirement with what the check found for it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The statement.
    pub req: Requirement,
    /// The requirements file it comes from, relative to the root.
    pub file: String,
    /// The annotations that name it, in file and line order.
    pub sites: Vec<Site>,
    /// Its cited tests.
    pub tests: Vec<TestRef>,
    /// The verdict.
    pub status: Status,
}

/// Something wrong in the requirement files or the annotations; any one fails the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `file`, `file:line` or `file: id`.
    pub place: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// The case ids test references are resolved against.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// Server-role case ids (`http2/6.9/1`), cited as `case:<id>`.
    pub cases: BTreeSet<String>,
    /// Client-role case ids (`client/3`), cited as `client-case:<id>`.
    pub client_cases: BTreeSet<String>,
}

impl Registry {
    /// This crate's own suites: the server cases of [`crate::cases`] and the client cases
    /// of [`crate::client`].
    pub fn builtin() -> Registry {
        Registry {
            cases: crate::runner::all_cases().into_iter().map(|(id, _, _)| id).collect(),
            client_cases: crate::client::case_ids().into_iter().collect(),
        }
    }
}

/// The outcome of a check: every requirement, sorted by RFC, section and ordinal, and
/// every problem found.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The requirements with their status.
    pub entries: Vec<Entry>,
    /// Problems: malformed entries, duplicate ids, annotations naming unknown ids, cited
    /// tests that do not exist.
    pub problems: Vec<Problem>,
    /// Section titles by (RFC, section), from the `[titles.<rfc>]` tables of the files.
    pub titles: BTreeMap<(String, String), String>,
}

impl Trace {
    /// How many requirements are traced.
    pub fn traced(&self) -> usize {
        self.entries.iter().filter(|e| e.status == Status::Traced).count()
    }

    /// How many requirements count (all but the exempt ones).
    pub fn counted(&self) -> usize {
        self.entries.iter().filter(|e| e.status != Status::Exempt).count()
    }

    /// How many are exempt.
    pub fn exempt(&self) -> usize {
        self.entries.len() - self.counted()
    }

    /// The closing line: `N of M requirements traced to code and test`.
    pub fn summary(&self) -> String {
        format!("{} of {} requirements traced to code and test", self.traced(), self.counted())
    }

    /// The title of a section of an RFC, if a file gives it.
    pub fn title(&self, rfc: &str, section: &str) -> Option<&str> {
        self.titles.get(&(rfc.to_string(), section.to_string())).map(String::as_str)
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.req.id == id)
    }
}

/// Checks the repository at `root`: loads `conformance/requirements/*.toml` (in file-name
/// order), scans `src/`, `adapters/*/src/` and `conformance/src/` for annotations, and
/// resolves every cited test against the files under `root` and `registry`.
pub fn check(root: &Path, registry: &Registry) -> Trace {
    let mut problems = Vec::new();
    let (reqs, titles) = check::load(root, &mut problems);
    let sites = scan::annotations(root, &mut problems);
    let mut trace = check::resolve(root, registry, reqs, sites, problems);
    trace.titles = titles;
    trace
}
