//! Shell completions and the man page, generated from the command line's own definition so they
//! never fall behind it. Both print to standard output; docs/admin-cli.md has the install lines.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::opt::Cli;

/// Prints the completion script for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "pforte-admin", out);
}

/// Prints the man page, in roff.
pub fn man(out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_know_the_nouns() {
        let mut out = Vec::new();
        completions(Shell::Bash, &mut out);
        let script = String::from_utf8(out).unwrap();
        assert!(script.contains("sessions") && script.contains("who-can"));
        assert!(script.contains("idps"), "idps list|show|test");
        assert!(script.contains("--dir"), "keys --dir");
    }

    #[test]
    fn the_man_page_names_the_tool() {
        let mut out = Vec::new();
        man(&mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.contains(".TH pforte-admin"), "{page}");
        assert!(
            page.contains("need none"),
            "which commands run without a config: {page}"
        );
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
