//! The decision with its working: which rules were passed over and why.
//! For people (`sentinel policy test`); the TVM uses [`crate::evaluate`].

use chrono::{DateTime, Utc};

use crate::approval::Mode;
use crate::condition::Clock;
use crate::decision::{Decision, Request, decide};
use crate::set::{Effect, PolicySet, sees_workloads};

/// [`crate::evaluate`]'s decision plus, for every rule before the deciding one
/// (every rule when none matched), the conditions that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation<'s> {
    /// Exactly what [`crate::evaluate`] decides for the same input.
    pub decision: Decision<'s>,
    /// The rules that did not match, in order.
    pub skipped: Vec<Skipped<'s>>,
}

/// A rule that did not match and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped<'s> {
    /// The rule's name.
    pub rule: &'s str,
    /// What it would have decided.
    pub effect: Effect,
    /// Each condition that did not hold, e.g. `time: sat is not in [mon..fri]`.
    pub mismatches: Vec<String>,
}

/// Why an allow without workload conditions passes a workload by.
const NOT_FOR_WORKLOADS: &str =
    "allow rules without issuers/subjects/claims never match a workload";

/// Decides a vend `request` at `now` and says why earlier rules did not match.
pub fn explain<'s>(
    set: &'s PolicySet,
    request: &Request<'_>,
    now: DateTime<Utc>,
) -> Explanation<'s> {
    explain_in(set, request, now, Mode::Vend)
}

/// [`crate::evaluate_in`] with its working; the rules `mode` does not see are left out.
pub fn explain_in<'s>(
    set: &'s PolicySet,
    request: &Request<'_>,
    now: DateTime<Utc>,
    mode: Mode,
) -> Explanation<'s> {
    let mut clock = Clock::new(now, request);
    let mut skipped = Vec::new();
    for rule in set.rules.iter().filter(|r| r.effect.seen_in(mode)) {
        let mut mismatches = rule.conditions.why_not(request, &mut clock);
        if request.workload.is_some() && !sees_workloads(rule.effect, &rule.conditions) {
            mismatches.insert(0, NOT_FOR_WORKLOADS.to_owned());
        }
        if mismatches.is_empty() {
            return Explanation {
                decision: decide(set, rule, request),
                skipped,
            };
        }
        skipped.push(Skipped {
            rule: &rule.name,
            effect: rule.effect,
            mismatches,
        });
    }
    Explanation {
        decision: Decision::Deny {
            rule: None,
            reason: None,
        },
        skipped,
    }
}
