//! `pforte policy` and `pforte keys` moved to `pforte-admin`, the one administrators' tool;
//! `pforte` only runs the gateway. An old invocation, whatever follows it (`--help` too), gets one
//! line on stderr naming the command to run instead (pforte-admin takes the same arguments) and
//! exit code 2, so a script that still calls it fails loudly rather than doing nothing.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Args;

/// The exit code of a moved command: bad usage.
const MOVED: u8 = 2;

/// Whatever followed the moved command on the command line.
#[derive(Args)]
pub struct Rest {
    /// The arguments, passed on unread.
    #[arg(num_args = 0.., trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

/// Says where `pforte NOUN` went, and fails.
pub fn run(noun: &str, rest: &Rest) -> ExitCode {
    eprintln!("{}", hint(noun, &rest.args));
    ExitCode::from(MOVED)
}

/// The line that names the new command, with the same arguments.
fn hint(noun: &str, args: &[OsString]) -> String {
    let args = if args.is_empty() {
        "--help".to_string()
    } else {
        let quoted: Vec<String> = args.iter().map(|a| quote(&a.to_string_lossy())).collect();
        quoted.join(" ")
    };
    format!(
        "pforte: `pforte {noun}` moved to `pforte-admin {noun}`; run `pforte-admin {noun} {args}`"
    )
}

/// An argument as it must be typed in a shell: as it is when every character is safe, else in
/// single quotes.
fn quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if safe {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_hint_repeats_the_arguments_for_pforte_admin() {
        assert_eq!(
            hint("policy", &args(&["check", "policies/", "--strict"])),
            "pforte: `pforte policy` moved to `pforte-admin policy`; \
             run `pforte-admin policy check policies/ --strict`"
        );
        assert_eq!(
            hint("keys", &[]),
            "pforte: `pforte keys` moved to `pforte-admin keys`; run `pforte-admin keys --help`"
        );
    }

    #[test]
    fn arguments_a_shell_would_split_are_quoted() {
        assert_eq!(
            quote("https://mail.localhost/inbox"),
            "https://mail.localhost/inbox"
        );
        assert_eq!(quote("my policies"), "'my policies'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
