//! What a command reports when it does not succeed: the exit class, one line
//! for stderr and an optional hint. `main` turns the class into the exit code.

use std::fmt;

/// The exit classes of docs/cli.md other than success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// Exit 1: anything that is not the caller's input or a policy decision.
    Error,
    /// Exit 2: the policy denied the request.
    Denied,
    /// Exit 3: invalid input or an invalid policy.
    Invalid,
}

impl ExitKind {
    /// The process exit code of this class.
    pub fn code(self) -> u8 {
        match self {
            Self::Error => 1,
            Self::Denied => 2,
            Self::Invalid => 3,
        }
    }
}

/// A failed command: printed as `sentinel: error: <message>` and `hint: <hint>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Which exit code.
    pub kind: ExitKind,
    /// One line, lowercase, user values in backticks.
    pub message: String,
    /// What to do about it, if there is something to say.
    pub hint: Option<String>,
}

impl Failure {
    /// Exit 1.
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Error, message)
    }

    /// Exit 3.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Invalid, message)
    }

    /// A failure of the given class.
    pub fn new(kind: ExitKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: one_line(&message.into()),
            hint: None,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(one_line(&hint.into()));
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sentinel: error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

pub use sentinel_types::error_chain;

/// stderr promises one line: newlines from remote messages become spaces.
fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The shared SSM policy store's failures: an invalid document is the caller's
/// (exit 3), everything else an error with a hint about this shell's AWS setup.
impl From<sentinel_aws::PolicyStoreError> for Failure {
    fn from(e: sentinel_aws::PolicyStoreError) -> Self {
        match e {
            sentinel_aws::PolicyStoreError::TooLarge { .. } => Failure::invalid(e.to_string()),
            other => Failure::error(other.to_string()).with_hint(
                "check the AWS credentials and region of this shell (AWS_PROFILE, AWS_REGION)",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_one_error_line_and_an_optional_hint() {
        let plain = Failure::error("it broke\non two lines");
        assert_eq!(plain.to_string(), "sentinel: error: it broke on two lines");
        let hinted = Failure::invalid("bad").with_hint("do this");
        assert_eq!(hinted.to_string(), "sentinel: error: bad\nhint: do this");
        assert_eq!(hinted.kind.code(), 3);
        assert_eq!(ExitKind::Denied.code(), 2);
        assert_eq!(ExitKind::Error.code(), 1);
    }
}
