#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::*;
use crate::checkpoint::Checkpoint;
use crate::hash::Hash;
use crate::keys::SigningKey;
use crate::seal::{Link, seal};

/// A writer in miniature: a replica's chain with checkpoints signed by a test key.
struct Writer {
    replica: String,
    seq: u64,
    prev: Hash,
    lines: Vec<String>,
}

impl Writer {
    fn new(replica: &str) -> Writer {
        Writer {
            replica: replica.into(),
            seq: 0,
            prev: Hash::ZERO,
            lines: Vec::new(),
        }
    }

    fn append(&mut self, fields: Map<String, Value>) -> String {
        self.seq += 1;
        let sealed = seal(
            fields,
            &Link {
                replica: self.replica.clone(),
                seq: self.seq,
                prev: self.prev,
            },
        )
        .unwrap();
        self.prev = sealed.hash;
        self.lines.push(sealed.line.clone());
        sealed.line
    }

    fn event(&mut self, n: u64) -> String {
        let mut fields = Map::new();
        fields.insert("event".into(), Value::String("login_success".into()));
        fields.insert("username".into(), Value::String(format!("user{n}")));
        self.append(fields)
    }

    fn checkpoint(&mut self, key: &SigningKey) -> String {
        let checkpoint = Checkpoint {
            replica: self.replica.clone(),
            seq: self.seq,
            head: self.prev.to_string(),
            time: "2026-12-07T22:00:00Z".into(),
            key: key.kid().into(),
        };
        self.append(checkpoint.signed_fields(key).unwrap())
    }
}

struct Case {
    dir: tempfile::TempDir,
    key: SigningKey,
    keys: TrustedKeys,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::load_or_create(&dir.path().join("keys")).unwrap();
        let keys = TrustedKeys::load_dir(&dir.path().join("keys")).unwrap();
        Case { dir, key, keys }
    }

    fn file(&self, name: &str, lines: &[String]) -> PathBuf {
        let path = self.dir.path().join(name);
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        path
    }

    fn verify(&self, logs: &[PathBuf], checkpoints: &[PathBuf]) -> Report {
        verify(&Input {
            logs,
            checkpoints,
            keys: &self.keys,
        })
        .unwrap()
    }

    /// Ten events, a checkpoint, ten more, a checkpoint: lines 1-10, 11, 12-21, 22.
    fn log(&self) -> Vec<String> {
        let mut w = Writer::new("gw-a");
        for n in 0..10 {
            w.event(n);
        }
        w.checkpoint(&self.key);
        for n in 10..20 {
            w.event(n);
        }
        w.checkpoint(&self.key);
        w.lines
    }
}

fn first(report: &Report) -> (BreakKind, usize) {
    let b = report.first_break().unwrap();
    (b.kind, b.place.line)
}

fn file_name(report: &Report) -> String {
    let b = report.first_break().unwrap();
    Path::new(&b.place.file)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into()
}

#[test]
fn an_untouched_log_verifies_with_its_checkpoints() {
    let case = Case::new();
    let log = case.file("audit.jsonl", &case.log());
    let report = case.verify(&[log], &[]);
    assert!(report.is_intact(), "{:?}", report.breaks);
    assert_eq!(report.checkpoints_verified, 2);
    assert_eq!(report.chains[0].events, 22);
    assert_eq!(report.chains[0].checkpoints, 2);
}

#[test]
fn an_edited_event_is_found_at_its_line() {
    let case = Case::new();
    let mut lines = case.log();
    lines[4] = lines[4].replace("user4", "mallory");
    let report = case.verify(&[case.file("a", &lines)], &[]);
    assert_eq!(first(&report), (BreakKind::Edited, 5));
}

#[test]
fn a_deleted_event_is_found_where_the_chain_jumps() {
    let case = Case::new();
    let mut lines = case.log();
    lines.remove(6);
    let report = case.verify(&[case.file("a", &lines)], &[]);
    assert_eq!(first(&report), (BreakKind::Deleted, 7));
    assert_eq!(report.breaks.len(), 1, "{:?}", report.breaks);
}

#[test]
fn a_copied_line_inserted_later_is_found() {
    let case = Case::new();
    let mut lines = case.log();
    let copy = lines[2].clone();
    lines.insert(8, copy);
    let report = case.verify(&[case.file("a", &lines)], &[]);
    assert_eq!(first(&report), (BreakKind::Inserted, 9));
}

#[test]
fn a_forged_event_with_a_valid_link_is_found_by_the_duplicate_number() {
    let case = Case::new();
    let lines = case.log();
    // A fake seq 4 linked to the real seq 3, hashed correctly, put before the real seq 4.
    let mut fake = Writer::new("gw-a");
    for n in 0..3 {
        fake.event(n);
    }
    let mut fields = Map::new();
    fields.insert("event".into(), Value::String("login_success".into()));
    fields.insert("username".into(), Value::String("ghost".into()));
    let forged = fake.append(fields);
    let mut tampered = lines.clone();
    tampered.insert(3, forged);
    let report = case.verify(&[case.file("a", &tampered)], &[]);
    assert_eq!(
        first(&report),
        (BreakKind::Inserted, 4),
        "{:?}",
        report.breaks
    );
}

#[test]
fn two_swapped_events_are_found_at_the_first_out_of_order() {
    let case = Case::new();
    let mut lines = case.log();
    lines.swap(3, 4);
    let report = case.verify(&[case.file("a", &lines)], &[]);
    assert_eq!(first(&report), (BreakKind::Reordered, 4));
    assert_eq!(report.breaks.len(), 1, "{:?}", report.breaks);
}

#[test]
fn a_rewritten_chain_is_caught_by_the_signed_checkpoint() {
    let case = Case::new();
    let lines = case.log();
    // Edit event 3 and re-hash everything after it, checkpoint lines kept as they were.
    let mut w = Writer::new("gw-a");
    for (i, line) in lines.iter().enumerate() {
        let mut fields: Map<String, Value> = serde_json::from_str(line).unwrap();
        if i == 2 {
            fields.insert("username".into(), Value::String("mallory".into()));
        }
        w.append(fields);
    }
    let report = case.verify(&[case.file("a", &w.lines)], &[]);
    assert_eq!(
        first(&report),
        (BreakKind::CheckpointMismatch, 10),
        "{:?}",
        report.breaks
    );
}

#[test]
fn a_cut_tail_is_found_with_a_checkpoint_kept_elsewhere_only() {
    let case = Case::new();
    let lines = case.log();
    let elsewhere = case.file(
        "siem.log",
        &[format!(
            "<110>1 2026-12-07T22:00:00Z host pforte 1 audit_checkpoint - {}",
            lines[21]
        )],
    );
    let cut = case.file("a", &lines[..15]);
    assert!(case.verify(std::slice::from_ref(&cut), &[]).is_intact());
    let report = case.verify(&[cut], &[elsewhere]);
    assert_eq!(
        first(&report),
        (BreakKind::Truncated, 15),
        "{:?}",
        report.breaks
    );
}

#[test]
fn forged_checkpoints_are_found() {
    let case = Case::new();
    let lines = case.log();
    let other = Case::new();
    let mut w = Writer::new("gw-a");
    for line in &lines[..21] {
        w.append(serde_json::from_str(line).unwrap());
    }
    w.checkpoint(&other.key);
    let report = case.verify(&[case.file("a", &w.lines)], &[]);
    assert_eq!(first(&report), (BreakKind::ForgedCheckpoint, 22));
    let mut bad = serde_json::from_str::<Map<String, Value>>(&lines[21]).unwrap();
    bad.insert("signature".into(), Value::String("AAAA".into()));
    let elsewhere = case.file(
        "cp",
        &[seal(
            bad,
            &Link {
                replica: "gw-a".into(),
                seq: 22,
                prev: Hash::ZERO,
            },
        )
        .unwrap()
        .line],
    );
    let report = case.verify(&[case.file("b", &lines)], &[elsewhere]);
    assert_eq!(first(&report).0, BreakKind::ForgedCheckpoint);
    assert_eq!(file_name(&report), "cp");
}

#[test]
fn recorded_damage_and_rotation_keep_one_chain() {
    let case = Case::new();
    let lines = case.log();
    let mut w = Writer::new("gw-a");
    for line in &lines {
        w.append(serde_json::from_str(line).unwrap());
    }
    let mut damaged = Map::new();
    damaged.insert(
        "event".into(),
        Value::String(crate::line::TAIL_DAMAGED.into()),
    );
    damaged.insert("damaged_lines".into(), Value::from(1));
    let recorded = w.append(damaged);
    w.event(99);
    let mut old = w.lines[..22].to_vec();
    old.push("{\"cut short".into());
    old.push(recorded);
    let new = vec![w.lines[23].clone()];
    let report = case.verify(&[case.file("new", &new), case.file("old", &old)], &[]);
    assert!(report.is_intact(), "{:?}", report.breaks);
    assert_eq!(report.notices[0].kind, NoticeKind::DamagedTail);
    assert_eq!(report.chains[0].events, 24);
    let mut unrecorded = lines.clone();
    unrecorded.insert(5, "garbage".into());
    let report = case.verify(&[case.file("g", &unrecorded)], &[]);
    assert_eq!(first(&report), (BreakKind::NotAnEvent, 6));
}

#[test]
fn two_replicas_verify_together_and_a_restart_is_a_break() {
    let case = Case::new();
    let mut b = Writer::new("gw-b");
    b.event(1);
    b.checkpoint(&case.key);
    let report = case.verify(
        &[case.file("a", &case.log()), case.file("b", &b.lines)],
        &[],
    );
    assert!(report.is_intact(), "{:?}", report.breaks);
    assert_eq!(report.chains.len(), 2);
    let mut again = Writer::new("gw-b");
    again.event(1);
    let mut restarted = b.lines.clone();
    restarted.extend(again.lines);
    let report = case.verify(&[case.file("b2", &restarted)], &[]);
    assert_eq!(first(&report), (BreakKind::Restarted, 3));
}

#[test]
fn lines_across_read_blocks_and_longer_than_one_are_read_whole() {
    let case = Case::new();
    let mut w = Writer::new("gw-a");
    for n in 0..3000 {
        let mut fields = Map::new();
        fields.insert("event".into(), Value::String("access_denied".into()));
        fields.insert(
            "path".into(),
            Value::String(format!("/{n}/{}", "x".repeat(700))),
        );
        w.append(fields);
    }
    let mut fields = Map::new();
    fields.insert("event".into(), Value::String("policy_impact".into()));
    fields.insert("apps".into(), Value::String("y".repeat(3 << 20)));
    w.append(fields);
    w.event(1);
    w.checkpoint(&case.key);
    let report = case.verify(&[case.file("big", &w.lines)], &[]);
    assert!(report.is_intact(), "{:?}", report.breaks);
    assert_eq!(report.chains[0].events, 3003);
    assert_eq!(report.checkpoints_verified, 1);
}
