//! Giving the parsed files their meaning: network sets, then rules, every problem reported.
//!
//! A rule with any error is left out of the model; since any error fails the whole load,
//! the model only ever reaches `compile` when every rule in it is sound.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use toml::Spanned;

use crate::apps::AppSummary;
use crate::error::{Diagnostics, Source};
use crate::file::{List, RuleFile};
use crate::load::ParsedFile;
use crate::model::{AppSet, Effect, LoginStrength, Rule, RuleOrigin, Sources, Subjects};
use crate::pattern::PathPattern;

/// Resolves every rule of every file, in file order.
pub(crate) fn resolve(
    files: &[ParsedFile],
    apps: &[AppSummary],
    diags: &mut Diagnostics,
) -> Vec<Rule> {
    let networks = networks(files, diags);
    let mut used = BTreeSet::new();
    let mut rules = Vec::new();
    for parsed in files {
        for rule in &parsed.file.rule {
            let mut cx = RuleCx {
                src: &parsed.source,
                diags,
                apps,
                networks: &networks,
                used: &mut used,
                ok: true,
            };
            let resolved = cx.rule(rule);
            if cx.ok {
                rules.extend(resolved);
            }
        }
    }
    for (name, set) in &networks {
        if !used.contains(name) {
            let message = format!(
                r#"network set "{name}" is not used by any rule; use it in a from = [...] or remove it"#
            );
            diags.warn(&files[set.file].source, Some(set.offset), message);
        }
    }
    rules
}

/// A named network set and where it was defined.
struct NetworkSet {
    nets: Vec<IpNet>,
    file: usize,
    offset: usize,
}

fn networks(files: &[ParsedFile], diags: &mut Diagnostics) -> BTreeMap<String, NetworkSet> {
    let mut sets: BTreeMap<String, NetworkSet> = BTreeMap::new();
    for (file, parsed) in files.iter().enumerate() {
        let src = &parsed.source;
        for (name, list) in &parsed.file.networks {
            let offset = name.span().start;
            let name = name.get_ref();
            if let Some(earlier) = sets.get(name) {
                let at = files[earlier.file].source.position(earlier.offset);
                let message = format!(
                    r#"network set "{name}" is already defined at {}:{}; define it once"#,
                    files[earlier.file].source.path.display(),
                    at.line
                );
                diags.error(src, Some(offset), message);
                continue;
            }
            if !is_name(name) || parse_net(name).is_some() {
                let message = format!(
                    r#"network set name "{name}" must be letters, digits, - and _ (like "internal")"#
                );
                diags.error(src, Some(offset), message);
                continue;
            }
            if list.get_ref().0.is_empty() {
                let message = format!(
                    r#"network set "{name}" is empty, so a rule using it matches no address"#
                );
                diags.warn(src, Some(offset), message);
            }
            let mut nets = Vec::new();
            for item in &list.get_ref().0 {
                match parse_net(item.get_ref()) {
                    Some(net) => {
                        warn_host_bits(src, item, net, diags);
                        nets.push(net.trunc());
                    }
                    None => {
                        diags.error(src, Some(item.span().start), not_a_network(item.get_ref()))
                    }
                }
            }
            sets.insert(name.clone(), NetworkSet { nets, file, offset });
        }
    }
    sets
}

fn parse_net(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

fn not_a_network(text: &str) -> String {
    format!(
        r#""{text}" is not a network; write an address range like "10.0.0.0/8" or an address like "192.0.2.1""#
    )
}

fn warn_host_bits(src: &Source, item: &Spanned<String>, net: IpNet, diags: &mut Diagnostics) {
    if net != net.trunc() {
        let message = format!(
            r#""{}" has host bits set; it means "{}", write that"#,
            item.get_ref(),
            net.trunc()
        );
        diags.warn(src, Some(item.span().start), message);
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Resolves one rule of one file, recording its problems.
struct RuleCx<'a> {
    src: &'a Source,
    diags: &'a mut Diagnostics,
    apps: &'a [AppSummary],
    networks: &'a BTreeMap<String, NetworkSet>,
    used: &'a mut BTreeSet<String>,
    ok: bool,
}

impl RuleCx<'_> {
    fn error(&mut self, offset: usize, message: String) {
        self.ok = false;
        self.diags.error(self.src, Some(offset), message);
    }

    fn rule(&mut self, spanned: &Spanned<RuleFile>) -> Option<Rule> {
        let at = spanned.span().start;
        let rule = spanned.get_ref();
        let (effect, subjects) = match (&rule.allow, &rule.deny) {
            (Some(allow), None) => (Effect::Allow, self.subjects(allow, "allow")),
            (None, Some(deny)) => (Effect::Deny, self.subjects(deny, "deny")),
            (Some(_), Some(deny)) => {
                let message =
                    "a rule either allows or denies, not both; split it into two [[rule]] tables"
                        .into();
                self.error(deny.span().start, message);
                return None;
            }
            (None, None) => {
                self.error(at, r#"this rule has neither allow nor deny; add allow = ["group:..."] or deny = [...]"#.into());
                return None;
            }
        };
        let except = match (&rule.except, effect) {
            (None, _) => Subjects::default(),
            (Some(list), Effect::Deny) => self.except(list),
            (Some(list), Effect::Allow) => {
                let message =
                    "except belongs to deny rules; an allow rule lists only whom it lets in".into();
                self.error(list.span().start, message);
                Subjects::default()
            }
        };
        let apps = self.apps(rule.apps.as_ref(), at);
        let paths = rule.paths.as_ref().map(|l| self.paths(l));
        let methods = rule.methods.as_ref().map(|l| self.methods(l));
        let from = rule.from.as_ref().map(|l| self.from(l));
        let login = rule
            .login
            .as_ref()
            .and_then(|l| self.login(l, effect, &subjects));
        if effect == Effect::Allow && subjects.everyone && paths.is_none() {
            let offset = rule.allow.as_ref().map_or(at, |a| a.span().start);
            self.error(offset, r#"allow = ["everyone"] needs paths: public access is only for listed paths, like paths = ["/.well-known/"]; to let in anyone who logs in, use "authenticated""#.into());
        }
        Some(Rule {
            effect,
            apps: apps?,
            subjects,
            except,
            paths,
            methods,
            from,
            login,
            origin: RuleOrigin {
                file: self.src.path.clone(),
                line: self.src.position(at).line,
            },
        })
    }

    fn subjects(&mut self, list: &Spanned<List>, key: &str) -> Subjects {
        let mut subjects = Subjects::default();
        if list.get_ref().0.is_empty() && key != "except" {
            let message = format!(
                "{key} = [] names nobody, so this rule never applies; name a group, a user, \"authenticated\" or \"everyone\""
            );
            self.diags.warn(self.src, Some(list.span().start), message);
        }
        for item in &list.get_ref().0 {
            let text = item.get_ref().as_str();
            match text.split_once(':') {
                _ if text == "everyone" => subjects.everyone = true,
                _ if text == "authenticated" => subjects.authenticated = true,
                Some(("group", name)) if is_subject_name(name) => subjects.groups.push(name.into()),
                Some(("user", name)) if is_subject_name(name) => subjects.users.push(name.into()),
                Some(("group" | "user", name)) => {
                    let message = format!(
                        r#""{text}": the name "{name}" must not be empty or contain spaces"#
                    );
                    self.error(item.span().start, message);
                }
                _ => {
                    let message = format!(
                        r#"unknown subject "{text}"; write "group:{text}", "user:{text}", "authenticated" or "everyone""#
                    );
                    self.error(item.span().start, message);
                }
            }
        }
        subjects.groups.sort();
        subjects.groups.dedup();
        subjects.users.sort();
        subjects.users.dedup();
        subjects
    }

    fn except(&mut self, list: &Spanned<List>) -> Subjects {
        if list.get_ref().0.is_empty() {
            self.error(
                list.span().start,
                "except = [] spares nobody; remove it".into(),
            );
        }
        let except = self.subjects(list, "except");
        if except.everyone {
            self.error(list.span().start, r#"except = ["everyone"] spares everyone, so the rule denies nobody; name groups or users"#.into());
        }
        except
    }

    fn apps(&mut self, list: Option<&Spanned<List>>, at: usize) -> Option<AppSet> {
        let Some(list) = list else {
            self.error(
                at,
                r#"this rule has no apps; add apps = ["name"], or apps = ["*"] for every app"#
                    .into(),
            );
            return None;
        };
        let items = &list.get_ref().0;
        if items.is_empty() {
            self.error(
                list.span().start,
                r#"apps = [] names no app; name one, or write apps = ["*"] for every app"#.into(),
            );
            return None;
        }
        if items.iter().any(|i| i.get_ref() == "*") {
            if items.len() > 1 {
                self.error(
                    list.span().start,
                    r#""*" already means every app; write apps = ["*"] alone"#.into(),
                );
                return None;
            }
            return Some(AppSet::All);
        }
        let mut indexes = Vec::new();
        for item in items {
            let name = item.get_ref();
            match self.apps.iter().position(|a| a.name == *name) {
                Some(i) => indexes.push(i),
                None => {
                    let message = format!(
                        r#"unknown app "{name}", so this rule does not apply to it{}; apps are defined in apps.toml"#,
                        suggestion(name, self.apps.iter().map(|a| a.name.as_str()))
                    );
                    self.diags.warn(self.src, Some(item.span().start), message);
                }
            }
        }
        indexes.sort_unstable();
        indexes.dedup();
        Some(AppSet::Some(indexes))
    }

    fn paths(&mut self, list: &Spanned<List>) -> Vec<PathPattern> {
        if list.get_ref().0.is_empty() {
            self.error(
                list.span().start,
                "paths = [] matches no path; remove the key to match every path".into(),
            );
        }
        let mut out = Vec::new();
        for item in &list.get_ref().0 {
            match PathPattern::parse(item.get_ref()) {
                Ok(p) => out.push(p),
                Err(message) => self.error(item.span().start, message),
            }
        }
        out
    }

    fn methods(&mut self, list: &Spanned<List>) -> Vec<String> {
        if list.get_ref().0.is_empty() {
            self.error(
                list.span().start,
                "methods = [] matches no method; remove the key to match every method".into(),
            );
        }
        let mut out = Vec::new();
        for item in &list.get_ref().0 {
            let m = item.get_ref();
            if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) {
                out.push(m.clone());
            } else if !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()) {
                let message = format!(
                    r#"methods are upper-case; write "{}""#,
                    m.to_ascii_uppercase()
                );
                self.error(item.span().start, message);
            } else {
                self.error(
                    item.span().start,
                    format!(r#""{m}" is not an HTTP method; write one like "GET" or "POST""#),
                );
            }
        }
        out
    }

    fn from(&mut self, list: &Spanned<List>) -> Sources {
        if list.get_ref().0.is_empty() {
            self.error(
                list.span().start,
                "from = [] matches no address; remove the key to allow any source".into(),
            );
        }
        let mut from = Sources {
            written: Vec::new(),
            nets: Vec::new(),
        };
        for item in &list.get_ref().0 {
            let text = item.get_ref();
            from.written.push(text.clone());
            if let Some(net) = parse_net(text) {
                warn_host_bits(self.src, item, net, self.diags);
                from.nets.push(net.trunc());
            } else if let Some(set) = self.networks.get(text) {
                self.used.insert(text.clone());
                from.nets.extend(set.nets.iter().copied());
            } else {
                let message = if self.networks.is_empty() {
                    format!(
                        r#"unknown network set "{text}"; define it under [networks], or write an address range like "10.0.0.0/8""#
                    )
                } else {
                    let names: Vec<&str> = self.networks.keys().map(String::as_str).collect();
                    format!(
                        r#"unknown network set "{text}"; define it under [networks] or use one of: {}"#,
                        names.join(", ")
                    )
                };
                self.error(item.span().start, message);
            }
        }
        from
    }

    fn login(
        &mut self,
        login: &Spanned<String>,
        effect: Effect,
        subjects: &Subjects,
    ) -> Option<LoginStrength> {
        let at = login.span().start;
        let strength = match login.get_ref().parse::<LoginStrength>() {
            Ok(s) => s,
            Err(e) => {
                self.error(at, e.to_string());
                return None;
            }
        };
        if effect == Effect::Deny {
            self.error(at, "login applies to allow rules only: a deny rule refuses whatever the login; remove login".into());
            return None;
        }
        if subjects.everyone {
            self.error(at, r#"login cannot apply to "everyone", which includes people who are not logged in; allow "authenticated" or a group instead"#.into());
            return None;
        }
        Some(strength)
    }
}

fn is_subject_name(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_whitespace)
}

/// `; did you mean "x"?` when a known name is within two edits of `name`.
fn suggestion<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> String {
    known
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!(r#" (did you mean "{k}"?)"#))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_for_near_misses_only() {
        assert_eq!(edit_distance("vidoe", "video"), 2);
        let known = ["video", "files"];
        assert_eq!(
            suggestion("vidoe", known.into_iter()),
            r#" (did you mean "video"?)"#
        );
        assert_eq!(suggestion("payroll", known.into_iter()), "");
    }
}
