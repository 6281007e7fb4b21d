//! `GET /locks?account=NAME|address=IP` and `POST /unlock?…`: the brute-force counter of one
//! account (kept under the lower-cased name, as the login page counts it) or client address, read
//! or cleared in the gateway's own store, so `pforte-admin` reaches the memory store's locks.
//! An unlock is audited with the admin's name (`by`).

use std::net::{IpAddr, SocketAddr};

use pforte_session::ThrottleKind;

use super::api::{LockView, Unlocked};
use super::query::Query;
use super::reply::AdminError;
use crate::state::Shared;
use crate::telemetry::audit::{self, AuditContext, AuditEvent};

/// `GET /locks`: how the counter stands for the next attempt.
pub(super) async fn state(shared: &Shared, query: Option<&str>) -> Result<LockView, AdminError> {
    let query = Query::parse(query, &["account", "address"])?;
    let (kind, key) = counter(&query)?;
    let lock = shared
        .sessions
        .check(kind, &key, shared.clock.now())
        .await?
        .into();
    Ok(LockView {
        scope: kind.as_str().to_owned(),
        key,
        lock,
    })
}

/// `POST /unlock`: forgets the counter's failures.
pub(super) async fn unlock(
    shared: &Shared,
    peer: SocketAddr,
    query: Option<&str>,
) -> Result<Unlocked, AdminError> {
    let query = Query::parse(query, &["account", "address", "by"])?;
    let by = query.by()?;
    let (kind, key) = counter(&query)?;
    shared.sessions.clear(kind, &key).await?;
    audit::record(
        AuditContext {
            request_id: "",
            source: Some(peer.ip()),
        },
        AuditEvent::Unlock {
            scope: kind.as_str(),
            key: &key,
            by,
        },
    );
    Ok(Unlocked {
        scope: kind.as_str().to_owned(),
        key,
    })
}

/// The counter a request names: an account (lower-cased) or an address (canonical form).
fn counter(query: &Query) -> Result<(ThrottleKind, String), AdminError> {
    match query.one_of(&["account", "address"])? {
        ("account", name) => Ok((ThrottleKind::Account, name.to_lowercase())),
        (_, address) => {
            let ip: IpAddr = address
                .parse()
                .map_err(|_| AdminError::bad("address", "not an IP address"))?;
            Ok((ThrottleKind::Source, ip.to_canonical().to_string()))
        }
    }
}
