//! The `prompt` parameter (OIDC Core §3.1.2.1).

use crate::error::{ErrorCode, ProtocolError};

/// What the client asked about showing the login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prompt {
    /// Log in only if there is no usable session (also `consent`: clients are registered
    /// by an admin, so there is no consent screen to show).
    #[default]
    Default,
    /// Never show a page: answer `login_required` if the person must log in (silent SSO).
    None,
    /// Ask for credentials even with a session.
    Login,
}

impl Prompt {
    /// Parses the space-separated `prompt` value. `none` may not be combined with another
    /// value; `select_account` is refused: one browser holds one Pforte session.
    pub(crate) fn parse(value: Option<&str>) -> Result<Self, ProtocolError> {
        let mut prompt = Self::Default;
        let mut count = 0;
        let mut none = false;
        for word in value
            .unwrap_or_default()
            .split(' ')
            .filter(|w| !w.is_empty())
        {
            count += 1;
            match word {
                "none" => none = true,
                "login" => prompt = Self::Login,
                "consent" => {}
                "select_account" => {
                    return Err(ProtocolError::new(
                        ErrorCode::InvalidRequest,
                        "prompt=select_account is not supported",
                    ));
                }
                _ => {
                    return Err(ProtocolError::new(
                        ErrorCode::InvalidRequest,
                        "unknown prompt value",
                    ));
                }
            }
        }
        match (none, count) {
            (true, 1) => Ok(Self::None),
            (true, _) => Err(ProtocolError::new(
                ErrorCode::InvalidRequest,
                "prompt=none cannot be combined",
            )),
            (false, _) => Ok(prompt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_values_pforte_supports() {
        assert_eq!(Prompt::parse(None), Ok(Prompt::Default));
        assert_eq!(Prompt::parse(Some("none")), Ok(Prompt::None));
        assert_eq!(Prompt::parse(Some("login consent")), Ok(Prompt::Login));
        assert_eq!(Prompt::parse(Some("consent")), Ok(Prompt::Default));
        for bad in ["none login", "select_account", "bogus"] {
            assert_eq!(
                Prompt::parse(Some(bad)).unwrap_err().code,
                ErrorCode::InvalidRequest,
                "{bad}"
            );
        }
    }
}
