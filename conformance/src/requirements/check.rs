//! Loading the requirement files, and resolving annotations and test references into a
//! status per requirement.
//!
//! Every rule of the shared format that a machine can check is checked here: the id is
//! `<rfc>-<section>-<ordinal>` and agrees with `section`, the level and the party are known
//! words, the sentence holds its keyword, an id is used once, an exempt requirement gives a
//! reason and has neither tests nor annotations, an annotation names a known id, and a cited
//! test exists: a `#[test]` function of that name in that file, or a case id in the registry.

use super::{
    BINDS, Entry, Gap, LEVELS, Problem, REQUIREMENTS_DIR, Registry, Requirement, Site, Status,
    TestRef, Trace, scan,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

/// A requirements file: requirements, and optionally section titles by RFC.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    req: Vec<Requirement>,
    #[serde(default)]
    titles: BTreeMap<String, BTreeMap<String, String>>,
}

/// Section titles by (RFC, section).
pub(super) type Titles = BTreeMap<(String, String), String>;

/// Every requirement of `root`'s requirement files, in file-name then file order, each
/// with the file it comes from, and the section titles they give. Malformed files and
/// entries are reported; a duplicate id is reported and its later entries dropped.
pub(super) fn load(
    root: &Path,
    problems: &mut Vec<Problem>,
) -> (Vec<(String, Requirement)>, Titles) {
    let dir = root.join(REQUIREMENTS_DIR);
    let Ok(listing) = fs::read_dir(&dir) else {
        problems.push(Problem {
            place: REQUIREMENTS_DIR.to_string(),
            message: "no requirements directory".into(),
        });
        return (Vec::new(), Titles::new());
    };
    let mut paths: Vec<_> = listing
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut out: Vec<(String, Requirement)> = Vec::new();
    let mut titles = Titles::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for path in paths {
        let file = scan::relative(root, &path);
        let parsed = fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| toml::from_str::<File>(&text).map_err(|e| one_line(&e.to_string())));
        let reqs = match parsed {
            Ok(f) => {
                for (rfc, sections) in f.titles {
                    for (section, title) in sections {
                        titles.insert((rfc.clone(), section), title);
                    }
                }
                f.req
            }
            Err(e) => {
                problems.push(Problem { place: file.clone(), message: format!("malformed: {e}") });
                continue;
            }
        };
        for mut req in reqs {
            req.text = one_line(&req.text);
            let place = format!("{file}: {}", req.id);
            for message in malformed(&req) {
                problems.push(Problem { place: place.clone(), message });
            }
            if let Some(first) = seen.get(&req.id) {
                problems
                    .push(Problem { place, message: format!("duplicate id (first in {first})") });
                continue;
            }
            seen.insert(req.id.clone(), file.clone());
            out.push((file.clone(), req));
        }
    }
    (out, titles)
}

/// What is wrong with one entry on its own.
fn malformed(req: &Requirement) -> Vec<String> {
    let mut out = Vec::new();
    if !scan::looks_like_id(&req.id) {
        out.push("id is not <rfc>-<section>-<ordinal>".to_string());
    } else {
        let section = req.id.split_once('-').and_then(|(_, r)| r.rsplit_once('-'));
        if section.map(|(s, _)| s) != Some(req.section.as_str()) {
            out.push(format!("id does not match section {:?}", req.section));
        }
        if req.ordinal() == 0 {
            out.push("ordinals start at 1".to_string());
        }
    }
    if !LEVELS.contains(&req.level.as_str()) {
        out.push(format!("unknown level {:?} (one of {})", req.level, LEVELS.join(", ")));
    } else if !req.text.contains(req.level.as_str()) {
        out.push(format!("text does not contain its level {:?}", req.level));
    }
    if !BINDS.contains(&req.binds.as_str()) {
        out.push(format!("unknown binds {:?} (one of {})", req.binds, BINDS.join(", ")));
    }
    if req.text.is_empty() {
        out.push("empty text".to_string());
    }
    match &req.exempt {
        Some(reason) if reason.trim().is_empty() => out.push("exempt without a reason".into()),
        Some(_) if !req.tests.is_empty() => out.push("exempt but cites tests".into()),
        _ => {}
    }
    out
}

/// Joins the requirements and the annotations, resolves the tests, and sorts the result.
pub(super) fn resolve(
    root: &Path,
    registry: &Registry,
    reqs: Vec<(String, Requirement)>,
    sites: Vec<(String, Site)>,
    mut problems: Vec<Problem>,
) -> Trace {
    let index: HashMap<String, usize> =
        reqs.iter().enumerate().map(|(i, (_, r))| (r.id.clone(), i)).collect();
    let mut sites_of: Vec<Vec<Site>> = vec![Vec::new(); reqs.len()];
    for (id, site) in sites {
        match index.get(&id) {
            None => problems.push(Problem {
                place: site.to_string(),
                message: format!("annotation names unknown requirement {id}"),
            }),
            Some(&i) if reqs[i].1.exempt.is_some() => problems.push(Problem {
                place: site.to_string(),
                message: format!("annotation names exempt requirement {id}"),
            }),
            Some(&i) => sites_of[i].push(site),
        }
    }
    let mut files = Files { root, cache: HashMap::new() };
    let mut entries = Vec::new();
    for ((file, req), mut sites) in reqs.into_iter().zip(sites_of) {
        sites.sort();
        sites.dedup();
        let mut tests = Vec::new();
        for cite in &req.tests {
            let found = match files.resolve(cite, registry) {
                Ok(()) => true,
                Err(why) => {
                    problems.push(Problem {
                        place: format!("{file}: {}", req.id),
                        message: format!("cited test missing: {cite} ({why})"),
                    });
                    false
                }
            };
            tests.push(TestRef { cite: cite.clone(), found });
        }
        let status = status(&req, &sites, &tests);
        entries.push(Entry { req, file, sites, tests, status });
    }
    entries.sort_by_cached_key(|e| order_key(&e.req));
    Trace { entries, problems, titles: Titles::new() }
}

fn status(req: &Requirement, sites: &[Site], tests: &[TestRef]) -> Status {
    if req.exempt.is_some() {
        return Status::Exempt;
    }
    let mut gaps = Vec::new();
    if sites.is_empty() {
        gaps.push(Gap::NoAnnotation);
    }
    if tests.is_empty() {
        gaps.push(Gap::NoTest);
    }
    if tests.iter().any(|t| !t.found) {
        gaps.push(Gap::MissingTest);
    }
    if gaps.is_empty() { Status::Traced } else { Status::Untraced(gaps) }
}

/// RFC number, then section part by part (numbers before appendix letters), then ordinal.
pub(super) fn order_key(req: &Requirement) -> (u32, Vec<(u8, u32, String)>, u32) {
    (req.rfc().parse().unwrap_or(u32::MAX), section_key(&req.section), req.ordinal())
}

/// `4.10` after `4.9`; `A` after every number.
pub(super) fn section_key(section: &str) -> Vec<(u8, u32, String)> {
    section
        .split('.')
        .map(|part| match part.parse::<u32>() {
            Ok(n) => (0, n, String::new()),
            Err(_) => (1, 0, part.to_string()),
        })
        .collect()
}

/// Test files read once each.
struct Files<'a> {
    root: &'a Path,
    cache: HashMap<String, Option<String>>,
}

impl Files<'_> {
    /// `Ok` when the reference names an existing test.
    fn resolve(&mut self, cite: &str, registry: &Registry) -> Result<(), String> {
        if let Some(id) = cite.strip_prefix("case:") {
            return registry.cases.contains(id).then_some(()).ok_or("no such server case".into());
        }
        if let Some(id) = cite.strip_prefix("client-case:") {
            return registry
                .client_cases
                .contains(id)
                .then_some(())
                .ok_or("no such client case".into());
        }
        let Some((path, name)) = cite.split_once("::") else {
            return Err("not file.rs::fn, case:<id> or client-case:<id>".into());
        };
        if !path.ends_with(".rs") || path.starts_with('/') || path.split('/').any(|p| p == "..") {
            return Err("the file must be a .rs path relative to the root".into());
        }
        let root = self.root;
        let text = self
            .cache
            .entry(path.to_string())
            .or_insert_with(|| fs::read_to_string(root.join(path)).ok());
        let Some(text) = text else { return Err("no such file".into()) };
        is_test_fn(text, name)
    }
}

/// Whether `text` defines `fn name` under a test attribute (`#[test]`, `#[tokio::test]`,
/// proptest's `#[test]` inside `proptest!`).
fn is_test_fn(text: &str, name: &str) -> Result<(), String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut defined = false;
    for (i, line) in lines.iter().enumerate() {
        if !defines(line, name) {
            continue;
        }
        defined = true;
        let mut attrs = lines[..i]
            .iter()
            .rev()
            .map(|l| l.trim())
            .take_while(|l| l.is_empty() || l.starts_with("#[") || l.starts_with("//"));
        if attrs.any(|l| l.starts_with("#[") && l.contains("test")) {
            return Ok(());
        }
    }
    Err(if defined { format!("fn {name} is not a #[test]") } else { format!("no fn {name}") })
}

/// Whether `line` defines `fn name` (the name whole, not a prefix of a longer one).
fn defines(line: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let needle = format!("fn {name}");
    line.match_indices(&needle).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + needle.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// Whitespace collapsed to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Counts `(traced, untraced, exempt)` per key, for the summaries.
pub(super) fn tally<K: Ord>(
    trace: &Trace,
    key: impl Fn(&Entry) -> K,
) -> BTreeMap<K, (usize, usize, usize)> {
    let mut out = BTreeMap::new();
    for e in &trace.entries {
        let t = out.entry(key(e)).or_insert((0, 0, 0));
        match e.status {
            Status::Traced => t.0 += 1,
            Status::Untraced(_) => t.1 += 1,
            Status::Exempt => t.2 += 1,
        }
    }
    out
}
