//! Changing `clients.toml` the way an admin would by hand: one `[[client]]` table added,
//! removed, or given a new `secret_hash`, with every comment and the layout of the rest of the
//! file kept (toml_edit). Nothing is read or written here: each edit takes the file's text and
//! gives back the new text only once all of it loads with [`Clients::parse`], so a caller that
//! writes what it gets never leaves a file the gateway would refuse.
//!
//! ```text
//! text ──Clients::parse──▶ toml_edit document ──add | remove | set_secret_hash──▶ new text
//!      (must load as it is)                                 ──Clients::parse──▶ Edited
//!                                                           (must load after, else Refused)
//! ```
//!
//! Comments belong to the `[[client]]` header they stand above. Removing a client removes its
//! own comment block (the lines right above its header) but keeps a paragraph before it that is
//! separated by a blank line (the file's header, a section heading) for the next client.

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value, value};

use super::{Clients, ClientsError, Problem};

/// A client to register: what `pforte-admin clients add` was told, as the file spells it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewClient {
    /// The `client_id`.
    pub id: String,
    /// The app in apps.toml whose access rules decide who may get tokens.
    pub app: String,
    /// The argon2id hash of a confidential client's secret; `None` registers a public client,
    /// or one with keys when `jwks_uri` is set.
    pub secret_hash: Option<String>,
    /// Where a `private_key_jwt` client publishes its public keys (instead of a secret).
    pub jwks_uri: Option<String>,
    /// The exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// The exact post-logout redirect URIs (left out of the file when empty).
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes the client may ask for.
    pub scopes: Vec<String>,
    /// The grant types; empty leaves the file's default (`authorization_code`).
    pub grant_types: Vec<String>,
    /// Where logout tokens are posted.
    pub backchannel_logout_uri: Option<String>,
    /// Whether `sub` is pairwise for this client (written only when true).
    pub pairwise_subject: bool,
    /// The clients it may exchange a person's token for (RFC 8693; left out when empty).
    pub exchange_audiences: Vec<String>,
    /// Whether its authorization requests must be pushed (RFC 9126; written only when true).
    pub require_pushed_authorization_requests: bool,
}

/// An edit that loads: the whole new text, and the clients it loads as.
#[derive(Debug, Clone)]
pub struct Edited {
    /// The new file content, to be written as it is.
    pub text: String,
    /// What the gateway will load from it.
    pub clients: Clients,
}

/// Why an edit was not made. The text given is never changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The file does not load as it is; an admin fixes it by hand before any tool edits it.
    #[error("the clients file does not load as it is; fix it first:\n{0}")]
    Broken(ClientsError),
    /// The file would not load after the change (bad URI, unknown scope, duplicate id, ...).
    #[error("refused, nothing changed: the clients file would not load after this change:\n{0}")]
    Refused(ClientsError),
    /// No client has this id.
    #[error("no client \"{0}\" is registered")]
    NoSuchClient(String),
    /// The client is public: there is no secret to replace.
    #[error("client \"{0}\" is public (it uses PKCE): it has no secret to rotate")]
    PublicClient(String),
    /// The client authenticates with its keys: there is no secret to replace.
    #[error(
        "client \"{0}\" authenticates with its own keys (private_key_jwt): it has no secret to \
         rotate; it rotates its keys itself"
    )]
    KeyClient(String),
    /// `client` is written in a form this editor does not change (an inline array).
    #[error(
        "{}: the clients are not written as [[client]] tables, the only form this tool edits; \
         edit the file by hand",
        .0.display()
    )]
    Layout(PathBuf),
}

/// Appends `client` as a new `[[client]]` table at the end of the client list.
pub fn add(path: &Path, text: &str, client: &NewClient) -> Result<Edited, EditError> {
    let mut doc = open(path, text)?;
    let mut table = new_table(client);
    let first = client_tables(&mut doc, path)?.is_none_or(|tables| tables.is_empty());
    if first {
        // A file of comments only keeps them in the trailing part, which would then follow the
        // new table: move them above it instead.
        let header = raw(Some(doc.trailing())).to_owned();
        doc.set_trailing("");
        if !header.trim().is_empty() {
            table
                .decor_mut()
                .set_prefix(format!("{}\n", trim_end_blank_lines(&header)));
        }
    }
    match client_tables(&mut doc, path)? {
        Some(tables) => tables.push(table),
        None => {
            let mut tables = ArrayOfTables::new();
            tables.push(table);
            doc.insert("client", Item::ArrayOfTables(tables));
        }
    }
    finish(path, &doc)
}

/// Removes the client `id`, with its own comment block.
pub fn remove(path: &Path, text: &str, id: &str) -> Result<Edited, EditError> {
    let mut doc = open(path, text)?;
    let no_such = || EditError::NoSuchClient(id.to_owned());
    let tables = client_tables(&mut doc, path)?.ok_or_else(no_such)?;
    let index = position(tables, id).ok_or_else(no_such)?;
    let removed = tables.remove(index);
    let Some(kept) = paragraph_before(raw(removed.decor().prefix())) else {
        return finish(path, &doc);
    };
    match tables.get_mut(index) {
        Some(next) => {
            let own = raw(next.decor().prefix()).to_owned();
            let own = trim_start_blank_lines(&own);
            next.decor_mut().set_prefix(format!("{kept}\n{own}"));
        }
        None => {
            let trailing = raw(Some(doc.trailing())).to_owned();
            doc.set_trailing(format!("{kept}{trailing}"));
        }
    }
    finish(path, &doc)
}

/// Replaces the `secret_hash` of client `id`, keeping a comment on the same line.
pub fn set_secret_hash(
    path: &Path,
    text: &str,
    id: &str,
    secret_hash: &str,
) -> Result<Edited, EditError> {
    let mut doc = open(path, text)?;
    let no_such = || EditError::NoSuchClient(id.to_owned());
    let tables = client_tables(&mut doc, path)?.ok_or_else(no_such)?;
    let index = position(tables, id).ok_or_else(no_such)?;
    let table = tables.get_mut(index).ok_or_else(no_such)?;
    if table.contains_key("jwks") || table.contains_key("jwks_uri") {
        return Err(EditError::KeyClient(id.to_owned()));
    }
    let Some(old) = table.get_mut("secret_hash").and_then(Item::as_value_mut) else {
        return Err(EditError::PublicClient(id.to_owned()));
    };
    let decor = old.decor().clone();
    *old = Value::from(secret_hash);
    *old.decor_mut() = decor;
    finish(path, &doc)
}

/// Parses `text` for editing, once it is known to load.
fn open(path: &Path, text: &str) -> Result<DocumentMut, EditError> {
    Clients::parse(path, text).map_err(EditError::Broken)?;
    text.parse::<DocumentMut>().map_err(|e| {
        EditError::Broken(ClientsError {
            problems: vec![Problem {
                place: None,
                file: path.to_path_buf(),
                message: e.message().to_owned(),
            }],
        })
    })
}

/// The `[[client]]` tables; `None` when the file has none yet.
fn client_tables<'d>(
    doc: &'d mut DocumentMut,
    path: &Path,
) -> Result<Option<&'d mut ArrayOfTables>, EditError> {
    match doc.get_mut("client") {
        None => Ok(None),
        Some(Item::ArrayOfTables(tables)) => Ok(Some(tables)),
        Some(_) => Err(EditError::Layout(path.to_path_buf())),
    }
}

fn position(tables: &ArrayOfTables, id: &str) -> Option<usize> {
    tables
        .iter()
        .position(|t| t.get("id").and_then(Item::as_str) == Some(id))
}

/// The table for a new client, keys in the order of the format's documentation.
fn new_table(client: &NewClient) -> Table {
    let mut table = Table::new();
    table.insert("id", value(&client.id));
    table.insert("app", value(&client.app));
    match (&client.secret_hash, &client.jwks_uri) {
        (Some(hash), _) => table.insert("secret_hash", value(hash)),
        (None, Some(uri)) => table.insert("jwks_uri", value(uri)),
        (None, None) => table.insert("public", value(true)),
    };
    table.insert("redirect_uris", strings(&client.redirect_uris));
    if !client.post_logout_redirect_uris.is_empty() {
        table.insert(
            "post_logout_redirect_uris",
            strings(&client.post_logout_redirect_uris),
        );
    }
    table.insert("scopes", strings(&client.scopes));
    if !client.grant_types.is_empty() {
        table.insert("grant_types", strings(&client.grant_types));
    }
    if let Some(uri) = &client.backchannel_logout_uri {
        table.insert("backchannel_logout_uri", value(uri));
    }
    if client.pairwise_subject {
        table.insert("pairwise_subject", value(true));
    }
    if !client.exchange_audiences.is_empty() {
        table.insert("exchange_audiences", strings(&client.exchange_audiences));
    }
    if client.require_pushed_authorization_requests {
        table.insert("require_pushed_authorization_requests", value(true));
    }
    table
}

fn strings(items: &[String]) -> Item {
    value(items.iter().map(String::as_str).collect::<Array>())
}

fn finish(path: &Path, doc: &DocumentMut) -> Result<Edited, EditError> {
    let text = doc.to_string();
    let clients = Clients::parse(path, &text).map_err(EditError::Refused)?;
    Ok(Edited { text, clients })
}

/// The text of a prefix or trailing part (parsed documents hold it as text, not as a span).
fn raw(part: Option<&toml_edit::RawString>) -> &str {
    part.and_then(toml_edit::RawString::as_str).unwrap_or("")
}

/// The part of a removed table's prefix that is not its own: everything up to the last blank
/// line, when it holds a comment (a file header, a section heading). Ends in one newline.
fn paragraph_before(prefix: &str) -> Option<String> {
    let lines: Vec<&str> = prefix.split_inclusive('\n').collect();
    let last_blank = lines.iter().rposition(|l| l.trim().is_empty())?;
    let before = lines.get(..last_blank)?.concat();
    if !before.contains('#') {
        return None;
    }
    Some(trim_end_blank_lines(&before))
}

/// `text` without blank lines at its end, ending in one newline.
fn trim_end_blank_lines(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    let mut kept = lines.get(..end).unwrap_or_default().concat();
    if !kept.ends_with('\n') {
        kept.push('\n');
    }
    kept
}

/// `text` without blank lines at its start.
fn trim_start_blank_lines(text: &str) -> &str {
    let mut rest = text;
    while let Some((line, after)) = rest.split_once('\n') {
        if !line.trim().is_empty() {
            break;
        }
        rest = after;
    }
    rest
}

#[cfg(test)]
mod tests;
