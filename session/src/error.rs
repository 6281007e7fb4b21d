//! What can go wrong in the store, typed so the gateway can map each case to one response.

use std::path::PathBuf;

use crate::id::IdError;
use crate::settings::SettingsError;

/// A store operation failed. "No such session" is never an error: `get` answers `Ok(None)`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis did not answer in time, refused, or the connection is down. The gateway answers
    /// 503: treating this as "no session" would log everybody out on a Redis blip.
    #[error("session store unavailable: {0}")]
    Unavailable(#[source] redis::RedisError),
    /// A write that must survive a failover reached the master, but fewer of its replicas
    /// confirmed it in time than the settings ask for (see
    /// [`crate::Acknowledgement`]). The caller reports a failure (the gateway answers
    /// 503, the login page's "try again"), so the browser is never told of a write a failover
    /// could lose. The write may still be in effect on the master; every such write is safe to
    /// repeat or to leave (a session nobody holds the cookie of expires unused).
    #[error(
        "session store write not confirmed: {acknowledged} of {wanted} replica(s) acknowledged it in time"
    )]
    NotAcknowledged {
        /// The replicas asked for (the setting, or fewer when fewer were connected).
        wanted: u32,
        /// The replicas that confirmed in time.
        acknowledged: u32,
    },
    /// The CA file for `rediss://` could not be read.
    #[error("cannot read the Redis CA file {path}: {source}")]
    CaFile {
        /// The file named in the settings.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The settings were refused.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A session could not be encoded for storage (not expected with well-formed strings).
    #[error("cannot encode the session: {0}")]
    Encode(#[source] serde_json::Error),
    /// No session id or SSO ticket could be made (the system's random generator failed).
    #[error(transparent)]
    Id(#[from] IdError),
    /// An SSO ticket could not be sealed: the crypto library refused, which it does only when
    /// it cannot draw a random nonce.
    #[error("cannot seal an SSO ticket")]
    Seal,
    /// An OIDC record key is longer than [`crate::MAX_RECORD_KEY_BYTES`]: the caller passed
    /// something other than a digest or an id, and the store refuses to file it.
    #[error("record key of {bytes} bytes is longer than the {max} allowed", max = crate::MAX_RECORD_KEY_BYTES)]
    RecordKeyTooLong {
        /// The length of the key refused.
        bytes: usize,
    },
}

impl From<redis::RedisError> for StoreError {
    fn from(error: redis::RedisError) -> Self {
        Self::Unavailable(error)
    }
}
