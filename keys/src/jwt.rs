//! Signing and verifying JWTs (ID, access, logout tokens and app assertions)
//! with the key set.
//!
//! Verification trusts nothing in the token before the signature checks out:
//! the kid must name a published key, the header algorithm must be that key's
//! own (so `none`, HMAC with the public key as secret, or any algorithm swap
//! is refused), and expiry is checked against the `now` the caller passes.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::TokenError;
use crate::keyset::KeySet;

/// What a token must satisfy besides a valid signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The required `iss` claim: Pforte's issuer URL.
    pub issuer: String,
    /// Accepted `aud` values; the token must name at least one. Empty: `aud` is not checked.
    pub audiences: Vec<String>,
    /// The required `typ` header (e.g. `at+jwt`), compared without case and
    /// without an `application/` prefix, so that one kind of token cannot pass as another.
    pub typ: Option<String>,
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    pub leeway: u64,
}

impl VerifyOptions {
    /// Options for tokens from `issuer` meant for any of `audiences`, with one minute of leeway.
    pub fn new(
        issuer: impl Into<String>,
        audiences: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        VerifyOptions {
            issuer: issuer.into(),
            audiences: audiences.into_iter().map(Into::into).collect(),
            typ: None,
            leeway: 60,
        }
    }

    /// Requires the `typ` header to be `typ`.
    pub fn with_typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// Sets the tolerated clock skew in seconds.
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }
}

impl KeySet {
    /// Signs `claims` with the active key; the header carries alg, kid and `typ`
    /// (`JWT`, `at+jwt`, `logout+jwt`, ...) so receivers can tell token kinds apart.
    pub fn sign(&self, claims: &impl Serialize, typ: &str) -> Result<String, TokenError> {
        let key = self.active();
        let mut header = Header::new(key.alg().jwt());
        header.kid = Some(key.kid().to_owned());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, key.encoding()).map_err(|e| match e.kind() {
            ErrorKind::Json(j) => TokenError::Claims(j.to_string()),
            _ => TokenError::Signing(e.to_string()),
        })
    }

    /// Verifies `token` against the published keys and `options` at `now`
    /// (unix seconds) and returns its claims.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        options: &VerifyOptions,
        now: u64,
    ) -> Result<T, TokenError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| TokenError::Malformed("unreadable header or unsupported algorithm"))?;
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.find(kid))
            .ok_or(TokenError::UnknownKid)?;
        if header.alg != key.alg().jwt() {
            return Err(TokenError::AlgorithmMismatch);
        }
        if header.crit.is_some() {
            return Err(TokenError::Rejected(
                "critical header extensions are not supported",
            ));
        }
        if let Some(want) = &options.typ
            && !header.typ.as_deref().is_some_and(|got| same_typ(got, want))
        {
            return Err(TokenError::Rejected("wrong token type"));
        }
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            token,
            key.decoding(),
            &validation(key.alg().jwt(), options),
        )
        .map_err(|e| map_decode_error(e.kind()))?
        .claims;
        check_times(&claims, options.leeway, now)?;
        serde_json::from_value(claims).map_err(|_| TokenError::ClaimsShape)
    }
}

/// Signature, issuer and audience checks; times are checked against the caller's `now`.
fn validation(alg: jsonwebtoken::Algorithm, options: &VerifyOptions) -> Validation {
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.set_issuer(&[&options.issuer]);
    if options.audiences.is_empty() {
        v.validate_aud = false;
        v.set_required_spec_claims(&["exp", "iss"]);
    } else {
        v.set_audience(&options.audiences);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
    }
    v
}

fn map_decode_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::Rejected("bad signature"),
        ErrorKind::InvalidIssuer => TokenError::Rejected("wrong issuer"),
        ErrorKind::InvalidAudience => TokenError::Rejected("wrong audience"),
        ErrorKind::MissingRequiredClaim(c) if c == "exp" => TokenError::MissingExpiry,
        ErrorKind::MissingRequiredClaim(_) => TokenError::Rejected("missing iss or aud"),
        ErrorKind::InvalidClaimFormat(_) => TokenError::Rejected("malformed standard claim"),
        _ => TokenError::Malformed("undecodable token"),
    }
}

fn check_times(claims: &serde_json::Value, leeway: u64, now: u64) -> Result<(), TokenError> {
    let exp = numeric_date(claims, "exp")?.ok_or(TokenError::MissingExpiry)?;
    if now >= exp.saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    if let Some(nbf) = numeric_date(claims, "nbf")?
        && now.saturating_add(leeway) < nbf
    {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// An RFC 7519 NumericDate claim, whole seconds (fractions dropped).
fn numeric_date(claims: &serde_json::Value, name: &str) -> Result<Option<u64>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or(TokenError::Rejected("malformed standard claim")),
    }
}

fn same_typ(got: &str, want: &str) -> bool {
    fn bare(t: &str) -> &str {
        match (t.get(..12), t.get(12..)) {
            (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
            _ => t,
        }
    }
    bare(got).eq_ignore_ascii_case(bare(want))
}
