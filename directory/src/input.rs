//! The checks on a username and password before either goes near a directory server.

use crate::error::{Field, InputError};

/// Longest username accepted, in bytes: far above any real login name.
pub const MAX_USERNAME_BYTES: usize = 256;

/// Longest password accepted, in bytes: far above any real passphrase, low enough that hashing it
/// costs nothing extra.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Refuses an empty, over-long or control-character username.
pub(crate) fn check_username(username: &str) -> Result<(), InputError> {
    check(username, Field::Username, MAX_USERNAME_BYTES)?;
    if username.chars().any(char::is_control) {
        return Err(InputError::ControlCharacter(Field::Username));
    }
    Ok(())
}

/// Refuses an empty, over-long or NUL-carrying password. An empty password must never be sent:
/// LDAP treats a simple bind with an empty password as an unauthenticated bind, which succeeds.
pub(crate) fn check_password(password: &str) -> Result<(), InputError> {
    check(password, Field::Password, MAX_PASSWORD_BYTES)?;
    if password.contains('\0') {
        return Err(InputError::ControlCharacter(Field::Password));
    }
    Ok(())
}

fn check(value: &str, field: Field, max: usize) -> Result<(), InputError> {
    if value.is_empty() {
        return Err(InputError::Empty(field));
    }
    if value.len() > max {
        return Err(InputError::TooLong { field, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(check_username("alice"), Ok(()));
        assert_eq!(check_username("*"), Ok(()), "escaped later, not refused");
        assert_eq!(check_username(""), Err(InputError::Empty(Field::Username)));
        assert_eq!(
            check_username("alice\0"),
            Err(InputError::ControlCharacter(Field::Username))
        );
        assert_eq!(
            check_username("a\nb"),
            Err(InputError::ControlCharacter(Field::Username))
        );
        assert!(matches!(
            check_username(&"a".repeat(MAX_USERNAME_BYTES + 1)),
            Err(InputError::TooLong { .. })
        ));
    }

    #[test]
    fn passwords() {
        assert_eq!(check_password("pw with spaces\t"), Ok(()));
        assert_eq!(check_password(""), Err(InputError::Empty(Field::Password)));
        assert_eq!(
            check_password("pw\0"),
            Err(InputError::ControlCharacter(Field::Password))
        );
        assert!(matches!(
            check_password(&"p".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(InputError::TooLong { .. })
        ));
    }
}
