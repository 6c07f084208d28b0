//! The proxy policy (docs/policy.md, "Proxy policy"): who may call which
//! route of the signed egress proxy (docs/proxy.md). One document, parsed by
//! [`crate::parse_proxy`] as strictly as a profile's policy, with the same
//! conditions plus an optional `routes`. First match decides; no match is a
//! deny.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use policy::{ProxyDecision, ProxyRequest};
//!
//! let set = policy::parse_proxy(
//!     r#"
//! version: "1"
//! rules:
//!   - name: rates-readers
//!     effect: allow
//!     conditions:
//!       principals: ["arn:aws:sts::123456789012:assumed-role/rates-*"]
//!       routes: ["GET /v1/rates/*", "* /health"]
//! "#,
//! )
//! .unwrap();
//! let request = ProxyRequest {
//!     principal_arn: "arn:aws:sts::123456789012:assumed-role/rates-job/i-0abc",
//!     user: "rates-job",
//!     account_id: "123456789012",
//!     source_ip: None,
//!     method: "GET",
//!     path: "/v1/rates/eur/usd",
//! };
//! let now = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
//! assert_eq!(
//!     policy::evaluate_proxy(&set, &request, now),
//!     ProxyDecision::Allow { rule: "rates-readers", reason: None }
//! );
//! // The rule's routes say what it covers: no other route, no other method.
//! let order = ProxyRequest { method: "POST", path: "/v1/orders", ..request };
//! assert!(!policy::evaluate_proxy(&set, &order, now).is_allow());
//! ```

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::decision::Request;
use crate::route::Route;
#[cfg(test)]
use crate::scoped::NO_MATCH;
use crate::scoped::{self, ScopedDecision, ScopedRule, ScopedSet};

/// The proxy policy, validated and compiled. Only [`crate::parse_proxy`] makes one.
pub type ProxyPolicySet = ScopedSet<Routes>;

/// One proxy rule, compiled: a rule's conditions plus the routes it covers.
pub type ProxyRule = ScopedRule<Routes>;

/// The outcome of a proxy request. A deny is a value, not an error
/// (403 `POLICY_DENY`).
pub type ProxyDecision<'s> = ScopedDecision<'s>;

/// `routes`: what a proxy rule covers; `None`: every route the proxy admits.
#[derive(Debug, Clone, PartialEq)]
pub struct Routes(pub(crate) Option<Vec<Route>>);

impl ProxyRule {
    /// The routes the rule is limited to; `None` when it covers every route
    /// the proxy admits.
    pub fn routes(&self) -> Option<&[Route]> {
        self.scope.0.as_deref()
    }
}

impl scoped::Scope for Routes {
    type Request<'a> = ProxyRequest<'a>;

    fn caller<'r>(request: &'r ProxyRequest<'_>) -> Request<'r> {
        scoped::iam_caller(
            request.principal_arn,
            request.user,
            request.account_id,
            request.source_ip,
        )
    }

    /// Whether the request's method and path are among the rule's routes.
    fn holds(&self, request: &ProxyRequest<'_>) -> bool {
        self.0.as_ref().is_none_or(|routes| {
            routes
                .iter()
                .any(|r| r.matches(request.method, request.path))
        })
    }

    fn why_not(&self, request: &ProxyRequest<'_>) -> Vec<String> {
        if self.holds(request) {
            return Vec::new();
        }
        let routes: Vec<String> = self.0.iter().flatten().map(ToString::to_string).collect();
        vec![format!(
            "routes: `{} {}` matches none of [{}]",
            request.method,
            request.path,
            routes.join(", ")
        )]
    }

    fn covers(&self, other: &Routes) -> bool {
        match (&self.0, &other.0) {
            (None, _) => true,
            (Some(mine), Some(theirs)) => theirs.iter().all(|t| mine.iter().any(|m| m.covers(t))),
            // `other` covers every route; `self` only some, unless one is `* /*`.
            (Some(mine), None) => mine.iter().any(Route::is_universal),
        }
    }

    fn is_universal(&self) -> bool {
        self.0
            .as_ref()
            .is_none_or(|routes| routes.iter().any(Route::is_universal))
    }
}

/// A request through the proxy: who (as AWS verified it) calls which route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyRequest<'a> {
    /// The caller's ARN.
    pub principal_arn: &'a str,
    /// The user derived from the ARN ([`crate::identity::derive_user`]).
    pub user: &'a str,
    /// The caller's 12-digit account.
    pub account_id: &'a str,
    /// Where the request came from; `source_ips` conditions never hold without it.
    pub source_ip: Option<IpAddr>,
    /// The HTTP method as received (uppercase, e.g. `GET`).
    pub method: &'a str,
    /// The request path as received: starting with `/`, without the query.
    pub path: &'a str,
}

/// Decides `request` at `now`: the first rule whose conditions (its routes
/// included) all hold decides; no match is a deny. Does not allocate.
pub fn evaluate_proxy<'s>(
    set: &'s ProxyPolicySet,
    request: &ProxyRequest<'_>,
    now: DateTime<Utc>,
) -> ProxyDecision<'s> {
    scoped::evaluate(set, request, now)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use chrono::TimeZone;

    use super::*;
    use crate::parse_proxy;

    const DOC: &str = "version: \"1\"\nrules:\n  - name: no-admin\n    effect: deny\n    conditions:\n      routes: [\"* /admin/*\"]\n    reason: the admin API stays inside\n  - name: rates\n    effect: allow\n    conditions:\n      users: [alice, \"rates-*\"]\n      routes: [\"GET /v1/rates/*\", \"* /health\"]\n  - name: ops\n    effect: allow\n    conditions:\n      principals: [\"arn:aws:sts::111122223333:assumed-role/Ops/*\"]\n";

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
    const OPS: &str = "arn:aws:sts::111122223333:assumed-role/Ops/sam";

    fn request<'a>(
        principal_arn: &'a str,
        user: &'a str,
        method: &'a str,
        path: &'a str,
    ) -> ProxyRequest<'a> {
        ProxyRequest {
            principal_arn,
            user,
            account_id: "111122223333",
            source_ip: None,
            method,
            path,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
    }

    #[test]
    fn the_first_matching_rule_decides_and_no_match_denies() {
        let set = parse_proxy(DOC).unwrap();
        assert!(set.lints().is_empty(), "{:?}", set.lints());
        let cases = [
            (ALICE, "alice", "GET", "/v1/rates/eur", Some("rates")),
            (ALICE, "alice", "HEAD", "/health", Some("rates")),
            (ALICE, "alice", "POST", "/v1/rates/eur", None),
            (ALICE, "alice", "GET", "/v1/orders", None),
            (ALICE, "alice", "GET", "/admin/users", None),
            (OPS, "sam", "DELETE", "/v1/orders/7", Some("ops")),
            (OPS, "sam", "GET", "/v1/rates/eur", Some("ops")),
            (OPS, "sam", "GET", "/admin/users", None),
        ];
        for (principal, user, method, path, allowed_by) in cases {
            let decision = evaluate_proxy(&set, &request(principal, user, method, path), now());
            match allowed_by {
                Some(rule) => assert_eq!(
                    decision,
                    ProxyDecision::Allow { rule, reason: None },
                    "{user} {method} {path}"
                ),
                None => assert!(!decision.is_allow(), "{user} {method} {path}"),
            }
        }
        assert_eq!(
            evaluate_proxy(&set, &request(OPS, "sam", "GET", "/admin/x"), now()),
            ProxyDecision::Deny {
                rule: Some("no-admin"),
                reason: Some("the admin API stays inside")
            }
        );
        assert_eq!(
            evaluate_proxy(&set, &request(ALICE, "alice", "GET", "/v1/orders"), now()),
            NO_MATCH
        );
    }

    #[test]
    fn routes_restrict_a_rule_and_their_absence_covers_every_route() {
        let set = parse_proxy(
            "version: \"1\"\nrules:\n  - name: read-only\n    effect: allow\n    conditions:\n      users: [bob]\n      routes: [\"GET /v1/*\", \"HEAD /v1/*\"]\n  - name: alice\n    effect: allow\n    conditions:\n      users: [alice]\n",
        )
        .unwrap();
        let bob = |method, path| {
            evaluate_proxy(&set, &request(ALICE, "bob", method, path), now()).is_allow()
        };
        assert!(bob("GET", "/v1/a/b"));
        assert!(bob("HEAD", "/v1/"));
        assert!(!bob("POST", "/v1/a"));
        assert!(!bob("GET", "/v2/a"));
        assert!(!bob("get", "/v1/a"), "methods are matched as received");
        assert!(!bob("GET", "/V1/a"), "paths are case-sensitive");
        for (method, path) in [("GET", "/"), ("PATCH", "/v2/x"), ("PROPFIND", "/any")] {
            assert!(
                evaluate_proxy(&set, &request(ALICE, "alice", method, path), now()).is_allow(),
                "{method} {path}"
            );
        }
        let rules = set.rules();
        assert_eq!(
            rules[0]
                .routes()
                .map(|r| r.iter().map(ToString::to_string).collect::<Vec<_>>()),
            Some(vec!["GET /v1/*".to_owned(), "HEAD /v1/*".to_owned()])
        );
        assert_eq!(rules[1].routes(), None);
    }

    #[test]
    fn source_ips_and_time_still_apply_in_a_proxy_rule() {
        let set = parse_proxy(
            "version: \"1\"\nrules:\n  - name: office-hours\n    effect: allow\n    conditions:\n      source_ips: [\"10.0.0.0/8\"]\n      time:\n        days: [mon, tue, wed, thu, fri]\n        hours: {start: \"09:00\", end: \"17:00\"}\n        timezone: UTC\n      routes: [\"POST /v1/orders\"]\n",
        )
        .unwrap();
        let inside = ProxyRequest {
            source_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))),
            ..request(ALICE, "alice", "POST", "/v1/orders")
        };
        let monday_ten = now();
        let monday_night = Utc.with_ymd_and_hms(2026, 3, 2, 22, 0, 0).unwrap();
        let saturday = Utc.with_ymd_and_hms(2026, 3, 7, 10, 0, 0).unwrap();
        assert_eq!(
            evaluate_proxy(&set, &inside, monday_ten),
            ProxyDecision::Allow {
                rule: "office-hours",
                reason: None
            }
        );
        assert!(!evaluate_proxy(&set, &inside, monday_night).is_allow());
        assert!(!evaluate_proxy(&set, &inside, saturday).is_allow());
        let outside = ProxyRequest {
            source_ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
            ..inside
        };
        assert!(!evaluate_proxy(&set, &outside, monday_ten).is_allow());
        let unknown = ProxyRequest {
            source_ip: None,
            ..inside
        };
        assert!(!evaluate_proxy(&set, &unknown, monday_ten).is_allow());
    }

    #[test]
    fn catch_all_needs_no_conditions_and_every_route() {
        let set = parse_proxy(
            "version: \"1\"\nrules:\n  - name: a\n    effect: deny\n    conditions:\n      routes: [\"GET /*\", \"* /*\"]\n  - name: b\n    effect: deny\n    conditions:\n      routes: [\"* /v1/*\"]\n  - name: c\n    effect: deny\n  - name: d\n    effect: deny\n    conditions:\n      users: [alice]\n",
        )
        .unwrap();
        let catch_all: Vec<bool> = set.rules().iter().map(ProxyRule::is_catch_all).collect();
        assert_eq!(catch_all, [true, false, true, false]);
    }
}
