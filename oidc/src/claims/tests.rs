use pforte_policy::{AuthMethod, LoginStrength};
use serde_json::{Value, json};

use super::*;
use crate::acr::{ACR_MFA, ACR_PASSWORD};
use crate::code::Authentication;
use crate::refresh::RefreshFamily;
use crate::scope::{Scope, Scopes};
use crate::testing::{ISSUER, clients};

const T: u64 = 1_800_000_000;

fn salt() -> PairwiseSalt {
    PairwiseSalt::new(b"pepper".to_vec())
}

fn at(salt: &PairwiseSalt) -> Issue<'_> {
    Issue {
        issuer: ISSUER,
        salt,
        now: T,
    }
}

fn auth(login: LoginStrength) -> Authentication {
    let methods = match login {
        LoginStrength::Password => vec![AuthMethod::Password],
        LoginStrength::Mfa => vec![AuthMethod::Password, AuthMethod::Totp],
    };
    Authentication {
        sid: "sid-1".into(),
        subject: "uuid-alice".into(),
        auth_time: T - 30,
        login,
        methods,
    }
}

fn alice() -> Person {
    Person {
        username: "alice".into(),
        name: Some("Alice Liddell".into()),
        email: Some("alice@example.org".into()),
        email_verified: true,
        groups: vec!["staff".into(), "docs-editors".into()],
    }
}

fn scopes(s: &str) -> Scopes {
    Scopes::parse(s).unwrap()
}

#[test]
fn id_token_carries_the_login_and_the_scoped_profile() {
    let c = clients();
    let cli = c.get("cli").unwrap();
    let salt = salt();
    let claims = id_token_claims(
        at(&salt),
        cli,
        &auth(LoginStrength::Mfa),
        &alice(),
        scopes("openid profile"),
        Some("n-1"),
    );
    let v = serde_json::to_value(&claims).unwrap();
    assert_eq!(
        v,
        json!({
            "iss": ISSUER, "sub": "uuid-alice", "aud": "cli", "exp": T + 300, "iat": T,
            "auth_time": T - 30, "nonce": "n-1", "acr": ACR_MFA, "amr": ["pwd", "otp", "mfa"],
            "sid": "sid-1", "name": "Alice Liddell", "preferred_username": "alice"
        })
    );
}

#[test]
fn each_scope_releases_only_its_claims() {
    let p = alice();
    let none = serde_json::to_value(userinfo_claims("s", &p, scopes("openid"))).unwrap();
    assert_eq!(none, json!({"sub": "s"}));
    let email = serde_json::to_value(userinfo_claims("s", &p, scopes("openid email"))).unwrap();
    assert_eq!(
        email,
        json!({"sub": "s", "email": "alice@example.org", "email_verified": true})
    );
    let groups = serde_json::to_value(userinfo_claims("s", &p, scopes("openid groups"))).unwrap();
    assert_eq!(
        groups,
        json!({"sub": "s", "groups": ["staff", "docs-editors"]})
    );
    let no_mail = Person {
        email: None,
        ..alice()
    };
    let v = serde_json::to_value(userinfo_claims("s", &no_mail, scopes("openid email"))).unwrap();
    assert_eq!(v, json!({"sub": "s"}));
}

#[test]
fn pairwise_subjects_differ_per_client_and_salt_and_are_stable() {
    let c = clients();
    let nc = c.get("nextcloud").unwrap();
    let mut other = nc.clone();
    other.id = "openproject".into();
    let s1 = subject_for(nc, "uuid-alice", &salt());
    assert_eq!(s1, subject_for(nc, "uuid-alice", &salt()));
    assert_ne!(s1, "uuid-alice");
    assert_ne!(s1, subject_for(&other, "uuid-alice", &salt()));
    assert_ne!(s1, subject_for(nc, "uuid-bob", &salt()));
    assert_ne!(
        s1,
        subject_for(nc, "uuid-alice", &PairwiseSalt::new(b"other".to_vec()))
    );
    assert_eq!(
        subject_for(c.get("cli").unwrap(), "uuid-alice", &salt()),
        "uuid-alice"
    );
    assert!(!format!("{:?}", salt()).contains("pepper"));
    // The ID token, userinfo and logout token of a pairwise client agree on `sub`.
    let salt = salt();
    let id = id_token_claims(
        at(&salt),
        nc,
        &auth(LoginStrength::Password),
        &alice(),
        scopes("openid"),
        None,
    );
    assert_eq!(id.sub, s1);
    assert_eq!(
        logout_token_claims(at(&salt), nc, &auth(LoginStrength::Password), [0; 16]).sub,
        s1
    );
}

#[test]
fn access_tokens_follow_rfc9068() {
    let c = clients();
    let nc = c.get("nextcloud").unwrap();
    let salt = salt();
    let claims = access_token_claims(
        at(&salt),
        nc,
        &auth(LoginStrength::Password),
        scopes("openid email"),
        [9; 16],
    );
    let v = serde_json::to_value(&claims).unwrap();
    for field in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "client_id",
        "scope",
    ] {
        assert!(v.get(field).is_some(), "{field} missing");
    }
    assert_eq!(v["scope"], "openid email");
    assert_eq!(v["exp"], T + 120);
    assert_eq!(v["client_id"], "nextcloud");
    let back: AccessTokenClaims = serde_json::from_value(v).unwrap();
    assert_eq!(back, claims);

    let job = c.get("backup-job").unwrap();
    let service = service_token_claims(at(&salt), job, Scopes::EMPTY, [8; 16]);
    assert_eq!(service.sub, "backup-job");
    assert_eq!(service.sid, None);
    assert_ne!(service.jti, claims.jti);
}

#[test]
fn introspection_is_active_only_for_live_tokens() {
    let c = clients();
    let nc = c.get("nextcloud").unwrap();
    let salt = salt();
    let claims = access_token_claims(
        at(&salt),
        nc,
        &auth(LoginStrength::Password),
        scopes("openid"),
        [9; 16],
    );
    let live = serde_json::to_value(Introspection::access_token(&claims, false, T + 1)).unwrap();
    assert_eq!(live["active"], true);
    assert_eq!(live["token_type"], "Bearer");
    assert_eq!(live["scope"], "openid");
    let inactive = json!({"active": false});
    for dead in [
        Introspection::access_token(&claims, true, T + 1),
        Introspection::access_token(&claims, false, claims.exp),
        Introspection::inactive(),
    ] {
        assert_eq!(serde_json::to_value(dead).unwrap(), inactive);
    }

    let (family, _) = RefreshFamily::start(
        nc,
        auth(LoginStrength::Password),
        scopes("openid"),
        [1; 16],
        [2; 32],
        T,
    );
    let r =
        serde_json::to_value(Introspection::refresh_token(Some(&family), true, "s", T)).unwrap();
    assert_eq!(r["active"], true);
    assert_eq!(r.get("token_type"), None);
    for dead in [
        Introspection::refresh_token(Some(&family), false, "s", T),
        Introspection::refresh_token(Some(&family.revoke()), true, "s", T),
        Introspection::refresh_token(None, true, "s", T),
    ] {
        assert_eq!(serde_json::to_value(dead).unwrap(), inactive);
    }
}

#[test]
fn logout_tokens_follow_backchannel_logout() {
    let c = clients();
    let cli = c.get("cli").unwrap();
    let salt = salt();
    let v: Value = serde_json::to_value(logout_token_claims(
        at(&salt),
        cli,
        &auth(LoginStrength::Password),
        [3; 16],
    ))
    .unwrap();
    assert_eq!(
        v["events"],
        json!({"http://schemas.openid.net/event/backchannel-logout": {}})
    );
    assert_eq!(v["sid"], "sid-1");
    assert_eq!(v["sub"], "uuid-alice");
    assert_eq!(v["aud"], "cli");
    assert_eq!(v["iat"], T);
    assert!(v.get("nonce").is_none());
    assert!(v["jti"].as_str().is_some_and(|j| !j.is_empty()));
}

#[test]
fn acr_and_amr_follow_the_session() {
    let salt = salt();
    let c = clients();
    let nc = c.get("nextcloud").unwrap();
    let password = id_token_claims(
        at(&salt),
        nc,
        &auth(LoginStrength::Password),
        &alice(),
        scopes("openid"),
        None,
    );
    assert_eq!(
        (password.acr.as_str(), password.amr.as_slice()),
        (ACR_PASSWORD, &["pwd".to_owned()][..])
    );
    let mut old = auth(LoginStrength::Password);
    old.methods.clear();
    let from_old_record = id_token_claims(at(&salt), nc, &old, &alice(), scopes("openid"), None);
    assert_eq!(
        from_old_record.amr,
        ["pwd"],
        "a record without methods reads as a password"
    );
    let old_json = r#"{"sid":"s","subject":"u","auth_time":1,"login":"password"}"#;
    let read: Authentication = serde_json::from_str(old_json).unwrap();
    assert!(read.methods.is_empty());
}

#[test]
fn bearer_tokens_are_checked_for_issuer_expiry_revocation_and_scope() {
    let c = clients();
    let nc = c.get("nextcloud").unwrap();
    let salt = salt();
    let claims = access_token_claims(
        at(&salt),
        nc,
        &auth(LoginStrength::Password),
        scopes("openid email"),
        [9; 16],
    );
    assert_eq!(
        claims.check_bearer(ISSUER, Scope::Openid, false, T + 1),
        Ok(())
    );
    for (issuer, revoked, now) in [
        ("https://evil.example.net", false, T + 1),
        (ISSUER, true, T + 1),
        (ISSUER, false, claims.exp),
    ] {
        let err = claims
            .check_bearer(issuer, Scope::Openid, revoked, now)
            .unwrap_err();
        assert_eq!(
            err.code,
            crate::error::ErrorCode::InvalidToken,
            "{issuer} {revoked} {now}"
        );
    }
    let err = claims
        .check_bearer(ISSUER, Scope::Groups, false, T + 1)
        .unwrap_err();
    assert_eq!(err.code, crate::error::ErrorCode::InsufficientScope);
}

#[test]
fn at_hash_is_the_left_half_of_the_algorithms_hash() {
    use openidconnect::core::CoreJwsSigningAlgorithm as Alg;
    // OIDC Core's example (A.3): RS256 over this access token.
    let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
    assert_eq!(
        at_hash(token, &Alg::RsaSsaPkcs1V15Sha256).as_deref(),
        Some("77QmUPtjPfzWtF2AnpK9RQ")
    );
    assert_eq!(
        at_hash(token, &Alg::EcdsaP256Sha256),
        at_hash(token, &Alg::RsaSsaPkcs1V15Sha256)
    );
    assert_eq!(at_hash(token, &Alg::EdDsa).map(|h| h.len()), Some(43));
    assert_eq!(at_hash(token, &Alg::None), None);
}
