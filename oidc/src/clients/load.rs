//! Turning `clients.toml` into [`Clients`]: every problem at once, each with file:line:column.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::audiences;
use super::file::{ClientEntry, ClientsFile};
use super::keys::{self, ClientKeys};
use super::uri::{self, Purpose};
use super::{Client, ClientType, Clients, GrantType, Lifetimes, Place, SecretHash};
use crate::scope::{Scope, Scopes};

/// Longest access or ID token life accepted, in seconds (one day).
const MAX_SHORT_LIFETIME: u64 = 24 * 3600;
/// Longest refresh-token family life accepted, in seconds (one year).
const MAX_REFRESH_LIFETIME: u64 = 365 * 24 * 3600;

/// One problem in `clients.toml`, with its place and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where; `None` when the file as a whole is the problem (e.g. unreadable).
    pub place: Option<Place>,
    /// The file, repeated here for problems without a place.
    pub file: PathBuf,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Some(place) => write!(f, "{place}: {}", self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Why `clients.toml` was not loaded: every problem found. The previous clients stay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.problems))]
pub struct ClientsError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Clients {
    /// Reads and validates a `clients.toml` file.
    pub fn load(path: &Path) -> Result<Self, ClientsError> {
        match fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) => Err(ClientsError {
                problems: vec![Problem {
                    place: None,
                    file: path.to_path_buf(),
                    message: format!("cannot read the clients file: {e}"),
                }],
            }),
        }
    }

    /// Validates the text of a `clients.toml`; `path` is used in messages only.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ClientsError> {
        let mut v = Validator {
            path,
            text,
            problems: Vec::new(),
            private_use_schemes: HashMap::new(),
            declared_ids: HashSet::new(),
        };
        let file = match toml::from_str::<ClientsFile>(text) {
            Ok(file) => file,
            Err(e) => {
                let message = format!(
                    "{}; see docs/oidc.md for the format",
                    e.message().trim_end()
                );
                v.problem(e.span(), message);
                return Err(ClientsError {
                    problems: v.problems,
                });
            }
        };
        v.declared_ids = (file.client.iter())
            .map(|e| e.get_ref().id.get_ref().clone())
            .collect();
        let mut by_id: HashMap<String, Client> = HashMap::new();
        for entry in &file.client {
            let Some(client) = v.client(entry.get_ref()) else {
                continue;
            };
            if by_id.contains_key(&client.id) {
                let span = entry.get_ref().id.span();
                v.problem(
                    Some(span),
                    format!("client id \"{}\" is registered twice", client.id),
                );
                continue;
            }
            by_id.insert(client.id.clone(), client);
        }
        if !v.problems.is_empty() {
            return Err(ClientsError {
                problems: v.problems,
            });
        }
        let mut ids: Vec<&String> = by_id.keys().collect();
        ids.sort();
        let stand_in = ids
            .into_iter()
            .find_map(|id| match &by_id.get(id)?.client_type {
                ClientType::Confidential(hash) => Some(hash.as_ref().clone()),
                ClientType::Public | ClientType::KeyHolder(_) => None,
            });
        Ok(Clients { by_id, stand_in })
    }
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<Problem>,
    /// Each private-use redirect scheme seen so far, with the client that registered it.
    private_use_schemes: HashMap<String, String>,
    /// Every client id the file declares, for the clients that entries name.
    declared_ids: HashSet<String>,
}

impl Validator<'_> {
    fn place(&self, offset: usize) -> Place {
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Place {
            file: self.path.to_path_buf(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }

    fn problem(&mut self, span: Option<Range<usize>>, message: String) {
        let place = span.map(|s| self.place(s.start));
        self.problems.push(Problem {
            place,
            file: self.path.to_path_buf(),
            message,
        });
    }

    fn at<T>(&mut self, value: &Spanned<T>, message: String) {
        self.problem(Some(value.span()), message);
    }

    /// Validates one entry; `None` when it has problems (already recorded).
    fn client(&mut self, e: &ClientEntry) -> Option<Client> {
        let before = self.problems.len();
        let id = e.id.get_ref().clone();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_graphic()) {
            self.at(
                &e.id,
                "client id must be non-empty printable ASCII without spaces".to_owned(),
            );
        }
        if e.app.get_ref().is_empty() {
            self.at(&e.app, "app must name an app of apps.toml".to_owned());
        }
        let client_type = self.client_type(e);
        let grant_types = self.grant_types(e, &client_type);
        let scopes = self.scopes(e, &grant_types);
        let redirect = match client_type {
            Some(ClientType::Public) => Purpose::NativeRedirect,
            _ => Purpose::WebRedirect,
        };
        let redirect_uris = self.uris(&e.redirect_uris, redirect);
        self.claim_private_use_schemes(&id, &e.redirect_uris);
        if grant_types.contains(&GrantType::AuthorizationCode) && e.redirect_uris.is_empty() {
            self.at(
                &e.id,
                format!("client \"{id}\" uses authorization_code but has no redirect_uris"),
            );
        }
        let post_logout_redirect_uris = self.uris(&e.post_logout_redirect_uris, redirect);
        let backchannel_logout_uri = e.backchannel_logout_uri.as_ref().and_then(|u| {
            self.uris(std::slice::from_ref(u), Purpose::Backchannel)
                .into_iter()
                .next()
        });
        let lifetimes = self.lifetimes(e);
        let (exchange_audiences, found) = audiences::check(e, &grant_types, &self.declared_ids);
        for (span, message) in found {
            self.problem(Some(span), message);
        }
        if self.problems.len() > before {
            return None;
        }
        Some(Client {
            id,
            app: e.app.get_ref().clone(),
            app_place: self.place(e.app.span().start),
            client_type: client_type?,
            redirect_uris,
            post_logout_redirect_uris,
            scopes,
            grant_types,
            backchannel_logout_uri,
            pairwise_subject: e.pairwise_subject,
            require_pushed_requests: e.require_pushed_authorization_requests,
            exchange_audiences,
            lifetimes,
        })
    }

    fn client_type(&mut self, e: &ClientEntry) -> Option<ClientType> {
        let public = e.public.as_ref().is_some_and(|p| *p.get_ref());
        let keys = self.client_keys(e);
        let ways = usize::from(public)
            + usize::from(e.secret_hash.is_some())
            + usize::from(keys.is_some());
        if ways > 1 {
            self.at(
                &e.id,
                "a client authenticates one way, not both: public = true, a secret_hash, or its \
                 keys (jwks or jwks_uri)"
                    .to_owned(),
            );
            return None;
        }
        match (&e.secret_hash, keys) {
            (Some(hash), _) => match SecretHash::parse(hash.get_ref()) {
                Ok(parsed) => Some(ClientType::Confidential(Box::new(parsed))),
                Err(message) => {
                    self.at(hash, message);
                    None
                }
            },
            (None, Some(keys)) => keys.map(|k| ClientType::KeyHolder(Box::new(k))),
            (None, None) if public => Some(ClientType::Public),
            (None, None) => {
                self.at(
                    &e.id,
                    "set secret_hash (an argon2id hash) or jwks/jwks_uri (private_key_jwt) for a \
                     confidential client, or public = true for a browser or native app"
                        .to_owned(),
                );
                None
            }
        }
    }

    /// The client's public keys, if it registers any: `Some(None)` when they are there but
    /// wrong (the problem is recorded).
    fn client_keys(&mut self, e: &ClientEntry) -> Option<Option<ClientKeys>> {
        match (&e.jwks, &e.jwks_uri) {
            (None, None) => None,
            (Some(_), Some(uri)) => {
                self.at(uri, "give jwks or jwks_uri, not both".to_owned());
                Some(None)
            }
            (Some(jwks), None) => Some(match keys::parse_jwks(jwks.get_ref()) {
                Ok(set) => Some(ClientKeys::Inline(set)),
                Err(message) => {
                    self.at(jwks, message);
                    None
                }
            }),
            (None, Some(uri)) => Some(match keys::check_jwks_uri(uri.get_ref()) {
                Ok(()) => Some(ClientKeys::Remote(uri.get_ref().clone())),
                Err(message) => {
                    self.at(uri, message);
                    None
                }
            }),
        }
    }

    fn grant_types(&mut self, e: &ClientEntry, client_type: &Option<ClientType>) -> Vec<GrantType> {
        let Some(list) = &e.grant_types else {
            return vec![GrantType::AuthorizationCode];
        };
        let mut grants = Vec::new();
        for name in list {
            match GrantType::parse(name.get_ref()) {
                Some(g) if !grants.contains(&g) => grants.push(g),
                Some(_) => self.at(
                    name,
                    format!("grant type \"{}\" is listed twice", name.get_ref()),
                ),
                None => self.at(
                    name,
                    format!(
                        "unknown grant type \"{}\"; use authorization_code, refresh_token, \
                         client_credentials, device_code or token_exchange",
                        name.get_ref()
                    ),
                ),
            }
        }
        if grants.is_empty() && !list.is_empty() {
            return grants;
        }
        if grants.is_empty() {
            self.at(&e.id, "grant_types must not be empty".to_owned());
        }
        if grants.contains(&GrantType::RefreshToken) && !logs_people_in(&grants) {
            self.at(
                &e.id,
                "refresh_token needs authorization_code or device_code too: refresh tokens \
                 come from a person's login"
                    .to_owned(),
            );
        }
        if grants.contains(&GrantType::ClientCredentials)
            && *client_type == Some(ClientType::Public)
        {
            self.at(
                &e.id,
                "client_credentials needs a confidential client (with secret_hash or keys)"
                    .to_owned(),
            );
        }
        if grants.contains(&GrantType::TokenExchange) && *client_type == Some(ClientType::Public) {
            self.at(
                &e.id,
                "token_exchange needs a confidential client (with secret_hash): the actor must \
                 prove who it is"
                    .to_owned(),
            );
        }
        grants
    }

    fn scopes(&mut self, e: &ClientEntry, grants: &[GrantType]) -> Scopes {
        let mut scopes = Scopes::EMPTY;
        for name in &e.scopes {
            match Scope::parse(name.get_ref()) {
                Some(s) => scopes = scopes.with(s),
                None => self.at(
                    name,
                    format!(
                        "unknown scope \"{}\"; use openid, profile, email, groups or offline_access",
                        name.get_ref()
                    ),
                ),
            }
        }
        if logs_people_in(grants) && !scopes.contains(Scope::Openid) {
            self.at(
                &e.id,
                "scopes must include \"openid\" for a client that logs people in".to_owned(),
            );
        }
        scopes
    }

    /// A private-use scheme names one app on a device (RFC 8252 §7.1): two clients with the
    /// same scheme could receive each other's codes, so the second is refused.
    fn claim_private_use_schemes(&mut self, id: &str, redirect_uris: &[Spanned<String>]) {
        for item in redirect_uris {
            let Some(scheme) = uri::private_use_scheme(item.get_ref()) else {
                continue;
            };
            let scheme = scheme.to_ascii_lowercase();
            match self.private_use_schemes.get(&scheme) {
                Some(owner) if owner != id => {
                    let message = format!(
                        "the scheme \"{scheme}\" is already client \"{owner}\"'s; each native \
                         app needs its own private-use scheme"
                    );
                    self.at(item, message);
                }
                Some(_) => {}
                None => {
                    self.private_use_schemes.insert(scheme, id.to_owned());
                }
            }
        }
    }

    fn uris(&mut self, list: &[Spanned<String>], purpose: Purpose) -> Vec<String> {
        let mut uris: Vec<String> = Vec::new();
        for item in list {
            let uri = item.get_ref();
            if let Err(message) = uri::check(uri, purpose) {
                self.at(item, message);
            } else if uris.contains(uri) {
                self.at(item, format!("\"{uri}\" is listed twice"));
            } else {
                uris.push(uri.clone());
            }
        }
        uris
    }

    fn lifetimes(&mut self, e: &ClientEntry) -> Lifetimes {
        let default = Lifetimes::default();
        Lifetimes {
            access_token: self.seconds(
                &e.access_token_seconds,
                default.access_token,
                MAX_SHORT_LIFETIME,
            ),
            id_token: self.seconds(&e.id_token_seconds, default.id_token, MAX_SHORT_LIFETIME),
            refresh_token: self.seconds(
                &e.refresh_token_seconds,
                default.refresh_token,
                MAX_REFRESH_LIFETIME,
            ),
        }
    }

    fn seconds(&mut self, value: &Option<Spanned<u64>>, default: u64, max: u64) -> u64 {
        let Some(v) = value else { return default };
        let secs = *v.get_ref();
        if secs == 0 || secs > max {
            self.at(v, format!("must be between 1 and {max} seconds"));
        }
        secs
    }
}

/// Whether the grants include one by which a person logs in (and gets an ID token).
fn logs_people_in(grants: &[GrantType]) -> bool {
    grants.contains(&GrantType::AuthorizationCode) || grants.contains(&GrantType::DeviceCode)
}
