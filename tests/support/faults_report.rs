//! What a load run counts, and the time to recover: shared by the virtual users of
//! [`faults_load`](crate::faults_load) while they run, turned into one [`Report`] at the end.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The kinds of operation, for the time to recover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Login,
    Visit,
    Token,
    Logout,
}

/// Counts, shared by the virtual users.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) operations: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) wrong: AtomicU64,
    pub(crate) lost: AtomicU64,
    pub(crate) logins: AtomicU64,
    pub(crate) refreshes: AtomicU64,
    pub(crate) revocations: AtomicU64,
    pub(crate) events: Mutex<Vec<(Instant, Kind, bool)>>,
    pub(crate) notes: Mutex<Vec<String>>,
}

/// Most notes kept (the first ones say what went wrong; the counts say how often).
const NOTES: usize = 20;

impl Tally {
    pub(crate) fn note(&self, text: String) {
        let mut notes = self.notes.lock().unwrap();
        if notes.len() < NOTES {
            notes.push(text);
        }
    }

    pub(crate) fn ok(&self, kind: Kind) {
        self.operations.fetch_add(1, Ordering::Relaxed);
        self.events
            .lock()
            .unwrap()
            .push((Instant::now(), kind, true));
    }

    pub(crate) fn failed(&self, kind: Kind, what: String) {
        self.operations.fetch_add(1, Ordering::Relaxed);
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.events
            .lock()
            .unwrap()
            .push((Instant::now(), kind, false));
        self.note(format!("failed: {what}"));
    }

    pub(crate) fn wrong(&self, kind: Kind, what: String) {
        self.ok(kind);
        self.wrong.fetch_add(1, Ordering::Relaxed);
        self.note(format!("WRONG DECISION: {what}"));
    }

    pub(crate) fn lost(&self, kind: Kind, what: String) {
        self.ok(kind);
        self.lost.fetch_add(1, Ordering::Relaxed);
        self.note(format!("lost: {what}"));
    }
}

/// What a run saw.
#[derive(Debug, Clone)]
pub struct Report {
    /// Operations judged (a visit with its redirects is one).
    pub operations: u64,
    pub failed: u64,
    /// Failed requests that got no answer within the timeout (hangs).
    pub timeouts: u64,
    pub wrong: u64,
    pub lost: u64,
    pub logins: u64,
    pub refreshes: u64,
    pub revocations: u64,
    /// `None`: nothing failed. `Some(None)`: failures and no success after the last one.
    pub recover: Option<Option<Duration>>,
    /// The first things that went wrong, in words.
    pub notes: Vec<String>,
}

impl Report {
    /// The time to recover as the table shows it: `-` when nothing failed.
    pub fn recover_text(&self) -> String {
        match self.recover {
            None => "-".into(),
            Some(None) => "not recovered".into(),
            Some(Some(d)) => format!("{:.1}s", d.as_secs_f64()),
        }
    }

    /// One `key=value` line for scripts.
    pub fn line(&self) -> String {
        format!(
            "operations={} failed={} timeouts={} wrong={} lost={} logins={} refreshes={} revocations={} recover={}",
            self.operations,
            self.failed,
            self.timeouts,
            self.wrong,
            self.lost,
            self.logins,
            self.refreshes,
            self.revocations,
            self.recover_text().replace(' ', "_"),
        )
    }
}

/// The counts of `tally`, with `timeouts` from the client pool.
pub(crate) fn report(tally: &Tally, timeouts: u64) -> Report {
    let mut events = tally.events.lock().unwrap().clone();
    events.sort_by_key(|e| e.0);
    let mut recover: Option<Option<Duration>> = None;
    for kind in [Kind::Login, Kind::Visit, Kind::Token, Kind::Logout] {
        let of_kind: Vec<_> = events.iter().filter(|e| e.1 == kind).collect();
        let Some(first_fail) = of_kind.iter().find(|e| !e.2) else {
            continue;
        };
        let last_fail = of_kind.iter().rev().find(|e| !e.2).unwrap();
        let back = of_kind
            .iter()
            .find(|e| e.2 && e.0 > last_fail.0)
            .map(|e| e.0 - first_fail.0);
        recover = Some(match (recover, back) {
            (Some(None), _) | (_, None) => None,
            (Some(Some(a)), Some(b)) => Some(a.max(b)),
            (None, Some(b)) => Some(b),
        });
    }
    Report {
        operations: tally.operations.load(Ordering::Relaxed),
        failed: tally.failed.load(Ordering::Relaxed),
        timeouts,
        wrong: tally.wrong.load(Ordering::Relaxed),
        lost: tally.lost.load(Ordering::Relaxed),
        logins: tally.logins.load(Ordering::Relaxed),
        refreshes: tally.refreshes.load(Ordering::Relaxed),
        revocations: tally.revocations.load(Ordering::Relaxed),
        recover,
        notes: tally.notes.lock().unwrap().clone(),
    }
}
