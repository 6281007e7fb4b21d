use std::path::Path;

use pforte_policy::{AuthMethod, LoginStrength};
use serde_json::json;

use super::*;
use crate::claims::{Actor, Introspection, PairwiseSalt, access_token_claims};
use crate::clients::{GrantType, cheap_hash};
use crate::code::Authentication;
use crate::testing::{ISSUER, sample};
use crate::token::TokenRequest;

const T: u64 = 1_800_000_000;
const SUBJECT_TYPE: &str = "urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token";
const GRANT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange";

/// The sample clients, plus `docs` (which may exchange for `files-api` and `nextcloud`) and
/// `files-api` (which may exchange for `reports`, for chains).
fn clients() -> Clients {
    let hash = cheap_hash("x");
    let text = format!(
        r#"{}
[[client]]
id = "docs"
app = "docs"
secret_hash = "{hash}"
redirect_uris = ["https://docs.example.org/cb"]
scopes = ["openid", "profile", "email", "offline_access"]
grant_types = ["authorization_code", "refresh_token", "token_exchange"]
exchange_audiences = ["files-api", "nextcloud"]

[[client]]
id = "files-api"
app = "files"
secret_hash = "{hash}"
scopes = ["openid", "profile", "groups", "offline_access"]
grant_types = ["token_exchange"]
exchange_audiences = ["reports"]
access_token_seconds = 600

[[client]]
id = "reports"
app = "reports"
secret_hash = "{hash}"
scopes = ["openid", "profile"]
grant_types = ["client_credentials"]
access_token_seconds = 60
"#,
        sample()
    );
    Clients::parse(Path::new("clients.toml"), &text).unwrap()
}

fn salt() -> PairwiseSalt {
    PairwiseSalt::new(b"pepper".to_vec())
}

fn at(salt: &PairwiseSalt, now: u64) -> Issue<'_> {
    Issue {
        issuer: ISSUER,
        salt,
        now,
    }
}

fn scopes(s: &str) -> Scopes {
    Scopes::parse(s).unwrap()
}

/// alice's access token for `docs`, issued at `T` (it lives 300 s).
fn docs_token(c: &Clients, salt: &PairwiseSalt) -> AccessTokenClaims {
    let auth = Authentication {
        sid: "sid-1".into(),
        subject: "uuid-alice".into(),
        auth_time: T - 30,
        login: LoginStrength::Password,
        methods: vec![AuthMethod::Password],
    };
    let docs = c.get("docs").unwrap();
    access_token_claims(
        at(salt, T),
        docs,
        &auth,
        scopes("openid profile email offline_access"),
        [1; 16],
    )
}

fn parse(body: &str) -> Result<TokenRequest, ProtocolError> {
    TokenRequest::parse(&Params::parse_urlencoded(body))
}

fn exchange_body(extra: &str) -> String {
    format!("grant_type={GRANT}&subject_token=a.b.c&subject_token_type={SUBJECT_TYPE}{extra}")
}

#[test]
fn parses_an_exchange_with_its_rfc_names() {
    let req = parse(&exchange_body("&audience=files-api&scope=openid")).unwrap();
    assert_eq!(req.grant_type(), GrantType::TokenExchange);
    let TokenRequest::TokenExchange(exchange) = req else {
        panic!("expected a token exchange")
    };
    assert_eq!(exchange.audience, "files-api");
    assert_eq!(exchange.scope, Some(scopes("openid")));
    assert_eq!(exchange.subject_token.expose(), "a.b.c");
    assert!(
        !format!("{exchange:?}").contains("a.b.c"),
        "the subject token stays out of Debug output"
    );
    let explicit = exchange_body(
        "&audience=files-api&requested_token_type=urn:ietf:params:oauth:token-type:access_token",
    );
    assert!(parse(&explicit).is_ok());
}

#[test]
fn refuses_malformed_exchanges_naming_the_field() {
    let id_token_type = "urn:ietf:params:oauth:token-type:id_token";
    for (body, code, field) in [
        (
            format!("grant_type={GRANT}&subject_token_type={SUBJECT_TYPE}&audience=files-api"),
            ErrorCode::InvalidRequest,
            "subject_token is required",
        ),
        (
            format!("grant_type={GRANT}&subject_token=a.b.c&audience=files-api"),
            ErrorCode::InvalidRequest,
            "subject_token_type is required",
        ),
        (
            format!(
                "grant_type={GRANT}&subject_token=a.b.c&subject_token_type={id_token_type}&audience=files-api"
            ),
            ErrorCode::InvalidRequest,
            "subject_token_type must be",
        ),
        (
            exchange_body(""),
            ErrorCode::InvalidRequest,
            "audience is required",
        ),
        (
            exchange_body("&audience=files-api&actor_token=x.y.z&actor_token_type=x"),
            ErrorCode::InvalidRequest,
            "actor_token is not supported",
        ),
        (
            exchange_body("&audience=files-api&actor_token_type=x"),
            ErrorCode::InvalidRequest,
            "actor_token is not supported",
        ),
        (
            exchange_body(
                "&audience=files-api&requested_token_type=urn:ietf:params:oauth:token-type:refresh_token",
            ),
            ErrorCode::InvalidRequest,
            "requested_token_type must be",
        ),
        (
            exchange_body("&audience=files-api&resource=https://files.example.org/"),
            ErrorCode::InvalidTarget,
            "resource is not supported",
        ),
        (
            exchange_body("&audience=files-api&audience=reports"),
            ErrorCode::InvalidRequest,
            "more than once",
        ),
        (
            exchange_body("&audience=files-api&scope=admin"),
            ErrorCode::InvalidScope,
            "unknown scope",
        ),
        (
            // The clients.toml name is not the wire name.
            "grant_type=token_exchange&subject_token=a".to_owned(),
            ErrorCode::UnsupportedGrantType,
            "token-exchange",
        ),
    ] {
        let err = parse(&body).unwrap_err();
        assert_eq!(err.code, code, "{body}");
        assert!(err.description.contains(field), "{body}: {err}");
    }
}

#[test]
fn only_clients_with_the_grant_may_exchange() {
    let c = clients();
    let req = parse(&exchange_body("&audience=files-api")).unwrap();
    assert!(req.check_client(c.get("docs").unwrap()).is_ok());
    for other in ["nextcloud", "backup-job", "reports"] {
        let err = req.check_client(c.get(other).unwrap()).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnauthorizedClient, "{other}");
        assert!(err.description.contains("token_exchange"), "{err}");
    }
}

#[test]
fn the_target_must_be_in_the_actors_list() {
    let c = clients();
    let docs = c.get("docs").unwrap();
    assert_eq!(target_of(docs, &c, "files-api").unwrap().id, "files-api");
    assert_eq!(target_of(docs, &c, "nextcloud").unwrap().id, "nextcloud");
    for (actor, audience) in [
        ("docs", "reports"),
        ("docs", "docs"),
        ("docs", "nobody"),
        ("files-api", "docs"),
        ("nextcloud", "files-api"),
    ] {
        let err = target_of(c.get(actor).unwrap(), &c, audience).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidTarget, "{actor} -> {audience}");
    }
}

#[test]
fn the_subject_token_must_be_the_actors_own_live_person_token() {
    let c = clients();
    let salt = salt();
    let docs = c.get("docs").unwrap();
    let good = docs_token(&c, &salt);
    assert_eq!(
        check_subject(&good, docs, ISSUER, false, T + 1),
        Ok("sid-1")
    );

    let other_issuer = AccessTokenClaims {
        iss: "https://evil.example.org".into(),
        ..good.clone()
    };
    let of_nextcloud = AccessTokenClaims {
        aud: "nextcloud".into(),
        client_id: "nextcloud".into(),
        ..good.clone()
    };
    let no_person = AccessTokenClaims {
        sid: None,
        ..good.clone()
    };
    let chain = (0..MAX_ACTORS).fold(None, |act, i| {
        Some(Actor {
            sub: format!("hop-{i}"),
            act: act.map(Box::new),
        })
    });
    let long_chain = AccessTokenClaims {
        act: chain,
        ..good.clone()
    };
    for (claims, revoked, now, why) in [
        (
            &other_issuer,
            false,
            T + 1,
            "was not issued by this provider",
        ),
        (&good, false, good.exp, "has expired"),
        (&good, true, T + 1, "was revoked"),
        (&of_nextcloud, false, T + 1, "was issued to another client"),
        (&no_person, false, T + 1, "names no person"),
        (&long_chain, false, T + 1, "too long a chain"),
    ] {
        let err = check_subject(claims, docs, ISSUER, revoked, now).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest, "{why}");
        assert!(err.description.starts_with("subject_token "), "{err}");
        assert!(err.description.contains(why), "{err}");
    }
}

#[test]
fn scopes_narrow_to_the_subjects_and_the_targets_never_offline() {
    let c = clients();
    let files = c.get("files-api").unwrap();
    let subject = scopes("openid profile email offline_access");
    assert_eq!(
        granted_scopes(subject, files, None).unwrap(),
        scopes("openid profile"),
        "email is not the target's, offline_access never"
    );
    assert_eq!(
        granted_scopes(subject, files, Some(scopes("profile"))).unwrap(),
        scopes("profile")
    );
    for (requested, why) in [
        (
            "openid groups",
            "groups is the target's but not the subject's",
        ),
        (
            "openid email",
            "email is the subject's but not the target's",
        ),
        (
            "openid offline_access",
            "an exchanged token is not refreshed",
        ),
    ] {
        let err = granted_scopes(subject, files, Some(scopes(requested))).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope, "{why}");
    }
    let err = granted_scopes(scopes("email"), files, None).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidScope, "nothing shared");
}

#[test]
fn the_new_token_is_the_persons_for_the_target_with_the_actor() {
    let c = clients();
    let salt = salt();
    let subject = docs_token(&c, &salt);
    let now = T + 100;
    let exchange = Exchanged {
        actor: c.get("docs").unwrap(),
        target: c.get("files-api").unwrap(),
        subject: &subject,
        person: "uuid-alice",
        scopes: scopes("openid profile"),
    };
    let claims = exchanged(at(&salt, now), &exchange, [9; 16]).unwrap();
    let v = serde_json::to_value(&claims).unwrap();
    assert_eq!(
        v,
        json!({
            "iss": ISSUER, "sub": "uuid-alice", "aud": "files-api", "client_id": "files-api",
            "exp": subject.exp, "iat": now, "jti": v["jti"], "scope": "openid profile",
            "auth_time": T - 30, "sid": "sid-1", "act": {"sub": "docs"}
        }),
        "files-api would give 600 s; the subject token ends at {}",
        subject.exp
    );
    assert_ne!(claims.jti, subject.jti);
}

#[test]
fn a_pairwise_target_sees_its_own_sub_and_a_short_lived_one_its_own_life() {
    let c = clients();
    let salt = salt();
    let subject = docs_token(&c, &salt);
    let nextcloud = c.get("nextcloud").unwrap();
    let exchange = Exchanged {
        actor: c.get("docs").unwrap(),
        target: nextcloud,
        subject: &subject,
        person: "uuid-alice",
        scopes: scopes("openid"),
    };
    let claims = exchanged(at(&salt, T), &exchange, [9; 16]).unwrap();
    assert_eq!(claims.sub, subject_for(nextcloud, "uuid-alice", &salt));
    assert_ne!(
        claims.sub, "uuid-alice",
        "nextcloud's subjects are pairwise"
    );
    assert_eq!(
        claims.exp,
        T + 120,
        "nextcloud's 120 s end before the subject's 300"
    );
}

#[test]
fn a_chain_of_exchanges_nests_the_earlier_actors() {
    let c = clients();
    let salt = salt();
    let subject = docs_token(&c, &salt);
    let first = exchanged(
        at(&salt, T),
        &Exchanged {
            actor: c.get("docs").unwrap(),
            target: c.get("files-api").unwrap(),
            subject: &subject,
            person: "uuid-alice",
            scopes: scopes("openid profile"),
        },
        [2; 16],
    )
    .unwrap();
    let files = c.get("files-api").unwrap();
    assert_eq!(
        check_subject(&first, files, ISSUER, false, T + 1),
        Ok("sid-1")
    );
    let second = exchanged(
        at(&salt, T + 1),
        &Exchanged {
            actor: files,
            target: c.get("reports").unwrap(),
            subject: &first,
            person: "uuid-alice",
            scopes: scopes("openid"),
        },
        [3; 16],
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&second.act).unwrap(),
        json!({"sub": "files-api", "act": {"sub": "docs"}}),
        "the current actor outermost (RFC 8693 §4.1)"
    );
    assert_eq!(second.aud, "reports");
    assert_eq!(second.exp, T + 1 + 60, "reports' own 60 s");
    let shown = serde_json::to_value(Introspection::access_token(&second, false, T + 2)).unwrap();
    assert_eq!(
        shown["act"],
        json!({"sub": "files-api", "act": {"sub": "docs"}})
    );
    let plain = serde_json::to_value(Introspection::access_token(&subject, false, T)).unwrap();
    assert!(
        plain.get("act").is_none(),
        "no act on a token nobody exchanged"
    );
}

#[test]
fn a_session_of_another_person_is_refused() {
    let c = clients();
    let salt = salt();
    let subject = docs_token(&c, &salt);
    let exchange = Exchanged {
        actor: c.get("docs").unwrap(),
        target: c.get("files-api").unwrap(),
        subject: &subject,
        person: "uuid-bob",
        scopes: scopes("openid"),
    };
    let err = exchanged(at(&salt, T), &exchange, [9; 16]).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert!(err.description.starts_with("subject_token"), "{err}");
}
