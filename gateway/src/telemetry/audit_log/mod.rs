//! The chained audit log: every audit event sealed onto this replica's hash chain and appended to
//! `log.audit_file`, a signed checkpoint of the chain's head every `audit.checkpoint_interval` and
//! at shutdown, the file synced as `audit.durability` says, and each line handed to the
//! deliveries (syslog, journald) that keep copies where the host cannot rewrite them.
//!
//! ```text
//! audit::record ─tracing─▶ layer::ChainLayer ─▶ AuditLog::append ─▶ writer::Writer ─▶ file
//!                                                      │                 ▲
//!                                                      └─▶ Forward       └─ ticker thread: sync,
//!                                                          (syslog, journald)  rotation, checkpoints
//! start: recover::start (file tail + head::HeadFiles) ─▶ the chain goes on, damage recorded
//! ```
//!
//! The format and how to verify it are in `docs/audit.md` and the `pforte_audit` crate.

pub mod counters;
pub mod delivery;
mod head;
mod layer;
mod recover;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use pforte_audit::AuditError;
use pforte_audit::keys::SigningKey;
use pforte_session::Clock;
use serde_json::{Map, Value};
use tracing_subscriber::fmt::format::Writer as TimeWriter;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};

pub use layer::ChainLayer;
use writer::{WriteError, Writer};

use crate::config::{Audit, Durability};

/// How long shutdown waits for the deliveries to send what they hold.
const CLOSE_DELIVERY_WITHIN: Duration = Duration::from_secs(2);

/// Where chained lines are copied to besides the file (syslog, journald): never blocking.
pub trait Forward: Send + Sync {
    /// Hands over one line; returns the sinks whose queue this line overflowed first (a new
    /// overflow episode), which the log then records as an event of its own.
    fn offer(&self, line: &Arc<str>, seq: u64, event: &str) -> Vec<&'static str>;
    /// Waits up to `within` for what is queued to be sent, then stops.
    fn close(&self, within: Duration);
}

/// Who writes the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The gateway: the chain's lock must be free (two gateways writing one chain is a
    /// configuration error), and the signing key is made when there is none.
    Gateway,
    /// `pforte-admin`: waits for the lock (two commands may run at once) and signs only when it
    /// may read the key the gateway made.
    Admin,
}

/// Why the audit log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The log, the head or the key could not be read or made.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The log could not be opened or its first records written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Another process writes the same chain.
    #[error(
        "{log}: another process writes replica {replica}'s chain (it holds {lock}); give each gateway its own [audit] replica"
    )]
    Locked {
        /// The log.
        log: PathBuf,
        /// The chain.
        replica: String,
        /// The lock file.
        lock: PathBuf,
    },
    /// A delivery (syslog, journald) could not start.
    #[error(transparent)]
    Delivery(#[from] delivery::DeliveryError),
    /// The lock file could not be opened.
    #[error("{path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The chain writer's state behind its lock.
struct Inner {
    writer: Writer,
    key: Option<SigningKey>,
    last_checkpoint: Instant,
    failing: bool,
    _lock: std::fs::File,
}

/// `pforte-admin` opens its chain at its first event: a command that changes nothing must not
/// read the log's tail or wait for the chain's lock.
enum State {
    Pending(Box<(Audit, PathBuf, Role)>),
    Open(Box<Inner>),
    Failed,
}

/// The process's chained audit log.
pub struct AuditLog {
    state: Mutex<State>,
    forward: Option<Box<dyn Forward>>,
    clock: Clock,
    interval: Duration,
    sync_interval: Duration,
    ticker: Mutex<Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens the chain in `file` and starts its ticker thread. The gateway opens it at once:
    /// it recovers where the chain stood, records a damaged tail or a file found behind the
    /// chain, and makes the checkpoint key when there is none. `pforte-admin` only checks that
    /// the file can be written, and opens the chain at its first event.
    pub fn open(
        settings: &Audit,
        file: &Path,
        clock: Clock,
        role: Role,
        forward: Option<Box<dyn Forward>>,
    ) -> Result<Arc<AuditLog>, OpenError> {
        let state = match role {
            Role::Gateway => State::Open(Box::new(open_chain(settings, file, role, &clock)?)),
            Role::Admin => {
                writer::check_writable(file)?;
                State::Pending(Box::new((settings.clone(), file.to_path_buf(), role)))
            }
        };
        let log = Arc::new(AuditLog {
            state: Mutex::new(state),
            forward,
            clock,
            interval: settings.checkpoint_interval,
            sync_interval: settings.sync_interval,
            ticker: Mutex::new(None),
        });
        log.start_ticker();
        Ok(log)
    }

    /// Seals and writes one event (its fields as the audit target logged them), then hands the
    /// line to the deliveries. A write that fails is reported once on standard error until
    /// writing works again: the request that caused the event is never failed by it.
    pub fn append(&self, mut fields: Map<String, Value>) {
        fields
            .entry("timestamp")
            .or_insert_with(|| Value::String(timestamp()));
        let event = fields
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let overflowed = {
            let mut state = self.lock();
            let Some(inner) = self.opened(&mut state) else {
                return;
            };
            let result = inner.writer.append(fields);
            self.written(inner, result, &event)
        };
        self.record_overflows(overflowed);
    }

    /// Signs a checkpoint now when events were written since the last one; `false` when there
    /// was nothing to sign, no key, or it could not be written.
    pub fn checkpoint(&self) -> bool {
        // The events it covers go to disk first, without holding the writer.
        let (pending, covered) = {
            let mut state = self.lock();
            let State::Open(inner) = &mut *state else {
                return false;
            };
            if inner.key.is_none() || !inner.writer.has_unchecked() {
                return false;
            }
            inner.last_checkpoint = self.clock.instant();
            match inner.writer.begin_sync() {
                Ok(pending) => (pending, inner.writer.head()),
                Err(e) => {
                    eprintln!("pforte: audit log: {e}");
                    return false;
                }
            }
        };
        if !self.run_sync(pending) {
            return false;
        }
        let overflowed = {
            let mut state = self.lock();
            let State::Open(inner) = &mut *state else {
                return false;
            };
            let inner = &mut **inner;
            let Some(key) = &inner.key else {
                return false;
            };
            let result = inner.writer.checkpoint(key, timestamp(), covered);
            let ok = result.is_ok();
            let overflowed = self.written(inner, result, pforte_audit::checkpoint::EVENT);
            if !ok {
                return false;
            }
            counters::counters().checkpoint();
            overflowed
        };
        self.record_overflows(overflowed);
        true
    }

    /// Runs a sync taken out of the writer, then notes it; false when it failed (said on
    /// standard error).
    fn run_sync(&self, pending: Option<writer::PendingSync>) -> bool {
        let Some(pending) = pending else {
            return true;
        };
        match pending.run() {
            Ok(seq) => {
                if let State::Open(inner) = &mut *self.lock() {
                    inner.writer.synced(seq);
                }
                true
            }
            Err(e) => {
                eprintln!("pforte: audit log: {e}");
                false
            }
        }
    }

    /// Stops the ticker, signs a last checkpoint, syncs, and lets the deliveries send what they
    /// hold. Events after this are still written (a late log line must not be lost).
    pub fn close(&self) {
        let ticker = self
            .ticker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((stop, thread)) = ticker {
            drop(stop);
            let _ = thread.join();
        }
        self.checkpoint();
        if let State::Open(inner) = &mut *self.lock()
            && let Err(e) = inner.writer.sync()
        {
            eprintln!("pforte: audit log: {e}");
        }
        if let Some(forward) = &self.forward {
            forward.close(CLOSE_DELIVERY_WITHIN);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The open chain, opening a pending one now; `None` when it cannot be opened (said once).
    fn opened<'a>(&self, state: &'a mut State) -> Option<&'a mut Inner> {
        if let State::Pending(pending) = state {
            let (settings, file, role) = &**pending;
            *state = match open_chain(settings, file, *role, &self.clock) {
                Ok(inner) => State::Open(Box::new(inner)),
                Err(e) => {
                    eprintln!("pforte: audit log: {e}");
                    State::Failed
                }
            };
        }
        match state {
            State::Open(inner) => Some(&mut **inner),
            State::Pending(_) | State::Failed => None,
        }
    }

    /// After a write: reports a failure (once) or a recovery, and forwards the line.
    fn written(
        &self,
        inner: &mut Inner,
        result: Result<pforte_audit::Sealed, WriteError>,
        event: &str,
    ) -> Vec<&'static str> {
        match result {
            Ok(sealed) => {
                counters::counters().written();
                if inner.failing {
                    inner.failing = false;
                    eprintln!("pforte: audit log: writing again");
                }
                let seq = inner.writer.last_seq();
                match &self.forward {
                    Some(forward) => forward.offer(&Arc::from(sealed.line), seq, event),
                    None => Vec::new(),
                }
            }
            Err(e) => {
                counters::counters().write_error();
                if !inner.failing {
                    inner.failing = true;
                    eprintln!("pforte: audit log: an event could not be written: {e}");
                }
                Vec::new()
            }
        }
    }

    /// Seals and writes one event of a request, its members already encoded by the layer.
    pub fn append_encoded(&self, mut members: pforte_audit::Encoded, event: &str) {
        let overflowed = {
            let mut state = self.lock();
            let Some(inner) = self.opened(&mut state) else {
                return;
            };
            let result = inner.writer.append_encoded(&mut members);
            self.written(inner, result, event)
        };
        self.record_overflows(overflowed);
    }

    /// Records that a delivery's queue overflowed (counted by the delivery as well).
    fn record_overflows(&self, sinks: Vec<&'static str>) {
        for sink in sinks {
            self.append(recover::record(
                "audit_delivery_overflow",
                format!(
                    "the {sink} delivery's queue is full: events are dropped for {sink} (never for this file) until it catches up"
                ),
                [("sink", Value::String(sink.into()))],
            ));
        }
    }

    /// Records what a delivery dropped once it catches up again.
    pub fn record_dropped(&self, sink: &str, count: u64, first_seq: u64, last_seq: u64) {
        self.append(recover::record(
            "audit_delivery_dropped",
            format!(
                "the {sink} delivery dropped {count} events (seq {first_seq} to {last_seq}) while its queue was full; they are in this file"
            ),
            [
                ("sink", Value::String(sink.into())),
                ("count", Value::from(count)),
                ("first_seq", Value::from(first_seq)),
                ("last_seq", Value::from(last_seq)),
            ],
        ));
    }

    fn start_ticker(self: &Arc<Self>) {
        let (stop, stopped) = mpsc::channel::<()>();
        let log: Weak<AuditLog> = Arc::downgrade(self);
        let every = self.sync_interval;
        let spawned = std::thread::Builder::new()
            .name("pforte-audit".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    match log.upgrade() {
                        Some(log) => log.tick(),
                        None => return,
                    }
                }
            });
        match spawned {
            Ok(thread) => {
                *self.ticker.lock().unwrap_or_else(PoisonError::into_inner) = Some((stop, thread));
            }
            Err(e) => eprintln!("pforte: audit log: no ticker thread: {e}"),
        }
    }

    /// Every sync interval: follow a rotation, sync to disk, and sign a checkpoint when due.
    fn tick(&self) {
        let (pending, due) = {
            let mut state = self.lock();
            let State::Open(inner) = &mut *state else {
                return;
            };
            if let Err(e) = inner.writer.follow_rotation() {
                eprintln!("pforte: audit log: {e}");
            }
            let pending = inner.writer.begin_sync().unwrap_or_else(|e| {
                eprintln!("pforte: audit log: {e}");
                None
            });
            let due = self
                .clock
                .instant()
                .saturating_duration_since(inner.last_checkpoint)
                >= self.interval;
            (pending, due)
        };
        // The flush to disk runs without the writer: requests do not wait for the disk.
        self.run_sync(pending);
        if due {
            self.checkpoint();
        }
    }
}

/// Takes the chain's lock, recovers where the chain stood, writes what was found, and loads (for
/// the gateway: makes) the checkpoint key.
fn open_chain(
    settings: &Audit,
    file: &Path,
    role: Role,
    clock: &Clock,
) -> Result<Inner, OpenError> {
    let heads = head::HeadFiles::new(file, &settings.replica);
    let lock = heads
        .lock(role == Role::Admin)
        .map_err(|source| OpenError::Lock {
            path: heads.lock_path().to_path_buf(),
            source,
        })?
        .ok_or_else(|| OpenError::Locked {
            log: file.to_path_buf(),
            replica: settings.replica.clone(),
            lock: heads.lock_path().to_path_buf(),
        })?;
    let key = match role {
        Role::Gateway => Some(SigningKey::load_or_create(&settings.key_dir)?),
        Role::Admin => SigningKey::load(&settings.key_dir).ok().flatten(),
    };
    let start = recover::start(file, &settings.replica, heads.read())?;
    let every_event = settings.durability == Durability::EveryEvent;
    let mut writer = Writer::open(file, start.next, every_event, heads)?;
    if start.end_line {
        writer.end_line()?;
    }
    for mut record in start.records {
        record.insert("timestamp".into(), Value::String(timestamp()));
        writer.append(record)?;
    }
    writer.sync()?;
    Ok(Inner {
        writer,
        key,
        last_checkpoint: clock.instant(),
        failing: false,
        _lock: lock,
    })
}

/// Now, as the audit lines write it (RFC 3339, UTC, microseconds).
fn timestamp() -> String {
    let mut text = String::new();
    let _ = SystemTime.format_time(&mut TimeWriter::new(&mut text));
    text
}

/// The process's audit log, once [`install`]ed.
static INSTALLED: OnceLock<Arc<AuditLog>> = OnceLock::new();

/// Makes `log` the process's audit log (the first one wins, as the tracing subscriber does).
pub fn install(log: Arc<AuditLog>) -> Arc<AuditLog> {
    INSTALLED.get_or_init(|| log).clone()
}

/// Closes the process's audit log, if one is installed: at the end of `pforte run`, the demo and
/// `pforte-admin`.
pub fn close() {
    if let Some(log) = INSTALLED.get() {
        log.close();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use pforte_audit::keys::TrustedKeys;
    use pforte_audit::verify::{Input, verify};

    use super::*;

    fn event(name: &str) -> Map<String, Value> {
        recover::record(name, "test".into(), [])
    }

    #[test]
    fn checkpoints_cover_synced_events_and_an_idle_log_gets_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("audit.jsonl");
        let settings = Audit::new(Some(file.clone()), "gw-t".into(), dir.path().join("keys"));
        let log = AuditLog::open(&settings, &file, Clock::system(), Role::Gateway, None).unwrap();
        assert!(!log.checkpoint(), "nothing written, nothing to sign");
        for _ in 0..3 {
            log.append(event("login_success"));
        }
        assert!(log.checkpoint());
        assert!(
            !log.checkpoint(),
            "only the checkpoint since: nothing new to sign"
        );
        log.append(event("logout"));
        log.close();
        let text = std::fs::read_to_string(&file).unwrap();
        let events: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "login_success",
                "login_success",
                "login_success",
                "audit_checkpoint",
                "logout",
                "audit_checkpoint"
            ]
        );
        assert_eq!(events[3]["checkpoint"]["seq"], 3);
        assert_eq!(events[5]["checkpoint"]["seq"], 5);
        let keys = TrustedKeys::load_dir(&dir.path().join("keys")).unwrap();
        let report = verify(&Input {
            logs: &[file],
            checkpoints: &[],
            keys: &keys,
        })
        .unwrap();
        assert!(report.is_intact(), "{:?}", report.breaks);
        assert_eq!(report.checkpoints_verified, 2);
    }
}
