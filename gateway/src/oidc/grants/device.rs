//! The device authorization grant's records (RFC 8628): the authorization under the digest of
//! its device code, so a read of the store yields no code a device could poll with, and its
//! user code as an index to it, for the verification page. The authorization changes only by
//! compare-and-set (a poll remembering itself, the person's decision), so a poll and a decision
//! at the same moment on two replicas cannot overwrite each other; it is taken once, when its
//! tokens are issued.

use std::time::Duration;

use pforte_oidc::OpaqueToken;
use pforte_oidc::device::{DeviceGrant, UserCode};
use pforte_session::{RecordKind, StoreError};

use super::{Grants, from_json, to_json};

/// A device authorization as loaded: where it is filed, and the exact bytes a compare-and-set
/// must find.
pub struct LoadedDevice {
    /// The record.
    pub grant: DeviceGrant,
    /// Its key: the device code's digest.
    key: String,
    raw: Vec<u8>,
}

impl Grants<'_> {
    /// Files a new device authorization under `device_code`'s digest, with `user_code` naming
    /// it. `false` (and nothing filed) when the user code already names another live
    /// authorization: draw another.
    pub async fn put_device(
        &self,
        device_code: &OpaqueToken,
        user_code: &UserCode,
        grant: &DeviceGrant,
        now: u64,
    ) -> Result<bool, StoreError> {
        let key = device_code.digest();
        let claimed = self
            .store
            .insert_record(
                RecordKind::UserCode,
                user_code.as_str(),
                key.as_bytes(),
                Duration::from_secs(grant.user_code_seconds(now)),
            )
            .await?;
        if !claimed {
            return Ok(false);
        }
        self.store
            .put_record(
                RecordKind::DeviceGrant,
                &key,
                &to_json(grant),
                Duration::from_secs(grant.keep_seconds(now)),
            )
            .await?;
        Ok(true)
    }

    /// The device authorization `device_code` names, if it is still kept.
    pub async fn device(
        &self,
        device_code: &OpaqueToken,
    ) -> Result<Option<LoadedDevice>, StoreError> {
        self.device_at(device_code.digest()).await
    }

    /// The device authorization `user_code` names, if its user code is still live.
    pub async fn device_of(
        &self,
        user_code: &UserCode,
    ) -> Result<Option<LoadedDevice>, StoreError> {
        let Some(key) = self
            .store
            .get_record(RecordKind::UserCode, user_code.as_str())
            .await?
        else {
            return Ok(None);
        };
        match String::from_utf8(key) {
            Ok(key) => self.device_at(key).await,
            Err(_) => {
                tracing::warn!("unreadable user code record in the session store, ignored");
                Ok(None)
            }
        }
    }

    /// The device authorization `loaded` was, read again (after a compare-and-set lost to
    /// another request).
    pub async fn reload_device(
        &self,
        loaded: &LoadedDevice,
    ) -> Result<Option<LoadedDevice>, StoreError> {
        self.device_at(loaded.key.clone()).await
    }

    async fn device_at(&self, key: String) -> Result<Option<LoadedDevice>, StoreError> {
        let raw = self.store.get_record(RecordKind::DeviceGrant, &key).await?;
        Ok(raw.and_then(|raw| {
            from_json(&raw, "device authorization").map(|grant| LoadedDevice { grant, key, raw })
        }))
    }

    /// Writes `next` over `loaded` only if nobody changed the record since it was loaded; the
    /// record keeps its expiry.
    pub async fn replace_device(
        &self,
        loaded: &LoadedDevice,
        next: &DeviceGrant,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.store
            .replace_record(
                RecordKind::DeviceGrant,
                &loaded.key,
                &loaded.raw,
                &to_json(next),
                Duration::from_secs(next.keep_seconds(now)),
            )
            .await
    }

    /// Takes the device authorization `device_code` names, exactly once across every replica:
    /// of two polls at the same moment, one gets the tokens.
    pub async fn take_device(
        &self,
        device_code: &OpaqueToken,
    ) -> Result<Option<DeviceGrant>, StoreError> {
        let raw = self
            .store
            .take_record(RecordKind::DeviceGrant, &device_code.digest())
            .await?;
        Ok(raw.and_then(|raw| from_json(&raw, "device authorization")))
    }

    /// Ends a user code once its person decided, so it cannot be entered again.
    pub async fn end_user_code(&self, user_code: &UserCode) -> Result<(), StoreError> {
        self.store
            .take_record(RecordKind::UserCode, user_code.as_str())
            .await
            .map(drop)
    }
}
