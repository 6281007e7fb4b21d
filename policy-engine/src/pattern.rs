//! Path patterns of a rule's `paths`: a prefix on segment boundaries, or a glob with `*`.
//!
//! Both forms match without allocating, which keeps `decide` allocation-free.

use crate::normalise::normalise_path;

/// One entry of `paths`, checked and ready to match a normalised path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathPattern {
    /// `/docs` or `/docs/`: that path and everything below it; stored without the
    /// trailing `/` (so `/` is stored as the empty string and matches every path).
    Prefix(Box<str>),
    /// `/static/*.css`: the whole path must match; `*` stands for any characters, `/` included.
    Glob(Box<str>),
}

impl PathPattern {
    /// Checks a pattern as written in a file; the error message says how to fix it.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if !text.starts_with('/') {
            return Err(format!(
                r#"path "{text}" does not start with /; write it as a full path, like "/{}""#,
                text.trim_start_matches('/')
            ));
        }
        if text.contains(';') {
            return Err(format!(
                r#"path "{text}" contains ';': rules match paths without path parameters, write "{}""#,
                crate::normalise::policy_view(text)
            ));
        }
        match normalise_path(text) {
            Ok(normal) if normal == text => {}
            Ok(normal) => {
                return Err(format!(
                    r#"path "{text}" is not normalised; rules match normalised paths, write "{normal}""#
                ));
            }
            Err(e) => return Err(format!(r#"path "{text}" is not a valid path: {e}"#)),
        }
        if text.contains('*') {
            Ok(Self::Glob(text.into()))
        } else {
            Ok(Self::Prefix(text.trim_end_matches('/').into()))
        }
    }

    /// Whether a normalised request path matches.
    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            Self::Prefix(p) => is_under(path, p),
            Self::Glob(g) => glob_match(g, path),
        }
    }

    /// Whether every path this pattern's `other` matches is also matched by `self`
    /// (conservative: `false` when unsure). Used to warn about rules that never take effect.
    pub(crate) fn covers(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Prefix(p), Self::Prefix(q)) => is_under(q, p),
            (Self::Prefix(p), Self::Glob(g)) => {
                let literal = g.split('*').next().unwrap_or_default();
                p.is_empty()
                    || literal
                        .strip_prefix(&**p)
                        .is_some_and(|rest| rest.starts_with('/'))
            }
            (Self::Glob(g), Self::Glob(h)) => g == h,
            (Self::Glob(_), Self::Prefix(_)) => false,
        }
    }
}

/// `path` is `prefix` or below it (`prefix` has no trailing `/`).
fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| (rest.is_empty() && !prefix.is_empty()) || rest.starts_with('/'))
}

/// Whole-string match of `pattern`, where `*` stands for any run of characters.
///
/// Greedy leftmost search for each literal piece is exact for this one-wildcard language,
/// and runs in O(len(pattern) * len(text)) without allocating.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let (middle, last) = rest.rsplit_once('*').unwrap_or(("", rest));
    if text.len() < first.len() + last.len() || !text.starts_with(first) || !text.ends_with(last) {
        return false;
    }
    let mut hay = &text[first.len()..text.len() - last.len()];
    for piece in middle.split('*').filter(|p| !p.is_empty()) {
        match hay.find(piece) {
            Some(i) => hay = &hay[i + piece.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> PathPattern {
        PathPattern::parse(s).unwrap()
    }

    #[test]
    fn prefixes_stop_at_segment_boundaries() {
        let docs = p("/docs");
        assert!(docs.matches("/docs"));
        assert!(docs.matches("/docs/"));
        assert!(docs.matches("/docs/a/b"));
        assert!(!docs.matches("/docsearch"));
        assert!(!docs.matches("/"));
        let wk = p("/.well-known/");
        assert!(wk.matches("/.well-known/openid-configuration"));
        assert!(wk.matches("/.well-known"));
        let root = p("/");
        assert!(root.matches("/") && root.matches("/anything/at/all"));
    }

    #[test]
    fn globs_match_the_whole_path() {
        let css = p("/static/*.css");
        assert!(css.matches("/static/a.css"));
        assert!(css.matches("/static/a/b.css"));
        assert!(!css.matches("/static/a.css.map"));
        assert!(!css.matches("/other/static/a.css"));
        assert!(p("/a/*/c/*").matches("/a/b/c/d"));
        assert!(!p("/a*a").matches("/a"));
        assert!(p("/a*a").matches("/aa"));
    }

    #[test]
    fn bad_patterns_say_how_to_fix_them() {
        assert!(
            PathPattern::parse("admin")
                .unwrap_err()
                .contains(r#""/admin""#)
        );
        assert!(
            PathPattern::parse("/a/../b")
                .unwrap_err()
                .contains(r#"write "/b""#)
        );
        assert!(PathPattern::parse("/a%2Fb").is_err());
    }

    #[test]
    fn coverage_is_conservative() {
        assert!(p("/").covers(&p("/x/*")));
        assert!(p("/a").covers(&p("/a/b")));
        assert!(p("/a").covers(&p("/a/*.css")));
        assert!(!p("/a").covers(&p("/a*")));
        assert!(!p("/a/b").covers(&p("/a")));
        assert!(!p("/a/*").covers(&p("/a/b")));
    }

    /// Backtracking matcher: slow, but obviously right.
    fn reference(pattern: &[u8], text: &[u8]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some((b'*', rest)) => (0..=text.len()).any(|i| reference(rest, &text[i..])),
            Some((c, rest)) => text.first() == Some(c) && reference(rest, &text[1..]),
        }
    }

    proptest! {
        #[test]
        fn glob_matches_like_backtracking(pattern in "[ab/*]{0,8}", text in "[ab/]{0,10}") {
            prop_assert_eq!(glob_match(&pattern, &text), reference(pattern.as_bytes(), text.as_bytes()));
        }
    }
}
