//! Where a request to a protected resource (userinfo) may carry its access token.
//!
//! RFC 6750 §2 names three places: the `Authorization: Bearer` header (§2.1), a form-encoded
//! POST body's `access_token` (§2.2, the default of several certified relying-party libraries),
//! and the query string (§2.3). The security BCP (RFC 9700 §4.3.2) forbids the query string,
//! since URLs end up in logs and `Referer` headers, and RFC 6750 §2 says a client uses exactly one
//! method per request. [`presented_token`] applies these rules once, for every bearer endpoint.

use crate::error::{ErrorCode, ProtocolError};
use crate::params::Params;

/// The parameter that carries a token in a form body or a query string (RFC 6750 §2.2, §2.3).
pub const ACCESS_TOKEN_PARAM: &str = "access_token";

/// Why a request presents no usable token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoToken {
    /// The request carries no token at all: the answer is a bare challenge, without an error
    /// code (RFC 6750 §3.1).
    Missing,
    /// The request carries a token in a way this provider refuses (`invalid_request`).
    Refused(ProtocolError),
}

/// Where a request's token may come from: its `Authorization` header, its query string and,
/// for a form-encoded POST, its body.
#[derive(Debug, Clone, Copy)]
pub struct Carriers<'a> {
    /// The `Authorization` header's value, if there is one that is text.
    pub authorization: Option<&'a str>,
    /// The query string's parameters.
    pub query: &'a Params,
    /// The form body's parameters, for a POST whose body is `application/x-www-form-urlencoded`.
    pub form_body: Option<&'a Params>,
}

/// The one access token the request presents, or why it presents none.
pub fn presented_token<'a>(carriers: &Carriers<'a>) -> Result<&'a str, NoToken> {
    if carriers.query.get(ACCESS_TOKEN_PARAM).is_some() {
        return Err(refused(
            "an access token in the URL is refused (RFC 9700): send it in the Authorization \
             header or a form-encoded POST body",
        ));
    }
    let from_header = carriers.authorization.and_then(bearer_of);
    let from_body = match carriers.form_body {
        Some(body) if body.is_repeated(ACCESS_TOKEN_PARAM) => {
            return Err(refused("access_token is repeated in the body"));
        }
        Some(body) => body.get(ACCESS_TOKEN_PARAM),
        None => None,
    };
    match (from_header, from_body) {
        (Some(token), None) | (None, Some(token)) => Ok(token),
        (Some(_), Some(_)) => Err(refused(
            "the access token is sent two ways, in the Authorization header and in the body: \
             use one (RFC 6750 §2)",
        )),
        (None, None) => Err(NoToken::Missing),
    }
}

/// The token of an `Authorization: Bearer <token>` value (the scheme in any case, RFC 9110
/// §11.1); another scheme or an empty token carries none.
fn bearer_of(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn refused(description: &str) -> NoToken {
    NoToken::Refused(ProtocolError::new(ErrorCode::InvalidRequest, description))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(
        authorization: Option<&str>,
        query: &str,
        body: Option<&str>,
    ) -> Result<String, NoToken> {
        let query = Params::parse_urlencoded(query);
        let body = body.map(Params::parse_urlencoded);
        presented_token(&Carriers {
            authorization,
            query: &query,
            form_body: body.as_ref(),
        })
        .map(str::to_owned)
    }

    fn is_refused(result: Result<String, NoToken>) -> bool {
        matches!(result, Err(NoToken::Refused(e)) if e.code == ErrorCode::InvalidRequest)
    }

    #[test]
    fn the_header_and_the_form_body_each_carry_a_token() {
        assert_eq!(present(Some("Bearer a.b"), "", None), Ok("a.b".into()));
        assert_eq!(present(Some("bearer a.b"), "", None), Ok("a.b".into()));
        assert_eq!(
            present(None, "", Some("access_token=a.b&x=1")),
            Ok("a.b".into())
        );
        assert_eq!(
            present(Some("Bearer a.b"), "", Some("other=1")),
            Ok("a.b".into()),
            "a form body without the parameter leaves the header's token"
        );
    }

    #[test]
    fn no_token_anywhere_is_missing_and_other_schemes_carry_none() {
        assert_eq!(present(None, "", None), Err(NoToken::Missing));
        assert_eq!(present(Some("Basic abc"), "", None), Err(NoToken::Missing));
        assert_eq!(present(Some("Bearer "), "", None), Err(NoToken::Missing));
        assert_eq!(present(None, "", Some("")), Err(NoToken::Missing));
    }

    #[test]
    fn the_query_string_two_ways_at_once_and_repeats_are_refused() {
        assert!(is_refused(present(None, "access_token=a.b", None)));
        assert!(is_refused(present(
            Some("Bearer a.b"),
            "access_token=a.b",
            None
        )));
        assert!(is_refused(present(
            Some("Bearer a.b"),
            "",
            Some("access_token=a.b")
        )));
        assert!(is_refused(present(
            None,
            "",
            Some("access_token=a&access_token=b")
        )));
    }
}
