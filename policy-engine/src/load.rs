//! Reading the files: the entry file, then its includes, depth first, each once.
//!
//! The order files are read in is the order rules are numbered in: a file's own rules,
//! then each include in the order listed (a `*` pattern's matches sorted by name). Rule
//! numbers only choose which rule a decision names, never the decision itself.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Diagnostics, Source};
use crate::file::PolicyFile;
use crate::pattern::glob_match;

/// A file that was read and parsed.
#[derive(Debug)]
pub(crate) struct ParsedFile {
    /// Its name and text, for diagnostics.
    pub(crate) source: Source,
    /// Its content.
    pub(crate) file: PolicyFile,
}

/// Reads `entry` and everything it includes. Files that cannot be read or parsed are
/// reported and left out; the caller fails the load if any error was recorded.
pub(crate) fn read_all(entry: &Path, diags: &mut Diagnostics) -> Vec<ParsedFile> {
    let mut reader = Reader {
        diags,
        files: Vec::new(),
        stack: Vec::new(),
        seen: HashSet::new(),
    };
    match fs::canonicalize(entry) {
        Ok(canonical) => reader.visit(entry.to_path_buf(), canonical),
        Err(e) => reader
            .diags
            .file_error(entry, format!("cannot read the policy file: {e}")),
    }
    reader.files
}

struct Reader<'d> {
    diags: &'d mut Diagnostics,
    files: Vec<ParsedFile>,
    /// The include chain being followed, shown paths, for cycle messages.
    stack: Vec<(PathBuf, PathBuf)>,
    /// Canonical paths of the files read so far.
    seen: HashSet<PathBuf>,
}

impl Reader<'_> {
    fn visit(&mut self, shown: PathBuf, canonical: PathBuf) {
        self.seen.insert(canonical.clone());
        self.diags.reading_order.push(shown.clone());
        let text = match fs::read_to_string(&shown) {
            Ok(text) => text,
            Err(e) => return self.diags.file_error(&shown, format!("cannot read: {e}")),
        };
        let source = Source {
            path: shown.clone(),
            text,
        };
        let file = match toml::from_str::<PolicyFile>(&source.text) {
            Ok(file) => file,
            Err(e) => {
                let message = format!(
                    "{}; see docs/policy.md for the format",
                    e.message().trim_end()
                );
                return self
                    .diags
                    .error(&source, e.span().map(|s| s.start), message);
            }
        };
        let includes: Vec<(String, usize)> = file
            .include
            .iter()
            .flat_map(|list| list.get_ref().0.iter())
            .map(|item| (item.get_ref().clone(), item.span().start))
            .collect();
        let index = self.files.len();
        self.files.push(ParsedFile { source, file });
        self.stack.push((canonical, shown));
        for (pattern, offset) in includes {
            for (shown, canonical) in self.expand(index, &pattern, offset) {
                self.include(index, offset, shown, canonical);
            }
        }
        self.stack.pop();
    }

    fn include(&mut self, from: usize, offset: usize, shown: PathBuf, canonical: PathBuf) {
        if let Some(start) = self.stack.iter().position(|(c, _)| *c == canonical) {
            let chain: Vec<String> = self.stack[start..]
                .iter()
                .map(|(_, s)| s.display().to_string())
                .chain([shown.display().to_string()])
                .collect();
            let message = format!(
                "include cycle: {}; remove one of these includes",
                chain.join(" -> ")
            );
            self.diags
                .error(&self.files[from].source, Some(offset), message);
        } else if self.seen.contains(&canonical) {
            let message = format!(
                "{} is included more than once; its rules count once, remove the extra include",
                shown.display()
            );
            self.diags
                .warn(&self.files[from].source, Some(offset), message);
        } else {
            self.visit(shown, canonical);
        }
    }

    /// The files an include entry names, as (shown path, canonical path).
    fn expand(&mut self, from: usize, pattern: &str, offset: usize) -> Vec<(PathBuf, PathBuf)> {
        let source = &self.files[from].source;
        let joined = source.path.parent().unwrap_or(Path::new("")).join(pattern);
        let dir = joined.parent().unwrap_or(Path::new("")).to_path_buf();
        let name = joined
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if dir.to_string_lossy().contains('*') || name.is_empty() {
            let message = format!(
                r#"include "{pattern}": only the file name may contain *, like "policy.d/*.toml""#
            );
            self.diags.error(source, Some(offset), message);
            return Vec::new();
        }
        let candidates = if name.contains('*') {
            match matching_files(&dir, &name) {
                Ok(found) if found.is_empty() => {
                    let message = format!(r#"include "{pattern}" matches no file"#);
                    self.diags.warn(source, Some(offset), message);
                    return Vec::new();
                }
                Ok(found) => found,
                Err(e) => {
                    let message = format!(
                        r#"include "{pattern}": cannot list {}: {e}; create the directory or fix the pattern"#,
                        display_dir(&dir)
                    );
                    self.diags.error(source, Some(offset), message);
                    return Vec::new();
                }
            }
        } else {
            vec![joined]
        };
        let mut out = Vec::with_capacity(candidates.len());
        for shown in candidates {
            match fs::canonicalize(&shown) {
                Ok(canonical) if canonical.is_file() => out.push((shown, canonical)),
                _ => {
                    let message = format!(
                        r#"included file "{pattern}" not found (looked for {}); fix the name or remove it from include"#,
                        shown.display()
                    );
                    self.diags.error(source, Some(offset), message);
                }
            }
        }
        out
    }
}

fn matching_files(dir: &Path, name_pattern: &str) -> std::io::Result<Vec<PathBuf>> {
    let listed = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut found: Vec<PathBuf> = fs::read_dir(listed)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| glob_match(name_pattern, n))
        .map(|n| dir.join(n))
        .collect();
    found.sort();
    Ok(found)
}

fn display_dir(dir: &Path) -> String {
    if dir.as_os_str().is_empty() {
        ".".into()
    } else {
        dir.display().to_string()
    }
}
