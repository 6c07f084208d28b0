//! The admin policy (docs/policy.md, "Admin policy"): who may call the TVM's
//! admin routes. One document at `<root>/_admin`, parsed by
//! [`crate::parse_admin`] as strictly as a profile's policy, with the same
//! conditions plus `actions` (required) and `profiles`. First match decides;
//! no match is a deny.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use policy::{AdminDecision, AdminRequest};
//!
//! let set = policy::parse_admin(
//!     r#"
//! version: "1"
//! rules:
//!   - name: leads-revoke-their-profiles
//!     effect: allow
//!     conditions:
//!       users: [alice]
//!       actions: [sessions:list, sessions:revoke]
//!       profiles: [staging, "team-*"]
//! "#,
//! )
//! .unwrap();
//! let request = AdminRequest {
//!     principal_arn: "arn:aws:iam::123456789012:user/alice",
//!     user: "alice",
//!     account_id: "123456789012",
//!     source_ip: None,
//!     action: "sessions:revoke",
//!     profile: Some("team-payments"),
//! };
//! let now = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
//! assert_eq!(
//!     policy::evaluate_admin(&set, &request, now),
//!     AdminDecision::Allow { rule: "leads-revoke-their-profiles", reason: None }
//! );
//! // A rule with `profiles` never covers a request that names no profile.
//! let every_session = AdminRequest { action: "sessions:list", profile: None, ..request };
//! assert!(!policy::evaluate_admin(&set, &every_session, now).is_allow());
//! ```

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::decision::Request;
use crate::glob::Glob;
use crate::scoped::{self, ScopedDecision, ScopedExplanation, ScopedRule, ScopedSet};

/// Every action the admin API asks the admin policy about, as `service:verb`.
/// `actions` globs are checked against these when the document is parsed.
pub const ADMIN_ACTIONS: &[&str] = &[
    // GET /sessions
    "sessions:list",
    // GET /sessions/{id}
    "sessions:show",
    // POST /sessions/{id}/revoke and POST /sessions/revoke
    "sessions:revoke",
    // POST /sessions/reconcile
    "sessions:reconcile",
    // approving a `require_approval` request (v2)
    "requests:approve",
    // closing a break-glass event (v2)
    "breakglass:review",
];

/// The admin policy, validated and compiled. Only [`crate::parse_admin`] makes one.
pub type AdminPolicySet = ScopedSet<Scope>;

/// One admin rule, compiled: a rule's conditions plus what it covers.
pub type AdminRule = ScopedRule<Scope>;

/// The outcome of an admin request. A deny is a value, not an error
/// (403 `ADMIN_DENY`).
pub type AdminDecision<'s> = ScopedDecision<'s>;

/// [`evaluate_admin`]'s decision plus, for every rule before the deciding one
/// (every rule when none matched), the conditions that did not hold.
pub type AdminExplanation<'s> = ScopedExplanation<'s>;

/// `actions` and `profiles`: what an admin rule covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub(crate) actions: Vec<Glob>,
    /// `None`: any profile, and requests that name none.
    pub(crate) profiles: Option<Vec<Glob>>,
}

impl scoped::Scope for Scope {
    type Request<'a> = AdminRequest<'a>;

    fn caller<'r>(request: &'r AdminRequest<'_>) -> Request<'r> {
        scoped::iam_caller(
            request.principal_arn,
            request.user,
            request.account_id,
            request.source_ip,
        )
    }

    fn holds(&self, request: &AdminRequest<'_>) -> bool {
        self.actions.iter().any(|g| g.matches(request.action))
            && match (&self.profiles, request.profile) {
                (None, _) => true,
                // SECURITY: a rule limited to some profiles never covers a
                // request that names none (every session, a reconcile).
                (Some(_), None) => false,
                (Some(globs), Some(profile)) => globs.iter().any(|g| g.matches(profile)),
            }
    }

    fn why_not(&self, request: &AdminRequest<'_>) -> Vec<String> {
        let mut reasons = Vec::new();
        if !self.actions.iter().any(|g| g.matches(request.action)) {
            reasons.push(format!(
                "actions: `{}` matches none of {}",
                request.action,
                list(&self.actions)
            ));
        }
        match (&self.profiles, request.profile) {
            (Some(globs), None) => reasons.push(format!(
                "profiles: the request names no profile (the rule covers only {})",
                list(globs)
            )),
            (Some(globs), Some(profile)) if !globs.iter().any(|g| g.matches(profile)) => reasons
                .push(format!(
                    "profiles: `{profile}` matches none of {}",
                    list(globs)
                )),
            _ => {}
        }
        reasons
    }

    fn covers(&self, other: &Scope) -> bool {
        other
            .actions
            .iter()
            .all(|t| self.actions.iter().any(|m| m.covers(t)))
            && match (&self.profiles, &other.profiles) {
                (None, _) => true,
                (Some(mine), Some(theirs)) => {
                    theirs.iter().all(|t| mine.iter().any(|m| m.covers(t)))
                }
                // `other` also matches requests without a profile; `self` does not.
                (Some(_), None) => false,
            }
    }

    // Every action, with or without a profile.
    fn is_universal(&self) -> bool {
        self.profiles.is_none() && self.actions.iter().any(Glob::is_universal)
    }
}

fn list(globs: &[Glob]) -> String {
    let parts: Vec<String> = globs.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// An admin request: who (as AWS verified it) asks to do what, on which
/// profile's sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminRequest<'a> {
    /// The caller's ARN.
    pub principal_arn: &'a str,
    /// The user derived from the ARN ([`crate::identity::derive_user`]).
    pub user: &'a str,
    /// The caller's 12-digit account.
    pub account_id: &'a str,
    /// Where the request came from; `source_ips` conditions never hold without it.
    pub source_ip: Option<IpAddr>,
    /// The action, one of [`ADMIN_ACTIONS`] (e.g. `sessions:revoke`).
    pub action: &'a str,
    /// The profile the action is about; `None` when it is about no single
    /// profile (every session, a reconcile). Rules with `profiles` never match then.
    pub profile: Option<&'a str>,
}

/// Decides `request` at `now`: the first rule whose conditions all hold
/// decides; no match is a deny.
pub fn evaluate_admin<'s>(
    set: &'s AdminPolicySet,
    request: &AdminRequest<'_>,
    now: DateTime<Utc>,
) -> AdminDecision<'s> {
    scoped::evaluate(set, request, now)
}

/// Whether the admin policy could let `request`'s caller do its action on some profile
/// at `now` (`request.profile` is ignored): some allow rule for the action whose
/// conditions hold comes before any deny rule for it, without `profiles`, whose
/// conditions hold. `false` means the caller may do it on no profile at all, so a
/// listing can be refused before anything is read; `true` promises nothing for any one
/// profile ([`evaluate_admin`] decides each).
pub fn admin_may_somewhere(
    set: &AdminPolicySet,
    request: &AdminRequest<'_>,
    now: DateTime<Utc>,
) -> bool {
    let caller = <Scope as scoped::Scope>::caller(request);
    let mut clock = crate::condition::Clock::new(now, &caller);
    for rule in &set.rules {
        let acts = rule.scope.actions.iter().any(|g| g.matches(request.action));
        if !acts || !rule.rule.checks.hold(&set.predicates, &caller, &mut clock) {
            continue;
        }
        match rule.rule.effect {
            crate::set::Effect::Allow => return true,
            // A deny for every profile ends it; one for some profiles leaves others.
            _ if rule.scope.profiles.is_none() => return false,
            _ => {}
        }
    }
    false
}

/// Decides `request` at `now` and says why earlier rules did not match.
pub fn explain_admin<'s>(
    set: &'s AdminPolicySet,
    request: &AdminRequest<'_>,
    now: DateTime<Utc>,
) -> AdminExplanation<'s> {
    scoped::explain(set, request, now)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::parse_admin;

    const DOC: &str = "version: \"1\"\nrules:\n  - name: security\n    effect: allow\n    conditions:\n      principals: [\"arn:aws:sts::111122223333:assumed-role/Security/*\"]\n      actions: [\"sessions:*\", breakglass:review]\n  - name: no-prod\n    effect: deny\n    conditions:\n      actions: [\"*\"]\n      profiles: [prod]\n    reason: prod is the security team's\n  - name: leads\n    effect: allow\n    conditions:\n      users: [alice, bob]\n      actions: [sessions:list, sessions:revoke]\n      profiles: [staging, \"team-*\"]\n";

    fn request<'a>(
        principal_arn: &'a str,
        user: &'a str,
        action: &'a str,
        profile: Option<&'a str>,
    ) -> AdminRequest<'a> {
        AdminRequest {
            principal_arn,
            user,
            account_id: "111122223333",
            source_ip: None,
            action,
            profile,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
    }

    #[test]
    fn may_somewhere_is_false_only_when_no_profile_can_allow() {
        let set = parse_admin(DOC).unwrap();
        let may =
            |arn, user, action| admin_may_somewhere(&set, &request(arn, user, action, None), now());
        // The leads may list on staging and team-* profiles, though not without one.
        assert!(may(ALICE, "alice", "sessions:list"));
        assert!(!policy_allows_without_profile(&set, ALICE, "alice"));
        assert!(!may(ALICE, "alice", "breakglass:review"));
        assert!(may(SECURITY, "sam", "breakglass:review"));
        assert!(!may(
            "arn:aws:iam::111122223333:user/mallory",
            "mallory",
            "sessions:list"
        ));
        // A deny for every profile first: nothing.
        let denied = parse_admin("version: \"1\"\nrules:\n  - name: freeze\n    effect: deny\n    conditions: {actions: [\"*\"]}\n  - name: all\n    effect: allow\n    conditions: {actions: [\"*\"]}\n").unwrap();
        assert!(!admin_may_somewhere(
            &denied,
            &request(ALICE, "alice", "sessions:list", None),
            now()
        ));
    }

    fn policy_allows_without_profile(set: &AdminPolicySet, arn: &str, user: &str) -> bool {
        evaluate_admin(set, &request(arn, user, "sessions:list", None), now()).is_allow()
    }

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
    const SECURITY: &str = "arn:aws:sts::111122223333:assumed-role/Security/ops/sam";

    #[test]
    fn the_first_matching_rule_decides_and_no_match_denies() {
        let set = parse_admin(DOC).unwrap();
        assert!(set.lints().is_empty(), "{:?}", set.lints());
        let cases = [
            (
                SECURITY,
                "sam",
                "sessions:reconcile",
                None,
                Some("security"),
            ),
            (
                SECURITY,
                "sam",
                "sessions:revoke",
                Some("prod"),
                Some("security"),
            ),
            (
                ALICE,
                "alice",
                "sessions:revoke",
                Some("team-a"),
                Some("leads"),
            ),
            (ALICE, "alice", "sessions:revoke", Some("prod"), None),
            (ALICE, "alice", "sessions:reconcile", None, None),
            (ALICE, "alice", "requests:approve", Some("staging"), None),
        ];
        for (principal, user, action, profile, allowed_by) in cases {
            let decision = evaluate_admin(&set, &request(principal, user, action, profile), now());
            match allowed_by {
                Some(rule) => assert_eq!(
                    decision,
                    AdminDecision::Allow { rule, reason: None },
                    "{user} {action} {profile:?}"
                ),
                None => assert!(!decision.is_allow(), "{user} {action} {profile:?}"),
            }
        }
        assert_eq!(
            evaluate_admin(
                &set,
                &request(ALICE, "alice", "sessions:list", Some("prod")),
                now()
            ),
            AdminDecision::Deny {
                rule: Some("no-prod"),
                reason: Some("prod is the security team's")
            }
        );
    }

    #[test]
    fn a_rule_with_profiles_never_matches_a_request_without_one() {
        let set = parse_admin(
            "version: \"1\"\nrules:\n  - name: any-profile\n    effect: allow\n    conditions:\n      actions: [\"*\"]\n      profiles: [\"*\"]\n",
        )
        .unwrap();
        let everything = request(ALICE, "alice", "sessions:list", None);
        assert_eq!(
            evaluate_admin(&set, &everything, now()),
            AdminDecision::Deny {
                rule: None,
                reason: None
            }
        );
        let explained = explain_admin(&set, &everything, now());
        assert_eq!(explained.decision, evaluate_admin(&set, &everything, now()));
        assert_eq!(
            explained.skipped.first().map(|s| s.mismatches.clone()),
            Some(vec![
                "profiles: the request names no profile (the rule covers only [*])".to_owned()
            ])
        );
        let one = request(ALICE, "alice", "sessions:list", Some("dev"));
        assert!(evaluate_admin(&set, &one, now()).is_allow());
    }

    #[test]
    fn explain_names_every_condition_that_did_not_hold() {
        let set = parse_admin(DOC).unwrap();
        let r = request(ALICE, "alice", "sessions:reconcile", None);
        let explained = explain_admin(&set, &r, now());
        assert_eq!(explained.decision, evaluate_admin(&set, &r, now()));
        let leads = explained
            .skipped
            .iter()
            .find(|s| s.rule == "leads")
            .unwrap();
        assert_eq!(
            leads.mismatches,
            [
                "actions: `sessions:reconcile` matches none of [sessions:list, sessions:revoke]",
                "profiles: the request names no profile (the rule covers only [staging, team-*])",
            ]
        );
    }

    #[test]
    fn catch_all_needs_every_action_and_no_profiles() {
        let set = parse_admin(
            "version: \"1\"\nrules:\n  - name: a\n    effect: deny\n    conditions:\n      actions: [\"*\"]\n  - name: b\n    effect: deny\n    conditions:\n      actions: [\"sessions:*\"]\n",
        )
        .unwrap();
        let catch_all: Vec<bool> = set.rules().iter().map(AdminRule::is_catch_all).collect();
        assert_eq!(catch_all, [true, false]);
    }
}
