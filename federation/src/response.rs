//! The provider's answer at Pforte's callback (`/federation/{id}/callback`): a code or an
//! error, the `state` Pforte sent, and the issuer (RFC 9207). The callback path names the
//! provider and the stored state must name the same one; the `iss` parameter must then be that
//! provider's issuer, so a code from one provider can never be spent at another (mix-up).

use subtle::ConstantTimeEq;

/// The callback's query, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` Pforte sent.
    pub state: Option<String>,
    /// The issuer of the response (RFC 9207).
    pub iss: Option<String>,
    /// An error code from the provider (`access_denied`, …).
    pub error: Option<String>,
}

/// Why a callback is refused before its code is spent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// No `state`, or one that does not match.
    #[error("the response carries no state or another one")]
    State,
    /// The provider sent `iss` of another issuer, or none although it promised one.
    #[error("the response's issuer {found:?} is not the provider's {expected:?}")]
    Issuer {
        /// The provider's issuer.
        expected: String,
        /// What came (`None`: missing).
        found: Option<String>,
    },
    /// The provider answered with an error.
    #[error("the provider answered {0}")]
    Provider(String),
    /// Neither a code nor an error.
    #[error("the response carries no code")]
    NoCode,
}

impl Callback {
    /// Reads the query (first value of each parameter wins).
    pub fn parse(query: Option<&str>) -> Self {
        let mut out = Self::default();
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut out.code,
                "state" => &mut out.state,
                "iss" => &mut out.iss,
                "error" => &mut out.error,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        out
    }

    /// Checks the response against the state Pforte kept and the provider's issuer;
    /// `iss_required` is the provider's `authorization_response_iss_parameter_supported`.
    /// Gives the code.
    pub fn check(
        &self,
        expected_state: &str,
        issuer: &str,
        iss_required: bool,
    ) -> Result<&str, ResponseError> {
        let state_ok = self
            .state
            .as_deref()
            .is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected_state.as_bytes())));
        if !state_ok {
            return Err(ResponseError::State);
        }
        match self.iss.as_deref() {
            Some(iss) if iss == issuer => {}
            None if !iss_required => {}
            found => {
                return Err(ResponseError::Issuer {
                    expected: issuer.to_owned(),
                    found: found.map(str::to_owned),
                });
            }
        }
        if let Some(error) = &self.error {
            return Err(ResponseError::Provider(error.chars().take(64).collect()));
        }
        self.code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or(ResponseError::NoCode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://idp.example";

    #[test]
    fn a_good_response_gives_its_code() {
        let cb = Callback::parse(Some(
            "code=c1&state=s1&iss=https%3A%2F%2Fidp.example&code=c2",
        ));
        assert_eq!(cb.check("s1", ISS, true), Ok("c1"));
        let without_iss = Callback::parse(Some("code=c1&state=s1"));
        assert_eq!(without_iss.check("s1", ISS, false), Ok("c1"));
    }

    #[test]
    fn state_and_issuer_are_checked_before_anything_else() {
        let cb = Callback::parse(Some("code=c&state=other&iss=https%3A%2F%2Fidp.example"));
        assert_eq!(cb.check("s1", ISS, true), Err(ResponseError::State));
        assert_eq!(
            Callback::parse(Some("code=c")).check("s1", ISS, false),
            Err(ResponseError::State)
        );
        let mixup = Callback::parse(Some("code=c&state=s1&iss=https%3A%2F%2Fevil.example"));
        assert!(matches!(
            mixup.check("s1", ISS, false),
            Err(ResponseError::Issuer { .. })
        ));
        let missing = Callback::parse(Some("code=c&state=s1"));
        assert!(matches!(
            missing.check("s1", ISS, true),
            Err(ResponseError::Issuer { found: None, .. })
        ));
    }

    #[test]
    fn errors_and_missing_codes_are_refused() {
        let denied = Callback::parse(Some("error=access_denied&state=s1"));
        assert_eq!(
            denied.check("s1", ISS, false),
            Err(ResponseError::Provider("access_denied".into()))
        );
        assert_eq!(
            Callback::parse(Some("state=s1&code=")).check("s1", ISS, false),
            Err(ResponseError::NoCode)
        );
    }
}
