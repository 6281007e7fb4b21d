//! What a session says about the person who logged in, and when it ends.

use std::fmt;
use std::net::IpAddr;

use pforte_policy::LoginStrength;

use crate::id::Sid;
use crate::settings::SessionSettings;
use crate::time::Timestamp;
use pforte_policy::AuthMethod;

/// The longest device description a session keeps, in characters; longer ones are cut, so a
/// long `User-Agent` cannot bloat the store.
pub const MAX_DEVICE_CHARS: usize = 120;

/// Where a session came from when the person logged in at another administration's provider
/// (federation): what its back-channel logout names and what Pforte's logout sends on.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Federated {
    /// The provider's id in `idps.toml`.
    #[serde(rename = "p")]
    pub provider: String,
    /// The provider's issuer.
    #[serde(rename = "i")]
    pub issuer: String,
    /// The person's `sub` there.
    #[serde(rename = "s")]
    pub subject: String,
    /// The provider's session id (`sid`), when it sent one.
    #[serde(rename = "sid", default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Whether the person exists only through the provider (a guest): then the directory is
    /// never asked about them.
    #[serde(rename = "g")]
    pub guest: bool,
    /// The provider's ID token, sent back as `id_token_hint` when the person logs out.
    #[serde(rename = "t")]
    pub id_token: String,
}

impl fmt::Debug for Federated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Federated")
            .field("provider", &self.provider)
            .field("guest", &self.guest)
            .finish_non_exhaustive()
    }
}

/// What the login step knows when it opens a session; the store adds the times and the handle.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The directory's stable id for the person (e.g. LDAP entryUUID): survives renames, so
    /// `revoke_user` and the OIDC `sub` use it.
    pub subject: String,
    /// The login name, as typed and shown.
    pub username: String,
    /// The name shown on the portal and passed to apps.
    pub display_name: String,
    /// The mail address, if the directory has one.
    pub email: Option<String>,
    /// The groups the policy decides on, resolved at login time.
    pub groups: Vec<String>,
    /// How strongly the person proved who they are, as the policy judges it; a step-up
    /// ([`crate::SessionStore::step_up`]) raises it to `Mfa` in place.
    pub login: LoginStrength,
    /// The factors used, in order (OIDC `amr`, the admin's listing); a step-up appends one.
    pub methods: Vec<AuthMethod>,
    /// When the person last authenticated (OIDC `auth_time`); a step-up moves it.
    pub auth_time: Timestamp,
    /// The address the login came from, for the admin's listing and audit.
    pub source: IpAddr,
    /// A short description of the browser and system the login came from ("Firefox on
    /// Linux"), for the person's and the admin's session listings; cut to
    /// [`MAX_DEVICE_CHARS`] characters.
    pub device: Option<String>,
    /// The provider the person logged in at, for a federated login.
    pub federated: Option<Federated>,
}

/// A live SSO session as every replica sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// The public handle: listings, logs, revocation, OIDC `sid`.
    pub sid: Sid,
    /// See [`NewSession::subject`].
    pub subject: String,
    /// See [`NewSession::username`].
    pub username: String,
    /// See [`NewSession::display_name`].
    pub display_name: String,
    /// See [`NewSession::email`].
    pub email: Option<String>,
    /// See [`NewSession::groups`].
    pub groups: Vec<String>,
    /// See [`NewSession::login`].
    pub login: LoginStrength,
    /// See [`NewSession::methods`].
    pub methods: Vec<AuthMethod>,
    /// See [`NewSession::auth_time`].
    pub auth_time: Timestamp,
    /// See [`NewSession::source`].
    pub source: IpAddr,
    /// See [`NewSession::device`].
    pub device: Option<String>,
    /// See [`NewSession::federated`].
    pub federated: Option<Federated>,
    /// When the session was opened.
    pub created: Timestamp,
    /// The last activity the store has recorded; lags the true last request by at most the
    /// touch interval, because touches are written at most that often.
    pub last_seen: Timestamp,
    /// When the session ends unless it is used again: `last_seen` + idle timeout, never past
    /// `absolute_expires`.
    pub idle_expires: Timestamp,
    /// When the session ends however busy it is: `created` + absolute timeout.
    pub absolute_expires: Timestamp,
    /// The OIDC clients that received tokens from this session, to notify at logout.
    pub clients: Vec<String>,
    /// When the identity (username, display name, mail, groups) was last read from the
    /// directory: at login, then at each refresh ([`crate::SessionStore::refresh_identity`]), so
    /// a person disabled or moved between groups loses access within the refresh interval.
    pub identity_refreshed: Timestamp,
}

/// What the directory says of a person now: what a refresh writes into their sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The login name as the directory spells it now (a rename shows on the next refresh).
    pub username: String,
    /// The name shown on the portal and passed to apps.
    pub display_name: String,
    /// The mail address, if the directory has one.
    pub email: Option<String>,
    /// The groups the policy decides on, nested ones included.
    pub groups: Vec<String>,
}

impl Session {
    /// Opens a session at `now` with the timeouts in force.
    pub(crate) fn open(
        new: NewSession,
        sid: Sid,
        now: Timestamp,
        timeouts: &SessionSettings,
    ) -> Self {
        let absolute_expires = now.plus(timeouts.absolute_timeout);
        let mut session = Self {
            sid,
            subject: new.subject,
            username: new.username,
            display_name: new.display_name,
            email: new.email,
            groups: new.groups,
            login: new.login,
            methods: new.methods,
            auth_time: new.auth_time,
            source: new.source,
            device: new.device.map(cut_device),
            federated: new.federated,
            created: now,
            last_seen: now,
            idle_expires: now,
            absolute_expires,
            clients: Vec::new(),
            identity_refreshed: now,
        };
        session.seen_at(now, timeouts);
        session
    }

    /// This session after a second factor was checked at `now`: login strength `Mfa`,
    /// `method` appended unless it is there already, `auth_time` = `now` (never moved
    /// backwards). The handle, the times and the clients stay.
    pub(crate) fn stepped_up(&self, method: AuthMethod, now: Timestamp) -> Self {
        let mut session = self.clone();
        session.login = LoginStrength::Mfa;
        if !session.methods.contains(&method) {
            session.methods.push(method);
        }
        session.auth_time = session.auth_time.max(now);
        session
    }

    /// This session with the identity the directory gave at `now`. The handle, the login
    /// strength, the times and the clients stay; `identity_refreshed` never moves backwards.
    pub(crate) fn refreshed(&self, identity: Identity, now: Timestamp) -> Self {
        let mut session = self.clone();
        session.username = identity.username;
        session.display_name = identity.display_name;
        session.email = identity.email;
        session.groups = identity.groups;
        session.identity_refreshed = session.identity_refreshed.max(now);
        session
    }

    /// The identity as this session holds it.
    pub fn identity(&self) -> Identity {
        Identity {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            groups: self.groups.clone(),
        }
    }

    /// Records activity at `now` and slides the idle expiry (never backwards, never past the
    /// absolute expiry).
    pub(crate) fn seen_at(&mut self, now: Timestamp, timeouts: &SessionSettings) {
        self.last_seen = self.last_seen.max(now);
        self.idle_expires = self
            .last_seen
            .plus(timeouts.idle_timeout)
            .min(self.absolute_expires);
    }

    /// Whether the session still admits requests at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.idle_expires && now < self.absolute_expires
    }

    /// Whether a touch at `now` must be written to the shared store: only when the recorded
    /// `last_seen` is at least one touch interval old, so a busy session costs one write per
    /// interval, not one per request.
    pub fn touch_due(&self, now: Timestamp, timeouts: &SessionSettings) -> bool {
        now.since(self.last_seen) >= timeouts.touch_interval
    }
}

/// Cuts a device description to [`MAX_DEVICE_CHARS`] characters (on a character boundary).
fn cut_device(mut device: String) -> String {
    if let Some((at, _)) = device.char_indices().nth(MAX_DEVICE_CHARS) {
        device.truncate(at);
    }
    device
}

impl fmt::Debug for Session {
    /// Names the session and its person without the groups and mail address, so a stray
    /// `{:?}` in a log line stays short and free of personal data beyond the login name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("sid", &self.sid.to_string())
            .field("username", &self.username)
            .field("login", &self.login)
            .field("methods", &self.methods)
            .field("last_seen", &self.last_seen.unix_secs())
            .field("idle_expires", &self.idle_expires.unix_secs())
            .field("absolute_expires", &self.absolute_expires.unix_secs())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("username", &self.username)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;
    use crate::id::SessionId;

    fn opened_new(now: Timestamp) -> NewSession {
        NewSession {
            subject: "uuid-erin".into(),
            username: "erin".into(),
            display_name: "Erin".into(),
            email: Some("erin@example.org".into()),
            groups: vec!["secret-project".into()],
            login: LoginStrength::Password,
            methods: vec![AuthMethod::Password],
            auth_time: now,
            source: IpAddr::V4(Ipv4Addr::LOCALHOST),
            device: Some("Firefox on Linux".into()),
            federated: None,
        }
    }

    fn opened(now: Timestamp) -> Session {
        let sid = SessionId::generate().unwrap().key().sid();
        Session::open(opened_new(now), sid, now, &SessionSettings::default())
    }

    #[test]
    fn debug_leaves_out_mail_and_groups() {
        let shown = format!("{:?}", opened(Timestamp::from_unix_secs(1)));
        assert!(shown.contains("erin"));
        assert!(!shown.contains("example.org") && !shown.contains("secret-project"));
    }

    #[test]
    fn the_idle_expiry_slides_but_never_past_the_absolute_one() {
        let timeouts = SessionSettings::default();
        let t0 = Timestamp::from_unix_secs(1_000);
        let mut session = opened(t0);
        assert_eq!(session.idle_expires, t0.plus(timeouts.idle_timeout));
        let late = t0.plus(timeouts.absolute_timeout - Duration::from_secs(60));
        session.seen_at(late, &timeouts);
        assert_eq!(session.idle_expires, session.absolute_expires);
        session.seen_at(t0, &timeouts);
        assert_eq!(session.last_seen, late, "activity never moves backwards");
    }

    #[test]
    fn a_touch_is_due_once_per_interval() {
        let timeouts = SessionSettings::default();
        let t0 = Timestamp::from_unix_secs(1_000);
        let session = opened(t0);
        assert!(!session.touch_due(t0.plus(Duration::from_secs(59)), &timeouts));
        assert!(session.touch_due(t0.plus(Duration::from_secs(60)), &timeouts));
    }

    #[test]
    fn a_step_up_raises_the_login_and_appends_the_factor_once() {
        let t0 = Timestamp::from_unix_secs(1_000);
        let session = opened(t0);
        let t1 = t0.plus(Duration::from_secs(300));
        let up = session.stepped_up(AuthMethod::Totp, t1);
        assert_eq!(up.login, LoginStrength::Mfa);
        assert_eq!(up.methods, [AuthMethod::Password, AuthMethod::Totp]);
        assert_eq!(up.auth_time, t1);
        assert_eq!(
            (up.sid, up.created, up.idle_expires, up.absolute_expires),
            (
                session.sid,
                session.created,
                session.idle_expires,
                session.absolute_expires
            ),
            "a step-up keeps the session's handle and timeouts"
        );
        let again = up.stepped_up(AuthMethod::Totp, t0);
        assert_eq!(again.methods, [AuthMethod::Password, AuthMethod::Totp]);
        assert_eq!(again.auth_time, t1, "auth_time never moves backwards");
    }

    #[test]
    fn a_long_device_description_is_cut_on_a_character_boundary() {
        let mut new = NewSession {
            device: Some("ä".repeat(MAX_DEVICE_CHARS + 5)),
            ..opened_new(Timestamp::from_unix_secs(1))
        };
        let sid = SessionId::generate().unwrap().key().sid();
        let session = Session::open(new.clone(), sid, new.auth_time, &SessionSettings::default());
        assert_eq!(
            session.device.as_deref(),
            Some("ä".repeat(MAX_DEVICE_CHARS).as_str())
        );
        new.device = Some("Safari on iOS".into());
        let session = Session::open(
            new,
            sid,
            Timestamp::from_unix_secs(1),
            &SessionSettings::default(),
        );
        assert_eq!(session.device.as_deref(), Some("Safari on iOS"));
    }
}
