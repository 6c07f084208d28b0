//! Sentinel's policy engine (docs/identity.md, docs/policy.md): one YAML document per profile is
//! parsed and validated into a [`PolicySet`], and [`evaluate`] decides a
//! [`Request`] at a given instant: the first rule whose conditions all hold
//! decides, and no match is a deny.
//!
//! The crate is pure: no async runtime, no AWS SDK, no environment, file
//! system or clock (its `Cargo.toml` proves it). The caller reads the policy,
//! derives the user with [`identity::derive_user`] and passes `now` in. It is
//! not the wire contract (crate `protocol`) nor the session record (crate
//! `sessions`).
//!
//! Parsing is strict: anything [`parse`] accepts is fully validated and
//! compiled (globs, time zones, networks), so evaluation cannot fail and does
//! not allocate. A document that does not validate yields a [`PolicyError`]
//! with its line, column and rule.
//!
//! Workloads (callers authenticated by a verified JWT, not by IAM) are
//! requests with a [`Workload`]: profile rules match them with `issuers`,
//! `subjects` and `claims`, and an allow rule without those never matches
//! one.
//!
//! The signed egress proxy's policy is a document of the same form without a
//! `profile` block whose rules may also name [`Route`]s: [`parse_proxy`]
//! reads it and [`evaluate_proxy`] decides a [`ProxyRequest`].
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use policy::{Decision, Request};
//!
//! let set = policy::parse(
//!     r#"
//! version: "1"
//! profile:
//!   role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev
//!   max_duration: 1h
//! rules:
//!   - name: engineers
//!     effect: allow
//!     conditions:
//!       users: [alice, "ops-*"]
//! "#,
//! )
//! .unwrap();
//! let request = Request {
//!     principal_arn: "arn:aws:iam::123456789012:user/alice",
//!     user: "alice",
//!     account_id: "123456789012",
//!     source_ip: None,
//!     requested_duration: Some(7200),
//!     workload: None,
//! };
//! let now = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
//! assert_eq!(
//!     policy::evaluate(&set, &request, now),
//!     Decision::Allow { rule: "engineers", reason: None, duration: 3600, cap: 3600 }
//! );
//! let stranger = Request { user: "mallory", ..request };
//! assert_eq!(
//!     policy::evaluate(&set, &stranger, now),
//!     Decision::Deny { rule: None, reason: None }
//! );
//! ```

mod admin;
mod approval;
mod condition;
mod decision;
mod document;
mod error;
mod explain;
mod glob;
pub mod identity;
mod lint;
mod network;
mod proxy;
mod route;
mod scoped;
mod set;
mod window;

pub use admin::{
    ADMIN_ACTIONS, AdminDecision, AdminExplanation, AdminPolicySet, AdminRequest, AdminRule,
    admin_may_somewhere, evaluate_admin, explain_admin,
};
pub use approval::{Approval, BreakGlass, MAX_REASON_CHARS, Mode, ReasonRule};
pub use decision::{Decision, Request, Workload, evaluate, evaluate_in};
pub use document::{parse, parse_admin, parse_proxy};
pub use error::PolicyError;
pub use explain::{Explanation, Skipped, explain, explain_in};
pub use lint::{Lint, LintKind};
pub use proxy::{ProxyDecision, ProxyPolicySet, ProxyRequest, ProxyRule, evaluate_proxy};
pub use route::{METHODS as ROUTE_METHODS, Route};
pub use scoped::{ScopedDecision, ScopedExplanation, ScopedRule, ScopedSet};
pub use set::{Effect, PolicySet, Profile, Rule};
