//! journald's native protocol: one datagram per line to its socket, each field `NAME=value`
//! and a newline, or, for a value holding a newline, `NAME`, a newline, the value's length as
//! 64-bit little-endian, the value and a newline
//! (<https://systemd.io/JOURNAL_NATIVE_PROTOCOL/>).
//!
//! Fields: `MESSAGE` (the chained line, unchanged), `PRIORITY` (from the line's `level`, see
//! `line`), `SYSLOG_IDENTIFIER=pforte`, `PFORTE_AUDIT_EVENT`, `PFORTE_AUDIT_SEQ` and, when the
//! line names one, `PFORTE_AUDIT_REPLICA`, so `journalctl PFORTE_AUDIT_EVENT=login_failure`
//! finds events without parsing JSON.
//!
//! Size: a datagram can be as large as the sending socket's buffer, which the sink raises to
//! [`SEND_BUFFER`] (the kernel caps it at `net.core.wmem_max`, 208 KiB by default). A line too
//! large for it is refused by the kernel (`EMSGSIZE`); the sink then drops and counts it and
//! says so in its log, rather than cut the line (a cut line no longer verifies) or pass a
//! memory file descriptor, which journald accepts for large entries but which needs unsafe
//! code this crate forbids. Audit lines are a few hundred bytes.

use super::line::LineFields;
use super::queue::Item;
use super::rfc5424::APP_NAME;

/// The send buffer the sink asks for on its datagram sockets: journald's own receive buffer.
pub const SEND_BUFFER: usize = 8 * 1024 * 1024;

/// The datagram of one line.
pub fn datagram(item: &Item) -> Vec<u8> {
    let fields = LineFields::read(&item.line);
    let mut out = Vec::with_capacity(item.line.len() + 160);
    field(&mut out, "MESSAGE", item.line.as_bytes());
    field(
        &mut out,
        "PRIORITY",
        fields.severity.code().to_string().as_bytes(),
    );
    field(&mut out, "SYSLOG_IDENTIFIER", APP_NAME.as_bytes());
    field(&mut out, "PFORTE_AUDIT_EVENT", item.event.as_bytes());
    field(
        &mut out,
        "PFORTE_AUDIT_SEQ",
        item.seq.to_string().as_bytes(),
    );
    if let Some(replica) = &fields.replica {
        field(&mut out, "PFORTE_AUDIT_REPLICA", replica.as_bytes());
    }
    out
}

/// Appends one field; `name` is one of this module's constants (upper case, digits, `_`).
fn field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    if value.contains(&b'\n') {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        out.push(b'=');
    }
    out.extend_from_slice(value);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::telemetry::audit_log::counters::Sink;
    use crate::telemetry::audit_log::delivery::queue::Queue;

    #[test]
    fn fields_are_plain_or_length_prefixed() {
        let queue = Queue::new(Sink::Journald, 1);
        let line = r#"{"level":"ERROR","replica":"gw-2","event":"x"}"#;
        queue.push(Arc::from(line), 42, Arc::from("audit_write_error"));
        let item = queue.take(1).unwrap().remove(0);
        assert_eq!(
            datagram(&item),
            format!(
                "MESSAGE={line}\nPRIORITY=3\nSYSLOG_IDENTIFIER=pforte\nPFORTE_AUDIT_EVENT=audit_write_error\nPFORTE_AUDIT_SEQ=42\nPFORTE_AUDIT_REPLICA=gw-2\n"
            )
            .as_bytes()
        );
        let mut out = Vec::new();
        field(&mut out, "MESSAGE", b"a\nb");
        assert_eq!(out, b"MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\n");
    }
}
