//! RFC 6238 codes, as authenticator apps make them: 6 digits, 30-second steps, HMAC-SHA-1
//! (totp-rs computes them). A code is accepted for the current step and the one before, never
//! a later one, and [`check`] says which step it matched so the caller can refuse a code whose
//! step is not newer than the last one accepted for the person (the crate has no replay guard:
//! [`is_fresh`] is it, with the last step kept in the shared session store).

use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Secret length in bytes: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;

/// Why a code could not be checked or an enrolment made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// The code is not six digits (spaces and dashes between them are allowed).
    #[error("a code is {DIGITS} digits")]
    Malformed,
    /// The stored secret is not base32 of the right length.
    #[error("the stored TOTP secret is damaged")]
    BadSecret,
    /// The system's random generator failed.
    #[error("no random secret could be made")]
    Random,
    /// The account or issuer name cannot appear in an `otpauth://` URI (it holds a colon).
    #[error("the name cannot appear in an otpauth URI: {0}")]
    BadName(String),
}

/// A TOTP factor as it is kept (sealed) in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTotp {
    /// The shared secret in base32 (RFC 4648, no padding), as apps take it.
    pub secret: String,
    /// The person's name for it ("phone").
    pub name: String,
    /// When it was enrolled (unix seconds).
    pub created: u64,
}

impl StoredTotp {
    /// A new factor with a random secret.
    pub fn generate(name: &str, now_unix: u64) -> Result<Self, TotpError> {
        let mut secret = [0u8; SECRET_BYTES];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| TotpError::Random)?;
        Ok(Self {
            secret: Secret::from(secret).to_base32(),
            name: name.to_owned(),
            created: now_unix,
        })
    }

    fn totp(&self, account: &str, issuer: Option<&str>) -> Result<Totp, TotpError> {
        let secret = Secret::try_from_base32(self.secret.trim_end_matches('='))
            .map_err(|_| TotpError::BadSecret)?;
        let bytes = secret.as_bytes().to_vec();
        if bytes.len() < 16 {
            return Err(TotpError::BadSecret);
        }
        let mut builder = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_skew(0)
            .with_step_duration(STEP_SECONDS)
            .with_secret(bytes)
            .with_account_name(account);
        if let Some(issuer) = issuer {
            builder = builder.with_issuer(Some(issuer));
        }
        builder
            .build()
            .map_err(|e| TotpError::BadName(e.to_string()))
    }

    /// The step a code matches at `now_unix`: the current one or the one before (a code typed
    /// just as it turned over), never a future one. `Ok(None)`: a well-formed wrong code.
    pub fn check(&self, code: &str, now_unix: u64) -> Result<Option<u64>, TotpError> {
        let code = normalise(code)?;
        let totp = self.totp("pforte", None)?;
        let current = now_unix / STEP_SECONDS;
        // The previous step first, so a code valid in both (impossible unless the secret's
        // codes repeat) is booked against the older step and cannot be used twice.
        for step in [current.saturating_sub(1), current] {
            if totp.check(&code, step * STEP_SECONDS) == Some(step) {
                return Ok(Some(step));
            }
        }
        Ok(None)
    }

    /// The code at `unix` (for the demo's hint and for tests that play the authenticator app).
    pub fn code_at(&self, unix: u64) -> Result<String, TotpError> {
        Ok(self.totp("pforte", None)?.generate(unix).to_string())
    }

    /// The `otpauth://totp/...` URI an authenticator app scans, naming the issuer (the
    /// deployment's name) and the person's account.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Result<String, TotpError> {
        self.totp(account, Some(issuer))?
            .to_url()
            .map_err(|e| TotpError::BadName(e.to_string()))
    }
}

/// The `otpauth://` URI as a QR code in SVG, for the enrolment page (black on white, with the
/// quiet zone scanners need; the page sizes it).
pub fn qr_svg(uri: &str) -> Result<String, TotpError> {
    let code =
        qrcode::QrCode::new(uri.as_bytes()).map_err(|e| TotpError::BadName(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// Whether a code matched in `step` may be accepted given the last accepted step: only a newer
/// step, so a code (or an older one still in the window) is refused once one was accepted.
pub fn is_fresh(step: u64, last_accepted: Option<u64>) -> bool {
    last_accepted.is_none_or(|last| step > last)
}

/// The six digits of a code as typed: white space and dashes between digits are dropped.
fn normalise(code: &str) -> Result<String, TotpError> {
    if code.len() > 32 {
        return Err(TotpError::Malformed);
    }
    let digits: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::Malformed);
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret ("12345678901234567890"), whose 8-digit codes the RFC
    /// lists; their last six digits are the 6-digit codes.
    fn rfc() -> StoredTotp {
        StoredTotp {
            secret: Secret::from(*b"12345678901234567890").to_base32(),
            name: "rfc".into(),
            created: 0,
        }
    }

    #[test]
    fn codes_match_rfc_6238s_test_vectors() {
        let t = rfc();
        assert_eq!(t.code_at(59).unwrap(), "287082");
        assert_eq!(t.code_at(1_111_111_109).unwrap(), "081804");
        assert_eq!(t.code_at(1_234_567_890).unwrap(), "005924");
        assert_eq!(t.code_at(2_000_000_000).unwrap(), "279037");
    }

    #[test]
    fn the_current_and_the_previous_step_are_accepted_and_nothing_else() {
        let t = rfc();
        let now = 1_234_567_890;
        let step = now / STEP_SECONDS;
        let code = |s: u64| t.code_at(s * STEP_SECONDS).unwrap();
        assert_eq!(t.check(&code(step), now).unwrap(), Some(step));
        assert_eq!(t.check(&code(step - 1), now).unwrap(), Some(step - 1));
        assert_eq!(
            t.check(&code(step - 2), now).unwrap(),
            None,
            "two steps old"
        );
        assert_eq!(
            t.check(&code(step + 1), now).unwrap(),
            None,
            "from the future"
        );
    }

    #[test]
    fn a_step_is_fresh_only_when_newer_than_the_last_accepted() {
        assert!(is_fresh(10, None));
        assert!(is_fresh(11, Some(10)));
        assert!(!is_fresh(10, Some(10)), "the same code again");
        assert!(!is_fresh(9, Some(10)), "an older code after a newer one");
    }

    #[test]
    fn codes_may_be_typed_with_spaces_but_must_be_six_digits() {
        let t = rfc();
        assert_eq!(t.check("005 924", 1_234_567_890).unwrap(), Some(41_152_263));
        assert_eq!(t.check("005-924", 1_234_567_890).unwrap(), Some(41_152_263));
        for bad in [
            "",
            "12345",
            "1234567",
            "12a456",
            "+12345",
            "１２３４５６",
            &"1".repeat(100),
        ] {
            assert_eq!(
                t.check(bad, 1_234_567_890),
                Err(TotpError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn secrets_round_trip_through_base32_and_damage_is_reported() {
        let t = StoredTotp::generate("phone", 1).unwrap();
        assert_eq!(t.secret.len(), 32);
        let secret = Secret::try_from_base32(&t.secret).unwrap();
        assert_eq!(secret.as_bytes().len(), SECRET_BYTES);
        let damaged = StoredTotp {
            secret: "not base32!".into(),
            ..t
        };
        assert_eq!(damaged.check("123456", 1), Err(TotpError::BadSecret));
    }

    #[test]
    fn the_qr_code_is_an_svg() {
        let svg = qr_svg("otpauth://totp/x:y?secret=AAAA").unwrap();
        assert!(
            svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("<path"),
            "{svg}"
        );
    }

    #[test]
    fn the_otpauth_uri_names_issuer_account_and_parameters() {
        let uri = rfc().otpauth_uri("Pforte Demo", "alice").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Pforte%20Demo:alice?"),
            "{uri}"
        );
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=Pforte%20Demo"), "{uri}");
    }
}
