//! The writes a browser or client is told about, made so that a failover cannot lose them:
//! with `acknowledge.replicas > 0` each is followed by Redis's `WAIT`, and reported done only
//! once the master's replicas hold it.
//!
//! Which writes: a new session (the login), a step-up or identity rewrite, a revocation (one
//! session or a person's), the OIDC client a session gave tokens to, and the OIDC records whose
//! loss would undo what a client was told ([`acknowledged`]: codes, redeemed codes, refresh
//! families and their index, revoked tokens, device authorizations and their user codes) and
//! the TOTP step guard. Not: touches, tickets,
//! throttle counters and the other short-lived records, whose loss costs a person one more step
//! at worst (a ticket is handed out again, a counter starts over).
//!
//! How: the write, `WAIT n timeout` and `ROLE` go in one pipeline on a connection of their
//! own, so a write costs one round trip plus the replicas' acknowledgement, and a `WAIT` (which
//! holds up the commands behind it on its connection) never delays a session lookup.
//! `n` is the setting, or fewer when fewer replicas are connected to the master: after a
//! failover that leaves the new master without a replica (the old master dead), waiting for
//! one would fail every login although no failover could lose the write (Sentinel has no
//! replica left to promote). `ROLE` after each write says how many replicas are connected (a
//! replica still loading counts once it is online), and is asked alone once per new
//! connection, before the first write on it.
//!
//! When fewer replicas confirm in time than were asked for (and are still connected), the
//! write is reported as [`StoreError::NotAcknowledged`]: the gateway answers 503 (the login
//! page's "try again" page), so a browser is never told of a session a failover could lose.
//! The write itself may be in effect on the master: a session nobody has the cookie of expires
//! unused; a revocation can be asked again. A refresh rotation reported failed this way may
//! have happened: the client's retry with its old token then counts as reuse and ends the
//! family, and the person logs in again, as after any answer lost on the way.
//!
//! What is left: a replica that lost its link to the master shortly before the master dies may
//! still be promoted by Sentinel, without the writes made while it was away (the master did not
//! count it). Redis's `min-replicas-to-write` on the master closes that gap at the price of
//! refusing every write while no replica is connected; see docs/deployment.md.

use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use redis::aio::MultiplexedConnection;
use redis::{ErrorKind, FromRedisValue, Pipeline, RedisResult, Role};

use crate::error::StoreError;
use crate::records::RecordKind;
use crate::settings::Acknowledgement;

use super::link::{Link, Write};

/// Whether writes of a record kind wait for the replicas. Every kind is named, so a new one
/// must be decided here.
pub(super) fn acknowledged(kind: RecordKind) -> bool {
    match kind {
        // A code handed to a client, and its single use; the tokens a code issued (for replay
        // detection); refresh rotations and family revocations; revoked access tokens; a TOTP
        // code's and a client assertion's single use; a device code and user code handed to a
        // device, and the person's decision on it (lost, the device would poll in vain while
        // the person is told "done"). A federation link (lost, a second upstream account with
        // the same verified address could link) and its reverse.
        RecordKind::AuthorizationCode
        | RecordKind::RedeemedCode
        | RecordKind::RefreshFamily
        | RecordKind::RevokedToken
        | RecordKind::TotpStep
        | RecordKind::AssertionId
        | RecordKind::DeviceGrant
        | RecordKind::UserCode
        | RecordKind::FederationLink
        | RecordKind::FederationLinked => true,
        // Lost, each costs one step again: the login form, a passkey ceremony, the enrolment
        // code, one more directory read, one more push; a federated login begins again, and an
        // upstream session's back-channel logout finds no session (the local one still ends at
        // its own timeouts).
        RecordKind::PendingLogin
        | RecordKind::Ceremony
        | RecordKind::Enrolment
        | RecordKind::IdentityRefresh
        | RecordKind::PushedRequest
        | RecordKind::FederatedLogin
        | RecordKind::UpstreamSession => false,
    }
}

/// The master's replicas as last seen, with the number of the link's connection they were
/// seen on.
#[derive(Debug, Clone, Copy)]
struct Known {
    connects: u64,
    online: u32,
}

/// The link for acknowledged writes.
pub(super) struct Acknowledged {
    /// The store's command link when acknowledgement is off, else one of its own.
    link: Arc<Link>,
    setting: Acknowledgement,
    known: Mutex<Option<Known>>,
}

impl Acknowledged {
    /// Writes through `commands` (with acknowledgement off) or a sibling of it.
    pub(super) fn new(commands: &Arc<Link>, setting: Acknowledgement) -> Self {
        let link = if setting.is_on() {
            Arc::new(commands.sibling(setting.timeout))
        } else {
            Arc::clone(commands)
        };
        Self {
            link,
            setting,
            known: Mutex::new(None),
        }
    }

    /// Runs `write`; with acknowledgement on, returns only once enough replicas hold it.
    /// Boxed, so the futures of the store calls that write (and of the gateway's requests
    /// above them, already deep) stay small: the write, WAIT and the replica count are one
    /// more level of state machine under each.
    pub(super) fn run<'a, T: FromRedisValue + Send + 'a>(
        &'a self,
        write: Write<'a>,
    ) -> BoxFuture<'a, Result<T, StoreError>> {
        Box::pin(self.confirmed(write))
    }

    async fn confirmed<T: FromRedisValue + Send>(&self, write: Write<'_>) -> Result<T, StoreError> {
        if !self.setting.is_on() {
            return self.link.write(write).await;
        }
        let millis = u64::try_from(self.setting.timeout.as_millis()).unwrap_or(u64::MAX);
        let (value, acknowledged, role, wanted): (T, u32, Role, u32) = self
            .link
            .run_numbered(async |c, connection| {
                // Asked on the connection the write goes to: one made since the last write may
                // reach a new master (after a failover) with fewer replicas to wait for.
                let online = match self.known(connection) {
                    Some(online) => online,
                    None => self.learn(connection, &redis::cmd("ROLE").query_async(c).await?),
                };
                let wanted = self.setting.replicas.min(online);
                let mut pipe = redis::pipe();
                match write {
                    Write::Script(script) => pipe.invoke_script(script),
                    Write::Command(command) => pipe.add_command(command.clone()),
                };
                // WAIT 0 would wait forever.
                pipe.cmd("WAIT").arg(wanted).arg(millis.max(1));
                pipe.cmd("ROLE");
                let (value, acknowledged, role): (T, u32, Role) =
                    run_loading(c, &pipe, write).await?;
                self.learn(connection, &role);
                Ok((value, acknowledged, role, wanted))
            })
            .await?;
        let online = replicas_of(&role);
        // A replica that left during the wait no longer counts; one that joined counts from
        // the next write.
        let needed = wanted.min(online);
        if acknowledged < needed {
            tracing::warn!(
                wanted = needed,
                acknowledged,
                "a session store write was not confirmed by the replicas in time; reported as failed"
            );
            return Err(StoreError::NotAcknowledged {
                wanted: needed,
                acknowledged,
            });
        }
        Ok(value)
    }

    /// The replicas last seen on connection number `connection`, if that is where they were
    /// seen.
    fn known(&self, connection: u64) -> Option<u32> {
        let known = *self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known
            .filter(|known| known.connects == connection)
            .map(|known| known.online)
    }

    /// Remembers the replicas a `ROLE` answer on connection number `connection` names.
    fn learn(&self, connection: u64, role: &Role) -> u32 {
        let online = replicas_of(role);
        *self.known.lock().unwrap_or_else(PoisonError::into_inner) = Some(Known {
            connects: connection,
            online,
        });
        online
    }
}

/// The replicas a `ROLE` answer names (none when it is not a master's, whose writes fail
/// anyway).
fn replicas_of(role: &Role) -> u32 {
    match role {
        Role::Primary { replicas, .. } => u32::try_from(replicas.len()).unwrap_or(u32::MAX),
        _ => 0,
    }
}

/// Runs `pipe`; when its script is unknown to the server, loads it and runs `pipe` once more
/// (the script did not run: Redis refused the EVALSHA before running anything).
async fn run_loading<T: FromRedisValue>(
    connection: &mut MultiplexedConnection,
    pipe: &Pipeline,
    write: Write<'_>,
) -> RedisResult<T> {
    let result = pipe.query_async(connection).await;
    match (result, write) {
        (Err(error), Write::Script(script))
            if error.kind() == ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
        {
            script.load_async(connection).await?;
            pipe.query_async(connection).await
        }
        (other, _) => other,
    }
}
