//! Diagnostics: every problem found in a policy or users file, with its place and a fix.
//!
//! Validation never stops at the first problem: it collects [`Diagnostic`]s, errors and
//! warnings, so that an admin fixes a file in one round instead of one error per reload.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a diagnostic is: errors stop a policy from loading, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The policy is not loaded; the previous good one stays in force.
    Error,
    /// The policy loads, but probably does not say what its author meant.
    Warning,
}

/// A 1-based line and column (in characters) inside a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Position {
    /// Line, counting from 1.
    pub line: u32,
    /// Column in characters, counting from 1.
    pub column: u32,
}

/// One problem, with the file and place it is in and a message that says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, as reached from the entry file (relative if the entry path was relative).
    pub file: PathBuf,
    /// Where in the file; `None` when the problem is the file as a whole (e.g. unreadable).
    pub position: Option<Position>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {severity}: {}", self.message)
    }
}

/// Why a policy (or users file) was not loaded: every error, and the warnings found with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}", render(.errors, .warnings))]
pub struct LoadErrors {
    /// The errors, in file order; never empty.
    pub errors: Vec<Diagnostic>,
    /// The warnings found on the way.
    pub warnings: Vec<Diagnostic>,
}

fn render(errors: &[Diagnostic], warnings: &[Diagnostic]) -> String {
    let mut lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    lines.extend(warnings.iter().map(ToString::to_string));
    lines.join("\n")
}

/// Collects diagnostics while a file set is read and validated.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) warnings: Vec<Diagnostic>,
    /// Files in reading order, so that reports list the entry file first.
    pub(crate) reading_order: Vec<PathBuf>,
}

impl Diagnostics {
    /// Records an error at a byte offset of a source file.
    pub(crate) fn error(
        &mut self,
        src: &Source,
        offset: Option<usize>,
        message: impl Into<String>,
    ) {
        self.errors
            .push(src.diagnostic(Severity::Error, offset, message.into()));
    }

    /// Records a warning at a byte offset of a source file.
    pub(crate) fn warn(&mut self, src: &Source, offset: Option<usize>, message: impl Into<String>) {
        self.warnings
            .push(src.diagnostic(Severity::Warning, offset, message.into()));
    }

    /// Records an error about a whole file (e.g. it cannot be read).
    pub(crate) fn file_error(&mut self, file: &Path, message: impl Into<String>) {
        self.errors.push(Diagnostic {
            severity: Severity::Error,
            file: file.to_path_buf(),
            position: None,
            message: message.into(),
        });
    }

    /// Finishes: `Err` if any error was recorded, else the warnings; each list in file
    /// and position order, so a report reads top to bottom like the files.
    pub(crate) fn finish(mut self) -> Result<Vec<Diagnostic>, LoadErrors> {
        let files = std::mem::take(&mut self.reading_order);
        let rank = |d: &Diagnostic| (files.iter().position(|f| *f == d.file), d.position);
        self.errors.sort_by_key(rank);
        self.warnings.sort_by_key(rank);
        if self.errors.is_empty() {
            Ok(self.warnings)
        } else {
            Err(LoadErrors {
                errors: self.errors,
                warnings: self.warnings,
            })
        }
    }
}

/// A file's text and name, to turn byte offsets into lines and columns.
#[derive(Debug)]
pub(crate) struct Source {
    /// The path shown in diagnostics.
    pub(crate) path: PathBuf,
    /// The file's text.
    pub(crate) text: String,
}

impl Source {
    /// The 1-based line and column of a byte offset (clamped to the text).
    pub(crate) fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.matches('\n').count() + 1;
        let column = before[line_start..].chars().count() + 1;
        Position {
            line: saturate(line),
            column: saturate(column),
        }
    }

    fn diagnostic(&self, severity: Severity, offset: Option<usize>, message: String) -> Diagnostic {
        Diagnostic {
            severity,
            file: self.path.clone(),
            position: offset.map(|o| self.position(o)),
            message,
        }
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let src = Source {
            path: "p.toml".into(),
            text: "ab\nçd = 1\n".into(),
        };
        assert_eq!(src.position(0), Position { line: 1, column: 1 });
        assert_eq!(src.position(3), Position { line: 2, column: 1 });
        // 'ç' is two bytes; 'd' is the second character.
        assert_eq!(src.position(5), Position { line: 2, column: 2 });
        assert_eq!(src.position(999).line, 3);
    }

    #[test]
    fn display_is_file_line_column_severity_message() {
        let d = Diagnostic {
            severity: Severity::Error,
            file: "a.toml".into(),
            position: Some(Position { line: 3, column: 9 }),
            message: "bad".into(),
        };
        assert_eq!(d.to_string(), "a.toml:3:9: error: bad");
    }
}
