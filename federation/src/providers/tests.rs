use std::path::Path;

use super::*;

/// A guest provider as the docs show it.
pub(crate) const GUEST: &str = r#"
[[idp]]
id = "partner"
name = "Partner ministry"
issuer = "https://idp.partner.example"
client_id = "pforte"
client_secret = { env = "PARTNER_SECRET" }
scopes = ["email", "openid", "profile", "groups"]
domains = ["Partner.Example"]
mode = "guest"

[idp.guest]
default_group = "guests"
[[idp.guest.rule]]
upstream = "partner-ministry/staff"
local = "partners"

[[idp]]
id = "land"
name = "Land portal"
issuer = "http://127.0.0.1:4000"
client_id = "pforte"
client_secret = { file = "secrets/land" }
mode = "link"
logout = false

[idp.link]
claim = "email"
match = "mail"
"#;

fn parse(text: &str) -> Result<Providers, ProvidersError> {
    Providers::parse(Path::new("/etc/pforte/idps.toml"), text, |_| Ok(()))
}

#[test]
fn the_documented_file_loads() {
    let providers = parse(GUEST).unwrap();
    let partner = providers.get("partner").unwrap();
    assert_eq!(partner.scopes, ["openid", "email", "profile", "groups"]);
    assert_eq!(partner.domains, ["partner.example"]);
    assert!(partner.logout);
    assert_eq!(partner.username_claim, "preferred_username");
    let land = providers.get("land").unwrap();
    assert_eq!(
        land.secret,
        SecretRef::File("/etc/pforte/secrets/land".into())
    );
    assert_eq!(land.scopes, ["openid", "profile", "email"]);
    let Mode::Link(rule) = &land.mode else {
        panic!("land links")
    };
    assert_eq!(rule.verified_claim, "email_verified");
    assert!(!land.logout);
    assert_eq!(
        providers.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["partner", "land"]
    );
}

#[test]
fn a_hint_picks_the_provider_of_its_domain() {
    let providers = parse(GUEST).unwrap();
    assert_eq!(
        providers
            .for_hint("paula@PARTNER.example")
            .map(|p| p.id.as_str()),
        Some("partner")
    );
    assert!(providers.for_hint("paula@other.example").is_none());
    assert!(providers.for_hint("paula").is_none());
}

#[test]
fn problems_are_reported_with_their_line() {
    let bad = GUEST.replace("id = \"land\"", "id = \"Land!\"").replace(
        "issuer = \"https://idp.partner.example\"",
        "issuer = \"http://idp.partner.example\"",
    );
    let e = parse(&bad).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("/etc/pforte/idps.toml:5:10: an issuer must be https"),
        "{text}"
    );
    assert!(text.contains("idps.toml:19:6: a provider id"), "{text}");
}

#[test]
fn rules_the_file_cannot_break() {
    let cases = [
        (
            GUEST.replace("id = \"land\"", "id = \"partner\""),
            "listed twice",
        ),
        (
            GUEST.replace("http://127.0.0.1:4000", "https://idp.partner.example"),
            "another provider has this issuer",
        ),
        (
            GUEST.replace("mode = \"link\"", "mode = \"guest\""),
            "belongs to mode",
        ),
        (
            GUEST.replace("mode = \"guest\"", "mode = \"trust\""),
            "mode is",
        ),
        (
            GUEST.replace("scopes = [\"email\", \"openid\",", "scopes = [\"email\","),
            "must include \"openid\"",
        ),
        (
            GUEST.replace("claim = \"email\"", "claim = \"upn\""),
            "verified_claim",
        ),
        (
            GUEST.replace("match = \"mail\"", "match = \"sub\""),
            "match is",
        ),
        (
            GUEST.replace("default_group = \"guests\"\n", "").replace(
                "[[idp.guest.rule]]\nupstream = \"partner-ministry/staff\"\nlocal = \"partners\"\n",
                "",
            ),
            "needs [[idp.guest.rule]]",
        ),
        (
            GUEST.replace("[\"Partner.Example\"]", "[\"*.example\"]"),
            "a domain is",
        ),
        (
            GUEST.replace(
                "client_id = \"pforte\"\nclient_secret = { env",
                "client_id = \"pforte\"\nsecret = { env",
            ),
            "unknown field",
        ),
    ];
    for (text, expected) in cases {
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains(expected), "{expected}: {e}");
    }
    let secrets = Providers::parse(Path::new("idps.toml"), GUEST, |_| Err("not set".into()))
        .unwrap_err()
        .to_string();
    assert!(secrets.contains("client_secret: not set"), "{secrets}");
    assert!(Providers::load(Path::new("/nonexistent/idps.toml"), |_| Ok(())).is_err());
}
