//! Why a policy document was refused.

use std::fmt;

/// A policy document that does not validate: the message, where it is (1-based
/// line and column, when known), the rule it belongs to and what to do about it.
///
/// `Display` renders ``line L, column C: rule `name`: message``, leaving out
/// what is unknown; the hint is only available through [`PolicyError::hint`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct PolicyError {
    message: String,
    line: Option<usize>,
    column: Option<usize>,
    rule: Option<String>,
    hint: Option<String>,
}

impl PolicyError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: None,
            column: None,
            rule: None,
            hint: None,
        }
    }

    pub(crate) fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub(crate) fn in_rule(mut self, rule: Option<String>) -> Self {
        self.rule = rule;
        self
    }

    pub(crate) fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// What is wrong, without location or rule.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 1-based line of the offending rule or key, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column of the offending rule or key, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The name of the rule the error is in, when it is in a named rule.
    pub fn rule(&self) -> Option<&str> {
        self.rule.as_deref()
    }

    /// What to do about it, when there is something useful to say.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The message with the rule, without the location: what a tool that
    /// prints `file:line:column:` itself shows after it.
    pub fn detail(&self) -> String {
        match &self.rule {
            Some(rule) => format!("rule `{rule}`: {}", self.message),
            None => self.message.clone(),
        }
    }

    fn render(&self) -> String {
        let place = match (self.line, self.column) {
            (Some(line), Some(column)) => format!("line {line}, column {column}: "),
            (Some(line), None) => format!("line {line}: "),
            _ => String::new(),
        };
        format!("{place}{}", self.detail())
    }
}

/// A value that failed validation while the document was read: carried through
/// serde as a custom error message, which is why the hint travels inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

/// Separates message and hint inside a serde error text. It starts with a
/// control character, which validated user values never contain.
pub(crate) const HINT_MARK: &str = "\u{1}hint: ";

impl Invalid {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<sentinel_types::InvalidValue> for Invalid {
    fn from(e: sentinel_types::InvalidValue) -> Self {
        Self {
            message: e.message().to_owned(),
            hint: e.hint_text().map(str::to_owned),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "{HINT_MARK}{hint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_location_and_rule_when_known() {
        let bare = PolicyError::new("bad");
        assert_eq!(bare.to_string(), "bad");
        let placed = PolicyError::new("bad")
            .at(3, 7)
            .in_rule(Some("ops".into()))
            .with_hint(Some("fix it".into()));
        assert_eq!(placed.to_string(), "line 3, column 7: rule `ops`: bad");
        assert_eq!(placed.line(), Some(3));
        assert_eq!(placed.column(), Some(7));
        assert_eq!(placed.rule(), Some("ops"));
        assert_eq!(placed.hint(), Some("fix it"));
        assert_eq!(placed.detail(), "rule `ops`: bad");
    }

    #[test]
    fn invalid_carries_its_hint_through_a_single_string() {
        let text = Invalid::new("bad").hint("do this").to_string();
        assert_eq!(text.split_once(HINT_MARK), Some(("bad", "do this")));
        assert_eq!(Invalid::new("bad").to_string(), "bad");
    }
}
