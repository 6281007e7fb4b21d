//! What read commands print: an aligned table for people, or with `--json` the same rows as
//! JSON for scripts. Commands build both from one list of rows, so the two never disagree.

use std::fmt::Write as _;

use serde::Serialize;

use crate::error::CmdError;

/// Rows with column headings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    headings: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these headings.
    pub fn new(headings: &[&'static str]) -> Self {
        Self {
            headings: headings.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (cells beyond the headings are dropped, missing ones left empty).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text: every column as wide as its widest cell, two spaces apart.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.headings.len())
            .map(|col| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(col))
                    .map(|cell| cell.chars().count())
                    .chain([self.headings[col].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let headings: Vec<String> = self.headings.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&headings).chain(&self.rows) {
            let mut line = String::new();
            for (col, width) in widths.iter().enumerate() {
                let cell = row.get(col).map_or("", String::as_str);
                let _ = write!(line, "{cell:<width$}  ");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Prints `value` as pretty JSON when `json`, else the table.
pub fn show<T: Serialize + ?Sized>(json: bool, value: &T, table: &Table) -> Result<(), CmdError> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        print!("{}", table.render());
    }
    Ok(())
}

/// Prints a tool's report as JSON or as its own text.
pub fn report<T: Serialize + std::fmt::Display>(json: bool, value: &T) -> Result<(), CmdError> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        println!("{value}");
    }
    Ok(())
}

/// A Unix time as an RFC 3339 UTC time, to the second.
pub fn time(unix_secs: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_secs);
    humantime::format_rfc3339_seconds(at).to_string()
}

/// A list for one cell: comma-separated, `-` when empty.
pub fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_under_their_headings() {
        let mut table = Table::new(&["USER", "GROUPS"]);
        table.row(vec!["alice".into(), "admins,staff".into()]);
        table.row(vec!["bo".into()]);
        assert_eq!(table.render(), "USER   GROUPS\nalice  admins,staff\nbo\n");
    }

    #[test]
    fn times_read_as_utc() {
        assert_eq!(time(0), "1970-01-01T00:00:00Z");
        assert_eq!(list(&[]), "-");
    }
}
