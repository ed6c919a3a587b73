//! The annotation scan: `// req <id>[, <id>...]` comments in the code.
//!
//! Only code counts as a site, so only `src/`, `adapters/*/src/` and `conformance/src/` are
//! walked; tests and the fixture trees under `conformance/tests/` are never read. A comment
//! counts when it is the first `//` on its line, no quote or backtick comes before it on the
//! line (so a string or a quotation that shows the syntax is not one), and it reads `req `
//! followed by ids separated by commas or spaces; words after the ids are a free remark.
//! Doc comments (`///`, `//!`) that merely mention the syntax do not count either.

use super::{Problem, Site};
use std::fs;
use std::path::{Path, PathBuf};

/// The prefix of an annotation (split so that this line is not one).
const MARK: &str = concat!("/", "/ req ");

/// Every annotation under the code directories of `root`: (id, site), in file and line order.
pub(super) fn annotations(root: &Path, problems: &mut Vec<Problem>) -> Vec<(String, Site)> {
    let mut files = Vec::new();
    for dir in code_dirs(root) {
        rust_files(&dir, &mut files);
    }
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let Ok(text) = fs::read_to_string(&path) else { continue };
        let file = relative(root, &path);
        for (i, line) in text.lines().enumerate() {
            let site = Site { file: file.clone(), line: i + 1 };
            match parse_line(line) {
                None => {}
                Some(ids) if ids.is_empty() => problems.push(Problem {
                    place: site.to_string(),
                    message: format!("malformed annotation {:?}", line.trim()),
                }),
                Some(ids) => out.extend(ids.into_iter().map(|id| (id, site.clone()))),
            }
        }
    }
    out
}

/// The ids an annotation on `line` names: `None` when the line holds no annotation,
/// an empty list when it starts like one but names no id.
pub fn parse_line(line: &str) -> Option<Vec<String>> {
    let at = line.find("//")?;
    if line[..at].contains(['"', '`']) {
        return None; // inside a string or a quotation, not a comment of its own
    }
    let rest = line[at..].strip_prefix(MARK)?;
    let ids = rest
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .take_while(|t| looks_like_id(t))
        .map(str::to_string)
        .collect();
    Some(ids)
}

/// `<digits>-<section>-<digits>`, the section made of letters, digits and dots.
pub fn looks_like_id(token: &str) -> bool {
    let Some((rfc, rest)) = token.split_once('-') else { return false };
    let Some((section, ordinal)) = rest.rsplit_once('-') else { return false };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(rfc)
        && digits(ordinal)
        && !section.is_empty()
        && section.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
        && !section.starts_with('.')
        && !section.ends_with('.')
}

/// `src/`, `adapters/*/src/`, `conformance/src/` under `root`, those that exist.
fn code_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join("src")];
    if let Ok(adapters) = fs::read_dir(root.join("adapters")) {
        let mut names: Vec<PathBuf> = adapters.flatten().map(|e| e.path().join("src")).collect();
        names.sort();
        dirs.extend(names);
    }
    dirs.push(root.join("conformance").join("src"));
    dirs.into_iter().filter(|d| d.is_dir()).collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `path` relative to `root`, with `/` separators.
pub(super) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    parts.join("/")
}
