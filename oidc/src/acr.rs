//! Authentication context: how strong a login was (`acr`), how it was done (`amr`, RFC 8176),
//! and what strength an authorization request asks for (`acr_values`, or `acr` asked as an
//! essential claim, OIDC Core §3.1.2.1 and §5.5.1.1).
//!
//! Pforte knows two classes, the two login strengths its policy decides on:
//!
//! | `acr` | means |
//! |---|---|
//! | [`ACR_PASSWORD`] `urn:pforte:acr:password` | one factor (a password) |
//! | [`ACR_MFA`] `urn:pforte:acr:mfa` | a second factor on top of the first, or a passkey with user verification |
//!
//! A request that asks for [`ACR_MFA`] from a password session is sent to the second-factor
//! page (step-up) before it gets a code; asking for [`ACR_PASSWORD`] or for values Pforte does
//! not know asks for nothing more than any session has.

use pforte_policy::{AuthMethod, LoginStrength};
use serde::Deserialize;

use crate::error::{ErrorCode, ProtocolError};
use crate::params::Params;

/// `acr` for a password login.
pub const ACR_PASSWORD: &str = "urn:pforte:acr:password";
/// `acr` for a login with a second factor (or a passkey with user verification).
pub const ACR_MFA: &str = "urn:pforte:acr:mfa";
/// Every `acr` this provider issues, weakest first, as the discovery document lists them.
pub const ACR_VALUES: [&str; 2] = [ACR_PASSWORD, ACR_MFA];

/// The `acr` of a login of this strength.
pub fn acr(login: LoginStrength) -> &'static str {
    match login {
        LoginStrength::Password => ACR_PASSWORD,
        LoginStrength::Mfa => ACR_MFA,
    }
}

/// The `amr` of a login with these factors: each factor's RFC 8176 value once, in the order
/// used, then `mfa` when two or more factors were used and `user` when one was a passkey or
/// a security key (Pforte accepts either only with user verification: PIN or biometrics). No factors recorded (a login from
/// before Pforte recorded them) reads as a password login.
pub fn amr(methods: &[AuthMethod]) -> Vec<String> {
    let methods = if methods.is_empty() {
        &[AuthMethod::Password][..]
    } else {
        methods
    };
    let mut amr: Vec<String> = Vec::with_capacity(methods.len() + 2);
    for method in methods {
        if !amr.iter().any(|v| v == method.amr()) {
            amr.push(method.amr().to_owned());
        }
    }
    if methods.len() >= 2 {
        amr.push("mfa".to_owned());
    }
    if methods
        .iter()
        .any(|m| matches!(m, AuthMethod::Passkey | AuthMethod::SecurityKey))
    {
        amr.push("user".to_owned());
    }
    amr
}

/// The longest `claims` parameter read; the provider stores nothing of it, but parsing a
/// megabyte of JSON for one member is work nobody needs.
const MAX_CLAIMS_LEN: usize = 4096;

/// The part of the `claims` parameter that speaks of `acr` in the ID token.
#[derive(Deserialize)]
struct ClaimsRequest {
    #[serde(default)]
    id_token: Option<IdTokenClaims>,
}

#[derive(Deserialize)]
struct IdTokenClaims {
    #[serde(default)]
    acr: Option<AcrClaim>,
}

/// One claim's request (OIDC Core §5.5.1): `null`, or an object with these members.
#[derive(Deserialize)]
struct AcrClaim {
    #[serde(default)]
    essential: bool,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    values: Vec<String>,
}

/// Whether the request asks for a login with a second factor: [`ACR_MFA`] among its
/// `acr_values`, or among the values of an essential `acr` in its `claims`. A `claims` that is
/// not the JSON object OIDC Core describes is refused (`invalid_request`); members other than
/// `id_token.acr` are read past.
pub(crate) fn mfa_asked(params: &Params) -> Result<bool, ProtocolError> {
    let in_values = params
        .get("acr_values")
        .is_some_and(|values| values.split(' ').any(|v| v == ACR_MFA));
    let essential = match params.get("claims") {
        Some(claims) => essential_acr(claims)?,
        None => Vec::new(),
    };
    Ok(in_values || essential.iter().any(|v| v == ACR_MFA))
}

/// The values of an essential `acr` in a `claims` parameter (none when it is not there, not
/// essential, or `null`).
fn essential_acr(claims: &str) -> Result<Vec<String>, ProtocolError> {
    if claims.len() > MAX_CLAIMS_LEN {
        return Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            "claims is too long",
        ));
    }
    let refuse = |_| {
        ProtocolError::new(
            ErrorCode::InvalidRequest,
            "claims is not a valid claims request (OIDC Core 5.5)",
        )
    };
    // An object, not just anything serde would read into the struct (it takes arrays too).
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(claims).map_err(refuse)?;
    let request: ClaimsRequest =
        serde_json::from_value(serde_json::Value::Object(object)).map_err(refuse)?;
    Ok(request
        .id_token
        .and_then(|id| id.acr)
        .filter(|acr| acr.essential)
        .map(|acr| acr.value.into_iter().chain(acr.values).collect())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn acr_follows_the_login_strength() {
        assert_eq!(acr(LoginStrength::Password), "urn:pforte:acr:password");
        assert_eq!(acr(LoginStrength::Mfa), "urn:pforte:acr:mfa");
    }

    #[test]
    fn amr_says_what_was_done() {
        use AuthMethod::*;
        for (methods, expected) in [
            (&[Password][..], &["pwd"][..]),
            (&[Password, Totp], &["pwd", "otp", "mfa"]),
            (&[Password, RecoveryCode], &["pwd", "otp", "mfa"]),
            (&[Password, SecurityKey], &["pwd", "hwk", "mfa", "user"]),
            (&[SecurityKey], &["hwk", "user"]),
            (&[Password, Passkey], &["pwd", "swk", "mfa", "user"]),
            (&[Passkey], &["swk", "user"]),
            (&[Password, Totp, RecoveryCode], &["pwd", "otp", "mfa"]),
            (&[Federated], &["fed"]),
            (&[Federated, Totp], &["fed", "otp", "mfa"]),
            (&[], &["pwd"]),
        ] {
            assert_eq!(amr(methods), expected, "{methods:?}");
        }
    }

    #[test]
    fn acr_values_with_the_mfa_class_ask_for_mfa() {
        let asked = |values: &str| mfa_asked(&params(&[("acr_values", values)])).unwrap();
        assert!(asked(ACR_MFA));
        assert!(asked(&format!("{ACR_PASSWORD} {ACR_MFA}")));
        assert!(!asked(ACR_PASSWORD));
        assert!(!asked("urn:other:acr:gold"));
        assert!(!asked("urn:pforte:acr:mfa-ish"));
        assert!(!mfa_asked(&params(&[])).unwrap());
    }

    #[test]
    fn an_essential_acr_claim_asks_for_mfa_and_a_voluntary_one_does_not() {
        let asked = |claims: &str| mfa_asked(&params(&[("claims", claims)]));
        let value = format!(r#"{{"id_token":{{"acr":{{"essential":true,"value":"{ACR_MFA}"}}}}}}"#);
        assert_eq!(asked(&value), Ok(true));
        let values = format!(
            r#"{{"id_token":{{"acr":{{"essential":true,"values":["{ACR_PASSWORD}","{ACR_MFA}"]}}}},"userinfo":{{"email":null}}}}"#
        );
        assert_eq!(asked(&values), Ok(true));
        let voluntary = format!(r#"{{"id_token":{{"acr":{{"values":["{ACR_MFA}"]}}}}}}"#);
        assert_eq!(asked(&voluntary), Ok(false));
        assert_eq!(asked(r#"{"id_token":{"acr":null}}"#), Ok(false));
        assert_eq!(
            asked(r#"{"userinfo":{"acr":{"essential":true}}}"#),
            Ok(false)
        );
    }

    #[test]
    fn a_malformed_claims_request_is_refused_not_ignored() {
        for bad in [
            "not json",
            "[]",
            r#"{"id_token":{"acr":{"essential":"yes"}}}"#,
            r#"{"id_token":{"acr":{"values":"urn:pforte:acr:mfa"}}}"#,
        ] {
            let refused = mfa_asked(&params(&[("claims", bad)])).unwrap_err();
            assert_eq!(refused.code, ErrorCode::InvalidRequest, "{bad}");
        }
        let long = format!(r#"{{"x":"{}"}}"#, "a".repeat(MAX_CLAIMS_LEN));
        assert!(mfa_asked(&params(&[("claims", &long)])).is_err());
    }
}
