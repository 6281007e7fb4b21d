//! Path normalisation (`pforte_policy::normalise_path`, `policy_view`) and the gateway's rewrite
//! of a request to it (`pforte::policy::path::normalise`).

use std::borrow::Cow;

use pforte::policy::path::normalise;
use pforte_policy::{normalise_path, policy_view};

/// Any text as a request path: a normalised path is normal (no dot or empty segment, no escape
/// of an unreserved character, upper-case hex), normalising it again changes nothing and
/// borrows it, a `.` segment in front changes nothing, its policy view has no parameters, and
/// the gateway's rewrite of a request gives the same paths.
pub fn path(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(normal) = normalise_path(raw) else {
        return;
    };
    assert_normal(&normal);
    match normalise_path(&normal) {
        Ok(Cow::Borrowed(again)) => assert_eq!(again, normal, "normalising twice changed it"),
        other => panic!("{normal:?} is normal but normalises to {other:?}"),
    }
    // A `.` segment changes nothing, also for the parameters of the segments kept.
    let dotted = format!("/.{raw}");
    assert_eq!(
        normalise_path(&dotted).as_deref(),
        Ok(&*normal),
        "a leading /. changed the path"
    );
    let view = policy_view(&normal);
    assert!(
        !view.contains(';'),
        "policy view {view:?} keeps a parameter"
    );
    assert!(
        view.starts_with('/'),
        "policy view {view:?} is not absolute"
    );
    assert_eq!(policy_view(&view), view, "policy view is not idempotent");

    let Ok(mut request) = http::Request::get(raw).body(()) else {
        return;
    };
    if request.uri().path() != raw.split('?').next().unwrap_or_default() {
        return; // http parsed another path out of it (an absolute-form target, say)
    }
    let judged = normalise(&mut request).expect("normalise_path accepted the same path");
    assert_eq!(request.uri().path(), normal, "the request's rewritten path");
    assert_eq!(
        judged.of(request.uri().path()),
        view,
        "the path the policy judges"
    );
}

fn assert_normal(normal: &str) {
    assert!(normal.starts_with('/'), "{normal:?} is not absolute");
    let segments: Vec<&str> = normal[1..].split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let name = segment.split_once(';').map_or(*segment, |(name, _)| name);
        let last = i + 1 == segments.len();
        assert!(
            name != "." && name != "..",
            "{normal:?} keeps a dot segment"
        );
        assert!(
            !name.is_empty() || (last && segment.is_empty()),
            "{normal:?} keeps an empty segment"
        );
    }
    let bytes = normal.as_bytes();
    for (i, _) in normal.match_indices('%') {
        let hex = bytes.get(i + 1..i + 3).expect("an escape has two digits");
        assert!(
            hex.iter()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b)),
            "{normal:?}: escape not in upper-case hex"
        );
        let value = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
            .expect("two hex digits");
        assert!(
            !(value.is_ascii_alphanumeric() || b"-._~".contains(&value)),
            "{normal:?} keeps an escaped unreserved character"
        );
        assert!(
            value != b'/' && value != b'\\',
            "{normal:?} keeps an encoded separator"
        );
    }
}
