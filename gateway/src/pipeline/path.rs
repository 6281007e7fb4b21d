//! The request path in its one normal form, before anything looks at it: routing, the policy
//! and the upstream all see the same path, so `/public/../admin` can neither match a public rule
//! nor reach `/admin` under another app's prefix.

use http::Request;
use http::uri::{PathAndQuery, Uri};

use crate::policy::engine::{PathError, normalise_path};

/// Rewrites the request's path to its normal form (the query stays as sent). Refuses paths that
/// cannot be normalised safely; the caller answers 400.
pub fn normalise<B>(req: &mut Request<B>) -> Result<(), PathError> {
    let normal = match normalise_path(req.uri().path())? {
        std::borrow::Cow::Borrowed(_) => return Ok(()),
        std::borrow::Cow::Owned(normal) => normal,
    };
    let with_query = match req.uri().query() {
        Some(query) => format!("{normal}?{query}"),
        None => normal,
    };
    let path_and_query =
        PathAndQuery::try_from(with_query).map_err(|_| PathError::InvalidCharacter)?;
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    *req.uri_mut() = Uri::from_parts(parts).map_err(|_| PathError::InvalidCharacter)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(uri: &str) -> Result<String, PathError> {
        let mut req = Request::get(uri).body(()).unwrap();
        normalise(&mut req)?;
        Ok(req.uri().to_string())
    }

    #[test]
    fn dot_segments_go_and_the_query_stays() {
        assert_eq!(
            normalised("/public/../admin?x=/../y").unwrap(),
            "/admin?x=/../y"
        );
        assert_eq!(
            normalised("https://a.test/a//b/./c").unwrap(),
            "https://a.test/a/b/c"
        );
        assert_eq!(
            normalised("/already/normal?q").unwrap(),
            "/already/normal?q"
        );
        assert_eq!(normalised("/%61dmin").unwrap(), "/admin");
    }

    #[test]
    fn encoded_separators_are_refused() {
        assert_eq!(
            normalised("/a/..%2Fadmin"),
            Err(PathError::EncodedSeparator)
        );
    }
}
