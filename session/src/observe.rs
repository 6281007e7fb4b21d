//! What the store tells whoever watches it (the gateway's metrics): every operation on Redis,
//! named and timed, and whether it failed. The crate knows nothing of Prometheus; the watcher
//! decides what to make of it.
//!
//! Only the Redis store is watched: the memory store's operations never leave the process, take
//! microseconds and cannot fail for want of a server. Time is read from the store's [`Clock`]
//! (`Clock::instant`), so a manual clock makes every duration zero instead of a flaky number.
//!
//! [`Clock`]: crate::Clock

use std::time::Duration;

/// Told of every operation of a Redis store once it ended.
pub trait Observer: Send + Sync + 'static {
    /// `operation` took `elapsed` (as the caller waited for it: a cache hit is quick, a round
    /// trip is not) and ended `ok`, or with an error (`ok == false`).
    fn operation(&self, operation: Operation, elapsed: Duration, ok: bool);
}

/// The store's operations, one per method of [`crate::SessionStore`] that can reach Redis, so a
/// watcher's labels form a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// [`crate::SessionStore::ping`].
    Ping,
    /// [`crate::SessionStore::create`].
    Create,
    /// [`crate::SessionStore::get`].
    Get,
    /// [`crate::SessionStore::get_by_sid`].
    GetBySid,
    /// [`crate::SessionStore::touch`].
    Touch,
    /// [`crate::SessionStore::add_client`].
    AddClient,
    /// [`crate::SessionStore::step_up`].
    StepUp,
    /// [`crate::SessionStore::refresh_identity`].
    RefreshIdentity,
    /// [`crate::SessionStore::revoke`].
    Revoke,
    /// [`crate::SessionStore::revoke_user`].
    RevokeUser,
    /// [`crate::SessionStore::list`].
    List,
    /// [`crate::SessionStore::count`].
    Count,
    /// [`crate::SessionStore::issue_ticket`].
    IssueTicket,
    /// [`crate::SessionStore::redeem_ticket`].
    RedeemTicket,
    /// [`crate::SessionStore::record_failure`].
    RecordFailure,
    /// [`crate::SessionStore::check`] and [`crate::SessionStore::login_check`].
    Check,
    /// [`crate::SessionStore::clear`].
    Clear,
    /// [`crate::SessionStore::locked`].
    Locked,
    /// [`crate::SessionStore::put_record`] and [`crate::SessionStore::insert_record`].
    PutRecord,
    /// [`crate::SessionStore::get_record`].
    GetRecord,
    /// [`crate::SessionStore::take_record`].
    TakeRecord,
    /// [`crate::SessionStore::replace_record`].
    ReplaceRecord,
    /// [`crate::SessionStore::link_family`] and [`crate::SessionStore::families_of`].
    Families,
}

impl Operation {
    /// Every operation, so a watcher can export each from the start (a series that appears
    /// only with its first use cannot be alerted on by rate).
    pub const ALL: [Self; 23] = [
        Self::Ping,
        Self::Create,
        Self::Get,
        Self::GetBySid,
        Self::Touch,
        Self::AddClient,
        Self::StepUp,
        Self::RefreshIdentity,
        Self::Revoke,
        Self::RevokeUser,
        Self::List,
        Self::Count,
        Self::IssueTicket,
        Self::RedeemTicket,
        Self::RecordFailure,
        Self::Check,
        Self::Clear,
        Self::Locked,
        Self::PutRecord,
        Self::GetRecord,
        Self::TakeRecord,
        Self::ReplaceRecord,
        Self::Families,
    ];

    /// The operation's name in snake case, as a metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ping => "ping",
            Self::Create => "create",
            Self::Get => "get",
            Self::GetBySid => "get_by_sid",
            Self::Touch => "touch",
            Self::AddClient => "add_client",
            Self::StepUp => "step_up",
            Self::RefreshIdentity => "refresh_identity",
            Self::Revoke => "revoke",
            Self::RevokeUser => "revoke_user",
            Self::List => "list",
            Self::Count => "count",
            Self::IssueTicket => "issue_ticket",
            Self::RedeemTicket => "redeem_ticket",
            Self::RecordFailure => "record_failure",
            Self::Check => "check",
            Self::Clear => "clear",
            Self::Locked => "locked",
            Self::PutRecord => "put_record",
            Self::GetRecord => "get_record",
            Self::TakeRecord => "take_record",
            Self::ReplaceRecord => "replace_record",
            Self::Families => "families",
        }
    }
}
