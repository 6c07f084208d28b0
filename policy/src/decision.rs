//! Deciding a request: the first rule whose conditions all hold decides; no
//! match is a deny.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::approval::{Approval, BreakGlass, Mode};
use crate::condition::Clock;
use crate::set::{Effect, PolicySet, Rule};
use sentinel_types::SessionDuration;

/// What is being asked, by whom (as AWS, or for a workload its token's
/// issuer, verified it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The caller's ARN (`requestContext.authorizer.iam.userArn`). For a
    /// workload, whatever the caller records there: `principals` never hold
    /// for a workload.
    pub principal_arn: &'a str,
    /// The user derived from the ARN ([`crate::identity::derive_user`]); for
    /// a workload, the user the TVM derived from its token (e.g.
    /// `spiffe://td/ns/x`).
    pub user: &'a str,
    /// The caller's 12-digit account. For a workload, whatever the caller
    /// records there: `accounts` never hold for a workload.
    pub account_id: &'a str,
    /// Where the request came from; `source_ips` conditions never hold without it.
    pub source_ip: Option<IpAddr>,
    /// Seconds the caller asked for; the profile's default when `None`.
    pub requested_duration: Option<u32>,
    /// The verified token of a workload; `None` for IAM callers. Decides
    /// which conditions can hold (docs/policy.md, "Workload conditions").
    pub workload: Option<Workload<'a>>,
}

/// A caller authenticated by a verified JWT (SPEC §10).
///
/// Only `issuers`, `subjects` and `claims` look at it, and they never hold
/// without one; `principals` and `accounts` never hold with one, and an
/// allow rule without `issuers`, `subjects` or `claims` never matches one.
///
/// ```
/// use std::collections::BTreeMap;
///
/// use chrono::{TimeZone, Utc};
/// use policy::{Request, Workload};
///
/// let set = policy::parse(
///     r#"
/// version: "1"
/// profile:
///   role_arn: arn:aws:iam::123456789012:role/SentinelProtected-deploy
/// rules:
///   - name: ci-deploys
///     effect: allow
///     conditions:
///       issuers: ["https://token.actions.githubusercontent.com"]
///       claims: {repository: [org/app], ref: ["refs/heads/main"]}
///   - name: engineers
///     effect: allow
///     conditions:
///       users: ["*"]
/// "#,
/// )
/// .unwrap();
/// let claims = BTreeMap::from([
///     ("repository".to_owned(), vec!["org/app".to_owned()]),
///     ("ref".to_owned(), vec!["refs/heads/main".to_owned()]),
/// ]);
/// let token = Workload {
///     issuer: "https://token.actions.githubusercontent.com",
///     subject: "repo:org/app:ref:refs/heads/main",
///     claims: &claims,
/// };
/// let request = Request {
///     principal_arn: "",
///     user: "token.actions.githubusercontent.com:repo:org/app:ref:refs/heads/main",
///     account_id: "",
///     source_ip: None,
///     requested_duration: None,
///     workload: Some(token),
/// };
/// let now = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
/// assert!(policy::evaluate(&set, &request, now).is_allow());
///
/// // Another branch: `ci-deploys` does not hold, and `engineers` (an allow
/// // without workload conditions) never matches a workload.
/// let claims = BTreeMap::from([
///     ("repository".to_owned(), vec!["org/app".to_owned()]),
///     ("ref".to_owned(), vec!["refs/heads/dev".to_owned()]),
/// ]);
/// let dev = Request { workload: Some(Workload { claims: &claims, ..token }), ..request };
/// assert!(!policy::evaluate(&set, &dev, now).is_allow());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload<'a> {
    /// The token's `iss`, exactly as verified.
    pub issuer: &'a str,
    /// The token's `sub`.
    pub subject: &'a str,
    /// Claim name -> its values as strings (a string claim is one value, an array of strings several, a number or boolean its JSON text).
    pub claims: &'a std::collections::BTreeMap<String, Vec<String>>,
}

/// The outcome. A deny is a value, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'s> {
    /// Issue credentials.
    Allow {
        /// The deciding rule.
        rule: &'s str,
        /// Its reason, if it has one.
        reason: Option<&'s str>,
        /// Seconds to grant: the request (or the profile default) within `cap`.
        duration: u32,
        /// The longest this rule and profile allow: min(rule max, profile max, 43200).
        cap: u32,
    },
    /// Refuse.
    Deny {
        /// The deciding deny rule; `None` when no rule matched.
        rule: Option<&'s str>,
        /// Its reason, if it has one.
        reason: Option<&'s str>,
    },
    /// Issue credentials only under an approved request ([`Mode::Vend`]).
    RequireApproval {
        /// The deciding `require_approval` rule.
        rule: &'s str,
        /// Its reason, if it has one.
        reason: Option<&'s str>,
        /// Who may approve, how many, and what a request's reason must be.
        approval: &'s Approval,
        /// Seconds to grant once approved: the request (or the profile default) within `cap`.
        duration: u32,
        /// min(approval max, profile max, 43200).
        cap: u32,
    },
    /// Issue credentials without an approver, loudly ([`Mode::BreakGlass`]).
    BreakGlass {
        /// The deciding `break_glass` rule.
        rule: &'s str,
        /// Its reason, if it has one.
        reason: Option<&'s str>,
        /// Its cooldown and reason constraints.
        break_glass: &'s BreakGlass,
        /// Seconds to grant: the request (or the profile default) within `cap`.
        duration: u32,
        /// min(rule max or 1h, profile max).
        cap: u32,
    },
}

impl Decision<'_> {
    /// Whether credentials may be issued.
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    /// The deciding rule; `None` when no rule matched.
    pub fn rule(&self) -> Option<&str> {
        match self {
            Decision::Allow { rule, .. }
            | Decision::RequireApproval { rule, .. }
            | Decision::BreakGlass { rule, .. } => Some(rule),
            Decision::Deny { rule, .. } => *rule,
        }
    }
}

/// Decides a vend `request` at `now` ([`Mode::Vend`]). Does not allocate.
pub fn evaluate<'s>(set: &'s PolicySet, request: &Request<'_>, now: DateTime<Utc>) -> Decision<'s> {
    evaluate_in(set, request, now, Mode::Vend)
}

/// Decides `request` at `now` looking only at the rules `mode` sees
/// ([`Effect::seen_in`]): the first of them whose conditions all hold decides.
pub fn evaluate_in<'s>(
    set: &'s PolicySet,
    request: &Request<'_>,
    now: DateTime<Utc>,
    mode: Mode,
) -> Decision<'s> {
    let mut clock = Clock::new(now, request);
    set.rules
        .iter()
        .filter(|rule| rule.effect.seen_in(mode))
        .find(|rule| rule.checks.hold(&set.predicates, request, &mut clock))
        .map_or(
            Decision::Deny {
                rule: None,
                reason: None,
            },
            |rule| decide(set, rule, request),
        )
}

/// The decision once `rule` matched.
pub(crate) fn decide<'s>(
    set: &'s PolicySet,
    rule: &'s Rule,
    request: &Request<'_>,
) -> Decision<'s> {
    match rule.effect {
        Effect::Deny => Decision::Deny {
            rule: Some(&rule.name),
            reason: rule.reason.as_deref(),
        },
        Effect::Allow => {
            let (duration, cap) = grant(set, request, rule.max_duration);
            Decision::Allow {
                rule: &rule.name,
                reason: rule.reason.as_deref(),
                duration,
                cap,
            }
        }
        Effect::RequireApproval => match &rule.approval {
            Some(approval) => {
                let (duration, cap) = grant(set, request, approval.max_duration);
                Decision::RequireApproval {
                    rule: &rule.name,
                    reason: rule.reason.as_deref(),
                    approval,
                    duration,
                    cap,
                }
            }
            // The parser never makes one without its block; fail closed.
            None => Decision::Deny {
                rule: Some(&rule.name),
                reason: rule.reason.as_deref(),
            },
        },
        Effect::BreakGlass => match &rule.break_glass {
            Some(break_glass) => {
                let max = rule
                    .max_duration
                    .unwrap_or(SessionDuration::CHAINED_MAX.secs());
                let (duration, cap) = grant(set, request, Some(max));
                Decision::BreakGlass {
                    rule: &rule.name,
                    reason: rule.reason.as_deref(),
                    break_glass,
                    duration,
                    cap,
                }
            }
            None => Decision::Deny {
                rule: Some(&rule.name),
                reason: rule.reason.as_deref(),
            },
        },
    }
}

/// The seconds to grant and the cap: the request (or the profile default) within
/// min(`rule_max`, profile max, 43200).
fn grant(set: &PolicySet, request: &Request<'_>, rule_max: Option<u32>) -> (u32, u32) {
    let cap = [rule_max, set.profile.max_duration]
        .into_iter()
        .flatten()
        .fold(SessionDuration::MAX.secs(), u32::min);
    let wanted = request
        .requested_duration
        .unwrap_or(set.profile.default_duration);
    // `cap` is at least SessionDuration::MIN because every configured
    // duration was validated to be, so this cannot invert.
    (wanted.max(SessionDuration::MIN.secs()).min(cap), cap)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;
    use crate::{explain, parse};

    const HEAD: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev\nrules:\n";
    const GITHUB: &str = "https://token.actions.githubusercontent.com";
    const SPIRE: &str = "https://oidc.company.internal";
    const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

    fn set(rules: &str) -> PolicySet {
        parse(&format!("{HEAD}{rules}")).unwrap()
    }

    fn claims(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(name, values)| {
                let values = values.iter().map(|v| (*v).to_owned()).collect();
                ((*name).to_owned(), values)
            })
            .collect()
    }

    fn iam() -> Request<'static> {
        Request {
            principal_arn: ALICE,
            user: "alice",
            account_id: "123456789012",
            source_ip: None,
            requested_duration: None,
            workload: None,
        }
    }

    /// A workload whose user is its subject (as for SPIFFE IDs).
    fn token<'a>(
        issuer: &'a str,
        subject: &'a str,
        claims: &'a BTreeMap<String, Vec<String>>,
    ) -> Request<'a> {
        Request {
            principal_arn: "",
            user: subject,
            account_id: "",
            source_ip: None,
            requested_duration: None,
            workload: Some(Workload {
                issuer,
                subject,
                claims,
            }),
        }
    }

    /// A Monday, 10:00 UTC.
    fn monday() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
    }

    /// A Saturday, 10:00 UTC.
    fn saturday() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 7, 10, 0, 0).unwrap()
    }

    /// `allow`/`deny` and the deciding rule, after checking that `explain` agrees.
    fn decide<'s>(
        set: &'s PolicySet,
        request: &Request<'_>,
        now: DateTime<Utc>,
    ) -> (&'static str, Option<&'s str>) {
        let decision = evaluate(set, request, now);
        assert_eq!(explain(set, request, now).decision, decision);
        match decision {
            Decision::Allow { rule, .. } => ("allow", Some(rule)),
            Decision::Deny { rule, .. } => ("deny", rule),
            Decision::RequireApproval { rule, .. } => ("require_approval", Some(rule)),
            Decision::BreakGlass { rule, .. } => ("break_glass", Some(rule)),
        }
    }

    /// What `explain` says about the rule `name` passed over.
    fn mismatches(
        set: &PolicySet,
        request: &Request<'_>,
        now: DateTime<Utc>,
        name: &str,
    ) -> Vec<String> {
        explain(set, request, now)
            .skipped
            .into_iter()
            .find(|s| s.rule == name)
            .map(|s| s.mismatches)
            .unwrap_or_else(|| panic!("rule `{name}` was not passed over"))
    }

    #[test]
    fn requests_stay_copy() {
        fn copy<T: Copy>() {}
        copy::<Request<'static>>();
        copy::<Workload<'static>>();
    }

    #[test]
    fn an_allow_without_workload_conditions_never_admits_a_workload() {
        let set = set(
            "  - name: engineers\n    effect: allow\n    conditions:\n      users: [\"*\"]\n  - name: everyone\n    effect: allow\n",
        );
        let none = BTreeMap::new();
        let workload = token(SPIRE, "spiffe://company.internal/ns/prod/api", &none);
        assert_eq!(decide(&set, &workload, monday()), ("deny", None));
        assert_eq!(decide(&set, &iam(), monday()), ("allow", Some("engineers")));
        for rule in ["engineers", "everyone"] {
            assert_eq!(
                mismatches(&set, &workload, monday(), rule),
                ["allow rules without issuers/subjects/claims never match a workload"]
            );
        }
    }

    #[test]
    fn a_deny_without_workload_conditions_still_applies_to_workloads() {
        let set = set(&format!(
            "  - name: weekend-freeze\n    effect: deny\n    conditions:\n      time: {{days: [sat, sun]}}\n    reason: no deploys at weekends\n  - name: ci-deploys\n    effect: allow\n    conditions:\n      issuers: [\"{GITHUB}\"]\n      claims: {{repository: [org/app], ref: [\"refs/heads/main\"]}}\n  - name: nobody-else\n    effect: deny\n"
        ));
        let main = claims(&[("repository", &["org/app"]), ("ref", &["refs/heads/main"])]);
        let dev = claims(&[("repository", &["org/app"]), ("ref", &["refs/heads/dev"])]);
        let ci = token(GITHUB, "repo:org/app:ref:refs/heads/main", &main);
        assert_eq!(
            decide(&set, &ci, saturday()),
            ("deny", Some("weekend-freeze"))
        );
        assert_eq!(decide(&set, &ci, monday()), ("allow", Some("ci-deploys")));
        let branch = token(GITHUB, "repo:org/app:ref:refs/heads/dev", &dev);
        assert_eq!(
            decide(&set, &branch, monday()),
            ("deny", Some("nobody-else"))
        );
        assert_eq!(
            mismatches(&set, &branch, monday(), "ci-deploys"),
            ["claims: `ref` (`refs/heads/dev`) matches none of [refs/heads/main]"]
        );
        // IAM callers meet the same denies, and never the workload allow.
        assert_eq!(
            decide(&set, &iam(), saturday()),
            ("deny", Some("weekend-freeze"))
        );
        assert_eq!(
            decide(&set, &iam(), monday()),
            ("deny", Some("nobody-else"))
        );
        assert_eq!(
            mismatches(&set, &iam(), monday(), "ci-deploys"),
            [
                "issuers never hold for an IAM caller",
                "claims never hold for an IAM caller"
            ]
        );
    }

    #[test]
    fn principals_and_accounts_never_hold_for_a_workload() {
        let set = set(&format!(
            "  - name: humans-out\n    effect: deny\n    conditions:\n      principals: [\"*\"]\n  - name: our-account-out\n    effect: deny\n    conditions:\n      accounts: [\"123456789012\"]\n  - name: workloads\n    effect: allow\n    conditions:\n      issuers: [\"{SPIRE}\"]\n      subjects: [\"*\"]\n",
        ));
        let none = BTreeMap::new();
        // Even with ARN and account filled in: only AWS vouches for those.
        let spoofed = Request {
            principal_arn: ALICE,
            account_id: "123456789012",
            ..token(SPIRE, "spiffe://company.internal/ns/prod/api", &none)
        };
        assert_eq!(
            decide(&set, &spoofed, monday()),
            ("allow", Some("workloads"))
        );
        assert_eq!(
            mismatches(&set, &spoofed, monday(), "humans-out"),
            ["principals never hold for a workload"]
        );
        assert_eq!(
            mismatches(&set, &spoofed, monday(), "our-account-out"),
            ["accounts never hold for a workload"]
        );
        assert_eq!(decide(&set, &iam(), monday()), ("deny", Some("humans-out")));
    }

    #[test]
    fn workload_conditions_never_hold_for_an_iam_caller() {
        let set = set(
            "  - name: any-issuer\n    effect: deny\n    conditions:\n      issuers: [\"*\"]\n  - name: any-subject\n    effect: deny\n    conditions:\n      subjects: [\"*\"]\n  - name: any-claim\n    effect: deny\n    conditions:\n      claims: {sub: [\"*\"]}\n  - name: people\n    effect: allow\n    conditions:\n      users: [alice]\n",
        );
        assert_eq!(decide(&set, &iam(), monday()), ("allow", Some("people")));
        let explained = explain(&set, &iam(), monday());
        let said: Vec<&str> = explained
            .skipped
            .iter()
            .flat_map(|s| s.mismatches.iter().map(String::as_str))
            .collect();
        assert_eq!(
            said,
            [
                "issuers never hold for an IAM caller",
                "subjects never hold for an IAM caller",
                "claims never hold for an IAM caller",
            ]
        );
        let none = BTreeMap::new();
        let workload = token(SPIRE, "spiffe://company.internal/ns/x", &none);
        assert_eq!(
            decide(&set, &workload, monday()),
            ("deny", Some("any-issuer"))
        );
    }

    #[test]
    fn users_source_ips_and_time_apply_to_workloads_too() {
        let set = set(&format!(
            "  - name: prod\n    effect: allow\n    conditions:\n      issuers: [\"{SPIRE}\"]\n      subjects: [\"spiffe://company.internal/ns/prod/*\"]\n      users: [\"spiffe://company.internal/ns/prod/api\"]\n      source_ips: [\"10.0.0.0/8\"]\n      time: {{days: [mon, tue, wed, thu, fri]}}\n"
        ));
        let none = BTreeMap::new();
        let api = Request {
            source_ip: Some(IpAddr::from([10, 1, 2, 3])),
            ..token(SPIRE, "spiffe://company.internal/ns/prod/api", &none)
        };
        assert_eq!(decide(&set, &api, monday()), ("allow", Some("prod")));
        assert_eq!(decide(&set, &api, saturday()), ("deny", None));
        let outside = Request {
            source_ip: Some(IpAddr::from([192, 0, 2, 1])),
            ..api
        };
        assert_eq!(decide(&set, &outside, monday()), ("deny", None));
        let other_user = Request {
            user: "company.internal:spiffe://company.internal/ns/prod/api",
            ..api
        };
        assert_eq!(
            mismatches(&set, &other_user, monday(), "prod"),
            [
                "users: `company.internal:spiffe://company.internal/ns/prod/api` matches none of [spiffe://company.internal/ns/prod/api]"
            ]
        );
        let staging = Request {
            user: "spiffe://company.internal/ns/staging/api",
            ..token(SPIRE, "spiffe://company.internal/ns/staging/api", &none)
        };
        assert_eq!(
            mismatches(&set, &staging, monday(), "prod"),
            [
                "users: `spiffe://company.internal/ns/staging/api` matches none of [spiffe://company.internal/ns/prod/api]",
                "subjects: `spiffe://company.internal/ns/staging/api` matches none of [spiffe://company.internal/ns/prod/*]",
                "source_ips: the request has no source IP",
            ]
        );
        let other_issuer = Request {
            source_ip: Some(IpAddr::from([10, 1, 2, 3])),
            ..token(GITHUB, "spiffe://company.internal/ns/prod/api", &none)
        };
        assert_eq!(
            mismatches(&set, &other_issuer, monday(), "prod"),
            [format!("issuers: `{GITHUB}` matches none of [{SPIRE}]")]
        );
    }

    #[test]
    fn every_listed_claim_needs_a_value_matching_one_of_its_globs() {
        let set = set(&format!(
            "  - name: release
    effect: allow
    conditions:
      issuers: [\"{GITHUB}\"]
      claims:
        repository: [org/app]
        ref: [\"refs/heads/main\", \"refs/tags/v*\"]
        groups: [deployers]
        run_attempt: [\"1\"]
"
        ));
        let decide_with = |claims: &BTreeMap<String, Vec<String>>| {
            decide(&set, &token(GITHUB, "repo:org/app", claims), monday())
        };
        let full: [(&str, &[&str]); 4] = [
            ("repository", &["org/app"]),
            ("ref", &["refs/tags/v1.2.0"]),
            // An array claim: one matching value is enough.
            ("groups", &["devs", "deployers"]),
            // A number claim arrives as its JSON text.
            ("run_attempt", &["1"]),
        ];
        assert_eq!(decide_with(&claims(&full)), ("allow", Some("release")));
        let with = |name: &str, values: &'static [&'static str]| {
            let mut pairs = full.to_vec();
            pairs.retain(|(n, _)| *n != name);
            pairs.push((name, values));
            claims(&pairs)
        };
        for (name, values) in [
            ("repository", &["org/other"][..]),
            ("ref", &["refs/heads/dev"][..]),
            ("groups", &["devs"][..]),
            ("groups", &[][..]),
            ("run_attempt", &["2"][..]),
        ] {
            assert_eq!(decide_with(&with(name, values)), ("deny", None), "{name}");
        }
        let mut missing = claims(&full);
        missing.remove("ref");
        assert_eq!(decide_with(&missing), ("deny", None));
        let request = token(GITHUB, "repo:org/app", &missing);
        assert_eq!(
            mismatches(&set, &request, monday(), "release"),
            ["claims: the token has no `ref` claim"]
        );
        let wrong = with("groups", &["devs", "ops"]);
        let request = token(GITHUB, "repo:org/app", &wrong);
        assert_eq!(
            mismatches(&set, &request, monday(), "release"),
            ["claims: `groups` (`devs`, `ops`) matches none of [deployers]"]
        );
        let empty = with("groups", &[]);
        let request = token(GITHUB, "repo:org/app", &empty);
        assert_eq!(
            mismatches(&set, &request, monday(), "release"),
            ["claims: `groups` has no values"]
        );
    }
}
