//! What a verification found, for people (`Display`) and for tools (`serde`).

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// A line of a file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Place {
    /// The file, as given.
    pub file: PathBuf,
    /// The line, from 1.
    pub line: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// What kind of change a break shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// An event's content does not match its hash, or the next event links to another hash.
    Edited,
    /// Events of a chain are missing.
    Deleted,
    /// An event that does not belong to the chain where it stands.
    Inserted,
    /// Events are out of their chain's order.
    Reordered,
    /// A checkpoint kept elsewhere covers events the log no longer has.
    Truncated,
    /// A checkpoint whose signature fails or whose key is not trusted.
    ForgedCheckpoint,
    /// A validly signed checkpoint names another head than the log has: the chain was rewritten.
    CheckpointMismatch,
    /// A line that is not an audit event and was not recorded as damage.
    NotAnEvent,
    /// A chain starts again from its first event.
    Restarted,
}

impl BreakKind {
    /// The kind's name, as `--json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edited => "edited",
            Self::Deleted => "deleted",
            Self::Inserted => "inserted",
            Self::Reordered => "reordered",
            Self::Truncated => "truncated",
            Self::ForgedCheckpoint => "forged_checkpoint",
            Self::CheckpointMismatch => "checkpoint_mismatch",
            Self::NotAnEvent => "not_an_event",
            Self::Restarted => "restarted",
        }
    }
}

/// Evidence that the log was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    /// What kind of change.
    pub kind: BreakKind,
    /// Where it shows.
    pub place: Place,
    /// The chain, when known.
    pub replica: Option<String>,
    /// The sequence number involved, when known.
    pub seq: Option<u64>,
    /// What was found, in a sentence.
    pub detail: String,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.place, self.kind.as_str(), self.detail)
    }
}

/// What the gateway itself recorded, or what the files given cannot show, without a break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Lines cut short by a crash, which the gateway recorded when it started again.
    DamagedTail,
    /// The gateway found its file behind its chain at start and recorded it.
    Resumed,
    /// A chain's first event given is not its first: earlier files were not given.
    StartsLate,
    /// Checkpoints name a chain no file given holds.
    ChainNotGiven,
}

/// Something worth knowing that is not evidence of a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// What.
    pub kind: NoticeKind,
    /// Where.
    pub place: Place,
    /// In a sentence.
    pub detail: String,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.detail)
    }
}

/// One replica's chain as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainSummary {
    /// The replica.
    pub replica: String,
    /// Its first event's sequence number in the files given.
    pub first_seq: u64,
    /// Its last.
    pub last_seq: u64,
    /// How many events.
    pub events: u64,
    /// How many checkpoints (in the log and kept elsewhere) matched it.
    pub checkpoints: u64,
}

/// The result of a verification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Each chain.
    pub chains: Vec<ChainSummary>,
    /// Checkpoints whose signature and head matched.
    pub checkpoints_verified: usize,
    /// What the gateway recorded about itself, and what the files cannot show.
    pub notices: Vec<Notice>,
    /// Every break, in the order of the files given and their lines.
    pub breaks: Vec<Break>,
}

impl Report {
    /// The first break, in the order of the files given and their lines.
    pub fn first_break(&self) -> Option<&Break> {
        self.breaks.first()
    }

    /// Whether nothing shows a change.
    pub fn is_intact(&self) -> bool {
        self.breaks.is_empty()
    }
}
