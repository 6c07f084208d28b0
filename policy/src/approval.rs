//! The two gates beyond allow and deny (docs/approvals.md): a `require_approval` rule's
//! [`Approval`] (who may approve, how many, what a reason must look like, how long) and a
//! `break_glass` rule's [`BreakGlass`] (cooldown and reason).
//!
//! The engine only describes and checks; the TVM keeps requests and events (crate
//! `approvals`) and decides when to vend.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::condition::{Clock, Conditions};
use crate::decision::Request;

/// Which rules an evaluation looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A vend or an approval request (`GET /`, `POST /requests`): every rule but
    /// `break_glass` rules.
    Vend,
    /// `POST /breakglass`: only `deny` and `break_glass` rules (a freeze still holds).
    BreakGlass,
}

/// A `require_approval` rule's `approval` block, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub(crate) approvers: Vec<Conditions>,
    pub(crate) required: u32,
    pub(crate) reason: ReasonRule,
    pub(crate) max_duration: Option<u32>,
    pub(crate) request_ttl: u32,
}

impl Approval {
    /// Approvals needed from each approver group.
    pub fn required(&self) -> u32 {
        self.required
    }

    /// How many approver groups there are (at least one).
    pub fn groups(&self) -> usize {
        self.approvers.len()
    }

    /// Seconds an unanswered request lives.
    pub fn request_ttl(&self) -> u32 {
        self.request_ttl
    }

    /// The cap on credentials once approved, in seconds, if the block sets one.
    pub fn max_duration(&self) -> Option<u32> {
        self.max_duration
    }

    /// What a request's reason must satisfy.
    pub fn reason_rule(&self) -> &ReasonRule {
        &self.reason
    }

    /// The indexes (from 0) of the approver groups `approver` matches at `now`, in
    /// order. Empty: the caller may not approve. The caller must also not be the
    /// requester; that is the TVM's check (it knows the request).
    pub fn groups_of(&self, approver: &Request<'_>, now: DateTime<Utc>) -> Vec<usize> {
        self.approvers
            .iter()
            .enumerate()
            .filter(|(_, group)| {
                // One clock per group: each group's time zone has its own slot 0.
                let mut clock = Clock::new(now, approver);
                group.why_not(approver, &mut clock).is_empty()
            })
            .map(|(index, _)| index)
            .collect()
    }

    /// Each approver group as people read it (`principals: [...]; users: [...]`).
    pub fn describe_groups(&self) -> Vec<String> {
        self.approvers.iter().map(Conditions::describe).collect()
    }

    /// A short digest of the approver groups, in order, and `required`: an approval
    /// given under them counts only while they are the rule's (reordered or edited
    /// groups start the count again).
    pub fn approvers_digest(&self) -> String {
        let mut text = self.describe_groups().join("\n");
        text.push_str(&format!("\nrequired: {}", self.required));
        sentinel_types::short_digest(&text)
    }
}

// Conditions compare structurally (globs, networks, windows): equality is total.
impl Eq for Approval {}

/// A `break_glass` rule's `break_glass` block, validated (an absent block is the
/// defaults: no cooldown, any one-line reason).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BreakGlass {
    pub(crate) cooldown: Option<u32>,
    pub(crate) reason: ReasonRule,
}

impl Eq for BreakGlass {}

impl BreakGlass {
    /// Seconds a user waits between two uses on one profile, if any.
    pub fn cooldown(&self) -> Option<u32> {
        self.cooldown
    }

    /// What the reason must satisfy.
    pub fn reason_rule(&self) -> &ReasonRule {
        &self.reason
    }
}

/// What a reason must satisfy: always one line of 1 to 512 characters after trimming;
/// at least `min_length` characters; matching `pattern` (a regular expression, found
/// anywhere unless anchored) when set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReasonRule {
    pub(crate) min_length: u32,
    pub(crate) pattern: Option<Pattern>,
}

/// Longest reason accepted.
pub const MAX_REASON_CHARS: usize = 512;

impl ReasonRule {
    /// The reason, trimmed, or why it is refused (for 400 `INVALID_REASON`).
    pub fn check<'r>(&self, reason: &'r str) -> Result<&'r str, String> {
        let reason = reason.trim();
        let chars = reason.chars().count();
        if chars == 0 {
            return Err("a reason is required".to_owned());
        }
        if chars > MAX_REASON_CHARS || reason.chars().any(sentinel_types::is_hidden_char) {
            return Err(format!(
                "the reason must be one line of at most {MAX_REASON_CHARS} characters"
            ));
        }
        if chars < usize::try_from(self.min_length).unwrap_or(usize::MAX) {
            return Err(format!(
                "the reason must be at least {} characters",
                self.min_length
            ));
        }
        if let Some(pattern) = &self.pattern
            && !pattern.regex.is_match(reason)
        {
            return Err(format!(
                "the reason must match the pattern `{}`",
                pattern.text
            ));
        }
        Ok(reason)
    }

    /// The rule as people read it, empty when only the defaults apply.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.min_length > 0 {
            parts.push(format!("at least {} characters", self.min_length));
        }
        if let Some(p) = &self.pattern {
            parts.push(format!("matching `{}`", p.text));
        }
        parts.join(", ")
    }
}

/// A compiled reason pattern; equal when the text is.
#[derive(Clone)]
pub(crate) struct Pattern {
    pub(crate) text: String,
    pub(crate) regex: regex_lite::Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.text)
    }
}
