//! Edits of the people file's text that keep everything else as the admin wrote it: comments,
//! blank lines, key order and quoting (toml_edit). Only the keys a command changes are touched;
//! a new user or group is appended as a `[[user]]` or `[[group]]` table.
//!
//! Comments belong to what follows them: the comment lines right above a `[[user]]` table go
//! with it when the user is deleted, while the text above the last blank line before it (the
//! file's head comment, a section comment) stays, moved onto whatever comes next.

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value, value};

/// Why the file's layout does not allow the edit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct LayoutError(String);

/// The fields of a new `[[user]]` table.
#[derive(Debug)]
pub(crate) struct NewEntry<'a> {
    pub(crate) username: &'a str,
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) email: Option<&'a str>,
    pub(crate) password: &'a str,
    pub(crate) groups: &'a [String],
}

/// The `[[kind]]` tables, created when there are none yet.
fn tables<'d>(doc: &'d mut DocumentMut, kind: &str) -> Result<&'d mut ArrayOfTables, LayoutError> {
    if !doc.contains_key(kind) {
        doc.insert(kind, Item::ArrayOfTables(ArrayOfTables::new()));
    }
    doc.get_mut(kind)
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| {
            LayoutError(format!(
                "`{kind}` is not written as [[{kind}]] tables; rewrite it that way to edit it with pforte-admin"
            ))
        })
}

/// The `[[user]]` table of `username` (compared without regard to case).
fn user_table<'d>(doc: &'d mut DocumentMut, username: &str) -> Result<&'d mut Table, LayoutError> {
    let wanted = username.to_lowercase();
    tables(doc, "user")?
        .iter_mut()
        .find(|t| {
            t.get("username")
                .and_then(Item::as_str)
                .is_some_and(|u| u.to_lowercase() == wanted)
        })
        .ok_or_else(|| LayoutError(format!("no [[user]] table for {username:?}")))
}

/// Appends a table, separated by a blank line. In a file that holds nothing but comments, the
/// comments stay above it.
fn append(doc: &mut DocumentMut, kind: &str, mut table: Table) -> Result<(), LayoutError> {
    let mut prefix = String::from("\n");
    if doc.as_table().is_empty() {
        prefix = doc.trailing().as_str().unwrap_or_default().to_owned();
        doc.set_trailing("");
    }
    table.decor_mut().set_prefix(prefix);
    tables(doc, kind)?.push(table);
    Ok(())
}

/// Sets `key` to `new`, keeping the spacing and comment around the old value.
fn set(table: &mut Table, key: &str, new: impl Into<Value>) {
    let mut new = new.into();
    if let Some(old) = table.get(key).and_then(Item::as_value) {
        *new.decor_mut() = old.decor().clone();
    }
    table.insert(key, Item::Value(new));
}

/// Appends a user.
pub(crate) fn add_user(doc: &mut DocumentMut, user: &NewEntry<'_>) -> Result<(), LayoutError> {
    let mut t = Table::new();
    t.insert("username", value(user.username));
    t.insert("id", value(user.id));
    t.insert("name", value(user.name));
    if let Some(email) = user.email {
        t.insert("email", value(email));
    }
    t.insert("password", value(user.password));
    if !user.groups.is_empty() {
        t.insert("groups", value(user.groups.iter().collect::<Array>()));
    }
    append(doc, "user", t)
}

/// Replaces a user's password hash.
pub(crate) fn set_password(
    doc: &mut DocumentMut,
    username: &str,
    hash: &str,
) -> Result<(), LayoutError> {
    set(user_table(doc, username)?, "password", hash);
    Ok(())
}

/// Disables a user (`disabled = true`) or enables them (the key goes: false is the default).
pub(crate) fn set_disabled(
    doc: &mut DocumentMut,
    username: &str,
    disabled: bool,
) -> Result<(), LayoutError> {
    let table = user_table(doc, username)?;
    if disabled {
        set(table, "disabled", true);
    } else {
        table.remove("disabled");
    }
    Ok(())
}

/// Adds `group` to a user's groups.
pub(crate) fn join(doc: &mut DocumentMut, username: &str, group: &str) -> Result<(), LayoutError> {
    let table = user_table(doc, username)?;
    match table.get_mut("groups").and_then(Item::as_array_mut) {
        Some(groups) => groups.push(group),
        None => set(table, "groups", [group].into_iter().collect::<Array>()),
    }
    Ok(())
}

/// Takes `group` out of a user's groups.
pub(crate) fn leave(doc: &mut DocumentMut, username: &str, group: &str) -> Result<(), LayoutError> {
    let table = user_table(doc, username)?;
    if let Some(groups) = table.get_mut("groups").and_then(Item::as_array_mut) {
        groups.retain(|g| g.as_str() != Some(group));
        if let Some(first) = groups.get_mut(0) {
            first.decor_mut().set_prefix("");
        }
    }
    Ok(())
}

/// Appends `value` to the user's list under `key` (a second factor kind), made when missing.
pub(crate) fn push_value(
    doc: &mut DocumentMut,
    username: &str,
    key: &str,
    value: &str,
) -> Result<(), LayoutError> {
    let table = user_table(doc, username)?;
    match table.get_mut(key).and_then(Item::as_array_mut) {
        Some(values) => values.push(value),
        None => set(table, key, [value].into_iter().collect::<Array>()),
    }
    Ok(())
}

/// Takes `value` out of the user's list under `key`; the key goes with its last value. Whether
/// the value was there.
pub(crate) fn remove_value(
    doc: &mut DocumentMut,
    username: &str,
    key: &str,
    value: &str,
) -> Result<bool, LayoutError> {
    let table = user_table(doc, username)?;
    let Some(values) = table.get_mut(key).and_then(Item::as_array_mut) else {
        return Ok(false);
    };
    let before = values.len();
    values.retain(|v| v.as_str() != Some(value));
    let removed = values.len() != before;
    if values.is_empty() {
        table.remove(key);
    } else if let Some(first) = values.get_mut(0) {
        first.decor_mut().set_prefix("");
    }
    Ok(removed)
}

/// Puts `new` where `old` is in the user's list under `key`. Whether `old` was there.
pub(crate) fn replace_value(
    doc: &mut DocumentMut,
    username: &str,
    key: &str,
    old: &str,
    new: &str,
) -> Result<bool, LayoutError> {
    let table = user_table(doc, username)?;
    let Some(values) = table.get_mut(key).and_then(Item::as_array_mut) else {
        return Ok(false);
    };
    let Some(at) = values.iter().position(|v| v.as_str() == Some(old)) else {
        return Ok(false);
    };
    let decor = values.get(at).map(|v| v.decor().clone());
    values.replace(at, new);
    if let (Some(decor), Some(slot)) = (decor, values.get_mut(at)) {
        *slot.decor_mut() = decor;
    }
    Ok(true)
}

/// Removes `key` from the user's table.
pub(crate) fn remove_key(
    doc: &mut DocumentMut,
    username: &str,
    key: &str,
) -> Result<(), LayoutError> {
    user_table(doc, username)?.remove(key);
    Ok(())
}

/// Appends a `[[group]]` declaration.
pub(crate) fn declare_group(doc: &mut DocumentMut, name: &str) -> Result<(), LayoutError> {
    let mut t = Table::new();
    t.insert("name", value(name));
    append(doc, "group", t)
}

/// Removes a user's table with the comment lines right above it; the text above the last blank
/// line before it moves onto the next table (or the end of the file).
pub(crate) fn remove_user(doc: &mut DocumentMut, username: &str) -> Result<(), LayoutError> {
    let wanted = username.to_lowercase();
    let users = tables(doc, "user")?;
    let index = users
        .iter()
        .position(|t| {
            t.get("username")
                .and_then(Item::as_str)
                .is_some_and(|u| u.to_lowercase() == wanted)
        })
        .ok_or_else(|| LayoutError(format!("no [[user]] table for {username:?}")))?;
    let removed = users.get(index).map(|t| {
        let prefix = t.decor().prefix().and_then(|p| p.as_str()).unwrap_or("");
        (t.position(), kept_part(prefix).to_owned())
    });
    users.remove(index);
    if let Some((position, kept)) = removed
        && !kept.is_empty()
    {
        hand_on(doc, position, &kept);
    }
    Ok(())
}

/// The part of a table's prefix that is not its own: everything up to and including the last
/// blank line.
fn kept_part(prefix: &str) -> &str {
    prefix.rfind("\n\n").map_or("", |i| &prefix[..i + 2])
}

/// `kept` (ending in a blank line) in front of `own`, with one blank line between them.
fn joined(kept: &str, own: &str) -> String {
    format!(
        "{}\n\n{}",
        kept.trim_end_matches('\n'),
        own.trim_start_matches('\n')
    )
}

/// Puts `text` in front of the first table after `position`, or at the end of the file.
fn hand_on(doc: &mut DocumentMut, position: Option<isize>, text: &str) {
    let mut next: Option<(&str, usize, Option<isize>)> = None;
    for kind in ["user", "group"] {
        let Some(list) = doc.get(kind).and_then(Item::as_array_of_tables) else {
            continue;
        };
        for (i, table) in list.iter().enumerate() {
            let at = table.position();
            if at > position && next.is_none_or(|(_, _, n)| at < n) {
                next = Some((kind, i, at));
            }
        }
    }
    let table = next.and_then(|(kind, i, _)| {
        doc.get_mut(kind)
            .and_then(Item::as_array_of_tables_mut)
            .and_then(|list| list.get_mut(i))
    });
    match table {
        Some(table) => {
            let own = table
                .decor()
                .prefix()
                .and_then(|p| p.as_str())
                .unwrap_or("")
                .to_owned();
            table.decor_mut().set_prefix(joined(text, &own));
        }
        None => {
            let own = doc.trailing().as_str().unwrap_or("").to_owned();
            doc.set_trailing(joined(text, &own));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# The people.\n# Second line.\n\n[[user]]\nusername = \"alice\"  # boss\nid = \"1\"\ngroups = [\"admins\", \"staff\"]\n\n# Bob is a partner.\n[[user]]\nusername = \"bob\"\nid = \"2\"\ngroups = [\"partners\"]\n\n# Groups nobody is in yet.\n[[group]]\nname = \"video\"\n";

    fn doc() -> DocumentMut {
        FILE.parse().unwrap()
    }

    #[test]
    fn a_new_user_is_appended_after_the_users_and_everything_else_stays() {
        let mut d = doc();
        let groups = vec!["staff".to_owned()];
        add_user(
            &mut d,
            &NewEntry {
                username: "frank",
                id: "3",
                name: "Frank Z",
                email: Some("f@x.org"),
                password: "$argon2id$x",
                groups: &groups,
            },
        )
        .unwrap();
        let text = d.to_string();
        assert!(
            text.starts_with(&FILE[..FILE.find("# Groups").unwrap()]),
            "{text}"
        );
        assert!(
            text.contains("groups = [\"partners\"]\n\n[[user]]\nusername = \"frank\"\nid = \"3\"\nname = \"Frank Z\"\nemail = \"f@x.org\"\npassword = \"$argon2id$x\"\ngroups = [\"staff\"]\n"),
            "{text}"
        );
        assert!(
            text.ends_with("# Groups nobody is in yet.\n[[group]]\nname = \"video\"\n"),
            "{text}"
        );
    }

    #[test]
    fn changed_keys_keep_their_comments() {
        let mut d = doc();
        set_password(&mut d, "ALICE", "new").unwrap();
        set_disabled(&mut d, "alice", true).unwrap();
        join(&mut d, "alice", "finance").unwrap();
        leave(&mut d, "alice", "admins").unwrap();
        let text = d.to_string();
        assert!(text.contains("username = \"alice\"  # boss\n"), "{text}");
        assert!(text.contains("password = \"new\""), "{text}");
        assert!(text.contains("disabled = true"), "{text}");
        assert!(text.contains("groups = [\"staff\", \"finance\"]"), "{text}");
        set_disabled(&mut d, "alice", false).unwrap();
        assert!(!d.to_string().contains("disabled"));
        join(&mut d, "bob", "video").unwrap();
        assert!(d.to_string().contains("groups = [\"partners\", \"video\"]"));
    }

    #[test]
    fn a_deleted_user_takes_its_own_comment_and_leaves_the_head_comment() {
        let mut d = doc();
        remove_user(&mut d, "alice").unwrap();
        let text = d.to_string();
        assert!(
            text.starts_with(
                "# The people.\n# Second line.\n\n# Bob is a partner.\n[[user]]\nusername = \"bob\""
            ),
            "{text}"
        );
        remove_user(&mut d, "bob").unwrap();
        let text = d.to_string();
        assert!(!text.contains("Bob"), "{text}");
        assert!(
            text.starts_with("# The people.\n# Second line.\n\n"),
            "{text}"
        );
        assert!(text.contains("[[group]]"), "{text}");
        assert!(remove_user(&mut d, "carol").is_err());
    }

    #[test]
    fn a_file_of_comments_keeps_them_above_the_first_table() {
        let mut d: DocumentMut = "# Our people.\n".parse().unwrap();
        declare_group(&mut d, "video").unwrap();
        assert_eq!(
            d.to_string(),
            "# Our people.\n[[group]]\nname = \"video\"\n"
        );
    }

    #[test]
    fn factor_lists_grow_shrink_and_go_with_their_last_value() {
        let mut d = doc();
        push_value(&mut d, "alice", "totp", "t1").unwrap();
        push_value(&mut d, "alice", "recovery_codes", "r1").unwrap();
        push_value(&mut d, "alice", "recovery_codes", "r2").unwrap();
        let text = d.to_string();
        assert!(text.contains("username = \"alice\"  # boss\n"), "{text}");
        assert!(text.contains("totp = [\"t1\"]\n"), "{text}");
        assert!(
            text.contains("recovery_codes = [\"r1\", \"r2\"]\n"),
            "{text}"
        );
        assert!(replace_value(&mut d, "alice", "recovery_codes", "r1", "r3").unwrap());
        assert!(!replace_value(&mut d, "alice", "recovery_codes", "r1", "r4").unwrap());
        assert!(
            d.to_string()
                .contains("recovery_codes = [\"r3\", \"r2\"]\n")
        );
        assert!(remove_value(&mut d, "alice", "recovery_codes", "r3").unwrap());
        assert!(!remove_value(&mut d, "alice", "recovery_codes", "r3").unwrap());
        assert!(d.to_string().contains("recovery_codes = [\"r2\"]\n"));
        assert!(remove_value(&mut d, "alice", "totp", "t1").unwrap());
        assert!(!d.to_string().contains("totp"), "the empty list goes");
        assert!(!remove_value(&mut d, "bob", "totp", "t1").unwrap());
        remove_key(&mut d, "alice", "recovery_codes").unwrap();
        assert_eq!(d.to_string(), FILE, "back to the text as written");
    }

    #[test]
    fn users_written_inline_are_not_edited() {
        let mut d: DocumentMut = "user = [{ username = \"a\" }]\n".parse().unwrap();
        assert!(set_password(&mut d, "a", "x").is_err());
    }
}
