//! The on-disk format: what serde reads from a policy file, before any meaning is checked.
//!
//! ```text
//! policy.toml ──toml──▶ PolicyFile (this module) ──resolve──▶ model::Rule ──compile──▶ Policy
//! ```
//!
//! Every field keeps its byte span so that validation can name line and column, and every
//! struct denies unknown fields so a misspelt key is an error, not a silently ignored rule.
//! Most fields are optional here even when the format requires them: `resolve` reports a
//! missing key together with every other problem, where serde would stop at the first.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{SeqAccess, Visitor};
use toml::Spanned;

/// One policy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyFile {
    /// Other files to read, relative to this one; `*` may stand in the file name.
    pub(crate) include: Option<Spanned<List>>,
    /// Named sets of networks, usable in a rule's `from`.
    #[serde(default)]
    pub(crate) networks: BTreeMap<Spanned<String>, Spanned<List>>,
    /// The rules, in the file's order (`[[rule]]` tables).
    #[serde(default)]
    pub(crate) rule: Vec<Spanned<RuleFile>>,
}

/// One `[[rule]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    /// App names, or `["*"]` for every app.
    pub(crate) apps: Option<Spanned<List>>,
    /// Subjects this rule grants access to.
    pub(crate) allow: Option<Spanned<List>>,
    /// Subjects this rule refuses.
    pub(crate) deny: Option<Spanned<List>>,
    /// Subjects a deny rule spares.
    pub(crate) except: Option<Spanned<List>>,
    /// Path prefixes or globs; absent means every path.
    pub(crate) paths: Option<Spanned<List>>,
    /// HTTP methods; absent means every method.
    pub(crate) methods: Option<Spanned<List>>,
    /// Network set names or address ranges; absent means from anywhere.
    pub(crate) from: Option<Spanned<List>>,
    /// The weakest login this allow rule accepts.
    pub(crate) login: Option<Spanned<String>>,
}

/// A list of strings, each with its span; its serde error says how to write a list.
#[derive(Debug, Default)]
pub(crate) struct List(pub(crate) Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = List;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a list of strings in brackets, like ["video"]"#)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    items.push(item);
                }
                Ok(List(items))
            }
        }
        d.deserialize_seq(ListVisitor)
    }
}
