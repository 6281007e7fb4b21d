//! The Redis store: sessions and counters shared by every replica, with a local cache that
//! spares a valid session any Redis round trip.
//!
//! # The revocation bound
//!
//! A revocation (logout, `sessions revoke`, `revoke_user`) deletes the session in Redis and
//! publishes its sid on `{prefix}revoked` in the same script (which also queues the logout
//! notice for the session's OIDC clients, see `logout`). Each replica's subscriber (see
//! `subscriber`) drops published sids from its cache and confirms, with pings, the moment up
//! to which it has seen every publication. The cache answers only while that confirmation is
//! younger than three quarters of `revocation_bound` (1 s by default); otherwise every lookup
//! goes to Redis, which no longer has the session.
//!
//! So a session revoked at time `r` (when the revoking call returns) is refused everywhere from
//! `r + bound` on: a replica that answers from its cache at `t >= r + bound` holds a
//! confirmation for a ping sent after `t - 3/4 bound`, i.e. after `r`; Redis ran that PING after
//! the revoking script, so its reply came after the publication, which was applied first. This holds
//! in failure too: when Redis restarts or the network drops, pings go unanswered, trust lapses
//! within the bound by itself, and the cache is cleared before it is trusted again, because
//! publications sent while the subscription was down are lost. A fetch racing a revocation
//! cannot re-insert the session (see `cache`).
//!
//! Redis is one server or a Sentinel-managed master (see `link` for how a failover is
//! followed; the subscriber looks the master up again on every reconnect too). With
//! `acknowledge.replicas` set, the writes a browser or client is told about wait for the
//! master's replicas (see `acknowledge`), so a failover does not lose them.
//!
//! A step-up changes a session instead of ending it, and reaches the other replicas the same
//! way: its script publishes the sid on the same channel, every cache drops its copy, and the
//! next lookup reads the raised session from Redis. So a session raised at time `r` is seen
//! raised everywhere from `r + bound` on, by the argument above.
//!
//! # Costs
//!
//! A cached, live session: one SHA-256, one map lookup, no Redis command. A touch writes at most
//! once per touch interval per session. `list` without a subject and `count` SCAN the session
//! keys: admin operations, linear in the number of sessions. Every OIDC record operation is
//! one command or script (see `oidc`); none scans.

mod acknowledge;
mod keys;
mod link;
mod logout;
mod oidc;
mod record;
mod scripts;
mod subscriber;
mod watch;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use redis::{Client, IntoConnectionInfo as _, RedisConnectionInfo, TlsCertificates};
use tokio::task::JoinHandle;

use crate::cache::{LocalCache, Lookup};
use crate::error::StoreError;
use crate::id::{SessionId, SessionKey, Sid};
use crate::records::LOGOUT_QUEUE_CAP;
use crate::session::{Identity, NewSession, Session};
use crate::settings::{RedisSettings, RedisTarget, SessionSettings, SettingsError, is_tls};
use crate::throttle::{Failures, LoginCheck, Throttle, ThrottleKind, ThrottleSettings};
use crate::ticket::{self, Ticket};
use crate::time::{Clock, Timestamp};
use pforte_policy::AuthMethod;

use acknowledge::Acknowledged;
use keys::Keys;
use link::Write;
use link::{Link, SentinelTarget, Target};
use logout::LogoutTaker;

/// Sessions and counters in Redis, shared by every replica that uses the same prefix.
pub struct RedisStore {
    link: Arc<Link>,
    /// The writes a browser or client is told about (see `acknowledge`).
    acknowledged: Acknowledged,
    keys: Keys,
    timeouts: SessionSettings,
    throttle: ThrottleSettings,
    cache: Arc<LocalCache>,
    /// The monotonic readings the cache's trust is judged by (the subscriber stamps its
    /// confirmations from the same clock).
    clock: Clock,
    subscriber: JoinHandle<()>,
    logouts: LogoutTaker,
    /// Told of every operation (see `watch`), once the gateway sets it.
    observer: OnceLock<Arc<dyn crate::observe::Observer>>,
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        self.subscriber.abort();
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// Seconds for EXPIRE until `deadline`, at least 1 (EXPIRE 0 would delete at once).
fn ttl_secs(deadline: Timestamp, now: Timestamp) -> u64 {
    deadline.since(now).as_secs().max(1)
}

impl RedisStore {
    /// Connects (failing with `Unavailable` when Redis does not answer) and starts this
    /// replica's invalidation subscriber. Must run inside a tokio runtime. The local cache's
    /// trust is timed by `clock`'s monotonic readings; Redis counts every TTL on its own clock.
    pub async fn connect(
        settings: &RedisSettings,
        timeouts: SessionSettings,
        throttle: ThrottleSettings,
        clock: Clock,
    ) -> Result<Self, StoreError> {
        // Boxed: the gateway's start-up future nests this one deep, and the compiler's query
        // depth runs out computing its layout otherwise.
        let target = Box::pin(target(settings)).await?;
        let link = Arc::new(Link::new(
            target,
            settings.command_timeout,
            std::time::Duration::ZERO,
        ));
        // Fail now, not on the first request, when Redis cannot be reached.
        link.run(async |c| redis::cmd("PING").exec_async(c).await)
            .await?;
        let keys = Keys::new(&settings.key_prefix);
        let (pace, trust_window) = subscriber::Pace::for_bound(settings.revocation_bound);
        let cache = Arc::new(LocalCache::new(trust_window, settings.cache_capacity));
        let subscriber = subscriber::spawn(
            Arc::clone(&link),
            keys.channel(),
            Arc::clone(&cache),
            clock.clone(),
            pace,
        );
        let logouts = LogoutTaker::new(Arc::clone(&link), keys.logout(), settings.command_timeout);
        let acknowledged = Acknowledged::new(&link, settings.acknowledge);
        Ok(Self {
            link,
            acknowledged,
            keys,
            timeouts,
            throttle,
            cache,
            clock,
            subscriber,
            logouts,
            observer: OnceLock::new(),
        })
    }

    /// See [`crate::SessionStore::create`].
    pub async fn create(
        &self,
        new: NewSession,
        now: Timestamp,
    ) -> Result<(SessionId, Arc<Session>), StoreError> {
        loop {
            let id = SessionId::generate()?;
            let key = id.key();
            let session = Session::open(new.clone(), key.sid(), now, &self.timeouts);
            let data = record::data_field(&session).map_err(StoreError::Encode)?;
            let mut create = scripts::CREATE.prepare_invoke();
            create
                .key(self.keys.session(&session.sid))
                .key(self.keys.user(&session.subject))
                .arg(ttl_secs(session.idle_expires, now))
                .arg(ttl_secs(session.absolute_expires, now))
                .arg(key.as_bytes())
                .arg(&session.subject)
                .arg(data)
                .arg(session.last_seen.unix_secs())
                .arg(session.sid.to_string());
            let created: i64 = self.acknowledged.run(Write::Script(&create)).await?;
            if created == 1 {
                return Ok((id, Arc::new(session)));
            }
        }
    }

    /// See [`crate::SessionStore::get`].
    pub async fn get(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        let key = id.key();
        let epoch = match self.cache.lookup(&key, now, self.clock.instant()) {
            Lookup::Hit(session) => return Ok(Some(session)),
            Lookup::Miss(epoch) => epoch,
        };
        let Some((stored, session)) = self.fetch(&key.sid()).await? else {
            return Ok(None);
        };
        if stored != key || !session.is_live(now) {
            return Ok(None);
        }
        let session = Arc::new(session);
        self.cache
            .insert(epoch, key, Arc::clone(&session), now, self.clock.instant());
        Ok(Some(session))
    }

    /// See [`crate::SessionStore::get_by_sid`]: from the local cache under the same trust
    /// rules as a cookie's lookup, else one round trip (and the answer is cached).
    pub async fn get_by_sid(
        &self,
        sid: &Sid,
        now: Timestamp,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        let epoch = match self.cache.lookup_sid(sid, now, self.clock.instant()) {
            Lookup::Hit(session) => return Ok(Some(session)),
            Lookup::Miss(epoch) => epoch,
        };
        let Some((stored, session)) = self.fetch(sid).await? else {
            return Ok(None);
        };
        if !session.is_live(now) {
            return Ok(None);
        }
        let session = Arc::new(session);
        self.cache.insert(
            epoch,
            stored,
            Arc::clone(&session),
            now,
            self.clock.instant(),
        );
        Ok(Some(session))
    }

    /// Reads one session hash; a damaged one is logged and treated as absent (its owner logs in
    /// again) rather than failing every request that carries its cookie.
    async fn fetch(&self, sid: &Sid) -> Result<Option<(SessionKey, Session)>, StoreError> {
        let fields = self.fetch_fields(sid).await?;
        Ok(self.decode(sid, fields))
    }

    /// The fields of one session hash, empty when there is none.
    async fn fetch_fields(&self, sid: &Sid) -> Result<HashMap<String, Vec<u8>>, StoreError> {
        let mut hgetall = redis::cmd("HGETALL");
        hgetall.arg(self.keys.session(sid));
        self.link.run(async |c| hgetall.query_async(c).await).await
    }

    /// Reads a session from its fields; `None` when there are none or they are damaged (logged).
    fn decode(&self, sid: &Sid, fields: HashMap<String, Vec<u8>>) -> Option<(SessionKey, Session)> {
        if fields.is_empty() {
            return None;
        }
        match record::decode(*sid, fields, &self.timeouts) {
            Ok(found) => Some(found),
            Err(error) => {
                tracing::warn!(%sid, %error, "unreadable session in Redis ignored");
                None
            }
        }
    }

    /// See [`crate::SessionStore::touch`].
    pub async fn touch(&self, session: &Session, now: Timestamp) -> Result<(), StoreError> {
        if !session.touch_due(now, &self.timeouts) {
            return Ok(());
        }
        let mut touched = session.clone();
        touched.seen_at(now, &self.timeouts);
        let mut touch = scripts::TOUCH.prepare_invoke();
        touch
            .key(self.keys.session(&session.sid))
            .arg(touched.last_seen.unix_secs())
            .arg(ttl_secs(touched.idle_expires, now));
        let found: i64 = self.link.run(async |c| touch.invoke_async(c).await).await?;
        if found == 1 {
            self.cache.refresh(Arc::new(touched));
        }
        Ok(())
    }

    /// See [`crate::SessionStore::add_client`].
    pub async fn add_client(&self, sid: &Sid, client: &str) -> Result<bool, StoreError> {
        let mut add = scripts::ADD_CLIENT.prepare_invoke();
        add.key(self.keys.session(sid))
            .arg(format!("{}{client}", record::CLIENT_PREFIX))
            .arg(self.keys.channel())
            .arg(sid.to_string());
        let found: i64 = self.acknowledged.run(Write::Script(&add)).await?;
        self.cache.invalidate(sid);
        Ok(found == 1)
    }

    /// See [`crate::SessionStore::step_up`].
    pub async fn step_up(
        &self,
        sid: &Sid,
        method: AuthMethod,
        now: Timestamp,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        self.rewrite(sid, now, |s| s.stepped_up(method, now)).await
    }

    /// See [`crate::SessionStore::refresh_identity`].
    pub async fn refresh_identity(
        &self,
        sid: &Sid,
        identity: &Identity,
        now: Timestamp,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        self.rewrite(sid, now, |s| s.refreshed(identity.clone(), now))
            .await
    }

    /// Replaces a live session's data by `change` of it: reads the session, then rewrites its
    /// data by compare-and-set in one script that also publishes the sid to every replica's
    /// cache. `None` when the session is unknown or has ended.
    async fn rewrite(
        &self,
        sid: &Sid,
        now: Timestamp,
        change: impl Fn(&Session) -> Session,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        // Each turn that finds `d` changed lost to another rewrite that succeeded, so this
        // ends as soon as concurrent rewrites of the one session do.
        loop {
            let fields = self.fetch_fields(sid).await?;
            let Some(read) = fields.get(record::DATA).cloned() else {
                return Ok(None);
            };
            let Some((_, session)) = self.decode(sid, fields) else {
                return Ok(None);
            };
            if !session.is_live(now) {
                return Ok(None);
            }
            let changed = change(&session);
            let data = record::data_field(&changed).map_err(StoreError::Encode)?;
            let mut rewrite = scripts::REWRITE.prepare_invoke();
            rewrite
                .key(self.keys.session(sid))
                .arg(read)
                .arg(data)
                .arg(self.keys.channel())
                .arg(sid.to_string());
            let outcome: i64 = self.acknowledged.run(Write::Script(&rewrite)).await?;
            // This replica's subscriber sees the publication too; dropping the copy here makes
            // the change immediate on the replica that made it.
            self.cache.invalidate(sid);
            match outcome {
                0 => return Ok(None),
                1 => return Ok(Some(Arc::new(changed))),
                _ => {}
            }
        }
    }

    /// See [`crate::SessionStore::revoke`].
    pub async fn revoke(&self, sid: &Sid) -> Result<bool, StoreError> {
        self.cache.invalidate(sid);
        let mut revoke = scripts::REVOKE.prepare_invoke();
        revoke
            .key(self.keys.session(sid))
            .key(self.keys.logout())
            .arg(self.keys.user_prefix())
            .arg(sid.to_string())
            .arg(self.keys.channel())
            .arg(LOGOUT_QUEUE_CAP);
        let deleted: i64 = self.acknowledged.run(Write::Script(&revoke)).await?;
        Ok(deleted == 1)
    }

    /// See [`crate::SessionStore::revoke_user`].
    pub async fn revoke_user(&self, subject: &str) -> Result<usize, StoreError> {
        let mut revoke = scripts::REVOKE_USER.prepare_invoke();
        revoke
            .key(self.keys.user(subject))
            .key(self.keys.logout())
            .arg(self.keys.session_prefix())
            .arg(self.keys.channel())
            .arg(LOGOUT_QUEUE_CAP);
        let deleted: Vec<String> = self.acknowledged.run(Write::Script(&revoke)).await?;
        // This replica's own subscriber will see the publications too; dropping them here
        // makes the revocation immediate on the replica that made it.
        for sid in deleted.iter().filter_map(|s| Sid::parse(s).ok()) {
            self.cache.invalidate(&sid);
        }
        Ok(deleted.len())
    }

    /// See [`crate::SessionStore::list`].
    pub async fn list(
        &self,
        subject: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<Session>, StoreError> {
        let sids = match subject {
            Some(subject) => self.user_sids(subject).await?,
            None => self.scan_sids().await?,
        };
        let mut found = Vec::with_capacity(sids.len());
        let mut gone = Vec::new();
        for sid in sids {
            match self.fetch(&sid).await? {
                Some((_, session)) if session.is_live(now) => found.push(session),
                Some(_) => {}
                None => gone.push(sid.to_string()),
            }
        }
        if let (Some(subject), false) = (subject, gone.is_empty()) {
            let mut srem = redis::cmd("SREM");
            srem.arg(self.keys.user(subject)).arg(gone);
            self.link.run(async |c| srem.exec_async(c).await).await?;
        }
        found.sort_by_key(|s| (s.created, s.sid));
        Ok(found)
    }

    async fn user_sids(&self, subject: &str) -> Result<Vec<Sid>, StoreError> {
        let mut smembers = redis::cmd("SMEMBERS");
        smembers.arg(self.keys.user(subject));
        let members: Vec<String> = self
            .link
            .run(async |c| smembers.query_async(c).await)
            .await?;
        Ok(members.iter().filter_map(|m| Sid::parse(m).ok()).collect())
    }

    async fn scan_sids(&self) -> Result<Vec<Sid>, StoreError> {
        scan_sids(&self.link, &self.keys).await
    }

    /// See [`crate::SessionStore::count`].
    pub async fn count(&self) -> Result<usize, StoreError> {
        Ok(self.scan_sids().await?.len())
    }
}

/// Every session's sid, walking the session keys (SCAN, linear in the keys); on its own so a
/// background count can run it without the store.
async fn scan_sids(link: &Link, keys: &Keys) -> Result<Vec<Sid>, StoreError> {
    let pattern = keys.session_pattern();
    let prefix = keys.session_prefix();
    let mut cursor = 0u64;
    let mut sids = Vec::new();
    loop {
        let mut scan = redis::cmd("SCAN");
        scan.arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000);
        let (next, batch): (u64, Vec<String>) =
            link.run(async |c| scan.query_async(c).await).await?;
        sids.extend(
            batch
                .iter()
                .filter_map(|k| k.strip_prefix(&prefix).and_then(|s| Sid::parse(s).ok())),
        );
        if next == 0 {
            sids.sort();
            sids.dedup();
            return Ok(sids);
        }
        cursor = next;
    }
}

impl RedisStore {
    /// See [`crate::SessionStore::issue_ticket`]. Redis drops the ticket after its lifetime.
    pub async fn issue_ticket(
        &self,
        id: &SessionId,
        host: &str,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        let issued = ticket::issue(id, host, now)?;
        let mut set = redis::cmd("SET");
        set.arg(self.keys.ticket(&issued.key))
            .arg(issued.sealed)
            .arg("EX")
            .arg(ticket::LIFETIME.as_secs());
        self.link.run(async |c| set.exec_async(c).await).await?;
        Ok(issued.text)
    }

    /// See [`crate::SessionStore::redeem_ticket`]. GETDEL takes the ticket in one step, so of
    /// two replicas redeeming it at once only one reads it.
    pub async fn redeem_ticket(
        &self,
        text: &str,
        host: &str,
        now: Timestamp,
    ) -> Result<Option<SessionId>, StoreError> {
        let Some(ticket) = Ticket::parse(text) else {
            return Ok(None);
        };
        let mut getdel = redis::cmd("GETDEL");
        getdel.arg(self.keys.ticket(&ticket.lookup()));
        let sealed: Option<Vec<u8>> = self.link.run(async |c| getdel.query_async(c).await).await?;
        Ok(sealed.and_then(|sealed| ticket.open(&sealed, host, now)))
    }

    /// See [`crate::SessionStore::record_failure`].
    pub async fn record_failure(
        &self,
        kind: ThrottleKind,
        name: &str,
        now: Timestamp,
    ) -> Result<Throttle, StoreError> {
        let mut fail = scripts::FAIL.prepare_invoke();
        fail.key(self.keys.counter(kind, name))
            .key(self.keys.locked(kind))
            .arg(now.unix_secs())
            .arg(self.throttle.retention().as_secs().max(1))
            .arg(self.throttle.lock_after)
            .arg(now.plus(self.throttle.lock_for).unix_secs())
            .arg(name)
            .arg(self.throttle.lock_for.as_secs().max(1));
        let count: u32 = self.link.run(async |c| fail.invoke_async(c).await).await?;
        Ok(self.throttle.verdict(Failures { count, last: now }, now))
    }

    /// See [`crate::SessionStore::check`].
    pub async fn check(
        &self,
        kind: ThrottleKind,
        name: &str,
        now: Timestamp,
    ) -> Result<Throttle, StoreError> {
        let mut hmget = redis::cmd("HMGET");
        hmget.arg(self.keys.counter(kind, name)).arg("n").arg("t");
        let (count, last): (Option<u32>, Option<u64>) =
            self.link.run(async |c| hmget.query_async(c).await).await?;
        Ok(match (count, last) {
            (Some(count), Some(last)) => {
                let last = Timestamp::from_unix_secs(last);
                self.throttle.verdict(Failures { count, last }, now)
            }
            _ => Throttle::Allowed,
        })
    }

    /// See [`crate::SessionStore::login_check`].
    pub async fn login_check(
        &self,
        account: &str,
        source: &str,
        now: Timestamp,
    ) -> Result<LoginCheck, StoreError> {
        let mut both = redis::pipe();
        both.cmd("HMGET")
            .arg(self.keys.counter(ThrottleKind::Account, account))
            .arg("n")
            .arg("t")
            .cmd("HMGET")
            .arg(self.keys.counter(ThrottleKind::Source, source))
            .arg("n")
            .arg("t");
        type Counter = (Option<u32>, Option<u64>);
        let (account, source): (Counter, Counter) =
            self.link.run(async |c| both.query_async(c).await).await?;
        let verdict = |counter: Counter| match counter {
            (Some(count), Some(last)) => {
                let last = Timestamp::from_unix_secs(last);
                self.throttle.verdict(Failures { count, last }, now)
            }
            _ => Throttle::Allowed,
        };
        Ok(LoginCheck::new(
            verdict(account),
            verdict(source),
            account.0.is_some(),
        ))
    }

    /// See [`crate::SessionStore::clear`].
    pub async fn clear(&self, kind: ThrottleKind, name: &str) -> Result<(), StoreError> {
        let mut clear = redis::pipe();
        clear
            .atomic()
            .del(self.keys.counter(kind, name))
            .zrem(self.keys.locked(kind), name);
        self.link.run(async |c| clear.exec_async(c).await).await
    }

    /// See [`crate::SessionStore::locked`].
    pub async fn locked(
        &self,
        kind: ThrottleKind,
        now: Timestamp,
    ) -> Result<Vec<(String, Timestamp)>, StoreError> {
        let mut zrange = redis::cmd("ZRANGE");
        zrange
            .arg(self.keys.locked(kind))
            .arg(format!("({}", now.unix_secs()))
            .arg("+inf")
            .arg("BYSCORE")
            .arg("WITHSCORES");
        let locked: Vec<(String, u64)> =
            self.link.run(async |c| zrange.query_async(c).await).await?;
        Ok(locked
            .into_iter()
            .map(|(name, until)| (name, Timestamp::from_unix_secs(until)))
            .collect())
    }
}

/// How to reach Redis: a client for a URL (with a private CA for `rediss://` when one is set),
/// or the sentinels to ask for the master.
async fn target(settings: &RedisSettings) -> Result<Target, StoreError> {
    let credentials = |mut redis: RedisConnectionInfo| {
        if let Some(username) = &settings.username {
            redis = redis.set_username(username);
        }
        if let Some(password) = &settings.password {
            redis = redis.set_password(password.expose());
        }
        redis
    };
    let url = match settings.target() {
        RedisTarget::Url(url) => url.as_str(),
        RedisTarget::Sentinel { sentinels, master } => {
            return sentinel_target(settings, sentinels, master).await;
        }
    };
    let info = url
        .into_connection_info()
        .map_err(|e| SettingsError::InvalidUrl(e.to_string()))?;
    let redis = credentials(info.redis_settings().clone());
    let info = info.set_redis_settings(redis);
    let client = match ca_certificates(settings).await? {
        Some(certificates) => Client::build_with_tls(info, certificates)
            .map_err(|e| SettingsError::InvalidCa(e.to_string()))?,
        None => Client::open(info).map_err(|e| SettingsError::InvalidUrl(e.to_string()))?,
    };
    Ok(Target::Direct(Box::new(client)))
}

/// The sentinels to ask for `master`: TLS to them and to the master when their URLs are
/// `rediss://` (with the CA file when one is set), plain TCP to both otherwise.
async fn sentinel_target(
    settings: &RedisSettings,
    sentinels: &[String],
    master: &str,
) -> Result<Target, StoreError> {
    let tls = sentinels.iter().all(|url| is_tls(url));
    if !tls && settings.ca_file.is_some() {
        return Err(SettingsError::SentinelTls.into());
    }
    let addresses = sentinels
        .iter()
        .map(|url| {
            url.as_str()
                .into_connection_info()
                .map(|info| info.addr().clone())
                .map_err(|e| SettingsError::InvalidUrl(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let tls = match tls {
        true => Some(ca_certificates(settings).await?),
        false => None,
    };
    Ok(Target::Sentinel(Arc::new(SentinelTarget {
        sentinels: addresses,
        master: master.to_owned(),
        username: settings.username.clone(),
        password: settings.password.as_ref().map(|p| p.expose().to_owned()),
        tls,
    })))
}

/// The CA file's certificate, read once at connect, when one is set.
async fn ca_certificates(settings: &RedisSettings) -> Result<Option<TlsCertificates>, StoreError> {
    let Some(path) = &settings.ca_file else {
        return Ok(None);
    };
    let pem = tokio::fs::read(path)
        .await
        .map_err(|source| StoreError::CaFile {
            path: path.clone(),
            source,
        })?;
    Ok(Some(TlsCertificates {
        client_tls: None,
        root_cert: Some(pem),
    }))
}
