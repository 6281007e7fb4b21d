//! Errors that say where they are: every problem in a config file names the file, the line and
//! column, and the key, so an operator can fix it without guessing.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem found in a config file, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line and column, when the problem has a place inside the file.
    pub position: Option<(usize, usize)>,
    /// The dotted key the problem belongs to (`server.listen`), when known.
    pub key: Option<String>,
    /// What is wrong and, where it helps, how to fix it.
    pub message: String,
}

impl ConfigError {
    /// A problem with the file as a whole (missing, unreadable).
    pub fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            position: None,
            key: None,
            message: message.into(),
        }
    }

    /// A problem at a byte span of `source`, the text of `file`.
    pub fn at(
        file: &Path,
        source: &str,
        span: Option<Range<usize>>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_path_buf(),
            position: span.map(|s| line_column(source, s.start)),
            key,
            message: message.into(),
        }
    }

    /// Turns a TOML parse error (syntax, unknown key, bad value) into one with a place.
    pub fn from_toml(file: &Path, source: &str, err: &toml::de::Error) -> Self {
        let message = err.message().trim().to_string();
        let key = err.span().and_then(|span| key_at(source, span.start));
        Self::at(file, source, err.span(), key, message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found while loading, reported together so one run shows them all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// A list of one.
    pub fn one(err: ConfigError) -> Self {
        Self(vec![err])
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(err: ConfigError) -> Self {
        Self::one(err)
    }
}

/// A problem a section's validation found, before it is placed in its file: the key and what
/// is wrong; `span` points into the file when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte span in the config file.
    pub span: Option<Range<usize>>,
    /// The dotted key.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// The problems found in one file, collected so that validation goes on past the first one and
/// a single run shows them all; [`Report::finish`] places each in the file's text.
#[derive(Debug, Default)]
pub struct Report(Vec<Problem>);

impl Report {
    /// A problem of `key` at a byte span of the file.
    pub fn at(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            span: Some(span),
            key: key.into(),
            message: message.into(),
        });
    }

    /// A problem of `key` with no span the parser could give (the value's text is not kept).
    pub fn unplaced(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            span: None,
            key: key.into(),
            message: message.into(),
        });
    }

    /// The problems a section's own validation returned. One without a span is shown at the
    /// file's start (1:1), as it always has been.
    pub fn section(&mut self, problems: Vec<Problem>) {
        for p in problems {
            self.at(p.span.unwrap_or(0..0), p.key, p.message);
        }
    }

    /// The reporter of one table of an array of tables, number `index` of `name` (`app[2]`):
    /// its keys are given relative to that table.
    pub fn item(&mut self, name: &str, index: usize) -> ItemReport<'_> {
        ItemReport {
            prefix: format!("{name}[{index}]"),
            report: self,
        }
    }

    /// `Ok` when nothing was found; else every problem placed in `file`, whose text is `source`.
    pub fn finish(self, file: &Path, source: &str) -> Result<(), ConfigErrors> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(ConfigErrors(
            self.0
                .into_iter()
                .map(|p| ConfigError::at(file, source, p.span, Some(p.key), p.message))
                .collect(),
        ))
    }
}

/// The problems of one table of an array of tables; see [`Report::item`].
pub struct ItemReport<'r> {
    report: &'r mut Report,
    prefix: String,
}

impl ItemReport<'_> {
    /// A problem of the table's key `field` at a byte span of the file.
    pub fn at(&mut self, span: Range<usize>, field: &str, message: impl Into<String>) {
        let key = format!("{}.{field}", self.prefix);
        self.report.at(span, key, message);
    }
}

/// The dotted key whose line holds `offset`: the nearest table header above it joined with the
/// key left of `=` on that line (`limits.idle_timeout`, `app[].hosts`). Good enough to point a
/// person at the right line; the position is given as well.
pub fn key_at(source: &str, offset: usize) -> Option<String> {
    let before = source.get(..offset.min(source.len()))?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = source.get(line_start..)?.lines().next().unwrap_or("");
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let header = before
        .get(..line_start)?
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| {
            let array = l.starts_with("[[");
            let name = l
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            if array { format!("{name}[]") } else { name }
        });
    match (header, key) {
        (Some(h), Some(k)) => Some(format!("{h}.{k}")),
        (None, Some(k)) => Some(k),
        (Some(h), None) => Some(h),
        (None, None) => None,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before
        .get(line_start..)
        .map_or(1, |s| s.chars().count() + 1);
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        let src = "a = 1\nbb = 2\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        assert_eq!(line_column(src, 9), (2, 4));
        assert_eq!(line_column(src, 999), (3, 1));
    }

    #[test]
    fn key_at_joins_table_and_key() {
        let src = "[server]\nlisten = [\"x\"]\n[[app]]\nhosts = [\"h\"]\n";
        assert_eq!(key_at(src, 12).as_deref(), Some("server.listen"));
        assert_eq!(key_at(src, src.len() - 3).as_deref(), Some("app[].hosts"));
        assert_eq!(key_at("a = 1", 4).as_deref(), Some("a"));
    }

    #[test]
    fn display_names_file_line_and_key() {
        let err = ConfigError {
            file: PathBuf::from("gw.toml"),
            position: Some((3, 7)),
            key: Some("server.listen".into()),
            message: "bad".into(),
        };
        assert_eq!(err.to_string(), "gw.toml:3:7: server.listen: bad");
    }
}
