//! The OIDC records and the refresh-family index in Redis (see [`crate::records`]): each
//! operation is one command or one script, so one round trip, and Redis's TTLs do the expiry.

use std::time::Duration;

use crate::error::StoreError;
use crate::id::Sid;
use crate::records::{LogoutNotice, RecordKind, check_key, ttl_millis};

use super::acknowledge::acknowledged;
use super::link::Write;
use super::{RedisStore, scripts};

impl RedisStore {
    /// Runs a write to a record of `kind`: acknowledged by the replicas when the kind's loss
    /// would undo what a client was told (see `acknowledge`).
    async fn write_record<T: redis::FromRedisValue + Send>(
        &self,
        kind: RecordKind,
        write: Write<'_>,
    ) -> Result<T, StoreError> {
        if acknowledged(kind) {
            self.acknowledged.run(write).await
        } else {
            self.link.write(write).await
        }
    }

    fn record_key(&self, kind: RecordKind, key: &str) -> Result<String, StoreError> {
        check_key(key)?;
        Ok(self.keys.record(kind, key))
    }

    /// See [`crate::SessionStore::put_record`].
    pub async fn put_record(
        &self,
        kind: RecordKind,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut set = redis::cmd("SET");
        set.arg(self.record_key(kind, key)?)
            .arg(value)
            .arg("PX")
            .arg(ttl_millis(ttl));
        self.write_record::<()>(kind, Write::Command(&set)).await
    }

    /// See [`crate::SessionStore::insert_record`].
    pub async fn insert_record(
        &self,
        kind: RecordKind,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut set = redis::cmd("SET");
        set.arg(self.record_key(kind, key)?)
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ttl_millis(ttl));
        let written: Option<String> = self.write_record(kind, Write::Command(&set)).await?;
        Ok(written.is_some())
    }

    /// See [`crate::SessionStore::get_record`].
    pub async fn get_record(
        &self,
        kind: RecordKind,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut get = redis::cmd("GET");
        get.arg(self.record_key(kind, key)?);
        self.link.run(async |c| get.query_async(c).await).await
    }

    /// See [`crate::SessionStore::take_record`]. GETDEL reads and deletes in one step.
    pub async fn take_record(
        &self,
        kind: RecordKind,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut getdel = redis::cmd("GETDEL");
        getdel.arg(self.record_key(kind, key)?);
        self.write_record(kind, Write::Command(&getdel)).await
    }

    /// See [`crate::SessionStore::replace_record`].
    pub async fn replace_record(
        &self,
        kind: RecordKind,
        key: &str,
        expected: &[u8],
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut replace = scripts::REPLACE.prepare_invoke();
        replace
            .key(self.record_key(kind, key)?)
            .arg(expected)
            .arg(new)
            .arg(ttl_millis(ttl));
        let written: i64 = self.write_record(kind, Write::Script(&replace)).await?;
        Ok(written == 1)
    }

    /// See [`crate::SessionStore::link_family`].
    pub async fn link_family(
        &self,
        sid: &Sid,
        family_id: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        check_key(family_id)?;
        let mut link = scripts::LINK_FAMILY.prepare_invoke();
        link.key(self.keys.families(sid))
            .arg(family_id)
            .arg(ttl_millis(ttl));
        // The index a logout revokes the session's families by: as lasting as the families.
        let _: i64 = self
            .write_record(RecordKind::RefreshFamily, Write::Script(&link))
            .await?;
        Ok(())
    }

    /// See [`crate::SessionStore::families_of`].
    pub async fn families_of(&self, sid: &Sid) -> Result<Vec<String>, StoreError> {
        let mut smembers = redis::cmd("SMEMBERS");
        smembers.arg(self.keys.families(sid));
        let mut ids: Vec<String> = self
            .link
            .run(async |c| smembers.query_async(c).await)
            .await?;
        ids.sort();
        Ok(ids)
    }

    /// See [`crate::SessionStore::next_logout`]: BLPOP on a connection of its own (see
    /// `logout`).
    pub async fn next_logout(&self, wait: Duration) -> Result<Option<LogoutNotice>, StoreError> {
        self.logouts.next(wait).await
    }
}
