//! Warnings about valid documents that probably do not say what their author
//! meant. A lint never changes a decision.

use std::fmt;

use crate::set::{Effect, Rule};

/// What a [`Lint`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LintKind {
    /// An earlier rule matches every request this rule matches, so it never decides.
    Shadowed,
    /// An allow rule after a deny rule that matches every request.
    AllowAfterCatchAllDeny,
    /// `rules: []`: the policy denies every request.
    NoRules,
    /// An admin rule's `actions` glob that matches no admin action.
    UnknownAction,
}

/// A warning, with the rule and its place in the document when known.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lint {
    /// Which kind of warning.
    pub kind: LintKind,
    /// The rule the warning is about.
    pub rule: Option<String>,
    /// What is wrong, without location or rule.
    pub message: String,
    line: Option<usize>,
    column: Option<usize>,
}

impl Lint {
    /// The 1-based line the warning points at, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column the warning points at, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The message with the rule, without the location.
    pub fn detail(&self) -> String {
        match &self.rule {
            Some(rule) => format!("rule `{rule}`: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, column {column}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            _ => {}
        }
        f.write_str(&self.detail())
    }
}

/// A rule as the order lints see it: a profile's [`Rule`], an admin or a proxy rule.
pub(crate) trait Ordered {
    fn rule(&self) -> &Rule;
    /// Whether `self` provably matches every request `other` matches.
    fn covers(&self, other: &Self) -> bool;
    fn is_catch_all(&self) -> bool;
}

impl Ordered for Rule {
    fn rule(&self) -> &Rule {
        self
    }

    fn covers(&self, other: &Self) -> bool {
        self.conditions.covers(&other.conditions)
    }

    fn is_catch_all(&self) -> bool {
        Rule::is_catch_all(self)
    }
}

impl Lint {
    /// A warning about `rule`, at the rule.
    pub(crate) fn on_rule(kind: LintKind, rule: &Rule, message: String) -> Self {
        Lint {
            kind,
            rule: Some(rule.name.clone()),
            message,
            line: rule.line,
            column: rule.column,
        }
    }
}

/// The order lints of a rule list; `rules_at` is where the `rules` key is.
pub(crate) fn check<R: Ordered>(rules: &[R], rules_at: Option<(usize, usize)>) -> Vec<Lint> {
    if rules.is_empty() {
        return vec![Lint {
            kind: LintKind::NoRules,
            rule: None,
            message: "the policy has no rules, so it denies every request".to_owned(),
            line: rules_at.map(|(l, _)| l),
            column: rules_at.map(|(_, c)| c),
        }];
    }
    let mut lints = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let earlier = rules.iter().take(index);
        let Some(first) = earlier.clone().find(|e| e.covers(rule)) else {
            continue;
        };
        let place = |r: &Rule| match r.line {
            Some(line) => format!("rule `{}` (line {line})", r.name),
            None => format!("rule `{}`", r.name),
        };
        let catch_all_deny = earlier
            .clone()
            .find(|e| e.rule().effect == Effect::Deny && e.is_catch_all());
        let (kind, message) = match (rule.rule().effect, catch_all_deny) {
            (Effect::Allow, Some(deny)) => (
                LintKind::AllowAfterCatchAllDeny,
                format!(
                    "this allow can never match: the catch-all deny {} comes first",
                    place(deny.rule())
                ),
            ),
            _ => (
                LintKind::Shadowed,
                format!(
                    "can never match: {} comes first and matches every request this rule matches",
                    place(first.rule())
                ),
            ),
        };
        lints.push(Lint::on_rule(kind, rule.rule(), message));
    }
    lints
}
