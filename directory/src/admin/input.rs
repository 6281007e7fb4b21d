//! The checks on names and values an admin types, before any backend sees them. Special
//! characters are allowed where the directory allows them (they are escaped on the way into a
//! DN or a filter); what is refused is what no directory should store: empty values, control
//! characters, spaces around a name, a mail address without `@`.

use crate::input::{check_password, check_username};
use crate::settings::Secret;

use super::{AdminError, NewUser};

fn invalid(field: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::Invalid {
        field,
        message: message.into(),
    }
}

/// A name typed by an admin: not empty, no control characters, no spaces around it.
fn check_name(field: &'static str, value: &str) -> Result<(), AdminError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "contains a control character"));
    }
    if value.trim() != value {
        return Err(invalid(field, "starts or ends with a space"));
    }
    Ok(())
}

/// Refuses a group name no policy could name.
pub(crate) fn check_group_name(name: &str) -> Result<(), AdminError> {
    check_name("group name", name)
}

/// Refuses a new user whose fields could not be stored or matched.
pub(crate) fn check_new_user(user: &NewUser) -> Result<(), AdminError> {
    check_username(&user.username).map_err(|e| invalid("user name", e.to_string()))?;
    check_name("user name", &user.username)?;
    check_name("name", &user.display_name)?;
    if let Some(mail) = &user.email {
        check_name("mail", mail)?;
        let parts = mail.split_once('@');
        if !parts.is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
            || mail.contains(char::is_whitespace)
        {
            return Err(invalid("mail", format!("{mail:?} is not a mail address")));
        }
    }
    for group in &user.groups {
        check_group_name(group)?;
    }
    if let Some(password) = &user.password {
        check_new_password(password)?;
    }
    Ok(())
}

/// Refuses a password that could not be checked at login (empty, NUL, over-long).
pub(crate) fn check_new_password(password: &Secret) -> Result<(), AdminError> {
    check_password(password.expose()).map_err(|e| invalid("password", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(username: &str, name: &str, mail: Option<&str>) -> NewUser {
        NewUser {
            username: username.into(),
            display_name: name.into(),
            email: mail.map(Into::into),
            groups: vec!["staff".into()],
            password: None,
        }
    }

    #[test]
    fn usable_users_pass_and_special_characters_are_allowed() {
        assert!(check_new_user(&user("frank", "Frank Zappa", Some("f@example.org"))).is_ok());
        assert!(check_new_user(&user("o'neil,+x", "O'Neil, Jr.", None)).is_ok());
    }

    #[test]
    fn unusable_values_are_refused_naming_the_field() {
        let field = |u: NewUser| match check_new_user(&u) {
            Err(AdminError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(user("", "A", None)), "user name");
        assert_eq!(field(user(" a", "A", None)), "user name");
        assert_eq!(field(user("a\nb", "A", None)), "user name");
        assert_eq!(field(user("a", " ", None)), "name");
        assert_eq!(field(user("a", "A", Some("nomail"))), "mail");
        assert_eq!(field(user("a", "A", Some("a@"))), "mail");
        let mut bad_group = user("a", "A", None);
        bad_group.groups.push(String::new());
        assert_eq!(field(bad_group), "group name");
        let mut empty_password = user("a", "A", None);
        empty_password.password = Some(Secret::new(""));
        assert_eq!(field(empty_password), "password");
    }
}
