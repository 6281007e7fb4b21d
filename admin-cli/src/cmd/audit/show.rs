//! `audit show`: the events of audit log files, filtered ([`super::filter`]), one short line
//! each for people, or the matching lines unchanged with `--json` (for `jq` and SIEM imports).
//!
//! Files are read as a stream, in the order given, so a large log needs no memory. A line that
//! is not a JSON object (a torn last line, a stray write) is named with file:line on standard
//! error and skipped; the command still succeeds, since showing is not checking: `audit verify`
//! is the command that fails on a damaged log. A line of a syslog copy is read from its first
//! `{`, as `audit verify --checkpoints` does.
//!
//! `--person bob` also finds the events that name bob by subject only (a refusal, an OIDC
//! event): the subjects his logins in the same files show count as him.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::AuditCmdError;
use super::filter::{self, Filter};
use crate::error::{CmdError, Exit};

/// Fields every line has, or that the columns already show: left out of the line's rest.
const NOT_IN_REST: [&str; 12] = [
    "timestamp",
    "level",
    "target",
    "message",
    "event",
    "replica",
    "seq",
    "prev",
    "hash",
    "source",
    "request_id",
    "signature",
];

/// Values longer than this are cut in the text output (`--json` shows them whole).
const VALUE_WIDTH: usize = 40;

/// Prints the events of `files` that `filter` lets through. A person asked for by name is also
/// found by the subjects their logins in these files show (a first pass over the files).
pub fn run(files: &[PathBuf], mut filter: Filter, json: bool) -> Result<Exit, CmdError> {
    if let [name] = filter.person.as_slice() {
        let name = name.clone();
        for file in files {
            read_events(file, false, &mut |_, event| {
                if let Some(subject) = filter::subject_of(&event, &name)
                    && !filter.person.iter().any(|p| p == subject)
                {
                    filter.person.push(subject.to_string());
                }
                Ok(())
            })
            .map_err(|e| input_error(file, e))?;
        }
    }
    let filter = &filter;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for file in files {
        match show_file(file, filter, json, &mut out) {
            Ok(()) => {}
            // The reader went away (`| head`): what it wanted has been printed.
            Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
                return Ok(Exit::OK);
            }
            Err(failure) => return Err(input_error(file, failure)),
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(Exit::OK),
    }
}

/// Reading the file failed (bad input), or writing the output did.
enum Failure {
    Input(io::Error),
    Output(io::Error),
}

/// A failure while reading `file` as the command's error.
fn input_error(file: &Path, failure: Failure) -> CmdError {
    match failure {
        Failure::Input(source) => AuditCmdError::Read {
            path: file.to_path_buf(),
            source,
        }
        .into(),
        Failure::Output(e) => e.into(),
    }
}

fn show_file(
    path: &Path,
    filter: &Filter,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    read_events(path, true, &mut |raw, event| {
        if !filter.matches(&event) {
            return Ok(());
        }
        if json {
            out.write_all(raw).map_err(Failure::Output)?;
            out.write_all(b"\n").map_err(Failure::Output)
        } else {
            writeln!(out, "{}", text_line(&event)).map_err(Failure::Output)
        }
    })
}

/// Calls `each` with every event of the file (its JSON bytes and object), in order; a line that
/// is not an event is skipped, and named on standard error when `warn`.
fn read_events(
    path: &Path,
    warn: bool,
    each: &mut impl FnMut(&[u8], Map<String, Value>) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut reader = BufReader::new(File::open(path).map_err(Failure::Input)?);
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        if reader
            .read_until(b'\n', &mut line)
            .map_err(Failure::Input)?
            == 0
        {
            return Ok(());
        }
        number += 1;
        let bytes = line.trim_ascii();
        if bytes.is_empty() {
            continue;
        }
        let Some((raw, event)) = parse_line(bytes) else {
            if !warn {
                continue;
            }
            eprintln!(
                "pforte-admin: {}:{number}: not an audit event (not a JSON object), skipped",
                path.display()
            );
            continue;
        };
        each(raw, event)?;
    }
}

/// The JSON object of a line (from its first `{`, for syslog copies) and its bytes.
fn parse_line(line: &[u8]) -> Option<(&[u8], Map<String, Value>)> {
    let start = line.iter().position(|&b| b == b'{')?;
    let raw = &line[start..];
    serde_json::from_slice(raw).ok().map(|event| (raw, event))
}

/// One event for people: time (to the second), replica, event, person, app or client, source,
/// then the other fields as `name=value`, long values cut.
pub fn text_line(event: &Map<String, Value>) -> String {
    let time = filter::text(event, "timestamp").map_or_else(
        || "-".to_string(),
        |t| match filter::parse_rfc3339(t) {
            Ok(at) => humantime::format_rfc3339_seconds(at).to_string(),
            Err(()) => t.to_string(),
        },
    );
    let (person_field, person) = ["username", "user", "subject"]
        .into_iter()
        .find_map(|f| filter::text(event, f).map(|v| (f, v)))
        .or_else(|| filter::locked_account(event).map(|v| ("key", v)))
        .or_else(|| filter::text(event, "by").map(|v| ("by", v)))
        .unwrap_or(("", "-"));
    let (app_field, app) = ["app", "client"]
        .into_iter()
        .find_map(|f| filter::text(event, f).map(|v| (f, v)))
        .unwrap_or(("", "-"));
    let column = |field| filter::text(event, field).unwrap_or("-");
    let mut line = format!(
        "{time:<20}  {:<16}  {:<24}  {person:<16}  {app:<12}  {:<15}",
        column("replica"),
        column("event"),
        column("source"),
    );
    for (name, value) in event {
        if NOT_IN_REST.contains(&name.as_str()) || name == person_field || name == app_field {
            continue;
        }
        let value = match value {
            Value::String(s) if s.is_empty() => continue,
            Value::String(s) => s.clone(),
            Value::Object(checkpoint) if name == "checkpoint" => {
                format!(
                    "seq {} key {}",
                    checkpoint.get("seq").unwrap_or(&Value::Null),
                    checkpoint.get("key").and_then(Value::as_str).unwrap_or("-")
                )
            }
            other => other.to_string(),
        };
        line.push_str(&format!("  {name}={}", cut(&value)));
    }
    line.trim_end().to_string()
}

/// A value cut to [`VALUE_WIDTH`] characters, marked with `…` when cut.
fn cut(value: &str) -> String {
    if value.chars().count() <= VALUE_WIDTH {
        return value.to_string();
    }
    let mut short: String = value.chars().take(VALUE_WIDTH - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_login_reads_as_one_line_with_its_columns() {
        let login = event(
            r#"{"timestamp":"2026-12-07T10:00:00.250000Z","level":"INFO","message":"login",
            "event":"login_success","request_id":"r1","source":"192.0.2.7","subject":"uid=alice",
            "username":"alice","session":"s1","target":"pforte::audit","replica":"gw-a","seq":7,
            "prev":"00","hash":"ff"}"#,
        );
        let line = text_line(&login);
        assert!(
            line.starts_with("2026-12-07T10:00:00Z  gw-a              login_success"),
            "{line}"
        );
        let mut words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            &words[1..6],
            ["gw-a", "login_success", "alice", "-", "192.0.2.7"]
        );
        words[6..].sort_unstable();
        assert_eq!(&words[6..], ["session=s1", "subject=uid=alice"], "the rest");
    }

    #[test]
    fn admins_checkpoints_and_long_values_are_short() {
        let change = event(
            r#"{"timestamp":"2026-12-07T10:00:00Z","event":"user_disabled","user":"bob",
            "subject":"","group":"","by":"root"}"#,
        );
        let words: Vec<String> = text_line(&change)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        assert_eq!(words[3], "bob");
        assert!(words.contains(&"by=root".to_string()), "{words:?}");
        assert!(
            !words.iter().any(|w| w.starts_with("group=")),
            "empty: left out"
        );

        let checkpoint = event(
            r#"{"timestamp":"2026-12-07T10:00:00Z","event":"audit_checkpoint","replica":"gw-a",
            "checkpoint":{"replica":"gw-a","seq":41,"head":"ab","time":"t","key":"0123456789abcdef"},
            "signature":"c2lnbmF0dXJl"}"#,
        );
        let line = text_line(&checkpoint);
        assert!(
            line.ends_with("checkpoint=seq 41 key 0123456789abcdef"),
            "{line}"
        );
        assert!(!line.contains("signature"), "{line}");

        let long = "x".repeat(100);
        let impact = event(&format!(r#"{{"event":"policy_impact","apps":"{long}"}}"#));
        let line = text_line(&impact);
        assert!(
            line.ends_with(&format!("apps={}…", "x".repeat(39))),
            "{line}"
        );
    }

    #[test]
    fn a_file_is_shown_past_lines_that_are_not_events() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("audit.jsonl");
        let lines = [
            r#"{"event":"login_failure","username":"bob"}"#,
            "torn {\"event\":\"log",
            "",
            r#"Dec  7 10:00:00 gw pforte[1]: {"event":"logout","subject":"s-bob"}"#,
            r#"{"event":"login_success","username":"alice"}"#,
        ];
        std::fs::write(&file, lines.join("\n")).unwrap();
        let mut out = Vec::new();
        let filter = Filter {
            person: vec!["bob".into(), "s-bob".into()],
            ..Filter::default()
        };
        assert!(show_file(&file, &filter, true, &mut out).is_ok());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"event\":\"login_failure\",\"username\":\"bob\"}\n\
             {\"event\":\"logout\",\"subject\":\"s-bob\"}\n",
            "the matching events' JSON, the torn line skipped, the last line without a newline read"
        );
        let missing = show_file(&dir.path().join("none"), &filter, true, &mut Vec::new());
        assert!(matches!(missing, Err(Failure::Input(_))));
    }

    #[test]
    fn syslog_copies_are_read_from_their_first_brace_and_garbage_is_not_an_event() {
        let (raw, event) =
            parse_line(br#"Dec  7 10:00:00 gw pforte[1]: {"event":"logout"}"#).unwrap();
        assert_eq!(raw, br#"{"event":"logout"}"#);
        assert_eq!(event["event"], "logout");
        assert!(parse_line(b"not json").is_none());
        assert!(parse_line(br#"{"event":"logo"#).is_none(), "a torn line");
        assert!(parse_line(b"[1,2]").is_none());
    }
}
