//! What the admin and the proxy policy share: a rule set whose rules are a
//! profile rule's conditions plus a scope (admin: `actions` and `profiles`;
//! proxy: `routes`), evaluated first match decides, no match is a deny.

use std::fmt::Debug;

use chrono::{DateTime, Utc};

use crate::condition::{Callers, Clock, Conditions, Predicate};
use crate::decision::Request;
use crate::explain::Skipped;
use crate::lint::{Lint, Ordered};
use crate::set::{Effect, Rule};

/// What a scoped rule covers beyond its conditions, and the request it reads.
pub trait Scope: Debug + Clone + PartialEq {
    /// The request the policy decides.
    type Request<'a>;

    /// The caller's part of `request`, as the shared conditions read it.
    fn caller<'r>(request: &'r Self::Request<'_>) -> Request<'r>;

    /// Whether `request` is within the scope.
    fn holds(&self, request: &Self::Request<'_>) -> bool;

    /// Why `request` is not within the scope, one entry per part that is not.
    fn why_not(&self, request: &Self::Request<'_>) -> Vec<String>;

    /// Whether every request `other` covers, `self` covers too (conservative).
    fn covers(&self, other: &Self) -> bool;

    /// Whether the scope covers every request.
    fn is_universal(&self) -> bool;
}

/// A scoped policy, validated and compiled: only its document's parser makes one.
#[derive(Debug, Clone)]
pub struct ScopedSet<S> {
    pub(crate) rules: Vec<ScopedRule<S>>,
    pub(crate) lints: Vec<Lint>,
    /// The distinct conditions the rules' checks refer to.
    pub(crate) predicates: Vec<Predicate>,
}

impl<S> ScopedSet<S> {
    /// The rules in evaluation order.
    pub fn rules(&self) -> &[ScopedRule<S>] {
        &self.rules
    }

    /// Warnings about a document that is valid but probably not what its
    /// author meant (shadowed rules, allows after a catch-all deny, no rules;
    /// for the admin policy, `actions` globs that match no admin action).
    pub fn lints(&self) -> &[Lint] {
        &self.lints
    }
}

/// One scoped rule, compiled: a rule's conditions plus what it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopedRule<S> {
    pub(crate) rule: Rule,
    pub(crate) scope: S,
}

impl<S: Scope> ScopedRule<S> {
    /// The rule's unique name.
    pub fn name(&self) -> &str {
        self.rule.name()
    }

    /// What the rule decides when its conditions hold.
    pub fn effect(&self) -> Effect {
        self.rule.effect()
    }

    /// Why the rule exists, as its author wrote it.
    pub fn reason(&self) -> Option<&str> {
        self.rule.reason()
    }

    /// Whether the rule matches every request of its policy (any caller,
    /// its scope universal).
    pub fn is_catch_all(&self) -> bool {
        Ordered::is_catch_all(self)
    }

    /// The 1-based line of the rule's `name:` in the source, when found.
    pub fn line(&self) -> Option<usize> {
        self.rule.line()
    }

    /// The 1-based column of the rule's `name` key, when found.
    pub fn column(&self) -> Option<usize> {
        self.rule.column()
    }
}

impl<S: Scope> Ordered for ScopedRule<S> {
    fn rule(&self) -> &Rule {
        &self.rule
    }

    // Admin and proxy callers are IAM callers only (their documents refuse
    // workload conditions).
    fn covers(&self, other: &Self) -> bool {
        self.rule
            .conditions
            .covers(&other.rule.conditions, Callers::Iam)
            && self.scope.covers(&other.scope)
    }

    fn is_catch_all(&self) -> bool {
        self.rule
            .conditions
            .covers(&Conditions::default(), Callers::Iam)
            && self.scope.is_universal()
    }
}

/// The outcome of an admin or proxy request. A deny is a value, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopedDecision<'s> {
    /// The request may proceed (the admin action, or forwarding).
    Allow {
        /// The deciding rule.
        rule: &'s str,
        /// Its reason, if it has one.
        reason: Option<&'s str>,
    },
    /// Refuse (403 `ADMIN_DENY` from the admin API, `POLICY_DENY` from the proxy).
    Deny {
        /// The deciding deny rule; `None` when no rule matched.
        rule: Option<&'s str>,
        /// Its reason, if it has one.
        reason: Option<&'s str>,
    },
}

impl ScopedDecision<'_> {
    /// Whether the request may proceed.
    pub fn is_allow(&self) -> bool {
        matches!(self, ScopedDecision::Allow { .. })
    }
}

pub(crate) const NO_MATCH: ScopedDecision<'static> = ScopedDecision::Deny {
    rule: None,
    reason: None,
};

/// Decides `request` at `now`: the first rule whose conditions (its scope
/// included) all hold decides; no match is a deny. Does not allocate.
pub(crate) fn evaluate<'s, S: Scope>(
    set: &'s ScopedSet<S>,
    request: &S::Request<'_>,
    now: DateTime<Utc>,
) -> ScopedDecision<'s> {
    let caller = S::caller(request);
    let mut clock = Clock::new(now, &caller);
    set.rules
        .iter()
        .find(|r| {
            r.scope.holds(request) && r.rule.checks.hold(&set.predicates, &caller, &mut clock)
        })
        .map_or(NO_MATCH, decide)
}

fn decide<S>(rule: &ScopedRule<S>) -> ScopedDecision<'_> {
    match rule.rule.effect {
        Effect::Allow => ScopedDecision::Allow {
            rule: &rule.rule.name,
            reason: rule.rule.reason.as_deref(),
        },
        // Scoped documents refuse the other effects; were one there, it would deny.
        Effect::Deny | Effect::RequireApproval | Effect::BreakGlass => ScopedDecision::Deny {
            rule: Some(&rule.rule.name),
            reason: rule.rule.reason.as_deref(),
        },
    }
}

/// The decision of evaluating plus, for every rule before the deciding one
/// (every rule when none matched), the conditions that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedExplanation<'s> {
    /// Exactly what evaluating decides for the same input.
    pub decision: ScopedDecision<'s>,
    /// The rules that did not match, in order.
    pub skipped: Vec<Skipped<'s>>,
}

/// Decides `request` at `now` and says why earlier rules did not match.
pub(crate) fn explain<'s, S: Scope>(
    set: &'s ScopedSet<S>,
    request: &S::Request<'_>,
    now: DateTime<Utc>,
) -> ScopedExplanation<'s> {
    let caller = S::caller(request);
    let mut clock = Clock::new(now, &caller);
    let mut skipped = Vec::new();
    for rule in &set.rules {
        let mut mismatches = rule.rule.conditions.why_not(&caller, &mut clock);
        mismatches.extend(rule.scope.why_not(request));
        if mismatches.is_empty() {
            return ScopedExplanation {
                decision: decide(rule),
                skipped,
            };
        }
        skipped.push(Skipped {
            rule: &rule.rule.name,
            effect: rule.rule.effect,
            mismatches,
        });
    }
    ScopedExplanation {
        decision: NO_MATCH,
        skipped,
    }
}

/// The caller's part of an admin or proxy request: AWS-signed, no duration.
pub(crate) fn iam_caller<'r>(
    principal_arn: &'r str,
    user: &'r str,
    account_id: &'r str,
    source_ip: Option<std::net::IpAddr>,
) -> Request<'r> {
    Request {
        principal_arn,
        user,
        account_id,
        source_ip,
        requested_duration: None,
        // Admin and proxy callers sign with AWS credentials.
        workload: None,
    }
}
