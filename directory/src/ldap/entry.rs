//! Entries as the server sent them, read without trusting their shape, and the few conversions
//! that Active Directory needs.
//!
//! `ldap3::SearchEntry::construct` panics on an entry it cannot read; this reader returns `None`
//! instead, and keeps every value as bytes so that binary attributes (objectGUID) survive even
//! when they happen to be valid UTF-8.

use std::collections::HashMap;

use ldap3::ResultEntry;
use ldap3::asn1::StructureTag;

/// LDAP's SearchResultEntry is [APPLICATION 4].
const SEARCH_RESULT_ENTRY: u64 = 4;

/// userAccountControl's ACCOUNTDISABLE bit.
const ACCOUNT_DISABLE: i64 = 0x2;

/// One entry: its DN and its attribute values, keyed by the lowercased attribute name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The entry's DN.
    pub(crate) dn: String,
    attrs: HashMap<String, Vec<Vec<u8>>>,
}

impl Entry {
    /// Reads a search result entry; `None` for referrals and for anything malformed.
    pub(crate) fn parse(raw: ResultEntry) -> Option<Self> {
        let mut parts = raw
            .0
            .match_id(SEARCH_RESULT_ENTRY)?
            .expect_constructed()?
            .into_iter();
        let dn = String::from_utf8(parts.next()?.expect_primitive()?).ok()?;
        let mut attrs = HashMap::new();
        for attribute in parts.next()?.expect_constructed()? {
            let (name, values) = parse_attribute(attribute)?;
            attrs.insert(name, values);
        }
        Some(Self { dn, attrs })
    }

    /// An entry built from parts, for tests of the mapping.
    #[cfg(test)]
    pub(crate) fn new(dn: &str, attrs: &[(&str, &[&[u8]])]) -> Self {
        Self {
            dn: dn.to_owned(),
            attrs: attrs
                .iter()
                .map(|(k, vs)| {
                    (
                        k.to_ascii_lowercase(),
                        vs.iter().map(|v| v.to_vec()).collect(),
                    )
                })
                .collect(),
        }
    }

    /// All values of `attribute`.
    pub(crate) fn values(&self, attribute: &str) -> &[Vec<u8>] {
        self.attrs
            .get(&attribute.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// The values of `attribute` that are text.
    pub(crate) fn texts(&self, attribute: &str) -> impl Iterator<Item = &str> {
        self.values(attribute)
            .iter()
            .filter_map(|v| std::str::from_utf8(v).ok())
    }

    /// The first non-empty text value of `attribute`.
    pub(crate) fn text(&self, attribute: &str) -> Option<&str> {
        self.texts(attribute).find(|v| !v.is_empty())
    }
}

fn parse_attribute(tag: StructureTag) -> Option<(String, Vec<Vec<u8>>)> {
    let mut parts = tag.expect_constructed()?.into_iter();
    let name = String::from_utf8(parts.next()?.expect_primitive()?).ok()?;
    let values = parts
        .next()?
        .expect_constructed()?
        .into_iter()
        .map(StructureTag::expect_primitive)
        .collect::<Option<Vec<_>>>()?;
    Some((name.to_ascii_lowercase(), values))
}

/// Active Directory's objectGUID (16 bytes, first three fields little-endian) as the UUID string
/// AD's own tools show.
pub(crate) fn guid_to_uuid(bytes: &[u8]) -> Option<String> {
    uuid::Uuid::from_slice_le(bytes)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// Whether Active Directory's userAccountControl value has the ACCOUNTDISABLE bit. An unreadable
/// value counts as disabled: refusing is the safe side.
pub(crate) fn account_disabled(user_account_control: &str) -> bool {
    user_account_control
        .trim()
        .parse::<i64>()
        .map_or(true, |v| v & ACCOUNT_DISABLE != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3::asn1::{PL, TagClass};

    fn primitive(id: u64, bytes: &[u8]) -> StructureTag {
        StructureTag {
            class: TagClass::Universal,
            id,
            payload: PL::P(bytes.to_vec()),
        }
    }

    fn constructed(class: TagClass, id: u64, inner: Vec<StructureTag>) -> StructureTag {
        StructureTag {
            class,
            id,
            payload: PL::C(inner),
        }
    }

    #[test]
    fn a_well_formed_entry_is_read_with_binary_values_intact() {
        let guid: &[u8] = &[
            0x61, 0x62, 0x63, 0x64, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xfe, 0xff,
        ];
        let attribute = |name: &str, value: &[u8]| {
            constructed(
                TagClass::Universal,
                16,
                vec![
                    primitive(4, name.as_bytes()),
                    constructed(TagClass::Universal, 17, vec![primitive(4, value)]),
                ],
            )
        };
        let raw = constructed(
            TagClass::Application,
            4,
            vec![
                primitive(4, b"uid=alice,ou=people"),
                constructed(
                    TagClass::Universal,
                    16,
                    vec![attribute("objectGUID", guid), attribute("cn", b"Alice")],
                ),
            ],
        );
        let entry = Entry::parse(ResultEntry::new(raw)).expect("parsed");
        assert_eq!(entry.dn, "uid=alice,ou=people");
        assert_eq!(entry.values("objectguid"), [guid.to_vec()]);
        assert_eq!(entry.text("CN"), Some("Alice"));
        assert_eq!(entry.text("mail"), None);
    }

    #[test]
    fn malformed_entries_are_refused_without_panicking() {
        let referral = constructed(TagClass::Application, 19, vec![]);
        assert_eq!(Entry::parse(ResultEntry::new(referral)), None);
        let no_dn = constructed(TagClass::Application, 4, vec![]);
        assert_eq!(Entry::parse(ResultEntry::new(no_dn)), None);
        let primitive_entry = StructureTag {
            class: TagClass::Application,
            id: 4,
            payload: PL::P(vec![1, 2, 3]),
        };
        assert_eq!(Entry::parse(ResultEntry::new(primitive_entry)), None);
    }

    #[test]
    fn object_guid_renders_as_ad_shows_it() {
        // AD shows this objectGUID as {4d3c2b1a-6f5e-8a7b-9c0d-e1f2a3b4c5d6}.
        let bytes = [
            0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x7b, 0x8a, 0x9c, 0x0d, 0xe1, 0xf2, 0xa3, 0xb4,
            0xc5, 0xd6,
        ];
        assert_eq!(
            guid_to_uuid(&bytes).as_deref(),
            Some("4d3c2b1a-6f5e-8a7b-9c0d-e1f2a3b4c5d6")
        );
        assert_eq!(guid_to_uuid(&bytes[..15]), None);
    }

    #[test]
    fn user_account_control_disabled_bit() {
        assert!(!account_disabled("512"), "NORMAL_ACCOUNT");
        assert!(account_disabled("514"), "NORMAL_ACCOUNT | ACCOUNTDISABLE");
        assert!(
            !account_disabled("66048"),
            "DONT_EXPIRE_PASSWORD | NORMAL_ACCOUNT"
        );
        assert!(account_disabled("66050"));
        assert!(account_disabled("garbage"));
        assert!(
            !account_disabled("-2147483136"),
            "negative values are signed 32-bit"
        );
    }
}
