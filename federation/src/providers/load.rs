//! Turning `idps.toml` into [`Providers`]: every problem at once, each with file:line:column.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use url::{Host, Url};

use super::file::{GuestEntry, LinkEntry, ProviderEntry, ProvidersFile, SecretEntry};
use super::{Mode, Provider, Providers, SecretRef};
use crate::groups::{GuestRules, Rule};
use crate::link::{LinkRule, Match};

/// The longest provider id: it is part of URLs and of every federated session.
const MAX_ID_CHARS: usize = 32;
/// The longest button label.
const MAX_NAME_CHARS: usize = 80;
/// The scopes asked for when the file names none.
const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];
/// The claim a guest's shown name comes from when the file names none.
const DEFAULT_USERNAME_CLAIM: &str = "preferred_username";
/// The claim guests' upstream groups come from when the file names none.
const DEFAULT_GROUPS_CLAIM: &str = "groups";

/// One problem in `idps.toml`, with its place and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: PathBuf,
    /// 1-based line and column; `None` when the file as a whole is the problem.
    pub at: Option<(u32, u32)>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((line, column)) => {
                write!(
                    f,
                    "{}:{line}:{column}: {}",
                    self.file.display(),
                    self.message
                )
            }
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Why `idps.toml` was not loaded: every problem found. The previous providers stay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.problems))]
pub struct ProvidersError {
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

impl Providers {
    /// Reads and validates an `idps.toml` file. A secret file is resolved against the file's
    /// folder; `check_secret` reads it (the gateway's secret rule) and says what is wrong.
    pub fn load(
        path: &Path,
        check_secret: impl Fn(&SecretRef) -> Result<(), String>,
    ) -> Result<Self, ProvidersError> {
        match fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text, check_secret),
            Err(e) => Err(ProvidersError {
                problems: vec![Problem {
                    file: path.to_path_buf(),
                    at: None,
                    message: format!("cannot read the providers file: {e}"),
                }],
            }),
        }
    }

    /// Validates the text of an `idps.toml`; `path` names it in messages and anchors relative
    /// secret files.
    pub fn parse(
        path: &Path,
        text: &str,
        check_secret: impl Fn(&SecretRef) -> Result<(), String>,
    ) -> Result<Self, ProvidersError> {
        let mut v = Validator {
            path,
            text,
            problems: Vec::new(),
        };
        let file = match toml::from_str::<ProvidersFile>(text) {
            Ok(file) => file,
            Err(e) => {
                let message = format!(
                    "{}; see docs/federation.md for the format",
                    e.message().trim_end()
                );
                v.problem(e.span(), message);
                return Err(ProvidersError {
                    problems: v.problems,
                });
            }
        };
        let mut list: Vec<Provider> = Vec::new();
        let mut by_id = HashMap::new();
        let mut issuers = HashSet::new();
        let mut domains = HashSet::new();
        for entry in &file.idp {
            let e = entry.get_ref();
            let Some(provider) = v.provider(e, &check_secret) else {
                continue;
            };
            if by_id.contains_key(&provider.id) {
                v.at(
                    &e.id,
                    format!("provider id \"{}\" is listed twice", provider.id),
                );
                continue;
            }
            if !issuers.insert(provider.issuer.clone()) {
                v.at(
                    &e.issuer,
                    "another provider has this issuer: each issuer is listed once, or a \
                     response could not be told apart from the other's"
                        .to_owned(),
                );
                continue;
            }
            for (domain, raw) in provider.domains.iter().zip(&e.domains) {
                if !domains.insert(domain.clone()) {
                    v.at(
                        raw,
                        format!("domain \"{domain}\" belongs to another provider"),
                    );
                }
            }
            by_id.insert(provider.id.clone(), list.len());
            list.push(provider);
        }
        if !v.problems.is_empty() {
            return Err(ProvidersError {
                problems: v.problems,
            });
        }
        Ok(Providers { list, by_id })
    }
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn problem(&mut self, span: Option<Range<usize>>, message: String) {
        let at = span.map(|s| {
            let before = self.text.get(..s.start).unwrap_or(self.text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (
                u32::try_from(line).unwrap_or(u32::MAX),
                u32::try_from(column).unwrap_or(u32::MAX),
            )
        });
        self.problems.push(Problem {
            file: self.path.to_path_buf(),
            at,
            message,
        });
    }

    fn at<T>(&mut self, value: &Spanned<T>, message: String) {
        self.problem(Some(value.span()), message);
    }

    /// Validates one entry; `None` when it has problems (already recorded).
    fn provider(
        &mut self,
        e: &ProviderEntry,
        check_secret: &impl Fn(&SecretRef) -> Result<(), String>,
    ) -> Option<Provider> {
        let before = self.problems.len();
        let id = e.id.get_ref();
        if id.is_empty()
            || id.chars().count() > MAX_ID_CHARS
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            self.at(
                &e.id,
                format!("a provider id is 1 to {MAX_ID_CHARS} of a-z, 0-9 and '-'"),
            );
        }
        let name = e.name.get_ref().trim();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            self.at(
                &e.name,
                format!("a provider's name is 1 to {MAX_NAME_CHARS} printable characters"),
            );
        }
        self.issuer(&e.issuer);
        let client_id = e.client_id.get_ref();
        if client_id.is_empty() || !client_id.chars().all(|c| c.is_ascii_graphic()) {
            self.at(
                &e.client_id,
                "client_id must be non-empty printable ASCII without spaces".to_owned(),
            );
        }
        let secret = match e.client_secret.get_ref() {
            SecretEntry::File(file) => SecretRef::File(
                self.path
                    .parent()
                    .map_or_else(|| file.clone(), |dir| dir.join(file)),
            ),
            SecretEntry::Env(name) => SecretRef::Env(name.clone()),
        };
        if let Err(message) = check_secret(&secret) {
            self.at(&e.client_secret, format!("client_secret: {message}"));
        }
        let scopes = self.scopes(e.scopes.as_ref());
        let domains = self.domains(&e.domains);
        let mode = self.mode(e);
        let username_claim = match &e.username_claim {
            Some(claim) => self.claim_name(claim, "username_claim"),
            None => DEFAULT_USERNAME_CLAIM.to_owned(),
        };
        if self.problems.len() > before {
            return None;
        }
        Some(Provider {
            id: id.clone(),
            name: name.to_owned(),
            issuer: e.issuer.get_ref().clone(),
            client_id: client_id.clone(),
            secret,
            scopes,
            domains,
            mode: mode?,
            username_claim,
            logout: e.logout.unwrap_or(true),
            userinfo: e.userinfo.unwrap_or(true),
        })
    }

    /// An issuer is an `https` URL without query or fragment (`http` only on a loopback
    /// address, for tests), compared exactly as written.
    fn issuer(&mut self, issuer: &Spanned<String>) {
        let problem = match Url::parse(issuer.get_ref()) {
            Err(e) => Some(format!("the issuer is not a URL: {e}")),
            Ok(url) if url.query().is_some() || url.fragment().is_some() => {
                Some("an issuer has no query or fragment".to_owned())
            }
            Ok(url) if !url.username().is_empty() || url.password().is_some() => {
                Some("an issuer carries no credentials".to_owned())
            }
            Ok(url)
                if url.as_str().trim_end_matches('/') != issuer.get_ref().trim_end_matches('/') =>
            {
                Some(format!(
                    "the issuer is not written in its normal form; write \"{}\"",
                    url.as_str().trim_end_matches('/')
                ))
            }
            Ok(url) if url.scheme() == "https" => None,
            Ok(url) if url.scheme() == "http" && is_loopback(&url) => None,
            Ok(_) => Some(
                "an issuer must be https (http only on a loopback address, for tests)".to_owned(),
            ),
        };
        if let Some(message) = problem {
            self.at(issuer, message);
        }
    }

    fn scopes(&mut self, scopes: Option<&Spanned<Vec<String>>>) -> Vec<String> {
        let Some(scopes) = scopes else {
            return DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        };
        let list = scopes.get_ref();
        if !list.iter().any(|s| s == "openid") {
            self.at(scopes, "scopes must include \"openid\"".to_owned());
        }
        if list.iter().any(|s| {
            s.is_empty()
                || !s
                    .chars()
                    .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        }) {
            self.at(
                scopes,
                "a scope is printable ASCII without spaces".to_owned(),
            );
        }
        let mut ordered = vec!["openid".to_owned()];
        for scope in list {
            if !ordered.contains(scope) {
                ordered.push(scope.clone());
            }
        }
        ordered
    }

    fn domains(&mut self, domains: &[Spanned<String>]) -> Vec<String> {
        let mut out = Vec::with_capacity(domains.len());
        for domain in domains {
            let lower = domain.get_ref().trim().to_ascii_lowercase();
            let valid = !lower.is_empty()
                && lower.len() <= 253
                && lower.contains('.')
                && lower.split('.').all(|label| {
                    !label.is_empty()
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if valid {
                out.push(lower);
            } else {
                self.at(
                    domain,
                    "a domain is a DNS name such as \"partner.example\" (no '@', no wildcard)"
                        .to_owned(),
                );
            }
        }
        out
    }

    fn mode(&mut self, e: &ProviderEntry) -> Option<Mode> {
        match (e.mode.get_ref().as_str(), &e.guest, &e.link) {
            ("guest", Some(guest), None) => self.guest(guest.get_ref()).map(Mode::Guest),
            ("link", None, Some(link)) => self.link(link.get_ref()).map(Mode::Link),
            ("guest", _, Some(link)) => {
                self.at(link, "[idp.link] belongs to mode = \"link\"".to_owned());
                None
            }
            ("link", Some(guest), _) => {
                self.at(guest, "[idp.guest] belongs to mode = \"guest\"".to_owned());
                None
            }
            ("guest", None, None) => {
                self.at(
                    &e.mode,
                    "mode = \"guest\" needs [idp.guest] with the group rules".to_owned(),
                );
                None
            }
            ("link", None, None) => {
                self.at(
                    &e.mode,
                    "mode = \"link\" needs [idp.link] naming the claim that finds the person"
                        .to_owned(),
                );
                None
            }
            _ => {
                self.at(&e.mode, "mode is \"guest\" or \"link\"".to_owned());
                None
            }
        }
    }

    fn guest(&mut self, g: &GuestEntry) -> Option<GuestRules> {
        let before = self.problems.len();
        let groups_claim = match &g.groups_claim {
            Some(claim) => self.claim_name(claim, "groups_claim"),
            None => DEFAULT_GROUPS_CLAIM.to_owned(),
        };
        let default_group = g.default_group.as_ref().and_then(|group| {
            self.group_name(group, "default_group")
                .then(|| group.get_ref().clone())
        });
        let mut rules = Vec::with_capacity(g.rule.len());
        for rule in &g.rule {
            let r = rule.get_ref();
            if r.upstream.get_ref().is_empty() {
                self.at(
                    &r.upstream,
                    "upstream names the provider's group".to_owned(),
                );
            }
            if self.group_name(&r.local, "local") {
                rules.push(Rule {
                    upstream: r.upstream.get_ref().clone(),
                    local: r.local.get_ref().clone(),
                });
            }
        }
        if rules.is_empty() && default_group.is_none() {
            self.problem(
                None,
                "a guest provider needs [[idp.guest.rule]] entries or a default_group, or no \
                 guest could ever log in"
                    .to_owned(),
            );
        }
        (self.problems.len() == before).then_some(GuestRules {
            groups_claim,
            default_group,
            rules,
        })
    }

    fn link(&mut self, l: &LinkEntry) -> Option<LinkRule> {
        let before = self.problems.len();
        let claim = self.claim_name(&l.claim, "claim");
        let verified_claim = match &l.verified_claim {
            Some(verified) => self.claim_name(verified, "verified_claim"),
            None if claim == "email" => "email_verified".to_owned(),
            None => {
                self.at(
                    &l.claim,
                    format!(
                        "name the claim that says \"{claim}\" is verified (verified_claim): a \
                         person is linked only on a claim the provider vouches for"
                    ),
                );
                String::new()
            }
        };
        let match_by = match l.match_by.get_ref().as_str() {
            "mail" => Some(Match::Mail),
            "username" => Some(Match::Username),
            _ => {
                self.at(&l.match_by, "match is \"mail\" or \"username\"".to_owned());
                None
            }
        };
        if self.problems.len() > before {
            return None;
        }
        Some(LinkRule {
            claim,
            verified_claim,
            match_by: match_by?,
        })
    }

    fn claim_name(&mut self, claim: &Spanned<String>, field: &str) -> String {
        let name = claim.get_ref();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_graphic()) {
            self.at(
                claim,
                format!("{field} names a claim: printable ASCII, no spaces"),
            );
        }
        name.clone()
    }

    fn group_name(&mut self, group: &Spanned<String>, field: &str) -> bool {
        let name = group.get_ref();
        let ok = !name.trim().is_empty() && !name.chars().any(char::is_control);
        if !ok {
            self.at(group, format!("{field} names a local group"));
        }
        ok
    }
}

/// Whether the URL's host is a loopback address (or `localhost`).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}
