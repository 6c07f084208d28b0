//! How the CLI points at a problem in a policy file: `FILE:LINE:COL`, the one place
//! every command (`policy validate`, `policy test`, `policy push`, `bootstrap`) formats
//! a policy error.

use std::fmt::Write as _;
use std::path::Path;

use policy::PolicyError;

use crate::failure::Failure;

/// `file`, `file:line` or `file:line:column`, as compilers and editors read them.
pub fn place(file: &Path, line: Option<usize>, column: Option<usize>) -> String {
    let mut place = file.display().to_string();
    if let Some(line) = line {
        let _ = write!(place, ":{line}");
        if let Some(column) = column {
            let _ = write!(place, ":{column}");
        }
    }
    place
}

/// `FILE:LINE:COL: rule `r`: message` for a policy error; the location is written
/// once, by [`place`], never also in the message.
pub fn located(file: &Path, error: &PolicyError) -> String {
    format!(
        "{}: {}",
        place(file, error.line(), error.column()),
        error.detail()
    )
}

/// A policy error as a failure (exit 3) with the parser's hint.
pub fn invalid_policy(file: &Path, error: &PolicyError) -> Failure {
    let failure = Failure::invalid(located(file, error));
    match error.hint() {
        Some(hint) => failure.with_hint(hint),
        None => failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_location_is_written_once() {
        let error = policy::parse("version: \"1\"\nprofile: {}\nrules: []\n").unwrap_err();
        let line = located(Path::new("f.yaml"), &error);
        assert!(line.starts_with("f.yaml:"), "{line}");
        assert!(!line.contains("line "), "{line}");
        assert_eq!(place(Path::new("f"), None, Some(3)), "f");
        assert_eq!(place(Path::new("f"), Some(2), None), "f:2");
    }
}
