//! Whether log lines may carry terminal colour codes. A log written to a file, a pipe or a
//! journal is read by people with `less` and by log shippers, for whom `ESC[2m` is noise that
//! breaks searches; colour is for a person watching a terminal, and `NO_COLOR`
//! (<https://no-color.org>) turns it off there too.

use std::ffi::OsStr;
use std::io::IsTerminal;

/// Colour for standard error, where the log lines go: only on a terminal, and only when
/// `NO_COLOR` is not set to a non-empty value.
pub fn for_stderr() -> bool {
    wanted(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// The rule, apart from the process's state: colour on a terminal unless `no_color` (the
/// variable's value) is present and not empty.
fn wanted(terminal: bool, no_color: Option<&OsStr>) -> bool {
    terminal && no_color.is_none_or(OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use super::wanted;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(wanted(true, None));
        assert!(wanted(true, Some(OsStr::new(""))), "empty NO_COLOR: unset");
        assert!(!wanted(true, Some(OsStr::new("1"))));
        assert!(!wanted(false, None), "a file or a pipe");
        assert!(!wanted(false, Some(OsStr::new("1"))));
    }
}
