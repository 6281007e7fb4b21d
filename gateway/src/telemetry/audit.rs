//! The audit log: who logged in, failed, was locked out or unlocked, logged out, had a session
//! revoked, used or changed a second factor, or was refused an app, and whom a policy change
//! affects. One JSON object per line on its own tracing target,
//! `pforte::audit`, which [`super::init`] sends to its own file (`log.audit_file`), for the
//! operators' SIEM. Events are typed, so a call site cannot forget the subject or the source,
//! and none of them has a field that could carry a password, a cookie or a token.

use std::net::IpAddr;

/// The tracing target of audit events.
pub const TARGET: &str = "pforte::audit";

/// Why a login failed, as a class: never the password, never which of user and password was
/// wrong to the person (the page says the same for all), but the operator may know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// No such user.
    UnknownUser,
    /// The password did not match.
    WrongPassword,
    /// The account is disabled.
    Disabled,
    /// The account or the address is throttled or locked.
    Throttled,
    /// The directory did not answer.
    DirectoryUnavailable,
    /// The login form failed the anti-forgery check.
    Csrf,
    /// A field was empty or malformed.
    BadInput,
}

impl FailureReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::UnknownUser => "unknown_user",
            Self::WrongPassword => "wrong_password",
            Self::Disabled => "disabled",
            Self::Throttled => "throttled",
            Self::DirectoryUnavailable => "directory_unavailable",
            Self::Csrf => "csrf",
            Self::BadInput => "bad_input",
        }
    }
}

/// What happened to a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChange {
    /// A key was made.
    Generated,
    /// The next key started signing (the key named is the one now signing).
    Rotated,
    /// A key stopped being published.
    Retired,
}

impl KeyChange {
    fn event(self) -> &'static str {
        match self {
            Self::Generated => "key_generated",
            Self::Rotated => "key_rotated",
            Self::Retired => "key_retired",
        }
    }
}

/// What an admin changed in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryChange {
    /// A person was added.
    UserAdded,
    /// A person's password was set.
    PasswordSet,
    /// An account was disabled.
    UserDisabled,
    /// An account was enabled again.
    UserEnabled,
    /// A person was deleted.
    UserDeleted,
    /// A group was added.
    GroupAdded,
    /// A person was put into a group.
    MemberAdded,
    /// A person was taken out of a group.
    MemberRemoved,
    /// Every second factor of a person was removed (they lost their device).
    FactorsReset,
}

impl DirectoryChange {
    fn event(self) -> &'static str {
        match self {
            Self::UserAdded => "user_added",
            Self::PasswordSet => "password_set",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::UserDeleted => "user_deleted",
            Self::GroupAdded => "group_added",
            Self::MemberAdded => "member_added",
            Self::MemberRemoved => "member_removed",
            Self::FactorsReset => "factors_reset",
        }
    }
}

/// What happened to a registered OpenID Connect client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientChange {
    /// A client was registered.
    Added,
    /// A confidential client got a new secret; the old one stops working at the next reload.
    SecretRotated,
    /// A client was removed.
    Removed,
}

impl ClientChange {
    fn event(self) -> &'static str {
        match self {
            Self::Added => "client_added",
            Self::SecretRotated => "client_secret_rotated",
            Self::Removed => "client_removed",
        }
    }
}

/// What the OpenID Connect provider did or refused that an auditor must see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcEvent {
    /// The app's access rules refuse the person this client's tokens.
    AccessDenied,
    /// A code was presented a second time; what it issued is revoked.
    CodeReplay,
    /// A retired refresh token was presented; its whole family is revoked.
    RefreshReuse,
    /// A client revoked a token (RFC 7009).
    TokenRevoked,
    /// A client's back-channel logout call failed.
    BackchannelFailed,
    /// The app's access rules refuse the person now: a refresh (its family revoked), userinfo
    /// or introspection of a token issued when they still allowed, or a token exchange for an
    /// app whose rules do not allow them.
    TokenRefused,
}

impl OidcEvent {
    fn event(self) -> &'static str {
        match self {
            Self::AccessDenied => "oidc_access_denied",
            Self::CodeReplay => "oidc_code_replay",
            Self::RefreshReuse => "oidc_refresh_reuse",
            Self::TokenRevoked => "oidc_token_revoked",
            Self::BackchannelFailed => "oidc_backchannel_failed",
            Self::TokenRefused => "oidc_token_refused",
        }
    }
}

/// What happened with a person's second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorEvent {
    /// A second factor was checked and the session stepped up.
    Verified,
    /// A second factor was refused (wrong, replayed, malformed, throttled).
    Failed,
    /// A recovery code was used up (the detail says how many are left).
    RecoveryCodeUsed,
    /// A factor was added.
    Enrolled,
    /// A factor was renamed.
    Renamed,
    /// A factor was removed.
    Removed,
    /// A new set of recovery codes replaced the old one.
    RecoveryCodesRenewed,
    /// A passwordless passkey login opened a session.
    PasskeyLogin,
}

impl FactorEvent {
    fn event(self) -> &'static str {
        match self {
            Self::Verified => "second_factor_verified",
            Self::Failed => "second_factor_failed",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::Enrolled => "second_factor_enrolled",
            Self::Renamed => "second_factor_renamed",
            Self::Removed => "second_factor_removed",
            Self::RecoveryCodesRenewed => "recovery_codes_renewed",
            Self::PasskeyLogin => "passkey_login",
        }
    }
}

/// One auditable event.
#[derive(Debug, Clone, Copy)]
pub enum AuditEvent<'a> {
    /// Something the OpenID Connect provider did or refused.
    Oidc {
        /// What.
        event: OidcEvent,
        /// The client.
        client: &'a str,
        /// The person's directory subject, when one is involved.
        subject: Option<&'a str>,
        /// Why, or what it affected (never a token).
        detail: &'a str,
    },
    /// A person logged in.
    LoginSuccess {
        /// Their stable subject.
        subject: &'a str,
        /// Their user name.
        username: &'a str,
        /// The session's public handle.
        session: &'a str,
    },
    /// A person logged in through a partner's provider (federation).
    FederatedLogin {
        /// The provider's id in `idps.toml`.
        provider: &'a str,
        /// `guest` or `link`.
        mode: &'a str,
        /// The local subject (a guest's `guest-…`, else the directory person's).
        subject: &'a str,
        /// The local user name.
        username: &'a str,
        /// The session's public handle.
        session: &'a str,
    },
    /// A login through a partner's provider was refused.
    FederatedLoginRefused {
        /// The provider's id.
        provider: &'a str,
        /// Why, as a short name (`state`, `binding`, `issuer_mixup`, `id_token`, …).
        reason: &'a str,
    },
    /// A partner's provider ended sessions through its back-channel logout.
    FederatedLogout {
        /// The provider's id.
        provider: &'a str,
        /// How many sessions ended.
        sessions: usize,
    },
    /// A login attempt failed.
    LoginFailure {
        /// The user name typed (it may not exist).
        username: &'a str,
        /// Why.
        reason: FailureReason,
    },
    /// An account or address reached the lock threshold.
    Lockout {
        /// `account` or `address`.
        scope: &'a str,
        /// The user name or the address.
        key: &'a str,
    },
    /// An admin lifted a lock.
    Unlock {
        /// `account` or `address`.
        scope: &'a str,
        /// The user name or the address.
        key: &'a str,
        /// The admin (OS user for the CLI).
        by: &'a str,
    },
    /// A person logged out.
    Logout {
        /// Their stable subject.
        subject: &'a str,
        /// The session's public handle.
        session: &'a str,
    },
    /// A session was ended by someone else (an admin, a revocation).
    SessionRevoked {
        /// The session owner's subject.
        subject: &'a str,
        /// The session's public handle.
        session: &'a str,
        /// Who revoked it.
        by: &'a str,
    },
    /// An admin changed the signing keys.
    KeyChanged {
        /// What happened.
        change: KeyChange,
        /// The key.
        kid: &'a str,
        /// Who did it (the OS user of the command).
        by: &'a str,
    },
    /// An admin changed the registered OpenID Connect clients (never with a secret or its hash).
    ClientChanged {
        /// What happened.
        change: ClientChange,
        /// The client id.
        client: &'a str,
        /// The client's app.
        app: &'a str,
        /// Who did it (the OS user of the command).
        by: &'a str,
    },
    /// An admin changed people or groups in the directory (never with a password).
    DirectoryChanged {
        /// What happened.
        change: DirectoryChange,
        /// The person's user name, empty for a group change without one.
        user: &'a str,
        /// The person's subject, when known.
        subject: &'a str,
        /// The group, empty when none is involved.
        group: &'a str,
        /// Who did it (the OS user of the command).
        by: &'a str,
    },
    /// Something happened with a person's second factor (never a code, a secret or a key).
    SecondFactor {
        /// What.
        event: FactorEvent,
        /// The person's user name (as typed, for a failed passwordless attempt).
        username: &'a str,
        /// The kind: `totp`, `passkey`, `recovery_code`.
        kind: &'a str,
        /// Why it failed, or what it changed (a count, a session handle).
        detail: &'a str,
    },
    /// A session's identity was read again from the directory and what the gateway decides on
    /// changed (groups, name, mail). A person disabled or deleted is a `SessionRevoked` instead.
    IdentityChanged {
        /// The person's subject.
        subject: &'a str,
        /// The session's public handle.
        session: &'a str,
        /// Groups gained, comma-separated.
        added: &'a str,
        /// Groups lost, comma-separated.
        removed: &'a str,
    },
    /// A session's identity was due to be read again, the directory did not answer, and the
    /// grace past the due time is over: its requests are refused until the directory answers.
    /// Written by the request that asked the directory (at most one per session every 15 s),
    /// not by every refused request.
    IdentityStale {
        /// The person's subject.
        subject: &'a str,
        /// The session's public handle.
        session: &'a str,
        /// Since when (Unix seconds) the identity has been due.
        due_since: u64,
    },
    /// The policy refused a request.
    AccessDenied {
        /// The person's subject, `None` when not logged in.
        subject: Option<&'a str>,
        /// The app.
        app: &'a str,
        /// The request method.
        method: &'a str,
        /// The request path, without the query.
        path: &'a str,
        /// `deny`, `login_required` or `step_up_required`.
        decision: &'a str,
        /// The rule (file:line), or why no rule decided.
        rule: &'a str,
    },
    /// A reload changed the policy, the apps or the OpenID Connect clients, and this is who
    /// gains and who loses which app, asked of the live directory after the change took effect
    /// (the reload never waits for it).
    PolicyImpact {
        /// What changed, comma-separated: `policy`, `apps`, `clients`.
        changed: &'a str,
        /// What triggered the reload: `SIGHUP`, `file change`, `admin endpoint`.
        trigger: &'a str,
        /// `read`, `not configured`, or why the directory could not be read in time (then only
        /// someone not logged in was checked).
        directory: &'a str,
        /// How many people of the directory were checked.
        people_checked: usize,
        /// How many were not (a directory larger than the bound): the lists are cut short.
        people_not_checked: usize,
        /// How many gains, over every app and client line.
        gains: usize,
        /// How many losses, over every app and client line.
        losses: usize,
        /// The apps someone gained or lost, as a JSON array (`name`, `from`, `gained` and `lost`
        /// each with `count`, `listed`, `rules`).
        apps: &'a str,
        /// The clients added, removed or moved to another app, as a JSON array like `apps`,
        /// with `app_before` and `app_after`.
        clients: &'a str,
    },
}

/// Where and for which request an event happened.
#[derive(Debug, Clone, Copy)]
pub struct AuditContext<'a> {
    /// The request id (empty for events outside a request, such as the CLI's).
    pub request_id: &'a str,
    /// The client address, if any.
    pub source: Option<IpAddr>,
}

/// Writes one event to the audit target.
pub fn record(ctx: AuditContext<'_>, event: AuditEvent<'_>) {
    let request_id = ctx.request_id;
    let source = ctx.source.map(|s| s.to_string());
    let source = source.as_deref().unwrap_or("");
    match event {
        AuditEvent::Oidc {
            event,
            client,
            subject,
            detail,
        } => tracing::info!(
            target: TARGET, event = event.event(), request_id, source, client,
            subject = subject.unwrap_or(""), detail, "openid connect"
        ),
        AuditEvent::LoginSuccess {
            subject,
            username,
            session,
        } => tracing::info!(
            target: TARGET, event = "login_success", request_id, source, subject, username, session,
            "login"
        ),
        AuditEvent::FederatedLogin {
            provider,
            mode,
            subject,
            username,
            session,
        } => tracing::info!(
            target: TARGET, event = "federated_login", request_id, source, provider, mode,
            subject, username, session, "federated login"
        ),
        AuditEvent::FederatedLoginRefused { provider, reason } => tracing::info!(
            target: TARGET, event = "federated_login_refused", request_id, source, provider,
            reason, "federated login refused"
        ),
        AuditEvent::FederatedLogout { provider, sessions } => tracing::info!(
            target: TARGET, event = "federated_logout", request_id, source, provider, sessions,
            "sessions ended by the provider"
        ),
        AuditEvent::LoginFailure { username, reason } => tracing::info!(
            target: TARGET, event = "login_failure", request_id, source, username,
            reason = reason.as_str(), "login failed"
        ),
        AuditEvent::Lockout { scope, key } => tracing::info!(
            target: TARGET, event = "lockout", request_id, source, scope, key, "locked out"
        ),
        AuditEvent::Unlock { scope, key, by } => tracing::info!(
            target: TARGET, event = "unlock", request_id, source, scope, key, by, "unlocked"
        ),
        AuditEvent::Logout { subject, session } => tracing::info!(
            target: TARGET, event = "logout", request_id, source, subject, session, "logout"
        ),
        AuditEvent::SessionRevoked {
            subject,
            session,
            by,
        } => tracing::info!(
            target: TARGET, event = "session_revoked", request_id, source, subject, session, by,
            "session revoked"
        ),
        AuditEvent::KeyChanged { change, kid, by } => tracing::info!(
            target: TARGET, event = change.event(), request_id, source, kid, by,
            "signing keys changed"
        ),
        AuditEvent::ClientChanged {
            change,
            client,
            app,
            by,
        } => tracing::info!(
            target: TARGET, event = change.event(), request_id, source, client, app, by,
            "oidc clients changed"
        ),
        AuditEvent::DirectoryChanged {
            change,
            user,
            subject,
            group,
            by,
        } => tracing::info!(
            target: TARGET, event = change.event(), request_id, source, user, subject, group, by,
            "directory changed"
        ),
        AuditEvent::SecondFactor {
            event,
            username,
            kind,
            detail,
        } => tracing::info!(
            target: TARGET, event = event.event(), request_id, source, username, kind, detail,
            "second factor"
        ),
        AuditEvent::IdentityChanged {
            subject,
            session,
            added,
            removed,
        } => tracing::info!(
            target: TARGET, event = "identity_changed", request_id, source, subject, session,
            added, removed, "identity refreshed from the directory"
        ),
        AuditEvent::IdentityStale {
            subject,
            session,
            due_since,
        } => tracing::info!(
            target: TARGET, event = "identity_stale", request_id, source, subject, session,
            due_since, "session refused: the directory did not answer past the refresh grace"
        ),
        AuditEvent::AccessDenied {
            subject,
            app,
            method,
            path,
            decision,
            rule,
        } => tracing::info!(
            target: TARGET, event = "access_denied", request_id, source,
            subject = subject.unwrap_or(""), app, method, path, decision, rule, "access denied"
        ),
        AuditEvent::PolicyImpact {
            changed,
            trigger,
            directory,
            people_checked,
            people_not_checked,
            gains,
            losses,
            apps,
            clients,
        } => tracing::info!(
            target: TARGET, event = "policy_impact", request_id, source, changed, trigger,
            directory, people_checked, people_not_checked, gains, losses, apps, clients,
            "who gains and loses which app"
        ),
    }
}
