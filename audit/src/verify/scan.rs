//! Reading the logs: every line hashed and its chain fields read, sorted into chains by replica,
//! with the lines that are not events (recorded damage or not) and the checkpoints found.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use crate::checkpoint::{self, Checkpoint};
use crate::error::{AuditError, io_err};
use crate::hash::Hash;
use crate::line::{self, CHAIN_RESUMED, TAIL_DAMAGED};

use super::report::{Break, BreakKind, Notice, NoticeKind, Place};

/// How much of a file is read at once; lines are taken from it in place.
const BLOCK: usize = 1 << 20;

/// One event, as compact as the chain check needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub seq: u64,
    pub prev: Hash,
    pub hash: Hash,
    pub file: u32,
    pub line: u32,
    pub resumed: bool,
}

/// A checkpoint found in a log or a checkpoint file.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub checkpoint: Checkpoint,
    pub signature: String,
    pub file: u32,
    pub line: u32,
}

/// Everything read from the files.
#[derive(Debug, Default)]
pub(super) struct Scan {
    pub chains: BTreeMap<String, Vec<Entry>>,
    pub checkpoints: Vec<Found>,
    pub breaks: Vec<Break>,
    pub notices: Vec<Notice>,
}

/// Where a file's lines go: the chains (a log) or only the checkpoints (a copy kept elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Log,
    Checkpoints,
}

impl Scan {
    pub fn place(files: &[PathBuf], file: u32, line: u32) -> Place {
        Place {
            file: files.get(file as usize).cloned().unwrap_or_default(),
            line: line as usize,
        }
    }

    /// Reads one file.
    pub fn read(&mut self, files: &[PathBuf], index: u32, role: Role) -> Result<(), AuditError> {
        let path = &files[index as usize];
        let mut file = File::open(path).map_err(io_err(path))?;
        let mut block = vec![0; BLOCK];
        let mut filled = 0;
        let mut number = 0u32;
        let mut damage: Vec<u32> = Vec::new();
        loop {
            if filled == block.len() {
                // A line longer than the block: the block grows to hold it.
                block.resize(block.len() * 2, 0);
            }
            let read = file.read(&mut block[filled..]).map_err(io_err(path))?;
            filled += read;
            let complete = if read == 0 {
                filled
            } else {
                match memchr::memrchr(b'\n', &block[..filled]) {
                    Some(last) => last + 1,
                    None => continue,
                }
            };
            if complete > 0 {
                let chunk = &block[..complete];
                let chunk = chunk.strip_suffix(b"\n").unwrap_or(chunk);
                let mut start = 0;
                let ends = memchr::memchr_iter(b'\n', chunk).chain(std::iter::once(chunk.len()));
                for end in ends {
                    let raw = &chunk[start..end];
                    start = end + 1;
                    number += 1;
                    match role {
                        Role::Log => self.log_line(files, index, number, raw, &mut damage),
                        Role::Checkpoints => self.checkpoint_line(index, number, raw),
                    }
                }
            }
            block.copy_within(complete..filled, 0);
            filled -= complete;
            if read == 0 {
                break;
            }
        }
        self.unrecorded(files, index, &mut damage);
        Ok(())
    }

    fn log_line(
        &mut self,
        files: &[PathBuf],
        index: u32,
        number: u32,
        raw: &[u8],
        damage: &mut Vec<u32>,
    ) {
        let Ok(read) = line::read(raw) else {
            damage.push(number);
            return;
        };
        let fields = &read.fields;
        if read.intact
            && fields.event == TAIL_DAMAGED
            && !damage.is_empty()
            && fields.damaged_lines == Some(damage.len() as u64)
        {
            {
                for line in damage.drain(..) {
                    self.notices.push(Notice {
                        kind: NoticeKind::DamagedTail,
                        place: Self::place(files, index, line),
                        detail: format!(
                            "not an event; replica {} recorded at line {number} that it found its file's tail damaged when it started",
                            fields.replica
                        ),
                    });
                }
            }
        }
        self.unrecorded(files, index, damage);
        if !read.intact {
            let place = Self::place(files, index, number);
            self.breaks.push(Break {
                kind: BreakKind::Edited,
                place,
                replica: Some(fields.replica.to_string()),
                seq: Some(fields.seq),
                detail: format!(
                    "the event's content does not match its hash: seq {} of replica {} was changed",
                    fields.seq, fields.replica
                ),
            });
        }
        let prev = Hash::from_hex(&fields.prev).unwrap_or(Hash([0xff; 32]));
        let chain = match self.chains.get_mut(fields.replica.as_ref()) {
            Some(chain) => chain,
            None => self.chains.entry(fields.replica.to_string()).or_default(),
        };
        chain.push(Entry {
            seq: fields.seq,
            prev,
            hash: read.stated,
            file: index,
            line: number,
            resumed: fields.event == CHAIN_RESUMED,
        });
        if let (Some(checkpoint), Some(signature), true) = (
            &fields.checkpoint,
            &fields.signature,
            fields.event == checkpoint::EVENT,
        ) {
            self.checkpoints.push(Found {
                checkpoint: checkpoint.clone(),
                signature: signature.to_string(),
                file: index,
                line: number,
            });
        }
    }

    /// Lines that were not events and not recorded as damage.
    fn unrecorded(&mut self, files: &[PathBuf], index: u32, damage: &mut Vec<u32>) {
        for line in damage.drain(..) {
            self.breaks.push(Break {
                kind: BreakKind::NotAnEvent,
                place: Self::place(files, index, line),
                replica: None,
                seq: None,
                detail: "not an audit event (no intact JSON line ending in a hash), and no damage was recorded for it".into(),
            });
        }
    }

    /// A line of a checkpoint file: a checkpoint event, possibly inside a syslog line (the JSON
    /// starts at its first `{`). Other lines are other events a SIEM kept, skipped.
    fn checkpoint_line(&mut self, index: u32, number: u32, raw: &[u8]) {
        let Some(start) = raw.iter().position(|b| *b == b'{') else {
            return;
        };
        let text = raw[start..].trim_ascii_end();
        if let Ok(Some((checkpoint, signature))) =
            line::read(text).map(|read| read.fields.checkpoint.zip(read.fields.signature))
        {
            self.checkpoints.push(Found {
                checkpoint,
                signature: signature.to_string(),
                file: index,
                line: number,
            });
        }
    }
}
