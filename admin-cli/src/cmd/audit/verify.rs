//! `audit verify`: the verdict of `pforte_audit::verify` over the files given, for people (a
//! summary per replica chain, the notices, and the first break as one sentence with file:line)
//! or for scripts (`--json`: the whole report). Exit 1 when anything is broken, so a cron job or
//! a CI step can alert on it; exit 2 when nothing could be checked (an unreadable file or key
//! folder), which is not a finding about the log.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pforte_audit::keys::TrustedKeys;
use pforte_audit::verify::{Input, NoticeKind, Report, verify};

use super::AuditCmdError;
use crate::error::{CmdError, Exit};

/// Where the trusted public keys come from.
pub struct Keys<'a> {
    /// Their folder.
    pub dir: &'a Path,
    /// Whether it is the config's `[audit] key_dir` (on the host that wrote the log) rather than
    /// a folder named with `--keys`: the text then says that evidence wants a copy kept off the
    /// host, since whoever could rewrite the log there could replace the keys too.
    pub from_config: bool,
}

/// Verifies `logs` (with the checkpoint lines of `checkpoints`) against the public keys in
/// `keys`, prints the verdict, and says by the exit code whether the log is intact.
pub fn run(
    logs: &[PathBuf],
    checkpoints: &[PathBuf],
    keys: &Keys<'_>,
    json: bool,
) -> Result<Exit, CmdError> {
    let key_dir = keys.dir;
    if !key_dir.is_dir() {
        return Err(AuditCmdError::NoKeyDir(key_dir.to_path_buf()).into());
    }
    let trusted = TrustedKeys::load_dir(key_dir).map_err(AuditCmdError::from)?;
    if trusted.is_empty() {
        return Err(AuditCmdError::NoKeys(key_dir.to_path_buf()).into());
    }
    let report = verify(&Input {
        logs,
        checkpoints,
        keys: &trusted,
    })
    .map_err(AuditCmdError::from)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("trusted keys: {} from {}", trusted.len(), key_dir.display());
        if keys.from_config {
            println!(
                "  (the config's [audit] key_dir: for evidence, verify with a copy of the public \
                 keys kept off the host, --keys DIR)"
            );
        }
        print!("{}", render(&report));
    }
    Ok(if report.is_intact() {
        Exit::OK
    } else {
        Exit::NO
    })
}

/// The verdict as text: one line per replica chain, the checkpoints verified, the notices, then
/// either "intact" or the first break as a sentence that says where, what and why.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for chain in &report.chains {
        let _ = writeln!(
            out,
            "replica {}: {}, seq {} to {}, {}",
            chain.replica,
            count(chain.events, "event"),
            chain.first_seq,
            chain.last_seq,
            count(chain.checkpoints, "checkpoint")
        );
    }
    if report.chains.is_empty() {
        out.push_str("no audit events in these files\n");
    }
    let _ = writeln!(
        out,
        "{} verified",
        count(report.checkpoints_verified as u64, "signed checkpoint")
    );
    for notice in &report.notices {
        let _ = writeln!(
            out,
            "notice: {}: {}: {}",
            notice.place,
            notice_kind(notice.kind),
            notice.detail
        );
    }
    match report.first_break() {
        None => out.push_str(
            "intact: no event edited, deleted, inserted or reordered; every checkpoint's \
             signature holds\n(events after a chain's last checkpoint are protected by the chain \
             alone: a later checkpoint kept off the host, given with --checkpoints, covers them)\n",
        ),
        Some(first) => {
            let whose = match (&first.replica, first.seq) {
                (Some(replica), Some(seq)) => format!(" (replica {replica}, seq {seq})"),
                (Some(replica), None) => format!(" (replica {replica})"),
                (None, Some(seq)) => format!(" (seq {seq})"),
                (None, None) => String::new(),
            };
            let _ = writeln!(
                out,
                "BROKEN: {}: {}{whose}: {}",
                first.place,
                first.kind.as_str(),
                first.detail
            );
            let more = report.breaks.len().saturating_sub(1);
            if more > 0 {
                let breaks = if more == 1 { "break" } else { "breaks" };
                let _ = writeln!(
                    out,
                    "{more} more {breaks} after it (often consequences of the first; --json lists \
                     them all)"
                );
            }
        }
    }
    out
}

/// `1 event`, `2 events`.
fn count(n: u64, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// A notice's kind in words.
fn notice_kind(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::DamagedTail => "damaged tail, recorded by the gateway",
        NoticeKind::Resumed => "chain resumed, recorded by the gateway",
        NoticeKind::StartsLate => "starts late (earlier files not given)",
        NoticeKind::ChainNotGiven => "chain not given",
    }
}

#[cfg(test)]
mod tests {
    use pforte_audit::verify::{Break, BreakKind, ChainSummary, Notice, Place};

    use super::*;

    fn place(line: usize) -> Place {
        Place {
            file: PathBuf::from("/var/log/pforte/audit.jsonl"),
            line,
        }
    }

    fn report() -> Report {
        Report {
            chains: vec![ChainSummary {
                replica: "gw-a".into(),
                first_seq: 1,
                last_seq: 42,
                events: 42,
                checkpoints: 3,
            }],
            checkpoints_verified: 3,
            notices: vec![Notice {
                kind: NoticeKind::DamagedTail,
                place: place(20),
                detail: "1 line cut short by a crash".into(),
            }],
            breaks: Vec::new(),
        }
    }

    #[test]
    fn an_intact_log_reads_as_a_summary_per_chain() {
        let text = render(&report());
        assert!(
            text.starts_with("replica gw-a: 42 events, seq 1 to 42, 3 checkpoints\n"),
            "{text}"
        );
        assert!(text.contains("3 signed checkpoints verified\n"), "{text}");
        assert!(
            text.contains(
                "notice: /var/log/pforte/audit.jsonl:20: damaged tail, recorded by the gateway: \
                 1 line cut short by a crash\n"
            ),
            "{text}"
        );
        assert!(text.contains("\nintact: "), "{text}");
        assert!(!text.contains("BROKEN"), "{text}");
    }

    #[test]
    fn a_break_reads_as_one_sentence_with_its_place_and_kind() {
        let mut report = report();
        for line in [17, 18] {
            report.breaks.push(Break {
                kind: BreakKind::Edited,
                place: place(line),
                replica: Some("gw-a".into()),
                seq: Some(line as u64),
                detail: "the line does not match its hash".into(),
            });
        }
        let text = render(&report);
        assert!(
            text.contains(
                "BROKEN: /var/log/pforte/audit.jsonl:17: edited (replica gw-a, seq 17): the line \
                 does not match its hash\n1 more break after it"
            ),
            "{text}"
        );
        assert!(!text.contains("intact"), "{text}");
        let empty = render(&Report::default());
        assert!(
            empty.starts_with("no audit events in these files\n"),
            "{empty}"
        );
    }
}

#[cfg(test)]
mod exit_codes {
    use pforte_audit::checkpoint::Checkpoint;
    use pforte_audit::keys::SigningKey;
    use pforte_audit::{Hash, Link, seal};
    use serde_json::{Map, Value};

    use super::*;

    /// Three events and a signed checkpoint of replica `gw-a`, sealed by the audit crate.
    fn log(key: &SigningKey) -> Vec<String> {
        let mut lines = Vec::new();
        let mut prev = Hash::ZERO;
        let mut append = |fields: Map<String, Value>, seq: u64| {
            let link = Link {
                replica: "gw-a".into(),
                seq,
                prev,
            };
            let sealed = seal(fields, &link).unwrap();
            prev = sealed.hash;
            lines.push(sealed.line);
            prev
        };
        let mut head = Hash::ZERO;
        for seq in 1..=3 {
            let mut fields = Map::new();
            fields.insert("event".into(), "login_success".into());
            fields.insert("username".into(), format!("user{seq}").into());
            head = append(fields, seq);
        }
        let checkpoint = Checkpoint {
            replica: "gw-a".into(),
            seq: 3,
            head: head.to_string(),
            time: "2026-12-07T22:00:00Z".into(),
            key: key.kid().into(),
        };
        append(checkpoint.signed_fields(key).unwrap(), 4);
        lines
    }

    #[test]
    fn the_exit_code_says_intact_broken_or_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let key = SigningKey::load_or_create(&keys).unwrap();
        let lines = log(&key);
        let file = dir.path().join("audit.jsonl");
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        let files = [file.clone()];
        let given = |dir| Keys {
            dir,
            from_config: false,
        };
        assert_eq!(run(&files, &[], &given(&keys), true).unwrap(), Exit::OK);

        let edited = lines.join("\n").replace("user2", "mallory");
        std::fs::write(&file, edited + "\n").unwrap();
        assert_eq!(run(&files, &[], &given(&keys), true).unwrap(), Exit::NO);

        let missing = [dir.path().join("missing.jsonl")];
        let err = run(&missing, &[], &given(&keys), true).unwrap_err();
        assert_eq!(err.exit(), Exit::BAD_INPUT);
        assert!(err.to_string().contains("missing.jsonl"), "{err}");

        let no_keys = dir.path().join("empty");
        std::fs::create_dir(&no_keys).unwrap();
        let err = run(&files, &[], &given(&no_keys), true).unwrap_err();
        assert_eq!(err.exit(), Exit::BAD_INPUT);
        assert!(err.to_string().contains("no audit public keys"), "{err}");
        let err = run(&files, &[], &given(&dir.path().join("none")), true).unwrap_err();
        assert_eq!(err.exit(), Exit::BAD_INPUT);
        assert!(err.to_string().contains("none is not a folder"), "{err}");
    }
}
