//! The request path in its one normal form, before anything looks at it: routing, the policy
//! and the upstream all see the same path, so `/public/../admin` can neither match a public rule
//! nor reach `/admin` under another app's prefix. Path parameters (`/finance;x/budget`) go
//! upstream as sent, but routing and the policy judge the path without them, as a Servlet
//! container reads it: a public rule never admits what such an app reads as a protected path.

use std::borrow::Cow;

use http::Request;
use http::uri::{PathAndQuery, Uri};

use crate::policy::engine::{PathError, normalise_path, policy_view};

/// The path routing and the policy judge: the request's normal path without path parameters.
/// Only a path with parameters needs a copy of its own; every other request judges its URI path.
#[derive(Debug, Default)]
pub struct PolicyPath(Option<Box<str>>);

impl PolicyPath {
    /// The judged path of a request whose normalised URI path is `uri_path`.
    pub fn of<'a>(&'a self, uri_path: &'a str) -> &'a str {
        self.0.as_deref().unwrap_or(uri_path)
    }
}

/// Rewrites the request's path to its normal form (the query stays as sent) and returns the
/// path the policy judges. Refuses paths that cannot be normalised safely; the caller answers
/// 400.
pub fn normalise<B>(req: &mut Request<B>) -> Result<PolicyPath, PathError> {
    rewrite(req)?;
    Ok(match policy_view(req.uri().path()) {
        Cow::Borrowed(_) => PolicyPath(None),
        Cow::Owned(view) => PolicyPath(Some(view.into_boxed_str())),
    })
}

fn rewrite<B>(req: &mut Request<B>) -> Result<(), PathError> {
    let normal = match normalise_path(req.uri().path())? {
        Cow::Borrowed(_) => return Ok(()),
        Cow::Owned(normal) => normal,
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

    fn judged(uri: &str) -> (String, String) {
        let mut req = Request::get(uri).body(()).unwrap();
        let view = normalise(&mut req).unwrap();
        let judged = view.of(req.uri().path()).to_string();
        (req.uri().to_string(), judged)
    }

    #[test]
    fn parameters_go_upstream_and_the_policy_judges_without_them() {
        assert_eq!(
            judged("/finance;jsessionid=0123/budget?q=1"),
            (
                "/finance;jsessionid=0123/budget?q=1".to_string(),
                "/finance/budget".to_string()
            )
        );
        assert_eq!(
            judged("/handbook/..;/runbooks/restart"),
            (
                "/runbooks/restart".to_string(),
                "/runbooks/restart".to_string()
            )
        );
        assert_eq!(judged("/plain").1, "/plain");
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
