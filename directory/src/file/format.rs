//! The people file: TOML in, checked users out, every problem with its line and key.
//!
//! ```text
//! text ──toml (deny unknown keys, spans)──▶ PeopleFile ──check──▶ People
//!                │                                      │
//!                └──────── FileProblem { line, column, key, message } ◀┘
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use argon2::PasswordHash;
use serde::Deserialize;
use toml::Spanned;

use crate::factors::{FactorKind, MAX_FACTORS_PER_KIND, StoredFactors, check_value};
use crate::input::check_username;
use crate::record::{UserRecord, normalise_groups};

/// What the file format allows, as the file spells it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeopleFile {
    #[serde(default)]
    user: Vec<UserEntry>,
    #[serde(default)]
    group: Vec<GroupEntry>,
}

/// A `[[group]]` table: declares a group, so that it exists while nobody is in it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupEntry {
    name: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    username: Spanned<String>,
    id: Spanned<String>,
    name: Spanned<String>,
    #[serde(default)]
    email: Option<Spanned<String>>,
    password: Spanned<String>,
    #[serde(default)]
    groups: Vec<Spanned<String>>,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    totp: Vec<Spanned<String>>,
    #[serde(default)]
    passkeys: Vec<Spanned<String>>,
    #[serde(default)]
    recovery_codes: Vec<Spanned<String>>,
}

impl UserEntry {
    fn factor_values(&self, kind: FactorKind) -> &[Spanned<String>] {
        match kind {
            FactorKind::Totp => &self.totp,
            FactorKind::Passkey => &self.passkeys,
            FactorKind::RecoveryCode => &self.recovery_codes,
        }
    }
}

/// A checked user with the hash to verify against and their second factors.
#[derive(Clone)]
pub(crate) struct StoredUser {
    pub(crate) record: UserRecord,
    pub(crate) hash: String,
    pub(crate) disabled: bool,
    pub(crate) factors: StoredFactors,
}

impl fmt::Debug for StoredUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredUser")
            .field("record", &self.record)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// Every user of one file, by lowercased username, and the groups declared on their own.
#[derive(Debug, Default)]
pub(crate) struct People {
    pub(crate) by_name: HashMap<String, StoredUser>,
    pub(crate) declared: BTreeSet<String>,
}

impl People {
    /// Every group: declared ones and those any user is in.
    pub(crate) fn group_names(&self) -> BTreeSet<String> {
        let mut names = self.declared.clone();
        for user in self.by_name.values() {
            names.extend(user.record.groups.iter().cloned());
        }
        names
    }
}

/// One problem in a people file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// Line, counting from 1.
    pub line: usize,
    /// Column in characters, counting from 1.
    pub column: usize,
    /// The key the problem is about (`user[2].password`), when known.
    pub key: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Why a people file was not (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("cannot read people file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid; every problem is listed.
    #[error("{}", render(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The problems, in file order; never empty.
        problems: Vec<FileProblem>,
    },
}

fn render(path: &Path, problems: &[FileProblem]) -> String {
    problems
        .iter()
        .map(|p| {
            let key = p
                .key
                .as_deref()
                .map(|k| format!(" {k}:"))
                .unwrap_or_default();
            format!(
                "{}:{}:{}:{key} {}",
                path.display(),
                p.line,
                p.column,
                p.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads and checks the text of the people file `path`.
pub(crate) fn parse(path: &Path, text: &str) -> Result<People, FileError> {
    let invalid = |problems| FileError::Invalid {
        path: path.to_owned(),
        problems,
    };
    let file: PeopleFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        invalid(vec![problem_at(
            text,
            offset,
            key_at(text, offset),
            e.message(),
        )])
    })?;
    let mut checker = Checker {
        text,
        problems: Vec::new(),
        names: HashMap::new(),
        ids: HashMap::new(),
    };
    let mut people = People::default();
    for (i, entry) in file.user.into_iter().enumerate() {
        if let Some(user) = checker.user(i, entry) {
            people
                .by_name
                .insert(user.record.username.to_lowercase(), user);
        }
    }
    let mut groups: HashMap<String, usize> = HashMap::new();
    for (i, entry) in file.group.into_iter().enumerate() {
        let key = format!("group[{i}].name");
        let name = entry.name.get_ref();
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            checker.add(&entry.name, key, "not a group name");
        } else if let Some(first) = groups.insert(name.clone(), checker.line(&entry.name)) {
            checker.add(&entry.name, key, format!("also declared at line {first}"));
        } else {
            people.declared.insert(entry.name.into_inner());
        }
    }
    if checker.problems.is_empty() {
        Ok(people)
    } else {
        checker.problems.sort_by_key(|p| (p.line, p.column));
        Err(invalid(checker.problems))
    }
}

struct Checker<'t> {
    text: &'t str,
    problems: Vec<FileProblem>,
    /// Lowercased username → line of its first use.
    names: HashMap<String, usize>,
    /// id → line of its first use.
    ids: HashMap<String, usize>,
}

impl Checker<'_> {
    fn add<T>(&mut self, value: &Spanned<T>, key: String, message: impl Into<String>) {
        let p = problem_at(self.text, value.span().start, Some(key), message);
        self.problems.push(p);
    }

    fn line(&self, value: &Spanned<String>) -> usize {
        position(self.text, value.span().start).0
    }

    fn user(&mut self, i: usize, e: UserEntry) -> Option<StoredUser> {
        let before = self.problems.len();
        let key = |field: &str| format!("user[{i}].{field}");
        if let Err(err) = check_username(e.username.get_ref()) {
            self.add(&e.username, key("username"), err.to_string());
        }
        let line = self.line(&e.username);
        if let Some(first) = self.names.insert(e.username.get_ref().to_lowercase(), line) {
            self.add(
                &e.username,
                key("username"),
                format!("also used at line {first}"),
            );
        }
        if e.id.get_ref().trim().is_empty() {
            self.add(
                &e.id,
                key("id"),
                "empty: give a stable id that never changes",
            );
        }
        let line = self.line(&e.id);
        if let Some(first) = self.ids.insert(e.id.get_ref().clone(), line) {
            self.add(&e.id, key("id"), format!("also used at line {first}"));
        }
        if e.name.get_ref().trim().is_empty() {
            self.add(
                &e.name,
                key("name"),
                "empty: give the person's display name",
            );
        }
        if let Some(email) = &e.email
            && !email.get_ref().contains('@')
        {
            self.add(email, key("email"), "not a mail address");
        }
        if let Err(message) = check_hash(e.password.get_ref()) {
            self.add(&e.password, key("password"), message);
        }
        for (g, group) in e.groups.iter().enumerate() {
            let name = group.get_ref();
            if name.trim().is_empty() || name.chars().any(char::is_control) {
                self.add(group, key(&format!("groups[{g}]")), "not a group name");
            }
        }
        for kind in FactorKind::ALL {
            self.factors(i, kind, e.factor_values(kind));
        }
        let factors = StoredFactors {
            totp: e.totp.into_iter().map(Spanned::into_inner).collect(),
            passkeys: e.passkeys.into_iter().map(Spanned::into_inner).collect(),
            recovery_codes: e
                .recovery_codes
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
        };
        (self.problems.len() == before).then(|| StoredUser {
            record: UserRecord {
                subject: e.id.into_inner(),
                username: e.username.into_inner(),
                display_name: e.name.into_inner(),
                email: e.email.map(Spanned::into_inner),
                groups: normalise_groups(e.groups.into_iter().map(Spanned::into_inner).collect()),
            },
            hash: e.password.into_inner(),
            disabled: e.disabled,
            factors,
        })
    }

    /// Checks one kind of a user's second factors: each value usable, none twice (removing one
    /// would remove both), at most [`MAX_FACTORS_PER_KIND`]. Messages never repeat a value.
    fn factors(&mut self, i: usize, kind: FactorKind, values: &[Spanned<String>]) {
        let key = |v: usize| format!("user[{i}].{}[{v}]", kind.file_key());
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (v, value) in values.iter().enumerate() {
            if let Err(err) = check_value(kind, value.get_ref()) {
                self.add(value, key(v), err.to_string());
            } else if let Some(first) = seen.insert(value.get_ref(), v) {
                self.add(value, key(v), format!("the same value as [{first}]"));
            }
        }
        if let Some(extra) = values.get(MAX_FACTORS_PER_KIND) {
            self.add(
                extra,
                key(MAX_FACTORS_PER_KIND),
                format!("more than {MAX_FACTORS_PER_KIND} values"),
            );
        }
    }
}

/// Accepts an argon2id PHC string whose parameters argon2 can use.
fn check_hash(phc: &str) -> Result<(), String> {
    const HELP: &str = "not an argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)";
    let hash = PasswordHash::new(phc).map_err(|_| HELP.to_owned())?;
    if hash.algorithm.as_str() != "argon2id" || hash.hash.is_none() {
        return Err(HELP.to_owned());
    }
    argon2::Params::try_from(&hash).map_err(|e| format!("argon2 parameters: {e}"))?;
    Ok(())
}

fn problem_at(
    text: &str,
    offset: usize,
    key: Option<String>,
    message: impl Into<String>,
) -> FileProblem {
    let (line, column) = position(text, offset);
    FileProblem {
        line,
        column,
        key,
        message: message.into(),
    }
}

/// 1-based line and column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The key of the `key = value` line at `offset`, prefixed with its `[[user]]` table.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next()?;
    let key = line.split_once('=')?.0.trim();
    let index = before
        .lines()
        .filter(|l| l.trim() == "[[user]]")
        .count()
        .checked_sub(1);
    Some(match index {
        Some(i) => format!("user[{i}].{key}"),
        None => key.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$zJKj/go6XYv2p/LoNtaNnw$LSn+NE0xsx42p+xgj6Z1nWUSJ/CQ0sxLYxvaDdsJfpw";

    fn errors(text: &str) -> Vec<(usize, Option<String>, String)> {
        match parse(Path::new("people.toml"), text) {
            Ok(_) => Vec::new(),
            Err(FileError::Invalid { problems, .. }) => problems
                .into_iter()
                .map(|p| (p.line, p.key, p.message))
                .collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_valid_file_loads() {
        let text = format!(
            "[[user]]\nusername = \"Alice\"\nid = \"1\"\nname = \"Alice\"\npassword = \"{HASH}\"\ngroups = [\"staff\", \"admins\", \"staff\"]\n"
        );
        let people = parse(Path::new("p.toml"), &text).unwrap();
        let alice = &people.by_name["alice"];
        assert_eq!(alice.record.groups, ["admins", "staff"]);
        assert_eq!(alice.record.username, "Alice");
        assert!(!format!("{alice:?}").contains("argon2"), "no hash in Debug");
    }

    #[test]
    fn unknown_keys_are_refused_with_line_and_key() {
        let text = format!(
            "[[user]]\nusername = \"a\"\nid = \"1\"\nname = \"A\"\npassword = \"{HASH}\"\nemial = \"a@x\"\n"
        );
        let e = errors(&text);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, 6);
        assert_eq!(e[0].1.as_deref(), Some("user[0].emial"));
        assert!(e[0].2.contains("emial"), "{}", e[0].2);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = errors("[[user]]\nusername = \"a\nid = 1\n");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, 2);
    }

    #[test]
    fn every_validation_problem_is_listed_in_file_order() {
        let text = format!(
            "[[user]]\nusername = \"a\"\nid = \"1\"\nname = \"A\"\npassword = \"{HASH}\"\n\n\
             [[user]]\nusername = \"A\"\nid = \"1\"\nname = \"\"\nemail = \"nomail\"\npassword = \"secret\"\ngroups = [\"\"]\n"
        );
        let e = errors(&text);
        let got: Vec<(usize, &str)> = e
            .iter()
            .map(|(l, k, _)| (*l, k.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            got,
            [
                (8, "user[1].username"),
                (9, "user[1].id"),
                (10, "user[1].name"),
                (11, "user[1].email"),
                (12, "user[1].password"),
                (13, "user[1].groups[0]"),
            ]
        );
        assert!(e[0].2.contains("line 2"), "names the first use: {}", e[0].2);
    }

    #[test]
    fn groups_are_declared_once_and_counted_with_the_users_ones() {
        let text = format!(
            "[[user]]\nusername = \"a\"\nid = \"1\"\nname = \"A\"\npassword = \"{HASH}\"\ngroups = [\"staff\"]\n\n\
             [[group]]\nname = \"video\"\n\n[[group]]\nname = \"video\"\n"
        );
        let e = errors(&text);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].0, e[0].1.as_deref()), (12, Some("group[1].name")));
        let people = parse(
            Path::new("p.toml"),
            &text.replace("[[group]]\nname = \"video\"\n\n[[group]]", "[[group]]"),
        )
        .unwrap();
        let names: Vec<String> = people.group_names().into_iter().collect();
        assert_eq!(names, ["staff", "video"]);
    }

    #[test]
    fn hashes_other_than_argon2id_are_refused() {
        assert!(check_hash(HASH).is_ok());
        assert!(check_hash("$argon2i$v=19$m=19456,t=2,p=1$zJKj/go6XYv2p/LoNtaNnw$LSn+NE0xsx42p+xgj6Z1nWUSJ/CQ0sxLYxvaDdsJfpw").is_err());
        assert!(check_hash("{SSHA}abc").is_err());
        assert!(check_hash("").is_err());
    }

    #[test]
    fn the_error_display_names_file_line_and_key() {
        let err = parse(Path::new("people.toml"), "[[user]]\nusername = 3\n").unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("people.toml:2:"), "{shown}");
        assert!(shown.contains("user[0].username"), "{shown}");
    }
}
