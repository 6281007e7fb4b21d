//! Walking one chain in order: each event must be the one after the chain's highest so far and
//! link to its hash. A jump leaves a gap; an event that fills a gap later is out of order; an
//! event whose number was already taken is inserted. What the walk accepts, in order, is what
//! checkpoints are matched against.

use std::path::PathBuf;

use crate::hash::Hash;

use super::report::{Break, BreakKind, Notice, NoticeKind, Place};
use super::scan::{Entry, Scan};

/// A run of missing sequence numbers, and where it opened.
struct Gap {
    from: u64,
    to: u64,
    opened: Place,
    before: Place,
    filled: u64,
    reported: bool,
}

/// The events of a chain in their order, with what was wrong with it.
pub(super) struct Walked {
    pub accepted: Vec<Entry>,
    pub breaks: Vec<Break>,
    pub notices: Vec<Notice>,
}

/// Puts a replica's events in order and walks them: parts (a file's run of the chain) by their
/// first number, lines within a file as they stand. A first event (seq 1 linked to nothing)
/// after others starts the chain again: each start is walked on its own, and every start after
/// the first is a break.
pub(super) fn walk(
    replica: &str,
    entries: Vec<Entry>,
    files: &[PathBuf],
) -> (Vec<Walked>, Vec<Break>) {
    let genesis = |e: &Entry| e.seq == 1 && e.prev == Hash::ZERO;
    // Parts as slices of `entries`, which stay where the scan put them.
    let mut parts: Vec<&[Entry]> = Vec::new();
    let mut start = 0;
    for (i, entry) in entries.iter().enumerate() {
        let new_part = i > 0 && (entries[i - 1].file != entry.file || genesis(entry));
        if new_part {
            parts.push(&entries[start..i]);
            start = i;
        }
    }
    if start < entries.len() {
        parts.push(&entries[start..]);
    }
    let (starts, mut rest): (Vec<_>, Vec<_>) = parts
        .into_iter()
        .partition(|part| part.first().is_some_and(genesis));
    rest.sort_by_key(|part| part.first().map_or(0, |e| e.seq));
    let mut epochs: Vec<Vec<&[Entry]>> = starts.into_iter().map(|part| vec![part]).collect();
    for part in rest {
        let continues = |epoch: &Vec<&[Entry]>| {
            epoch.iter().any(|p| {
                p.last()
                    .zip(part.first())
                    .is_some_and(|(last, first)| last.hash == first.prev)
            })
        };
        match epochs.iter().position(continues) {
            Some(i) => epochs[i].push(part),
            None => match epochs.last_mut() {
                Some(epoch) => epoch.push(part),
                None => epochs.push(vec![part]),
            },
        }
    }
    let mut restarts = Vec::new();
    for epoch in epochs.iter().skip(1) {
        if let Some(first) = epoch.first().and_then(|part| part.first()) {
            restarts.push(Break {
                kind: BreakKind::Restarted,
                place: Scan::place(files, first.file, first.line),
                replica: Some(replica.to_string()),
                seq: Some(1),
                detail: format!(
                    "replica {replica}'s chain starts again from its first event: what came before cannot be linked to what follows"
                ),
            });
        }
    }
    let walked = epochs
        .into_iter()
        .map(|mut epoch| {
            epoch.sort_by_key(|part| part.first().map_or(0, |e| e.seq));
            let mut walker = Walker {
                replica,
                files,
                accepted: Vec::with_capacity(epoch.iter().map(|part| part.len()).sum()),
                gaps: Vec::new(),
                displaced: Vec::new(),
                breaks: Vec::new(),
                notices: Vec::new(),
            };
            for entry in epoch.into_iter().flatten() {
                walker.step(*entry);
            }
            walker.finish()
        })
        .collect();
    (walked, restarts)
}

struct Walker<'a> {
    replica: &'a str,
    files: &'a [PathBuf],
    accepted: Vec<Entry>,
    gaps: Vec<Gap>,
    /// Events refused as inserted, with their break: one may turn out the chain's own.
    displaced: Vec<(Entry, usize)>,
    breaks: Vec<Break>,
    notices: Vec<Notice>,
}

impl Walker<'_> {
    fn place(&self, entry: &Entry) -> Place {
        Scan::place(self.files, entry.file, entry.line)
    }

    fn report(&mut self, kind: BreakKind, place: Place, seq: u64, detail: String) {
        self.breaks.push(Break {
            kind,
            place,
            replica: Some(self.replica.to_string()),
            seq: Some(seq),
            detail,
        });
    }

    fn step(&mut self, e: Entry) {
        let Some(high) = self.accepted.last().copied() else {
            self.first(e);
            return;
        };
        if e.seq == high.seq + 1 {
            if e.prev != high.hash && !self.reinstate(&high, &e) {
                let (at, next) = (self.place(&high), self.place(&e));
                self.report(
                    BreakKind::Edited,
                    at,
                    high.seq,
                    format!(
                        "the next event ({next}) links to another hash than this one has: this event (seq {}) was changed and re-hashed, or the next one replaced",
                        high.seq
                    ),
                );
            }
            self.accepted.push(e);
        } else if e.seq > high.seq + 1 {
            let (opened, before) = (self.place(&e), self.place(&high));
            self.gaps.push(Gap {
                from: high.seq + 1,
                to: e.seq - 1,
                opened,
                before,
                filled: 0,
                reported: false,
            });
            self.accepted.push(e);
        } else {
            self.behind(e);
        }
    }

    /// The chain's first event given.
    fn first(&mut self, e: Entry) {
        let place = self.place(&e);
        if e.seq == 1 && e.prev != Hash::ZERO {
            self.report(
                BreakKind::Edited,
                place,
                1,
                "the chain's first event links to a previous event".into(),
            );
        } else if e.seq > 1 {
            let (kind, detail) = if e.resumed {
                (
                    NoticeKind::Resumed,
                    format!(
                        "replica {} went on from seq {} when it started; the earlier events are in a file not given",
                        self.replica,
                        e.seq - 1
                    ),
                )
            } else {
                (
                    NoticeKind::StartsLate,
                    format!(
                        "replica {}'s chain starts at seq {} here; events 1 to {} are in files not given",
                        self.replica,
                        e.seq,
                        e.seq - 1
                    ),
                )
            };
            self.notices.push(Notice {
                kind,
                place,
                detail,
            });
        }
        self.accepted.push(e);
    }

    /// An event numbered at or below the highest so far: a gap's late event, or an insertion.
    fn behind(&mut self, e: Entry) {
        let place = self.place(&e);
        if let Some(i) = self
            .gaps
            .iter()
            .position(|g| g.from <= e.seq && e.seq <= g.to)
        {
            let gap = &mut self.gaps[i];
            gap.filled += 1;
            if !gap.reported {
                gap.reported = true;
                let (opened, before) = (gap.opened.clone(), gap.before.clone());
                self.report(
                    BreakKind::Reordered,
                    opened.clone(),
                    e.seq,
                    format!(
                        "events are out of order: after {before} comes a later event at {opened}, and seq {} stands after it at {place}",
                        e.seq
                    ),
                );
            }
            let at = self.accepted.partition_point(|a| a.seq < e.seq);
            self.accepted.insert(at, e);
            return;
        }
        let at = self.accepted.partition_point(|a| a.seq < e.seq);
        let Some(other) = self.accepted.get(at).copied().filter(|a| a.seq == e.seq) else {
            self.report(
                BreakKind::Inserted,
                place,
                e.seq,
                format!("seq {} does not belong where it stands", e.seq),
            );
            return;
        };
        let successor_links_here = self
            .accepted
            .get(at + 1)
            .is_some_and(|next| next.seq == e.seq + 1 && next.prev == e.hash);
        let (inserted, kept) = if other.hash != e.hash && successor_links_here {
            (self.place(&other), place)
        } else {
            (place, self.place(&other))
        };
        if other.hash != e.hash && successor_links_here {
            self.accepted[at] = e;
        } else {
            self.displaced.push((e, self.breaks.len()));
        }
        self.report(
            BreakKind::Inserted,
            inserted,
            e.seq,
            format!(
                "a second event with seq {} (the chain's own is at {kept}): this one was inserted",
                e.seq
            ),
        );
    }

    /// When `next` links to an event displaced as inserted instead of to `high`, that event was
    /// the chain's own and `high` the insertion: the break is moved to `high`.
    fn reinstate(&mut self, high: &Entry, next: &Entry) -> bool {
        let Some(i) = self
            .displaced
            .iter()
            .position(|(d, _)| d.seq == high.seq && d.hash == next.prev)
        else {
            return false;
        };
        let (own, break_index) = self.displaced.swap_remove(i);
        let (inserted, kept) = (self.place(high), self.place(&own));
        if let Some(b) = self.breaks.get_mut(break_index) {
            b.place = inserted;
            b.detail = format!(
                "a second event with seq {} (the chain's own is at {kept}, which the next event links to): this one was inserted",
                high.seq
            );
        }
        if let Some(last) = self.accepted.last_mut() {
            *last = own;
        }
        true
    }

    fn finish(mut self) -> Walked {
        for gap in &self.gaps {
            let missing = gap.to - gap.from + 1;
            if gap.filled < missing {
                let detail = if gap.from == gap.to {
                    format!(
                        "seq {} is missing between {} and {}: an event was deleted",
                        gap.from, gap.before, gap.opened
                    )
                } else {
                    format!(
                        "seq {} to {} are missing between {} and {}: events were deleted",
                        gap.from, gap.to, gap.before, gap.opened
                    )
                };
                self.breaks.push(Break {
                    kind: BreakKind::Deleted,
                    place: gap.opened.clone(),
                    replica: Some(self.replica.to_string()),
                    seq: Some(gap.from),
                    detail,
                });
            }
        }
        Walked {
            accepted: self.accepted,
            breaks: self.breaks,
            notices: self.notices,
        }
    }
}
