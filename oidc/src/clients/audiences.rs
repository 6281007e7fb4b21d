//! `exchange_audiences`: the clients a client may exchange a person's token for (RFC 8693).
//!
//! The list is the whole of what token exchange may reach from a client, so it is checked as
//! strictly as redirect URIs: it needs the `token_exchange` grant (and that grant needs it),
//! and every entry must be another client of the same file. Entries are checked against every
//! id the file declares, so a target with problems of its own is reported once, at itself.

use std::collections::HashSet;
use std::ops::Range;

use super::GrantType;
use super::file::ClientEntry;

/// One problem: where in the file (a byte span) and what to do about it.
pub(super) type Found = (Range<usize>, String);

/// The audiences of `entry`, checked; `declared` is every client id in the file.
pub(super) fn check(
    entry: &ClientEntry,
    grants: &[GrantType],
    declared: &HashSet<String>,
) -> (Vec<String>, Vec<Found>) {
    let id = entry.id.get_ref();
    let list = &entry.exchange_audiences;
    let mut problems = Vec::new();
    let exchanges = grants.contains(&GrantType::TokenExchange);
    if exchanges && list.is_empty() {
        problems.push((
            entry.id.span(),
            format!(
                "client \"{id}\" uses token_exchange but has no exchange_audiences: list the \
                 client ids whose APIs it may get a person's token for"
            ),
        ));
    }
    if !exchanges && let Some(first) = list.first() {
        problems.push((
            first.span(),
            "exchange_audiences needs \"token_exchange\" in grant_types".to_owned(),
        ));
    }
    let mut audiences: Vec<String> = Vec::new();
    for item in list {
        let audience = item.get_ref();
        let problem = if audience == id {
            Some(format!(
                "client \"{id}\" cannot exchange tokens for itself; name another client"
            ))
        } else if !declared.contains(audience) {
            Some(format!(
                "\"{audience}\" is not a client of this file; exchange_audiences names client ids"
            ))
        } else if audiences.contains(audience) {
            Some(format!("\"{audience}\" is listed twice"))
        } else {
            None
        };
        match problem {
            Some(message) => problems.push((item.span(), message)),
            None => audiences.push(audience.clone()),
        }
    }
    (audiences, problems)
}
