//! The question every destructive command asks before it acts: on a terminal the admin types
//! `yes`; without one (a script, a pipe) the command refuses unless `--yes` was given, so an
//! unattended run never changes anything by accident.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::CmdError;

/// Asks `question` on the terminal unless `yes`; `Ok` only when the change may go ahead.
pub fn confirm(question: &str, yes: bool) -> Result<(), CmdError> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CmdError::NoTerminal(question.to_string()));
    }
    let mut stderr = std::io::stderr();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if is_yes(&answer) {
        Ok(())
    } else {
        Err(CmdError::NotConfirmed)
    }
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_yes_confirms() {
        assert!(is_yes("y\n") && is_yes(" YES ") && is_yes("yes"));
        assert!(!is_yes("") && !is_yes("\n") && !is_yes("no") && !is_yes("yess"));
    }

    #[test]
    fn yes_skips_the_question() {
        assert!(confirm("revoke?", true).is_ok());
    }
}
