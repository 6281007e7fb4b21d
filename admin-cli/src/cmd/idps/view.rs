//! `idps list` and `idps show`: the providers as the gateway loads them. The client secret is
//! never shown, only where it comes from and whether it can be read.

use pforte::portal::federation::PREFIX;
use pforte_federation::groups::Rule;
use pforte_federation::{Mode, Provider, Providers};
use serde::Serialize;

use super::IdpsCmdError;
use super::secret::{self, SecretInfo};
use crate::error::CmdError;
use crate::output::{self, Table};

/// One provider as listed.
#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    issuer: String,
    mode: &'static str,
    domains: Vec<String>,
}

/// One provider in full, but for its secret's value.
#[derive(Serialize)]
struct Details {
    #[serde(flatten)]
    row: Row,
    client_id: String,
    client_secret: SecretInfo,
    scopes: Vec<String>,
    username_claim: String,
    logout: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    guest: Option<Guest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<Link>,
    /// What to register at the provider for Pforte's client.
    register: Register,
}

/// A guest provider's group mapping.
#[derive(Serialize)]
struct Guest {
    groups_claim: String,
    default_group: Option<String>,
    rules: Vec<GuestRule>,
}

#[derive(Serialize)]
struct GuestRule {
    upstream: String,
    local: String,
}

/// A link provider's rule.
#[derive(Serialize)]
struct Link {
    claim: String,
    verified_claim: String,
    #[serde(rename = "match")]
    match_by: &'static str,
}

/// The URIs the provider must know for Pforte's client (docs/federation.md).
#[derive(Serialize)]
struct Register {
    redirect_uri: String,
    post_logout_redirect_uri: String,
    backchannel_logout_uri: String,
}

impl From<&Provider> for Row {
    fn from(p: &Provider) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            mode: p.mode.as_str(),
            domains: p.domains.clone(),
        }
    }
}

impl Details {
    fn new(p: &Provider, origin: &str) -> Self {
        let (guest, link) = match &p.mode {
            Mode::Guest(rules) => (
                Some(Guest {
                    groups_claim: rules.groups_claim.clone(),
                    default_group: rules.default_group.clone(),
                    rules: rules.rules.iter().map(GuestRule::from).collect(),
                }),
                None,
            ),
            Mode::Link(rule) => (
                None,
                Some(Link {
                    claim: rule.claim.clone(),
                    verified_claim: rule.verified_claim.clone(),
                    match_by: rule.match_by.as_str(),
                }),
            ),
        };
        let page = |name: &str| format!("{origin}{PREFIX}{}/{name}", p.id);
        Self {
            row: Row::from(p),
            client_id: p.client_id.clone(),
            client_secret: secret::inspect(&p.secret),
            scopes: p.scopes.clone(),
            username_claim: p.username_claim.clone(),
            logout: p.logout,
            guest,
            link,
            register: Register {
                redirect_uri: page("callback"),
                post_logout_redirect_uri: page("logged-out"),
                backchannel_logout_uri: page("backchannel-logout"),
            },
        }
    }
}

impl From<&Rule> for GuestRule {
    fn from(rule: &Rule) -> Self {
        Self {
            upstream: rule.upstream.clone(),
            local: rule.local.clone(),
        }
    }
}

/// `idps list`: every provider, in file order (the login page's order).
pub fn list(providers: &Providers, json: bool) -> Result<(), CmdError> {
    let rows: Vec<Row> = providers.iter().map(Row::from).collect();
    let mut table = Table::new(&["ID", "NAME", "ISSUER", "MODE", "DOMAINS"]);
    for row in &rows {
        table.row(vec![
            row.id.clone(),
            row.name.clone(),
            row.issuer.clone(),
            row.mode.to_owned(),
            output::list(&row.domains),
        ]);
    }
    output::show(json, &rows, &table)
}

/// `idps show ID`: one provider, one field a line.
pub fn show(providers: &Providers, id: &str, origin: &str, json: bool) -> Result<(), CmdError> {
    let provider = providers
        .get(id)
        .ok_or_else(|| IdpsCmdError::UnknownProvider(id.to_owned()))?;
    let details = Details::new(provider, origin);
    if json {
        println!("{}", serde_json::to_string_pretty(&details)?);
    } else {
        print!("{}", render(&details));
    }
    Ok(())
}

fn render(d: &Details) -> String {
    let mut fields = Table::new(&["", ""]);
    let secret = &d.client_secret;
    let readable = match &secret.problem {
        None => "can be read".to_owned(),
        Some(problem) => format!("CANNOT be read here: {problem}"),
    };
    let mut lines = vec![
        ("id", d.row.id.clone()),
        ("name", d.row.name.clone()),
        ("issuer", d.row.issuer.clone()),
        ("mode", d.row.mode.to_owned()),
        ("domains", output::list(&d.row.domains)),
        ("client id", d.client_id.clone()),
        (
            "client secret",
            format!("{} {} ({readable})", secret.source, secret.name),
        ),
        ("scopes", output::list(&d.scopes)),
        ("username claim", d.username_claim.clone()),
        (
            "logout",
            if d.logout {
                "at the provider too, after Pforte's"
            } else {
                "at Pforte only"
            }
            .to_owned(),
        ),
    ];
    if let Some(guest) = &d.guest {
        lines.push(("groups claim", guest.groups_claim.clone()));
        lines.push((
            "default group",
            guest
                .default_group
                .clone()
                .unwrap_or_else(|| "- (a guest no rule maps is refused)".into()),
        ));
        if guest.rules.is_empty() {
            lines.push(("group rules", "-".into()));
        }
        for (i, rule) in guest.rules.iter().enumerate() {
            let field = if i == 0 { "group rules" } else { "" };
            lines.push((field, format!("{} -> {}", rule.upstream, rule.local)));
        }
    }
    if let Some(link) = &d.link {
        lines.push((
            "link rule",
            format!(
                "claim {} (when {} is true) matches the directory's {}",
                link.claim, link.verified_claim, link.match_by
            ),
        ));
    }
    lines.push(("redirect uri", d.register.redirect_uri.clone()));
    lines.push((
        "post-logout uri",
        d.register.post_logout_redirect_uri.clone(),
    ));
    lines.push((
        "back-channel logout uri",
        d.register.backchannel_logout_uri.clone(),
    ));
    for (field, value) in lines {
        let label = if field.is_empty() {
            String::new()
        } else {
            format!("{field}:")
        };
        fields.row(vec![label, value]);
    }
    fields.render().trim_start().to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const FILE: &str = r#"
[[idp]]
id = "partner"
name = "Partner ministry"
issuer = "https://idp.partner.example"
client_id = "pforte"
client_secret = { file = "secrets/partner" }
domains = ["partner.example"]
mode = "guest"
[idp.guest]
[[idp.guest.rule]]
upstream = "partner/staff"
local = "partners"

[[idp]]
id = "home"
name = "Home"
issuer = "https://idp.home.example"
client_id = "pforte"
client_secret = { env = "PFORTE_TEST_SURELY_UNSET_SECRET" }
mode = "link"
logout = false
[idp.link]
claim = "email"
match = "mail"
"#;

    fn providers() -> Providers {
        Providers::parse(Path::new("/etc/pforte/idps.toml"), FILE, |_| Ok(())).unwrap()
    }

    #[test]
    fn details_name_the_rules_and_the_secret_source_never_its_value() {
        let providers = providers();
        let origin = "https://login.example.org:8443";
        let guest = Details::new(providers.get("partner").unwrap(), origin);
        let json = serde_json::to_value(&guest).unwrap();
        assert_eq!(json["mode"], "guest");
        assert_eq!(json["client_secret"]["source"], "file");
        assert_eq!(json["client_secret"]["name"], "/etc/pforte/secrets/partner");
        assert_eq!(json["client_secret"]["readable"], false);
        assert_eq!(json["guest"]["rules"][0]["local"], "partners");
        assert!(json.get("link").is_none(), "{json}");
        assert_eq!(
            json["register"]["redirect_uri"],
            "https://login.example.org:8443/federation/partner/callback"
        );
        let text = render(&guest);
        assert!(text.starts_with("id:"), "{text}");
        assert!(text.contains("partner/staff -> partners"), "{text}");
        assert!(text.contains("CANNOT be read here"), "{text}");
        assert!(text.contains("a guest no rule maps is refused"), "{text}");

        let link = Details::new(providers.get("home").unwrap(), origin);
        let json = serde_json::to_value(&link).unwrap();
        assert_eq!(json["link"]["match"], "mail");
        assert_eq!(json["link"]["verified_claim"], "email_verified");
        assert_eq!(json["client_secret"]["source"], "env");
        assert_eq!(json["logout"], false);
        let text = render(&link);
        assert!(
            text.contains("claim email (when email_verified is true)"),
            "{text}"
        );
        assert!(text.contains("at Pforte only"), "{text}");
    }
}
