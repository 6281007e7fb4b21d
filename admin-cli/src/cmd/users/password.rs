//! Secrets typed by the admin: a new password (asked twice without echo, or the first line of
//! standard input) and the directory admin's password (its file, or asked). Prompts happen only
//! on a terminal, so a script never waits for an answer that cannot come.

use std::io::IsTerminal as _;

use pforte_directory::{LdapAdminSettings, Secret};

use crate::error::CmdError;

/// The admin account's password: its file, or the terminal.
pub(super) fn admin(admin: &LdapAdminSettings) -> Result<Secret, CmdError> {
    match &admin.password_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CmdError::Password(format!(
                    "cannot read the admin password file {}: {e}",
                    path.display()
                ))
            })?;
            let password = text.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                return Err(CmdError::Password(format!(
                    "the admin password file {} is empty",
                    path.display()
                )));
            }
            Ok(Secret::new(password))
        }
        None => ask(
            &format!("password of {}: ", admin.bind_dn),
            "the directory admin's password",
            "set bind_password_file in [directory.ldap.admin]",
        ),
    }
}

/// Asks for a secret without echo; only on a terminal (else `hint` says what to do instead).
fn ask(prompt: &str, what: &str, hint: &str) -> Result<Secret, CmdError> {
    if !std::io::stdin().is_terminal() {
        return Err(CmdError::Password(format!(
            "no terminal to ask for {what} on: {hint}"
        )));
    }
    rpassword::prompt_password(prompt)
        .map(Secret::new)
        .map_err(|e| CmdError::Password(format!("cannot read {what}: {e}")))
}

/// A new password: the first line of `input`, or asked twice on the terminal.
pub(super) fn new(username: &str, stdin: bool) -> Result<Secret, CmdError> {
    if stdin {
        return from_stdin(&mut std::io::stdin().lock());
    }
    const HINT: &str = "give it on standard input with --password-stdin";
    let first = ask(
        &format!("new password for {username}: "),
        "the new password",
        HINT,
    )?;
    let again = ask("the same again: ", "the new password", HINT)?;
    if first != again {
        return Err(CmdError::Password(
            "the two passwords differ; nothing changed".into(),
        ));
    }
    Ok(first)
}

/// The first line of `input` (without its line end) as a password.
pub(super) fn from_stdin(input: &mut impl std::io::BufRead) -> Result<Secret, CmdError> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(|e| {
        CmdError::Password(format!("cannot read the password from standard input: {e}"))
    })?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(CmdError::Password(
            "standard input gave an empty password; nothing changed".into(),
        ));
    }
    Ok(Secret::new(password))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;

    #[test]
    fn a_password_from_stdin_is_its_first_line() {
        let mut input = std::io::Cursor::new("s3cret pass\r\nsecond line\n");
        assert_eq!(from_stdin(&mut input).unwrap().expose(), "s3cret pass");
        let err = from_stdin(&mut std::io::Cursor::new("\n")).unwrap_err();
        assert_eq!(err.exit(), Exit::BAD_INPUT);
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
