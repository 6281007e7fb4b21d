//! Password verification for the file backend: argon2id, in the shared pool of slow hashes
//! (each check costs tens of milliseconds of CPU), and the same cost for an unknown user as for
//! a wrong password.

use argon2::{Algorithm, Argon2, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::error::DirectoryError;

/// A hash of a random password with argon2's default parameters, for when a file has no user
/// whose parameters could be copied.
const DEFAULT_DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$uVJ4fZOtO11QQau2q9XI6w$mWttZNvQIlJSJla0MSwlOLogJbpJ4e+RFUIaazWbzIs";

/// A hash with the same parameters as `like` (a user's hash), to verify against when the
/// username is unknown, so that the answer takes as long as for a known user.
pub(crate) fn dummy_hash(like: Option<&str>) -> String {
    like.and_then(|phc| {
        let params = argon2::Params::try_from(&PasswordHash::new(phc).ok()?).ok()?;
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        hasher.hash_password(b"no such user").ok()
    })
    .map_or_else(|| DEFAULT_DUMMY.to_owned(), |h| h.to_string())
}

/// Whether `password` matches the PHC string `phc` (argon2 compares in constant time).
fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// [`verify`] in the pool of slow hashes, so the async workers keep serving requests.
pub(crate) async fn verify_blocking(password: &str, phc: String) -> Result<bool, DirectoryError> {
    let password = password.to_owned();
    crate::slow_hash::run(move || verify(&password, &phc))
        .await
        .map_err(|_| DirectoryError::Interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hashes_never_match_and_copy_parameters() {
        let like = "$argon2id$v=19$m=8192,t=1,p=1$zJKj/go6XYv2p/LoNtaNnw$LSn+NE0xsx42p+xgj6Z1nWUSJ/CQ0sxLYxvaDdsJfpw";
        let dummy = dummy_hash(Some(like));
        assert!(
            dummy.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"),
            "{dummy}"
        );
        assert!(!verify("", &dummy));
        assert_eq!(dummy_hash(None), DEFAULT_DUMMY);
        assert_eq!(dummy_hash(Some("garbage")), DEFAULT_DUMMY);
    }
}
