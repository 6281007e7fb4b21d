//! Which events `audit show` prints: a person, an app, a kind of event and a time window, all
//! of which must match. Pure: the time "now" that `--since 2h` counts back from is passed in, so
//! the rules test without a clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// The fields that name a person: the subject, the user name typed or shown, the person an
/// admin changed, and the admin who changed something.
const PERSON_FIELDS: [&str; 4] = ["subject", "username", "user", "by"];

/// The fields that name an app: the app itself, or the OpenID Connect client acting for one.
const APP_FIELDS: [&str; 2] = ["app", "client"];

/// What an event must match to be shown; an unset part matches everything.
#[derive(Debug, Default)]
pub struct Filter {
    /// The names that count as the person asked for (their user name and the subjects their
    /// logins show), compared without regard to case; empty: anyone.
    pub person: Vec<String>,
    /// The app or client, exactly.
    pub app: Option<String>,
    /// The kind of event.
    pub kind: Option<KindPattern>,
    /// The earliest time shown (inclusive).
    pub since: Option<SystemTime>,
    /// The first time no longer shown (exclusive).
    pub until: Option<SystemTime>,
}

/// An `event` name, or a prefix of one (`oidc_*`), so a family of events is asked for at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindPattern {
    /// This event only.
    Exact(String),
    /// Every event starting with this.
    Prefix(String),
}

impl KindPattern {
    /// Reads `login_failure` or `oidc_*`.
    pub fn parse(text: &str) -> Self {
        match text.strip_suffix('*') {
            Some(prefix) => Self::Prefix(prefix.to_string()),
            None => Self::Exact(text.to_string()),
        }
    }

    fn matches(&self, event: &str) -> bool {
        match self {
            Self::Exact(name) => event == name,
            Self::Prefix(prefix) => event.starts_with(prefix.as_str()),
        }
    }
}

impl Filter {
    /// Whether the event (one audit line's object) is shown. An event whose time cannot be read
    /// is not shown when a time window is asked for: it cannot be placed in it.
    pub fn matches(&self, event: &Map<String, Value>) -> bool {
        if !self.person.is_empty() && !names_any(event, &self.person) {
            return false;
        }
        if let Some(app) = &self.app
            && !APP_FIELDS
                .iter()
                .any(|field| text(event, field) == Some(app))
        {
            return false;
        }
        if let Some(kind) = &self.kind
            && !text(event, "event").is_some_and(|name| kind.matches(name))
        {
            return false;
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(at) = text(event, "timestamp").and_then(|t| parse_rfc3339(t).ok()) else {
                return false;
            };
            if self.since.is_some_and(|since| at < since) || self.until.is_some_and(|u| at >= u) {
                return false;
            }
        }
        true
    }
}

/// Whether the event names one of `names` in a field that names a person.
fn names_any(event: &Map<String, Value>, names: &[String]) -> bool {
    PERSON_FIELDS
        .iter()
        .filter_map(|field| text(event, field))
        .chain(locked_account(event))
        .any(|name| names.iter().any(|n| name.eq_ignore_ascii_case(n)))
}

/// The subject of a person the event shows with their user name (a login, an admin's change of
/// them), so `--person bob` also finds the events that name bob by subject only (a refusal).
pub fn subject_of<'a>(event: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    let named = ["username", "user"]
        .iter()
        .filter_map(|field| text(event, field))
        .any(|n| n.eq_ignore_ascii_case(name));
    named.then(|| text(event, "subject")).flatten()
}

/// A string field of an event, when present and not empty.
pub fn text<'a>(event: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    event
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The account a lockout or an unlock is about (its `key` is an address for an address lock).
pub fn locked_account(event: &Map<String, Value>) -> Option<&str> {
    (text(event, "scope") == Some("account"))
        .then(|| text(event, "key"))
        .flatten()
}

/// Why `--since` or `--until` could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "{text:?} is not a time: give RFC 3339 (2026-12-07T10:00:00Z, 2026-12-07T11:00:00+01:00, \
     2026-12-07) or a time back from now (30m, 2h, 7d)"
)]
pub struct TimeError {
    /// What was typed.
    pub text: String,
}

/// Reads `--since`/`--until`: an RFC 3339 time (a date alone is its midnight UTC), or a
/// duration back from `now` (`2h`, `7d`, `1h30m`).
pub fn parse_time(text: &str, now: SystemTime) -> Result<SystemTime, TimeError> {
    let bad = || TimeError {
        text: text.to_string(),
    };
    let trimmed = text.trim();
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) && trimmed.contains('-') {
        return parse_rfc3339(trimmed).map_err(|()| bad());
    }
    let back = humantime::parse_duration(trimmed).map_err(|_| bad())?;
    now.checked_sub(back).ok_or_else(bad)
}

/// An RFC 3339 time with `Z`, a `±HH:MM` offset, or none (UTC); or a date alone (midnight UTC).
/// The log's own `timestamp`s have the form `2026-12-07T22:16:50.123456Z`.
pub fn parse_rfc3339(text: &str) -> Result<SystemTime, ()> {
    if text.len() == 10 {
        return humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).map_err(|_| ());
    }
    let (local, offset) = split_offset(text)?;
    let local = humantime::parse_rfc3339_weak(local).map_err(|_| ())?;
    // A time at +01:00 is one hour ahead of UTC: UTC is the local time minus the offset.
    if offset >= 0 {
        local.checked_sub(Duration::from_secs(offset.unsigned_abs()))
    } else {
        local.checked_add(Duration::from_secs(offset.unsigned_abs()))
    }
    .ok_or(())
}

/// Splits `...Z` or `...+01:00` into the local part and the offset east of UTC, in seconds.
fn split_offset(text: &str) -> Result<(&str, i64), ()> {
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return Ok((local, 0));
    }
    let Some(time_at) = text.find(['T', 't', ' ']) else {
        return Ok((text, 0));
    };
    let Some(sign_at) = text[time_at..].rfind(['+', '-']).map(|i| time_at + i) else {
        return Ok((text, 0));
    };
    let (hours, minutes) = text[sign_at + 1..].split_once(':').ok_or(())?;
    let hours: i64 = hours.parse().map_err(|_| ())?;
    let minutes: i64 = minutes.parse().map_err(|_| ())?;
    if hours > 23 || minutes > 59 {
        return Err(());
    }
    let offset = hours * 3600 + minutes * 60;
    let sign = if text.as_bytes()[sign_at] == b'-' {
        -1
    } else {
        1
    };
    Ok((&text[..sign_at], sign * offset))
}

/// Unix seconds as a time, for the command's "now".
pub fn from_unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    const LOGIN: &str = r#"{"timestamp":"2026-12-07T10:00:00.250000Z","event":"login_success",
        "subject":"uid=alice","username":"alice","session":"s1"}"#;
    const ADMIN: &str = r#"{"timestamp":"2026-12-07T11:00:00Z","event":"user_disabled",
        "user":"bob","subject":"","group":"","by":"root"}"#;
    const OIDC: &str = r#"{"timestamp":"2026-12-07T12:00:00Z","event":"oidc_access_denied",
        "client":"wiki","subject":"uid=carol","detail":"x"}"#;
    const DENIED: &str = r#"{"timestamp":"2026-12-07T12:30:00Z","event":"access_denied",
        "app":"mail","subject":"","path":"/"}"#;
    const LOCKOUT: &str = r#"{"timestamp":"2026-12-07T13:00:00Z","event":"lockout",
        "scope":"account","key":"erin"}"#;

    /// The names of the sample events the filter shows.
    fn shown(filter: &Filter) -> Vec<String> {
        [LOGIN, ADMIN, OIDC, DENIED, LOCKOUT]
            .into_iter()
            .map(event)
            .filter(|e| filter.matches(e))
            .map(|e| e["event"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn a_person_is_found_in_any_field_that_names_one() {
        let person = |name: &str| Filter {
            person: vec![name.into()],
            ..Filter::default()
        };
        assert_eq!(shown(&person("ALICE")), ["login_success"]);
        assert_eq!(subject_of(&event(LOGIN), "Alice"), Some("uid=alice"));
        assert_eq!(subject_of(&event(ADMIN), "bob"), None, "no subject given");
        assert_eq!(subject_of(&event(OIDC), "carol"), None, "no name given");
        let alice = Filter {
            person: vec!["alice".into(), "uid=carol".into()],
            ..Filter::default()
        };
        assert_eq!(shown(&alice), ["login_success", "oidc_access_denied"]);
        assert_eq!(shown(&person("uid=alice")), ["login_success"]);
        assert_eq!(
            shown(&person("bob")),
            ["user_disabled"],
            "the person changed"
        );
        assert_eq!(shown(&person("root")), ["user_disabled"], "the admin");
        assert_eq!(shown(&person("erin")), ["lockout"], "a locked account");
        assert!(shown(&person("ali")).is_empty(), "whole names only");
        assert!(shown(&person("")).is_empty(), "empty fields name nobody");
    }

    #[test]
    fn an_app_is_its_name_or_its_client() {
        let app = |name: &str| Filter {
            app: Some(name.into()),
            ..Filter::default()
        };
        assert_eq!(shown(&app("mail")), ["access_denied"]);
        assert_eq!(shown(&app("wiki")), ["oidc_access_denied"]);
    }

    #[test]
    fn a_kind_is_exact_or_a_prefix_with_a_star() {
        let kind = |text: &str| Filter {
            kind: Some(KindPattern::parse(text)),
            ..Filter::default()
        };
        assert_eq!(shown(&kind("oidc_*")), ["oidc_access_denied"]);
        assert_eq!(shown(&kind("access_denied")), ["access_denied"]);
        assert!(shown(&kind("login")).is_empty(), "no star, no prefix");
        assert_eq!(shown(&kind("*")).len(), 5);
    }

    #[test]
    fn the_window_includes_its_start_and_excludes_its_end() {
        let window = Filter {
            since: Some(at("2026-12-07T11:00:00Z")),
            until: Some(at("2026-12-07T12:30:00Z")),
            ..Filter::default()
        };
        assert_eq!(shown(&window), ["user_disabled", "oidc_access_denied"]);
        let fraction = Filter {
            since: Some(at("2026-12-07T10:00:00.5Z")),
            until: Some(at("2026-12-07T11:00:00Z")),
            ..Filter::default()
        };
        assert!(
            shown(&fraction).is_empty(),
            "10:00:00.25 is before 10:00:00.5"
        );
        let no_time = event(r#"{"event":"login_success","username":"alice"}"#);
        assert!(!window.matches(&no_time), "a time window needs a time");
        assert!(Filter::default().matches(&no_time));
    }

    #[test]
    fn filters_combine() {
        let both = Filter {
            person: vec!["uid=carol".into()],
            kind: Some(KindPattern::parse("oidc_*")),
            since: Some(at("2026-12-07T12:00:00Z")),
            ..Filter::default()
        };
        assert_eq!(shown(&both), ["oidc_access_denied"]);
        let none = Filter {
            person: vec!["alice".into()],
            kind: Some(KindPattern::parse("oidc_*")),
            ..Filter::default()
        };
        assert!(shown(&none).is_empty());
    }

    #[test]
    fn times_are_rfc_3339_or_back_from_now() {
        let now = at("2026-12-07T12:00:00Z");
        let parse = |text| parse_time(text, now).unwrap();
        assert_eq!(parse("2h"), at("2026-12-07T10:00:00Z"));
        assert_eq!(parse("7d"), at("2026-11-30T12:00:00Z"));
        assert_eq!(parse("1h30m"), at("2026-12-07T10:30:00Z"));
        assert_eq!(parse("2026-12-07T10:00:00Z"), at("2026-12-07T10:00:00Z"));
        assert_eq!(
            parse("2026-12-07T10:00:00.5Z"),
            at("2026-12-07T10:00:00.5Z")
        );
        assert_eq!(
            parse("2026-12-07T11:00:00+01:00"),
            at("2026-12-07T10:00:00Z")
        );
        assert_eq!(
            parse("2026-12-07T05:30:00-04:30"),
            at("2026-12-07T10:00:00Z")
        );
        assert_eq!(parse("2026-12-07 10:00:00"), at("2026-12-07T10:00:00Z"));
        assert_eq!(parse("2026-12-07"), at("2026-12-07T00:00:00Z"));
        for bad in [
            "yesterday",
            "",
            "2026-13-01",
            "2026-12-07T10:00:00+25:00",
            "-2h",
            "2x",
        ] {
            let err = parse_time(bad, now).unwrap_err();
            assert!(err.to_string().contains("RFC 3339"), "{bad}: {err}");
        }
    }
}
