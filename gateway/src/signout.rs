//! Ending a session: what the login host's logout and the OIDC provider's RP-initiated logout
//! (`end_session`) share, so neither has to reach into the other.

use http::{HeaderMap, header};
use pforte_session::StoreError;

use crate::login_host::LoginHost;
use crate::telemetry::audit::{self, AuditEvent};
use crate::visitor::Visitor;
use crate::web::cookies;

/// Ends the visitor's session in the store, so every replica and every app host refuses it
/// within the revocation bound and OIDC clients holding its tokens are told (back-channel
/// logout), and audits the logout.
pub async fn sign_out(host: &LoginHost<'_>, visitor: &Visitor) -> Result<(), StoreError> {
    let session = &visitor.session;
    host.sessions().revoke(&session.sid).await?;
    let sid = session.sid.to_string();
    audit::record(
        host.audit_context(),
        AuditEvent::Logout {
            subject: &session.subject,
            session: &sid,
        },
    );
    Ok(())
}

/// Clears the login host's session and form cookies (and the parent-domain one, if used).
pub fn clear_session_cookies(host: &LoginHost<'_>, headers: &mut HeaderMap) {
    headers.append(header::SET_COOKIE, cookies::clear(cookies::SESSION));
    headers.append(header::SET_COOKIE, cookies::clear(cookies::CSRF));
    if let Some(domain) = &host.config().portal.cookie_domain
        && let Some(cookie) = cookies::clear_for_domain(cookies::DOMAIN_SESSION, domain)
    {
        headers.append(header::SET_COOKIE, cookie);
    }
}
