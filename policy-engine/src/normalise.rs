//! Path normalisation: the one form of a request path that rules are matched against.
//!
//! Rules match the path as given, so the gateway must hand `decide` a normalised path, or
//! `/public/../admin` would match a public prefix and reach `/admin` upstream. The gateway
//! calls [`normalise_path`] once per request and forwards the normalised path upstream too,
//! so the policy and the app see the same path.
//!
//! Path parameters (`;name=value` after a segment, RFC 3986 section 3.3) are read as the
//! strictest common upstream reads them: a Servlet container (Tomcat, Jetty) drops them from
//! every segment before it resolves dot segments, so `/x/..;/admin` is `/admin` and
//! `/admin;jsessionid=1/x` is `/admin/x` to it. [`normalise_path`] therefore treats a segment
//! whose name is empty, `.` or `..` as that segment whatever parameters it carries, and
//! [`policy_view`] gives the path without any parameters, which is what routing and rules see.

use std::borrow::Cow;

/// Why a request path was refused; the gateway answers `400 Bad Request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path does not start with `/`.
    #[error("the path does not start with /")]
    NotAbsolute,
    /// A byte that has no place in a path: a control character, a space, a backslash, `#`,
    /// `?` (the query must be split off before) or a non-ASCII byte.
    #[error("the path contains a character that must be percent-encoded")]
    InvalidCharacter,
    /// A `%` not followed by two hex digits.
    #[error("the path contains a malformed percent escape")]
    InvalidEscape,
    /// `%2F` or `%5C`: an encoded `/` or `\`, which apps decode differently, and which could
    /// smuggle a `..` past a path rule.
    #[error("the path contains an encoded / or \\")]
    EncodedSeparator,
}

/// Normalises a request path (without its query) so that path rules cannot be bypassed.
///
/// 1. Percent-escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded; other
///    escapes are kept, with upper-case hex digits. An encoded `/` or `\` is refused.
/// 2. `.` and `..` segments are removed (RFC 3986, 5.2.4); `..` never climbs above `/`.
/// 3. Empty segments (`//`) are collapsed. A trailing `/` is kept.
/// 4. A segment whose name before its first `;` is empty, `.` or `..` counts as that segment
///    (`..;x` climbs like `..`; `;x` and `.;x` vanish), as a Servlet container reads it.
///    Parameters of other segments stay: they go upstream (`;jsessionid=...`), and
///    [`policy_view`] strips them for the decision.
///
/// Returns the input unchanged (borrowed, no allocation) when it is already normal.
/// Normalising twice gives the same result as once.
pub fn normalise_path(raw: &str) -> Result<Cow<'_, str>, PathError> {
    if raw.is_empty() {
        return Ok(Cow::Borrowed("/"));
    }
    if !raw.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    if raw
        .bytes()
        .any(|b| !b.is_ascii_graphic() || matches!(b, b'\\' | b'#' | b'?'))
    {
        return Err(PathError::InvalidCharacter);
    }
    if is_normal(raw) {
        return Ok(Cow::Borrowed(raw));
    }
    let decoded = decode_unreserved(raw)?;
    Ok(Cow::Owned(remove_dot_segments(&decoded)))
}

/// True when nothing in `raw` would change: no escape, no empty, `.` or `..` segment (with or
/// without parameters).
fn is_normal(raw: &str) -> bool {
    if !escapes_are_normal(raw) {
        return false;
    }
    let mut segments = raw[1..].split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        let name = segment_name(segment);
        if name == "." || name == ".." || (name.is_empty() && !(last && segment.is_empty())) {
            return false;
        }
    }
    true
}

/// True when decoding would keep every escape as it is: each `%` starts two upper-case hex
/// digits of a byte that is neither unreserved nor a separator. (A path with such escapes, like
/// `/%C3%A4`, is already normal and is borrowed, not copied, as [`normalise_path`] promises.)
fn escapes_are_normal(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let upper_hex = |b: Option<&u8>| b.filter(|b| !b.is_ascii_lowercase()).and_then(|b| hex(*b));
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'%')
        .all(
            |(i, _)| match (upper_hex(bytes.get(i + 1)), upper_hex(bytes.get(i + 2))) {
                (Some(hi), Some(lo)) => {
                    let value = hi * 16 + lo;
                    !(is_unreserved(value) || value == b'/' || value == b'\\')
                }
                _ => false,
            },
        )
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// A segment's name: the part before its first `;` (the rest are its parameters).
fn segment_name(segment: &str) -> &str {
    segment.split_once(';').map_or(segment, |(name, _)| name)
}

/// The path the policy and the routes see: [`normalise_path`]'s result without path parameters
/// (`/finance;jsessionid=1/budget` is `/finance/budget`), as the strictest common upstream (a
/// Servlet container) reads it. Borrowed, without allocating, when the path has no `;`.
pub fn policy_view(normal: &str) -> Cow<'_, str> {
    if !normal.contains(';') {
        return Cow::Borrowed(normal);
    }
    let mut out = String::with_capacity(normal.len());
    for segment in normal.split('/').skip(1) {
        out.push('/');
        out.push_str(segment_name(segment));
    }
    if out.is_empty() {
        out.push('/');
    }
    Cow::Owned(out)
}

fn decode_unreserved(raw: &str) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'%' {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        let (Some(hi), Some(lo)) = (
            bytes.get(i + 1).and_then(|h| hex(*h)),
            bytes.get(i + 2).and_then(|l| hex(*l)),
        ) else {
            return Err(PathError::InvalidEscape);
        };
        let value = hi * 16 + lo;
        if value == b'/' || value == b'\\' {
            return Err(PathError::EncodedSeparator);
        }
        if is_unreserved(value) {
            out.push(char::from(value));
        } else {
            out.push('%');
            out.push(char::from(HEX_DIGITS[usize::from(hi)]));
            out.push(char::from(HEX_DIGITS[usize::from(lo)]));
        }
        i += 3;
    }
    Ok(out)
}

const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn remove_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for segment in path.split('/').skip(1) {
        let name = segment_name(segment);
        trailing_slash = matches!(name, "" | "." | "..");
        match name {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            // The whole segment: its parameters go upstream, as on a path that was normal.
            _ => kept.push(segment),
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if trailing_slash || kept.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(raw: &str) -> Result<String, PathError> {
        normalise_path(raw).map(Cow::into_owned)
    }

    #[test]
    fn normal_paths_are_borrowed() {
        for p in [
            "/",
            "/a",
            "/a/",
            "/a/b.c",
            "/.well-known/openid-configuration",
            "/a/..b",
        ] {
            assert!(matches!(normalise_path(p), Ok(Cow::Borrowed(_))), "{p}");
        }
    }

    #[test]
    fn traversal_cannot_escape_a_prefix() {
        assert_eq!(n("/public/../admin").unwrap(), "/admin");
        assert_eq!(n("/public/%2e%2e/admin").unwrap(), "/admin");
        assert_eq!(n("/public/%2E./admin/").unwrap(), "/admin/");
        assert_eq!(n("/../../etc").unwrap(), "/etc");
        assert_eq!(n("/a/./b/.").unwrap(), "/a/b/");
        assert_eq!(n("/a/b/..").unwrap(), "/a/");
        assert_eq!(n("//admin//x").unwrap(), "/admin/x");
        assert_eq!(n("").unwrap(), "/");
        assert_eq!(n("/..").unwrap(), "/");
    }

    #[test]
    fn escapes_decode_unreserved_only() {
        assert_eq!(n("/%7euser/%41").unwrap(), "/~user/A");
        assert_eq!(n("/a%20b%3f").unwrap(), "/a%20b%3F");
        assert_eq!(n("/a%2fb"), Err(PathError::EncodedSeparator));
        assert_eq!(n("/a%5Cb"), Err(PathError::EncodedSeparator));
        assert_eq!(n("/a%2"), Err(PathError::InvalidEscape));
        assert_eq!(n("/a%zz"), Err(PathError::InvalidEscape));
    }

    #[test]
    fn bad_characters_are_refused() {
        assert_eq!(n("admin"), Err(PathError::NotAbsolute));
        for p in ["/a b", "/a\\..\\b", "/a?x", "/a#x", "/ä", "/a\0"] {
            assert_eq!(n(p), Err(PathError::InvalidCharacter), "{p:?}");
        }
    }

    #[test]
    fn parameters_on_dot_and_empty_segments_are_read_as_a_servlet_reads_them() {
        assert_eq!(n("/x/..;/finance/budget").unwrap(), "/finance/budget");
        assert_eq!(
            n("/handbook/..;/runbooks/restart").unwrap(),
            "/runbooks/restart"
        );
        assert_eq!(n("/.well-known/..;x=1/inbox").unwrap(), "/inbox");
        assert_eq!(n("/;x/finance/budget").unwrap(), "/finance/budget");
        assert_eq!(n("/a/.;x/b").unwrap(), "/a/b");
        assert_eq!(n("/a/%2e%2e;/b").unwrap(), "/b");
        assert_eq!(n("/a/b/..;").unwrap(), "/a/");
        assert_eq!(
            n("/finance;jsessionid=0123/budget").unwrap(),
            "/finance;jsessionid=0123/budget",
            "parameters of a named segment go upstream as sent"
        );
        assert!(matches!(
            normalise_path("/finance;x/budget"),
            Ok(Cow::Borrowed(_))
        ));
    }

    /// Found by the `path` fuzz target (fuzz/regressions/path/): a path that needed any
    /// normalising lost the parameters of every segment it kept, so `;jsessionid=` reached the
    /// app or not depending on an unrelated `.` segment or escape elsewhere in the path.
    #[test]
    fn parameters_of_kept_segments_stay_when_other_segments_are_normalised() {
        for raw in [
            "/./finance;jsessionid=0123/budget",
            "/finance;jsessionid=0123/x/../budget",
            "/finance;jsessionid=0123//budget",
            "/finance;jsessionid=0123/%62udget",
        ] {
            assert_eq!(n(raw).unwrap(), "/finance;jsessionid=0123/budget", "{raw}");
        }
    }

    /// Found by the `path` fuzz target: a normal path with escapes (`/%C3%A4`) was copied on
    /// every request, although already normal.
    #[test]
    fn normal_escapes_are_borrowed_and_others_are_not() {
        for normal in ["/%C3%A4/~", "/a%20b", "/%2541", "/%3B;x=%3D"] {
            assert!(
                matches!(normalise_path(normal), Ok(Cow::Borrowed(_))),
                "{normal}"
            );
        }
        for raw in [
            "/%c3%a4", "/%41", "/%7e", "/%2F", "/%5c", "/%4", "/%%41", "/%G1",
        ] {
            assert!(
                !matches!(normalise_path(raw), Ok(Cow::Borrowed(_))),
                "{raw}"
            );
        }
    }

    #[test]
    fn the_policy_sees_no_parameters() {
        assert_eq!(policy_view("/finance;x/budget"), "/finance/budget");
        assert_eq!(
            policy_view("/finance;jsessionid=0123/budget;v=2"),
            "/finance/budget"
        );
        assert_eq!(policy_view("/a;/"), "/a/");
        assert!(matches!(policy_view("/plain/path"), Cow::Borrowed(_)));
    }

    proptest! {
        /// Whatever a client writes, the policy's view names no segment a Servlet container
        /// would read otherwise: no `.`/`..`/empty names, no parameters.
        #[test]
        fn the_policy_view_has_no_dot_or_parameter_left(raw in "(/|\\.|\\.\\.|;|;x|%2[eE]|[a-c]){0,14}") {
            if let Ok(normal) = normalise_path(&raw) {
                let view = policy_view(&normal);
                prop_assert!(!view.contains(';'));
                prop_assert!(!view.contains("//"));
                prop_assert!(view.split('/').all(|s| s != "." && s != ".."));
            }
        }

        #[test]
        fn normalising_is_total_and_idempotent(raw in "(/|\\.|\\.\\.|;|%2[eEfF]|%41|%7|[a-c]|%){0,12}") {
            if let Ok(once) = normalise_path(&raw) {
                prop_assert!(once.starts_with('/'));
                prop_assert!(!once.contains("//"));
                prop_assert!(once.split('/').map(segment_name).all(|s| s != "." && s != ".."));
                let twice = normalise_path(&once).map(Cow::into_owned);
                prop_assert_eq!(twice, Ok(once.into_owned()));
            }
        }

        #[test]
        fn normalising_never_panics(raw in "\\PC{0,40}") {
            let _ = normalise_path(&raw);
        }
    }
}
