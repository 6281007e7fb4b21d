//! Syslog messages as RFC 5424 writes them, and RFC 5425's octet-counted framing on TLS.
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME pforte PROCID MSGID - MSG
//! <86>1 2026-12-07T22:01:02.123456Z gw1 pforte 4711 login_success - {"timestamp":…,"hash":"…"}
//! ```
//!
//! PRI is facility × 8 + severity (the line's `level`, see `line`); MSGID is the event's name;
//! there is no STRUCTURED-DATA (`-`), because MSG is the chained line byte for byte: a file of
//! received messages verifies like the audit log itself, its JSON starting at the first `{`.
//! Fields that must be printable ASCII (HOSTNAME, MSGID) lose other characters and are cut to
//! the RFC's lengths; an empty one is the NILVALUE `-`. MSG carries no byte order mark (it is
//! then the RFC's MSG-ANY, octets the receiver takes as they come): a BOM would sit in front of
//! the JSON in every tool that reads the message as text.

use super::line::LineFields;
use super::queue::Item;
use crate::config::audit_delivery::Facility;

/// APP-NAME of every message.
pub const APP_NAME: &str = "pforte";

/// RFC 5424's longest HOSTNAME and MSGID.
const HOSTNAME_MAX: usize = 255;
const MSGID_MAX: usize = 32;

/// The parts of a message that are the same for every line of one process.
#[derive(Debug, Clone)]
pub struct Header {
    /// The facility of every message.
    pub facility: Facility,
    /// HOSTNAME, already made printable.
    pub hostname: String,
    /// PROCID: this process's id.
    pub procid: u32,
}

impl Header {
    /// The header of this process: the kernel's host name (`-` when it cannot be read) and
    /// its process id.
    pub fn of_this_process(facility: Facility) -> Self {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        Self {
            facility,
            hostname: printable(name.trim(), HOSTNAME_MAX),
            procid: std::process::id(),
        }
    }
}

/// The RFC 5424 message of one line.
pub fn message(header: &Header, item: &Item) -> String {
    let fields = LineFields::read(&item.line);
    let pri = u16::from(header.facility.code()) * 8 + u16::from(fields.severity.code());
    format!(
        "<{pri}>1 {} {} {APP_NAME} {} {} - {}",
        fields.timestamp.as_deref().unwrap_or("-"),
        header.hostname,
        header.procid,
        printable(&item.event, MSGID_MAX),
        item.line,
    )
}

/// Appends `message` as an RFC 5425 frame: its length in octets, a space, the message.
pub fn frame(message: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(message.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(message.as_bytes());
}

/// `text` with only printable ASCII other than space (RFC 5424's PRINTUSASCII), at most `max`
/// characters; `-` when nothing is left.
fn printable(text: &str, max: usize) -> String {
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if kept.is_empty() {
        "-".to_string()
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::telemetry::audit_log::counters::Sink;
    use crate::telemetry::audit_log::delivery::queue::{Pushed, Queue};

    fn item(line: &str, event: &str) -> Item {
        let queue = Queue::new(Sink::Syslog, 1);
        assert_eq!(
            queue.push(Arc::from(line), 7, Arc::from(event)),
            Pushed::Queued
        );
        queue.take(1).unwrap().remove(0)
    }

    fn header() -> Header {
        Header {
            facility: Facility::Authpriv,
            hostname: "gw1".into(),
            procid: 4711,
        }
    }

    #[test]
    fn a_line_becomes_an_rfc5424_message_with_the_line_unchanged() {
        let line = r#"{"timestamp":"2026-12-07T22:01:02.123456Z","level":"INFO","event":"login_success","seq":7,"hash":"ab"}"#;
        let text = message(&header(), &item(line, "login_success"));
        assert_eq!(
            text,
            format!("<86>1 2026-12-07T22:01:02.123456Z gw1 pforte 4711 login_success - {line}")
        );
        assert_eq!(&text[text.find('{').unwrap()..], line);
        let warn = r#"{"level":"WARN","event":"audit_delivery_dropped"}"#;
        let header = Header {
            facility: Facility::Local0,
            ..header()
        };
        assert_eq!(
            message(&header, &item(warn, "audit_delivery_dropped")),
            format!("<132>1 - gw1 pforte 4711 audit_delivery_dropped - {warn}")
        );
    }

    #[test]
    fn msgid_and_hostname_are_printable_and_cut() {
        let long = "a_very_long_event_name_that_goes_past_32";
        let text = message(&header(), &item("{}", &format!("{long} ü")));
        assert!(
            text.contains(" a_very_long_event_name_that_goes - {}"),
            "{text}"
        );
        assert_eq!(printable(" \n", 5), "-");
        assert_eq!(printable("gw 1.example", 255), "gw1.example");
    }

    #[test]
    fn frames_count_octets_not_characters() {
        let mut out = Vec::new();
        frame("<86>1 ä", &mut out);
        frame("x", &mut out);
        assert_eq!(out, "8 <86>1 ä1 x".as_bytes());
    }
}
