//! The validated, compiled policy: what [`crate::parse`] returns and
//! [`crate::evaluate`] reads.

use std::fmt;

use crate::approval::{Approval, BreakGlass, Mode};
use crate::condition::{Callers, Checks, Conditions, Predicate};

use crate::lint::Lint;

/// A profile's policy, validated and compiled. Only [`crate::parse`] makes one.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub(crate) profile: Profile,
    pub(crate) rules: Vec<Rule>,
    pub(crate) lints: Vec<Lint>,
    /// The distinct conditions the rules' [`Checks`] refer to.
    pub(crate) predicates: Vec<Predicate>,
}

impl PolicySet {
    /// The protected role and the profile's duration and tag settings.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The rules in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Warnings about a document that is valid but probably not what its
    /// author meant (shadowed rules, allows after a catch-all deny, no rules).
    pub fn lints(&self) -> &[Lint] {
        &self.lints
    }
}

/// The `profile` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The protected role the TVM assumes.
    pub role_arn: sentinel_types::RoleArn,
    /// Seconds granted when the caller asks for no duration.
    pub default_duration: u32,
    /// The longest credentials this profile grants, in seconds.
    pub max_duration: Option<u32>,
    /// Static session tags, in document order.
    pub session_tags: Vec<(String, String)>,
}

/// What a rule decides. Only `allow` issues credentials by itself; `require_approval`
/// issues them under an approved request, `break_glass` through `POST /breakglass`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Issue credentials.
    Allow,
    /// Refuse, and stop looking at later rules.
    Deny,
    /// Issue credentials only under an approved request (profile policies only).
    RequireApproval,
    /// Issue credentials without an approver, loudly, through `POST /breakglass` only
    /// (profile policies only).
    BreakGlass,
}

impl Effect {
    /// `allow` or `deny`, as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
            Effect::RequireApproval => "require_approval",
            Effect::BreakGlass => "break_glass",
        }
    }

    /// Whether an evaluation in `mode` looks at rules with this effect: a vend never
    /// at `break_glass` rules, a break-glass call only at `deny` and `break_glass` ones.
    pub fn seen_in(self, mode: Mode) -> bool {
        match mode {
            Mode::Vend => self != Effect::BreakGlass,
            Mode::BreakGlass => matches!(self, Effect::Deny | Effect::BreakGlass),
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a rule of `effect` with `conditions` is ever asked about a
/// workload. SECURITY: an allow without `issuers`, `subjects` or `claims` was
/// written for IAM callers (`users: ["*"]`, or no conditions at all) and must
/// not admit every token holder; a deny still applies to workloads, so a
/// freeze or a catch-all deny keeps working.
pub(crate) fn sees_workloads(effect: Effect, conditions: &Conditions) -> bool {
    effect == Effect::Deny || conditions.names_workload()
}

/// One rule, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub(crate) name: String,
    pub(crate) effect: Effect,
    pub(crate) conditions: Conditions,
    pub(crate) checks: Checks,
    pub(crate) max_duration: Option<u32>,
    pub(crate) reason: Option<String>,
    pub(crate) approval: Option<Approval>,
    pub(crate) break_glass: Option<BreakGlass>,
    pub(crate) line: Option<usize>,
    pub(crate) column: Option<usize>,
}

impl Rule {
    /// The rule's unique name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the rule decides when its conditions hold.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The cap on credentials this rule grants, in seconds.
    pub fn max_duration(&self) -> Option<u32> {
        self.max_duration
    }

    /// Why the rule exists, as its author wrote it.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// A `require_approval` rule's approval block.
    pub fn approval(&self) -> Option<&Approval> {
        self.approval.as_ref()
    }

    /// A `break_glass` rule's block (its defaults when the document has none).
    pub fn break_glass(&self) -> Option<&BreakGlass> {
        self.break_glass.as_ref()
    }

    /// Whether the rule has no conditions that could fail: it matches every
    /// request it is asked about. Every rule is asked about IAM callers; a
    /// deny, or a rule with `issuers`, `subjects` or `claims`, about
    /// workloads too (an allow without them never matches one). So a rule
    /// with workload conditions is never a catch-all, nor is a deny with
    /// `principals` or `accounts`, which never hold for a workload.
    pub fn is_catch_all(&self) -> bool {
        let none = Conditions::default();
        let asked = |callers| match callers {
            Callers::Iam => true,
            Callers::Workloads => sees_workloads(self.effect, &self.conditions),
        };
        [Callers::Iam, Callers::Workloads]
            .into_iter()
            .all(|callers| !asked(callers) || self.conditions.covers(&none, callers))
    }

    /// Whether the rule can match callers of this kind at all: its
    /// conditions can hold for them, and an allow without workload
    /// conditions never matches a workload.
    pub(crate) fn can_match(&self, callers: Callers) -> bool {
        match callers {
            Callers::Iam => !self.conditions.names_workload(),
            Callers::Workloads => {
                !self.conditions.names_iam() && sees_workloads(self.effect, &self.conditions)
            }
        }
    }

    /// The 1-based line of the rule's `name:` in the source, when found.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column of the rule's `name` key, when found.
    pub fn column(&self) -> Option<usize> {
        self.column
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_print_as_written() {
        assert_eq!(Effect::Allow.to_string(), "allow");
        assert_eq!(Effect::Deny.as_str(), "deny");
    }
}
