//! What the sinks read from a chained line besides carrying it unchanged: when the event
//! happened, how severe it is, and which replica wrote it.
//!
//! The time is the event's own `timestamp`, not the moment of sending, so a message that
//! waited in a queue still says when the login happened (RFC 5424 section 6.2.3: the time the
//! message originated), and no clock is read here. The severity follows the line's `level`:
//! `ERROR` is err (3), `WARN` warning (4), `INFO` info (6), `DEBUG`/`TRACE` debug (7); a line
//! without one is info. Checkpoints are ordinary info lines: a SIEM picks them out by MSGID
//! `audit_checkpoint`, not by a severity that would page someone.

use serde::Deserialize;

/// The syslog severities the sinks use (RFC 5424 section 6.2.1; journald's `PRIORITY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// 3: an error condition.
    Error = 3,
    /// 4: a warning.
    Warning = 4,
    /// 6: informational, most audit events.
    Info = 6,
    /// 7: debug detail.
    Debug = 7,
}

impl Severity {
    /// The severity's number.
    pub fn code(self) -> u8 {
        self as u8
    }

    fn of_level(level: &str) -> Self {
        match level.to_ascii_uppercase().as_str() {
            "ERROR" => Self::Error,
            "WARN" | "WARNING" => Self::Warning,
            "DEBUG" | "TRACE" => Self::Debug,
            _ => Self::Info,
        }
    }
}

/// The top-level fields of a line the sinks use; others are ignored.
#[derive(Debug, Default, Deserialize)]
struct Head {
    timestamp: Option<String>,
    level: Option<String>,
    replica: Option<String>,
}

/// What a sink reads from one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFields {
    /// The event's time as RFC 5424 writes it (UTC, microseconds), when the line has a
    /// readable one.
    pub timestamp: Option<String>,
    /// From the line's `level`.
    pub severity: Severity,
    /// The replica that wrote the line.
    pub replica: Option<String>,
}

impl LineFields {
    /// Reads `line`; a line that is not a JSON object (never one the writer made) gives no
    /// time, info severity and no replica, and is still sent.
    pub fn read(line: &str) -> Self {
        let head: Head = serde_json::from_str(line).unwrap_or_default();
        Self {
            timestamp: head.timestamp.as_deref().and_then(rfc5424_time),
            severity: head
                .level
                .as_deref()
                .map_or(Severity::Info, Severity::of_level),
            replica: head.replica,
        }
    }
}

/// An RFC 3339 time as RFC 5424's TIMESTAMP: UTC with `Z` and at most six fractional digits
/// (the RFC's limit; nanoseconds are cut, not rounded).
fn rfc5424_time(text: &str) -> Option<String> {
    let time = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(
        time.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_time_level_and_replica() {
        let fields = LineFields::read(
            r#"{"timestamp":"2026-12-07T23:01:02.123456789+01:00","level":"WARN","replica":"gw-1","nested":{"timestamp":"x"}}"#,
        );
        assert_eq!(
            fields,
            LineFields {
                timestamp: Some("2026-12-07T22:01:02.123456Z".into()),
                severity: Severity::Warning,
                replica: Some("gw-1".into()),
            }
        );
        let bare = LineFields::read(r#"{"timestamp":"yesterday","event":"login_success"}"#);
        assert_eq!(
            (bare.timestamp, bare.severity, bare.replica),
            (None, Severity::Info, None)
        );
        assert_eq!(LineFields::read("not json").severity, Severity::Info);
        assert_eq!(Severity::of_level("error"), Severity::Error);
    }
}
