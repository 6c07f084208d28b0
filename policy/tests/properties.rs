//! Invariants that hold for every policy and request, checked on generated
//! ones: default deny, no panics on any input, a deny added in front never
//! widens access, granted durations respect every cap, `explain` agrees
//! with `evaluate`, a rule the lints call unreachable never decides, an
//! allow without workload conditions never admits a workload, and an allow
//! with `subjects` or `claims` but no `issuers` is refused. Requests are IAM
//! callers and workloads (a verified JWT).
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "generators and helpers: a broken generator must fail the test loudly"
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use chrono::{DateTime, TimeZone, Utc};
use policy::{
    AdminDecision, AdminPolicySet, AdminRequest, Decision, LintKind, PolicySet, Request, Workload,
};
use sentinel_types::SessionDuration;

const MIN_DURATION_SECS: u32 = SessionDuration::MIN.secs();
const MAX_DURATION_SECS: u32 = SessionDuration::MAX.secs();
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

const HEAD: &str =
    "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev\n";

/// Days, hours (start, end) and zone of a generated time condition.
type GenTime = (
    Option<Vec<&'static str>>,
    Option<(&'static str, &'static str)>,
    &'static str,
);

/// A generated rule, rendered to YAML.
#[derive(Debug, Clone)]
struct GenRule {
    allow: bool,
    users: Option<Vec<&'static str>>,
    principals: Option<Vec<&'static str>>,
    accounts: Option<Vec<&'static str>>,
    source_ips: Option<Vec<&'static str>>,
    time: Option<GenTime>,
    max_duration: Option<u32>,
    issuers: Option<Vec<&'static str>>,
    subjects: Option<Vec<&'static str>>,
    /// Claim names and their globs.
    claims: Option<Vec<(&'static str, Vec<&'static str>)>>,
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

impl GenRule {
    fn render(&self, name: &str, out: &mut String) {
        let effect = if self.allow { "allow" } else { "deny" };
        writeln!(out, "  - name: {name}\n    effect: {effect}").unwrap();
        let mut conditions = String::new();
        for (key, values) in [
            ("users", &self.users),
            ("principals", &self.principals),
            ("accounts", &self.accounts),
            ("source_ips", &self.source_ips),
            ("issuers", &self.issuers),
            ("subjects", &self.subjects),
        ] {
            if let Some(values) = values {
                writeln!(conditions, "      {key}: {}", list(values)).unwrap();
            }
        }
        if let Some(claims) = &self.claims {
            writeln!(conditions, "      claims:").unwrap();
            for (name, globs) in claims {
                writeln!(conditions, "        {name}: {}", list(globs)).unwrap();
            }
        }
        if let Some((days, hours, zone)) = &self.time {
            writeln!(conditions, "      time:\n        timezone: {zone}").unwrap();
            if let Some(days) = days {
                writeln!(conditions, "        days: [{}]", days.join(", ")).unwrap();
            }
            if let Some((start, end)) = hours {
                writeln!(
                    conditions,
                    "        hours: {{start: \"{start}\", end: \"{end}\"}}"
                )
                .unwrap();
            }
        }
        if !conditions.is_empty() {
            writeln!(out, "    conditions:\n{conditions}").unwrap();
        }
        if let Some(max) = self.max_duration.filter(|_| self.allow) {
            writeln!(out, "    max_duration: {max}").unwrap();
        }
    }
}

fn some_of(pool: &'static [&'static str]) -> impl Strategy<Value = Option<Vec<&'static str>>> {
    proptest::option::of(proptest::sample::subsequence(pool, 1..=pool.len().min(3)))
}

fn duration() -> impl Strategy<Value = u32> {
    MIN_DURATION_SECS..=MAX_DURATION_SECS
}

const USERS: &[&str] = &[
    "alice",
    "bob",
    "ops-*",
    "*",
    "AWSReservedSSO_*/carol",
    "deployer/?",
];
const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::123456789012:user/*",
    "arn:aws:iam::*:user/eng/*",
    "arn:aws:sts::123456789012:assumed-role/*",
    "*",
];
const ACCOUNTS: &[&str] = &["123456789012", "210987654321", "012345678901"];
const NETWORKS: &[&str] = &[
    "10.0.0.0/8",
    "10.1.0.0/16",
    "192.0.2.0/24",
    "2001:db8::/32",
    "0.0.0.0/0",
    "::/0",
];
const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const CLOCKS: &[&str] = &[
    "00:00", "02:00", "02:30", "08:00", "09:00", "17:00", "22:00", "23:59",
];
const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
];

const ISSUERS: &[&str] = &[
    "https://token.actions.githubusercontent.com",
    "https://oidc.company.internal",
    "https://*",
    "*",
];
const SUBJECTS: &[&str] = &[
    "spiffe://company.internal/ns/prod/*",
    "spiffe://company.internal/ns/prod/sa/api",
    "repo:org/app:*",
    "*",
];
const CLAIM_NAMES: &[&str] = &["repository", "ref", "groups"];
const CLAIM_GLOBS: &[&str] = &["org/app", "org/*", "refs/heads/main", "deployers", "*"];

fn claims() -> impl Strategy<Value = Option<Vec<(&'static str, Vec<&'static str>)>>> {
    proptest::option::of(
        proptest::sample::subsequence(CLAIM_NAMES, 1..=2).prop_flat_map(|names| {
            let globs = proptest::sample::subsequence(CLAIM_GLOBS, 1..=2);
            proptest::collection::vec(globs, names.len())
                .prop_map(move |globs| names.iter().copied().zip(globs).collect())
        }),
    )
}

fn hours() -> impl Strategy<Value = Option<(&'static str, &'static str)>> {
    proptest::option::of(
        (select(CLOCKS), prop_oneof![select(CLOCKS), Just("24:00")])
            .prop_filter("start != end", |(s, e)| s != e),
    )
}

fn rule() -> impl Strategy<Value = GenRule> {
    (
        any::<bool>(),
        some_of(USERS),
        some_of(PRINCIPALS),
        some_of(ACCOUNTS),
        some_of(NETWORKS),
        proptest::option::of(
            (some_of(DAYS), hours(), select(ZONES))
                .prop_filter("days or hours", |(days, hours, _)| {
                    days.is_some() || hours.is_some()
                }),
        ),
        proptest::option::of(duration()),
        (
            some_of(ISSUERS),
            some_of(SUBJECTS),
            claims(),
            any::<bool>(),
            proptest::sample::subsequence(ISSUERS, 1..=2),
        ),
    )
        .prop_map(
            |(
                allow,
                users,
                principals,
                accounts,
                source_ips,
                time,
                max_duration,
                (issuers, subjects, claims, workload_side, named_issuers),
            )| {
                let rule = GenRule {
                    allow,
                    users,
                    principals,
                    accounts,
                    source_ips,
                    time,
                    max_duration,
                    issuers,
                    subjects,
                    claims,
                };
                // A rule naming both kinds is refused: keep one side.
                if workload_side {
                    GenRule {
                        principals: None,
                        accounts: None,
                        ..rule
                    }
                    .naming_issuers(named_issuers)
                } else {
                    rule.without_workload_conditions()
                }
            },
        )
}

impl GenRule {
    fn without_workload_conditions(self) -> GenRule {
        GenRule {
            issuers: None,
            subjects: None,
            claims: None,
            ..self
        }
    }

    fn names_workload_conditions(&self) -> bool {
        self.issuers.is_some() || self.subjects.is_some() || self.claims.is_some()
    }

    /// Whether this is the shape the parser refuses: an allow with `subjects` or
    /// `claims` but no `issuers`.
    fn is_an_allow_for_workloads_without_issuers(&self) -> bool {
        self.allow && (self.subjects.is_some() || self.claims.is_some()) && self.issuers.is_none()
    }

    /// The rule, with `issuers` where it would otherwise be refused.
    fn naming_issuers(self, issuers: Vec<&'static str>) -> GenRule {
        if self.is_an_allow_for_workloads_without_issuers() {
            GenRule {
                issuers: Some(issuers),
                ..self
            }
        } else {
            self
        }
    }
}

/// A policy: profile duration settings and rules.
#[derive(Debug, Clone)]
struct GenPolicy {
    default_duration: Option<u32>,
    max_duration: Option<u32>,
    rules: Vec<GenRule>,
}

impl GenPolicy {
    fn render_with(&self, first: Option<&GenRule>) -> String {
        let mut out = HEAD.to_owned();
        // Keep default <= max so that the document is valid.
        let (default, max) = match (self.default_duration, self.max_duration) {
            (Some(d), Some(m)) => (Some(d.min(m)), Some(m)),
            other => other,
        };
        if let Some(d) = default {
            writeln!(out, "  default_duration: {d}").unwrap();
        }
        if let Some(m) = max {
            writeln!(out, "  max_duration: {m}").unwrap();
        }
        let rules: Vec<&GenRule> = first.into_iter().chain(&self.rules).collect();
        if rules.is_empty() {
            out.push_str("rules: []\n");
        } else {
            out.push_str("rules:\n");
            for (index, rule) in rules.iter().enumerate() {
                rule.render(&format!("r{index}"), &mut out);
            }
        }
        out
    }
}

fn policy() -> impl Strategy<Value = GenPolicy> {
    (
        proptest::option::of(duration()),
        proptest::option::of(duration()),
        proptest::collection::vec(rule(), 0..8),
    )
        .prop_map(|(default_duration, max_duration, rules)| GenPolicy {
            default_duration,
            max_duration,
            rules,
        })
}

/// An owned request (principal, user, account, ip, duration, instant, and
/// for a workload its token).
#[derive(Debug, Clone)]
struct GenRequest {
    principal: String,
    user: String,
    account: String,
    ip: Option<IpAddr>,
    duration: Option<u32>,
    at: DateTime<Utc>,
    workload: Option<GenWorkload>,
}

/// A workload's token. Its request keeps the generated principal and
/// account, which must not count for it.
#[derive(Debug, Clone)]
struct GenWorkload {
    issuer: &'static str,
    subject: &'static str,
    claims: BTreeMap<String, Vec<String>>,
}

impl GenRequest {
    fn as_request(&self) -> Request<'_> {
        Request {
            principal_arn: &self.principal,
            user: &self.user,
            account_id: &self.account,
            source_ip: self.ip,
            requested_duration: self.duration,
            workload: self.workload.as_ref().map(|w| Workload {
                issuer: w.issuer,
                subject: w.subject,
                claims: &w.claims,
            }),
        }
    }
}

fn workload() -> impl Strategy<Value = GenWorkload> {
    (
        select(
            &[
                "https://token.actions.githubusercontent.com",
                "https://oidc.company.internal",
                "http://127.0.0.1:8080",
            ][..],
        ),
        select(
            &[
                "spiffe://company.internal/ns/prod/sa/api",
                "spiffe://company.internal/ns/dev/sa/api",
                "repo:org/app:ref:refs/heads/main",
            ][..],
        ),
        proptest::option::of(select(&["org/app", "org/other"][..])),
        proptest::option::of(select(&["refs/heads/main", "refs/heads/dev"][..])),
        proptest::option::of(proptest::sample::subsequence(
            &["deployers", "devs"][..],
            0..=2,
        )),
    )
        .prop_map(|(issuer, subject, repository, git_ref, groups)| {
            let mut claims = BTreeMap::new();
            for (name, values) in [
                ("repository", repository.map(|r| vec![r])),
                ("ref", git_ref.map(|r| vec![r])),
                ("groups", groups),
            ] {
                if let Some(values) = values {
                    claims.insert(
                        name.to_owned(),
                        values.into_iter().map(str::to_owned).collect(),
                    );
                }
            }
            GenWorkload {
                issuer,
                subject,
                claims,
            }
        })
}

fn request() -> impl Strategy<Value = GenRequest> {
    let ip = proptest::option::of(prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        (0u8..=255, 0u8..=255).prop_map(|(a, b)| IpAddr::from([10, a, b, 1])),
        any::<u16>().prop_map(|x| IpAddr::from([0x2001, 0xdb8, x, 0, 0, 0, 0, 1])),
        any::<[u8; 16]>().prop_map(IpAddr::from),
    ]);
    (
        select(&["alice", "bob", "ops-1", "carol", "deployer/x"][..]),
        select(ACCOUNTS),
        select(&["user/eng/", "user/", "assumed-role/AWSReservedSSO_A/"][..]),
        ip,
        proptest::option::of(0u32..60_000),
        // 2020-01-01 .. 2036-01-01, any second.
        1_577_836_800i64..2_082_758_400i64,
        proptest::option::of(workload()),
    )
        .prop_map(
            |(user, account, path, ip, duration, secs, workload)| GenRequest {
                principal: format!("arn:aws:iam::{account}:{path}{user}"),
                user: user.to_owned(),
                account: account.to_owned(),
                ip,
                duration,
                at: Utc.timestamp_opt(secs, 0).unwrap(),
                workload,
            },
        )
}

fn parse(yaml: &str) -> PolicySet {
    policy::parse(yaml).unwrap_or_else(|e| panic!("generated policy does not parse: {e}\n{yaml}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn an_empty_rule_list_denies_everything(p in policy(), r in request()) {
        let set = parse(&GenPolicy { rules: vec![], ..p }.render_with(None));
        prop_assert_eq!(policy::evaluate(&set, &r.as_request(), r.at), Decision::Deny { rule: None, reason: None });
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = policy::parse(&text);
    }

    #[test]
    fn yaml_like_text_never_panics(text in "[a-z_:\\- \\n\\[\\]{}\"'#&*!|>0-9.,]{0,300}") {
        let _ = policy::parse(&text);
    }

    #[test]
    fn mutated_valid_documents_never_panic(
        p in policy(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>(), any::<bool>()), 1..6),
    ) {
        let mut text: Vec<char> = p.render_with(None).chars().collect();
        for (at, c, insert) in edits {
            let i = at.index(text.len().max(1));
            if insert || text.is_empty() {
                text.insert(i.min(text.len()), c);
            } else {
                text.remove(i.min(text.len() - 1));
            }
        }
        let text: String = text.into_iter().collect();
        if let Ok(set) = policy::parse(&text) {
            let r = GenRequest {
                principal: "arn:aws:iam::123456789012:user/alice".into(),
                user: "alice".into(),
                account: "123456789012".into(),
                ip: None,
                duration: None,
                at: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
                workload: None,
            };
            let _ = policy::evaluate(&set, &r.as_request(), r.at);
        }
    }

    #[test]
    fn a_deny_added_in_front_never_widens_access(p in policy(), deny in rule(), r in request()) {
        let deny = GenRule { allow: false, ..deny };
        let before = parse(&p.render_with(None));
        let after = parse(&p.render_with(Some(&deny)));
        let request = r.as_request();
        if let Decision::Allow { duration, cap, .. } = policy::evaluate(&after, &request, r.at) {
            // Rules are renamed by position, so compare everything but the name.
            let Decision::Allow { duration: d, cap: c, .. } = policy::evaluate(&before, &request, r.at) else {
                return Err(TestCaseError::fail("allowed only after adding a deny"));
            };
            prop_assert_eq!((duration, cap), (d, c));
        }
    }

    #[test]
    fn a_deny_everything_rule_in_front_denies_everything(p in policy(), r in request()) {
        let everything = GenRule {
            allow: false, users: None, principals: None, accounts: None, source_ips: None, time: None, max_duration: None,
            issuers: None, subjects: None, claims: None,
        };
        let set = parse(&p.render_with(Some(&everything)));
        prop_assert_eq!(
            policy::evaluate(&set, &r.as_request(), r.at),
            Decision::Deny { rule: Some("r0"), reason: None }
        );
    }

    #[test]
    fn granted_durations_respect_every_cap(p in policy(), r in request()) {
        let set = parse(&p.render_with(None));
        let decision = policy::evaluate(&set, &r.as_request(), r.at);
        if let Decision::Allow { rule, duration, cap, .. } = decision {
            let rule = set.rules().iter().find(|x| x.name() == rule).unwrap();
            prop_assert!(duration <= cap);
            prop_assert!(duration <= MAX_DURATION_SECS);
            prop_assert!(duration >= MIN_DURATION_SECS);
            prop_assert!(rule.max_duration().is_none_or(|m| duration <= m && cap <= m));
            prop_assert!(set.profile().max_duration.is_none_or(|m| duration <= m && cap <= m));
            let wanted = r.duration.unwrap_or(set.profile().default_duration);
            prop_assert_eq!(duration, wanted.clamp(MIN_DURATION_SECS, cap));
        }
    }

    #[test]
    fn explain_decides_as_evaluate_does(p in policy(), r in request()) {
        let set = parse(&p.render_with(None));
        let request = r.as_request();
        let decision = policy::evaluate(&set, &request, r.at);
        let explanation = policy::explain(&set, &request, r.at);
        prop_assert_eq!(explanation.decision, decision);
        let decided_at = match decision.rule() {
            Some(rule) => set.rules().iter().position(|x| x.name() == rule).unwrap(),
            None => set.rules().len(),
        };
        prop_assert_eq!(explanation.skipped.len(), decided_at);
        prop_assert!(explanation.skipped.iter().all(|s| !s.mismatches.is_empty()));
    }

    #[test]
    fn a_rule_the_lints_call_unreachable_never_decides(p in policy(), r in request()) {
        let set = parse(&p.render_with(None));
        let decision = policy::evaluate(&set, &r.as_request(), r.at);
        let Some(decided) = decision.rule() else {
            return Ok(());
        };
        for lint in set.lints() {
            if matches!(lint.kind, LintKind::Shadowed | LintKind::AllowAfterCatchAllDeny) {
                prop_assert_ne!(lint.rule.as_deref(), Some(decided), "{}", lint);
            }
        }
    }

    #[test]
    fn an_allow_for_workloads_without_issuers_is_refused_and_a_deny_is_not(
        p in policy(),
        r in rule(),
        fallback in select(SUBJECTS),
    ) {
        // A generated rule made a workload allow with `subjects` or `claims`, no `issuers`.
        let subjects = if r.subjects.is_none() && r.claims.is_none() {
            Some(vec![fallback])
        } else {
            r.subjects.clone()
        };
        let bare = GenRule {
            allow: true,
            principals: None,
            accounts: None,
            issuers: None,
            subjects,
            ..r
        };
        prop_assert!(bare.is_an_allow_for_workloads_without_issuers());
        let text = p.render_with(Some(&bare));
        let Err(e) = policy::parse(&text) else {
            return Err(TestCaseError::fail(format!("accepted:\n{text}")));
        };
        prop_assert_eq!(e.rule(), Some("r0"));
        prop_assert!(e.message().contains("an allow rule for workloads must name its `issuers`"), "{}", e);
        // The same rule as a deny only takes away; with issuers it is a valid allow.
        parse(&p.render_with(Some(&GenRule { allow: false, ..bare.clone() })));
        parse(&p.render_with(Some(&bare.naming_issuers(vec![ISSUERS[1]]))));
    }

    #[test]
    fn only_allows_with_workload_conditions_admit_workloads(p in policy(), r in request()) {
        let set = parse(&p.render_with(None));
        let request = r.as_request();
        if let Decision::Allow { rule, .. } = policy::evaluate(&set, &request, r.at) {
            let index: usize = rule.trim_start_matches('r').parse().unwrap();
            let rule = &p.rules[index];
            // Workload conditions only admit workloads, IAM-only ones only IAM callers.
            prop_assert_eq!(rule.names_workload_conditions(), request.workload.is_some());
            if request.workload.is_some() {
                prop_assert!(rule.principals.is_none() && rule.accounts.is_none());
                // `sub` and claims are an issuer's: an allow that admits by them names it.
                prop_assert!(rule.issuers.is_some() || (rule.subjects.is_none() && rule.claims.is_none()));
            }
        }
    }
}

/// A generated admin rule: a profile rule's conditions plus `actions` and
/// `profiles` (its `max_duration` is not rendered).
#[derive(Debug, Clone)]
struct GenAdminRule {
    base: GenRule,
    actions: Vec<&'static str>,
    profiles: Option<Vec<&'static str>>,
}

const ACTION_GLOBS: &[&str] = &[
    "*",
    "sessions:*",
    "sessions:list",
    "sessions:revoke",
    "sessions:reconcile",
    "*:list",
    "requests:approve",
    "breakglass:review",
];
const PROFILE_GLOBS: &[&str] = &["staging", "team-*", "prod", "*"];

impl GenAdminRule {
    fn render(&self, name: &str, out: &mut String) {
        let base = GenRule {
            max_duration: None,
            ..self.base.clone()
        };
        base.render(name, out);
        if !out.ends_with("\n\n") {
            out.push_str("    conditions:\n");
        }
        writeln!(out, "      actions: {}", list(&self.actions)).unwrap();
        if let Some(profiles) = &self.profiles {
            writeln!(out, "      profiles: {}", list(profiles)).unwrap();
        }
    }

    /// Whether `actions` and `profiles` hold for the request.
    fn scope_holds(&self, r: &GenAdminRequest) -> bool {
        let glob = |g: &str, input: &str| wildmatch::WildMatch::new(g).matches(input);
        self.actions.iter().any(|a| glob(a, r.action))
            && match (&self.profiles, r.profile) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(globs), Some(p)) => globs.iter().any(|g| glob(g, p)),
            }
    }
}

fn admin_rule() -> impl Strategy<Value = GenAdminRule> {
    (
        // The admin policy has no workload conditions.
        rule().prop_map(GenRule::without_workload_conditions),
        proptest::sample::subsequence(ACTION_GLOBS, 1..=3),
        some_of(PROFILE_GLOBS),
    )
        .prop_map(|(base, actions, profiles)| GenAdminRule {
            base,
            actions,
            profiles,
        })
}

fn admin_policy() -> impl Strategy<Value = Vec<GenAdminRule>> {
    proptest::collection::vec(admin_rule(), 0..8)
}

fn render_admin(rules: &[GenAdminRule]) -> String {
    let mut out = "version: \"1\"\n".to_owned();
    if rules.is_empty() {
        out.push_str("rules: []\n");
    } else {
        out.push_str("rules:\n");
        for (index, rule) in rules.iter().enumerate() {
            rule.render(&format!("r{index}"), &mut out);
        }
    }
    out
}

fn parse_admin(yaml: &str) -> AdminPolicySet {
    policy::parse_admin(yaml)
        .unwrap_or_else(|e| panic!("generated admin policy does not parse: {e}\n{yaml}"))
}

#[derive(Debug, Clone)]
struct GenAdminRequest {
    caller: GenRequest,
    action: &'static str,
    profile: Option<&'static str>,
}

impl GenAdminRequest {
    fn as_request(&self) -> AdminRequest<'_> {
        let caller = self.caller.as_request();
        AdminRequest {
            principal_arn: caller.principal_arn,
            user: caller.user,
            account_id: caller.account_id,
            source_ip: caller.source_ip,
            action: self.action,
            profile: self.profile,
        }
    }
}

fn admin_request() -> impl Strategy<Value = GenAdminRequest> {
    (
        request(),
        prop_oneof![select(policy::ADMIN_ACTIONS), Just("other:thing"), Just("")],
        proptest::option::of(select(&["staging", "team-a", "prod", "dev"][..])),
    )
        .prop_map(|(caller, action, profile)| GenAdminRequest {
            caller,
            action,
            profile,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics_as_an_admin_policy(text in any::<String>()) {
        let _ = policy::parse_admin(&text);
    }

    #[test]
    fn yaml_like_text_never_panics_as_an_admin_policy(text in "[a-z_:\\- \\n\\[\\]{}\"'#&*!|>0-9.,]{0,300}") {
        if let Ok(set) = policy::parse_admin(&text) {
            let r = GenAdminRequest {
                caller: GenRequest {
                    principal: "arn:aws:iam::123456789012:user/alice".into(),
                    user: "alice".into(),
                    account: "123456789012".into(),
                    ip: None,
                    duration: None,
                    at: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
                    workload: None,
                },
                action: "sessions:list",
                profile: None,
            };
            let _ = policy::evaluate_admin(&set, &r.as_request(), r.caller.at);
        }
    }

    #[test]
    fn an_empty_admin_policy_denies_every_action(r in admin_request()) {
        let set = parse_admin(&render_admin(&[]));
        prop_assert_eq!(
            policy::evaluate_admin(&set, &r.as_request(), r.caller.at),
            AdminDecision::Deny { rule: None, reason: None }
        );
    }

    #[test]
    fn admin_decisions_default_deny_and_come_from_a_rule_that_covers_the_request(
        rules in admin_policy(),
        r in admin_request(),
    ) {
        let set = parse_admin(&render_admin(&rules));
        let request = r.as_request();
        let decision = policy::evaluate_admin(&set, &request, r.caller.at);
        let explanation = policy::explain_admin(&set, &request, r.caller.at);
        prop_assert_eq!(explanation.decision, decision);
        let covering: Vec<usize> = rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.scope_holds(&r))
            .map(|(i, _)| i)
            .collect();
        match decision {
            AdminDecision::Allow { rule, .. } | AdminDecision::Deny { rule: Some(rule), .. } => {
                let index: usize = rule.trim_start_matches('r').parse().unwrap();
                prop_assert!(covering.contains(&index), "rule {} does not cover the request", rule);
                prop_assert_eq!(decision.is_allow(), rules[index].base.allow);
                prop_assert_eq!(explanation.skipped.len(), index);
            }
            AdminDecision::Deny { rule: None, .. } => {
                prop_assert_eq!(explanation.skipped.len(), rules.len());
            }
        }
        if covering.is_empty() {
            prop_assert_eq!(decision, AdminDecision::Deny { rule: None, reason: None });
        }
    }
}

/// The generators must reach every outcome, or the properties above would
/// hold vacuously.
#[test]
fn generated_cases_reach_allows_rule_denies_and_default_denies() {
    let mut runner = TestRunner::deterministic();
    let (mut allows, mut rule_denies, mut default_denies) = (0, 0, 0);
    let (mut workload_allows, mut workload_rule_denies) = (0, 0);
    for _ in 0..500 {
        let p = policy().new_tree(&mut runner).unwrap().current();
        let r = request().new_tree(&mut runner).unwrap().current();
        let set = parse(&p.render_with(None));
        let workload = usize::from(r.workload.is_some());
        match policy::evaluate(&set, &r.as_request(), r.at) {
            Decision::Allow { .. } => {
                allows += 1;
                workload_allows += workload;
            }
            Decision::Deny { rule: Some(_), .. } => {
                rule_denies += 1;
                workload_rule_denies += workload;
            }
            Decision::Deny { rule: None, .. } => default_denies += 1,
            Decision::RequireApproval { .. } | Decision::BreakGlass { .. } => {
                unreachable!("the generated policies hold allow and deny rules only")
            }
        }
    }
    assert!(
        allows > 25 && rule_denies > 25 && default_denies > 25,
        "{allows} {rule_denies} {default_denies}"
    );
    assert!(
        workload_allows > 10 && workload_rule_denies > 10,
        "workloads: {workload_allows} allowed, {workload_rule_denies} denied by a rule"
    );
}

/// Past the per-request memo (128 conditions) and zone cache (8 zones),
/// conditions are evaluated each time instead, with the same decisions.
#[test]
fn large_policies_beyond_the_memo_decide_like_explain() {
    let zones = [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Asia/Tokyo",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/Sao_Paulo",
        "Africa/Nairobi",
        "Pacific/Auckland",
        "Europe/London",
    ];
    let mut yaml = HEAD.to_owned();
    yaml.push_str("rules:\n");
    for i in 0..300 {
        let zone = zones[i % zones.len()];
        writeln!(
            yaml,
            "  - name: r{i}\n    effect: allow\n    conditions:\n      users: [u{i}]\n      time:\n        hours: {{start: \"{:02}:00\", end: \"24:00\"}}\n        timezone: {zone}",
            i % 24
        )
        .unwrap();
    }
    let set = parse(&yaml);
    for (user, hour) in [
        ("u0", 0),
        ("u150", 23),
        ("u150", 1),
        ("u299", 23),
        ("u299", 10),
        ("nobody", 12),
    ] {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, hour, 30, 0).unwrap();
        let request = Request {
            principal_arn: "arn:aws:iam::123456789012:user/x",
            user,
            account_id: "123456789012",
            source_ip: None,
            requested_duration: None,
            workload: None,
        };
        let decision = policy::evaluate(&set, &request, at);
        assert_eq!(
            policy::explain(&set, &request, at).decision,
            decision,
            "{user} at {hour}"
        );
        let index: usize = user.trim_start_matches('u').parse().unwrap_or(usize::MAX);
        if let Some(zone) = zones.get(index % zones.len()).filter(|_| index < 300) {
            let local_hour = at
                .with_timezone(&zone.parse::<chrono_tz::Tz>().unwrap())
                .format("%H");
            let local_hour: usize = local_hour.to_string().parse().unwrap();
            assert_eq!(
                decision.is_allow(),
                local_hour >= index % 24,
                "{user} at {hour} ({zone})"
            );
        } else {
            assert!(!decision.is_allow());
        }
    }
}

/// As above, for the admin policy's generators.
#[test]
fn generated_admin_cases_reach_allows_rule_denies_and_default_denies() {
    let mut runner = TestRunner::deterministic();
    let (mut allows, mut rule_denies, mut default_denies) = (0, 0, 0);
    for _ in 0..500 {
        let rules = admin_policy().new_tree(&mut runner).unwrap().current();
        let r = admin_request().new_tree(&mut runner).unwrap().current();
        let set = parse_admin(&render_admin(&rules));
        match policy::evaluate_admin(&set, &r.as_request(), r.caller.at) {
            AdminDecision::Allow { .. } => allows += 1,
            AdminDecision::Deny { rule: Some(_), .. } => rule_denies += 1,
            AdminDecision::Deny { rule: None, .. } => default_denies += 1,
        }
    }
    assert!(
        allows > 25 && rule_denies > 25 && default_denies > 25,
        "{allows} {rule_denies} {default_denies}"
    );
}
