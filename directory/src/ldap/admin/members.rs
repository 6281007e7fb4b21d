//! The one modify operation that adds or removes a group member, planned without a server.
//!
//! `groupOfNames` and `groupOfUniqueNames` require at least one member, so a group can never be
//! empty. The usual answer, and the one taken here, is a placeholder value that names no person:
//! by default the empty DN `""` (valid DN syntax, the root of the tree, never a user; the
//! memberof overlay and the gateway's group walk ignore it). A new group is created holding it;
//! adding the first real member removes it and removing the last one puts it back, each in the
//! same modify operation, so the entry never breaks its schema and no half-done state is seen.
//! OpenLDAP's refint overlay does the same with its `olcRefintNothing` value when a member
//! entry is deleted; set `empty_group_member` to that value to use one placeholder throughout.

use std::collections::HashSet;

use ldap3::Mod;

use crate::nesting::normalise_dn;

/// The planned change was already made, or cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Adding a member that is there.
    AlreadyThere,
    /// Removing a member that is not.
    NotThere,
}

/// The stored spelling of `dn` among `values`.
fn stored<'a>(values: &'a [String], dn: &str) -> Option<&'a String> {
    let wanted = normalise_dn(dn.trim());
    values.iter().find(|v| normalise_dn(v.trim()) == wanted)
}

fn one(value: &str) -> HashSet<String> {
    HashSet::from([value.to_owned()])
}

/// Adds `dn` to `attribute` (whose values are `current`), dropping the placeholder if present.
pub(crate) fn add(
    attribute: &str,
    current: &[String],
    dn: &str,
    placeholder: Option<&str>,
) -> Result<Vec<Mod<String>>, Refusal> {
    if stored(current, dn).is_some() {
        return Err(Refusal::AlreadyThere);
    }
    let mut mods = vec![Mod::Add(attribute.to_owned(), one(dn))];
    if let Some(held) = placeholder.and_then(|p| stored(current, p)) {
        mods.push(Mod::Delete(attribute.to_owned(), one(held)));
    }
    Ok(mods)
}

/// Removes `dn` from `attribute`, putting the placeholder in when nobody else is left.
pub(crate) fn remove(
    attribute: &str,
    current: &[String],
    dn: &str,
    placeholder: Option<&str>,
) -> Result<Vec<Mod<String>>, Refusal> {
    let held = stored(current, dn).ok_or(Refusal::NotThere)?;
    let mut mods = Vec::new();
    if let Some(placeholder) = placeholder {
        let others = current
            .iter()
            .filter(|v| normalise_dn(v.trim()) != normalise_dn(dn.trim()))
            .count();
        if others == 0 {
            mods.push(Mod::Add(attribute.to_owned(), one(placeholder)));
        }
    }
    mods.push(Mod::Delete(attribute.to_owned(), one(held)));
    Ok(mods)
}

/// The values of `current` once `dn` is removed as [`remove`] removes it.
pub(crate) fn without(current: &[String], dn: &str, placeholder: Option<&str>) -> Vec<String> {
    let mut rest: Vec<String> = current
        .iter()
        .filter(|v| normalise_dn(v.trim()) != normalise_dn(dn.trim()))
        .cloned()
        .collect();
    if let Some(placeholder) = placeholder
        && rest.is_empty()
    {
        rest.push(placeholder.to_owned());
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "uid=alice,ou=people,dc=example,dc=org";

    fn values(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn shown(mods: &[Mod<String>]) -> Vec<String> {
        mods.iter()
            .map(|m| match m {
                Mod::Add(a, v) => format!("add {a} {:?}", v.iter().next()),
                Mod::Delete(a, v) => format!("delete {a} {:?}", v.iter().next()),
                _ => "other".into(),
            })
            .collect()
    }

    #[test]
    fn the_first_member_replaces_the_placeholder_in_one_operation() {
        let mods = add("member", &values(&[""]), ALICE, Some("")).unwrap();
        assert_eq!(
            shown(&mods),
            [
                format!("add member Some({ALICE:?})"),
                "delete member Some(\"\")".to_owned()
            ]
        );
        let mods = add("member", &values(&["uid=bob"]), ALICE, Some("")).unwrap();
        assert_eq!(mods.len(), 1, "no placeholder to drop");
    }

    #[test]
    fn the_last_member_leaves_the_placeholder_behind() {
        let mods = remove(
            "member",
            &values(&["UID=Alice,ou=people,dc=example,dc=org"]),
            ALICE,
            Some(""),
        )
        .unwrap();
        assert_eq!(
            shown(&mods),
            [
                "add member Some(\"\")".to_owned(),
                "delete member Some(\"UID=Alice,ou=people,dc=example,dc=org\")".to_owned()
            ],
            "deletes the stored spelling"
        );
        let mods = remove("member", &values(&[ALICE, "uid=bob"]), ALICE, Some("")).unwrap();
        assert_eq!(mods.len(), 1);
        let ad = remove("member", &values(&[ALICE]), ALICE, None).unwrap();
        assert_eq!(ad.len(), 1, "groups that may be empty get no placeholder");
    }

    #[test]
    fn without_is_what_remove_leaves() {
        assert_eq!(without(&values(&[ALICE]), ALICE, Some("")), [""]);
        assert_eq!(
            without(&values(&[ALICE, "uid=bob"]), ALICE, Some("")),
            ["uid=bob"]
        );
        assert!(without(&values(&[ALICE]), ALICE, None).is_empty());
    }

    #[test]
    fn members_already_there_or_missing_are_refused() {
        assert_eq!(
            add("member", &values(&[ALICE]), &ALICE.to_uppercase(), Some("")).err(),
            Some(Refusal::AlreadyThere)
        );
        assert_eq!(
            remove("member", &values(&[""]), ALICE, Some("")).err(),
            Some(Refusal::NotThere)
        );
    }
}
