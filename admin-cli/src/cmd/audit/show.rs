//! `audit show`: the events of audit log files, filtered ([`super::filter`]), one short line
//! each for people, or the matching lines unchanged with `--json` (for `jq` and SIEM imports).
//!
//! Files are read as streams and merged by time (rotated files and several replicas' files give
//! one timeline), so a large log needs no memory. A line that
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
use std::time::{SystemTime, UNIX_EPOCH};

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

/// Prints the events of `files` that `filter` lets through, in time order across the files. A
/// person asked for by name is also found by the subjects their logins in these files show (a
/// first pass over the files).
pub fn run(files: &[PathBuf], mut filter: Filter, json: bool) -> Result<Exit, CmdError> {
    if let [name] = filter.person.as_slice() {
        let name = name.clone();
        for file in files {
            let mut events = Events::open(file, false).map_err(input_error)?;
            while let Some(event) = events.next_event().map_err(input_error)? {
                if let Some(subject) = filter::subject_of(&event.fields, &name)
                    && !filter.person.iter().any(|p| p == subject)
                {
                    filter.person.push(subject.to_string());
                }
            }
        }
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match show(files, &filter, json, &mut out).and_then(|()| out.flush().map_err(Failure::Output)) {
        Ok(()) => Ok(Exit::OK),
        // The reader went away (`| head`): what it wanted has been printed.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Exit::OK),
        Err(Failure::Output(e)) => Err(e.into()),
        Err(Failure::Input(e)) => Err(input_error(e)),
    }
}

/// Reading a file failed (bad input), or writing the output did.
enum Failure {
    Input(ReadError),
    Output(io::Error),
}

/// A file that could not be read, and why.
struct ReadError {
    path: PathBuf,
    source: io::Error,
}

fn input_error(e: ReadError) -> CmdError {
    AuditCmdError::Read {
        path: e.path,
        source: e.source,
    }
    .into()
}

/// Writes the matching events of `files`, merged by time: each file is in time order, near
/// enough (events are stamped just before they are appended, so two at once may swap by a
/// fraction of a millisecond), and taking the earliest of the files' next events gives one
/// timeline of rotated files and of several replicas while keeping every file's own order. Ties
/// keep the order of the files given; an event without a readable time goes with the one before
/// it in its file.
fn show(
    files: &[PathBuf],
    filter: &Filter,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let mut heads = Vec::with_capacity(files.len());
    for file in files {
        let mut events = Events::open(file, true).map_err(Failure::Input)?;
        let next = events.next_event().map_err(Failure::Input)?;
        heads.push((events, next));
    }
    loop {
        let earliest = heads
            .iter()
            .enumerate()
            .filter_map(|(i, (events, next))| next.as_ref().map(|e| (events.time_of(e), i)))
            .min();
        let Some((_, i)) = earliest else {
            return Ok(());
        };
        let (events, next) = &mut heads[i];
        if let Some(event) = next.take() {
            events.last_time = events.time_of(&event);
            if filter.matches(&event.fields) {
                if json {
                    out.write_all(&event.raw).map_err(Failure::Output)?;
                    out.write_all(b"\n").map_err(Failure::Output)?;
                } else {
                    writeln!(out, "{}", text_line(&event.fields)).map_err(Failure::Output)?;
                }
            }
        }
        *next = events.next_event().map_err(Failure::Input)?;
    }
}

/// One event: its JSON as written and its fields.
struct Event {
    raw: Vec<u8>,
    fields: Map<String, Value>,
}

/// A file's events, read one at a time.
struct Events {
    path: PathBuf,
    reader: BufReader<File>,
    line: Vec<u8>,
    number: usize,
    /// Whether a line that is not an event is named on standard error (once: the first pass of
    /// `--person` reads quietly).
    warn: bool,
    /// The time of the last event taken, for one whose time cannot be read.
    last_time: SystemTime,
}

impl Events {
    fn open(path: &Path, warn: bool) -> Result<Events, ReadError> {
        let file = File::open(path).map_err(|source| ReadError {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Events {
            path: path.to_path_buf(),
            reader: BufReader::new(file),
            line: Vec::new(),
            number: 0,
            warn,
            last_time: UNIX_EPOCH,
        })
    }

    /// The next event; a line that is not one is skipped.
    fn next_event(&mut self) -> Result<Option<Event>, ReadError> {
        loop {
            self.line.clear();
            let read = self
                .reader
                .read_until(b'\n', &mut self.line)
                .map_err(|source| ReadError {
                    path: self.path.clone(),
                    source,
                })?;
            if read == 0 {
                return Ok(None);
            }
            self.number += 1;
            let bytes = self.line.trim_ascii();
            if bytes.is_empty() {
                continue;
            }
            match parse_line(bytes) {
                Some((raw, fields)) => {
                    return Ok(Some(Event {
                        raw: raw.to_vec(),
                        fields,
                    }));
                }
                None if self.warn => eprintln!(
                    "pforte-admin: {}:{}: not an audit event (not a JSON object), skipped",
                    self.path.display(),
                    self.number
                ),
                None => {}
            }
        }
    }

    /// When the event happened, for the merge.
    fn time_of(&self, event: &Event) -> SystemTime {
        filter::text(&event.fields, "timestamp")
            .and_then(|t| filter::parse_rfc3339(t).ok())
            .unwrap_or(self.last_time)
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

    /// `show` over files of these lines, as text.
    fn shown(files: &[&[&str]], filter: &Filter) -> String {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = files
            .iter()
            .enumerate()
            .map(|(i, lines)| {
                let path = dir.path().join(format!("{i}.jsonl"));
                std::fs::write(&path, lines.join("\n")).unwrap();
                path
            })
            .collect();
        let mut out = Vec::new();
        assert!(show(&paths, filter, true, &mut out).is_ok());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_file_is_shown_past_lines_that_are_not_events() {
        let lines = [
            r#"{"event":"login_failure","username":"bob"}"#,
            "torn {\"event\":\"log",
            "",
            r#"Dec  7 10:00:00 gw pforte[1]: {"event":"logout","subject":"s-bob"}"#,
            r#"{"event":"login_success","username":"alice"}"#,
        ];
        let filter = Filter {
            person: vec!["bob".into(), "s-bob".into()],
            ..Filter::default()
        };
        assert_eq!(
            shown(&[&lines], &filter),
            "{\"event\":\"login_failure\",\"username\":\"bob\"}\n\
             {\"event\":\"logout\",\"subject\":\"s-bob\"}\n",
            "the matching events' JSON, the torn line skipped, the last line without a newline read"
        );
        let missing = show(
            &[PathBuf::from("/nonexistent")],
            &filter,
            true,
            &mut Vec::new(),
        );
        assert!(matches!(missing, Err(Failure::Input(e)) if e.path == Path::new("/nonexistent")));
    }

    #[test]
    fn files_are_merged_into_one_timeline() {
        let at = |event: &str, time: &str| format!(r#"{{"event":"{event}","timestamp":"{time}"}}"#);
        let old = [
            at("a1", "2026-12-07T10:00:00.100Z"),
            at("a2", "2026-12-07T10:00:02Z"),
        ];
        let new = [
            at("a3", "2026-12-07T10:00:05Z"),
            r#"{"event":"a4"}"#.to_string(),
            at("a5", "2026-12-07T10:00:06Z"),
        ];
        let other = [
            at("b1", "2026-12-07T10:00:00.200Z"),
            at("b2", "2026-12-07T10:00:05Z"),
        ];
        fn refs(lines: &[String]) -> Vec<&str> {
            lines.iter().map(String::as_str).collect()
        }
        let (old, new, other) = (refs(&old), refs(&new), refs(&other));
        let text = shown(&[&new, &other, &old], &Filter::default());
        let order: Vec<&str> = text.lines().map(|l| l.split('"').nth(3).unwrap()).collect();
        assert_eq!(
            order,
            ["a1", "b1", "a2", "a3", "a4", "b2", "a5"],
            "by time; a tie in the order of the files given; no time: after its predecessor"
        );
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
