//! The one error of this crate: a value that is not what AWS or Sentinel accepts.

/// A value refused by one of this crate's parsers: what was wrong (lowercase, the
/// value in backticks) and, where there is something useful to say, how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidValue {
    message: String,
    hint: Option<&'static str>,
}

impl InvalidValue {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How to write a valid value, when there is something useful to say.
    pub fn hint_text(&self) -> Option<&'static str> {
        self.hint
    }
}
