//! `clients list` and `clients show`: the clients as the gateway loads them. A secret hash is
//! never shown, not even in JSON: it is enough to mount an offline guessing attack.

use std::path::Path;

use pforte_oidc::{Client, ClientType, Clients};
use serde::Serialize;

use super::ClientsCmdError;
use crate::error::CmdError;
use crate::output::{self, Table};

/// One client as listed.
#[derive(Serialize)]
struct Row {
    id: String,
    app: String,
    #[serde(rename = "type")]
    kind: &'static str,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
}

/// One client in full, but for its secret hash.
#[derive(Serialize)]
struct Details {
    #[serde(flatten)]
    row: Row,
    post_logout_redirect_uris: Vec<String>,
    grant_types: Vec<&'static str>,
    backchannel_logout_uri: Option<String>,
    pairwise_subject: bool,
    require_pushed_authorization_requests: bool,
    exchange_audiences: Vec<String>,
    access_token_seconds: u64,
    id_token_seconds: u64,
    refresh_token_seconds: u64,
}

impl From<&Client> for Row {
    fn from(client: &Client) -> Self {
        Self {
            id: client.id.clone(),
            app: client.app.clone(),
            kind: match client.client_type {
                ClientType::Public => "public",
                ClientType::Confidential(_) => "confidential",
                ClientType::KeyHolder(_) => "private_key_jwt",
            },
            redirect_uris: client.redirect_uris.clone(),
            scopes: client
                .scopes
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        }
    }
}

impl From<&Client> for Details {
    fn from(client: &Client) -> Self {
        Self {
            row: Row::from(client),
            post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
            grant_types: client.grant_types.iter().map(|g| g.as_str()).collect(),
            backchannel_logout_uri: client.backchannel_logout_uri.clone(),
            pairwise_subject: client.pairwise_subject,
            require_pushed_authorization_requests: client.require_pushed_requests,
            exchange_audiences: client.exchange_audiences.clone(),
            access_token_seconds: client.lifetimes.access_token,
            id_token_seconds: client.lifetimes.id_token,
            refresh_token_seconds: client.lifetimes.refresh_token,
        }
    }
}

fn load(path: &Path) -> Result<Clients, ClientsCmdError> {
    Clients::load(path).map_err(ClientsCmdError::Load)
}

/// `clients list`: every client, by id.
pub fn list(path: &Path, json: bool) -> Result<(), CmdError> {
    let clients = load(path)?;
    let mut rows: Vec<Row> = clients.iter().map(Row::from).collect();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    let mut table = Table::new(&["ID", "APP", "TYPE", "REDIRECT URIS", "SCOPES"]);
    for row in &rows {
        table.row(vec![
            row.id.clone(),
            row.app.clone(),
            row.kind.to_owned(),
            output::list(&row.redirect_uris),
            output::list(&row.scopes),
        ]);
    }
    output::show(json, &rows, &table)
}

/// `clients show ID`: one client, one field a line.
pub fn show(path: &Path, id: &str, json: bool) -> Result<(), CmdError> {
    let clients = load(path)?;
    let client = clients
        .get(id)
        .ok_or_else(|| ClientsCmdError::UnknownClient(id.to_owned()))?;
    let details = Details::from(client);
    if json {
        println!("{}", serde_json::to_string_pretty(&details)?);
    } else {
        print!("{}", render(&details));
    }
    Ok(())
}

fn render(d: &Details) -> String {
    let mut fields = Table::new(&["", ""]);
    let seconds = |s: u64| format!("{s} s");
    for (field, value) in [
        ("id", d.row.id.clone()),
        ("app", d.row.app.clone()),
        ("type", d.row.kind.to_owned()),
        ("redirect uris", output::list(&d.row.redirect_uris)),
        (
            "post-logout uris",
            output::list(&d.post_logout_redirect_uris),
        ),
        ("scopes", output::list(&d.row.scopes)),
        ("grant types", d.grant_types.join(",")),
        (
            "back-channel logout",
            d.backchannel_logout_uri
                .clone()
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "pairwise subject",
            if d.pairwise_subject { "yes" } else { "no" }.to_owned(),
        ),
        (
            "pushed requests",
            if d.require_pushed_authorization_requests {
                "required"
            } else {
                "optional"
            }
            .to_owned(),
        ),
        ("exchange audiences", output::list(&d.exchange_audiences)),
        ("access token life", seconds(d.access_token_seconds)),
        ("id token life", seconds(d.id_token_seconds)),
        ("refresh token life", seconds(d.refresh_token_seconds)),
    ] {
        fields.row(vec![format!("{field}:"), value]);
    }
    fields.render().trim_start().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/clients.toml");

    #[test]
    fn details_name_everything_but_the_secret() {
        let clients = Clients::load(Path::new(DEMO)).unwrap();
        let docs = Details::from(clients.get("docs").unwrap());
        let json = serde_json::to_string(&docs).unwrap();
        assert!(json.contains("\"type\":\"confidential\""), "{json}");
        assert!(json.contains("\"refresh_token\""), "{json}");
        assert!(!json.contains("argon2"), "{json}");
        let text = render(&docs);
        assert!(text.starts_with("id:"), "{text}");
        assert!(
            text.contains("https://docs.localhost:8443/oidc/callback"),
            "{text}"
        );
        assert!(!text.contains("argon2"), "{text}");
        assert!(text.contains("pushed requests:"), "{text}");
        assert!(text.contains("exchange audiences:"), "{text}");
        assert!(json.contains("\"exchange_audiences\":[]"), "{json}");
        assert!(
            json.contains("\"require_pushed_authorization_requests\":false"),
            "{json}"
        );
    }
}
