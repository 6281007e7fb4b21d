use std::path::Path;

use super::secret::tests::cheap_hash;
use super::*;
use crate::error::ErrorCode;
use crate::params::Params;
use crate::scope::Scope;
use crate::testing::clients;

fn problems(text: &str) -> Vec<String> {
    Clients::parse(Path::new("clients.toml"), text)
        .unwrap_err()
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn loads_a_valid_file_with_defaults() {
    let c = clients();
    assert_eq!(c.len(), 3);
    let nc = c.get("nextcloud").unwrap();
    assert!(!nc.is_public());
    assert!(nc.allows(GrantType::RefreshToken));
    assert!(nc.scopes.contains(Scope::Groups));
    assert!(nc.pairwise_subject);
    assert_eq!(nc.lifetimes.access_token, 120);
    assert_eq!(nc.lifetimes.id_token, Lifetimes::default().id_token);
    assert_eq!(nc.app_place.to_string(), "clients.toml:4:7");
    let cli = c.get("cli").unwrap();
    assert!(cli.is_public());
    assert_eq!(cli.grant_types, vec![GrantType::AuthorizationCode]);
    assert!(
        c.get("backup-job")
            .unwrap()
            .allows(GrantType::ClientCredentials)
    );
}

#[test]
fn reports_every_problem_with_its_place() {
    let text = r#"[[client]]
id = "a"
app = "docs"
public = true
redirect_uris = ["http://cloud.example.org/cb", "https://*.example.org/cb"]
scopes = ["openid", "admin"]

[[client]]
id = "b"
app = "docs"
secret_hash = "plain-secret"
redirect_uris = ["https://b.example.org/cb#x"]
scopes = ["profile"]
grant_types = ["authorization_code", "password"]
"#;
    let found = problems(text);
    let expect = [
        "clients.toml:5:18: \"http://cloud.example.org/cb\" uses http on a non-loopback host",
        "clients.toml:5:49: \"https://*.example.org/cb\" contains a wildcard",
        "clients.toml:6:21: unknown scope \"admin\"",
        "clients.toml:11:15: secret_hash is not a PHC string",
        "clients.toml:14:38: unknown grant type \"password\"",
        "clients.toml:9:6: scopes must include \"openid\"",
        "clients.toml:12:18: \"https://b.example.org/cb#x\" has a fragment",
    ];
    for e in expect {
        assert!(
            found.iter().any(|f| f.starts_with(e)),
            "missing {e} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn refuses_unknown_fields_and_plain_secrets() {
    let found = problems("[[client]]\nid = \"a\"\napp = \"x\"\nsecret = \"hunter2\"\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("clients.toml:"), "{found:?}");
    assert!(found[0].contains("unknown field `secret`"), "{found:?}");
}

#[test]
fn refuses_inconsistent_clients() {
    let hash = cheap_hash("x");
    let text = format!(
        r#"[[client]]
id = "dup"
app = "a"
public = true
redirect_uris = ["https://a.example.org/cb"]
scopes = ["openid"]
grant_types = ["client_credentials"]

[[client]]
id = "dup"
app = "a"
public = true
redirect_uris = ["https://a.example.org/cb"]
scopes = ["openid"]

[[client]]
id = "neither"
app = "a"
scopes = ["openid"]
redirect_uris = ["https://a.example.org/cb"]

[[client]]
id = "both"
app = "a"
public = true
secret_hash = "{hash}"
scopes = ["openid"]
redirect_uris = ["https://a.example.org/cb"]

[[client]]
id = "nouri"
app = "a"
public = true
scopes = ["openid"]
grant_types = ["authorization_code", "refresh_token"]
backchannel_logout_uri = "http://127.0.0.1/logout"
access_token_seconds = 0
"#
    );
    let found = problems(&text).join("\n");
    for e in [
        "client_credentials needs a confidential client",
        "set secret_hash",
        "not both",
        "has no redirect_uris",
        "must use https",
        "must be between 1 and 86400 seconds",
    ] {
        assert!(found.contains(e), "missing {e} in {found}");
    }
    assert!(!found.contains("registered twice"), "{found}");
    let dup = "[[client]]\nid = \"d\"\napp = \"a\"\npublic = true\nredirect_uris = [\"https://a.example.org/cb\"]\nscopes = [\"openid\"]\n";
    let found = problems(&format!("{dup}{dup}"));
    assert_eq!(
        found,
        ["clients.toml:8:6: client id \"d\" is registered twice"]
    );
}

#[test]
fn native_apps_register_their_own_private_use_scheme() {
    let native = |id: &str, uri: &str| {
        format!(
            "[[client]]\nid = \"{id}\"\napp = \"a\"\npublic = true\nredirect_uris = [\"{uri}\"]\nscopes = [\"openid\"]\n\n"
        )
    };
    let loaded = Clients::parse(
        Path::new("clients.toml"),
        &native("mobile", "de.example.app:/callback"),
    )
    .unwrap();
    let mobile = loaded.get("mobile").unwrap();
    assert!(mobile.has_redirect_uri("de.example.app:/callback"));
    assert!(!mobile.has_redirect_uri("de.example.app:/callback/"));
    assert!(!mobile.has_redirect_uri("De.example.app:/callback"));
    assert_eq!(
        mobile.web_origins().count(),
        0,
        "a private-use scheme is no web origin"
    );

    let found = problems(&format!(
        "{}{}",
        native("mobile", "de.example.app:/callback"),
        native("copycat", "de.example.app:/other")
    ));
    assert_eq!(
        found,
        [
            "clients.toml:12:18: the scheme \"de.example.app\" is already client \"mobile\"'s; \
          each native app needs its own private-use scheme"
        ]
    );

    let hash = cheap_hash("x");
    let confidential = format!(
        "[[client]]\nid = \"web\"\napp = \"a\"\nsecret_hash = \"{hash}\"\nredirect_uris = [\"de.example.web:/cb\"]\nscopes = [\"openid\"]\n"
    );
    let found = problems(&confidential).join("\n");
    assert!(found.contains("set public = true"), "{found}");
}

#[test]
fn a_client_with_keys_authenticates_by_assertion_only() {
    let jwks = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
    let entry = |auth: &str| {
        format!(
            "[[client]]\nid = \"batch\"\napp = \"a\"\n{auth}\ngrant_types = [\"client_credentials\"]\n"
        )
    };
    let inline = Clients::parse(
        Path::new("clients.toml"),
        &entry(&format!("jwks = '{jwks}'")),
    )
    .unwrap();
    let batch = inline.get("batch").unwrap();
    assert!(
        matches!(&batch.client_type, ClientType::KeyHolder(k) if matches!(**k, ClientKeys::Inline(_)))
    );
    let secret = PresentedCredentials {
        client_id: "batch".into(),
        secret: Some("anything".into()),
    };
    assert!(inline.authenticate(&secret).is_err(), "no secret opens it");
    let none = PresentedCredentials {
        client_id: "batch".into(),
        secret: None,
    };
    assert!(inline.authenticate(&none).is_err(), "nor none");

    let remote = Clients::parse(
        Path::new("clients.toml"),
        &entry("jwks_uri = \"https://batch.example.org/jwks.json\""),
    )
    .unwrap();
    assert_eq!(
        remote.get("batch").unwrap().client_type,
        ClientType::KeyHolder(Box::new(ClientKeys::Remote(
            "https://batch.example.org/jwks.json".into()
        )))
    );

    for (auth, expected) in [
        (
            "jwks_uri = \"http://batch.example.org/jwks.json\"".to_owned(),
            "clients.toml:4:12: jwks_uri \"http://batch.example.org/jwks.json\" must be an https URL",
        ),
        (
            "jwks = '{\"keys\":[]}'".to_owned(),
            "clients.toml:4:8: jwks has no keys",
        ),
        (
            format!("jwks = '{jwks}'\npublic = true"),
            "clients.toml:2:6: a client authenticates one way, not both",
        ),
    ] {
        let found = problems(&entry(&auth)).join("\n");
        assert!(found.starts_with(expected), "{auth}: {found}");
    }
}

#[test]
fn load_reports_a_missing_file() {
    let err = Clients::load(Path::new("/nonexistent/clients.toml")).unwrap_err();
    assert!(err.to_string().contains("cannot read the clients file"));
}

fn creds(id: &str, secret: Option<&str>) -> PresentedCredentials {
    PresentedCredentials {
        client_id: id.into(),
        secret: secret.map(Into::into),
    }
}

#[test]
fn authenticates_confidential_and_public_clients() {
    let c = clients();
    assert_eq!(
        c.authenticate(&creds("nextcloud", Some("nc-secret")))
            .unwrap()
            .id,
        "nextcloud"
    );
    assert_eq!(c.authenticate(&creds("cli", None)).unwrap().id, "cli");
    for bad in [
        creds("nextcloud", Some("wrong")),
        creds("nextcloud", None),
        creds("nextcloud", Some("job-secret")),
        creds("cli", Some("anything")),
        creds("nobody", Some("nc-secret")),
        creds("nobody", None),
    ] {
        let err = c.authenticate(&bad).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidClient, "{bad:?}");
    }
}

#[test]
fn combines_basic_header_and_form_credentials() {
    let basic = BasicCredentials::parse("Basic bmV4dGNsb3VkOm5jLXNlY3JldA==").unwrap();
    assert_eq!(basic.client_id, "nextcloud");
    assert_eq!(basic.secret, "nc-secret");
    assert!(!format!("{basic:?}").contains("nc-secret"));
    let from_basic = PresentedCredentials::from_request(Some(basic.clone()), &Params::default());
    assert_eq!(from_basic.unwrap(), creds("nextcloud", Some("nc-secret")));

    let post = Params::parse_urlencoded("client_id=nextcloud&client_secret=nc-secret");
    let from_post = PresentedCredentials::from_request(None, &post).unwrap();
    assert_eq!(from_post, creds("nextcloud", Some("nc-secret")));
    assert!(!format!("{from_post:?}").contains("nc-secret"));

    let both = PresentedCredentials::from_request(Some(basic.clone()), &post).unwrap_err();
    assert_eq!(both.code, ErrorCode::InvalidRequest);
    let other_id = Params::parse_urlencoded("client_id=cli");
    let mismatch = PresentedCredentials::from_request(Some(basic), &other_id).unwrap_err();
    assert_eq!(mismatch.code, ErrorCode::InvalidRequest);
    let none = PresentedCredentials::from_request(None, &Params::default()).unwrap_err();
    assert_eq!(none.code, ErrorCode::InvalidClient);
}

#[test]
fn basic_credentials_are_form_decoded() {
    // "a%3Ab:p%25w" is client id "a:b" and secret "p%w", form-encoded then base64.
    let header = "basic YSUzQWI6cCUyNXc=";
    let b = BasicCredentials::parse(header).unwrap();
    assert_eq!((b.client_id.as_str(), b.secret.as_str()), ("a:b", "p%w"));
    // Unencoded '&' and '=' (sent by clients that skip the encoding) survive.
    let raw = BasicCredentials::parse("Basic aWQ6YSZiPWM=").unwrap();
    assert_eq!(raw.secret, "a&b=c");
    assert!(BasicCredentials::parse("Bearer abc").is_none());
    assert!(BasicCredentials::parse("Basic !!!").is_none());
}

#[test]
fn web_origins_come_from_the_redirect_uris() {
    let mut client = clients().get("cli").unwrap().clone();
    client.redirect_uris = vec![
        "https://Cloud.Example.org:443/apps/oidc/callback?x=1".into(),
        "http://127.0.0.1:8765/callback".into(),
        "com.example.app:/callback".into(),
    ];
    let origins: Vec<String> = client.web_origins().collect();
    assert_eq!(
        origins,
        ["https://cloud.example.org", "http://127.0.0.1:8765"],
        "lower-cased host, default port dropped, no origin for a custom scheme"
    );
}

/// A confidential client entry with the given extra lines.
fn service(id: &str, extra: &str) -> String {
    format!(
        "[[client]]\nid = \"{id}\"\napp = \"a\"\nsecret_hash = \"{}\"\nscopes = [\"openid\"]\n{extra}\n",
        cheap_hash("x")
    )
}

#[test]
fn exchange_audiences_name_the_clients_a_client_may_exchange_for() {
    let text = [
        service(
            "docs",
            "grant_types = [\"token_exchange\"]\nexchange_audiences = [\"files-api\", \"reports\"]",
        ),
        service("files-api", "grant_types = [\"client_credentials\"]"),
        service("reports", "grant_types = [\"client_credentials\"]"),
    ]
    .concat();
    let loaded = Clients::parse(Path::new("clients.toml"), &text).unwrap();
    let docs = loaded.get("docs").unwrap();
    assert_eq!(docs.grant_types, vec![GrantType::TokenExchange]);
    assert_eq!(docs.exchange_audiences, ["files-api", "reports"]);
    assert!(docs.may_exchange_for("files-api"));
    assert!(!docs.may_exchange_for("docs"));
    assert!(!docs.may_exchange_for("nobody"));
    let files = loaded.get("files-api").unwrap();
    assert!(files.exchange_audiences.is_empty());
    assert!(!files.may_exchange_for("docs"));
    assert_eq!(GrantType::TokenExchange.as_str(), "token_exchange");
    assert_eq!(
        GrantType::from_wire("urn:ietf:params:oauth:grant-type:token-exchange"),
        Some(GrantType::TokenExchange)
    );
    assert_eq!(GrantType::from_wire("token_exchange"), None);
    assert_eq!(
        GrantType::parse("token_exchange"),
        Some(GrantType::TokenExchange)
    );
}

#[test]
fn exchange_audiences_are_checked_with_their_places() {
    let text = [
        // line 1: names itself, an unknown client and one twice
        service(
            "docs",
            "grant_types = [\"token_exchange\"]\nexchange_audiences = [\"docs\", \"ghost\", \"files-api\", \"files-api\"]",
        ),
        // line 8: the grant without a list
        service("lonely", "grant_types = [\"token_exchange\"]"),
        // line 14: a list without the grant
        service(
            "listless",
            "grant_types = [\"client_credentials\"]\nexchange_audiences = [\"files-api\"]",
        ),
        // line 21: a target with problems of its own is not "unknown" to others
        service("files-api", "grant_types = [\"password\"]"),
        // line 27: a public client cannot be an actor
        "[[client]]\nid = \"spa\"\napp = \"a\"\npublic = true\nscopes = [\"openid\"]\n\
         grant_types = [\"token_exchange\"]\nexchange_audiences = [\"listless\"]\n"
            .to_owned(),
    ]
    .concat();
    let found = problems(&text);
    let expect = [
        "clients.toml:7:23: client \"docs\" cannot exchange tokens for itself",
        "clients.toml:7:31: \"ghost\" is not a client of this file",
        "clients.toml:7:53: \"files-api\" is listed twice",
        "clients.toml:9:6: client \"lonely\" uses token_exchange but has no exchange_audiences",
        "clients.toml:20:23: exchange_audiences needs \"token_exchange\" in grant_types",
        "clients.toml:26:16: unknown grant type \"password\"",
        "clients.toml:28:6: token_exchange needs a confidential client",
    ];
    for e in expect {
        assert!(
            found.iter().any(|f| f.starts_with(e)),
            "missing {e} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}
